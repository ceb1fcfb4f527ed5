"""A latency model for a new device from a few measured networks: the fit, its file, the CSV, the command,
``[problem] device = "fitted"``, and (with the data mirror) its accuracy on published measurements."""
import json

import numpy as np
import pytest

from evo_nas.cli import main
from evo_nas.latency import fewshot
from evo_nas.spaces.loader import load_space

from conftest import needs_data


def synthetic(n, seed=0):
    rng = np.random.default_rng(seed)
    f = {"base_ms": rng.uniform(5, 40, n), "n_layers": rng.integers(10, 21, n).astype(float),
         "const_ms": rng.uniform(1, 2, n)}
    f.update({f"stage{i}_ms": rng.uniform(0, 8, n) for i in range(1, 6)})
    return f


def test_the_fit_recovers_a_device_that_is_a_rescaled_known_table():
    f = synthetic(20)
    y = 0.4 * f["base_ms"] + 0.15 * f["n_layers"] - 0.3
    m = fewshot.fit(f, y)
    assert m.model == "scale+layers" and m.n == 20 and m.fit_mape_pct < 1e-6
    assert m.weights == pytest.approx((0.4, 0.15), abs=1e-6) and m.intercept == pytest.approx(-0.3, abs=1e-5)
    g = synthetic(50, seed=1)
    assert m.predict(g) == pytest.approx(0.4 * g["base_ms"] + 0.15 * g["n_layers"] - 0.3, rel=1e-6)
    # a device that is the known table up to scale keeps the simplest model
    assert fewshot.fit(f, 2.0 * f["base_ms"]).model == "scale"
    assert set(fewshot.fit(f, y).cv_mape_pct) == set(fewshot.CANDIDATES)


def test_weights_are_never_negative():
    f = synthetic(30)
    y = 20.0 - 0.2 * f["base_ms"]  # a device faster on what the known table finds slow: no negative weight
    m = fewshot.fit(f, np.maximum(y, 1.0), choose="scale")
    assert all(w >= 0 for w in m.weights)


@pytest.mark.parametrize("y, choose, match", [
    ([1.0, 2.0], "auto", "at least 3 measured networks"),
    ([1.0, -2.0, 3.0, 4.0], "auto", "positive"),
    ([1.0, 2.0, 3.0, 4.0], "cubic", "latency model 'cubic'"),
])
def test_bad_fits_are_one_line_errors(y, choose, match):
    f = {k: v[:len(y)] for k, v in synthetic(10).items()}
    with pytest.raises(ValueError, match=match):
        fewshot.fit(f, y, choose=choose)


def test_the_model_file_round_trips_and_a_bad_one_is_named(tmp_path):
    f = synthetic(12)
    m = fewshot.fit(f, 0.5 * f["base_ms"] + 1.0)
    m.base, m.space, m.device = "note10", "ofa-mbv3", "pixel9"
    back = fewshot.FewShotModel.load(m.save(tmp_path / "m.json"))
    assert back.predict(f) == pytest.approx(m.predict(f)) and back.device == "pixel9" and back.base == "note10"
    (tmp_path / "bad.json").write_text(json.dumps({"format": "something else"}))
    with pytest.raises(ValueError, match="bad.json: expected format"):
        fewshot.FewShotModel.load(tmp_path / "bad.json")
    with pytest.raises(FileNotFoundError, match="latency model not found"):
        fewshot.FewShotModel.load(tmp_path / "none.json")


def test_sampled_networks_are_seeded_and_distinct_and_measurements_read_back(tmp_path):
    space = load_space("ofa-mbv3")
    a = fewshot.sample_genomes(space, 30, np.random.default_rng(3))
    b = fewshot.sample_genomes(space, 30, np.random.default_rng(3))
    assert [g.key for g in a] == [g.key for g in b] and len({g.key for g in a}) == 30
    csv = tmp_path / "m.csv"
    csv.write_text("key,latency_ms\n" + "".join(f"{g.key},{i + 1}.5\n" for i, g in enumerate(a[:3])))
    genomes, ms = fewshot.read_measurements(csv, space)
    assert [g.key for g in genomes] == [g.key for g in a[:3]] and list(ms) == [1.5, 2.5, 3.5]
    csv.write_text(f"key,latency_ms\n{a[0].key},1.0\n{a[1].key},-3\n")
    with pytest.raises(ValueError, match="m.csv row 3: latency_ms = '-3'"):
        fewshot.read_measurements(csv, space)
    csv.write_text(f"key,latency_ms\n{a[0].key},\n")
    with pytest.raises(ValueError, match="m.csv row 2: no latency_ms: measure"):
        fewshot.read_measurements(csv, space)
    csv.write_text("genome,ms\n")
    with pytest.raises(ValueError, match="key,latency_ms"):
        fewshot.read_measurements(csv, space)


@needs_data("ofa")
def test_sample_fit_and_search_a_fitted_device(tmp_path, capsys):
    """A 'new device' that is in truth NSGANetV2's i7-8700K: 20 of its networks recalibrate the Note10 table."""
    from evo_nas.latency.ofa_table import OFALatencyTable
    from evo_nas.problems import make_problem
    from evo_nas.problems.ofa import i7_files

    space = load_space("ofa-mbv3")
    i7 = OFALatencyTable(i7_files(), "i7-8700k").for_space(space)
    assert main(["latency", "sample", "--space", "ofa-mbv3", "--networks", "20", "--seed", "4",
                 "--out", str(tmp_path / "nets.csv")]) == 0
    rows = (tmp_path / "nets.csv").read_text().splitlines()
    keys = [r.split(",")[0] for r in rows[1:]]
    X = np.array([space.parse(k).genes for k in keys])
    truth = i7.predict(space.canonical_array(X))
    (tmp_path / "nets.csv").write_text("key,latency_ms\n" + "".join(f"{k},{v}\n" for k, v in zip(keys, truth)))
    assert main(["latency", "fit", "--space", "ofa-mbv3", "--measurements", str(tmp_path / "nets.csv"),
                 "--base", "note10", "--device", "my-i7", "--out", str(tmp_path / "model.json")]) == 0
    assert 'device = "fitted"' in capsys.readouterr().out
    problem = make_problem({"problem": {"name": "ofa-mbv3", "device": "fitted", "latency_model": "model.json"},
                            "search": {"base_dir": str(tmp_path)}})
    rng = np.random.default_rng(99)
    test = space.canonical_array(np.array([space.sample(rng).genes for _ in range(300)]))
    pred, true = problem.evaluate_array(test)[:, 1], i7.predict(test)
    s = fewshot.scores(pred, true)
    # Note10 alone ranks i7 latency with tau 0.84 (ofa README); recalibrated on 20 networks it must do as well
    assert s["kendall_tau"] > 0.80 and s["mape_pct"] < 12.0
    assert "my-i7 latency" in problem.objectives[1].description and problem.describe()["latency"]["base"] == "note10"
    with pytest.raises(ValueError, match="latency_model"):
        make_problem({"problem": {"name": "ofa-mbv3", "device": "fitted"}})
    with pytest.raises(ValueError, match="latency_model"):
        make_problem({"problem": {"name": "ofa-mbv3", "latency_model": str(tmp_path / "model.json")}})


@needs_data("ofa")
def test_help_gpu_measurements_are_predicted_from_20_networks():
    from evo_nas.studies import fewshot_latency as study
    from evo_nas.studies.fewshot_latency import help_data, summary

    features, columns = help_data("note10")
    assert len(columns["v100_64"]) == 1013 and len(columns) == 12
    r = study.evaluate(features, columns["v100_64"], 20, draws=3, seed=0)
    tau, mape, within = (summary(r[k])[0] for k in study.SCORES)
    assert tau > 0.9 and within > 95.0  # measured: 0.929, 2.3%, 100% (experiments/fewshot_latency_results.txt)


@needs_data("nb201")
def test_nb201_devices_are_predicted_from_another_device_and_20_networks():
    from evo_nas.studies import fewshot_latency as study

    ops, columns = study.nb201_data()
    assert len(columns) == 27 and len(ops["nor_conv_3x3"]) == 15625
    refs, cands = study.nb201_candidates("titan_rtx_256", columns)
    assert "ref:titan_rtx_256" not in refs and len(refs) == 26
    r = study.evaluate({**ops, **refs}, columns["titan_rtx_256"], 20, draws=3, seed=0, candidates=cands)
    assert study.summary(r["kendall_tau"])[0] > 0.95


@needs_data("ofa")
def test_fit_can_measure_its_networks_here(tmp_path, capsys):
    out = tmp_path / "here.json"
    assert main(["latency", "fit", "--space", "ofa-mbv3", "--measure", "4", "--seed", "2", "--runtime", "torch",
                 "--warmup", "0", "--repeats", "1", "--rounds", "1", "--no-progress", "--model", "scale",
                 "--out", str(out)]) == 0
    m = fewshot.FewShotModel.load(out)
    measured = (tmp_path / "here.measurements.csv").read_text().splitlines()
    assert m.n == 4 and len(measured) == 5 and measured[0] == "key,latency_ms" and m.model == "scale"
    assert [n["key"] for n in m.networks] == [r.split(",")[0] for r in measured[1:]]
    assert main(["latency", "fit", "--space", "mnasnet", "--measure", "4", "--out", str(out)]) == 2
    assert "ofa_mbv3 spaces only" in capsys.readouterr().err
