"""MnasNet's RL controller: the policy gradient finds a known optimum; seeded, resumable."""
import pickle

import numpy as np
import pytest
import torch

from evo_nas.algorithms.rl import Controller, PolicyGradient, RLConfig, RLStrategy, surrogate

CARDS = (3,) * 8
OPTIMUM = np.array([i % 3 for i in range(8)])


@pytest.mark.parametrize("method", ["ppo", "reinforce"])
def test_policy_gradient_reaches_known_optimum(method):
    """Reward = fraction of decisions equal to a fixed optimum; uniform policy scores 1/3."""
    pg = PolicyGradient(CARDS, RLConfig(method=method, lr=0.01, batch_size=8, hidden=32), seed=0)
    a, _ = pg.sample(256)
    before = (a == OPTIMUM).mean()
    for _ in range(25):
        a, logp = pg.sample(8)
        pg.update(a, logp, (a == OPTIMUM).mean(1))
    a, _ = pg.sample(256)
    after = (a == OPTIMUM).mean()
    assert before < 0.45
    assert after > 0.85, (before, after)


def test_controller_scores_its_own_samples():
    g = torch.Generator().manual_seed(1)
    c = Controller((4, 2, 3), hidden=16, generator=g)
    with torch.no_grad():
        actions, logp, ent = c(5, generator=g)
        _, logp2, ent2 = c(actions=actions)
    assert actions.shape == (5, 3)
    assert all(0 <= actions[:, i].min() and actions[:, i].max() < k for i, k in enumerate((4, 2, 3)))
    torch.testing.assert_close(logp, logp2)
    torch.testing.assert_close(ent, ent2)
    assert torch.all(logp < 0)


def test_ppo_surrogate_clips_the_ratio():
    """No gradient once the ratio leaves [1 - e, 1 + e] in the advantage's direction; REINFORCE always has one."""
    old = torch.zeros(4)
    logp = torch.log(torch.tensor([1.5, 0.5, 1.1, 0.9])).requires_grad_()
    adv = torch.tensor([1.0, -1.0, 1.0, -1.0])
    surrogate(logp, old, adv, "ppo", 0.2).sum().backward()
    torch.testing.assert_close(logp.grad, torch.tensor([0.0, 0.0, 1.1, -0.9]))
    logp.grad = None
    surrogate(logp, old, adv, "reinforce").sum().backward()
    torch.testing.assert_close(logp.grad, adv)


def synthetic_results(genomes, optimum, target_ms=10.0):
    return [{"key": g.key, "status": "ok", "val_acc": float((np.array(g.genes) == optimum).mean()),
             "latency_ms": target_ms} for g in genomes]


def rl_search(lr=0.01):
    return {"rl": {"batch_size": 4, "hidden": 16, "lr": lr, "ppo_epochs": 2}, "reward": {"target_ms": 10.0}}


def test_strategy_is_seeded_and_resumes_exactly(mnasnet):
    optimum = np.array([i % c for i, c in enumerate(mnasnet.cardinalities)])

    def run(strategy, steps):
        keys = []
        for _ in range(steps):
            gs = strategy.ask()
            strategy.tell(gs, synthetic_results(gs, optimum))
            keys += [g.key for g in gs]
        return keys

    a = RLStrategy(mnasnet, rl_search(), None, np.random.default_rng(7))
    full = run(a, 6)
    b = RLStrategy(mnasnet, rl_search(), None, np.random.default_rng(7))
    first = run(b, 3)
    state = pickle.loads(pickle.dumps(b.state_dict()))
    c = RLStrategy(mnasnet, rl_search(), None, np.random.default_rng(999))
    c.load_state_dict(state)
    assert first + run(c, 3) == full
    d = RLStrategy(mnasnet, rl_search(), None, np.random.default_rng(8))
    assert run(d, 6) != full


def test_failed_evaluations_earn_zero_and_unknown_genomes_are_refused(mnasnet):
    s = RLStrategy(mnasnet, rl_search(), None, np.random.default_rng(0))
    gs = s.ask()
    results = [{"status": "failed", "error": "boom", "val_acc": None, "latency_ms": None} for _ in gs]
    s.tell(gs, results)
    assert s.history[-1]["reward_mean"] == 0.0
    with pytest.raises(ValueError, match="was not asked"):
        s.tell([mnasnet.sample(np.random.default_rng(1))], results[:1])


@pytest.mark.parametrize("bad, match", [({"rl": {"method": "a2c"}, "reward": {"target_ms": 1}}, "method"),
                                        ({"rl": {"lrr": 1}, "reward": {"target_ms": 1}}, "lrr"),
                                        ({"rl": {}}, "target_ms")])
def test_bad_config_names_the_key(mnasnet, bad, match):
    with pytest.raises(ValueError, match=match):
        RLStrategy(mnasnet, bad, None, np.random.default_rng(0))


@pytest.mark.parametrize("d, message", [
    ({"baseline_decay": 1.0}, "[search.rl] baseline_decay = 1.0 must be a number in [0, 1)"),
    ({"batch_size": True}, "[search.rl] batch_size = true must be an int in [1, 100000] (sampled models per update)"),
    ({"method": "a2c"}, "[search.rl] method = 'a2c' must be one of ppo, reinforce"),
    ({"lrr": 0.1}, "[search.rl] unknown key 'lrr' (did you mean 'lr'?)"),
])
def test_a_bad_rl_key_is_one_line_naming_key_value_and_allowed_values(d, message):
    with pytest.raises(ValueError) as e:
        RLConfig.from_dict(d)
    assert str(e.value) == message
    assert RLConfig.from_dict({"lr": 1}).lr == 1


def test_sampling_and_scoring_agree_on_a_large_mixed_space():
    """Sampling steps the LSTM's equations; scoring runs nn.LSTM over the sequence: same log-probabilities."""
    cards = (3,) * 45 + (5,) + (2, 4, 1)
    for temperature, tanh in ((1.0, None), (5.0, 2.5)):
        g = torch.Generator().manual_seed(3)
        c = Controller(cards, hidden=32, temperature=temperature, tanh_constant=tanh, generator=g)
        with torch.no_grad():
            actions, logp, ent = c(400, generator=g)
            _, logp2, ent2 = c(actions=actions)
        torch.testing.assert_close(logp, logp2, rtol=1e-5, atol=1e-5)
        torch.testing.assert_close(ent, ent2, rtol=1e-5, atol=1e-5)
        assert all(actions[:, i].max() < k for i, k in enumerate(cards))  # padded choices are never drawn
        assert all(len(torch.unique(actions[:, i])) == k for i, k in enumerate(cards))
        assert torch.all(ent > 0) and torch.all(ent <= sum(np.log(k) for k in cards) + 1e-4)


def test_checkpoint_size_does_not_grow_with_training(mnasnet):
    from evo_nas.algorithms.rl import HISTORY

    optimum = np.array([i % c for i, c in enumerate(mnasnet.cardinalities)])
    s = RLStrategy(mnasnet, rl_search(), None, np.random.default_rng(0))
    sizes = []
    for step in range(HISTORY + 60):
        gs = s.ask()
        s.tell(gs, synthetic_results(gs, optimum))
        if step in (HISTORY + 10, HISTORY + 59):
            sizes.append(len(pickle.dumps(s.state_dict())))
    assert len(s.history) == HISTORY and abs(sizes[0] - sizes[1]) < 100  # integers may pickle a byte longer


def test_a_checkpoint_of_another_controller_is_refused(mnasnet):
    s = RLStrategy(mnasnet, rl_search(), None, np.random.default_rng(0))
    state = s.state_dict()
    state["pg"]["controller"] = {"cell.weight_ih": torch.zeros(64, 16), **state["pg"]["controller"]}
    with pytest.raises(ValueError, match="does not fit this controller"):
        RLStrategy(mnasnet, rl_search(), None, np.random.default_rng(0)).load_state_dict(state)
