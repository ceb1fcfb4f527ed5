"""``evo-nas compare``: algorithms x seeds on one evaluator and budget, then hypervolume curves,
overlaid fronts and a rank-tested table (NSGA-II, Deb et al., 2002, against MnasNet's RL controller,
Tan et al., 2019, aging evolution and random search, Real et al., 2019)."""
from __future__ import annotations

import sys
import time
from pathlib import Path

from ..base.outputs import check_out, default_out
from ..spaces.loader import read_toml


def register(sub):
    p = sub.add_parser("compare", help="compare search algorithms over seeds on equal budgets",
                       description="Run every algorithm x seed cell of CONFIG's [compare] section (each cell a "
                                   "resumable run directory; with a [suite] section, of each of its problems), then write hv_curve.csv/png, fronts.png, "
                                   "table.md/csv and summary.json (and reach.md/csv with a baseline, "
                                   "targets.md/csv with latency targets, *_ablation.png with an ablation; a suite writes them per "
                                   "problem in OUT/problems/NAME and suite.md/csv/json across problems).")
    p.add_argument("config", metavar="CONFIG", help="comparison config (.toml) with a [compare] section")
    p.add_argument("--out", help="output directory (default runs/<config name>); refused if git tracks files "
                                 "there (committed results) unless --overwrite")
    p.add_argument("--runs", help="directory of the cells' run directories (default OUT/runs; a suite's: "
                                  "RUNS/NAME per problem, default OUT/problems/NAME/runs)")
    p.add_argument("--n-jobs", type=int, help="evaluation workers per cell (overrides [search] n_jobs)")
    p.add_argument("--cell-jobs", type=int, help="cells run at once (overrides [compare] cell_jobs)")
    p.add_argument("--analyze-only", action="store_true", help="only read the finished cells and write the outputs")
    p.add_argument("--overwrite", action="store_true",
                   help="write into an --out (or --runs) that holds committed results, replacing them")
    p.add_argument("--quiet", action="store_true", help="print only the table")
    p.set_defaults(func=run)


def run(args) -> int:
    from ..compare import CompareConfig, load_comparison, run_cells, table_markdown, write_outputs

    path = Path(args.config)
    config = read_toml(path, "config")
    # relative [data]/[space] paths resolve from the config's folder, as in `evo-nas search`
    config["search"] = {**(config.get("search") or {})}
    config["search"].setdefault("base_dir", str(path.resolve().parent))
    if args.n_jobs is not None:
        config["search"]["n_jobs"] = args.n_jobs
    if args.cell_jobs is not None:
        key = "suite" if "suite" in config else "compare"
        config[key] = {**(config.get(key) or {}), "cell_jobs": args.cell_jobs}
    out = check_out(args.out or default_out(path.stem), args.overwrite, default=default_out(path.stem))
    if args.runs:
        check_out(args.runs, args.overwrite, option="--runs")
    if "suite" in config:
        return _run_suite(args, config, out)
    cmp = CompareConfig.from_dict(config)
    runs = Path(args.runs) if args.runs else out / "runs"
    if not args.analyze_only:
        n = len(cmp.algorithms) * len(cmp.seeds)
        t0 = time.perf_counter()
        count = iter(range(1, n + 1))

        def progress(algorithm, seed):
            if not args.quiet:
                print(f"[{next(count)}/{n}] {algorithm} seed {seed}  ({time.perf_counter() - t0:.0f} s)",
                      file=sys.stderr, flush=True)

        run_cells(config, runs, progress=progress)
    comparison = load_comparison(config, runs)
    files = write_outputs(comparison, out)
    print(table_markdown(comparison), end="")
    if not args.quiet:
        print(f"\nwrote {', '.join(str(f) for f in files)}")
    return 0


def _run_suite(args, config: dict, out: Path) -> int:
    """A ``[suite]`` file: every problem's comparison in OUT/problems/NAME, the summary in OUT."""
    from ..compare.suite import run_suite
    from ..compare.suite_output import suite_markdown, write_suite

    t0 = time.perf_counter()

    def progress(text):
        if not args.quiet:
            print(f"{text}  ({time.perf_counter() - t0:.0f} s)", file=sys.stderr, flush=True)

    suite = run_suite(config, out, runs=args.runs, progress=progress, analyze_only=args.analyze_only)
    files = write_suite(suite, out)
    print(suite_markdown(suite), end="")
    if not args.quiet:
        print(f"\nwrote {', '.join(str(f) for f in files)} and each problem's outputs in {out / 'problems'}")
    return 0
