"""The ``[search]`` settings and every check a search makes on its configuration before it writes anything.

``[search]`` keys the engine reads::

    algorithm = "nsga2"        # a name in STRATEGIES
    generations = 10           # ask/tell rounds (the initial population is generation 0)
    max_evaluations = 200      # unique genomes evaluated or served by the persistent cache; either or both
    n_jobs = 1                 # workers; results do not depend on it
    backend = "loky"           # loky | threading | sequential | dask
    scheduler = "tcp://..."    # dask only: scheduler address (else the current Client)
    threads_per_worker = 1     # torch threads in each worker
    cache = "runs/cache.sqlite"# persistent cache; default <run dir>/../evo-nas-cache.sqlite, none for a
                               # batch problem (it scores faster than a lookup); false: none
    max_stall = 10             # stop after this many generations without a new genome
    base_dir = "experiments"   # where relative paths of [data]/[space]/[problem] resolve (the CLI sets the config's folder)

Unknown keys are errors that name the closest valid key; every error names the bad value.
"""
from __future__ import annotations

import difflib
from dataclasses import dataclass

import numpy as np

from ..parallel import check_backend, check_dask
from ..problems import Problem, make_problem
from .objectives import Objectives
from .strategy import make_strategy, strategy_class

ENGINE_KEYS = ("algorithm", "generations", "max_evaluations", "n_jobs", "backend", "scheduler",
               "threads_per_worker", "cache", "max_stall", "base_dir")
# keys that change how a run executes but never its results: they may differ on resume (a
# different base_dir that resolves to other data is caught by the evaluation fingerprint)
EXECUTION_KEYS = ("n_jobs", "backend", "scheduler", "threads_per_worker", "cache", "base_dir")
# top-level keys and sections a configuration may hold
CONFIG_SECTIONS = ("seed", "problem", "search", "objectives", "space", "data", "proxy", "latency", "compare",
                   "tradeoff", "fidelity", "bench")


def _int(search: dict, key: str, default, minimum: int):
    v = search.get(key, default)
    if v is None:
        return None
    if isinstance(v, bool) or not isinstance(v, int) or v < minimum:
        raise ValueError(f"[search] {key} = {v!r} must be an int >= {minimum}")
    return v


def check_sections(config: dict) -> None:
    """Unknown top-level keys are an error naming the closest valid one."""
    for key in config:
        if key not in CONFIG_SECTIONS:
            close = difflib.get_close_matches(key, CONFIG_SECTIONS, n=1)
            hint = f" (did you mean {close[0]!r}?)" if close else f" (expected one of {', '.join(CONFIG_SECTIONS)})"
            raise ValueError(f"unknown configuration key {key!r}{hint}")


def check_seed(config: dict) -> int:
    seed = config.get("seed", 0)
    if isinstance(seed, bool) or not isinstance(seed, int) or seed < 0:
        raise ValueError(f"seed = {seed!r} must be a non-negative int")
    return seed


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
        if unknown:
            close = difflib.get_close_matches(unknown[0], sorted(allowed), n=1)
            hint = f"did you mean {close[0]!r}?" if close else f"expected one of {', '.join(sorted(allowed))}"
            raise ValueError(f"[search] unknown key {unknown[0]!r} for algorithm {algorithm!r} ({hint})")
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
        return cls(algorithm, generations, max_evals, n_jobs, backend, scheduler,
                   _int(search, "threads_per_worker", 1, 1), cache, _int(search, "max_stall", 10, 1))


def check_thread_safety(problem: Problem, settings: SearchSettings) -> None:
    if not problem.thread_safe and settings.backend == "threading" and settings.n_jobs != 1:
        raise ValueError(f"[search] backend = 'threading' with n_jobs = {settings.n_jobs}: problem "
                         f"{problem.name!r} is not thread-safe (training sets process-wide torch state); "
                         f"use loky, sequential or dask")


def validate_config(config: dict, problem: Problem | None = None) -> Problem:
    """Every check a search makes before it writes anything: ``ValueError`` names the bad value.
    Returns the problem the config selects (``problem``, when given, stands for it)."""
    if not isinstance(config, dict):
        raise ValueError(f"configuration must be a table, got {type(config).__name__}")
    check_sections(config)
    settings = SearchSettings.from_config(config)
    if settings.backend == "dask":
        check_dask(settings.scheduler)
    seed = check_seed(config)
    problem = problem if problem is not None else make_problem(config)
    check_thread_safety(problem, settings)
    objectives = Objectives.from_dict(config.get("objectives"), problem)
    rewards = "reward" in (getattr(strategy_class(settings.algorithm), "search_keys", None) or ())
    problem.check(objectives, settings.algorithm, "score_as_accuracy" in (config.get("compare") or {}),
                  rewards_accuracy=rewards)
    make_strategy(settings.algorithm, problem.space, config.get("search") or {}, objectives,
                  np.random.default_rng(seed))
    return problem
