"""What ``evo-nas search`` and ``evo-nas resume`` print when a search ends or is stopped, and their exit codes.

Exit codes: 0 done; 3 every candidate of a generation failed; 75 (EX_TEMPFAIL, try again later)
stopped from outside (a full disk, a lost cluster): every finished evaluation is saved and the run
resumes once that is fixed. Ctrl-C and SIGTERM propagate to ``evo_nas.cli`` after saying how to resume.
"""
from __future__ import annotations

import sys
from pathlib import Path
from typing import Callable

INTERRUPTED = 75


def guarded(command: str, run_dir: Path, resume_with: str, call: Callable):
    """``call()``'s result; a search stopped part-way says on stderr how to resume it (``resume_with``)
    and raises on (Ctrl-C, SIGTERM) or returns ``INTERRUPTED`` (stopped from outside)."""
    try:
        return call()
    except KeyboardInterrupt:
        if (run_dir / "config.json").exists():
            print(f"evo-nas {command}: stopped; every finished evaluation is saved in {run_dir} (run.json status "
                  f"'interrupted'); resume with: {resume_with}", file=sys.stderr)
        raise
    except (OSError, RuntimeError) as e:
        from ..base.parallel import shutdown_workers
        from ..engine.guard import stopped_from_outside

        if not stopped_from_outside(e) or not (run_dir / "config.json").exists():
            raise
        shutdown_workers()
        print(f"evo-nas {command}: interrupted: {e}; every finished evaluation is saved in {run_dir} (run.json "
              f"status 'interrupted'); resume with: {resume_with}", file=sys.stderr)
        return INTERRUPTED


def report(command: str, result, *, quiet: bool, plot: bool) -> int:
    """Print a finished search's Pareto set and counts (``quiet``: only its run directory), write
    ``pareto.png`` when ``plot`` and the objectives allow; the exit code (3: every candidate failed)."""
    objectives = result.objectives
    written = [result.run_dir / "pareto.csv", result.run_dir / "pareto.json"]
    if plot:
        written.append(result.plot())
    code = 3 if result.stopped == "all_failed" else 0
    if quiet:
        print(result.run_dir)
        for note in result.notes:
            print(f"evo-nas {command}: {note}", file=sys.stderr)
        return code
    print(result.table())
    hv = "-" if result.hypervolume is None else f"{result.hypervolume:.6g}"
    ref = objectives.to_dict().get("reference")
    print(f"\nrun: {result.run_dir}  generations: {result.generations}  evaluations: {result.n_evaluations}  "
          f"cache hits: {result.cache_hits}  failures: {result.failures}  stopped: {result.stopped}")
    if objectives.n_obj == 1 and result.pareto:
        name = objectives.names[0]
        print(f"best {name}: {result.pareto[0][name]:.6g} ({len(result.pareto)} architecture"
              f"{'s' if len(result.pareto) > 1 else ''} over every evaluation)")
    else:
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
