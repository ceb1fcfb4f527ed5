"""What a resume costs now that it always replays (issue 27): a 50,000-evaluation NSGA-II search on
Once-for-All's benchmark, then a resume of the finished run, which replays every generation over
the run's records (nothing is evaluated again) and checks them against its checkpoint and logbook.

    python experiments/replay_cost.py [--evaluations 50000] [--repeats 2]

Prints, per repeat, the search's and the resume's wall seconds (in this process, imports and
problem loading excluded) and their ratio, and whether the resumed run kept the same Pareto set
and logbook. Measure on a quiet machine; the ratio is what carries over.
The study is ``evo_nas/studies/replay_cost.py``.
"""
from __future__ import annotations

import argparse
import json
import tempfile
from pathlib import Path

from evo_nas.problems import make_problem
from evo_nas.studies.replay_cost import config, replay_cost


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--evaluations", type=int, default=50_000)
    parser.add_argument("--repeats", type=int, default=2)
    args = parser.parse_args()
    problem = make_problem(config(args.evaluations))
    with tempfile.TemporaryDirectory(prefix="evo-nas-replay-") as tmp:
        for i in range(args.repeats):
            print(json.dumps(replay_cost(problem, args.evaluations, Path(tmp) / f"run{i}")), flush=True)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
