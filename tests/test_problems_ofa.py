"""The Once-for-All benchmark: space, canonical genomes, predictor and Note10 agreement, networks, bad input."""
import itertools
import json
import os
from pathlib import Path

import numpy as np
import pytest

from evo_nas.cli import main
from evo_nas.problems import make_problem
from evo_nas.spaces.costs import count
from evo_nas.spaces.loader import known_names, load_known, load_space, space_from_dict

from conftest import have_data, needs_data

HERE = Path(__file__).parent
REFERENCE = json.loads((HERE / "data" / "ofa_reference_predictions.json").read_text())["archs"]
MIRROR = Path(os.environ["EVO_NAS_DATA"]) / "ofa" if os.environ.get("EVO_NAS_DATA") else None


@pytest.fixture(scope="module")
def problem():
    if not have_data("ofa"):
        pytest.skip("benchmark data 'ofa' not available: set EVO_NAS_DATA to a mirror folder")
    return make_problem({"problem": {"name": "ofa-mbv3"}})


def reference_genes(space):
    return np.array([space.from_ofa(a["ks"], a["e"], a["d"], a["r"]) for a in REFERENCE])


def test_the_210_reference_vectors_agree_with_once_for_alls_own_code(problem):
    assert len(REFERENCE) == 210
    F = problem.evaluate_array(reference_genes(problem.space))
    np.testing.assert_allclose(F[:, 0], [a["top1"] for a in REFERENCE], rtol=0, atol=1e-6)
    np.testing.assert_allclose(F[:, 1], [a["note10_ms"] for a in REFERENCE], rtol=0, atol=1e-6)


def test_the_table_read_layer_by_layer_agrees_with_the_vectorized_sum(problem):
    space = problem.space
    for genes, a in zip(reference_genes(space)[::7], REFERENCE[::7]):
        arch = space.genome(genes).architecture()
        assert problem.table.latency_ms(arch) == pytest.approx(a["note10_ms"], abs=1e-9)


def test_the_space_has_46_genes_in_six_blocks_and_about_1e20_networks():
    space = load_space("ofa-mbv3")
    assert space.n_genes == 46 and space.n_blocks == 6
    assert [s.stop - s.start for s in space.block_slices] == [9, 9, 9, 9, 9, 1]
    assert space.n_distinct() == 7371 ** 5 * 5
    assert [st.filters for st in space.stages] == [32, 48, 96, 136, 192]
    assert space.stem.out_ch == 24 and space.head.filters == 1152 and space.head.post_filters == 1536


def small_space(resolutions=(160, 176)):
    """Two stages of Once-for-All's space, two resolutions: small enough to enumerate."""
    d = dict(load_space("ofa-mbv3").definition)
    d.update(name="ofa-small", resolutions=list(resolutions), stages=d["stages"][:2],
             choices={"depth": [1, 2], "kernel": [3, 5], "expansion": [3, 4]})
    return space_from_dict(d)


def test_canonicalization_gives_one_key_per_distinct_network_on_an_enumerable_space():
    space = small_space()
    assert space.n_distinct() == (4 + 16) ** 2 * 2 == 800
    all_genes = np.array(list(itertools.product(*(range(c) for c in space.cardinalities))))
    assert len(all_genes) == 2048
    canon = space.canonical_array(all_genes)
    keys = {space.key(g) for g in canon}
    networks = {(space.decode(g).to_string(), space.decode(g).resolution) for g in all_genes}
    assert len(keys) == len(networks) == len({tuple(g) for g in canon}) == 800
    for g, c in zip(all_genes[::37], canon[::37]):
        genome = space.genome(g)
        assert genome.canonical().genes == tuple(c) == space.canonical_genes(g)
        assert space.parse(genome.key).genes == tuple(c)
        assert space.encode(genome.architecture()) == tuple(c)
    assert space.keys(canon) == [space.key(tuple(g)) for g in canon.tolist()]


def test_the_vectorized_keys_are_the_keys():
    space = load_space("ofa-mbv3")
    X = (np.random.default_rng(5).random((3000, space.n_genes)) * space.cardinalities).astype(np.int64)
    C = space.canonical_rows(X)
    assert space.keys(C) == [space.key(tuple(g)) for g in C.tolist()] == [g.key for g in space.genomes(X)]
    assert space.keys(C[:0]) == []


def test_the_canonical_string_round_trips_and_names_bad_genes():
    space = load_space("ofa-mbv3")
    g = space.sample(np.random.default_rng(3))
    assert space.parse(g.key).genes == g.canonical().genes
    good = "r224-k3e3.k3e3-k3e3.k3e3-k3e3.k3e3-k3e3.k3e3-k3e3.k3e3"
    assert space.parse(good).key == good
    for bad, message in (("r200" + good[4:], "resolution 200"),
                         (good.replace("k3e3", "k9e3", 1), "stage 1 layer 1: kernel 9"),
                         (good.replace("k3e3", "k3e5", 1), "stage 1 layer 1: expansion 5"),
                         (good.replace("-k3e3.k3e3", "-k3e3", 1), "stage 1: depth 1"),
                         (good + ".k3e3.k3e3.k3e3", "stage 5: depth 5"),
                         (good.rsplit("-", 1)[0], "5 stages")):
        with pytest.raises(ValueError, match=message):
            space.parse(bad)


def test_a_bad_genome_string_is_one_line_and_exit_2(capsys):
    assert main(["show", "r224-k9e3.k3e3-k3e3.k3e3-k3e3.k3e3-k3e3.k3e3-k3e3.k3e3"]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and "kernel 9" in err[0] and "stage 1 layer 1" in err[0]


def test_every_genome_builds_and_the_built_network_matches_the_counted_one(problem):
    import torch

    from evo_nas.networks.builder import build_model, count_model

    space = problem.space
    rng = np.random.default_rng(0)
    for _ in range(2):
        arch = space.sample(rng).architecture()
        model = build_model(arch, generator=torch.Generator().manual_seed(0))
        params, macs = count_model(model, arch.resolution)
        c = count(arch)
        assert (params, macs) == (c.params, c.macs)
        with torch.no_grad():
            assert model.eval()(torch.zeros(1, 3, arch.resolution, arch.resolution)).shape == (1, 1000)


def test_the_smallest_and_largest_subnets_at_224():
    space = load_space("ofa-mbv3")
    small = count(space.genome(space.from_ofa([3] * 20, [3] * 20, [2] * 5, 224)).architecture())
    large = count(space.genome(space.from_ofa([7] * 20, [6] * 20, [4] * 5, 224)).architecture())
    assert (small.params, round(small.macs / 1e6, 2)) == (4602456, 193.08)
    assert (large.params, round(large.macs / 1e6, 2)) == (10701632, 843.1)


@pytest.mark.parametrize("ms", [8, 11, 16, 22, 30, 41, 50, 64])
def test_the_note10_specialized_networks_are_known_architectures(ms):
    k = load_known(f"ofa_note10_{ms}ms")
    assert k.latency_target_ms == ms and 0.7 < k.top1 < 0.81
    assert count(k.architecture).params == k.params
    if MIRROR is not None and (MIRROR / "specialized").is_dir():
        path = next((MIRROR / "specialized").glob(f"note10_lat-{ms}ms_*.json"))
        net = json.loads(path.read_text())
        blocks = [b["mobile_inverted_conv"] for b in net["net"]["blocks"][1:]]
        built = [b for b in k.architecture.blocks[1:]]
        assert net["image_size"] == k.architecture.resolution
        assert [(b["kernel_size"], b["out_channels"], b["mid_channels"]) for b in blocks] == \
               [(b.kernel, b.out_ch, b.mid(b.in_ch)) for b in built]


SPECIALIZED = sorted(n for n in known_names() if n.startswith("ofa_") and not n.startswith("ofa_note10_"))
ALL_SPECIALIZED = MIRROR / "specialized_all" if MIRROR is not None else None
needs_specialized = pytest.mark.skipif(ALL_SPECIALIZED is None or not ALL_SPECIALIZED.is_dir(),
                                       reason="Once-for-All's published network descriptions are not available: "
                                              "set EVO_NAS_DATA to a mirror holding ofa/specialized_all")


def _index_name(k) -> str:
    """The published network's name in specialized_all/INDEX.csv (platform and target of the file)."""
    import csv

    target = f"{k.flops_target_m:g}M" if k.flops_target_m else f"{k.latency_target_ms:g}ms"
    platform = "flops-" + target if k.flops_target_m else {"lg-g8": "LG-G8"}.get(k.device, k.device)
    rows = [r for r in csv.DictReader(open(ALL_SPECIALIZED / "INDEX.csv"))
            if r["platform"] == platform and r["target"] == target]
    assert len(rows) == 1, (platform, target)
    return rows[0]


@pytest.mark.parametrize("name", SPECIALIZED)
def test_the_other_specialized_mobilenetv3_networks_are_known_architectures(name):
    k = load_known(name)
    assert 0.70 <= k.top1 <= 0.81
    assert (k.latency_target_ms is None) == (k.device is None) == (k.flops_target_m is not None)
    c = count(k.architecture)
    assert c.params == k.params
    if k.flops_target_m:  # the FLOPs budget it was specialized for is met to within 0.2%
        assert abs(c.macs / 1e6 - k.flops_target_m) / k.flops_target_m < 0.002


@needs_specialized
@pytest.mark.parametrize("name", SPECIALIZED)
def test_the_other_specialized_networks_match_their_published_description_layer_by_layer(name):
    k = load_known(name)
    row = _index_name(k)
    assert float(row["top1"]) / 100 == pytest.approx(k.top1)
    assert int(row["image_size"]) == k.architecture.resolution == k.space.resolution
    net = json.loads((ALL_SPECIALIZED / f"{row['name']}.json").read_text())
    assert net["name"] == "MobileNetV3"
    assert net["first_conv"]["out_channels"] == k.architecture.blocks[0].in_ch
    convs = [b["mobile_inverted_conv"] for b in net["blocks"][1:]]
    built = k.architecture.blocks[1:]
    assert [(m["kernel_size"], m["stride"], m["in_channels"], m["out_channels"], m["mid_channels"], m["use_se"],
             m["act_func"].replace("_", "")) for m in convs] == \
        [(b.kernel, b.stride, b.in_ch, b.out_ch, b.mid(b.in_ch), b.se_ratio > 0, b.act) for b in built]
    head = k.architecture.head
    assert (net["final_expand_layer"]["out_channels"], net["feature_mix_layer"]["out_channels"]) == \
        (head.filters, head.post_filters)


@needs_specialized
def test_every_mobilenetv3_network_ofa_specialized_is_known_and_the_proxylessnas_ones_are_not():
    import csv

    rows = list(csv.DictReader(open(ALL_SPECIALIZED / "INDEX.csv")))
    mbv3 = [r for r in rows if json.loads((ALL_SPECIALIZED / f"{r['name']}.json").read_text())["name"] == "MobileNetV3"]
    assert (len(rows), len(mbv3)) == (50, 34)
    known = {_index_name(load_known(n))["name"] for n in known_names() if n.startswith("ofa_")}
    assert known == {r["name"] for r in mbv3}
    assert {r["platform"] for r in rows if r not in mbv3} == {"1080ti", "v100", "tx2", "cpu"}


@needs_data("ofa")
def test_a_missing_or_corrupt_predictor_or_table_names_the_file(tmp_path):
    with pytest.raises(FileNotFoundError, match="nope.pth"):
        make_problem({"problem": {"name": "ofa-mbv3", "predictor": str(tmp_path / "nope.pth")}})
    bad = tmp_path / "bad.pth"
    bad.write_bytes(b"not a state dict")
    with pytest.raises(ValueError, match="bad.pth"):
        make_problem({"problem": {"name": "ofa-mbv3", "predictor": str(bad)}})
    from evo_nas.problems.ofa import predictor_file

    truncated = tmp_path / "truncated.pth"  # torch's error for it has an empty message
    truncated.write_bytes(predictor_file().read_bytes()[:1000])
    with pytest.raises(ValueError, match=r"truncated.pth: not Once-for-All's accuracy predictor \(\w+"):
        make_problem({"problem": {"name": "ofa-mbv3", "predictor": str(truncated)}})
    tables = tmp_path / "tables"
    with pytest.raises(FileNotFoundError, match="latency tables folder not found: .*tables"):
        make_problem({"problem": {"name": "ofa-mbv3", "latency_tables": str(tables)}})
    tables.mkdir()
    with pytest.raises(FileNotFoundError, match="no latency tables .*224_lookup_table.yaml"):
        make_problem({"problem": {"name": "ofa-mbv3", "latency_tables": str(tables)}})
    (tables / "224_lookup_table.yaml").write_text("{ unclosed: [\n")
    with pytest.raises(ValueError, match="224_lookup_table.yaml"):
        make_problem({"problem": {"name": "ofa-mbv3", "latency_tables": str(tables)}})
    (tables / "224_lookup_table.yaml").write_text("Conv-input:224x224x3-output:112x112x24:\n  mean: 0.5\n")
    with pytest.raises(KeyError, match="224_lookup_table.yaml has no layer 'expanded_conv-input:112x112x24"):
        make_problem({"problem": {"name": "ofa-mbv3", "latency_tables": str(tables),
                                  "space": str(fixed_resolution_space(tmp_path))}})


def fixed_resolution_space(tmp_path):
    text = (Path(load_space("ofa-mbv3").where)).read_text().replace("resolutions = [160, 176, 192, 208, 224]",
                                                                    "resolutions = [224]")
    path = tmp_path / "ofa224.toml"
    path.write_text(text)
    return path


def test_a_bad_predictor_path_creates_no_run_directory(tmp_path, capsys):
    cfg = tmp_path / "bad.toml"
    cfg.write_text('[problem]\nname = "ofa-mbv3"\npredictor = "missing.pth"\n[search]\ngenerations = 2\n')
    assert main(["search", str(cfg), "--run-dir", str(tmp_path / "run"), "--quiet"]) == 2
    assert "missing.pth" in capsys.readouterr().err and not (tmp_path / "run").exists()


@needs_data("ofa")
def test_the_ofa_example_front_is_large_and_spans_the_latencies(tmp_path):
    from evo_nas.api import config_path
    from evo_nas.engine.runner import run_search
    from evo_nas.spaces.loader import read_toml

    config = read_toml(config_path("ofa"), "config")
    assert config["problem"]["name"] == "ofa-mbv3"
    config["search"].update(generations=12, cache=False)
    r = run_search(config, tmp_path / "run", quiet=True)
    lat = [m["latency_ms"] for m in r.front]
    assert len(r.front) >= 20 and max(lat) >= 2 * min(lat)
    assert r.evaluations == sum(e["evaluated"] for e in r.logbook)


def test_an_ofa_genome_exports_to_onnx_and_its_card_names_top1(tmp_path):
    from evo_nas.deploy.pareto_export import card, export_onnx, model_filename

    space = load_space("ofa-mbv3")
    g = space.parse("r160-k3e3.k3e3-k3e3.k3e3-k3e3.k3e3-k3e3.k3e3-k3e3.k3e3")
    check = export_onnx(g, tmp_path / "m.onnx", seed=0)
    assert check.max_abs_diff <= 1e-4 * check.output_scale + 1e-12
    record = {"key": g.key, "top1": 0.76, "latency_ms": 10.1}
    c = card(record, check, space=space.name, seed=0, latency=None, weights="untrained",
             objectives=["top1", "latency_ms"])
    assert c["objectives"] == {"top1": 0.76, "latency_ms": 10.1} and tuple(c["onnx"]["input_shape"][2:]) == (160, 160)
    assert model_filename(3, record, "top1") == "pareto03_acc0.760_10.10ms"


def test_the_per_layer_table_shows_every_head_layer_it_counts(problem):
    """Once-for-All's head is 1x1 conv, pool, 1x1 feature mix, FC; the table names each width."""
    from evo_nas.analysis.report import architecture_table

    genome = problem.space.sample(np.random.default_rng(0))
    head = next(line for line in architecture_table(genome).splitlines() if line.startswith("head"))
    arch = genome.architecture()
    assert "Conv1x1+pool+Conv1x1+FC" in head
    assert f"{arch.feature_channels}->{arch.head.filters}->{arch.head.post_filters}->1000" in head


@needs_data("ofa")
def test_the_i7_device_reads_nsganetv2s_table_as_its_data_readme_measured():
    """The mirror's README (measured independently): on the 210 reference subnets i7 latency spans
    6.05-45.9 ms, Kendall tau with Note10 is 0.84, and the two fronts have 32 and 26 members sharing 20."""
    from scipy.stats import kendalltau

    from evo_nas.analysis.pareto import non_dominated

    i7 = make_problem({"problem": {"name": "ofa-mbv3", "device": "i7-8700k"}})
    assert "i7-8700K" in i7.objectives[1].description
    X = reference_genes(i7.space)
    F = i7.evaluate_array(X)
    assert (round(F[:, 1].min(), 2), round(F[:, 1].max(), 1)) == (6.05, 45.9)
    note10 = np.array([a["note10_ms"] for a in REFERENCE])
    assert round(kendalltau(note10, F[:, 1]).statistic, 2) == 0.84
    fronts = [set(np.flatnonzero(non_dominated(np.stack([-F[:, 0], lat], 1)))) for lat in (note10, F[:, 1])]
    assert (len(fronts[0]), len(fronts[1]), len(fronts[0] & fronts[1])) == (32, 26, 20)
    for genes in X[::30]:
        arch = i7.space.genome(genes).architecture()
        assert i7.table.latency_ms(arch) == pytest.approx(i7.evaluate_array(genes[None])[0, 1], abs=1e-9)
    with pytest.raises(ValueError, match="latency_tables is a folder of Note10 tables"):
        make_problem({"problem": {"name": "ofa-mbv3", "device": "i7-8700k", "latency_tables": str(HERE)}})
