"""The configuration's sections as pydantic models: defaults, types, ranges and allowed keys of each.

A field's ``description`` is the phrase its allowed values read as in an error
(``[search] generations = 0 must be an int >= 1``). Keys whose meaning depends on a registered
choice are checked against the registry: ``[search]`` against the algorithm's ``search_keys``,
``[proxy]`` against the proxy kind, ``[latency]`` (``evo_nas.schema.latency``) against the ``mode``'s keys
(``[problem]`` is checked by ``evo_nas.schema.config``; ``[data]``, ``[space]`` and ``[proxy]``
are in ``evo_nas.schema.data``, ``evo_nas.schema.space`` and ``evo_nas.schema.proxy``). A default of ``None`` means the value
is derived where it is used (a data format from its path, a cache beside the run directory).
"""
from __future__ import annotations

from typing import Annotated, Any, Literal

from pydantic import ConfigDict, Field, field_validator, model_validator

from ..parallel import BACKENDS
from .base import FiniteFloat, MAX_COUNT, MAX_JOBS, MAX_THREADS, NJobs, PositiveFloat, Section
from .data import DataSection
from .space import SpaceSection
from .errors import unknown_key, validate
from .latency import LatencySection
from .proxy import ProxySection

# [search] keys the engine reads, whatever the algorithm
ENGINE_KEYS = ("algorithm", "generations", "max_evaluations", "n_jobs", "backend", "scheduler",
               "threads_per_worker", "cache", "max_stall", "base_dir")
# keys that change how a run executes but never its results: they may differ on resume (a
# different base_dir that resolves to other data is caught by the evaluation fingerprint)
EXECUTION_KEYS = ("n_jobs", "backend", "scheduler", "threads_per_worker", "cache", "base_dir")

class SearchSection(Section):
    """``[search]``: the engine's keys, and the algorithm's own (its class's ``search_keys``): checked
    and given their defaults by the algorithm's ``config_model`` when it declares one, else kept as
    given and checked by the algorithm when it is built."""

    model_config = ConfigDict(extra="allow")

    algorithm: str = Field("nsga2", description="a registered algorithm name")
    generations: int | None = Field(None, ge=1, le=MAX_COUNT, description=f"an int in [1, {MAX_COUNT}]")
    max_evaluations: int | None = Field(None, ge=1, le=MAX_COUNT, description=f"an int in [1, {MAX_COUNT}]")
    n_jobs: NJobs = Field(1, description=f"an int in [1, {MAX_JOBS}] or -1")
    backend: Literal[BACKENDS] = Field("loky", description=f"one of {', '.join(BACKENDS)}")
    scheduler: str | None = Field(None, description="an address string")
    threads_per_worker: int = Field(1, ge=1, le=MAX_THREADS, description=f"an int in [1, {MAX_THREADS}]")
    cache: Annotated[str, Field(min_length=1)] | Literal[False] | None = Field(
        None, description="a file path (a relative one from base_dir) or false")
    max_stall: int = Field(10, ge=1, le=MAX_COUNT, description=f"an int in [1, {MAX_COUNT}]")
    base_dir: str | None = Field(None, description="a directory path")

    @model_validator(mode="after")
    def _algorithm_keys(self) -> "SearchSection":
        from ..search.strategy import strategy_class

        cls = strategy_class(self.algorithm)
        keys = tuple(getattr(cls, "search_keys", ()) or ())
        for key in sorted(self.model_extra or {}):
            if key not in keys:
                raise unknown_key("[search]", key, (*ENGINE_KEYS, *keys), f" for algorithm {self.algorithm!r}")
        if self.generations is None and self.max_evaluations is None:
            raise ValueError("[search] needs a budget: generations and/or max_evaluations")
        model = getattr(cls, "config_model", None)
        if model is not None:
            self.__pydantic_extra__ = validate(model, dict(self.model_extra or {}), "search").model_dump(
                exclude_none=True)
        return self


class ObjectivesSection(Section):
    """``[objectives]``; ``names`` defaults to the problem's default objectives."""

    names: list[str] | None = Field(None, min_length=2,
                                    description="a list of at least two distinct objective names")
    latency_target_ms: PositiveFloat | None = Field(None, description="a positive number (ms)")
    reference: dict[str, FiniteFloat] | None = Field(
        None, description="a table of finite numbers, one per objective, such as { top1 = 0.70, latency_ms = 100.0 }")

    @field_validator("names")
    @classmethod
    def _distinct(cls, v):
        if v is not None and len(set(v)) != len(v):
            raise ValueError("names")
        return v


COMPARE_ALGORITHMS = ["nsga2", "aging", "rl", "random"]


class _CellsSection(Section):
    """The keys a comparison and a suite share: which algorithms and seeds run, at which budgets."""

    algorithms: list[str] = Field(default_factory=lambda: list(COMPARE_ALGORITHMS), min_length=1,
                                  description="a non-empty list of distinct names")
    seeds: list[int] = Field(default_factory=lambda: [0, 1, 2, 3, 4], min_length=1,
                             description="a non-empty list of distinct ints")
    cell_jobs: int = Field(1, ge=1, le=MAX_JOBS, description=f"an int in [1, {MAX_JOBS}]")
    budgets: list[Annotated[int, Field(ge=1)]] | None = Field(
        None, min_length=1, description="a non-empty increasing list of ints >= 1")

    @field_validator("algorithms", "seeds")
    @classmethod
    def _distinct(cls, v):
        if len(set(v)) != len(v):
            raise ValueError("repeated")
        return v

    @field_validator("budgets")
    @classmethod
    def _increasing(cls, v):
        if v is not None and sorted(set(v)) != v:
            raise ValueError("budgets")
        return v


class CompareSection(_CellsSection):
    """``[compare]``: which cells a comparison runs and how it analyzes them (``evo_nas.compare``)."""

    score_as_accuracy: PositiveFloat | None = Field(None, description="a number > 0")
    overrides: dict[str, Any] = Field(default_factory=dict,
                                      description="a table of tables, one per algorithm name")
    baseline: str | None = Field(None, description="one of the algorithms")
    latency_targets_ms: list[PositiveFloat] = Field(default_factory=list, description="a list of numbers > 0")
    ablation: list[str] = Field(default_factory=list, description="a list of distinct names")

    @field_validator("ablation")
    @classmethod
    def _distinct_ablation(cls, v):
        if len(set(v)) != len(v):
            raise ValueError("repeated")
        return v


class SuiteSection(_CellsSection):
    """``[suite]``: the same comparison over several problems (``evo_nas.compare.suite``). Each
    ``[suite.problems.NAME]`` table holds configuration sections (``problem``, ``objectives``,
    ``search``, ``compare``...) taken over the file's shared ones, table by table."""

    alpha: float = Field(0.05, gt=0, lt=1, description="a number in (0, 1)")
    problems: dict[str, dict[str, Any]] = Field(min_length=1, description="a non-empty table of named problem tables")
