"""``[space]``: which search space, by name or file, and its overrides (the problem says which apply).

The model imports nothing of the package beyond ``evo_nas.schema``'s base, so the evaluation
layer (``EvalConfig``) checks its ``[space]`` with it.
"""
from __future__ import annotations

from pydantic import Field, model_validator

from .base import PositiveFloat, Section


class SpaceSection(Section):
    """``[space]``: a space by ``name`` or ``file`` and its overrides (the problem says which apply)."""

    name: str | None = Field(None, description="a space name (evo-nas spaces lists them)")
    file: str | None = Field(None, description="the path of a space TOML file")
    width_multiplier: PositiveFloat | None = Field(None, description="a positive number")
    resolution: int | None = Field(None, ge=8, description="an int >= 8 (pixels)")
    in_channels: int | None = Field(None, ge=1, description="an int >= 1")
    num_classes: int | None = Field(None, ge=1, description="an int >= 1")

    @model_validator(mode="after")
    def _one_source(self) -> "SpaceSection":
        if self.name is not None and self.file is not None:
            raise ValueError("[space] give name or file, not both")
        return self
