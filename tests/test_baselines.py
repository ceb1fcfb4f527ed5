"""Baselines without the engine: MnasNet's reward, random search and aging evolution as ask/tell."""
import pickle

import numpy as np
import pytest

from evo_nas.algorithms.aging import AgingEvolution
from evo_nas.algorithms.operators import mutate_decision
from evo_nas.algorithms.random_search import RandomSearch
from evo_nas.algorithms.reward import Reward, mnasnet_reward
from evo_nas.algorithms.rl import RLStrategy


def test_reward_soft_and_hard():
    soft = Reward.from_dict({"target_ms": 80.0})
    hard = Reward.from_dict({"target_ms": 80.0, "mode": "hard"})
    assert soft(0.75, 80.0) == pytest.approx(0.75)
    assert soft(0.75, 160.0) == pytest.approx(0.75 * 2 ** -0.07)
    assert soft(0.75, 40.0) == pytest.approx(0.75 * 0.5 ** -0.07)
    assert hard(0.75, 40.0) == pytest.approx(0.75)
    assert hard(0.75, 160.0) == pytest.approx(0.375)
    # MnasNet, sec. 3: with w = -0.07, a 2x slower model needs ~5% more accuracy for equal reward
    assert soft(0.75 * 1.05, 160.0) == pytest.approx(soft(0.75, 80.0), rel=0.002)
    custom = Reward.from_dict({"target_ms": 10, "mode": "custom", "alpha": -0.1, "beta": -0.5})
    assert custom(1.0, 20.0) == pytest.approx(2 ** -0.5)
    assert custom(1.0, 5.0) == pytest.approx(0.5 ** -0.1)
    assert mnasnet_reward(0.5, 10, 10, 0, -1) == 0.5


def test_reward_of_records():
    r = Reward.from_dict({"target_ms": 10.0})
    assert r.of_record({"status": "ok", "val_acc": 0.5, "latency_ms": 10.0}) == pytest.approx(0.5)
    assert r.of_record({"status": "failed", "val_acc": 0.9, "latency_ms": 1.0}) == 0.0
    assert r.of_record({"status": "ok", "val_acc": 0.9, "latency_ms": None}) == 0.0


@pytest.mark.parametrize("d, match", [({}, "target_ms"), ({"target_ms": -1}, "target_ms = -1"),
                                      ({"target_ms": 1, "mode": "medium"}, "medium"),
                                      ({"target_ms": 1, "mode": "soft", "alpha": -0.5}, "alpha"),
                                      ({"target_ms": 1, "mode": "custom", "alpha": -0.5}, "beta"),
                                      ({"target_ms": 1, "T": 3}, "'T'")])
def test_reward_config_errors_name_the_value(d, match):
    with pytest.raises(ValueError, match=match):
        Reward.from_dict(d)


@pytest.mark.parametrize("d, message", [
    ({"target_ms": 1, "mode": "custom", "alpha": "x", "beta": 0}, "[search.reward] alpha = 'x' must be a number"),
    ({"target_ms": True}, "[search.reward] target_ms = true must be a number > 0 (the latency target T in ms)"),
    ({"target_ms": 1, "mode": "medium"}, "[search.reward] mode = 'medium' must be one of soft, hard, custom"),
])
def test_a_bad_reward_key_is_one_line_naming_key_value_and_allowed_values(d, message):
    with pytest.raises(ValueError) as e:
        Reward.from_dict(d, "[search.reward]")
    assert str(e.value) == message


def optimum_of(space):
    return np.array([(3 * i + 1) % c for i, c in enumerate(space.cardinalities)])


def synthetic(genomes, optimum):
    return [{"status": "ok", "val_acc": float((np.array(g.genes) == optimum).mean()), "latency_ms": 10.0}
            for g in genomes]


SEARCH = {"reward": {"target_ms": 10.0}, "random": {"batch_size": 5},
          "aging": {"population": 20, "sample": 5, "batch_size": 5},
          "rl": {"batch_size": 5, "hidden": 16, "lr": 0.01, "ppo_epochs": 2}}
STRATEGIES = {"random": RandomSearch, "aging": AgingEvolution, "rl": RLStrategy}


def drive(strategy, steps, optimum):
    seen = []
    for _ in range(steps):
        gs = strategy.ask()
        res = synthetic(gs, optimum)
        strategy.tell(gs, res)
        seen += [(g.key, r["val_acc"]) for g, r in zip(gs, res)]
    return seen


@pytest.mark.parametrize("name", sorted(STRATEGIES))
def test_strategies_are_seeded_and_resume_exactly(mnasnet, name):
    opt = optimum_of(mnasnet)
    cls = STRATEGIES[name]
    full = drive(cls(mnasnet, SEARCH, None, np.random.default_rng(3)), 8, opt)
    a = cls(mnasnet, SEARCH, None, np.random.default_rng(3))
    head = drive(a, 5, opt)
    b = cls(mnasnet, SEARCH, None, np.random.default_rng(12345))
    b.load_state_dict(pickle.loads(pickle.dumps(a.state_dict())))
    assert head + drive(b, 3, opt) == full
    assert drive(cls(mnasnet, SEARCH, None, np.random.default_rng(4)), 8, opt) != full


def test_random_search_is_uniform(mnasnet):
    s = RandomSearch(mnasnet, {"random": {"batch_size": 50}}, None, np.random.default_rng(0))
    genes = np.array([g.genes for _ in range(40) for g in s.ask()])
    for i, c in enumerate(mnasnet.cardinalities):
        freq = np.bincount(genes[:, i], minlength=c) / len(genes)
        assert np.all(np.abs(freq - 1 / c) < 0.05), (i, freq)


def test_aging_population_is_a_queue_of_the_last_p(mnasnet):
    opt = optimum_of(mnasnet)
    s = AgingEvolution(mnasnet, SEARCH, None, np.random.default_rng(0))
    first = s.ask()
    assert len(first) == 5 and s.born == 0
    told = []
    for _ in range(9):
        gs = s.ask()
        s.tell(gs, synthetic(gs, opt))
        told += gs
        assert len(s.population) == min(len(told), 20)
        assert [ind.genome for ind in s.population] == told[-20:]
    # after P models every new genome is a one-decision child of a population member
    children = s.ask()
    parents = {ind.genome.genes for ind in s.population}
    for c in children:
        assert any(sum(a != b for a, b in zip(c.genes, p)) == 1 for p in parents)


def test_aging_beats_random_on_a_known_optimum(mnasnet):
    """Same budget (300 models), five seeds each: tournament selection climbs, random does not."""
    opt = optimum_of(mnasnet)
    search = {"reward": {"target_ms": 10.0}, "aging": {"population": 30, "sample": 10, "batch_size": 10},
              "random": {"batch_size": 10}}
    best = {name: [max(v for _, v in drive(STRATEGIES[name](mnasnet, search, None, np.random.default_rng(s)), 30, opt))
                   for s in range(5)] for name in ("aging", "random")}
    assert min(best["aging"]) > max(best["random"]), best


def test_aging_mutation_changes_one_block_and_the_network(mnasnet):
    strategy = AgingEvolution(mnasnet, {"reward": {"target_ms": 1.0}}, None, np.random.default_rng(0))
    assert strategy.toolbox.mutate.func is mutate_decision
    rng = np.random.default_rng(0)
    for _ in range(200):
        g = mnasnet.sample(rng).canonical()
        c = mutate_decision(g, rng)
        changed = [i for i, (a, b) in enumerate(zip(g.genes, c.genes)) if a != b]
        blocks = {b for b, sl in enumerate(mnasnet.block_slices) for i in changed if sl.start <= i < sl.stop}
        assert len(blocks) == 1 and 1 <= len(changed) <= 2
        assert c.key != g.key


@pytest.mark.parametrize("opts, match", [({"population": 5, "sample": 10}, r"population \(5\) must be >= sample \(10\)"),
                                         ({"population": 0}, "population = 0"), ({"tournament": 3}, "tournament")])
def test_aging_config_errors(mnasnet, opts, match):
    with pytest.raises(ValueError, match=match):
        AgingEvolution(mnasnet, {"reward": {"target_ms": 1.0}, "aging": opts}, None, np.random.default_rng(0))
