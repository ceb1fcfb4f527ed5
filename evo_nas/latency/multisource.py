"""A new device's latency from several known devices: sources chosen by forward selection on N measured networks.

HELP (Lee et al., NeurIPS 2021, arXiv 2106.08630, section 3) describes a new device by how it
relates to reference devices. This module does the transparent version: the features are other
devices' measured latencies of the same networks (and a known per-layer table's sums, or a
cell's operation counts), and the model is the non-negative linear model of
``evo_nas.latency.fewshot``,

    latency_ms = sum_j w_j x feature_j + b,     w_j >= 0,

fitted on the relative error (``scipy.optimize.nnls``). The features are chosen greedily
(forward selection): start from none, add the feature whose addition gives the lowest
cross-validated MAPE on the N networks (``fewshot.cv_mape``: leave-one-out up to 20 networks,
10 folds above), stop when no feature lowers it by more than ``MIN_GAIN`` (relative), after
``MAX_FEATURES``, or when the model would have as many unknowns as networks. Only the N measured
networks of the new device are used; ``sources(..., strict=True)`` also leaves out the same
hardware at other batch sizes.
"""
from __future__ import annotations

import re

import numpy as np

from .fewshot import FewShotModel, _design, _solve, cv_mape

MIN_GAIN = 0.02
MAX_FEATURES = 6
_BATCH = re.compile(r"_(1|32|64|256)$")


def hardware(device: str) -> str:
    """The hardware of a device column: its name without a batch-size suffix (``titan_rtx_32`` -> ``titan_rtx``)."""
    return _BATCH.sub("", device)


def sources(target: str, devices, strict: bool = False) -> list[str]:
    """The devices other than ``target``; ``strict``: also none on ``target``'s hardware (see ``hardware``)."""
    return [d for d in devices if d != target and not (strict and hardware(d) == hardware(target))]


def forward_select(features: dict[str, np.ndarray], y: np.ndarray, pool, max_features: int = MAX_FEATURES,
                   min_gain: float = MIN_GAIN) -> tuple[tuple[str, ...], list[float]]:
    """Greedy forward selection of feature names from ``pool`` by cross-validated MAPE (%) of the
    non-negative fit: (chosen names in order, CV MAPE after each step). ``ValueError`` for an empty pool."""
    pool = [p for p in pool if p in features]
    if not pool:
        raise ValueError("forward selection needs at least one known feature (none of the pool is given)")
    chosen: list[str] = []
    history: list[float] = []
    best = np.inf
    while len(chosen) < max_features and len(chosen) + 3 < len(y):
        trials = [(cv_mape(_design(features, [*chosen, p]), y), p) for p in pool if p not in chosen]
        if not trials:
            break
        cv, p = min(trials)
        if cv >= best * (1.0 - min_gain) or best - cv < 1e-9:  # the second: an exact fit already
            break
        chosen.append(p)
        history.append(cv)
        best = cv
    return tuple(chosen), history


def fit(features: dict[str, np.ndarray], measured_ms, pool=None, max_features: int = MAX_FEATURES,
        min_gain: float = MIN_GAIN) -> FewShotModel:
    """The forward-selected non-negative model (``model = "forward"``) on N measured networks.

    ``features``: name -> (N,) array over the measured networks (other devices' latencies in ms,
    table sums, operation counts); ``pool``: the names it may choose from (default: all);
    ``measured_ms``: (N,) latencies (ms, > 0). ``ValueError`` for fewer than 4 networks or a
    non-positive latency.
    """
    y = np.asarray(measured_ms, dtype=float)
    if y.ndim != 1 or len(y) < 4:
        raise ValueError(f"a multi-source latency fit needs at least 4 measured networks, got {y.size}")
    if not np.all(np.isfinite(y)) or np.any(y <= 0):
        raise ValueError(f"measured latencies must be positive numbers (got {y[~(np.isfinite(y) & (y > 0))][0]!r})")
    names, history = forward_select(features, y, list(features) if pool is None else pool, max_features, min_gain)
    A = _design(features, names)
    w = _solve(A, y)
    pred = A @ w
    return FewShotModel(features=names, weights=tuple(float(v) for v in w[:-2]), intercept=float(w[-2] - w[-1]),
                        model="forward", n=len(y), fit_mape_pct=float(np.mean(np.abs(pred - y) / y) * 100),
                        cv_mape_pct={f"forward:{k + 1}": round(v, 4) for k, v in enumerate(history)})


__all__ = ["hardware", "sources", "forward_select", "fit", "MIN_GAIN", "MAX_FEATURES"]
