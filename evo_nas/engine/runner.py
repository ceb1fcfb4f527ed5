"""``run_search``: a search from its configuration (or a run directory to resume) to its Pareto set.

It starts or resumes the run directory (``evo_nas.engine.run``; on resume the stored
configuration, of which only the ``EXECUTION_KEYS`` may change), runs the engine's loop
(``evo_nas.engine.loop``) until a stop reason, and writes the Pareto files and the summary.
The ``[search]`` keys are read and checked by ``evo_nas.engine.settings``.
"""
from __future__ import annotations

import copy
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable

from ..analysis.pareto import reference_warning
from ..problems import Problem
from ..base.parallel import check_dask
from ..problems.service import evaluate_task
from ..schema.config import resolve, resolved
from ..base.errors import shown
from .checkpoint import config_hash
from .loop import Engine
from .progress import Progress
from .front import front_hypervolume, true_front_metrics
from .guard import guarded_run
from .run import RunDir
from .settings import EXECUTION_KEYS, check_thread_safety, validate_config

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


def _strip(config: dict) -> dict:
    """``config`` without the ``EXECUTION_KEYS``, which may change on resume."""
    stripped = copy.deepcopy(config)
    for k in EXECUTION_KEYS:
        (stripped.get("search") or {}).pop(k, None)
    return stripped


def _differences(a, b, path: str = "") -> list[tuple[str, str, str]]:
    """Every key (dotted, in sorted order) where ``a`` and ``b`` differ, with both values (``absent``
    where one lacks it), as the configuration file spells them."""
    if not (isinstance(a, dict) and isinstance(b, dict)):
        return [] if a == b and type(a) is type(b) else [(path, shown(a), shown(b))]
    out = []
    for k in sorted(set(a) | set(b)):
        where = f"{path}.{k}" if path else k
        if k not in a or k not in b:
            out.append((where, shown(a[k]) if k in a else "absent", shown(b[k]) if k in b else "absent"))
        else:
            out += _differences(a[k], b[k], where)
    return out


def _sets(config: dict, key: str) -> bool:
    """Whether the configuration as given sets the dotted ``key``."""
    for part in key.split("."):
        if not isinstance(config, dict) or part not in config:
            return False
        config = config[part]
    return True


def _first_difference(stored: dict, given: dict, raw: dict) -> tuple[str, str, str]:
    """The difference to name: the first one in a key that ``raw`` (the configuration as given)
    sets, rather than a default that follows from it."""
    diffs = _differences(stored, given) or [("configuration", "one", "another")]
    return next((d for d in diffs if _sets(raw, d[0])), diffs[0])


def _resolve_resume_config(run: RunDir, config: dict | None) -> dict:
    """The stored configuration, resolved (a ``config.json`` written before defaults were filled in
    gets them now), with the ``EXECUTION_KEYS`` that ``config`` sets; ``ValueError`` when ``config``
    differs from the stored one in anything else (compared on resolved values)."""
    stored = resolved(run.config)
    if config is None:
        return stored
    given = resolved(config)
    if config_hash(given) != config_hash(stored):
        key, was, now = _first_difference(_strip(stored), _strip(given), config)
        raise ValueError(f"cannot resume {run.path}: the configuration differs in [{key.split('.')[0]}] "
                         f"({key}: {was} in the run, {now} given; only {', '.join(EXECUTION_KEYS)} may change "
                         f"on resume)")
    merged = copy.deepcopy(stored)
    for k in EXECUTION_KEYS:
        if k in (config.get("search") or {}):
            if k in given["search"]:
                merged["search"][k] = given["search"][k]
            else:
                merged["search"].pop(k, None)
    return merged


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
    if resume:
        run = RunDir(run_dir)
        config = _resolve_resume_config(run, config)
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
        engine.restore(rebuild)
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

