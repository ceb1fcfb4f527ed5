"""Lookup-table logic: key derivation, enumeration, file round-trip and errors, calibration,
build/resume and fill mode, with a fake runtime whose 'latency' is a function of the module."""
import json
from dataclasses import replace

import numpy as np
import pytest

from conftest import TINY_TABLE_SPACE
from evo_nas.latency import LatencyTable, Protocol, TableLatency, build_table, latency_model_from_config
from evo_nas.latency.measure import Measurement, Runtime, machine_info
from evo_nas.latency.table import build_network, fit_calibration, refit, space_layers
from evo_nas.networks.builder import Layer, Network
from evo_nas.spaces.loader import load_space

TINY = TINY_TABLE_SPACE

STEM_HEAD_MS = 0.25
CALL_MS = 0.01


def layer_ms(layer) -> float:
    return 1e-4 * sum(p.numel() for p in layer.parameters())


class FakeRuntime(Runtime):
    """Deterministic 'latency': a network costs its layers plus a constant; every call has an overhead."""

    name = "fake"

    def __init__(self, threads=1):
        super().__init__(threads)
        self.calls = []

    @property
    def version(self):
        return "0"

    def measure(self, module, input_shape, protocol=Protocol()):
        self.calls.append(type(module).__name__)
        if isinstance(module, Network):
            ms = STEM_HEAD_MS + CALL_MS + sum(layer_ms(l) for l in module.layers)
        else:
            assert isinstance(module, Layer)
            ms = layer_ms(module) + CALL_MS
        return Measurement(ms, 0.0, 0.0, protocol.rounds * protocol.repeats, 1, True)


@pytest.fixture
def tiny(tmp_path):
    p = tmp_path / "tiny.toml"
    p.write_text(TINY)
    return load_space(p)


def sample(space, n, seed=0):
    rng = np.random.default_rng(seed)
    return [space.sample(rng) for _ in range(n)]


def test_enumeration_covers_every_layer_of_random_genomes(tiny):
    layers = space_layers(tiny)
    exhaustive = {}
    for combo in np.ndindex(*tiny.cardinalities):
        for spec in tiny.decode(combo).layers():
            exhaustive[spec.key()] = spec
    assert set(layers) == set(exhaustive)


def test_enumeration_covers_mnasnet_at_quickstart_size():
    space = load_space("mnasnet", resolution=28, in_channels=1, num_classes=10)
    layers = space_layers(space)
    for g in sample(space, 300, seed=3):
        for spec in g.architecture().layers():
            assert spec.key() in layers


def test_table_key_is_the_layer_spec_and_names_every_field(tiny):
    arch = sample(tiny, 1)[0].architecture()
    spec = arch.layers()[0]
    keys = {spec.key()}
    for field, value in [("op", "cn"), ("kernel", 7), ("stride", 2), ("in_ch", 9), ("out_ch", 9), ("mid_ch", 99),
                         ("expand", not spec.expand), ("se_ch", spec.se_ch + 3), ("shortcut", "pool"),
                         ("groups", 2), ("act", "hswish"), ("resolution", 99)]:
        keys.add(replace(spec, **{field: value}).key())
    assert len(keys) == 13
    table = LatencyTable({"network": {}, "device": {}})
    assert [s.key() for s in table.missing(arch)] == list(dict.fromkeys(s.key() for s in arch.layers()))
    hi = load_space(tiny.where, resolution=32).decode(tiny.canonical_genes(sample(tiny, 1)[0].genes))
    assert {s.key() for s in hi.layers()}.isdisjoint({s.key() for s in arch.layers()})


def make_table(space, path=None):
    t = LatencyTable.new(space, FakeRuntime(), Protocol(), path)
    for i, (k, spec) in enumerate(sorted(space_layers(space).items())):
        t.entries[k] = {"ms": 0.001 * (i + 1), "iqr_ms": 0.0, "cv": 0.0, "attempts": 1}
    t.calibration = {"offset_ms": 0.5, "per_layer_ms": -0.01, "fit": "offset+per_layer", "n": 3, "mape_pct": 0.0}
    return t


def test_round_trip_and_prediction(tiny, tmp_path):
    path = tmp_path / "t.json"
    t = make_table(tiny, path)
    t.save()
    assert [p.name for p in tmp_path.iterdir() if p.name.startswith(".")] == []
    u = LatencyTable.load(path)
    assert u.entries == t.entries and u.calibration == t.calibration and u.header == t.header
    assert u.content_hash() == t.content_hash() and u.same_measurement(t)
    arch = sample(tiny, 1, seed=5)[0].architecture()
    expect = sum(t.entries[s.key()]["ms"] for s in arch.layers()) + 0.5 - 0.01 * len(arch.layers())
    assert u.predict(arch) == pytest.approx(expect)


def test_save_merges_entries_already_in_the_file(tiny, tmp_path):
    path = tmp_path / "t.json"
    a = make_table(tiny, path)
    a.save()
    b = LatencyTable.new(tiny, FakeRuntime(), Protocol(), path)
    b.entries = {"extra_key": {"ms": 1.0}}
    b.save()
    assert set(LatencyTable.load(path).entries) == set(a.entries) | {"extra_key"}


@pytest.mark.parametrize("content, match", [
    ("{not json", "not valid JSON"),
    ('{"format": "other", "version": 1}', "format is 'other'"),
    ('[1, 2]', "format is None"),
    ('{"format": "evo-nas-latency-table", "version": 99, "header": {}, "entries": {}}', "version 99"),
    ('{"format": "evo-nas-latency-table", "version": 1, "header": {}, "entries": {}}', "missing 'device'"),
])
def test_corrupt_table_files_give_clear_errors(tmp_path, content, match):
    path = tmp_path / "bad.json"
    path.write_text(content)
    with pytest.raises(ValueError, match=match) as e:
        LatencyTable.load(path)
    assert str(path) in str(e.value)


def test_bad_entry_and_truncated_file(tiny, tmp_path):
    path = tmp_path / "t.json"
    t = make_table(tiny, path)
    t.save()
    d = json.loads(path.read_text())
    key = sorted(d["entries"])[0]
    d["entries"][key] = {"ms": "fast"}
    path.write_text(json.dumps(d))
    with pytest.raises(ValueError, match=f"entry '{key}'"):
        LatencyTable.load(path)
    t.save()
    path.write_text(path.read_text()[: len(path.read_text()) // 2])
    with pytest.raises(ValueError, match="not valid JSON"):
        LatencyTable.load(path)


def test_missing_file_missing_entry_uncalibrated_and_wrong_network(tiny, tmp_path):
    with pytest.raises(FileNotFoundError, match="nope.json"):
        LatencyTable.load(tmp_path / "nope.json")
    t = make_table(tiny)
    arch = sample(tiny, 1)[0].architecture()
    gone = arch.layers()[-1].key()
    del t.entries[gone]
    with pytest.raises(ValueError, match=gone):
        t.predict(arch)
    t.calibration = {}
    with pytest.raises(ValueError, match="not calibrated"):
        t.predict(arch)
    with pytest.raises(ValueError, match="resolution = 16"):
        t.check_network(load_space(tiny.where, resolution=32))


def test_fit_calibration_recovers_offset_and_per_layer_term():
    sums, n = [1.0, 2.0, 1.5, 3.0], [5, 9, 7, 12]
    measured = [s + 0.3 + 0.02 * k for s, k in zip(sums, n)]
    c = fit_calibration(sums, n, measured, "offset+per_layer")
    assert c["offset_ms"] == pytest.approx(0.3) and c["per_layer_ms"] == pytest.approx(0.02)
    assert c["mape_pct"] == pytest.approx(0.0, abs=1e-9)
    c = fit_calibration(sums, n, measured, "offset")
    assert c["per_layer_ms"] == 0.0 and c["offset_ms"] == pytest.approx(np.mean(np.subtract(measured, sums)))
    with pytest.raises(ValueError, match="fit = 'cubic'"):
        fit_calibration(sums, n, measured, "cubic")
    scaled = [1.2 * s + 0.3 + 0.02 * k for s, k in zip(sums, n)]
    c = fit_calibration(sums, n, scaled, "affine")
    assert (c["scale"], c["offset_ms"], c["per_layer_ms"]) == pytest.approx((1.2, 0.3, 0.02))
    with pytest.raises(ValueError, match="two different depths"):
        fit_calibration(sums, [5] * 4, measured, "offset+per_layer")


def test_auto_fit_adds_the_per_layer_term_only_where_depths_differ():
    sums, n = [1.0, 2.0, 1.5, 3.0], [5, 9, 7, 12]
    measured = [s + 0.3 + 0.02 * k for s, k in zip(sums, n)]
    c = fit_calibration(sums, n, measured, "auto")
    assert c["fit"] == "offset+per_layer" and c["per_layer_ms"] == pytest.approx(0.02)
    fixed = [s + 0.4 for s in sums]
    c = fit_calibration(sums, [15] * 4, fixed, "auto")
    assert c["fit"] == "offset" and c["per_layer_ms"] == 0.0 and c["offset_ms"] == pytest.approx(0.4)


def test_refit_uses_the_stored_calibration_networks(tiny, tmp_path):
    t = build_table(tiny, FakeRuntime(), Protocol(), tmp_path / "t.json", progress=False, calibration=5)
    c = t.calibration
    assert len(c["layer_sums"]) == len(c["n_layers"]) == len(c["measured_ms"]) == len(c["genomes"]) == 5
    for fit in ("offset", "affine"):
        r = refit(c, fit)
        assert r["fit"] == fit and r["genomes"] == c["genomes"]
    assert refit(c, "affine")["scale"] == pytest.approx(1.0)
    with pytest.raises(ValueError, match="layer_sums"):
        refit({"offset_ms": 0.0}, "offset")


def test_build_resumes_and_predicts_the_fake_device_exactly(tiny, tmp_path):
    path = tmp_path / "t.json"
    rt = FakeRuntime()
    total = len(space_layers(tiny))
    t = build_table(tiny, rt, Protocol(), path, limit=10, progress=False, calibration=4)
    assert len(t.entries) == 10 and not t.calibrated and rt.calls == ["Layer"] * 10
    rt2 = FakeRuntime()
    t = build_table(tiny, rt2, Protocol(), path, progress=False, calibration=4, save_every=7)
    assert rt2.calls.count("Layer") == total - 10  # nothing measured twice
    assert rt2.calls.count("Network") == 4 * 3  # calibration networks, 3 interleaved passes
    u = LatencyTable.load(path)
    assert len(u.entries) == total and u.calibrated
    assert u.calibration["offset_ms"] == pytest.approx(STEM_HEAD_MS + CALL_MS)
    assert u.calibration["per_layer_ms"] == pytest.approx(-CALL_MS)
    for g in sample(tiny, 20, seed=9):
        truth = rt2.measure(build_network(g.architecture()), (1,)).median_ms
        assert u.predict(g) == pytest.approx(truth)
    rt3 = FakeRuntime()
    build_table(tiny, rt3, Protocol(), path, progress=False)
    assert rt3.calls == []  # complete and calibrated: nothing to do


def test_a_limit_that_measures_the_last_layers_calibrates(tiny, tmp_path):
    path = tmp_path / "t.json"
    total = len(space_layers(tiny))
    build_table(tiny, FakeRuntime(), Protocol(), path, limit=total - 5, progress=False, calibration=4)
    t = build_table(tiny, FakeRuntime(), Protocol(), path, limit=5, progress=False, calibration=4)
    assert len(t.entries) == total and t.calibrated


def test_build_refuses_to_mix_runtimes(tiny, tmp_path):
    path = tmp_path / "t.json"
    build_table(tiny, FakeRuntime(), Protocol(), path, limit=3, progress=False)
    with pytest.raises(ValueError, match="different device, runtime"):
        build_table(tiny, FakeRuntime(threads=2), Protocol(), path, limit=3, progress=False)


def test_fill_mode_measures_once_and_is_not_pool_safe(tiny, tmp_path):
    path = tmp_path / "fill.json"
    rt = FakeRuntime()
    model = TableLatency(LatencyTable.new(tiny, rt, Protocol(), path), tiny, fill=True, runtime=rt,
                         protocol=Protocol(), calibration=3)
    assert model.safe_in_pool is False
    fp = model.fingerprint()
    g = sample(tiny, 1, seed=2)[0]
    n_missing = model.missing_layers([g.architecture()])
    assert n_missing == len({s.key() for s in g.architecture().layers()}) > 0
    first = model.latency_ms(g)
    assert model.missing_layers([g.architecture()]) == 0
    n_calls = len(rt.calls)
    assert n_calls > 0 and path.is_file()
    assert model.latency_ms(g) == first and len(rt.calls) == n_calls
    assert model.fingerprint() == fp
    assert model.describe()["source"] == "predicted"
    truth = rt.measure(build_network(g.architecture()), (1,)).median_ms
    assert first == pytest.approx(truth)


def test_read_only_tables_are_pool_safe_and_fingerprint_their_content(tiny, tmp_path):
    t = make_table(tiny, tmp_path / "t.json")
    model = TableLatency(t, tiny)
    assert model.safe_in_pool is True
    fp = model.fingerprint()
    t.entries[next(iter(t.entries))]["ms"] += 1.0
    assert TableLatency(t, tiny).fingerprint() != fp
    t.calibration = {}
    with pytest.raises(ValueError, match="not calibrated"):
        TableLatency(t, tiny)


def test_a_table_from_elsewhere_is_labelled_and_cannot_be_filled(tiny, tmp_path):
    path = tmp_path / "phone.json"
    t = make_table(tiny, path)
    t.header["device"] = {"cpu": "Snapdragon 835", "id": "phone000"}
    t.header["measured_elsewhere"] = True
    t.save()
    model = latency_model_from_config({"table": str(path)}, tiny)
    d = model.describe()
    assert model.safe_in_pool and d["measured_elsewhere"] and d["device"]["cpu"] == "Snapdragon 835"
    with pytest.raises(ValueError, match="another device"):
        latency_model_from_config({"table": str(path), "fill": True, "runtime": "torch"}, tiny)


def test_machine_info_is_recorded(tiny):
    t = LatencyTable.new(tiny, FakeRuntime(threads=3), Protocol(), None)
    assert t.header["device"] == machine_info() and t.header["threads"] == 3 and t.header["runtime"] == "fake"
    assert t.header["network"]["resolution"] == 16 and t.header["network"]["stem"]["out_ch"] == 8


def test_per_resolution_offsets_are_fitted_jointly_with_the_other_terms():
    rng = np.random.default_rng(0)
    sums, n = rng.uniform(5, 20, 24), rng.integers(10, 20, 24)
    res = np.repeat([160, 192, 224], 8)
    offset = {160: 1.0, 192: 2.0, 224: 3.5}
    measured = [s + offset[r] + 0.2 * k for s, k, r in zip(sums, n, res)]
    c = fit_calibration(sums, n, measured, "offset+per_layer", res.tolist())
    assert c["per_layer_ms"] == pytest.approx(0.2) and c["fit"] == "offset+per_layer, offset per resolution"
    assert {r: v["offset_ms"] for r, v in c["by_resolution"].items()} == pytest.approx(
        {str(r): v for r, v in offset.items()})
    assert c["offset_ms"] == pytest.approx(np.mean(list(offset.values())))
    assert refit({"layer_sums": sums.tolist(), "n_layers": n.tolist(), "measured_ms": measured,
                  "resolutions": res.tolist()}, "offset")["by_resolution"]["224"]["per_layer_ms"] == 0.0


def test_auto_picks_the_fit_with_the_lowest_leave_one_out_error():
    rng = np.random.default_rng(1)
    sums, n = rng.uniform(5, 20, 20), rng.integers(10, 20, 20)
    scaled = 1.3 * sums + 0.5 + rng.normal(0, 0.01, 20)  # a whole network runs 30% slower than its layers
    c = fit_calibration(sums, n, scaled, "auto")
    assert c["fit"] == "affine" and c["scale"] == pytest.approx(1.3, abs=0.01)
    assert set(c["loo_mape_pct"]) == {"offset", "offset+per_layer", "affine"}
    assert c["loo_mape_pct"]["affine"] < min(c["loo_mape_pct"]["offset+per_layer"], c["loo_mape_pct"]["offset"])
    exact = sums + 0.5 + 0.1 * n  # affine fits it as well: the simpler fit is kept
    assert fit_calibration(sums, n, exact, "auto")["fit"] == "offset+per_layer"


def test_a_table_records_the_allocator_and_an_older_table_is_not_filled_by_this_runtime(tiny, tmp_path):
    from evo_nas.latency.measure import allocator_policy, steady_allocator

    assert steady_allocator() == allocator_policy() == FakeRuntime().describe()["allocator"]
    t = build_table(tiny, FakeRuntime(), Protocol(), tmp_path / "t.json", progress=False, calibration=4)
    assert t.header["allocator"] == allocator_policy() and t.measured_on(FakeRuntime())
    old = json.loads((tmp_path / "t.json").read_text())
    old["version"] = 1
    del old["header"]["allocator"]
    (tmp_path / "old.json").write_text(json.dumps(old))
    v1 = LatencyTable.load(tmp_path / "old.json")
    assert v1.allocator == "system default" and v1.identity() != t.identity()
    assert v1.predict(sample(tiny, 1, seed=3)[0]) == pytest.approx(t.predict(sample(tiny, 1, seed=3)[0]))
    if allocator_policy() != "system default":
        assert not v1.measured_on(FakeRuntime())
        with pytest.raises(ValueError, match="allocator = 'system default'"):
            TableLatency(v1, tiny, fill=True, runtime=FakeRuntime(), protocol=Protocol())
