"""The latency measurement protocol's keys: their types and ranges, for ``[latency]`` and ``Protocol``.

``[latency]`` (``evo_nas.latency.config.LatencySection``) takes these fields, and
``evo_nas.latency.measure.Protocol`` checks its values here when it is made, so the rule has
one place. A bad value is a ``ValueError`` of one line: ``[latency] repeats = 0 must be an int
>= 1 (timed calls per round)``. Imports nothing of the package beyond ``evo_nas.base.config``
and ``evo_nas.base.errors``, so the measurement module may use it without loading the rest of
the schema.
"""
from __future__ import annotations

from pydantic import Field

from ..base.config import MAX_STEPS, Section
from ..base.errors import validate

PROTOCOL_KEYS = ("warmup", "repeats", "rounds", "max_cv", "max_attempts")


class ProtocolKeys(Section):
    """The five protocol keys; ``None``: not given (the defaults are ``Protocol``'s)."""

    warmup: int | None = Field(None, ge=0, le=MAX_STEPS, description=f"an int in [0, {MAX_STEPS}] (untimed calls)")
    repeats: int | None = Field(None, ge=1, le=MAX_STEPS,
                                description=f"an int in [1, {MAX_STEPS}] (timed calls per round)")
    rounds: int | None = Field(None, ge=1, le=MAX_STEPS, description=f"an int in [1, {MAX_STEPS}]")
    max_cv: float | None = Field(None, gt=0, allow_inf_nan=False, description="a number > 0")
    max_attempts: int | None = Field(None, ge=1, le=MAX_STEPS, description=f"an int in [1, {MAX_STEPS}]")


def check_protocol(values: dict) -> dict:
    """``values`` (protocol keys only) checked; returns them typed (``max_cv`` as a float).
    ``ValueError`` of one line naming the key, the bad value and the allowed values."""
    return validate(ProtocolKeys, values, "latency").model_dump(exclude_unset=True)
