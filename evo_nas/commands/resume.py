"""``evo-nas resume``: continue a run from its last checkpoint, or give a finished run a larger budget.

A thin layer over ``evo_nas.api.resume``: the search state is rebuilt by replaying the seeded
search over the run's own records (``evo_nas.engine.checkpoint``), checked against its checkpoint
and logbook. ``--generations`` and ``--max-evaluations`` may raise the run's budget, never lower
it: a run of 20 generations resumed with ``--generations 30`` ends as a run of 30 from the start
would (``evo_nas.engine.resuming``). Bad input (no run directory, a checkpoint or records that
do not match the run, a lower budget) is one line and exit 2, and leaves the run as it was.
"""
from __future__ import annotations

import functools

from ._outcome import guarded, report


def register(sub):
    p = sub.add_parser("resume", help="continue a run, or give a finished one more generations or evaluations",
                       description="Continue the run in RUN_DIR from its last checkpoint. With --generations or "
                                   "--max-evaluations, raise its budget (never lower it): a finished run goes on as "
                                   "if it had been given that budget from the start.")
    p.add_argument("run_dir", metavar="RUN_DIR", help="the run directory (holds config.json)")
    p.add_argument("--generations", type=int, metavar="N", help="the run's generations in all (>= its own)")
    p.add_argument("--max-evaluations", type=int, metavar="N",
                   help="the run's unique evaluations in all (>= its own)")
    p.add_argument("--n-jobs", type=int, metavar="N", help="parallel workers (overrides [search] n_jobs)")
    p.add_argument("-v", "--verbose", action="store_true", help="a progress bar on stderr")
    p.add_argument("--quiet", action="store_true", help="print only the run dir")
    p.add_argument("--no-plot", action="store_true", help="do not write pareto.png")
    p.set_defaults(func=run)


def run(args) -> int:
    from .. import api
    from ..base.outputs import check_out

    run_dir = check_out(args.run_dir, option="RUN_DIR", flag=None)
    search = {k: v for k, v in (("generations", args.generations), ("max_evaluations", args.max_evaluations),
                                ("n_jobs", args.n_jobs)) if v is not None}
    call = functools.partial(api.resume, run_dir, verbose=args.verbose, **({"search": search} if search else {}))
    result = guarded("resume", run_dir, f"evo-nas resume {run_dir}", call)
    if isinstance(result, int):  # stopped from outside
        return result
    return report("resume", result, quiet=args.quiet, plot=not args.no_plot)
