"""A run's Pareto set: the non-dominated records over every evaluation, as CSV rows, and their hypervolume."""
from __future__ import annotations

import csv
import io

import numpy as np

from ..pareto import hypervolume, non_dominated
from .objectives import Objectives

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
