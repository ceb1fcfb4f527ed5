"""Hypervolume curves, fronts and best accuracies over plain evaluation records (two objectives), and their
scores against an exact Pareto front."""
from __future__ import annotations

import numpy as np

from ..algorithms.objectives import FAILED_PENALTY, Objectives
from ..analysis.pareto import non_dominated


def unique_in_order(records: list[dict]) -> list[dict]:
    """The first record of each architecture key, in evaluation order."""
    seen, out = set(), []
    for r in records:
        if r["key"] not in seen:
            seen.add(r["key"])
            out.append(r)
    return out


def objective_matrix(records: list[dict], objectives: Objectives) -> np.ndarray:
    """The minimization vectors of ``records``, shape (N, n_obj); ``FAILED_PENALTY`` rows for failures."""
    return objectives.matrix(records)[0]


def reference_point(all_records: list[dict], objectives: Objectives) -> np.ndarray:
    """``[objectives] reference`` if given, else 10% beyond the worst successful value of each objective."""
    ref = objectives.reference_vector()
    if ref is not None:
        return ref
    f = objective_matrix(all_records, objectives)
    f = f[np.all(f < FAILED_PENALTY, axis=1)]
    if not len(f):
        raise ValueError("no successful evaluation to place a hypervolume reference point")
    lo, hi = f.min(0), f.max(0)
    return hi + 0.1 * np.maximum(hi - lo, 1e-12)


def ideal_point(objectives: Objectives) -> np.ndarray:
    """The best conceivable value of each objective (accuracy 1, zero cost), for normalization."""
    return np.array([-1.0 if n in objectives.maximize else 0.0 for n in objectives.names])


def hv_curve_points(F, ref) -> np.ndarray:
    """Hypervolume (both objectives minimized) of the first n rows of ``F`` (N, 2), n = 1..N, bounded by ``ref``.

    One pass that keeps the non-dominated set sorted by the first objective (the second then
    strictly decreasing) and updates the area by what each new point adds: a point weakly
    dominated by the set (an equal point included) or not strictly better than ``ref`` in both
    objectives changes nothing; otherwise it removes the run of points it dominates, which are
    adjacent in that order, and only the strips of its neighbours change. O(N log N) for the
    searches here, against a re-sort of the front per point."""
    import bisect

    F = np.asarray(F, dtype=float).reshape(-1, 2)
    r0, r1 = float(ref[0]), float(ref[1])
    out = np.zeros(len(F))
    xs: list[float] = []
    ys: list[float] = []
    hv = 0.0
    inside = (F[:, 0] < r0) & (F[:, 1] < r1)
    for i, (a, b) in enumerate(F.tolist()):
        if inside[i]:
            j = bisect.bisect_right(xs, a)
            if not (j and ys[j - 1] <= b):
                k = bisect.bisect_left(xs, a)
                m = k
                while m < len(xs) and ys[m] >= b:
                    m += 1
                right = xs[m] if m < len(xs) else r0
                # old strips: left neighbour's (up to xs[k] or the removed run), then the removed points'
                old = 0.0
                if k:
                    old += ((xs[k] if k < len(xs) else r0) - xs[k - 1]) * (r1 - ys[k - 1])
                for q in range(k, m):
                    old += ((xs[q + 1] if q + 1 < len(xs) else r0) - xs[q]) * (r1 - ys[q])
                new = (right - a) * (r1 - b)
                if k:
                    new += (a - xs[k - 1]) * (r1 - ys[k - 1])
                hv += new - old
                xs[k:m] = [a]
                ys[k:m] = [b]
        out[i] = hv
    return out


def hv_curve(records: list[dict], objectives: Objectives, ref, ideal=None) -> np.ndarray:
    """Hypervolume of the first n unique evaluations, n = 1..len; divided by the ideal-to-ref box."""
    if objectives.n_obj != 2:
        raise ValueError(f"compare handles 2 objectives, got {list(objectives.names)}")
    ref = np.asarray(ref, float)
    scale = float(np.prod(ref - (ideal_point(objectives) if ideal is None else np.asarray(ideal, float))))
    return hv_curve_points(objective_matrix(unique_in_order(records), objectives), ref) / scale


def evals_to_reach(curve: np.ndarray, threshold: float) -> int | None:
    hit = np.nonzero(curve >= threshold)[0]
    return int(hit[0]) + 1 if len(hit) else None


def front_points(records: list[dict], objectives: Objectives) -> np.ndarray:
    """Natural-unit points of the non-dominated set of ``records`` (failed ones never enter)."""
    f = objective_matrix(unique_in_order(records), objectives)
    f = f[np.all(f < FAILED_PENALTY, axis=1)]
    if not len(f):
        return np.zeros((0, 2))
    f = f[non_dominated(f)]
    nat = np.array([[objectives.natural(p)[n] for n in objectives.names] for p in f])
    return nat[np.argsort(nat[:, 1 if objectives.names[0] in objectives.maximize else 0])]


def true_front_scores(records: list[dict], objectives: Objectives, true) -> tuple[int, float | None]:
    """(members of the exact front ``true``, an ``evo_nas.analysis.pareto.TrueFront``, among the successful
    ``records``; IGD of their Pareto set to it, None when none succeeded)."""
    ok = [r for r in records if r.get("status") == "ok"]
    f = objective_matrix(ok, objectives)
    f = f[np.all(f < FAILED_PENALTY, axis=1)]
    return true.recovered(r["key"] for r in ok), (true.igd(f[non_dominated(f)]) if len(f) else None)


def best_under(records: list[dict], accuracy: str, target_ms: float) -> float:
    """The best ``accuracy`` of the successful ``records`` with ``latency_ms <= target_ms``; NaN if none."""
    best = float("nan")
    for r in records:
        if r.get("status") == "ok" and r.get("latency_ms") is not None and r.get(accuracy) is not None \
                and r["latency_ms"] <= target_ms and not best >= r[accuracy]:
            best = float(r[accuracy])
    return best


__all__ = ["unique_in_order", "objective_matrix", "reference_point", "ideal_point", "hv_curve_points", "hv_curve",
           "evals_to_reach", "front_points", "true_front_scores", "best_under"]
