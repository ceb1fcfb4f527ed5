"""The ``[constraints]`` section: hard limits on any objective a problem reports.

::

    [constraints]
    latency_ms = { max = 20.0 }
    params_m = { max = 5.0 }
    top1 = { min = 0.6 }

Each key is an objective of the problem (checked where the objectives are resolved,
``evo_nas.algorithms.objectives``); each value gives ``min``, ``max`` or both, in the objective's
natural unit. The search treats them as inequality constraints (``evo_nas.algorithms.constraints``).
"""
from __future__ import annotations

from pydantic import Field, model_validator

from ..base.config import FiniteFloat, Section


class Bound(Section):
    """One objective's limits: ``min`` and/or ``max``, in its natural unit."""

    min: FiniteFloat | None = Field(None, description="a finite number (the objective's lowest allowed value)")
    max: FiniteFloat | None = Field(None, description="a finite number (the objective's highest allowed value)")

    @model_validator(mode="after")
    def _some(self) -> "Bound":
        if self.min is None and self.max is None:
            raise ValueError("a constraint gives min, max or both, e.g. { max = 20.0 }")
        if self.min is not None and self.max is not None and self.min > self.max:
            raise ValueError(f"min = {self.min:g} is above max = {self.max:g}")
        return self


def check_constraints(section: dict) -> dict:
    """``[constraints]`` with every bound checked (``ValueError`` of one line naming the objective and the
    bad value); returns it as plain tables, unset bounds left out."""
    from ..base.errors import validate

    out = {}
    for name, bound in section.items():
        if not isinstance(bound, dict):
            raise ValueError(f"[constraints] {name} = {bound!r} must be a table such as {{ max = 20.0 }}")
        out[name] = validate(Bound, bound, f"constraints.{name}").model_dump(exclude_none=True)
    return out


__all__ = ["Bound", "check_constraints"]
