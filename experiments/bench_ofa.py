"""Benchmark on Once-for-All's ImageNet problem (predicted top-1, Note10 latency): search quality
and engine cost of evo-nas's block-aware NSGA-II beside a plain pymoo NSGA-II, in one run.

    python experiments/bench_ofa.py                    # both parts (about 4 minutes on 2 cores) -> runs/bench_ofa/
    python experiments/bench_ofa.py --part quality     # or: --part scale
    python experiments/bench_ofa.py --quick            # 2 seeds, 200 evaluations, quality only: exercises it
    python experiments/bench_ofa.py --out experiments/bench_ofa_results.txt --overwrite   # replace the committed copy

Quality: per budget and seed, the Pareto set of *all* evaluations of each method: hypervolume
(reference top-1 0.70, 100 ms), the best predicted top-1 under Note10 targets, unique networks
evaluated (canonical keys), wall seconds. The plain loop is pymoo's NSGA-II over the same 46
integer genes: integer random sampling, SBX and polynomial mutation with rounding repair,
duplicate elimination, population 100, calling the same vectorized evaluation.

Scale: the search loop's wall time (imports and problem loading excluded) of both, at 5,000 and
50,000 evaluations, medians of interleaved repeats; the 20,000 / 5,000 wall ratio of evo-nas;
a 100,000-evaluation evo-nas search in a child process (peak RSS, archive, logbook, resume); and
a 50,000-evaluation search killed with SIGKILL at a random generation and resumed, against the
same search uninterrupted.

The study is ``evo_nas/studies/ofa_bench.py`` (quality) and ``ofa_bench_scale.py`` (engine cost);
this script parses the options, prints the report and writes it to ``--out``.
"""
from __future__ import annotations

import argparse
import os
import platform
import sys
import tempfile
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from evo_nas.base.files import atomic_write  # noqa: E402
from evo_nas.base.outputs import add_out_arguments, default_out, out_or_exit  # noqa: E402
from evo_nas.problems import make_problem  # noqa: E402
from evo_nas.studies.ofa_bench import quality  # noqa: E402
from evo_nas.studies.ofa_bench_scale import scale  # noqa: E402


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--part", choices=("quality", "scale", "all"), default="all")
    ap.add_argument("--seeds", type=int, default=10)
    ap.add_argument("--budgets", type=int, nargs="+", default=[1000, 5000])
    ap.add_argument("--repeats", type=int, default=3)
    ap.add_argument("--quick", action="store_true", help="--part quality --seeds 2 --budgets 200: only exercises it")
    add_out_arguments(ap, default_out("bench_ofa") / "results.txt", "the report's file")
    args = ap.parse_args(argv)
    out = out_or_exit(ap, args.out, args.overwrite)
    if args.quick:
        args.part, args.seeds, args.budgets = "quality", 2, [200]
    import torch

    torch.set_num_threads(1)
    lines = []

    def emit(text=""):
        print(text, flush=True)
        lines.append(text)

    emit(f"# bench_ofa: {platform.processor() or platform.machine()}, {os.cpu_count()} cores, "
         f"Python {platform.python_version()}, torch {torch.__version__}, 1 thread, "
         f"load average at start {os.getloadavg()[0]:.2f}\n")
    problem = make_problem({"problem": {"name": "ofa-mbv3"}})
    with tempfile.TemporaryDirectory(prefix="bench-ofa-") as tmp:
        root = Path(tmp)
        if args.part in ("quality", "all"):
            quality(problem, list(range(args.seeds)), args.budgets, root, emit)
        if args.part in ("scale", "all"):
            scale(problem, root, emit, args.repeats)
    emit(f"load average at end {os.getloadavg()[0]:.2f}")
    out.parent.mkdir(parents=True, exist_ok=True)
    atomic_write(out, "\n".join(lines) + "\n")
    print(f"wrote {out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
