"""The search loop every strategy runs in: budget, cache, parallel evaluation, checkpoints, Pareto sets.

DEAP's ``eaMuPlusLambda`` evaluates only individuals without a fitness, through one pluggable
``map``; pymoo's ask/tell lets the caller own the loop. This engine does both for any
``Strategy`` (NSGA-II, Deb et al., 2002; the baselines): per generation it asks, serves genomes
already seen in this run or in the persistent cache, evaluates only new ones through
``parallel_map``, measures latency serially in this process when the latency model times
networks (workers are idle then), appends every evaluation to the run, tells the strategy,
logs the generation (hypervolume over every evaluation so far) and checkpoints. The budget is
counted in unique evaluations; cache hits are free.

``[search]`` keys the engine reads::

    algorithm = "nsga2"        # a name in STRATEGIES
    generations = 10           # ask/tell rounds (the initial population is generation 0)
    max_evaluations = 200      # unique evaluations (cache hits do not count); either or both
    n_jobs = 1                 # workers; results do not depend on it
    backend = "loky"           # loky | threading | sequential | dask
    scheduler = "tcp://..."    # dask only: scheduler address (else the current Client)
    threads_per_worker = 1     # torch threads in each worker
    cache = "runs/cache.sqlite"# persistent cache; default <run dir>/../evo-nas-cache.sqlite; false: none
    evaluator = "proxy"        # proxy: evo_nas.evaluate; synthetic: evo_nas.search.synthetic (tests)
    synthetic_fail = 0.0       # synthetic only: share of genomes that fail
    synthetic_latency = "pool" # synthetic only: "serial" hands latency to a model unsafe in a pool
    max_stall = 10             # stop after this many generations without a new genome
    base_dir = "experiments"   # where relative paths of [data]/[space] resolve (the CLI sets the config's folder)
"""
from __future__ import annotations

import copy
import hashlib
import json
import os
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable

import numpy as np

from ..cache import EvalCache
from ..parallel import check_backend, check_dask, parallel_map
from ..space import Genome
from .objectives import MAXIMIZE, Objectives
from .progress import Progress
from .run import RunDir, front_hypervolume, guarded_run, pareto_front
from .strategy import make_strategy, strategy_class

ENGINE_KEYS = ("algorithm", "generations", "max_evaluations", "n_jobs", "backend", "scheduler",
               "threads_per_worker", "cache", "evaluator", "synthetic_fail", "synthetic_latency", "max_stall",
               "base_dir")
# keys that change how a run executes but never its results: they may differ on resume (a
# different base_dir that resolves to other data is caught by the evaluation fingerprint)
EXECUTION_KEYS = ("n_jobs", "backend", "scheduler", "threads_per_worker", "cache", "base_dir")
EVALUATORS = ("proxy", "synthetic")


def _int(search: dict, key: str, default, minimum: int):
    v = search.get(key, default)
    if v is None:
        return None
    if isinstance(v, bool) or not isinstance(v, int) or v < minimum:
        raise ValueError(f"[search] {key} = {v!r} must be an int >= {minimum}")
    return v


@dataclass(frozen=True)
class SearchSettings:
    algorithm: str
    generations: int | None
    max_evaluations: int | None
    n_jobs: int
    backend: str
    scheduler: str | None
    threads_per_worker: int
    cache: str | bool | None
    evaluator: str
    max_stall: int

    @classmethod
    def from_config(cls, config: dict) -> "SearchSettings":
        if not isinstance(config, dict):
            raise ValueError(f"configuration must be a table, got {type(config).__name__}")
        search = config.get("search") or {}
        if not isinstance(search, dict):
            raise ValueError(f"[search] must be a table, got {search!r}")
        algorithm = search.get("algorithm", "nsga2")
        cls_ = strategy_class(algorithm)
        allowed = set(ENGINE_KEYS) | set(getattr(cls_, "search_keys", ()))
        unknown = sorted(set(search) - allowed)
        if unknown and hasattr(cls_, "search_keys"):
            raise ValueError(f"[search] unknown key {unknown[0]!r} for algorithm {algorithm!r} "
                             f"(expected one of {', '.join(sorted(allowed))})")
        generations = _int(search, "generations", None, 1)
        max_evals = _int(search, "max_evaluations", None, 1)
        if generations is None and max_evals is None:
            raise ValueError("[search] needs a budget: generations and/or max_evaluations")
        n_jobs = search.get("n_jobs", 1)
        backend = search.get("backend", "loky")
        check_backend(backend, n_jobs)
        scheduler = search.get("scheduler")
        if scheduler is not None and not isinstance(scheduler, str):
            raise ValueError(f"[search] scheduler = {scheduler!r} must be an address string")
        cache = search.get("cache")
        if cache is not None and not isinstance(cache, (str, bool)) or cache is True:
            raise ValueError(f"[search] cache = {cache!r} must be a file path or false")
        base_dir = search.get("base_dir")
        if base_dir is not None and not isinstance(base_dir, str):
            raise ValueError(f"[search] base_dir = {base_dir!r} must be a directory path")
        evaluator = search.get("evaluator", "proxy")
        if evaluator not in EVALUATORS:
            raise ValueError(f"[search] evaluator = {evaluator!r} (expected one of {', '.join(EVALUATORS)})")
        return cls(algorithm, generations, max_evals, n_jobs, backend, scheduler,
                   _int(search, "threads_per_worker", 1, 1), cache, evaluator, _int(search, "max_stall", 10, 1))


def make_eval_config(config: dict):
    """The evaluation config of a run: ``EvalConfig`` for the proxy, or the synthetic one."""
    evaluator = (config.get("search") or {}).get("evaluator", "proxy")
    if evaluator == "synthetic":
        from .synthetic import SyntheticConfig

        return SyntheticConfig.from_dict(config)
    try:
        from ..evaluate import EvalConfig
    except ImportError as e:
        raise ValueError(f"[search] evaluator = 'proxy' needs evo_nas.evaluate, which failed to import ({e})") from None
    return EvalConfig.from_dict(config, base_dir=(config.get("search") or {}).get("base_dir"))


def default_evaluator(config: dict) -> Callable:
    if (config.get("search") or {}).get("evaluator", "proxy") == "synthetic":
        from .synthetic import synthetic_evaluate

        return synthetic_evaluate
    from ..evaluate import evaluate

    return evaluate


def _set_threads(n: int) -> None:
    os.environ["OMP_NUM_THREADS"] = str(n)
    os.environ["MKL_NUM_THREADS"] = str(n)
    try:
        import torch
    except ImportError:
        return
    if torch.get_num_threads() != n:
        torch.set_num_threads(n)


def _plain(v):
    if isinstance(v, (np.floating, np.integer, np.bool_)):
        return v.item()
    return v


def evaluate_task(task) -> dict:
    """Run in a worker: one genome, torch threads fixed first; never raises for a bad candidate."""
    fn, genome, eval_cfg, threads = task
    _set_threads(threads)
    t0 = time.perf_counter()
    try:
        result = dict(fn(genome, eval_cfg))
    except Exception as e:
        result = {"status": "failed", "error": f"{type(e).__name__}: {e}"}
    result["eval_s"] = time.perf_counter() - t0
    return result


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


def _config_hash(config: dict) -> str:
    stripped = copy.deepcopy(config)
    for k in EXECUTION_KEYS:
        (stripped.get("search") or {}).pop(k, None)
    return hashlib.sha256(json.dumps(stripped, sort_keys=True, default=str).encode()).hexdigest()[:16]


def _resolve_resume_config(run: RunDir, config: dict | None) -> dict:
    stored = run.config
    if config is None:
        return stored
    if _config_hash(config) != _config_hash(stored):
        diff = sorted(k for k in set(config) | set(stored)
                      if k != "search" and config.get(k) != stored.get(k))
        if not diff:
            diff = ["search"]
        raise ValueError(f"cannot resume {run.path}: the configuration differs in [{diff[0]}] "
                         f"(only {', '.join(EXECUTION_KEYS)} may change on resume)")
    merged = copy.deepcopy(stored)
    merged.setdefault("search", {})
    for k in EXECUTION_KEYS:
        if k in (config.get("search") or {}):
            merged["search"][k] = config["search"][k]
    return merged


class _Engine:
    def __init__(self, config: dict, run: RunDir, evaluator, quiet: bool):
        self.config = config
        self.run = run
        self.settings = SearchSettings.from_config(config)
        self.objectives = Objectives.from_dict(config.get("objectives"))
        self.eval_cfg = make_eval_config(config)
        self.space = self.eval_cfg.space()
        self.fingerprint = self.eval_cfg.fingerprint()
        self.evaluator = evaluator or default_evaluator(config)
        self.quiet = quiet
        seed = config.get("seed", 0)
        if isinstance(seed, bool) or not isinstance(seed, int):
            raise ValueError(f"seed = {seed!r} must be an int")
        self.seed = seed
        self.strategy = make_strategy(self.settings.algorithm, self.space, config.get("search") or {},
                                      self.objectives, np.random.default_rng(seed))
        cache = self.settings.cache
        if cache is False:
            self.cache = None
        else:
            self.cache = EvalCache(Path(cache) if cache else run.path.parent / "evo-nas-cache.sqlite")
        self._latency_model = None
        self.memo: dict[str, dict] = {}
        for r in run.evaluations():
            self.memo[r["key"]] = r
        self.logbook: list[dict] = []
        self.generation = 0
        self.stall = 0

    # -- bookkeeping --------------------------------------------------------------------
    @property
    def n_evaluated(self) -> int:
        """Unique evaluations this run paid for (cache hits excluded)."""
        return sum(1 for r in self.memo.values() if not r.get("cached"))

    def latency_model(self):
        if self._latency_model is None:
            self._latency_model = self.eval_cfg.latency_model()
        return self._latency_model

    def record(self, genome: Genome, result: dict, generation: int, cached: bool) -> dict:
        rec = {k: _plain(v) for k, v in result.items()}
        rec.update(key=genome.key, genes=list(genome.genes), generation=generation, cached=cached)
        rec.setdefault("status", "failed")
        rec.setdefault("error", None)
        for k in ("val_acc", "latency_ms", "params_m", "macs_m", "train_s", "proxy"):
            rec.setdefault(k, None)
        return rec

    def restore(self) -> None:
        state = self.run.load_checkpoint()
        if state is None:
            return
        if state.get("fingerprint") != self.fingerprint:
            raise ValueError(f"{self.run.path}: checkpoint was written for evaluation fingerprint "
                             f"{state.get('fingerprint')}, this configuration gives {self.fingerprint}")
        self.strategy.load_state_dict(state["strategy"])
        self.generation = state["generation"]
        self.logbook = list(state["logbook"])
        self.stall = state.get("stall", 0)
        self.run.rewrite_logbook(self.logbook)

    def finish_pending(self) -> None:
        """Evaluations a kill left without their serial latency get it now."""
        pending = [r for r in self.memo.values() if r.get("latency_pending")]
        if pending:
            self.measure_pending(pending)

    def checkpoint(self) -> None:
        self.run.save_checkpoint({"strategy": self.strategy.state_dict(), "generation": self.generation,
                                  "logbook": self.logbook, "stall": self.stall, "fingerprint": self.fingerprint,
                                  "seed": self.seed})

    def stop_reason(self) -> str | None:
        s = self.settings
        if s.generations is not None and self.generation >= s.generations:
            return "generations"
        if s.max_evaluations is not None and self.n_evaluated >= s.max_evaluations:
            return "max_evaluations"
        if self.stall >= s.max_stall:
            return "stalled"
        return None

    # -- one generation -----------------------------------------------------------------
    def step(self) -> tuple[bool, dict]:
        t_start = time.perf_counter()
        gen = self.generation
        genomes = self.strategy.ask()
        results: list[dict | None] = [None] * len(genomes)
        new_keys: dict[str, Genome] = {}
        hits = 0
        fresh_hits = []
        for i, g in enumerate(genomes):
            key = g.key
            if key in self.memo:
                results[i] = self.memo[key]
                hits += 1
                continue
            if key in new_keys:
                continue
            cached = self.cache.get(key, self.fingerprint) if self.cache is not None else None
            if cached is not None:
                rec = self.record(g, {**cached, "eval_s": 0.0}, gen, cached=True)
                self.memo[key] = rec
                fresh_hits.append(rec)
                results[i] = rec
                hits += 1
            else:
                new_keys[key] = g
        self.run.append_evaluations(fresh_hits)

        todo = list(new_keys.values())
        truncated = False
        if self.settings.max_evaluations is not None:
            remaining = self.settings.max_evaluations - self.n_evaluated
            if len(todo) > remaining:
                todo, truncated = todo[:remaining], True

        t_eval = time.perf_counter()
        self.evaluate(todo, gen)
        eval_s = time.perf_counter() - t_eval

        failures = sum(1 for g in todo if self.memo[g.key]["status"] != "ok")
        entry = {"generation": gen, "asked": len(genomes), "evaluated": len(todo), "cache_hits": hits,
                 "failures": failures}
        if truncated:
            entry["partial"] = True
            return False, self._stats(entry, eval_s, t_start)
        results = [r if r is not None else self.memo[g.key] for r, g in zip(results, genomes)]
        self.strategy.tell(genomes, results)
        self.generation += 1
        self.stall = 0 if todo else self.stall + 1
        return True, self._stats(entry, eval_s, t_start)

    def evaluate(self, genomes: list[Genome], gen: int) -> None:
        if not genomes:
            return
        pending_latency: list[dict] = []

        def done(i: int, result: dict) -> None:
            rec = self.record(genomes[i], result, gen, cached=False)
            if self.needs_latency(rec):
                # on disk now, so a kill loses nothing; completed below, once the pool is idle
                rec["latency_pending"] = True
                pending_latency.append(rec)
                self.run.append_evaluations([rec])
                self.memo[rec["key"]] = rec
                return
            self.commit(rec)

        tasks = [(self.evaluator, g, self.eval_cfg, self.settings.threads_per_worker) for g in genomes]
        parallel_map(evaluate_task, tasks, self.settings.n_jobs, self.settings.backend,
                     on_result=done, scheduler=self.settings.scheduler)
        self.measure_pending(pending_latency)

    def needs_latency(self, rec: dict) -> bool:
        return rec["status"] == "ok" and rec.get("latency_ms") is None and self.latency_model() is not None

    def measure_pending(self, records: list[dict]) -> None:
        """Latency models that time the network run here, serially, while no worker is busy."""
        for rec in sorted(records, key=lambda r: r["key"]):
            rec = dict(rec)
            rec.pop("latency_pending", None)
            t0 = time.perf_counter()
            try:
                arch = self.space.genome(rec["genes"]).architecture()
                rec["latency_ms"] = float(self.latency_model().latency_ms(arch))
            except Exception as e:
                rec.update(status="failed", error=f"latency: {type(e).__name__}: {e}")
            rec["latency_s"] = time.perf_counter() - t0
            self.commit(rec)

    def commit(self, rec: dict) -> None:
        self.memo[rec["key"]] = rec
        self.run.append_evaluations([rec])
        if self.cache is not None and rec["status"] == "ok":
            stored = {k: v for k, v in rec.items() if k not in ("generation", "cached", "genes")}
            self.cache.put(rec["key"], self.fingerprint, stored)

    def _stats(self, entry: dict, eval_s: float, t_start: float) -> dict:
        records = list(self.memo.values())
        front = pareto_front(records, self.objectives)
        ok = [r for r in records if r["status"] == "ok"]
        entry["evaluations"] = self.n_evaluated
        entry["cache_hits_total"] = entry["cache_hits"] + sum(e["cache_hits"] for e in self.logbook)
        entry["failures_total"] = sum(1 for r in records if r["status"] != "ok")
        entry["front_size"] = len(front)
        entry["hypervolume"] = front_hypervolume(front, self.objectives)
        for name in self.objectives.names:
            vals = [r[name] for r in ok if r.get(name) is not None]
            if vals:
                entry[f"best_{name}"] = max(vals) if name in MAXIMIZE else min(vals)
        entry["eval_s"] = eval_s
        entry["wall_s"] = time.perf_counter() - t_start
        return entry


def validate_config(config: dict) -> None:
    """Every check a search makes before it writes anything: ``ValueError`` names the bad value."""
    settings = SearchSettings.from_config(config)
    if settings.backend == "dask":
        check_dask(settings.scheduler)
    objectives = Objectives.from_dict(config.get("objectives"))
    seed = config.get("seed", 0)
    if isinstance(seed, bool) or not isinstance(seed, int):
        raise ValueError(f"seed = {seed!r} must be an int")
    eval_cfg = make_eval_config(config)
    space = eval_cfg.space()
    if "latency_ms" in objectives.names and settings.evaluator == "proxy" and eval_cfg.latency_model() is None:
        raise ValueError("[objectives] names include latency_ms but the config has no [latency] section")
    if settings.evaluator == "proxy" and not eval_cfg.proxy.needs_training \
            and "score_as_accuracy" not in (config.get("compare") or {}):
        # a zero-cost proxy gives a score and no accuracy: every candidate would look failed
        kind = eval_cfg.proxy.name
        if "val_acc" in objectives.names:
            raise ValueError(f"[objectives] val_acc needs a training proxy; [proxy] kind = {kind!r} gives a score: "
                             f"use names = [\"score\", ...]")
        if "reward" in (getattr(strategy_class(settings.algorithm), "search_keys", None) or ()):
            raise ValueError(f"[search] algorithm = {settings.algorithm!r} rewards accuracy, which [proxy] kind = "
                             f"{kind!r} does not give (use kind = \"train\")")
    make_strategy(settings.algorithm, space, config.get("search") or {}, objectives, np.random.default_rng(seed))


@guarded_run
def run_search(config: dict | None, run_dir, *, resume: bool = False, quiet: bool = False,
               evaluator: Callable | None = None) -> SearchResult:
    """Run (or resume) a search into ``run_dir``; returns the Pareto set over every evaluation."""
    t0 = time.perf_counter()
    if resume:
        run = RunDir(run_dir)
        config = _resolve_resume_config(run, config)
        SearchSettings.from_config(config)
    else:
        if config is None:
            raise ValueError("a configuration is needed to start a search")
        validate_config(config)
        run = RunDir.create(run_dir, config)
    engine = _Engine(config, run, evaluator, quiet)
    if resume:
        engine.restore()
        engine.finish_pending()
    s = engine.settings
    total, unit = (s.generations, "gen") if s.generations is not None else (s.max_evaluations, "eval")
    initial = engine.generation if unit == "gen" else engine.n_evaluated
    progress = Progress(total, unit, quiet=quiet, initial=min(initial, total), desc=s.algorithm)
    summary = {"status": "running", "algorithm": s.algorithm, "seed": engine.seed,
               "fingerprint": engine.fingerprint, "objectives": engine.objectives.to_dict()}
    describe = getattr(engine.eval_cfg, "describe", None)
    if callable(describe):
        try:
            summary["evaluation"] = describe()
        except Exception as e:
            summary["evaluation"] = {"error": str(e)}
    run.write_summary(summary)
    if engine.generation == 0 and not engine.logbook:
        engine.checkpoint()
    stopped = engine.stop_reason()
    try:
        while stopped is None:
            before = engine.n_evaluated
            told, entry = engine.step()
            engine.logbook.append(entry)
            engine.checkpoint()
            run.append_logbook([entry])
            progress.update(1 if unit == "gen" else engine.n_evaluated - before, entry)
            stopped = engine.stop_reason() if told else "max_evaluations"
    finally:
        progress.close()
    records = list(engine.memo.values())
    front = pareto_front(records, engine.objectives)
    run.write_pareto(front)
    hv = front_hypervolume(front, engine.objectives)
    result = SearchResult(
        run_dir=run.path, evaluations=engine.n_evaluated,
        cache_hits=sum(e["cache_hits"] for e in engine.logbook),
        failures=sum(1 for r in records if r["status"] != "ok"), generations=engine.generation,
        stopped=stopped, front=front, hypervolume=hv, wall_s=time.perf_counter() - t0, logbook=engine.logbook)
    summary.update(status="done", stopped=stopped, evaluations=result.evaluations, generations=result.generations,
                   front_size=len(front), hypervolume=hv,
                   reference=engine.objectives.to_dict().get("reference"))
    run.write_summary(summary)
    if engine.cache is not None:
        engine.cache.close()
    return result
