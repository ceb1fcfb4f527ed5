"""``evo-nas pareto``: the non-dominated set over every evaluation of a run, as table, CSV, JSON and PNG,
scored against the exact Pareto front where the run's problem knows it.

Dominance in minimization form (accuracy negated), as in NSGA-II (Deb et al., 2002).
"""
from __future__ import annotations

import errno
import sys


def register(sub):
    p = sub.add_parser("pareto", help="print a run's Pareto set and write CSV, JSON and a PNG plot",
                       description="Recompute the Pareto set over every evaluation of RUN; print it and write "
                                   "pareto.csv, pareto.json and pareto.png into the run directory.")
    p.add_argument("run_dir", metavar="RUN", help="run directory written by evo-nas search")
    p.add_argument("--no-plot", action="store_true", help="skip the PNG")
    p.add_argument("--keys", action="store_true", help="print full genome strings instead of shortened ones")
    p.set_defaults(func=run)


def run(args) -> int:
    from ..analysis.pareto import reference_warning
    from ..analysis.plots import plot_front
    from ..analysis.report import front_table
    from ..base.files import remove_stale_stages
    from ..engine.checkpoint import check_records
    from ..engine.front import front_hypervolume
    from ..engine.run import RunDir

    run_dir = RunDir(args.run_dir)
    for stale in remove_stale_stages(run_dir.path):
        print(f"removed {stale}, left by an export that was stopped", file=sys.stderr)
    objectives = run_dir.objectives()
    records = run_dir.evaluations()
    lacking = check_records(run_dir.path, run_dir.load_checkpoint(), run_dir.logbook(), records)
    if lacking:
        raise ValueError(f"{lacking}; no Pareto set is taken over a smaller run (restore the file, or resume with "
                         f"`evo-nas search --resume {run_dir.path} --rebuild`)")
    if not records:
        raise ValueError(f"{run_dir.path / 'evaluations.jsonl'} holds no evaluation records: no Pareto set to "
                         f"take (nothing was written)")
    front = run_dir.pareto(records)
    print(front_table(front, objectives, args.keys))
    hv = front_hypervolume(front, objectives)
    ref = objectives.to_dict().get("reference")
    n_ok = sum(1 for r in records if r.get("status") == "ok")
    if objectives.n_obj == 1 and front:
        print(f"\nbest {objectives.names[0]}: {front[0][objectives.names[0]]:.6g} ({len(front)} of {len(records)} "
              f"evaluations, {n_ok} ok)")
    else:
        print(f"\n{len(front)} non-dominated of {len(records)} evaluations ({n_ok} ok)  hypervolume: "
              f"{'-' if hv is None else f'{hv:.6g}'}" + (f" (reference {ref})" if ref else ""))
    true = _true_front(run_dir, objectives, front, records)
    if true:
        print(true)
    ref_vector = objectives.reference_vector()
    warning = None if ref_vector is None or not front else reference_warning(
        [objectives.vector(r) for r in front], ref_vector, names=objectives.names)
    if warning:
        print(f"warning: {warning}")
    try:
        written = list(run_dir.write_pareto(front, records))[::-1]
        if not args.no_plot:
            written.append(plot_front(records, front, objectives, run_dir.path / "pareto.png"))
    except OSError as e:  # a run on a read-only medium, or someone else's: the table above stands
        if e.errno not in (errno.EROFS, errno.EACCES, errno.EPERM):
            raise
        print(f"note: the Pareto files were not written ({e.strerror}: {e.filename})")
        return 0
    print("wrote " + ", ".join(str(p) for p in written))
    return 0


def _true_front(run_dir, objectives, front, records) -> str | None:
    """The line scoring ``front`` against the exact Pareto front, for a problem that knows it; None otherwise."""
    from ..engine.front import true_front_metrics, true_front_text
    from ..problems import Problem, problem_class, problem_name
    from ..problems.benchdata import DataMissing

    if problem_class(problem_name(run_dir.config)).true_front is Problem.true_front:
        return None
    try:
        true = run_dir.problem().true_front(objectives.names, objectives.latency_target_ms)
    except DataMissing as e:
        return f"true Pareto front: not scored ({e})"
    if true is None:
        return None
    ok = [r["key"] for r in records if r.get("status") == "ok"]
    return true_front_text(true_front_metrics(true, front, ok, objectives))
