"""A new device's latency from several known devices: forward selection, the strict protocol, the model file,
and NAS-Bench-201's twin cells (the measurement noise)."""
import numpy as np
import pytest

from evo_nas.latency import fewshot, multisource
from evo_nas.studies import fewshot_sources

from conftest import needs_data


def sources_of(n, seed=0, k=6):
    rng = np.random.default_rng(seed)
    return {f"ref:dev{i}": rng.uniform(2, 30, n) for i in range(k)}


def test_forward_selection_recovers_a_positive_combination_of_sources():
    f = sources_of(20)
    y = 0.5 * f["ref:dev2"] + 1.5 * f["ref:dev4"] + 0.2
    m = multisource.fit(f, y)
    assert m.model == "forward" and set(m.features) == {"ref:dev2", "ref:dev4"} and m.fit_mape_pct < 1e-6
    w = dict(zip(m.features, m.weights))
    assert w["ref:dev2"] == pytest.approx(0.5, abs=1e-6) and w["ref:dev4"] == pytest.approx(1.5, abs=1e-6)
    g = sources_of(200, seed=1)
    assert m.predict(g) == pytest.approx(0.5 * g["ref:dev2"] + 1.5 * g["ref:dev4"] + 0.2, rel=1e-6)
    # one source up to scale: the selection stops after it
    assert multisource.fit(f, 3.0 * f["ref:dev1"]).features == ("ref:dev1",)


def test_the_pool_bounds_what_is_chosen_and_weights_stay_non_negative():
    f = sources_of(25)
    y = 2.0 * f["ref:dev0"] + 0.1 * f["ref:dev5"]
    m = multisource.fit(f, y, pool=["ref:dev1", "ref:dev3", "ref:dev5"])
    assert set(m.features) <= {"ref:dev1", "ref:dev3", "ref:dev5"} and all(w >= 0 for w in m.weights)


def test_strict_sources_leave_out_the_same_hardware_at_other_batch_sizes():
    devices = ["1080ti_1", "1080ti_32", "1080ti_256", "titanx_1", "titanxp_1", "gold_6226", "gold_6240",
               "essential_ph_1"]
    assert multisource.sources("1080ti_1", devices, strict=True) == ["titanx_1", "titanxp_1", "gold_6226",
                                                                       "gold_6240", "essential_ph_1"]
    assert "1080ti_32" in multisource.sources("1080ti_1", devices)
    assert multisource.hardware("titan_rtx_256") == "titan_rtx" and multisource.hardware("gold_6226") == "gold_6226"
    # a device that is its sibling up to scale: strict never picks the sibling, the open protocol does
    rng = np.random.default_rng(3)
    cols = {d: rng.uniform(1, 10, 30) for d in devices}
    y = 1.7 * cols["1080ti_32"]
    for strict, picks_sibling in ((False, True), (True, False)):
        feats = {f"ref:{d}": cols[d] for d in multisource.sources("1080ti_1", devices, strict)}
        m = multisource.fit(feats, y)
        assert ("ref:1080ti_32" in m.features) is picks_sibling
        assert not strict or all(multisource.hardware(f[4:]) != "1080ti" for f in m.features)


def test_the_forward_model_saves_loads_and_predicts_the_same(tmp_path):
    f = sources_of(15)
    m = multisource.fit(f, 0.3 * f["ref:dev0"] + 2.0 * f["ref:dev3"] + 1.0)
    back = fewshot.FewShotModel.load(m.save(tmp_path / "forward.json"))
    g = sources_of(40, seed=5)
    assert back.model == "forward" and back.features == m.features and back.predict(g) == pytest.approx(m.predict(g))


@pytest.mark.parametrize("y, pool, match", [([1.0, 2.0, 3.0], None, "at least 4 measured networks"),
                                            ([1.0, 2.0, -3.0, 4.0], None, "positive"),
                                            ([1.0, 2.0, 3.0, 4.0], ["ref:nowhere"], "at least one known feature")])
def test_bad_multisource_fits_are_one_line_errors(y, pool, match):
    f = {k: v[:len(y)] for k, v in sources_of(10).items()}
    with pytest.raises(ValueError, match=match):
        multisource.fit(f, y, pool=pool)


def test_twin_cells_are_nodes_1_and_2_swapped_and_identical_twins_show_no_noise():
    arch = ["|nor_conv_3x3~0|+|skip_connect~0|none~1|+|avg_pool_3x3~0|nor_conv_1x1~1|none~2|",
            "|skip_connect~0|+|nor_conv_3x3~0|none~1|+|avg_pool_3x3~0|none~1|nor_conv_1x1~2|",
            "|nor_conv_3x3~0|+|nor_conv_3x3~0|none~1|+|none~0|skip_connect~1|skip_connect~2|",  # its own twin
            "|nor_conv_3x3~0|+|skip_connect~0|nor_conv_1x1~1|+|avg_pool_3x3~0|nor_conv_1x1~1|none~2|"]
    assert fewshot_sources.twin_pairs(arch).tolist() == [[0, 1]]
    y = np.linspace(1.0, 2.0, 40)
    pairs = np.array([[i, i + 20] for i in range(20)])
    same = np.concatenate([y[:20], y[:20]])
    z = fewshot_sources.noise_ceiling(same, pairs, np.random.default_rng(0))
    assert z["median_diff_pct"] == 0.0 and z["retest_tau"] == pytest.approx(1.0) and z["kendall_tau"] == 1.0
    noisy = same * np.r_[np.ones(20), np.exp(np.random.default_rng(1).normal(0, 0.2, 20))]
    assert fewshot_sources.noise_ceiling(noisy, pairs, np.random.default_rng(0))["kendall_tau"] < 0.95


@needs_data("nb201")
def test_nb201_twins_and_a_strict_multisource_fit_from_20_cells():
    import csv

    from evo_nas.problems import benchdata
    from evo_nas.studies import fewshot_latency as study

    with open(benchdata.data_file("nb201", "nb201.csv"), newline="") as fh:
        pairs = fewshot_sources.twin_pairs([r["arch"] for r in csv.DictReader(fh)])
    assert len(pairs) == 1500  # 5^5 cells with edge 1->2 none, less the 125 that are their own twin, halved
    ops, columns = study.nb201_data()
    refs = {f"ref:{d}": columns[d] for d in multisource.sources("titan_rtx_256", columns, strict=True)}
    r = study.evaluate({**ops, **refs}, columns["titan_rtx_256"], 20, draws=3, seed=0,
                       fitter=fewshot_sources.forward([*refs, *study.NB201_OPS]))
    assert study.summary(r["kendall_tau"])[0] > 0.95  # measured: 0.990 (experiments/fewshot_latency_results.txt)
    assert not any("titan_rtx" in m for m in r["models"])


@needs_data("ofa")
def test_latency_fit_model_forward_writes_a_forward_model(tmp_path):
    from evo_nas.cli import main
    from evo_nas.latency.ofa_table import OFALatencyTable
    from evo_nas.problems.ofa import TABLE_DEVICES
    from evo_nas.spaces.loader import load_space

    space = load_space("ofa-mbv3")
    assert main(["latency", "sample", "--space", "ofa-mbv3", "--networks", "12", "--seed", "1",
                 "--out", str(tmp_path / "nets.csv")]) == 0
    keys = [r.split(",")[0] for r in (tmp_path / "nets.csv").read_text().splitlines()[1:]]
    X = space.canonical_array(np.array([space.parse(k).genes for k in keys]))
    f = fewshot.ofa_features(OFALatencyTable(TABLE_DEVICES["note10"][0](), "note10").for_space(space), X)
    ms = 0.3 * f["stage3_ms"] + 0.9 * f["stage5_ms"] + 2.0  # a device that only some stages cost
    (tmp_path / "nets.csv").write_text("key,latency_ms\n" + "".join(f"{k},{v}\n" for k, v in zip(keys, ms)))
    assert main(["latency", "fit", "--space", "ofa-mbv3", "--measurements", str(tmp_path / "nets.csv"),
                 "--model", "forward", "--out", str(tmp_path / "m.json")]) == 0
    m = fewshot.FewShotModel.load(tmp_path / "m.json")
    assert m.model == "forward" and m.base == "note10" and len(m.networks) == 12
    assert m.predict(f) == pytest.approx(ms, rel=1e-3)
