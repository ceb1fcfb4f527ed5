"""Anytime sample efficiency on Once-for-All's ImageNet benchmark: hypervolume after N distinct networks.

The cost of a search whose evaluation is a training run is the number of networks it evaluates.
Each algorithm x seed cell runs once to the largest budget; its score at budget N is that of its
first N *distinct* networks (canonical keys), in the order it evaluated them, so a peer's repeats
are free and a short run is the start of a longer one (evo-nas's algorithms never look at the
budget). Per budget: median [IQR] hypervolume (reference top-1 0.70, 100 ms; raw units of
``ofa_bench.py``), the same as a fraction of the best-known front (``best_known_ofa.json``), the
best top-1 under each Note10 latency target and its gap to the best-known, and two-sided exact
Mann-Whitney U tests (scipy) with Vargha-Delaney A12 of the surrogate against every peer.

Peers: evo-nas NSGA-II, aging evolution (Real et al., 2019; P 100, S 25, MnasNet's soft reward at
30 ms) and random search in the same engine; pymoo's NSGA-II with its documented defaults (SBX
prob 0.9 eta 15, polynomial mutation eta 20, rounding repair, integer random sampling) and EvoX's
NSGA-II with every choice equally likely (genes drawn in [0, n) and floored), both from
``ofa_bench.py``; Optuna's default multi-objective sampler (TPE in Optuna 5), whose cost grows
with the square of its trials, up to ``OPTUNA_MAX`` networks.
"""
from __future__ import annotations

import json
import shutil
import tempfile
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[2]
from ..analysis.pareto import hypervolume, non_dominated

BUDGETS = (100, 200, 300, 500, 1000, 2000, 5000)
TARGETS_MS = (15, 20, 25, 30, 40)
REFERENCE = (0.70, 100.0)
OPTUNA_MAX = 500
# the committed cells' [search.surrogate]: the defaults but the GP from the first round (the default
# early_until = 150 fits Bayesian ridge below 150 networks; experiments/surrogate_variants/report-gp.md)
SURROGATE = {"early_until": 0}
ALGORITHMS = ("surrogate", "nsga2", "aging", "random", "pymoo", "evox", "optuna")
LABELS = {"surrogate": "evo-nas surrogate NSGA-II", "nsga2": "evo-nas NSGA-II", "aging": "aging evolution",
          "random": "random search", "pymoo": "pymoo NSGA-II (defaults)", "evox": "EvoX NSGA-II (uniform choices)",
          "optuna": "Optuna default (TPE)"}


def engine_config(algorithm: str, seed: int, budget: int, surrogate: dict | None = None) -> dict:
    """The engine's config of one cell; ``surrogate`` overrides ``[search.surrogate]`` keys (the
    bench's own surrogate cells: ``SURROGATE``)."""
    search = {"algorithm": algorithm, "max_evaluations": budget, "max_stall": 10 ** 6}
    if algorithm == "surrogate":
        search["surrogate"] = dict(SURROGATE if surrogate is None else surrogate)
    if algorithm == "nsga2":
        search["pop_size"] = 100
    elif algorithm == "aging":
        search.update(aging={"population": 100, "sample": 25, "batch_size": 8},
                      reward={"target_ms": 30.0, "mode": "soft"}, generations=50_000)
    elif algorithm == "random":
        search["random"] = {"batch_size": 8}
    return {"seed": seed, "problem": {"name": "ofa-mbv3"}, "search": search,
            "objectives": {"names": ["top1", "latency_ms"],
                           "reference": {"top1": REFERENCE[0], "latency_ms": REFERENCE[1]}}}


def run_cell(algorithm: str, seed: int, budget: int, surrogate: dict | None = None) -> dict:
    """One cell: the (top-1, latency) of its first ``budget`` distinct networks, in order, and for
    the surrogate its per-round model report; ``surrogate`` overrides ``[search.surrogate]`` keys."""
    import torch

    torch.set_num_threads(1)
    from ..problems import make_problem

    problem = make_problem({"problem": {"name": "ofa-mbv3"}})
    t0 = time.perf_counter()
    report = None
    if algorithm in ("surrogate", "nsga2", "aging", "random"):
        from ..engine.runner import run_search
        from ..engine.run import RunDir

        with tempfile.TemporaryDirectory(prefix="sample-eff-") as tmp:
            path = Path(tmp) / "run"
            run_search(engine_config(algorithm, seed, budget, surrogate), path, quiet=True, problem=problem)
            F = np.array([[e["top1"], e["latency_ms"]] for e in RunDir(path).evaluations()])
            if algorithm == "surrogate":
                report = [json.loads(line) for line in (path / "surrogate.jsonl").read_text().splitlines()]
    else:
        X, F = peer_rows(algorithm, problem, seed, budget)
        _, first = np.unique(problem.space.canonical_array(X), axis=0, return_index=True)
        F = F[np.sort(first)][:budget]
    return {"algorithm": algorithm, "seed": seed, "distinct": int(len(F)), "wall_s": time.perf_counter() - t0,
            "top1": F[:, 0].tolist(), "latency_ms": F[:, 1].tolist(), "report": report}


def peer_rows(algorithm: str, problem, seed: int, budget: int) -> tuple[np.ndarray, np.ndarray]:
    """Every row a peer evaluated, in order (repeats included): genes (N, 46), (top-1, ms) (N, 2)."""
    from .ofa_bench import run_evox, run_plain

    keep: list = []
    if algorithm == "pymoo":  # rows, repeats included: twice the budget leaves enough distinct networks
        run_plain(problem, seed, 2 * budget, sbx_prob=0.9, sbx_eta=15.0, pm_eta=20.0, keep=keep)
    elif algorithm == "evox":
        if run_evox(problem, seed, 3 * budget, uniform_choices=True, keep=keep) is None:
            raise RuntimeError("EvoX is not installed: pip install -e \".[bench]\"")
    elif algorithm == "optuna":
        return optuna_rows(problem, seed, min(budget, OPTUNA_MAX))
    else:
        raise ValueError(f"unknown algorithm {algorithm!r}")
    return keep[0], keep[1]


def optuna_rows(problem, seed: int, distinct: int) -> tuple[np.ndarray, np.ndarray]:
    """Optuna's default sampler for two objectives (``create_study(directions=...)``, TPE in Optuna 5),
    one integer parameter per gene, until ``distinct`` canonical networks are evaluated."""
    import optuna

    optuna.logging.set_verbosity(optuna.logging.WARNING)
    card = problem.space.cardinalities
    study = optuna.create_study(directions=["maximize", "minimize"],
                                sampler=optuna.samplers.TPESampler(seed=seed))
    assert type(study.sampler) is type(optuna.create_study(directions=["maximize", "minimize"]).sampler)
    rows, values, seen = [], [], set()
    while len(seen) < distinct and len(rows) < 4 * distinct:
        trial = study.ask()
        x = np.array([trial.suggest_int(f"g{i}", 0, c - 1) for i, c in enumerate(card)], dtype=np.int64)
        f = problem.evaluate_array(x[None])[0]
        study.tell(trial, [float(f[0]), float(f[1])])
        rows.append(x)
        values.append(f)
        seen.add(problem.space.canonical_array(x[None])[0].tobytes())
    return np.array(rows), np.array(values)


def scores(top1: np.ndarray, lat: np.ndarray) -> dict:
    F = np.stack([-top1, lat], axis=1)
    out = {"hv": hypervolume(F[non_dominated(F)], np.array([-REFERENCE[0], REFERENCE[1]]))}
    for t in TARGETS_MS:
        ok = lat <= t
        out[f"top1@{t}"] = float(top1[ok].max()) if ok.any() else None
    return out


def cell_path(out: Path, algorithm: str, seed: int) -> Path:
    return out / "cells" / f"{algorithm}-{seed}.json"


def run_cells(out: Path, seeds, jobs: int) -> None:
    """Every missing cell, ``jobs`` at a time; each is written as soon as it ends, so a rerun continues."""
    from concurrent.futures import ProcessPoolExecutor

    (out / "cells").mkdir(parents=True, exist_ok=True)
    todo = [(a, s) for s in seeds for a in ALGORITHMS if not cell_path(out, a, s).exists()]
    # the costliest cells first, so the pool ends together
    todo.sort(key=lambda c: ALGORITHMS.index(c[0]) not in (0, 6))
    with ProcessPoolExecutor(jobs) as pool:
        futures = {pool.submit(run_cell, a, s, max(BUDGETS)): (a, s) for a, s in todo}
        for f in futures:
            a, s = futures[f]
            cell = f.result()
            tmp = cell_path(out, a, s).with_suffix(".tmp")
            tmp.write_text(json.dumps(cell))
            tmp.replace(cell_path(out, a, s))
            print(f"{a} seed {s}: {cell['distinct']} distinct networks, {cell['wall_s']:.0f} s", flush=True)


def load_cells(out: Path, seeds) -> dict:
    cells = {}
    for a in ALGORITHMS:
        for s in seeds:
            p = cell_path(out, a, s)
            if p.exists():
                cells[(a, s)] = json.loads(p.read_text())
    return cells


def clean(out: Path) -> None:
    shutil.rmtree(out / "cells", ignore_errors=True)
