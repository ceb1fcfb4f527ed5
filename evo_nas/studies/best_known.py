"""The best-known Pareto front of Once-for-All's ImageNet benchmark (predicted top-1, Note10 latency).

The front every anytime curve of ``sample_efficiency`` is measured against: the evaluations of
several evo-nas NSGA-II searches (Deb et al., 2002; population 100) pooled, then polished by
single-gene local search: every neighbour of every front member that differs in one gene (any
other choice, canonicalized) is evaluated, the front is updated, and this repeats until no
neighbour enters the front. ``experiments/best_known_ofa.py`` runs it; the committed result is
``experiments/best_known_ofa.json``.
"""
from __future__ import annotations

from pathlib import Path

import numpy as np

from ..analysis.pareto import hypervolume, non_dominated
from ..engine.run import RunDir
from ..engine.runner import run_search
from .ofa_bench import REFERENCE, TARGETS_MS


def pooled_runs(problem, seeds, evaluations: int, root: Path, log=print) -> np.ndarray:
    """Canonical genes (N, 46), distinct, of every network the NSGA-II searches (one per seed, ``evaluations``
    each, run directories in ``root``) evaluated."""
    rows = []
    for seed in seeds:
        cfg = {"seed": seed, "problem": {"name": "ofa-mbv3"},
               "search": {"algorithm": "nsga2", "pop_size": 100, "max_evaluations": evaluations,
                          "max_stall": 10 ** 6},
               "objectives": {"names": ["top1", "latency_ms"],
                              "reference": {"top1": REFERENCE[0], "latency_ms": REFERENCE[1]}}}
        run_search(cfg, root / f"seed{seed}", quiet=True, problem=problem)
        rows.append(np.array([e["genes"] for e in RunDir(root / f"seed{seed}").evaluations()], dtype=np.int64))
        log(f"seed {seed}: {len(rows[-1]):,} networks")
    return np.unique(np.concatenate(rows), axis=0)


def front_of(X: np.ndarray, F: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """The non-dominated rows (maximized top-1, minimized latency), one per distinct objective pair."""
    mask = non_dominated(np.stack([-F[:, 0], F[:, 1]], axis=1))
    X, F = X[mask], F[mask]
    _, first = np.unique(F, axis=0, return_index=True)
    order = np.sort(first)
    X, F = X[order], F[order]
    by_latency = np.argsort(F[:, 1], kind="stable")
    return X[by_latency], F[by_latency]


def neighbours(space, X: np.ndarray) -> np.ndarray:
    """Every network one gene away from a row of ``X``, canonical and distinct."""
    card = np.asarray(space.cardinalities)
    out = []
    for g, c in enumerate(card):
        for v in range(c):
            Y = X.copy()
            Y[:, g] = v
            out.append(Y[X[:, g] != v])
    return np.unique(space.canonical_array(np.concatenate(out)), axis=0)


def polish(problem, X: np.ndarray, F: np.ndarray, log=print) -> tuple[np.ndarray, np.ndarray, int]:
    """Single-gene local search from the front of (X, F) until no neighbour enters it: the front's genes,
    objectives (top-1, ms) and the number of rounds."""
    fx, ff = front_of(X, F)
    rounds = 0
    while True:
        rounds += 1
        N = neighbours(problem.space, fx)
        G = problem.evaluate_array(N)
        nx, nf = front_of(np.concatenate([fx, N]), np.concatenate([ff, G]))
        log(f"local search round {rounds}: {len(N):,} neighbours, front {len(ff)} -> {len(nf)}, "
            f"HV {hv(ff):.4f} -> {hv(nf):.4f}")
        if len(nf) == len(ff) and np.array_equal(nf, ff):
            return nx, nf, rounds
        fx, ff = nx, nf


def hv(F: np.ndarray) -> float:
    """Hypervolume of (top-1, ms) rows against ``REFERENCE`` (top-1 maximized)."""
    P = np.stack([-F[:, 0], F[:, 1]], axis=1)
    return hypervolume(P[non_dominated(P)], np.array([-REFERENCE[0], REFERENCE[1]]))


def top1_at(F: np.ndarray) -> dict:
    """The best top-1 under each latency target of ``TARGETS_MS`` (None where no row is that fast)."""
    return {f"{t}": float(F[F[:, 1] <= t, 0].max()) if (F[:, 1] <= t).any() else None for t in TARGETS_MS}


def best_known_front(problem, seeds, evaluations: int, root: Path, log=print) -> dict:
    """The polished front of the pooled searches as the JSON-ready record ``best_known_ofa.json`` holds
    (seeds, evaluations per run, pooled networks and hypervolume, rounds, reference, hypervolume,
    ``top1_at_ms`` and the front's keys and objectives)."""
    X = pooled_runs(problem, seeds, evaluations, root, log)
    F = problem.evaluate_array(X)
    _, pooled = front_of(X, F)
    log(f"pooled: {len(X):,} distinct networks, front {len(pooled)}, HV {hv(pooled):.4f}")
    fx, ff, rounds = polish(problem, X, F, log)
    keys = problem.space.keys(fx)
    return {"benchmark": "ofa-mbv3 (Once-for-All top-1 predictor, Note10 latency tables)",
            "seeds": list(seeds), "evaluations_per_run": evaluations,
            "pooled_networks": int(len(X)), "pooled_hypervolume": hv(pooled), "local_search_rounds": rounds,
            "reference": {"top1": REFERENCE[0], "latency_ms": REFERENCE[1]}, "hypervolume": hv(ff),
            "top1_at_ms": top1_at(ff),
            "front": [{"key": k, "top1": float(a), "latency_ms": float(t)} for k, (a, t) in zip(keys, ff)]}
