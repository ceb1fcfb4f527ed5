"""``evo-nas compare`` over a ``[suite]`` of problems: per-problem outputs, the summary, resuming, skipped data."""
import csv
import tomllib

import numpy as np
import pytest

from evo_nas.analysis.stats import a12, mann_whitney
from evo_nas.cli import main
from evo_nas.compare import load_comparison
from evo_nas.compare.suite import Suite, run_suite, suite_configs
from evo_nas.engine.run import RunDir

from conftest import needs_data

SHARED = """
seed = 0
[search]
max_evaluations = 24
max_stall = 1000
pop_size = 8
[search.reward]
target_ms = 3.0
[search.random]
batch_size = 6
[suite]
algorithms = ["nsga2", "random"]
seeds = [0, 1]
budgets = [12, 24]
"""
SYNTHETIC = """
[suite.problems.synthetic]
problem = { name = "synthetic" }
space = { name = "mnasnet", resolution = 32, num_classes = 10 }
objectives = { names = ["val_acc", "latency_ms"], reference = { val_acc = 0.0, latency_ms = 6.0 } }
"""
ANB = """
[suite.problems.anb]
problem = { name = "anb" }
objectives = { names = ["top1", "latency_ms"], reference = { top1 = 0.40, latency_ms = 25.0 } }
search = { reward = { target_ms = 7.0 } }
"""
NB201 = """
[suite.problems.nb201-c100]
problem = { name = "nb201", dataset = "cifar100", device = "pixel3" }
objectives = { names = ["top1", "latency_ms"], reference = { top1 = 0.0, latency_ms = 40.0 } }
"""


def write(tmp_path, text):
    path = tmp_path / "suite.toml"
    path.write_text(text)
    return path


def test_each_problem_is_a_comparison_of_the_suite_settings_and_the_summary_agrees_with_its_tables(tmp_path):
    config = tomllib.loads(SHARED + SYNTHETIC + ANB)
    cfgs = suite_configs(config)
    assert list(cfgs) == ["synthetic", "anb"]
    assert cfgs["anb"]["search"]["reward"] == {"target_ms": 7.0} and cfgs["anb"]["search"]["pop_size"] == 8
    assert cfgs["synthetic"]["compare"] == {"algorithms": ["nsga2", "random"], "seeds": [0, 1], "cell_jobs": 1,
                                            "budgets": [12, 24]}
    lines = []
    suite = run_suite(config, tmp_path / "out", progress=lines.append)
    assert lines[0] == "[problem 1/2] synthetic: [1/4] nsga2 seed 0" and lines[-1] == "[problem 2/2] anb: [4/4] random seed 1"
    for name in ("synthetic", "anb"):
        assert (tmp_path / "out" / "problems" / name / "table.md").is_file()
        assert len(list((tmp_path / "out" / "problems" / name / "runs").iterdir())) == 4
    assert suite.budgets() == (12, 24)
    rows = suite.problem_rows(24)
    for name, c in suite.problems.items():
        mine = {r["algorithm"]: r for r in rows if r["problem"] == name}
        f = {a: c.finals(a, 24) for a in suite.algorithms}
        best = max(suite.algorithms, key=lambda a: np.median(f[a]))
        assert mine[best]["rank"] == 1.0 or mine["nsga2"]["rank"] == mine["random"]["rank"] == 1.5
        p = mann_whitney(f["nsga2"], f["random"])  # 2 seeds each: never below 0.05
        assert p >= 0.05 and mine["nsga2"]["wins"] == mine["random"]["wins"] == 0
        assert mine["random"]["p_hv_first_vs"] == p and mine["random"]["a12_hv_first_vs"] == a12(f["nsga2"], f["random"])
        assert np.isnan(mine["nsga2"]["p_hv_first_vs"]) and np.isnan(mine["random"]["igd_median"])
        # the best-known front is the non-dominated set of every evaluation: all of it was found by some cell
        kind, front = Suite.reference_front(c)
        assert kind == "best-known" and front
        found = {r["key"] for a in c.algorithms for s in c.seeds for r in c.records_at(a, s, 24)}
        assert set(front) <= found
        for a in suite.algorithms:
            shares = [len(set(front) & {r["key"] for r in c.records_at(a, s, 24)}) / len(front) for s in c.seeds]
            assert mine[a]["front_share_median"] == pytest.approx(np.median(shares))
    summary = {r["algorithm"]: r for r in suite.summary_rows() if r["budget"] == 24}
    assert summary["nsga2"]["median_rank"] + summary["random"]["median_rank"] == pytest.approx(3.0)
    assert np.isnan(summary["nsga2"]["true_front_share_median"])


def evaluations(run):
    """A cell's evaluations in order, without their timings."""
    return [(r["key"], r["top1"], r["latency_ms"]) for r in RunDir(run).evaluations()]


def test_the_cli_resumes_cell_by_cell_and_writes_the_summary(tmp_path, capsys):
    path = write(tmp_path, SHARED + SYNTHETIC + ANB)
    out = tmp_path / "out"
    assert main(["compare", str(path), "--out", str(out), "--quiet"]) == 0
    first = (out / "suite.md").read_text()
    assert "| nsga2 |" in first and "Per problem at 24 evaluations" in first
    rows = list(csv.DictReader(open(out / "suite.csv")))
    assert [(r["budget"], r["algorithm"]) for r in rows] == [("12", "nsga2"), ("12", "random"),
                                                             ("24", "nsga2"), ("24", "random")]
    # a finished cell is not rerun; a removed one is rerun and gives the same evaluations
    runs = out / "problems" / "anb" / "runs"
    kept = (runs / "nsga2-seed0" / "evaluations.jsonl").stat().st_mtime_ns
    gone = evaluations(runs / "random-seed1")
    import shutil

    shutil.rmtree(runs / "random-seed1")
    capsys.readouterr()
    assert main(["compare", str(path), "--out", str(out)]) == 0
    err = capsys.readouterr().err
    assert "[problem 2/2] anb: [4/4] random seed 1" in err
    assert (runs / "nsga2-seed0" / "evaluations.jsonl").stat().st_mtime_ns == kept
    assert evaluations(runs / "random-seed1") == gone
    assert (out / "suite.md").read_text() == first


def test_a_problem_without_its_data_is_skipped_with_the_data_error(tmp_path, monkeypatch, capsys):
    monkeypatch.setenv("EVO_NAS_DATA", str(tmp_path / "empty"))
    monkeypatch.setenv("EVO_NAS_CACHE", str(tmp_path / "cache"))
    monkeypatch.setenv("EVO_NAS_OFFLINE", "1")
    path = write(tmp_path, SHARED + SYNTHETIC + NB201)
    assert main(["compare", str(path), "--out", str(tmp_path / "out"), "--quiet"]) == 0
    text = capsys.readouterr().out
    assert "Suite: 1 problem, 2 algorithms x 2 seeds; 1 skipped." in text
    assert "skipped nb201-c100: benchmark file nb201/nb201.csv not found" in text
    assert not (tmp_path / "out" / "problems" / "nb201-c100").exists()


@pytest.mark.parametrize("extra, message", [
    ('[suite.problems."bad name"]\nproblem = { name = "synthetic" }\n', "name 'bad name' must be letters"),
    ('[suite.problems.x]\nproblm = { name = "synthetic" }\n', "'problm' is not a configuration section"),
    ('[suite.problems.x]\ncompare = { seeds = [3] }\n', r"\[suite.problems.x.compare\] seeds is set by \[suite\]"),
    ('[suite.problems.x]\nproblem = { name = "nope" }\n', r"\[suite.problems.x\]: \[problem\] name = 'nope'"),
    ('[compare]\nseeds = [1]\n', r"\[compare\] does not apply to a suite"),
])
def test_a_bad_suite_is_one_error_line(tmp_path, capsys, extra, message):
    import re

    path = write(tmp_path, SHARED + SYNTHETIC + extra)
    assert main(["compare", str(path), "--out", str(tmp_path / "out")]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and err[0].startswith("evo-nas compare: error:") and re.search(message, err[0]), err


def test_suite_keys_are_validated(tmp_path, capsys):
    path = write(tmp_path, SHARED.replace("seeds = [0, 1]", "seeds = [0, 0]") + SYNTHETIC)
    assert main(["compare", str(path), "--out", str(tmp_path / "out")]) == 2
    assert "[suite] seeds" in capsys.readouterr().err


@needs_data("nb201")
def test_a_problem_with_an_exact_front_is_scored_by_the_share_of_it_recovered(tmp_path):
    config = tomllib.loads(SHARED + SYNTHETIC + NB201)
    suite = run_suite(config, tmp_path / "out")
    c = suite.problems["nb201-c100"]
    kind, front = Suite.reference_front(c)
    assert kind == "true" and len(front) == 35 == c.true_front.size
    rows = {r["algorithm"]: r for r in suite.problem_rows(24) if r["problem"] == "nb201-c100"}
    table = {r["algorithm"]: r for r in c.table_rows() if r["budget"] == 24}
    for a in suite.algorithms:
        assert rows[a]["front"] == "true"
        assert rows[a]["front_share_median"] == pytest.approx(table[a]["recovered_median"] / 35)
    summary = {r["algorithm"]: r for r in suite.summary_rows() if r["budget"] == 24}
    for a in suite.algorithms:
        assert summary[a]["true_front_share_median"] == pytest.approx(rows[a]["front_share_median"])
    assert load_comparison(suite_configs(config)["nb201-c100"], tmp_path / "out" / "problems" / "nb201-c100" / "runs")
