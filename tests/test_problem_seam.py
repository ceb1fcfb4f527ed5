"""The Problem seam: a problem registered from outside the package is searched by every algorithm."""
import numpy as np
import pytest

from evo_nas.engine.run import RunDir
from evo_nas.engine.runner import run_search
from evo_nas.problems import PROBLEMS, Objective, Problem, make_problem, register_problem
from evo_nas.spaces.loader import load_space


@pytest.fixture
def toy():
    calls = []

    @register_problem("toy-tradeoff")
    class Toy(Problem):
        """A 2-objective toy over MnasNet's space: 'gain' rises with the gene sum, 'latency_ms' too."""

        objectives = (Objective("gain", "max", "", "sum of genes"),
                      Objective("latency_ms", "min", "ms", "sum of squared genes"))
        default_objectives = ("gain", "latency_ms")
        config_keys = ("scale",)
        batch = True

        def __init__(self, scale):
            self.space = load_space("mnasnet", resolution=32, num_classes=10)
            self.scale = scale

        @classmethod
        def from_config(cls, config):
            return cls(float((config.get("problem") or {}).get("scale", 1.0)))

        def evaluate(self, genomes):
            calls.append(len(genomes))
            X = np.array([g.genes for g in genomes], dtype=float)
            return [{"gain": float(x.sum()), "latency_ms": float(self.scale * (x ** 2).sum() + x[0]),
                     "status": "ok", "error": None} for x in X]

        def fingerprint(self):
            return f"toy-{self.scale}"

    yield Toy, calls
    PROBLEMS.pop("toy-tradeoff")


@pytest.mark.parametrize("algorithm", ["nsga2", "random"])
def test_an_outside_problem_is_searched_in_one_call_per_generation(tmp_path, toy, algorithm):
    cls, calls = toy
    config = {"seed": 2, "problem": {"name": "toy-tradeoff", "scale": 0.5},
              "search": {"algorithm": algorithm, "generations": 4, "cache": False,
                         **({"random": {"batch_size": 10}} if algorithm == "random" else {"pop_size": 10})},
              "objectives": {"reference": {"gain": 0.0, "latency_ms": 100.0}}}
    r = run_search(config, tmp_path / "run", quiet=True)
    assert len(calls) == r.generations == 4 and sum(calls) == r.evaluations
    evals = RunDir(r.run_dir).evaluations()
    pts = np.array([[-e["gain"], e["latency_ms"]] for e in evals])
    front = {m["key"] for m in r.front}
    for e, p in zip(evals, pts):
        dominated = bool(np.any(np.all(pts <= p, axis=1) & np.any(pts < p, axis=1)))
        assert (e["key"] in front) == (not dominated)
    assert RunDir(r.run_dir).objectives().maximize == {"gain"}


def test_an_outside_problem_rejects_unknown_keys_and_objectives(toy):
    with pytest.raises(ValueError, match="unknown key 'scal'"):
        make_problem({"problem": {"name": "toy-tradeoff", "scal": 2}})
    with pytest.raises(ValueError, match="names: 'top1' is not an objective of problem 'toy-tradeoff'"):
        run_search({"problem": {"name": "toy-tradeoff"}, "search": {"generations": 1},
                    "objectives": {"names": ["top1", "latency_ms"]}}, "unused", quiet=True)


def test_an_unknown_problem_lists_the_registered_ones():
    with pytest.raises(ValueError, match="ofa-mbv3.*synthetic.*train"):
        make_problem({"problem": {"name": "nope"}})
