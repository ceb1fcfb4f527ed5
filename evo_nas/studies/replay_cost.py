"""What a resume costs now that it always replays (issue 27): a seeded NSGA-II search (Deb et al., 2002)
on Once-for-All's benchmark, then a resume of the finished run, which replays every generation over
the run's records (nothing is evaluated again) and checks them against its checkpoint and logbook.
``experiments/replay_cost.py`` runs it; the ratio of the two wall times is what carries over
between machines, and only a quiet machine measures it.
"""
from __future__ import annotations

import time
from pathlib import Path

from ..engine.runner import run_search


def config(evaluations: int) -> dict:
    """The search: seed 1, population 100, ``evaluations`` unique networks, no persistent cache."""
    return {"seed": 1, "problem": {"name": "ofa-mbv3"},
            "search": {"algorithm": "nsga2", "pop_size": 100, "max_evaluations": evaluations, "cache": False},
            "objectives": {"reference": {"top1": 0.70, "latency_ms": 100.0}}}


def replay_cost(problem, evaluations: int, run_dir: Path) -> dict:
    """Search into ``run_dir`` (new), then resume the finished run: evaluations, generations, both wall
    times (s, in this process, imports and problem loading excluded), their ratio, and whether the
    resumed run kept the same Pareto set and logbook."""
    t0 = time.perf_counter()
    first = run_search(config(evaluations), run_dir, quiet=True, problem=problem)
    search_s = time.perf_counter() - t0
    book = (run_dir / "logbook.jsonl").read_bytes()
    t0 = time.perf_counter()
    again = run_search(None, run_dir, resume=True, quiet=True, problem=problem)
    resume_s = time.perf_counter() - t0
    same = [r["key"] for r in again.front] == [r["key"] for r in first.front] and \
        (run_dir / "logbook.jsonl").read_bytes() == book
    return {"evaluations": first.evaluations, "generations": first.generations,
            "search_s": round(search_s, 2), "resume_s": round(resume_s, 2),
            "ratio": round(resume_s / search_s, 2), "same_pareto_and_logbook": same}
