"""``[search]`` and ``[objectives]``: the engine's and the algorithm's keys, and which objectives are searched.

A field's ``description`` is the phrase its allowed values read as in an error
(``[search] generations = 0 must be an int >= 1``). ``[search]`` is checked against the named
algorithm's ``search_keys`` and ``config_model`` (``registry.strategy_class``); ``[constraints]`` is
``constraints_config``. A default of ``None`` means the value is derived where it is used (a cache
beside the run directory).
"""
from __future__ import annotations

from typing import Annotated, Literal

from pydantic import ConfigDict, Field, field_validator, model_validator

from ..base.config import MAX_COUNT, MAX_JOBS, MAX_THREADS, FiniteFloat, NJobs, PositiveFloat, Section
from ..base.errors import unknown_key, validate
from ..base.parallel import BACKENDS
from .registry import strategy_class

# [search] keys the engine reads, whatever the algorithm
ENGINE_KEYS = ("algorithm", "generations", "max_evaluations", "n_jobs", "backend", "scheduler",
               "threads_per_worker", "cache", "max_stall", "base_dir")
# keys that change how a run executes but never its results: they may differ on resume (a
# different base_dir that resolves to other data is caught by the evaluation fingerprint)
EXECUTION_KEYS = ("n_jobs", "backend", "scheduler", "threads_per_worker", "cache", "base_dir")
# the budget: a resume may raise it (a finished run goes on as if it had been given the larger budget
# from the start: every strategy asks the same whatever its budget), never lower it
BUDGET_KEYS = ("generations", "max_evaluations")

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
    """``[objectives]``; ``names`` defaults to the problem's default objectives. One name makes a
    single-objective search: its Pareto set is the best genome (and any that tie with it)."""

    names: list[str] | None = Field(None, min_length=1,
                                    description="a list of one or more distinct objective names")
    latency_target_ms: PositiveFloat | None = Field(None, description="a positive number (ms)")
    reference: dict[str, FiniteFloat] | None = Field(
        None, description="a table of finite numbers, one per objective, such as { top1 = 0.70, latency_ms = 100.0 }")

    @field_validator("names")
    @classmethod
    def _distinct(cls, v):
        if v is not None and len(set(v)) != len(v):
            raise ValueError("names")
        return v
