"""experiments/compare_suite_sample.toml: the surrogate's sample-efficiency suite is valid, shares its problems
with compare_suite.toml, and runs on NAS-Bench-201 (cheap table latency, exact front scored per budget)."""
import tomllib
from pathlib import Path

import numpy as np
import pytest

from evo_nas.algorithms.surrogate import SurrogateKeys
from evo_nas.compare import CompareConfig
from evo_nas.compare.suite import run_suite, suite_configs
from evo_nas.compare.suite_output import suite_markdown
from evo_nas.engine.run import RunDir
from evo_nas.problems import make_problem

from conftest import needs_data

EXPERIMENTS = Path(__file__).resolve().parents[1] / "experiments"
SAMPLE, SUITE = EXPERIMENTS / "compare_suite_sample.toml", EXPERIMENTS / "compare_suite.toml"


def load(path):
    return tomllib.loads(path.read_text())


def test_the_sample_suite_is_valid_and_copies_the_suite_problems():
    config, full = load(SAMPLE), load(SUITE)
    s = config["suite"]
    assert s["algorithms"][0] == "surrogate" and s["budgets"] == [100, 200, 300, 500, 1000]
    assert config["search"]["max_evaluations"] == s["budgets"][-1] and 1 <= s["cell_jobs"] <= 2  # a 2-core machine
    # the defaults but the model its committed results were measured with
    assert SurrogateKeys(**config["search"]["surrogate"]) == SurrogateKeys(model="bayes_ridge", front_neighbours=False)
    names = list(config["suite"]["problems"])
    assert names[0] == "anb-zcu102" and sum(n.startswith("nb201-") for n in names) == 9 == len(names) - 1
    for name in names:
        assert config["suite"]["problems"][name] == full["suite"]["problems"][name], name
    cfgs = suite_configs(config)
    for name, cfg in cfgs.items():
        cmp = CompareConfig.from_dict(cfg)
        assert cmp.algorithms == tuple(s["algorithms"]) and cmp.budgets == tuple(s["budgets"])
        assert cfg["search"]["surrogate"] == {"initial": 50, "batch": 10, "model": "bayes_ridge", "front_neighbours": False}


@needs_data("nb201")
def test_nb201_latency_params_and_macs_are_cheap_and_equal_to_the_evaluated_ones():
    problem = make_problem({"problem": {"name": "nb201", "dataset": "cifar100", "device": "raspi4"}})
    assert problem.cheap_objectives == ("latency_ms", "params_m", "macs_m")
    X = np.random.default_rng(0).integers(0, 5, size=(20, 6))
    cheap = problem.evaluate_cheap(X)
    recs = problem.evaluate(problem.space.genomes(X))
    for name in problem.cheap_objectives:
        assert np.allclose(cheap[name], [r[name] for r in recs]) and np.ptp(cheap[name]) > 0


@needs_data("nb201")
def test_a_tiny_surrogate_suite_on_nb201_scores_the_exact_front_at_each_budget(tmp_path):
    config = load(SAMPLE)
    config["search"].update(max_evaluations=80)
    config["search"]["surrogate"].update(initial=30, inner_pop=40, inner_generations=3)
    config["suite"].update(algorithms=["surrogate", "random"], seeds=[0, 1], budgets=[40, 80])
    config["suite"]["problems"] = {"nb201-cifar10-pixel3": config["suite"]["problems"]["nb201-cifar10-pixel3"]}
    suite = run_suite(config, tmp_path / "out")
    c = suite.problems["nb201-cifar10-pixel3"]
    for (a, s), info in c.cells.items():
        assert info["stopped"] == "max_evaluations" and len(c.unique[(a, s)]) == 80
    run = RunDir(tmp_path / "out" / "problems" / "nb201-cifar10-pixel3" / "runs" / "surrogate-seed0")
    assert len({r["key"] for r in run.evaluations()}) == 80
    for b in (40, 80):
        rows = {r["algorithm"]: r for r in suite.problem_rows(b)}
        for a in ("surrogate", "random"):
            found, igd = c.true_scores(a, b)
            assert rows[a]["recovered_median"] == pytest.approx(np.median(found))
            assert rows[a]["igd_median"] == pytest.approx(np.median(igd)) and rows[a]["igd_median"] > 0
        assert np.isnan(rows["surrogate"]["p_hv_first_vs"]) and 0 < rows["random"]["p_hv_first_vs"] <= 1
    text = suite_markdown(suite)
    assert "Per problem at 40 evaluations" in text and "median IGD to the exact front" in text
    assert "surrogate against each other algorithm at 80 evaluations" in text
