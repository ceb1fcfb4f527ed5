"""Pareto dominance and hypervolume in minimization form (Deb et al., 2002, NSGA-II; Zitzler & Thiele, 1998).

Every objective is minimized: a maximized quantity such as accuracy enters negated. The
non-dominated set is taken over an archive of every evaluation, as DEAP's ``tools.ParetoFront``
does, not over the last population. With one objective the non-dominated set is the best
point(s) and the hypervolume their distance to the reference; ``hypervolume_2d`` is exact (a sweep
over the sorted front); more objectives go through pymoo's ``pymoo.indicators.hv.HV``. ``TrueFront`` is the exact
Pareto set of a problem that lists every architecture, with the share of it a search recovered
and the inverted generational distance (IGD) of a search's Pareto set to it.
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np


def _as_points(points) -> np.ndarray:
    p = np.asarray(points, dtype=float)
    if p.ndim != 2:
        p = p.reshape(len(p), -1) if p.size else np.zeros((0, 1))
    if np.isnan(p).any():
        raise ValueError("objective values contain NaN")
    return p


def dominates(a, b) -> bool:
    """``a`` is no worse than ``b`` in every objective and better in at least one."""
    a, b = np.asarray(a, float), np.asarray(b, float)
    return bool(np.all(a <= b) and np.any(a < b))


def non_dominated(points) -> np.ndarray:
    """Boolean mask of the points no other point dominates (duplicates are all kept).

    Two objectives: one sort and a sweep, O(n log n). More: pairwise, O(n x front)."""
    p = _as_points(points)
    n = len(p)
    if n > 1 and p.shape[1] == 2:
        return _non_dominated_2d(p)
    mask = np.ones(n, dtype=bool)
    for i in range(n):
        if not mask[i]:
            continue
        others = p[mask]
        dominated = np.all(others <= p[i], axis=1) & np.any(others < p[i], axis=1)
        if dominated.any():
            mask[i] = False
            continue
        dominates_them = np.all(p[i] <= p, axis=1) & np.any(p[i] < p, axis=1)
        mask &= ~dominates_them
    return mask


def _non_dominated_2d(p: np.ndarray) -> np.ndarray:
    """Sorted by (f0, f1), a point is non-dominated iff its f1 is its f0-group's least and below
    every f1 of the groups before it."""
    order = np.lexsort((p[:, 1], p[:, 0]))
    f0, f1 = p[order, 0], p[order, 1]
    new_group = np.r_[True, f0[1:] != f0[:-1]]
    start = np.maximum.accumulate(np.where(new_group, np.arange(len(f0)), 0))
    running = np.minimum.accumulate(f1)
    before = running[np.maximum(start - 1, 0)]
    mask = np.zeros(len(p), dtype=bool)
    mask[order] = (f1 == f1[start]) & ((start == 0) | (f1 < before))
    return mask


def hypervolume_2d(points, ref) -> float:
    """Exact area dominated by ``points`` and bounded by ``ref`` (both objectives minimized)."""
    p = _as_points(points)
    ref = np.asarray(ref, dtype=float)
    if ref.shape != (2,):
        raise ValueError(f"reference point {ref.tolist()} must have 2 coordinates")
    if p.size == 0:
        return 0.0
    if p.shape[1] != 2:
        raise ValueError(f"hypervolume_2d needs 2 objectives, got {p.shape[1]}")
    p = p[np.all(p < ref, axis=1)]
    if not len(p):
        return 0.0
    p = p[non_dominated(p)]
    p = p[np.lexsort((p[:, 1], p[:, 0]))]
    # the slab of each point down to the lowest f1 before it, summed in order
    x, y = p[:, 0], p[:, 1]
    prev_y = np.minimum.accumulate(np.concatenate(([ref[1]], y[:-1])))
    area = 0.0
    for slab in ((ref[0] - x) * np.maximum(prev_y - y, 0.0)).tolist():
        area += slab
    return float(area)


def hypervolume(points, ref) -> float:
    """Hypervolume for any number of objectives: for one, the distance from the best point to ``ref``
    (0 when none is below it); for two, the exact sweep; beyond, pymoo's HV indicator."""
    p = _as_points(points)
    ref = np.asarray(ref, dtype=float)
    if p.size and p.shape[1] != len(ref):
        raise ValueError(f"points have {p.shape[1]} objectives, reference point {ref.tolist()} has {len(ref)}")
    if len(ref) == 1:
        return max(0.0, float(ref[0] - p[:, 0].min())) if len(p) else 0.0
    if len(ref) == 2:
        return hypervolume_2d(p, ref)
    p = p[np.all(p < ref, axis=1)] if p.size else p
    if not len(p):
        return 0.0
    from pymoo.indicators.hv import HV

    return float(HV(ref_point=ref)(p))


def reference_warning(front_points, ref, names=None) -> str | None:
    """Why a hypervolume against ``ref`` misses part of the front, or None when it misses nothing.

    A point adds to the hypervolume only when it is strictly better than ``ref`` in every
    objective (minimization form: maximized objectives negated, as for ``hypervolume``). When
    no member of the front is, the hypervolume is 0 whatever the front; when some are not, they
    add nothing. ``names`` labels the objectives in the message (default ``f0``, ``f1``, ...).
    """
    p = _as_points(front_points)
    ref = np.asarray(ref, dtype=float)
    if not p.size:
        return None
    if p.shape[1] != len(ref):
        raise ValueError(f"points have {p.shape[1]} objectives, reference point {ref.tolist()} has {len(ref)}")
    names = list(names) if names is not None else [f"f{j}" for j in range(len(ref))]
    outside = ~np.all(p < ref, axis=1)
    if not outside.any():
        return None
    per_objective = ", ".join(f"{names[j]}: {int(np.sum(p[:, j] >= ref[j]))}"
                              for j in range(len(ref)) if np.any(p[:, j] >= ref[j]))
    n, k = len(p), int(outside.sum())
    why = (f"{k} of {n} Pareto members are not better than the reference point in every objective "
           f"(members at or beyond it per objective: {per_objective})")
    if k == n:
        return f"hypervolume is 0: {why}; move the reference beyond the front's worst values"
    return f"the hypervolume leaves out {why}; they add nothing to it"


@dataclass(frozen=True)
class TrueFront:
    """The exact Pareto set of a problem whose every architecture is known (a tabular benchmark).

    ``names``: the objectives; ``keys``: the genome keys of the members, shape (n,); ``points``:
    their minimization vectors (maximized objectives negated), shape (n, len(names)); ``population``:
    how many architectures it was taken over (after any constraint). Members with equal vectors are
    all kept, as ``non_dominated`` keeps them."""

    names: tuple[str, ...]
    keys: tuple[str, ...]
    points: np.ndarray
    population: int

    @classmethod
    def of(cls, names, keys, points) -> "TrueFront":
        """The non-dominated members of ``points`` (N, m), in minimization form, with their ``keys`` (N,)."""
        p = _as_points(points)
        if len(keys) != len(p):
            raise ValueError(f"{len(keys)} keys for {len(p)} points")
        mask = non_dominated(p) if len(p) else np.zeros(0, dtype=bool)
        return cls(tuple(names), tuple(k for k, m in zip(keys, mask.tolist()) if m), p[mask], len(p))

    @property
    def size(self) -> int:
        return len(self.keys)

    def recovered(self, keys) -> int:
        """How many members are among ``keys`` (e.g. every genome a search evaluated)."""
        found = set(keys)
        return sum(1 for k in self.keys if k in found)

    def igd(self, points) -> float | None:
        """Inverted generational distance of ``points`` (a search's Pareto set, (n, m), minimization
        form) to this front: the mean, over members, of the Euclidean distance to the nearest point,
        each objective scaled to [0, 1] by the front's own ideal and nadir (pymoo's ``IGD`` with
        ``zero_to_one=True``; Coello & Reyes Sierra, 2004). 0 when every member is found; None
        without points."""
        p = _as_points(points)
        if not len(p) or not self.size:
            return None
        from pymoo.indicators.igd import IGD

        return float(IGD(self.points, zero_to_one=True)(p))

    def hypervolume(self, ref) -> float:
        """The front's hypervolume against ``ref`` (minimization form): the most any search can reach."""
        return hypervolume(self.points, ref)


IGD_NORMALIZATION = "each objective scaled to [0, 1] by the true front's ideal and nadir (pymoo IGD, zero_to_one)"
