"""The whole configuration as one pydantic model: sections, the problem's keys, objectives resolved.

``[problem]`` takes ``name`` and the keys the named problem declares (``Problem.config_keys``);
a problem that also declares ``config_model``, a pydantic model of those keys, has them typed
and their defaults written into the resolved config. Problems registered from outside the
package (``register_problem``) are checked the same way. ``[objectives] names`` defaults to the
problem's ``default_objectives``. ``[tradeoff]``, ``[fidelity]`` and ``[bench]`` belong to the
studies in ``experiments/``, which declare and check their models (the library does not import
them): ``TradeoffKeys`` in ``evo_nas/studies/proxy_tradeoff.py``, ``FidelityKeys`` in
``evo_nas/studies/proxy_fidelity.py``, and ``BenchKeys`` (``bench_latency_fidelity.py``) and
``PlatformsBenchKeys`` (``platforms.py``) in ``evo_nas/studies/latency_fidelity.py``.
"""
from __future__ import annotations

from typing import Any

from pydantic import ConfigDict, Field, field_validator, model_validator

from ..accuracy.data_config import DataSection
from ..accuracy.proxy_config import ProxySection
from ..algorithms.config import ObjectivesSection, SearchSection
from ..algorithms.constraints_config import check_constraints
from ..analysis.config import CompareSection, SuiteSection
from ..base.config import Section, Seeded
from ..base.errors import unknown_key, validate
from ..latency.config import LatencySection
from ..problems.config import ProblemSection
from ..spaces.config import SpaceSection

# sections a problem may or may not read (``Problem.config_sections``)
OPTIONAL_SECTIONS = ("space", "data", "proxy", "latency")


class Config(Seeded):
    """A run's configuration. ``search`` is required (it holds the budget); absent optional sections
    stay absent in the resolved config, present ones get their defaults. ``tradeoff``, ``fidelity``
    and ``bench`` are kept as given: their studies check them (see the module's docstring)."""

    model_config = ConfigDict(extra="forbid")

    problem: ProblemSection = Field(default_factory=ProblemSection)
    search: SearchSection | None = None
    objectives: ObjectivesSection = Field(default_factory=ObjectivesSection)
    space: SpaceSection | None = None
    data: DataSection | None = None
    proxy: ProxySection | None = None
    latency: LatencySection | None = None
    compare: CompareSection | None = None
    constraints: dict[str, Any] | None = None   # checked by check_constraints; its own errors stand
    tradeoff: dict[str, Any] | None = None
    fidelity: dict[str, Any] | None = None
    bench: dict[str, Any] | None = None

    @field_validator("constraints")
    @classmethod
    def _bounds(cls, v):
        return None if v is None else check_constraints(v)

    @model_validator(mode="after")
    def _resolve(self) -> "Config":
        from ..algorithms.objectives import Objectives
        from ..problems import problem_class

        if self.search is None:
            raise ValueError("[search] needs a budget: generations and/or max_evaluations")
        objectives = Objectives.from_dict(self.objectives, problem_class(self.problem.name), self.constraints)
        self.objectives.names = list(objectives.names)
        return self

    def check_sections(self) -> None:
        """``ValueError`` for a section the problem does not read (``Problem.config_sections``): it would
        be written into config.json and change nothing. Checked for a new run; a run directory
        written before the check resumes."""
        from ..problems import problem_class

        reads = problem_class(self.problem.name).config_sections
        if reads is None:
            return
        for name in OPTIONAL_SECTIONS:
            if getattr(self, name) is not None and name not in reads:
                listed = (" and ".join(f"[{r}]" for r in reads) + " only") if reads else \
                    "none of " + ", ".join(f"[{o}]" for o in OPTIONAL_SECTIONS)
                raise ValueError(f"[{name}] does not apply to problem {self.problem.name!r} (it reads {listed}): "
                                 f"remove it")

    def dump(self) -> dict:
        """The resolved configuration as plain data: what ``config.json`` holds."""
        return self.model_dump(exclude_none=True)


CONFIG_SECTIONS = tuple(Config.model_fields)
SECTIONS: dict[str, type[Section]] = {"problem": ProblemSection, "search": SearchSection,
                                      "objectives": ObjectivesSection, "space": SpaceSection, "data": DataSection,
                                      "proxy": ProxySection, "latency": LatencySection, "compare": CompareSection,
                                      "suite": SuiteSection}


def resolve(config: dict) -> Config:
    """``config`` validated, defaults filled in. ``ValueError`` of one line naming the key, the bad
    value and the allowed values (an unknown key names the closest valid one)."""
    if not isinstance(config, dict):
        raise ValueError(f"configuration must be a table, got {type(config).__name__}")
    return validate(Config, config)


def resolved(config: dict) -> dict:
    """``resolve(config).dump()``: the configuration with every default written out."""
    return resolve(config).dump()


def section(name: str, data: Any) -> Section:
    """One section validated alone (``None``: the section is absent); ``ValueError`` of one line."""
    return validate(SECTIONS[name], {} if data is None else data, name)
