"""Where the surrogate's accuracy model fails on ofa-mbv3: its predictions of the best-known front's networks.

    EVO_NAS_DATA=../shared/data python experiments/surrogate_diagnosis.py [--seed 0] [--budget 300]

One seeded surrogate run (no local share), then every model fitted on its networks predicts the
best-known front (``experiments/best_known_ofa.json``); the study is
``evo_nas/studies/surrogate_diagnosis.py``. A few minutes; prints the report, nothing is timed.
"""
from __future__ import annotations

import argparse
import sys

from evo_nas.problems import make_problem
from evo_nas.studies.surrogate_diagnosis import diagnose, report


def main(argv=None) -> int:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--budget", type=int, default=300, help="networks the run evaluates before the models are judged")
    args = p.parse_args(argv)
    if args.budget < 60:
        p.error(f"--budget {args.budget}: at least 60 (50 random networks, then model rounds)")
    import torch

    torch.set_num_threads(1)
    print(report(diagnose(make_problem({"problem": {"name": "ofa-mbv3"}}), args.seed, args.budget)))
    return 0


if __name__ == "__main__":
    sys.exit(main())
