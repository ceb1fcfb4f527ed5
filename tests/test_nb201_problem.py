"""The nb201 problem: table lookups, exact Pareto fronts against brute force, recovered members and IGD,
a search and a comparison scored against the true front. Reads NAS-Bench-201's table from the mirror
(``EVO_NAS_DATA``) and is skipped without it; ``TrueFront`` itself is tested on toy points."""
import csv
import json

import numpy as np
import pytest

from evo_nas.analysis.pareto import TrueFront
from evo_nas.cli import main
from evo_nas.engine.runner import run_search
from evo_nas.problems import benchdata, make_problem
from evo_nas.problems.nb201 import DEVICES, NB201Problem

from conftest import have_data, needs_data

PIXEL3 = {"problem": {"name": "nb201", "dataset": "cifar10", "split": "val", "device": "pixel3"}}


@pytest.fixture(scope="module")
def problem():
    if not have_data("nb201"):
        pytest.skip("benchmark data 'nb201' not available: set EVO_NAS_DATA to a mirror folder")
    return make_problem(PIXEL3)


@pytest.fixture(scope="module")
def rows():
    if not have_data("nb201"):
        pytest.skip("benchmark data 'nb201' not available: set EVO_NAS_DATA to a mirror folder")
    with open(benchdata.data_file("nb201", "nb201.csv"), newline="") as f:
        return list(csv.DictReader(f))


def brute_force_front(F: np.ndarray) -> np.ndarray:
    """Rows of ``F`` (N, 2) no other row dominates (minimization), comparing every pair: O(n^2), in chunks."""
    a, b = F[:, 0][None, :], F[:, 1][None, :]
    keep = np.ones(len(F), dtype=bool)
    for start in range(0, len(F), 500):
        x, y = F[start:start + 500, 0][:, None], F[start:start + 500, 1][:, None]
        keep[start:start + 500] = ~((a <= x) & (b <= y) & ((a < x) | (b < y))).any(axis=1)
    return keep


# -- TrueFront on toy points (no data) ---------------------------------------------------------
def test_true_front_counts_recovered_members_and_igd_on_normalized_objectives():
    points = np.array([[0.0, 3.0], [1.0, 1.0], [3.0, 0.0], [2.0, 2.0], [1.0, 1.0]])
    true = TrueFront.of(("a", "b"), ["p", "q", "r", "s", "t"], points)
    assert true.keys == ("p", "q", "r", "t") and true.population == 5  # equal vectors are both members
    assert true.recovered(["q", "s", "x"]) == 1 and true.recovered([]) == 0
    assert true.igd(true.points) == pytest.approx(0.0)
    # only (1, 1) found: scaled by the front's range (3 per objective), members at 1/3 from it on one
    # axis and 2/3 on the other, or on it
    far = np.hypot(1 / 3, 2 / 3)
    assert true.igd([[1.0, 1.0]]) == pytest.approx((far + 0 + far + 0) / 4)
    assert true.igd(np.zeros((0, 2))) is None
    assert true.hypervolume([4.0, 4.0]) == pytest.approx(4 * 1 + 3 * 2 + 1 * 1)


# -- the table -----------------------------------------------------------------------------------
@needs_data("nb201")
@pytest.mark.parametrize("dataset, split, device", [("cifar10", "val", "pixel3"), ("cifar10", "test", "raspi4"),
                                                    ("cifar100", "val", "fpga"), ("imagenet16", "test", "1080ti_1")])
def test_lookups_equal_the_csv_rows(rows, dataset, split, device):
    problem = NB201Problem(dataset, device, split)
    picked = [rows[i] for i in np.random.default_rng(0).choice(len(rows), 60, replace=False)]
    X = np.array([problem.space.parse(r["arch"]).genes for r in picked])
    cols = problem.evaluate_columns(X)
    np.testing.assert_array_equal(cols["nb201_index"], [int(r["index"]) for r in picked])
    np.testing.assert_allclose(cols["top1"], [float(r[f"{dataset}_{split}"]) / 100 for r in picked], rtol=1e-15)
    np.testing.assert_array_equal(cols["latency_ms"], [float(r[f"lat_{device}"]) for r in picked])
    params, macs = problem.space.costs_array(X)
    np.testing.assert_allclose(cols["params_m"], params / 1e6)
    records = problem.evaluate([problem.space.genome(x) for x in X[:5]])
    assert [r["latency_ms"] for r in records] == cols["latency_ms"][:5].tolist()
    assert all(r["status"] == "ok" for r in records)


@needs_data("nb201")
def test_every_device_column_is_read_and_each_choice_has_its_own_fingerprint(rows, problem):
    assert {f"lat_{d}" for d in DEVICES} == {c for c in rows[0] if c.startswith("lat_")}
    prints = {make_problem({"problem": {**PIXEL3["problem"], **change}}).fingerprint()
              for change in ({}, {"device": "raspi4"}, {"split": "test"}, {"dataset": "cifar100"})}
    assert len(prints) == 4
    assert problem.space.num_classes == 10 and NB201Problem("imagenet16").space.resolution == 16


def test_bad_keys_are_one_line_errors_naming_the_value():  # checked before the table is read
    for section, text in (({"device": "pixel9"}, "[problem] device = 'pixel9'"),
                          ({"split": "train"}, "[problem] split = 'train'"),
                          ({"dataset": "imagenet"}, "[problem] dataset = 'imagenet'"),
                          ({"devise": "pixel3"}, "unknown key 'devise'")):
        with pytest.raises(ValueError) as e:
            make_problem({"problem": {"name": "nb201", **section}})
        assert text in str(e.value) and "\n" not in str(e.value)


# -- exact fronts --------------------------------------------------------------------------------
@needs_data("nb201")
def test_the_exact_front_of_cifar10_val_on_pixel3_is_the_brute_force_front(problem, rows):
    true = problem.true_front(("top1", "latency_ms"))
    F = np.array([[-float(r["cifar10_val"]) / 100, float(r["lat_pixel3"])] for r in rows])
    keep = brute_force_front(F)
    assert true.population == 15625 and true.size == keep.sum() == 39
    assert set(true.keys) == {r["arch"] for r, k in zip(rows, keep) if k}
    # the figure: 31 members with CIFAR-10 test accuracy
    assert make_problem({"problem": {**PIXEL3["problem"], "split": "test"}}).true_front(
        ("top1", "latency_ms")).size == 31
    # under a latency target, the front of the cells that meet it
    bounded = problem.true_front(("top1", "latency_ms"), latency_target_ms=5.0)
    fast = F[:, 1] <= 5.0
    assert set(bounded.keys) == {r["arch"] for r, k in zip(np.array(rows)[fast], brute_force_front(F[fast])) if k}


# -- searches and comparisons scored against it -------------------------------------------------
def search_config(algorithm="nsga2", evaluations=300, **problem_keys):
    return {"seed": 0, "problem": {**PIXEL3["problem"], **problem_keys},
            "objectives": {"names": ["top1", "latency_ms"], "reference": {"top1": 0.0, "latency_ms": 40.0}},
            "search": {"algorithm": algorithm, "max_evaluations": evaluations, "generations": 500,
                       **({"pop_size": 30} if algorithm == "nsga2" else {})}}


@needs_data("nb201")
def test_a_search_reports_the_true_front_members_it_recovered_and_its_igd(problem, tmp_path, capsys):
    assert main(["search", _toml(tmp_path / "s.toml", search_config()), "--run-dir", str(tmp_path / "run"),
                 "--no-plot"]) == 0
    out = capsys.readouterr().out
    summary = json.loads((tmp_path / "run" / "run.json").read_text())["true_front"]
    records = [json.loads(line) for line in (tmp_path / "run" / "evaluations.jsonl").read_text().splitlines()]
    front = json.loads((tmp_path / "run" / "pareto.json").read_text())["front"]
    true = problem.true_front(("top1", "latency_ms"))
    found = {r["key"] for r in records} & set(true.keys)
    assert summary["size"] == 39 and summary["recovered"] == len(found) > 0
    assert summary["recovered_fraction"] == pytest.approx(len(found) / 39)
    assert found <= {r["key"] for r in front}  # a true-front member is never dominated
    assert summary["igd"] > 0
    assert summary["igd"] == pytest.approx(true.igd([[-r["top1"], r["latency_ms"]] for r in front]))
    assert 0.9 < summary["hypervolume_ratio"] <= 1.0
    line = f"true Pareto front: {len(found)} of its 39 architectures recovered"
    assert line in out
    assert main(["pareto", str(tmp_path / "run"), "--no-plot"]) == 0
    assert line in capsys.readouterr().out


@needs_data("nb201")
def test_nsga2_recovers_more_of_the_front_than_random_search_on_equal_seeds(tmp_path):
    got = {}
    for algorithm in ("nsga2", "random"):
        got[algorithm] = [run_search(search_config(algorithm, 400) | {"seed": s}, tmp_path / f"{algorithm}{s}",
                                     quiet=True).true_front for s in (0, 1, 2)]
    # measured: 25 of 3 x 39 members against 1, mean IGD 0.024 against 0.051
    assert sum(t["recovered"] for t in got["nsga2"]) > 3 * sum(t["recovered"] for t in got["random"])
    assert np.mean([t["igd"] for t in got["nsga2"]]) < 0.75 * np.mean([t["igd"] for t in got["random"]])


@needs_data("nb201")
def test_compare_adds_recovered_and_igd_columns_for_a_problem_with_an_exact_front(problem, tmp_path):
    from evo_nas.compare import load_comparison, run_cells, table_markdown

    config = search_config(evaluations=120) | {"compare": {"algorithms": ["nsga2", "random"], "seeds": [0, 1]}}
    config["search"] |= {"reward": {"target_ms": 10.0}, "random": {"batch_size": 8}}
    run_cells(config, tmp_path / "runs")
    comparison = load_comparison(config, tmp_path / "runs")
    rows = comparison.table_rows()
    true = problem.true_front(("top1", "latency_ms"))
    for row in rows:
        found = [true.recovered(r["key"] for r in comparison.records_at(row["algorithm"], s, 120)) for s in (0, 1)]
        assert row["recovered_median"] == np.median(found) and row["true_front_size"] == 39
        assert row["igd_median"] > 0
    text = table_markdown(comparison)
    assert "The exact Pareto front: 39 of the 15,625 architectures" in text and "| random | " in text
    assert comparison.summary()["true_front"]["size"] == 39


def test_a_problem_without_an_exact_front_reports_none(tmp_path):
    config = {"seed": 0, "problem": {"name": "synthetic"}, "search": {"max_evaluations": 20, "pop_size": 10}}
    assert run_search(config, tmp_path / "run", quiet=True).true_front is None
    assert "true_front" not in json.loads((tmp_path / "run" / "run.json").read_text())


def _toml(path, config) -> str:
    lines = [f"seed = {config['seed']}", "[problem]"]
    lines += [f'{k} = "{v}"' for k, v in config["problem"].items()]
    lines += ["[objectives]", 'names = ["top1", "latency_ms"]', "reference = { top1 = 0.0, latency_ms = 40.0 }",
              "[search]"]
    lines += [f'{k} = {json.dumps(v)}' for k, v in config["search"].items()]
    path.write_text("\n".join(lines) + "\n")
    return str(path)


@needs_data("nb201")
def test_this_machine_times_each_cell_once_here_and_has_no_exact_latency_front(tmp_path):
    quick = {"mode": "measured", "warmup": 1, "repeats": 2, "rounds": 2, "max_attempts": 1}
    cfg = {"seed": 0, "problem": {"name": "nb201", "device": "this-machine"}, "latency": quick,
           "objectives": {"names": ["top1", "latency_ms"]}, "search": {"pop_size": 6, "generations": 2}}
    r = run_search(cfg, tmp_path / "run", quiet=True)
    recs = [json.loads(line) for line in (tmp_path / "run" / "evaluations.jsonl").read_text().splitlines()]
    assert len(recs) >= 6 and all(rec["latency_ms"] > 0 for rec in recs)
    p = make_problem(cfg)
    assert p.true_front(("top1", "latency_ms")) is None and p.true_front(("top1", "params_m")) is not None
    assert p.describe()["latency"]["source"] == "measured" and r.stopped == "generations"
    tabulated = make_problem({"problem": {"name": "nb201", "device": "pixel3"}})
    assert p.fingerprint() != tabulated.fingerprint()
    codes = p.codes(np.array([recs[0]["genes"]] * 2))
    first = p.evaluate_columns(np.array([recs[0]["genes"]] * 2))["latency_ms"]
    assert first[0] == first[1] and len(p.here._ms) == 1 and int(codes[0]) in p.here._ms  # one measurement
    with pytest.raises(ValueError, match="applies to nb201 on device 'this-machine' only"):
        make_problem({"problem": {"name": "nb201", "device": "pixel3"}, "latency": quick})
    with pytest.raises(ValueError, match='set mode = "measured"'):
        make_problem({"problem": {"name": "nb201", "device": "this-machine"}, "latency": {"mode": "table"}})
