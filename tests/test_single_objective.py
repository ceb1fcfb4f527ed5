"""Single-objective search: one name in [objectives], the best feasible genome as the result, for every strategy."""
import numpy as np
import pytest

import evo_nas
from evo_nas.algorithms.aging import AgingEvolution, ObjectiveFitness
from evo_nas.algorithms.objectives import Objectives
from evo_nas.analysis.pareto import hypervolume
from evo_nas.cli import main
from evo_nas.engine.run import RunDir
from evo_nas.engine.runner import run_search
from conftest import Killed, dying_after

LIMIT = 30.0  # [constraints] latency_ms max, ms
SEARCH = {"nsga2": {"pop_size": 8}, "random": {"random": {"batch_size": 6}},
          "aging": {"aging": {"population": 8, "sample": 3, "batch_size": 6}},
          "surrogate": {"surrogate": {"initial": 8, "batch": 4, "inner_pop": 16, "inner_generations": 5}}}


def config(algorithm="nsga2", budget=40, names=("val_acc",), seed=2, **objectives):
    return {"seed": seed, "problem": {"name": "synthetic", "fail": 0.1},
            "search": {"algorithm": algorithm, "max_evaluations": budget, "max_stall": 1000, "cache": False,
                       "backend": "sequential", **SEARCH.get(algorithm, {})},
            "objectives": {"names": list(names), **objectives}, "constraints": {"latency_ms": {"max": LIMIT}}}


def feasible(records):
    return [r for r in records if r["status"] == "ok" and r["latency_ms"] <= LIMIT]


@pytest.mark.parametrize("algorithm", ["nsga2", "random", "aging", "surrogate"])
def test_the_result_is_the_best_feasible_evaluation(tmp_path, algorithm):
    result = evo_nas.search(config(algorithm), tmp_path / "run")
    records = result.evaluations
    best = max(r["val_acc"] for r in feasible(records))
    assert len(records) == 40 and len(feasible(records)) < len([r for r in records if r["status"] == "ok"])
    assert result.best["val_acc"] == best and result.best["latency_ms"] <= LIMIT
    assert [r["key"] for r in result.pareto] == sorted(r["key"] for r in feasible(records) if r["val_acc"] == best)
    assert result.hypervolume is None and result.notes == []


def test_a_minimized_objective_and_its_hypervolume(tmp_path):
    result = evo_nas.search(config(names=("params_m",), reference={"params_m": 10.0}), tmp_path / "run")
    best = min(r["params_m"] for r in feasible(result.evaluations))
    assert result.best["params_m"] == best
    assert result.hypervolume == pytest.approx(10.0 - best) == hypervolume([[best]], [10.0])
    assert hypervolume([[11.0]], [10.0]) == 0.0


def test_nsga2_improves_on_its_random_first_generation(tmp_path):
    result = evo_nas.search(config(budget=80), tmp_path / "run")
    first = max(r["val_acc"] for r in feasible(result.evaluations) if r["generation"] == 0)
    assert result.best["val_acc"] > first


@pytest.mark.parametrize("algorithm", ["nsga2", "aging"])
def test_a_killed_run_resumes_to_the_uninterrupted_result(tmp_path, algorithm):
    full = run_search(config(algorithm), tmp_path / "full", quiet=True)
    with pytest.raises(Killed):
        run_search(config(algorithm), tmp_path / "part", quiet=True, evaluator=dying_after(19))
    resumed = run_search(None, tmp_path / "part", resume=True, quiet=True)
    keys = lambda p: [r["key"] for r in RunDir(p).evaluations()]
    assert keys(tmp_path / "part") == keys(tmp_path / "full")
    assert [r["key"] for r in resumed.front] == [r["key"] for r in full.front]
    timeless = lambda r: {k: v for k, v in r.items() if k != "eval_s"}
    assert timeless(evo_nas.load_run(tmp_path / "part").best) == timeless(evo_nas.load_run(tmp_path / "full").best)


def test_aging_evolves_on_the_objective_and_ranks_infeasible_genomes_last():
    objectives = Objectives.from_dict({"names": ["val_acc"]}, constraints={"latency_ms": {"max": LIMIT}})
    fitness = ObjectiveFitness(objectives)
    assert fitness.of_record({"status": "ok", "val_acc": 0.8, "latency_ms": 10.0}) == 0.8
    assert fitness.of_record({"status": "ok", "val_acc": 0.9, "latency_ms": 40.0}) == -np.inf
    assert fitness.of_record({"status": "failed", "val_acc": None, "latency_ms": None}) == -np.inf
    minimized = ObjectiveFitness(Objectives.from_dict({"names": ["params_m"]}))
    assert minimized.of_record({"status": "ok", "params_m": 3.0}) == -3.0
    from evo_nas.spaces.loader import load_space

    space = load_space("mnasnet")
    rng = np.random.default_rng(0)
    assert isinstance(AgingEvolution(space, {}, objectives, rng).reward, ObjectiveFitness)
    two = Objectives.from_dict({"names": ["val_acc", "latency_ms"]})
    with pytest.raises(ValueError, match=r"\[search.reward\] target_ms is required"):
        AgingEvolution(space, {}, two, rng)


def test_rl_with_one_objective_and_no_reward_refuses_naming_why(tmp_path):
    with pytest.raises(ValueError) as e:
        evo_nas.search(config("rl"), tmp_path / "run")
    assert "\n" not in str(e.value) and "algorithm = 'rl' with one objective (val_acc)" in str(e.value)
    assert "latency_ms" in str(e.value) and not (tmp_path / "run").exists()
    cfg = config("rl", budget=12)
    cfg["search"].update(reward={"target_ms": LIMIT}, rl={"batch_size": 6, "hidden": 16})
    result = evo_nas.search(cfg, tmp_path / "with-reward")
    assert result.best["val_acc"] == max(r["val_acc"] for r in feasible(result.evaluations))


@pytest.mark.parametrize("names", [[], ["val_acc", "val_acc"]])
def test_zero_or_repeated_objectives_are_one_line_errors_and_write_nothing(tmp_path, names):
    with pytest.raises(ValueError) as e:
        evo_nas.search(config(names=names), tmp_path / "run")
    assert str(e.value) == f"[objectives] names = {names!r} must be a list of one or more distinct objective names"
    assert not (tmp_path / "run").exists()


def test_best_of_a_multi_objective_run_is_refused(tmp_path):
    result = evo_nas.search(config(names=("val_acc", "latency_ms"), budget=10), tmp_path / "run")
    with pytest.raises(ValueError, match="has a Pareto set, not one best record"):
        result.best


def test_the_cli_prints_the_best_value(tmp_path, capsys):
    run_dir = tmp_path / "run"
    evo_nas.search(config(), run_dir)
    best = evo_nas.load_run(run_dir).best["val_acc"]
    assert main(["pareto", str(run_dir)]) == 0
    out = capsys.readouterr().out
    assert f"best val_acc: {best:.6g}" in out and "hypervolume" not in out
    assert out.splitlines()[0].split()[:3] == ["#", "val_acc", "latency_ms"]  # the constrained latency is shown
