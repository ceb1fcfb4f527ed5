"""``[compare]`` and ``[suite]``: which algorithm x seed cells a comparison runs, and how it is analyzed.

The models are here, below the engine, so that the whole configuration (``evo_nas.schema``) can
hold them; ``evo_nas.compare`` runs the cells they describe.
"""
from __future__ import annotations

from typing import Annotated, Any

from pydantic import Field, field_validator

from ..base.config import MAX_JOBS, PositiveFloat, Section

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
