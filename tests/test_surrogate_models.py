"""The surrogate's accuracy models: shapes, determinism under a random_state, adaptive switching, and a
seeded replay of a small surrogate search with the default model."""
import numpy as np
import pytest

from evo_nas.algorithms.surrogate import SurrogateKeys
from evo_nas.algorithms.surrogate_model import ADAPTIVE, MODELS, fit_model, kendall_tau, select_model
from evo_nas.engine.jsonl import read_jsonl
from evo_nas.engine.run import RunDir
from evo_nas.engine.runner import run_search


def _data(n=120, d=30, seed=0):
    """A target with a pairwise interaction no linear model captures, on binary features."""
    rng = np.random.default_rng(seed)
    Z = (rng.random((n, d)) < 0.5).astype(float)
    w = rng.normal(size=d)
    y = Z @ w + 2.0 * Z[:, 0] * Z[:, 1] - 2.0 * Z[:, 2] * Z[:, 3] + 0.05 * rng.normal(size=n)
    return Z, y


@pytest.mark.parametrize("kind", [k for k in MODELS if k != "gp"])
def test_each_model_fits_and_predicts_mean_and_std_of_the_right_shape(kind):
    Z, y = _data()
    model = fit_model(kind, Z[:90], y[:90], random_state=4)
    mean, std = model.predict(Z[90:])
    assert mean.shape == std.shape == (30,)
    assert np.isfinite(mean).all() and (std >= 0).all()
    assert kendall_tau(mean, y[90:]) > 0.6  # ranks unseen points far better than chance
    assert model.kind in MODELS and model.kind != "adaptive"


@pytest.mark.parametrize("kind", ["mlp", "gbm", "kernel_ridge", "adaptive"])
def test_a_model_is_the_same_under_the_same_random_state(kind):
    Z, y = _data(seed=1)
    a = fit_model(kind, Z[:90], y[:90], random_state=11).predict(Z[90:])
    b = fit_model(kind, Z[:90], y[:90], random_state=11).predict(Z[90:])
    assert np.array_equal(a[0], b[0]) and np.array_equal(a[1], b[1])


def test_an_ensemble_takes_its_members_seeds_from_the_random_state():
    Z, y = _data(seed=2)
    a = fit_model("mlp", Z[:90], y[:90], random_state=1)
    b = fit_model("mlp", Z[:90], y[:90], random_state=2)
    assert len(a.estimators) == 5
    assert not np.array_equal(a.predict(Z[90:])[0], b.predict(Z[90:])[0])
    assert (a.predict(Z[90:])[1] > 0).all()  # members disagree: a spread to be optimistic about


def test_the_mlp_ensemble_learns_an_interaction_the_linear_model_cannot():
    Z, y = _data(n=400, d=12, seed=3)
    y = 3.0 * Z[:, 0] * Z[:, 1] - 3.0 * Z[:, 0] * Z[:, 2] + 0.2 * Z[:, 3]
    err = {k: np.abs(fit_model(k, Z[:300], y[:300], 0).predict(Z[300:])[0] - y[300:]).mean()
           for k in ("bayes_ridge", "mlp")}
    assert err["mlp"] < 0.5 * err["bayes_ridge"]


def test_adaptive_switching_picks_the_best_cross_validated_model():
    Z, y = _data(n=150, d=10, seed=5)
    linear = Z @ np.arange(1.0, 11.0)
    assert select_model(Z, linear, random_state=0) == "bayes_ridge"  # exactly linear: the linear model
    interact = 3.0 * Z[:, 0] * Z[:, 1] - 3.0 * Z[:, 2] * Z[:, 3]
    assert select_model(Z, interact, random_state=0) != "bayes_ridge"
    assert select_model(Z[:1], interact[:1], random_state=0) == ADAPTIVE[0]


def test_unknown_models_are_named():
    Z, y = _data()
    with pytest.raises(ValueError, match="model = 'forest'"):
        fit_model("forest", Z, y, 0)
    assert SurrogateKeys().model in MODELS


def test_a_surrogate_search_with_the_default_model_replays_to_the_same_run(tmp_path):
    """Kill after 16 networks, lose the checkpoints, resume to 24: the seeded replay refits the same
    models and asks the same networks as a straight run."""
    config = {"seed": 7, "space": {"name": "mnasnet", "resolution": 32, "num_classes": 10},
              "problem": {"name": "synthetic", "latency": "serial"},
              "search": {"algorithm": "surrogate", "max_evaluations": 24, "cache": False, "max_stall": 100,
                         "surrogate": {"initial": 8, "batch": 4, "inner_pop": 8, "inner_generations": 3}},
              "objectives": {"reference": {"val_acc": 0.5, "latency_ms": 10.0}}}
    straight = run_search(config, tmp_path / "straight", quiet=True)
    short = {**config, "search": {**config["search"], "max_evaluations": 16}}
    run_search(short, tmp_path / "replayed", quiet=True)
    for name in ("checkpoint.pkl", "checkpoint.prev.pkl", "checkpoint.json", "checkpoint.prev.json"):
        (tmp_path / "replayed" / name).unlink(missing_ok=True)
    resumed = run_search(config, tmp_path / "replayed", resume=True, quiet=True)
    keys = lambda p: [r["key"] for r in RunDir(p).evaluations()]  # noqa: E731
    assert len(keys(tmp_path / "straight")) == 24
    assert keys(tmp_path / "replayed") == keys(tmp_path / "straight")
    assert [m["key"] for m in resumed.front] == [m["key"] for m in straight.front]
    report = lambda p: read_jsonl(p / "surrogate.jsonl")  # noqa: E731
    assert report(tmp_path / "replayed") == report(tmp_path / "straight")
