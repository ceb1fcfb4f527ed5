"""A run's Pareto set: the non-dominated records over every evaluation, as CSV rows, their hypervolume, and
how they compare with the exact Pareto front where the problem knows it (``Problem.true_front``)."""
from __future__ import annotations

import csv
import io

import numpy as np

from ..algorithms.objectives import Objectives
from ..analysis.pareto import IGD_NORMALIZATION, TrueFront, hypervolume, non_dominated

PARETO_COLUMNS = ("latency_ms", "params_m", "macs_m", "generation", "key")


def front_csv(front: list[dict], objectives: Objectives) -> str:
    cols = list(dict.fromkeys([*objectives.names, *PARETO_COLUMNS]))
    buf = io.StringIO()
    w = csv.writer(buf, lineterminator="\n")
    w.writerow(cols)
    for r in front:
        w.writerow([r.get(c) for c in cols])
    return buf.getvalue()


def pareto_front(records: list[dict], objectives: Objectives) -> list[dict]:
    ok = [r for r in records if objectives.feasible(r)]
    seen, unique = set(), []
    for r in ok:
        if r["key"] not in seen:
            seen.add(r["key"])
            unique.append(r)
    if not unique:
        return []
    F = np.array([objectives.vector(r) for r in unique])
    front = [r for r, m in zip(unique, non_dominated(F)) if m]
    last = objectives.names[-1]
    return sorted(front, key=lambda r: (r[last], r["key"]))


def front_hypervolume(front: list[dict], objectives: Objectives) -> float | None:
    ref = objectives.reference_vector()
    if ref is None:
        return None
    if not front:
        return 0.0
    return hypervolume(np.array([objectives.vector(r) for r in front]), ref)


def true_front_metrics(true: TrueFront, front: list[dict], evaluated_keys, objectives: Objectives) -> dict:
    """A search scored against the exact Pareto front ``true`` (over the same objectives, in order).

    ``front``: the search's Pareto set; ``evaluated_keys``: every genome it evaluated successfully.
    Returns ``size`` (members of the true front), ``population`` (architectures it was taken over),
    ``recovered`` (members evaluated) and ``recovered_fraction``, ``igd`` of the front to it
    (normalized as ``IGD_NORMALIZATION`` says; None for an empty front) and, with an
    ``[objectives] reference``, the true front's ``hypervolume`` and the search's share of it."""
    if tuple(true.names) != tuple(objectives.names):
        raise ValueError(f"true front over {list(true.names)}, the search's objectives are {list(objectives.names)}")
    found = true.recovered(evaluated_keys)
    points = np.array([objectives.vector(r) for r in front]).reshape(len(front), objectives.n_obj)
    out = {"size": true.size, "population": true.population, "recovered": found,
           "recovered_fraction": found / true.size if true.size else None, "igd": true.igd(points),
           "igd_normalization": IGD_NORMALIZATION}
    ref = objectives.reference_vector()
    if ref is not None:
        best = true.hypervolume(ref)
        out["hypervolume"] = best
        out["hypervolume_ratio"] = front_hypervolume(front, objectives) / best if best > 0 else None
    return out


def true_front_text(metrics: dict) -> str:
    """``true_front_metrics`` as one line, as ``evo-nas search`` and ``evo-nas pareto`` print it."""
    igd = "-" if metrics["igd"] is None else f"{metrics['igd']:.4g}"
    share = "" if metrics.get("hypervolume_ratio") is None else \
        f"  hypervolume {100 * metrics['hypervolume_ratio']:.2f}% of the true front's {metrics['hypervolume']:.6g}"
    return (f"true Pareto front: {metrics['recovered']} of its {metrics['size']} architectures recovered "
            f"({100 * metrics['recovered_fraction']:.1f}%)  IGD: {igd} (normalized){share}")
