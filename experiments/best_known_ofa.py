"""The best-known Pareto front of Once-for-All's ImageNet benchmark (predicted top-1, Note10 latency).

    python experiments/best_known_ofa.py                  # about 3 minutes on 2 cores -> runs/best_known_ofa/
    python experiments/best_known_ofa.py --out experiments/best_known_ofa.json --overwrite  # replace the committed copy

The front every anytime curve of ``bench_sample_efficiency.py`` is measured against: the
evaluations of nine evo-nas NSGA-II searches of 100,000 networks each (seeds 0-8, population
100) pooled, then polished by single-gene local search: every neighbour of every front member
that differs in one gene (any other choice, canonicalized) is evaluated, the front is updated,
and this repeats until no neighbour enters the front. The file holds the front's genome keys
and objectives, its hypervolume (reference top-1 0.70, 100 ms, raw units as in ``bench_ofa.py``)
and its best top-1 under each latency target. It is evo-nas's own derived result; the predictor
and tables it was computed with are Once-for-All's (MIT, see the data's README).
The study is ``evo_nas/studies/best_known.py``.
"""
from __future__ import annotations

import argparse
import json
import sys
import tempfile
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from evo_nas.base.files import atomic_write  # noqa: E402
from evo_nas.base.outputs import add_out_arguments, default_out, out_or_exit  # noqa: E402
from evo_nas.problems import make_problem  # noqa: E402
from evo_nas.studies.best_known import best_known_front  # noqa: E402

COMMAND = "python experiments/best_known_ofa.py --out experiments/best_known_ofa.json --overwrite"


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--seeds", type=int, default=9)
    ap.add_argument("--evaluations", type=int, default=100_000)
    add_out_arguments(ap, default_out("best_known_ofa") / "best_known_ofa.json", "the front's JSON file")
    args = ap.parse_args(argv)
    out = out_or_exit(ap, args.out, args.overwrite)
    import torch

    torch.set_num_threads(1)
    problem = make_problem({"problem": {"name": "ofa-mbv3"}})
    with tempfile.TemporaryDirectory(prefix="best-known-") as tmp:
        front = best_known_front(problem, range(args.seeds), args.evaluations, Path(tmp),
                                 log=lambda line: print(line, flush=True))
    front = {"benchmark": front.pop("benchmark"), "command": COMMAND, **front}
    out.parent.mkdir(parents=True, exist_ok=True)
    atomic_write(out, json.dumps(front, indent=1) + "\n")
    print(f"best-known front: {len(front['front'])} networks, HV {front['hypervolume']:.4f}, top-1 at targets "
          f"{front['top1_at_ms']} -> {out}", flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
