"""Where the surrogate's accuracy model fails on ofa-mbv3: its prediction of the best-known front's networks.

A surrogate run (``evo_nas.algorithms.surrogate``, ask/tell without the engine, ``local_share`` 0 by
default so the run is the model's alone) evaluates ``budget`` networks; each model of
``surrogate_model.MODELS`` is then fitted on them, as a round would, and predicts the networks of
the best-known front (``experiments/best_known_ofa.json``). Reported per latency band: the mean of
(predicted - true) top-1 and the mean predictive standard deviation, and overall the share of the
best-known networks predicted above the run's own best measured network at their latency or below
(those a greedy infill on the model could propose), plus the largest network of the space.
"""
from __future__ import annotations

import json

import numpy as np

from ..algorithms.objectives import Objectives
from ..algorithms.surrogate import SurrogateStrategy
from ..algorithms.surrogate_model import Encoding, fit_model
from .sample_efficiency_report import BEST_KNOWN

BANDS_MS = ((0, 15), (15, 25), (25, 40), (40, 60), (60, 100))


def diagnose(problem, seed: int = 0, budget: int = 300, models=("bayes_ridge", "gp", "kernel_ridge", "mlp", "gbm"),
             surrogate: dict | None = None) -> dict:
    """The study on ``problem`` (an ``ofa-mbv3`` problem): one seeded run of ``budget`` networks, then
    each of ``models`` judged on the best-known front. Returns a JSON-ready dict (top-1 as fractions)."""
    objectives = Objectives.from_dict({"names": ["top1", "latency_ms"],
                                       "reference": {"top1": 0.70, "latency_ms": 100.0}}, problem)
    keys = {"local_share": 0.0, **(surrogate or {})}
    strategy = SurrogateStrategy(problem.space, {"surrogate": keys}, objectives, np.random.default_rng(seed), problem)
    while len(strategy.X) < budget:
        F = problem.evaluate_array(strategy.ask_array())
        strategy.tell_array([{"status": "ok", "top1": float(a), "latency_ms": float(t)} for a, t in F])
    X, F = strategy.X[:budget], strategy.F[:budget]  # F: (-top-1, ms)
    space, encode = problem.space, Encoding(problem.space)
    best = json.loads(BEST_KNOWN.read_text())["front"]
    XB = np.array([space.parse(b["key"]).genes for b in best])
    FB = problem.evaluate_array(XB)  # (top-1, ms)
    order = np.argsort(F[:, 1], kind="stable")
    idx = np.maximum(np.searchsorted(F[order, 1], FB[:, 1], side="right") - 1, 0)
    run_best = order[np.array([np.argmin(F[order[:i + 1], 0]) for i in idx])]  # the run's best at or below
    largest = problem.evaluate_array(space.canonical_array((np.asarray(space.cardinalities) - 1)[None]))[0]
    top = int(np.argmax(FB[:, 0]))
    out = {"seed": seed, "budget": budget, "surrogate": keys, "best_known_networks": len(best),
           "largest_network": {"top1": float(largest[0]), "latency_ms": float(largest[1])},
           "best_known_max": {"top1": float(FB[top, 0]), "latency_ms": float(FB[top, 1])}, "models": {}}
    for kind in models:
        m = fit_model(kind, encode(X), F[:, 0], seed)
        mu, sd = m.predict(encode(XB))
        pred, ours = -mu, -m.predict(encode(X[run_best]))[0]
        bands = []
        for lo, hi in BANDS_MS:
            s = (FB[:, 1] >= lo) & (FB[:, 1] < hi)
            if s.any():
                bands.append({"ms": [lo, hi], "networks": int(s.sum()), "error": float((pred[s] - FB[s, 0]).mean()),
                              "std": float(sd[s].mean())})
        out["models"][kind] = {"bands": bands, "predicted_above_run_best": float(np.mean(pred > ours)),
                               "best_known_max_predicted": float(pred[top])}
    return out


def report(r: dict) -> str:
    """The study's text: per model, the error by latency band in top-1 points."""
    top, largest = r["best_known_max"], r["largest_network"]
    lines = [(f"Surrogate diagnosis on ofa-mbv3: seed {r['seed']}, {r['budget']} networks evaluated, "
              f"{r['best_known_networks']} best-known networks predicted (error = predicted - true, top-1 points)"),
             (f"best-known maximum: {100 * top['top1']:.2f}% at {top['latency_ms']:.1f} ms; the largest network "
              f"of the space: {100 * largest['top1']:.2f}% at {largest['latency_ms']:.1f} ms"), ""]
    for kind, m in r["models"].items():
        bands = ", ".join(f"{b['ms'][0]}-{b['ms'][1]} ms {100 * b['error']:+.2f} (sd {100 * b['std']:.2f})"
                          for b in m["bands"])
        lines.append(f"{kind:<13} {bands}; best-known maximum predicted {100 * m['best_known_max_predicted']:.2f}%; "
                     f"predicted above the run's best: {100 * m['predicted_above_run_best']:.0f}%")
    return "\n".join(lines)


__all__ = ["diagnose", "report", "BANDS_MS"]
