"""Every algorithm runs in the same engine loop and spends exactly the same budget of unique evaluations."""
import pytest

from evo_nas.engine.run import RunDir
from evo_nas.engine.runner import run_search
from conftest import Killed, dying_after

ALGORITHMS = ["nsga2", "random", "aging", "rl"]


def config(algorithm, budget, seed=0):
    return {
        "seed": seed,
        "space": {"name": "mnasnet", "resolution": 32, "num_classes": 10},
        "objectives": {"names": ["val_acc", "latency_ms"]},
        "problem": {"name": "synthetic"}, "search": {"algorithm": algorithm, "max_evaluations": budget, "cache": False,
                   "max_stall": 1000, **({"pop_size": 8} if algorithm == "nsga2" else {}),
                   **({"reward": {"target_ms": 3.0}} if algorithm in ("aging", "rl") else {}),
                   **({"rl": {"batch_size": 6, "hidden": 16, "lr": 0.05}} if algorithm == "rl" else {}),
                   **({"aging": {"population": 8, "sample": 3, "batch_size": 6}} if algorithm == "aging" else {}),
                   **({"random": {"batch_size": 6}} if algorithm == "random" else {})},
    }


@pytest.mark.parametrize("algorithm", ALGORITHMS)
def test_budget_is_exact_in_unique_evaluations(tmp_path, algorithm):
    budget = 41  # not a multiple of any batch size: the last batch is cut
    result = run_search(config(algorithm, budget), tmp_path / "run", quiet=True)
    records = RunDir(tmp_path / "run").evaluations()
    assert result.evaluations == budget
    assert len(records) == budget
    assert len({r["key"] for r in records}) == budget
    assert not any(r["cached"] for r in records)


@pytest.mark.parametrize("algorithm", ["aging", "rl", "random"])
def test_baselines_resume_after_a_kill_to_the_same_run(tmp_path, algorithm):
    full = run_search(config(algorithm, 30), tmp_path / "full", quiet=True)
    with pytest.raises(Killed):
        run_search(config(algorithm, 30), tmp_path / "part", quiet=True, evaluator=dying_after(16))
    assert len(RunDir(tmp_path / "part").evaluations()) == 16
    resumed = run_search(config(algorithm, 30), tmp_path / "part", resume=True, quiet=True)
    assert resumed.evaluations == full.evaluations == 30
    keys = lambda p: [r["key"] for r in RunDir(p).evaluations()]
    assert keys(tmp_path / "part") == keys(tmp_path / "full")
