"""Once-for-All's ImageNet benchmark (predicted top-1, Note10 latency): search quality of evo-nas's
block-aware NSGA-II (Deb et al., 2002) beside a plain pymoo NSGA-II and EvoX's, on equal budgets.

Per budget and seed, the Pareto set of *all* evaluations of each method is scored: hypervolume
(reference top-1 0.70, 100 ms), the best predicted top-1 under Note10 latency targets, unique
networks evaluated (canonical keys), wall seconds. The plain loop is pymoo's NSGA-II over the same
46 integer genes: integer random sampling, SBX and polynomial mutation with rounding repair,
duplicate elimination, population 100, calling the same vectorized evaluation. The engine-cost
part is ``ofa_bench_scale``; ``experiments/bench_ofa.py`` runs both.
"""
from __future__ import annotations

import shutil
import time
from pathlib import Path

import numpy as np

from ..analysis.pareto import hypervolume, non_dominated
from ..engine.run import RunDir
from ..engine.runner import run_search

REFERENCE = (0.70, 100.0)
TARGETS_MS = (15, 20, 25, 30, 40)
POP = 100


def config(seed: int, budget: int | None, cache, generations: int | None = None) -> dict:
    """The search configuration of one evo-nas NSGA-II run on ``ofa-mbv3`` (population 100)."""
    return {"seed": seed, "problem": {"name": "ofa-mbv3"},
            "search": {"algorithm": "nsga2", "pop_size": POP, "max_evaluations": budget, "generations": generations,
                       "max_stall": 10 ** 6, "cache": cache},
            "objectives": {"names": ["top1", "latency_ms"],
                           "reference": {"top1": REFERENCE[0], "latency_ms": REFERENCE[1]}}}


def scores(top1: np.ndarray, lat: np.ndarray) -> dict:
    """Hypervolume of all points and the best top-1 under each latency target."""
    F = np.stack([-top1, lat], axis=1)
    out = {"hv": hypervolume(F[non_dominated(F)], np.array([-REFERENCE[0], REFERENCE[1]]))}
    for t in TARGETS_MS:
        ok = lat <= t
        out[f"top1@{t}ms"] = float(top1[ok].max()) if ok.any() else float("nan")
    return out


def run_evo(problem, seed: int, budget: int | None, root: Path, cache=None, generations: int | None = None) -> dict:
    """One evo-nas search in a fresh run directory under ``root``: its ``scores``, unique networks, evaluations,
    generations and wall seconds."""
    path = root / f"evo-{budget}-{generations}-{seed}"
    shutil.rmtree(path, ignore_errors=True)
    t0 = time.perf_counter()
    r = run_search(config(seed, budget, cache, generations), path, quiet=True, problem=problem)
    wall = time.perf_counter() - t0
    evals = RunDir(path).evaluations()
    top1 = np.array([e["top1"] for e in evals])
    lat = np.array([e["latency_ms"] for e in evals])
    return {**scores(top1, lat), "unique": len({e["key"] for e in evals}), "evaluations": r.evaluations,
            "generations": r.generations, "wall_s": wall}


def run_plain(problem, seed: int, budget: int, *, sbx_prob: float = 1.0, sbx_eta: float = 3.0, pm_eta: float = 3.0,
              keep: list | None = None) -> dict:
    """pymoo's NSGA-II for ``budget`` evaluations (rows, repeats included) with SBX (``sbx_prob``,
    ``sbx_eta``) and polynomial mutation (``pm_eta``), rounding repair; ``keep``, when given,
    receives the evaluated gene arrays and their (top-1, latency) in order."""
    from pymoo.algorithms.moo.nsga2 import NSGA2
    from pymoo.core.problem import Problem
    from pymoo.operators.crossover.sbx import SBX
    from pymoo.operators.mutation.pm import PM
    from pymoo.operators.repair.rounding import RoundingRepair
    from pymoo.operators.sampling.rnd import IntegerRandomSampling
    from pymoo.optimize import minimize

    card = np.array(problem.space.cardinalities)
    seen_X, seen_F = [], []

    class Plain(Problem):
        def __init__(self):
            super().__init__(n_var=len(card), n_obj=2, xl=np.zeros(len(card)), xu=card - 1, vtype=int)

        def _evaluate(self, X, out, *args, **kwargs):
            X = np.asarray(X, dtype=np.int64)
            F = problem.evaluate_array(X)
            seen_X.append(X)
            seen_F.append(F)
            out["F"] = np.stack([-F[:, 0], F[:, 1]], axis=1)

    algorithm = NSGA2(pop_size=POP, sampling=IntegerRandomSampling(),
                      crossover=SBX(prob=sbx_prob, eta=sbx_eta, vtype=float, repair=RoundingRepair()),
                      mutation=PM(eta=pm_eta, vtype=float, repair=RoundingRepair()), eliminate_duplicates=True)
    t0 = time.perf_counter()
    minimize(Plain(), algorithm, ("n_evals", budget), seed=seed, verbose=False)
    wall = time.perf_counter() - t0
    X, F = np.concatenate(seen_X), np.concatenate(seen_F)
    if keep is not None:
        keep += [X, F]
    unique = len({tuple(x) for x in problem.space.canonical_array(X).tolist()})
    return {**scores(F[:, 0], F[:, 1]), "unique": unique, "evaluations": len(X), "generations": len(seen_X),
            "wall_s": wall}


def run_evox(problem, seed: int, budget: int, *, uniform_choices: bool = False, keep: list | None = None) -> dict | None:
    """EvoX's NSGA-II over the same genes (rounded), when the optional package is installed.
    ``uniform_choices``: genes drawn in [0, n) and floored, so every choice is equally likely
    (rounding [0, n - 1] gives the end choices half the chance); ``keep`` as in ``run_plain``."""
    try:
        import torch
        from evox.algorithms import NSGA2 as EvoxNSGA2
        from evox.core import Problem
        from evox.workflows import StdWorkflow
    except Exception:  # noqa: BLE001  (optional baseline)
        return None
    card = torch.tensor(problem.space.cardinalities, dtype=torch.float32)
    seen = []

    class OFA(Problem):
        def evaluate(self, pop):
            snap = torch.floor(pop) if uniform_choices else torch.round(pop)
            X = torch.clamp(snap, torch.zeros_like(card), card - 1).long().numpy()
            F = problem.evaluate_array(X)
            seen.append((X, F))
            return torch.tensor(np.stack([-F[:, 0], F[:, 1]], axis=1), dtype=torch.float32)

    torch.manual_seed(seed)
    algo = EvoxNSGA2(pop_size=POP, n_objs=2, lb=torch.zeros_like(card), ub=card if uniform_choices else card - 1)
    wf = StdWorkflow(algo, OFA())
    t0 = time.perf_counter()
    wf.init_step()
    while sum(len(f) for _, f in seen) < budget:
        wf.step()
    wall = time.perf_counter() - t0
    X = np.concatenate([x for x, _ in seen])[:budget]
    F = np.concatenate([f for _, f in seen])[:budget]
    if keep is not None:
        keep += [X, F]
    unique = len({tuple(x) for x in problem.space.canonical_array(X).tolist()})
    return {**scores(F[:, 0], F[:, 1]), "unique": unique, "evaluations": len(F), "wall_s": wall}


def median_iqr(values) -> str:
    """``median [q1, q3]`` of the values that are not NaN, or ``n/a``."""
    v = np.asarray([x for x in values if x == x], float)
    if not len(v):
        return "n/a"
    q1, med, q3 = np.percentile(v, [25, 50, 75])
    return f"{med:.4f} [{q1:.4f}, {q3:.4f}]"


def quality(problem, seeds, budgets, root: Path, emit) -> None:
    """Write the quality tables (markdown) through ``emit(line)``: one per budget, median [IQR] over ``seeds``
    of each method, evo-nas's runs in ``root``."""
    emit(f"## Search quality: {len(seeds)} seeds, population {POP}, reference (top-1 {REFERENCE[0]}, "
         f"{REFERENCE[1]:g} ms); median [IQR] over seeds\n")
    methods = {"evo-nas NSGA-II (block-aware)": lambda s, b: run_evo(problem, s, b, root),
               "plain pymoo NSGA-II (SBX + PM)": lambda s, b: run_plain(problem, s, b)}
    if run_evox(problem, 0, POP) is not None:
        methods["EvoX NSGA-II"] = lambda s, b: run_evox(problem, s, b)
    else:
        emit("(EvoX is not installed: its row is left out; `pip install -e \".[bench]\"` adds it)\n")
    cols = ["hv"] + [f"top1@{t}ms" for t in TARGETS_MS]
    for budget in budgets:
        res = {m: [fn(s, budget) for s in seeds] for m, fn in methods.items()}
        emit(f"### {budget:,} evaluations\n")
        emit("| method | " + " | ".join(cols) + " | unique networks | wall s |")
        emit("|---" * (len(cols) + 3) + "|")
        for m, rs in res.items():
            uniq = [r["unique"] for r in rs if r["unique"] is not None]
            emit(f"| {m} | " + " | ".join(median_iqr([r[c] for r in rs]) for c in cols) +
                 f" | {f'{np.median(uniq):.0f}' if uniq else 'n/a'} | {np.median([r['wall_s'] for r in rs]):.2f} |")
        emit("")
        first, second = list(res)[:2]
        wins = {c: np.median([r[c] for r in res[first]]) >= np.median([r[c] for r in res[second]]) for c in cols}
        emit("evo-nas at or above the plain loop (median): " +
             ", ".join(f"{c} {'yes' if w else 'NO'}" for c, w in wins.items()))
        emit("")
