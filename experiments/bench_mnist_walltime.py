"""Wall time to a hypervolume on MNIST training: evo-nas's surrogate-assisted NSGA-II against its plain NSGA-II,
2 workers each, from ``experiments/mnist_train.toml``.

    python experiments/bench_mnist_walltime.py                # 3 seeds x budget 200; writes runs/mnist_walltime
    python experiments/bench_mnist_walltime.py --seeds 5 --budget 300 --out runs/mnist_walltime_300
    python experiments/bench_mnist_walltime.py --report-only  # analyze the cells already run

A wall-clock measurement: run it on a quiet machine. It first fills this machine's latency table for
the whole space (serially, counted in no cell), then runs every missing algorithm x seed cell one at a
time (``evo_nas/studies/mnist_walltime.py``; each an engine run directory ``OUT/cells/<alg>-seed<k>/``
that resumes when killed), then writes ``OUT/results.md``, ``OUT/results.json`` and
``OUT/hv_vs_wall.png`` (``evo_nas/studies/mnist_walltime_report.py``). On the 2-core machine of the
committed run (``experiments/mnist_walltime/``, 2 seeds): about 100 s per cell of 200 networks, 13 s of
it the surrogate's own work, and 1 minute for the first fill of the table (about 1,800 layers).
"""
from __future__ import annotations

import argparse
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from evo_nas.base.outputs import add_out_arguments, default_out, out_or_exit  # noqa: E402
from evo_nas.studies.mnist_walltime import BUDGET, describe, run_cells  # noqa: E402
from evo_nas.studies.mnist_walltime_report import write_report  # noqa: E402


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    add_out_arguments(ap, default_out("mnist_walltime"))
    ap.add_argument("--seeds", type=int, default=3, help="seeds 0..N-1 (default 3)")
    ap.add_argument("--budget", type=int, default=BUDGET, help=f"evaluations per cell (default {BUDGET})")
    ap.add_argument("--report-only", action="store_true", help="analyze the cells already run")
    args = ap.parse_args()
    if args.seeds < 1 or args.budget < 1:
        ap.error(f"--seeds {args.seeds} and --budget {args.budget} must be positive")
    out_or_exit(ap, args.out, args.overwrite)
    out, seeds = Path(args.out), list(range(args.seeds))
    try:
        if not args.report_only:
            run_cells(out, seeds, args.budget)
        write_report(out, seeds, describe(seeds=seeds))
    except (ValueError, FileNotFoundError) as e:
        ap.exit(2, f"{ap.prog}: error: {e}\n")
    print(f"wrote {out / 'results.md'}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
