"""Same search, two platforms (issue 16; MnasNet, Tan et al., 2019, arXiv 1807.11626, section 6.2).

    python experiments/platforms.py [--config experiments/platforms.toml] [--out runs/platforms]
                                    [--no-measure]
    python experiments/platforms.py --out experiments/platforms --overwrite   # replace the committed copy

MnasNet's thesis is that the best architectures differ from platform to platform, so latency
must come from the target. This runs the same seeded NSGA-II search on Once-for-All's space
twice, with Samsung Note10 latency (Once-for-All's per-layer tables, measured on the phone) and
with this machine's (its own per-layer table, torch, one thread), and reports:

1. this machine's table: distinct layers, build time (built first, serially, when missing);
2. rank agreement of the two platforms over seeded random subnets (Kendall tau): Note10 vs this
   machine measured end to end, and vs this machine's table;
3. the two Pareto sets: members shared, the choices they make (resolution, depth, kernel,
   expansion), each set re-scored on the other platform (this machine: predicted by the table
   and measured end to end), hypervolume and the lowest latency reaching a top-1 in each
   platform's objective space, and one figure with both fronts on both platforms.

Top-1 is Once-for-All's predictor on both platforms; only latency changes. Run it on a quiet
machine (it measures); ``--no-measure`` skips the end-to-end measurements. Writes
``results.txt``, ``results.json``, ``pareto_sets.csv`` and ``fronts.png`` to ``--out``.
The study is ``evo_nas/studies/platforms.py``.
"""
from __future__ import annotations

import argparse
import sys
import tempfile
from pathlib import Path

from evo_nas.base.outputs import add_out_arguments, default_out, out_or_exit
from evo_nas.spaces.loader import read_toml
from evo_nas.studies.platforms import PLATFORMS, platforms_study, report, write_results

HERE = Path(__file__).resolve().parent


def main(argv=None) -> int:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--config", default=str(HERE / "platforms.toml"))
    add_out_arguments(p, default_out("platforms"))
    p.add_argument("--runs", help="an empty folder to keep the two run directories in (default: a temporary "
                                  "folder, removed at the end)")
    p.add_argument("--no-measure", action="store_true", help="skip the end-to-end measurements (table only)")
    args = p.parse_args(argv)
    out = out_or_exit(p, args.out, args.overwrite)
    out_or_exit(p, args.runs, args.overwrite, option="--runs")
    if args.runs and any((Path(args.runs) / d).exists() for d in PLATFORMS):
        print(f"error: --runs {args.runs} already holds a run of this experiment; choose an empty folder",
              file=sys.stderr)
        return 2
    cfg = read_toml(Path(args.config), "config")
    with tempfile.TemporaryDirectory(prefix="evo-nas-platforms-") as tmp:
        result, sets, columns = platforms_study(cfg, Path(args.runs or tmp), measure=not args.no_measure,
                                                keep_runs=bool(args.runs))
    print(report(result))
    command = f"python experiments/platforms.py{' --no-measure' if args.no_measure else ''}"
    files = write_results(result, sets, columns, out, command)
    print(f"wrote {', '.join(str(f) for f in files)}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
