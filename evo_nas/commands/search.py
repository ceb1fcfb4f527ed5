"""``evo-nas search``: run or resume a population search and write the whole Pareto set.

A thin layer over the Python API (``evo_nas.api.search`` and ``resume``); the engine is
``evo_nas.engine.runner.run_search`` (block-aware NSGA-II, Deb et al., 2002, over
MnasNet's factorized space, Tan et al., 2019, by default). ``evo-nas resume RUN`` continues a run
too, and may give it a larger budget.
"""
from __future__ import annotations

import functools
from pathlib import Path

from ._outcome import guarded, report


def register(sub):
    p = sub.add_parser("search", help="run (or resume) a search and write its Pareto set",
                       description="Run a search from a TOML config into a run directory (default runs/<config "
                                   "name>, numbered if taken), or continue one with --resume RUN.")
    p.add_argument("config", nargs="?", metavar="CONFIG",
                   help="experiment config: a .toml file, or the name of a config shipped in the package, such as quickstart")
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
        call = functools.partial(api.resume, run_dir, args.config, verbose=not args.quiet, rebuild=args.rebuild,
                                 **overrides)
    else:
        if args.run_dir:
            run_dir = check_out(args.run_dir, option="--run-dir", default=f"runs/{Path(args.config).stem}", flag=None)
        else:
            # a numbered directory is claimed (created) at once: searches started together get one each
            run_dir = api.free_run_dir(Path(args.config).stem, claim=True)
        call = functools.partial(api.search, args.config, run_dir, verbose=not args.quiet,
                                 claimed=not args.run_dir, **overrides)
    result = guarded("search", run_dir, f"evo-nas search --resume {run_dir}", call)
    if isinstance(result, int):  # stopped from outside
        return result
    return report("search", result, quiet=args.quiet, plot=not args.no_plot)
