"""What a resume costs now that it always replays (issue 27): a 50,000-evaluation NSGA-II search on
Once-for-All's benchmark, then a resume of the finished run, which replays every generation over
the run's records (nothing is evaluated again) and checks them against its checkpoint and logbook.

    python experiments/replay_cost.py [--evaluations 50000] [--repeats 2]

Prints, per repeat, the search's and the resume's wall seconds (in this process, imports and
problem loading excluded) and their ratio, and whether the resumed run kept the same Pareto set
and logbook. Measure on a quiet machine; the ratio is what carries over.
"""
from __future__ import annotations

import argparse
import json
import tempfile
import time
from pathlib import Path

from evo_nas.problems import make_problem
from evo_nas.engine.runner import run_search


def config(evaluations: int) -> dict:
    return {"seed": 1, "problem": {"name": "ofa-mbv3"},
            "search": {"algorithm": "nsga2", "pop_size": 100, "max_evaluations": evaluations, "cache": False},
            "objectives": {"reference": {"top1": 0.70, "latency_ms": 100.0}}}


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--evaluations", type=int, default=50_000)
    parser.add_argument("--repeats", type=int, default=2)
    args = parser.parse_args()
    problem = make_problem(config(args.evaluations))
    with tempfile.TemporaryDirectory(prefix="evo-nas-replay-") as tmp:
        for i in range(args.repeats):
            run_dir = Path(tmp) / f"run{i}"
            t0 = time.perf_counter()
            first = run_search(config(args.evaluations), run_dir, quiet=True, problem=problem)
            search_s = time.perf_counter() - t0
            book = (run_dir / "logbook.jsonl").read_bytes()
            t0 = time.perf_counter()
            again = run_search(None, run_dir, resume=True, quiet=True, problem=problem)
            resume_s = time.perf_counter() - t0
            same = [r["key"] for r in again.front] == [r["key"] for r in first.front] and \
                (run_dir / "logbook.jsonl").read_bytes() == book
            print(json.dumps({"evaluations": first.evaluations, "generations": first.generations,
                              "search_s": round(search_s, 2), "resume_s": round(resume_s, 2),
                              "ratio": round(resume_s / search_s, 2), "same_pareto_and_logbook": same}), flush=True)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
