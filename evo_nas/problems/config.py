"""``[problem]``: the problem's name and the keys that problem declares (``Problem.config_keys``).

A problem that also declares ``config_model``, a pydantic model of its keys, has them typed and
their defaults written into the resolved config; a problem registered from outside the package
(``register_problem``) is checked the same way.
"""
from __future__ import annotations

from pydantic import ConfigDict, Field, model_validator

from ..base.config import Section
from ..base.errors import unknown_key, validate
from . import DEFAULT_PROBLEM, problem_class


class ProblemSection(Section):
    """``[problem]``: ``name`` (a registered problem) and that problem's own keys."""

    model_config = ConfigDict(extra="allow")

    name: str = Field(DEFAULT_PROBLEM, description="a registered problem name")

    @model_validator(mode="after")
    def _problem_keys(self) -> "ProblemSection":
        cls = problem_class(self.name)
        extra = self.model_extra or {}
        unknown = sorted(set(extra) - set(cls.config_keys))
        if unknown:
            raise unknown_key("[problem]", unknown[0], ("name", *cls.config_keys), f" for problem {self.name!r}")
        model = getattr(cls, "config_model", None)
        if model is not None:
            self.__pydantic_extra__ = validate(model, extra, "problem").model_dump(exclude_none=True)
        return self
