"""``[space]``: which search space, by name or file, and its overrides (the problem says which apply).

The model imports nothing of the package beyond ``evo_nas.base.config``, so the evaluation
layer (``EvalConfig``) checks its ``[space]`` with it.
"""
from __future__ import annotations

from pydantic import Field, model_validator

from ..base.config import MAX_BATCH, MAX_WIDTH, PositiveFloat, Section


class SpaceSection(Section):
    """``[space]``: a space by ``name`` or ``file`` and its overrides (the problem says which apply)."""

    name: str | None = Field(None, description="a space name (evo-nas spaces lists them)")
    file: str | None = Field(None, description="the path of a space TOML file")
    width_multiplier: PositiveFloat | None = Field(None, description="a positive number")
    resolution: int | None = Field(None, ge=8, le=MAX_WIDTH, description=f"an int in [8, {MAX_WIDTH}] (pixels)")
    in_channels: int | None = Field(None, ge=1, le=MAX_WIDTH, description=f"an int in [1, {MAX_WIDTH}]")
    num_classes: int | None = Field(None, ge=1, le=MAX_BATCH, description=f"an int in [1, {MAX_BATCH}]")

    @model_validator(mode="after")
    def _one_source(self) -> "SpaceSection":
        if self.name is not None and self.file is not None:
            raise ValueError("[space] give name or file, not both")
        return self
