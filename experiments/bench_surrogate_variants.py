"""Variants of evo-nas's surrogate-assisted NSGA-II on ofa-mbv3 (accuracy model, inner population, optimism),
scored as the sample-efficiency study scores a cell: hypervolume of the first N distinct networks against the
best-known front.

    python experiments/bench_surrogate_variants.py --variants br-p100-k0,br-p300-k05 --seeds 0-9 --budget 2000
    python experiments/bench_surrogate_variants.py --variants br-p100-k0,br-p300-k05 --seeds 0-9 --report-only
    python experiments/bench_surrogate_variants.py --oracle --variants br-p100-k0,br-p300-k0 --seeds 0-2 --budget 1000

The variants and the report are ``evo_nas.studies.surrogate_variants``. Each variant x seed cell is
``evo_nas.studies.sample_efficiency.run_cell`` with the variant's
``[search.surrogate]`` keys (all spelled out, so a change of default changes no variant), written to
``OUT/cells/`` as it ends (a rerun continues). The report gives per budget the median [IQR] fraction
of the best-known hypervolume, two-sided exact Mann-Whitney p and Vargha-Delaney A12 against the
first variant, the model's Kendall tau pooled by stage of the run (``pooled_taus``), and the wall
seconds per cell (a rough guide: the machine may be shared). ``--oracle`` replaces the model by the
benchmark's own accuracy (a diagnostic: what the inner search and the batch reach with a perfect model).
"""
from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from evo_nas.base.outputs import add_out_arguments, default_out, out_or_exit  # noqa: E402
from evo_nas.studies.sample_efficiency import run_cell  # noqa: E402
from evo_nas.studies.surrogate_variants import VARIANTS, report, use_oracle  # noqa: E402


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    add_out_arguments(ap, default_out("surrogate_variants"))
    ap.add_argument("--variants", default="br-p100-k0,br-p300-k05",
                    help=f"comma-separated, the first is the baseline; of {', '.join(VARIANTS)}")
    ap.add_argument("--seeds", default="0-9", help="a range a-b or a comma-separated list")
    ap.add_argument("--budget", type=int, default=2000, help="distinct networks per cell")
    ap.add_argument("--oracle", action="store_true", help="a perfect model (diagnostic; cells go to OUT/oracle)")
    ap.add_argument("--report-only", action="store_true")
    args = ap.parse_args()
    variants = args.variants.split(",")
    bad = [v for v in variants if v not in VARIANTS]
    if bad:
        ap.error(f"unknown variant {bad[0]!r} (expected one of {', '.join(VARIANTS)})")
    a, _, b = args.seeds.partition("-")
    seeds = list(range(int(a), int(b) + 1)) if b else [int(s) for s in args.seeds.split(",")]
    out = out_or_exit(ap, args.out, args.overwrite) / ("oracle" if args.oracle else "")
    (out / "cells").mkdir(parents=True, exist_ok=True)
    if args.oracle:
        use_oracle()
    if not args.report_only:
        for s in seeds:
            for v in variants:
                path = out / "cells" / f"{v}-{s}.json"
                if not path.exists():
                    cell = run_cell("surrogate", s, args.budget, VARIANTS[v])
                    path.write_text(json.dumps({**cell, "variant": v, "surrogate": VARIANTS[v]}))
                    print(f"{v} seed {s}: {cell['distinct']} networks, {cell['wall_s']:.0f} s", flush=True)
    text = report(out, variants, seeds)
    (out / f"report-{'_'.join(variants)}-{seeds[0]}-{seeds[-1]}.md").write_text(text)
    print(text)
    return 0


if __name__ == "__main__":
    sys.exit(main())
