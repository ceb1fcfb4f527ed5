"""The archive of a search: the non-dominated set of every evaluation, kept incrementally.

DEAP's ``tools.ParetoFront`` keeps every non-dominated individual ever seen; here a record
dominated once stays dominated, so the front of (front + new) is the front of all records and a
generation costs in proportion to the front, not to the archive (Deb et al., 2002, for the
dominance relation; hypervolume from the current front).
"""
from __future__ import annotations

import numpy as np

from ..algorithms.objectives import Objectives
from ..analysis.pareto import hypervolume, non_dominated


class Archive:
    """The non-dominated set of every evaluation, updated with each generation's new records.

    ``front``: the feasible non-dominated records; ``points``: their minimization vectors
    (front size, objectives)."""

    def __init__(self, objectives: Objectives):
        self.objectives = objectives
        self.front: list[dict] = []
        self._F = np.zeros((0, objectives.n_obj))
        self._hv: float | None = None
        self._reference = objectives.reference_vector()

    def add(self, records) -> None:
        if not records:
            return
        M, feasible = self.objectives.matrix(records)
        if not feasible.any():
            return
        new = [r for r, f in zip(records, feasible) if f]
        F = np.vstack([self._F, M[feasible]])
        pool = self.front + new
        keep = non_dominated(F)
        n = len(self.front)
        if keep[:n].all() and not keep[n:].any():
            return  # every new point dominated: the front (and its hypervolume) stand
        self.front = [r for r, k in zip(pool, keep) if k]
        self._F = F[keep]
        self._hv = None

    def hypervolume(self) -> float | None:
        """Of the front, recomputed only when the front changed."""
        if self._reference is None:
            return None
        if self._hv is None:
            self._hv = hypervolume(self._F, self._reference) if len(self._F) else 0.0
        return self._hv

    def sorted(self) -> list[dict]:
        last = self.objectives.names[-1]
        return sorted(self.front, key=lambda r: (r[last], r["key"]))
