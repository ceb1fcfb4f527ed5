"""Issue 7: the engine's block-aware operators and NSGA-II on the FBNet and MobileNetV3 spaces."""
import tomllib
from pathlib import Path

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from evo_nas.algorithms.operators import crossover, mutate_decision
from evo_nas.engine.run import RunDir
from evo_nas.engine.runner import run_search
from evo_nas.problems.synthetic import synthetic_evaluate
from evo_nas.spaces.loader import load_space

EXPERIMENTS = Path(__file__).resolve().parent.parent / "experiments"
SPACES = {n: load_space(n, resolution=32, num_classes=10) for n in ("fbnet", "mobilenetv3")}


@pytest.mark.parametrize("name", list(SPACES))
@settings(max_examples=25, deadline=None)
@given(seed=st.integers(0, 2**32 - 1))
def test_crossover_exchanges_whole_blocks_and_a_decision_mutation_stays_in_one(name, seed):
    space = SPACES[name]
    rng = np.random.default_rng(seed)
    a, b = space.sample(rng).canonical(), space.sample(rng).canonical()
    for child in crossover(a, b, rng):
        assert child == child.canonical()
        # every block of the child builds the layers of that block in one parent
        for sl in space.block_slices:
            got = space.canonical_genes(a.genes[:sl.start] + child.genes[sl] + a.genes[sl.stop:])[sl]
            assert got in (a.genes[sl], space.canonical_genes(a.genes[:sl.start] + b.genes[sl] + a.genes[sl.stop:])[sl])
    m = mutate_decision(a, rng)
    changed = {i for i, (x, y) in enumerate(zip(a.genes, m.genes)) if x != y}
    blocks = {k for k, sl in enumerate(space.block_slices) for i in changed if sl.start <= i < sl.stop}
    assert len(blocks) <= 1


@pytest.mark.parametrize("name", list(SPACES))
def test_nsga2_runs_on_the_space_with_a_synthetic_evaluator(tmp_path, name):
    calls = []

    def evaluator(genome, cfg):
        calls.append(genome.key)
        assert genome.space.name == name
        return synthetic_evaluate(genome, cfg)

    cfg = {"seed": 4, "space": {"name": name, "resolution": 32, "num_classes": 10},
           "problem": {"name": "synthetic"}, "search": {"pop_size": 8, "generations": 4, "cache": False},
           "objectives": {"reference": {"val_acc": 0.0, "latency_ms": 20.0}}}
    r = run_search(cfg, tmp_path / "run", quiet=True, evaluator=evaluator)
    run = RunDir(r.run_dir)
    assert r.generations == 4 and len(calls) == r.evaluations == len(run.evaluations()) > 8
    space = run.space()
    assert all(space.parse(e["key"]).key == e["key"] for e in run.evaluations())
    hv = [e["hypervolume"] for e in run.logbook()]
    assert hv == sorted(hv) and hv[-1] > 0
    again = run_search(cfg, tmp_path / "again", quiet=True, evaluator=evaluator)
    assert [f["key"] for f in again.front] == [f["key"] for f in r.front]


@pytest.mark.parametrize("name", ["fbnet", "mobilenetv3"])
def test_experiment_configs_name_the_space(name):
    cfg = tomllib.loads((EXPERIMENTS / f"search_{name}.toml").read_text())
    assert cfg["space"]["name"] == name and cfg["search"]["algorithm"] == "nsga2"


@pytest.mark.slow
@pytest.mark.parametrize("name", ["fbnet", "mobilenetv3"])
def test_experiment_config_runs_end_to_end(tmp_path, name):
    from evo_nas.cli import main

    assert main(["search", str(EXPERIMENTS / f"search_{name}.toml"), "--run-dir", str(tmp_path / "run"),
                 "--quiet"]) == 0
    run = RunDir(tmp_path / "run")
    assert run.pareto() and all(e["status"] == "ok" for e in run.evaluations())
    assert main(["export", str(tmp_path / "run"), "--pareto"]) == 0
    assert len(list((tmp_path / "run" / "export").glob("*.onnx"))) == len(run.pareto())
