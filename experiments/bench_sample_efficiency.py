"""Anytime sample efficiency on Once-for-All's ImageNet benchmark: evo-nas's surrogate-assisted and plain
NSGA-II, aging evolution, random search, pymoo, EvoX and Optuna, scored after N distinct networks.

    python experiments/bench_sample_efficiency.py                  # one command; writes runs/sample_efficiency
    python experiments/bench_sample_efficiency.py --report-only    # analyze the cells already run
    python experiments/bench_sample_efficiency.py --out experiments/sample_efficiency --overwrite  # replace the committed copy

Runs every missing algorithm x seed cell (``evo_nas/studies/sample_efficiency.py``; each cell is
written to ``OUT/cells/`` as it ends, so a stopped run continues), then writes ``OUT/results.md``,
``OUT/results.json``, ``OUT/anytime.png`` and ``OUT/surrogate_tau.md`` against the best-known front
``experiments/best_known_ofa.json`` (rebuilt by ``experiments/best_known_ofa.py``). The bench extra
(``pip install -e ".[bench]"``) provides EvoX and Optuna.
"""
from __future__ import annotations

import argparse
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from evo_nas.base.outputs import add_out_arguments, default_out, out_or_exit  # noqa: E402
from evo_nas.studies.sample_efficiency import load_cells, run_cells  # noqa: E402
from evo_nas.studies.sample_efficiency_report import write_report  # noqa: E402


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    add_out_arguments(ap, default_out("sample_efficiency"))
    ap.add_argument("--seeds", type=int, default=10)
    ap.add_argument("--jobs", type=int, default=2, help="cells at a time")
    ap.add_argument("--report-only", action="store_true", help="analyze the cells already run")
    args = ap.parse_args()
    out_or_exit(ap, args.out, args.overwrite)
    out, seeds = Path(args.out), list(range(args.seeds))
    if not args.report_only:
        run_cells(out, seeds, args.jobs)
    write_report(out, load_cells(out, seeds), seeds)
    return 0


if __name__ == "__main__":
    sys.exit(main())
