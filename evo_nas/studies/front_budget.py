"""How large a front does the search find, per budget? One search config run per seed and budget
(population x generations), each in a fresh run directory with the persistent cache off: the
final front size, the front size after each generation, the hypervolume and the wall time.
``experiments/bench_tradeoff.py --searches CONFIG`` runs it.
"""
from __future__ import annotations

import copy
import time
from pathlib import Path

from ..engine.runner import run_search

HEADER = f"{'budget':>8} {'seed':>4} {'evals':>6} {'front':>5} {'hv':>8} {'wall s':>7}  front size per generation"


def budget_searches(base: dict, seeds: list[int], budgets: list[tuple[int, int]], workdir: Path,
                    log=print) -> list[dict]:
    """One record per budget (population, generations) and seed: ``pop_size``, ``generations``, ``seed``,
    ``evaluations``, ``front``, ``hypervolume`` (last generation's), ``wall_s``, ``front_per_generation``.
    ``base`` is the search config (its ``seed`` and ``[search]`` budget are replaced); run directories
    go in ``workdir``; ``log`` gets the ``HEADER`` and one line per run."""
    rows = []
    log(HEADER)
    for pop, gens in budgets:
        for seed in seeds:
            cfg = copy.deepcopy(base)
            cfg["seed"] = seed
            cfg["search"] = {**cfg.get("search", {}), "pop_size": pop, "generations": gens, "cache": False}
            t0 = time.perf_counter()
            res = run_search(cfg, workdir / f"p{pop}g{gens}s{seed}", quiet=True)
            wall = time.perf_counter() - t0
            per_gen = [e["front_size"] for e in res.logbook]
            rows.append({"pop_size": pop, "generations": gens, "seed": seed, "evaluations": res.evaluations,
                         "front": len(res.front), "hypervolume": res.logbook[-1]["hypervolume"], "wall_s": wall,
                         "front_per_generation": per_gen})
            log(f"{pop:>3}x{gens:<4} {seed:>4} {res.evaluations:>6} {len(res.front):>5} "
                f"{res.logbook[-1]['hypervolume']:>8.3f} {wall:>7.0f}  {per_gen}")
    return rows
