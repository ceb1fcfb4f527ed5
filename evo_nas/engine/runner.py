"""``run_search``: a search from its configuration (or a run directory to resume) to its Pareto set.

It starts or resumes the run directory (``evo_nas.engine.run``; on resume the stored
configuration, of which only the ``EXECUTION_KEYS`` may change and the budget grow:
``evo_nas.engine.resuming``), runs the engine's loop
(``evo_nas.engine.loop``) until a stop reason, and writes the Pareto files and the summary.
The ``[search]`` keys are read and checked by ``evo_nas.engine.settings``.
"""
from __future__ import annotations

import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable

from ..analysis.pareto import reference_warning
from ..base.parallel import check_dask
from ..problems import Problem
from ..problems.service import evaluate_task
from ..schema.config import resolve
from .front import front_hypervolume, true_front_metrics
from .guard import guarded_run
from .loop import Engine
from .progress import Progress
from .resuming import resume_config
from .run import RunDir
from .settings import check_thread_safety, validate_config

__all__ = ["run_search", "validate_config", "SearchResult", "evaluate_task"]


@dataclass
class SearchResult:
    run_dir: Path
    evaluations: int
    cache_hits: int
    failures: int
    generations: int
    stopped: str
    front: list[dict]
    hypervolume: float | None
    wall_s: float
    logbook: list[dict] = field(default_factory=list)
    computed: int = 0
    failure_reasons: dict[str, int] = field(default_factory=dict)
    notes: list[str] = field(default_factory=list)
    true_front: dict | None = None


FAILURE_STOP = "all_failed"


@guarded_run
def run_search(config: dict | None, run_dir, *, resume: bool = False, quiet: bool = False,
               evaluator: Callable | None = None, problem: Problem | None = None,
               rebuild: bool = False, claimed: Path | None = None) -> SearchResult:
    """Run (or resume) a search into ``run_dir``; returns the Pareto set over every evaluation.

    ``claimed``: ``run_dir`` is an empty directory made for this search, with the topmost folder made
    for it (``guarded_run`` removes them when the search fails early).
    ``rebuild`` (with ``resume``): replay the seeded search over the records the run holds without
    checking them against its checkpoint and logbook (``Engine.restore``).

    ``evaluator(genome, config) -> dict`` replaces the problem's per-genome evaluation (tests);
    ``problem``, an already built instance of the problem the config names, saves building it."""
    t0 = time.perf_counter()
    budget = None  # a resume's grown budget, written to config.json once the replay has reproduced the run
    if resume:
        run = RunDir(run_dir)
        config, budget = resume_config(run, config)
    else:
        if config is None:
            raise ValueError("a configuration is needed to start a search")
        checked = resolve(config)
        problem = validate_config(checked, problem)
        config = checked.dump()
        run = RunDir.create(run_dir, config)
    engine = Engine(config, run, evaluator, quiet, problem)
    check_thread_safety(engine.problem, engine.settings)
    if resume and engine.settings.backend == "dask":
        check_dask(engine.settings.scheduler)
    if resume:
        engine.restore(rebuild, grown=budget is not None)
        engine.finish_pending()
    s = engine.settings
    total, unit = (s.generations, "gen") if s.generations is not None else (s.max_evaluations, "eval")
    initial = engine.generation if unit == "gen" else engine.tally.n_evaluated
    progress = Progress(total, unit, quiet=quiet, initial=min(initial, total), desc=s.algorithm)
    if not quiet:
        engine.say = progress.write
    summary = {"status": "running", "algorithm": s.algorithm, "seed": engine.seed, "problem": engine.problem.name,
               "fingerprint": engine.fingerprint, "objectives": engine.objectives.to_dict()}
    try:
        summary["evaluation"] = engine.problem.describe()
    except Exception as e:  # noqa: BLE001  (a description is informative only)
        summary["evaluation"] = {"error": str(e)}
    run.write_summary(summary)
    if not resume:
        engine.checkpoint(force=True)
    stopped = engine.stop_reason()
    try:
        while stopped is None:
            if budget is not None and engine.replayed():
                engine.checkpoint(force=True)  # bound to the run whatever its budget, before config.json changes
                run.grow_budget(budget)
                budget = None
            before = engine.tally.n_evaluated
            stopped, entry = engine.step()
            engine.log(entry)
            engine.checkpoint()
            progress.update(1 if unit == "gen" else engine.tally.n_evaluated - before, entry)
            if stopped is None and entry.get("all_failed"):
                stopped = FAILURE_STOP
            stopped = stopped or engine.stop_reason()
    finally:
        progress.close()
        engine.write_logbook()
    if budget is not None and engine.replayed():
        run.grow_budget(budget)
    engine.checkpoint(force=True)
    engine.tally.release_all()
    front = [engine.with_genes(r) for r in engine.tally.archive.sorted()]
    run.write_pareto(front, records=list(engine.tally.memo.values()))
    report = getattr(engine.strategy, "report", None)
    if report is not None:
        run.write_report(f"{s.algorithm}.jsonl", report())
    hv = front_hypervolume(front, engine.objectives)
    reasons = dict(engine.tally.failure_reasons.most_common())
    notes = []
    if stopped == FAILURE_STOP:
        notes.append(f"every candidate of generation {engine.logbook[-1]['generation']} failed; commonest reason: "
                     f"{next(iter(reasons), 'unknown')}")
    ref = engine.objectives.reference_vector()
    if ref is None:
        if engine.objectives.n_obj > 1:  # with one objective the best value says it all
            notes.append("no hypervolume: [objectives] reference is not set (a point no member should reach, "
                         "one value per objective, natural units)")
    elif len(engine.tally.archive._F):
        warning = reference_warning(engine.tally.archive._F, ref, engine.objectives.names)
        if warning:
            notes.append(warning)
    target = engine.objectives.latency_target_ms
    if target is not None and not front:
        lats = [r["latency_ms"] for r in engine.tally.memo.values()
                if r["status"] == "ok" and r.get("latency_ms") is not None]
        low = f"{min(lats):.4g} ms" if lats else "none (no successful evaluation)"
        notes.append(f"no candidate met latency_target_ms = {target:g}; the lowest latency reached was {low}")
    true = engine.problem.true_front(engine.objectives.names, engine.objectives.latency_target_ms)
    scored = None if true is None else true_front_metrics(
        true, front, [k for k, r in engine.tally.memo.items() if r["status"] == "ok"], engine.objectives)
    result = SearchResult(
        run_dir=run.path, evaluations=engine.tally.n_evaluated,
        cache_hits=engine.logbook[-1]["cache_hits_total"] if engine.logbook else 0,
        failures=engine.tally.n_failed, generations=engine.generation,
        computed=engine.tally.n_evaluated - engine.tally.n_served,
        stopped=stopped, front=front, hypervolume=hv, wall_s=time.perf_counter() - t0, logbook=engine.logbook,
        failure_reasons=reasons, notes=notes, true_front=scored)
    if scored is not None:
        summary["true_front"] = scored
    summary.update(status="done", stopped=stopped, evaluations=result.evaluations, generations=result.generations,
                   computed=result.computed, cache_hits=result.cache_hits, front_size=len(front), hypervolume=hv,
                   failures=result.failures, failure_reasons=reasons,
                   notes=notes, reference=engine.objectives.to_dict().get("reference"))
    run.write_summary(summary)
    if engine.cache is not None:
        engine.cache.close()
    return result

