"""Which predicted networks to evaluate next: greedy hypervolume improvement over the measured front.

Hypervolume-based infill (Emmerich, Giannakoglou & Naujoks, IEEE TEC 2006; the batch version
picks greedily, as in Daulton et al., NeurIPS 2020, q-EHVI with point predictions) picks, one at
a time, the candidate whose predicted point adds the most hypervolume to the measured front plus
the picks so far. With one objective the improvement is how far a candidate passes the best value;
with two, one vectorized sum over the front's staircase; with more, pymoo's exact indicator per
candidate.
"""
from __future__ import annotations

import numpy as np

from ..analysis.pareto import hypervolume, non_dominated


def nondominated_rank(F) -> np.ndarray:
    """Non-dominated sorting rank of each row of the minimization matrix ``F`` (N, n_obj): 0 for the
    front, 1 for the front of the rest, ... (Deb et al., 2002), shape (N,)."""
    F = np.asarray(F, dtype=float)
    rank = np.full(len(F), -1, dtype=np.int64)
    left = np.arange(len(F))
    r = 0
    while len(left):
        mask = non_dominated(F[left])
        rank[left[mask]] = r
        left = left[~mask]
        r += 1
    return rank


def hvi_2d(front, C, ref) -> np.ndarray:
    """Hypervolume each row of ``C`` (N, 2) would add to ``front`` (M, 2), bounded by ``ref`` (2,);
    both objectives minimized. Shape (N,)."""
    C = np.asarray(C, dtype=float)
    ref = np.asarray(ref, dtype=float)
    P = np.asarray(front, dtype=float).reshape(-1, 2)
    P = P[np.all(P < ref, axis=1)]
    if len(P):
        P = P[non_dominated(P)]
        P = P[np.lexsort((P[:, 1], P[:, 0]))]
    # the region the front leaves free at abscissa t is below s(t), the lowest f1 of the points left of t
    left = np.concatenate([[-np.inf], P[:, 0]])
    right = np.concatenate([P[:, 0], [ref[0]]])
    height = np.minimum(np.concatenate([[ref[1]], np.minimum.accumulate(P[:, 1])]), ref[1])
    width = np.clip(np.minimum(right[None, :], ref[0]) - np.maximum(left[None, :], C[:, :1]), 0, None)
    return (width * np.clip(height[None, :] - C[:, 1:2], 0, None)).sum(axis=1)


def hvi(front, C, ref) -> np.ndarray:
    """``hvi_2d`` for any number of objectives (exact, one indicator call per candidate beyond 2)."""
    C = np.asarray(C, dtype=float)
    if C.shape[1] == 1:  # one objective: how far a candidate passes the best value (and the reference)
        P = np.asarray(front, dtype=float).reshape(-1, 1)
        bound = min(float(ref[0]), float(P[:, 0].min())) if len(P) else float(ref[0])
        return np.clip(bound - C[:, 0], 0, None)
    if C.shape[1] == 2:
        return hvi_2d(front, C, ref)
    base = hypervolume(front, ref)
    return np.array([hypervolume(np.vstack([front, c[None]]), ref) - base for c in C])


def greedy_hvi(front, C, k: int, ref) -> np.ndarray:
    """Indices of ``k`` rows of the predicted points ``C`` (N, n_obj), picked one at a time by the
    hypervolume they add to ``front`` (M, n_obj) and the picks before them. Candidates that add
    nothing follow in order of their additive-epsilon distance to the front (normalized by the
    range from the front's ideal point to ``ref``): the least improvement that would make them
    non-dominated. ``ValueError`` when ``C`` has fewer than ``k`` rows."""
    C = np.asarray(C, dtype=float)
    ref = np.asarray(ref, dtype=float)
    if len(C) < k:
        raise ValueError(f"greedy_hvi needs at least {k} candidates, got {len(C)}")
    P = np.asarray(front, dtype=float).reshape(-1, C.shape[1])
    if C.shape[1] > 2 and len(C) > 200:  # bound the indicator calls: the predicted best first
        order = np.argsort(nondominated_rank(C), kind="stable")
        keep = np.sort(order[:max(200, k)])
    else:
        keep = np.arange(len(C))
    picked: list[int] = []
    free = np.ones(len(C), dtype=bool)
    while len(picked) < k:
        cand = keep[free[keep]]
        gain = hvi(P, C[cand], ref) if len(cand) else np.zeros(0)
        if not len(cand) or gain.max() <= 0:
            break
        best = int(cand[int(np.argmax(gain))])
        picked.append(best)
        free[best] = False
        P = np.vstack([P, C[best]])
    if len(picked) < k:
        rest = np.flatnonzero(free)
        scale = np.maximum(ref - (P.min(axis=0) if len(P) else C.min(axis=0)), 1e-12)
        if len(P):
            diff = (C[rest][:, None, :] - P[None, :, :]) / scale
            behind = diff.min(axis=2).max(axis=1)
        else:
            behind = np.zeros(len(rest))
        picked += rest[np.argsort(behind, kind="stable")[:k - len(picked)]].tolist()
    return np.array(picked, dtype=np.int64)


def front_neighbours(space, X, F, seen: set) -> np.ndarray:
    """Every network one gene away from a non-dominated row of the minimization matrix ``F``
    (N, n_obj), none in ``seen`` (bytes of canonical int64 rows): canonical genes (M, n_genes),
    distinct, in the order (gene, choice, front row). ``X`` (N, n_genes) canonical genes.

    Why: the model is most reliable next to networks it was fitted on (a trust region, as in
    TuRBO, Eriksson et al., NeurIPS 2019), and an inner search on the model drifts to where it
    extrapolates. On ofa-mbv3, these candidates with the GP lift 1,000 networks from 96.8% to
    98.4% of the best-known hypervolume (10 seeds; experiments/surrogate_variants/report-gp.md)."""
    from .mating import new_rows

    X, F = np.asarray(X, dtype=np.int64), np.asarray(F, dtype=float)
    P = X[non_dominated(F)] if len(F) else X[:0]
    rows = []
    for g, c in enumerate(space.cardinalities):
        for v in range(c):
            Y = P[P[:, g] != v].copy()
            Y[:, g] = v
            rows.append(Y)
    if not rows:
        return X[:0]
    Y = space.canonical_array(np.concatenate(rows))
    return Y[new_rows(Y, seen)].reshape(-1, X.shape[1])


def corner_mutants(space, X, F, objective: int | None, ref, k: int, rng: np.random.Generator, seen: set,
                   parents: int = 3) -> np.ndarray:
    """Up to ``k`` distinct networks, none in ``seen`` (bytes of canonical int64 rows): each a copy
    of one of the ``parents`` evaluated networks best on ``objective`` (a column of the
    minimization matrix ``F`` (N, n_obj), among the rows inside ``ref``; all rows when none is),
    or with ``objective`` None of any non-dominated row inside ``ref``, parent drawn uniformly,
    with 1 or 2 genes redrawn uniformly. ``X`` (N, n_genes) canonical genes; returns canonical
    genes (M, n_genes), M <= k. Every draw comes from ``rng``.

    Why: a model fitted on a run's evaluations is least reliable where the front is best. On
    ofa-mbv3 the best-known networks of 40-60 ms, which hold most of the front's hypervolume, are
    predicted 1.7-2.1 points below their top-1 after 300 evaluations (every model of
    ``surrogate_model``; ``experiments/surrogate_diagnosis.py``), so an infill criterion on the
    model never proposes them; mutants of the corner are evaluated whatever the model says, as a
    (1 + lambda) evolution strategy would."""
    X, F = np.asarray(X, dtype=np.int64), np.asarray(F, dtype=float)
    inside = np.all(F < np.asarray(ref, dtype=float), axis=1)
    pool = np.flatnonzero(inside) if inside.any() else np.arange(len(F))
    if objective is None:
        best = pool[non_dominated(F[pool])]
    else:
        best = pool[np.argsort(F[pool, objective], kind="stable")[:parents]]
    card = np.asarray(space.cardinalities, dtype=np.int64)
    out: list[np.ndarray] = []
    taken: set[bytes] = set()
    for _ in range(50 * max(k, 1)):
        if len(out) >= k or not len(best):
            break
        x = X[best[int(rng.integers(len(best)))]].copy()
        for g in rng.choice(len(card), size=1 + int(rng.integers(2)), replace=False):
            x[g] = int(rng.integers(card[g]))
        x = space.canonical_array(x[None])[0]
        key = x.tobytes()
        if key not in seen and key not in taken:
            taken.add(key)
            out.append(x)
    return np.array(out, dtype=np.int64).reshape(-1, len(card))


def model_search(space, start, n_obj: int, predict, generations: int, seed: int) -> np.ndarray:
    """Every distinct network an NSGA-II (Deb et al., 2002; pymoo) scores on ``predict`` (canonical
    genes (M, n_genes) -> minimization matrix (M, n_obj)) in ``generations``, from the population
    ``start`` (P, n_genes): block-uniform crossover, ordinal gene mutation, canonical repair.
    Returns canonical genes (K, n_genes) in the order first scored; ``seed`` seeds pymoo."""
    from pymoo.algorithms.moo.nsga2 import NSGA2
    from pymoo.core.problem import Problem
    from pymoo.optimize import minimize

    from .nsga2 import BlockCrossover, CanonicalRepair, ExactDuplicateElimination, GeneMutation
    from .operators import repair_array

    card = np.asarray(space.cardinalities)
    scored: list[np.ndarray] = []

    class Inner(Problem):
        def __init__(self):
            super().__init__(n_var=len(card), n_obj=n_obj, xl=np.zeros(len(card)), xu=card - 1, vtype=int)

        def _evaluate(self, X, out, *args, **kwargs):
            X = np.asarray(X, dtype=np.int64)
            scored.append(X)
            out["F"] = predict(X)

    inner = Inner()
    inner.space = space
    algorithm = NSGA2(pop_size=len(start), sampling=start, crossover=BlockCrossover("gene_uniform", 0.9),
                      mutation=GeneMutation("ordinal"), repair=CanonicalRepair(),
                      eliminate_duplicates=ExactDuplicateElimination())
    minimize(inner, algorithm, ("n_gen", generations), seed=seed, verbose=False, copy_algorithm=False)
    pool = repair_array(space, np.concatenate(scored))
    _, first = np.unique(pool, axis=0, return_index=True)
    return pool[np.sort(first)]
