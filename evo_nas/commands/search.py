"""``evo-nas search``: run or resume a population search and write the whole Pareto set.

A thin layer over the Python API (``evo_nas.api.search`` and ``resume``); the engine is
``evo_nas.engine.runner.run_search`` (block-aware NSGA-II, Deb et al., 2002, over
MnasNet's factorized space, Tan et al., 2019, by default).
"""
from __future__ import annotations

import sys
from pathlib import Path



# exit status of a search stopped from outside (full disk, lost cluster): EX_TEMPFAIL, try again later
INTERRUPTED = 75


def register(sub):
    p = sub.add_parser("search", help="run (or resume) a search and write its Pareto set",
                       description="Run a search from a TOML config into a run directory (default runs/<config "
                                   "name>, numbered if taken), or continue one with --resume RUN.")
    p.add_argument("config", nargs="?", metavar="CONFIG", help="experiment config (.toml)")
    p.add_argument("--run-dir", help="run directory (refused if it already holds a run, or files committed to git)")
    p.add_argument("--resume", metavar="RUN", help="continue the run in RUN from its last checkpoint")
    p.add_argument("--rebuild", action="store_true",
                   help="with --resume: replay the seeded search over the records RUN holds without checking them "
                        "against its checkpoint and logbook (what is missing is evaluated again); resumes runs of "
                        "older versions")
    p.add_argument("--n-jobs", type=int, help="parallel workers (overrides [search] n_jobs)")
    p.add_argument("--backend", help="loky, threading, sequential or dask (overrides [search] backend)")
    p.add_argument("--quiet", action="store_true", help="no progress bar or summary; print only the run dir")
    p.add_argument("--no-plot", action="store_true", help="do not write pareto.png")
    p.set_defaults(func=run)


def run(args) -> int:
    from .. import api

    if args.resume and args.run_dir:
        raise ValueError("--resume RUN and --run-dir are exclusive (the run directory is RUN)")
    if args.rebuild and not args.resume:
        raise ValueError("--rebuild goes with --resume RUN")
    if not args.resume and not args.config:
        raise ValueError("give a CONFIG to start a search, or --resume RUN")
    execution = {k: v for k, v in (("n_jobs", args.n_jobs), ("backend", args.backend)) if v is not None}
    overrides = {"search": execution} if execution else {}
    from ..base.outputs import check_out

    if args.resume:
        run_dir = check_out(args.resume, option="--resume", flag=None)
    elif args.run_dir:
        run_dir = check_out(args.run_dir, option="--run-dir", default=f"runs/{Path(args.config).stem}", flag=None)
    else:
        # a numbered directory is claimed (created) at once: searches started together get one each
        run_dir = api.free_run_dir(Path(args.config).stem, claim=True)
    try:
        if args.resume:
            result = api.resume(run_dir, args.config, verbose=not args.quiet, rebuild=args.rebuild, **overrides)
        else:
            result = api.search(args.config, run_dir, verbose=not args.quiet, claimed=not args.run_dir, **overrides)
    except KeyboardInterrupt:
        if (run_dir / "config.json").exists():
            print(f"evo-nas search: stopped; every finished evaluation is saved in {run_dir} (run.json status "
                  f"'interrupted'); resume with: evo-nas search --resume {run_dir}", file=sys.stderr)
        raise
    except (OSError, RuntimeError) as e:
        from ..base.parallel import shutdown_workers
        from ..engine.run import stopped_from_outside

        if not stopped_from_outside(e) or not (run_dir / "config.json").exists():
            raise
        shutdown_workers()
        print(f"evo-nas search: interrupted: {e}; every finished evaluation is saved in {run_dir} (run.json status "
              f"'interrupted'); resume with: evo-nas search --resume {run_dir}", file=sys.stderr)
        return INTERRUPTED
    objectives = result.objectives
    written = [result.run_dir / "pareto.csv", result.run_dir / "pareto.json"]
    if not args.no_plot and objectives.accuracy and "latency_ms" in objectives.names:
        written.append(result.plot())
    code = 3 if result.stopped == "all_failed" else 0
    if args.quiet:
        print(result.run_dir)
        for note in result.notes:
            print(f"evo-nas search: {note}", file=sys.stderr)
        return code
    print(result.table())
    hv = "-" if result.hypervolume is None else f"{result.hypervolume:.6g}"
    ref = objectives.to_dict().get("reference")
    print(f"\nrun: {result.run_dir}  generations: {result.generations}  evaluations: {result.n_evaluations}  "
          f"cache hits: {result.cache_hits}  failures: {result.failures}  stopped: {result.stopped}")
    print(f"Pareto set: {len(result.pareto)} architectures over every evaluation  hypervolume: {hv}"
          + (f" (reference {ref})" if ref else ""))
    if result.true_front is not None:
        from ..engine.front import true_front_text

        print(true_front_text(result.true_front))
    if result.failures:
        top = "; ".join(f"{n} x {reason}" for reason, n in list(result.failure_reasons.items())[:3])
        print(f"failures by reason: {top}")
    for note in result.notes:
        print(f"note: {note}")
    print("wrote " + ", ".join(str(p) for p in written))
    return code
