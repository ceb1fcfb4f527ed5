"""The best-known Pareto front of Once-for-All's ImageNet benchmark (predicted top-1, Note10 latency).

    python experiments/best_known_ofa.py --out experiments/best_known_ofa.json   # about 3 minutes on 2 cores

The front every anytime curve of ``bench_sample_efficiency.py`` is measured against: the
evaluations of nine evo-nas NSGA-II searches of 100,000 networks each (seeds 0-8, population
100) pooled, then polished by single-gene local search: every neighbour of every front member
that differs in one gene (any other choice, canonicalized) is evaluated, the front is updated,
and this repeats until no neighbour enters the front. The file holds the front's genome keys
and objectives, its hypervolume (reference top-1 0.70, 100 ms, raw units as in ``bench_ofa.py``)
and its best top-1 under each latency target. It is evo-nas's own derived result; the predictor
and tables it was computed with are Once-for-All's (MIT, see the data's README).
"""
from __future__ import annotations

import argparse
import json
import sys
import tempfile
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from evo_nas.analysis.pareto import hypervolume, non_dominated  # noqa: E402
from evo_nas.problems import make_problem  # noqa: E402
from evo_nas.engine.runner import run_search  # noqa: E402
from evo_nas.engine.run import RunDir  # noqa: E402

REFERENCE = (0.70, 100.0)
TARGETS_MS = (15, 20, 25, 30, 40)
COMMAND = "python experiments/best_known_ofa.py --out experiments/best_known_ofa.json"


def pooled_runs(problem, seeds, evaluations: int, root: Path) -> np.ndarray:
    """Canonical genes (N, 46) of every network the NSGA-II searches evaluated."""
    rows = []
    for seed in seeds:
        cfg = {"seed": seed, "problem": {"name": "ofa-mbv3"},
               "search": {"algorithm": "nsga2", "pop_size": 100, "max_evaluations": evaluations,
                          "max_stall": 10 ** 6},
               "objectives": {"names": ["top1", "latency_ms"],
                              "reference": {"top1": REFERENCE[0], "latency_ms": REFERENCE[1]}}}
        run_search(cfg, root / f"seed{seed}", quiet=True, problem=problem)
        rows.append(np.array([e["genes"] for e in RunDir(root / f"seed{seed}").evaluations()], dtype=np.int64))
        print(f"seed {seed}: {len(rows[-1]):,} networks", flush=True)
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


def polish(problem, X: np.ndarray, F: np.ndarray) -> tuple[np.ndarray, np.ndarray, int]:
    """Single-gene local search from the front of (X, F) until no neighbour enters it."""
    fx, ff = front_of(X, F)
    rounds = 0
    while True:
        rounds += 1
        N = neighbours(problem.space, fx)
        G = problem.evaluate_array(N)
        nx, nf = front_of(np.concatenate([fx, N]), np.concatenate([ff, G]))
        print(f"local search round {rounds}: {len(N):,} neighbours, front {len(ff)} -> {len(nf)}, "
              f"HV {hv(ff):.4f} -> {hv(nf):.4f}", flush=True)
        if len(nf) == len(ff) and np.array_equal(nf, ff):
            return nx, nf, rounds
        fx, ff = nx, nf


def hv(F: np.ndarray) -> float:
    P = np.stack([-F[:, 0], F[:, 1]], axis=1)
    return hypervolume(P[non_dominated(P)], np.array([-REFERENCE[0], REFERENCE[1]]))


def top1_at(F: np.ndarray) -> dict:
    return {f"{t}": float(F[F[:, 1] <= t, 0].max()) if (F[:, 1] <= t).any() else None for t in TARGETS_MS}


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--seeds", type=int, default=9)
    ap.add_argument("--evaluations", type=int, default=100_000)
    ap.add_argument("--out", default="experiments/best_known_ofa.json")
    args = ap.parse_args()
    import torch

    torch.set_num_threads(1)
    problem = make_problem({"problem": {"name": "ofa-mbv3"}})
    with tempfile.TemporaryDirectory(prefix="best-known-") as tmp:
        X = pooled_runs(problem, range(args.seeds), args.evaluations, Path(tmp))
    F = problem.evaluate_array(X)
    _, pooled = front_of(X, F)
    print(f"pooled: {len(X):,} distinct networks, front {len(pooled)}, HV {hv(pooled):.4f}", flush=True)
    fx, ff, rounds = polish(problem, X, F)
    keys = problem.space.keys(fx)
    out = {"benchmark": "ofa-mbv3 (Once-for-All top-1 predictor, Note10 latency tables)",
           "command": COMMAND, "seeds": list(range(args.seeds)), "evaluations_per_run": args.evaluations,
           "pooled_networks": int(len(X)), "pooled_hypervolume": hv(pooled), "local_search_rounds": rounds,
           "reference": {"top1": REFERENCE[0], "latency_ms": REFERENCE[1]}, "hypervolume": hv(ff),
           "top1_at_ms": top1_at(ff),
           "front": [{"key": k, "top1": float(a), "latency_ms": float(t)} for k, (a, t) in zip(keys, ff)]}
    Path(args.out).write_text(json.dumps(out, indent=1) + "\n")
    print(f"best-known front: {len(ff)} networks, HV {out['hypervolume']:.4f}, top-1 at targets "
          f"{out['top1_at_ms']} -> {args.out}", flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
