"""The ``[search]`` settings and every check a search makes on its configuration before it writes anything.

``[search]`` keys the engine reads::

    algorithm = "nsga2"        # a name in STRATEGIES
    generations = 10           # ask/tell rounds (the initial population is generation 0)
    max_evaluations = 200      # unique genomes evaluated or served by the persistent cache; either or both
    n_jobs = 1                 # workers; results do not depend on it
    backend = "loky"           # loky | threading | sequential | dask
    scheduler = "tcp://..."    # dask only: scheduler address (else the current Client)
    threads_per_worker = 1     # torch threads in each worker
    cache = "runs/cache.sqlite"# persistent cache, a relative path from base_dir; default
                               # <run dir>/../evo-nas-cache.sqlite, none for a batch problem (it scores
                               # faster than a lookup); false: none
    max_stall = 10             # stop after this many generations without a new genome
    base_dir = "experiments"   # where relative paths of [data]/[space]/[problem] and the cache resolve
                               # (the CLI and the API set the config file's folder)

Defaults, types and ranges are declared once, in ``evo_nas.algorithms.config`` (``SearchSection``); an
algorithm's own keys are its class's ``search_keys``. Unknown keys are errors that name the
closest valid key; every error names the bad value.
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from ..algorithms.config import BUDGET_KEYS, ENGINE_KEYS, EXECUTION_KEYS, SearchSection
from ..algorithms.objectives import Objectives
from ..algorithms.strategy import make_strategy, strategy_class
from ..base.parallel import check_dask
from ..problems import Problem, make_problem
from ..schema.config import CONFIG_SECTIONS, Config, resolve, section

__all__ = ["BUDGET_KEYS", "CONFIG_SECTIONS", "ENGINE_KEYS", "EXECUTION_KEYS", "SearchSettings", "check_thread_safety",
           "validate_config"]


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
    base_dir: str | None = None

    @classmethod
    def from_section(cls, s: SearchSection) -> "SearchSettings":
        return cls(s.algorithm, s.generations, s.max_evaluations, s.n_jobs, s.backend, s.scheduler,
                   s.threads_per_worker, s.cache, s.max_stall, s.base_dir)

    @classmethod
    def from_config(cls, config: dict) -> "SearchSettings":
        """The ``[search]`` section of ``config`` checked by the schema (``ValueError`` of one line)."""
        if not isinstance(config, dict):
            raise ValueError(f"configuration must be a table, got {type(config).__name__}")
        return cls.from_section(section("search", config.get("search")))


def check_thread_safety(problem: Problem, settings: SearchSettings) -> None:
    if not problem.thread_safe and settings.backend == "threading" and settings.n_jobs != 1:
        raise ValueError(f"[search] backend = 'threading' with n_jobs = {settings.n_jobs}: problem "
                         f"{problem.name!r} is not thread-safe (training sets process-wide torch state); "
                         f"use loky, sequential or dask")


def validate_config(config: dict | Config, problem: Problem | None = None) -> Problem:
    """Every check a search makes before it writes anything: ``ValueError`` names the bad value.
    Returns the problem the config selects (``problem``, when given, stands for it)."""
    resolved = config if isinstance(config, Config) else resolve(config)
    resolved.check_sections()
    settings = SearchSettings.from_section(resolved.search)
    if settings.backend == "dask":
        check_dask(settings.scheduler)
    plain = resolved.dump()
    problem = problem if problem is not None else make_problem(plain)
    check_thread_safety(problem, settings)
    objectives = Objectives.from_dict(resolved.objectives, problem, resolved.constraints)
    rewards = "reward" in (getattr(strategy_class(settings.algorithm), "search_keys", None) or ())
    scored = resolved.compare is not None and resolved.compare.score_as_accuracy is not None
    problem.check(objectives, settings.algorithm, scored, rewards_accuracy=rewards)
    make_strategy(settings.algorithm, problem.space, plain["search"], objectives, np.random.default_rng(resolved.seed),
                  problem=problem)
    return problem
