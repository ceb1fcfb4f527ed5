"""The ``Problem`` interface: a space, the objectives it reports, and batch evaluation.

Once-for-All's search (Cai et al., ICLR 2020, arXiv 1908.09791) sees an architecture encoder,
an accuracy predictor and an efficiency predictor only through their interfaces; pymoo's
``Problem`` evaluates a whole population ``X`` in one call. A ``Problem`` here is both:

- ``space``: the genome space searched;
- ``objectives``: what ``evaluate`` reports, each with a direction and a unit;
- ``evaluate(genomes) -> list[dict]``: one record per genome, in order, each with ``status``
  (``"ok"`` or ``"failed"``), ``error`` (the reason, or None) and the objective values.

``true_front(names)``, for a benchmark that lists every architecture, gives the exact Pareto
set, against which runs and comparisons score what they recovered.

``batch = True`` marks a problem that scores a whole generation at once, cheaply: the engine
calls ``evaluate`` once per generation in its own process (or ``evaluate_columns``, when the
problem offers it: the same values, as arrays). Otherwise (training, measuring) the
engine sends one genome per worker task through ``task()``, a picklable ``(function, config)``
pair called as ``function(genome, config)``.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Callable, ClassVar, Sequence

from ..spaces.space import Genome, Space

DIRECTIONS = ("max", "min")


@dataclass(frozen=True)
class Objective:
    """One reported quantity: ``direction`` is ``"max"`` or ``"min"``, ``unit`` e.g. ``"ms"``."""

    name: str
    direction: str
    unit: str
    description: str = ""

    def __post_init__(self):
        if self.direction not in DIRECTIONS:
            raise ValueError(f"objective {self.name!r}: direction {self.direction!r} (expected max or min)")


class Problem:
    """Base class of every problem; subclasses set the class attributes and implement the methods."""

    name: ClassVar[str] = ""
    objectives: ClassVar[tuple[Objective, ...]] = ()
    default_objectives: ClassVar[tuple[str, ...]] = ()
    #: keys of ``[problem]`` besides ``name``
    config_keys: ClassVar[tuple[str, ...]] = ()
    #: optional pydantic model of ``config_keys`` (strict, ``extra="forbid"``): the configuration
    #: schema (``evo_nas.schema``) checks the keys with it and writes their defaults into config.json;
    #: without one the keys are kept as given and ``from_config`` checks them
    config_model: ClassVar[type | None] = None
    #: which of the optional sections ``[space]``, ``[data]``, ``[proxy]``, ``[latency]`` the problem
    #: reads; the schema refuses the others, which would be written into config.json and do nothing.
    #: None: any of them (a problem that does not say)
    config_sections: ClassVar[tuple[str, ...] | None] = None
    #: scores a generation in one call, in the engine's process
    batch: ClassVar[bool] = False
    #: results do not depend on running beside other evaluations in threads of one process
    thread_safe: ClassVar[bool] = True

    space: Space

    #: objectives computed for any genome at no cost (a latency table, an analytic count):
    #: ``evaluate_cheap`` gives them without an evaluation, so a search may score candidates on them
    #: without spending its budget, which counts expensive evaluations only
    cheap_objectives: tuple[str, ...] = ()

    @classmethod
    def from_config(cls, config: dict) -> "Problem":
        """Build from a whole run configuration (``[problem]`` and any sections the problem reads)."""
        raise NotImplementedError

    def evaluate(self, genomes: Sequence[Genome]) -> list[dict]:
        """One record per genome, in order; a bad candidate is ``status = "failed"``, never an exception."""
        fn, cfg = self.task()
        return [fn(g, cfg) for g in genomes]

    def evaluate_columns(self, X) -> dict[str, Any] | None:
        """Optionally, a batch problem's ``evaluate`` of the canonical gene array ``X`` (N, n_genes)
        as columns: each reported value's N numbers, every row ``status = "ok"``. None (the default):
        the engine calls ``evaluate`` with genomes."""
        return None

    def evaluate_cheap(self, X) -> dict[str, Any]:
        """The ``cheap_objectives`` of the canonical gene array ``X`` (N, n_genes), each as N numbers in
        the objective's unit; the same values ``evaluate`` reports. ``ValueError`` when the problem
        declares none."""
        raise ValueError(f"problem {self.name!r} declares no cheap objectives")

    def task(self) -> tuple[Callable[[Genome, Any], dict], Any]:
        """A picklable ``(function, config)`` pair scoring one genome in a worker."""
        return _evaluate_one, self

    def fingerprint(self) -> str:
        """A hash of everything that changes a result: part of every cache key."""
        raise NotImplementedError

    def describe(self) -> dict:
        """What the run directory records about how results were obtained."""
        return {"problem": self.name}

    def latency_model(self):
        """A latency model the engine must run serially, outside any pool; None when there is none."""
        return None

    def true_front(self, names: Sequence[str], latency_target_ms: float | None = None):
        """Optionally, the exact Pareto set of the whole space under the objectives ``names`` (and the
        constraint ``latency_ms <= latency_target_ms``), as an ``evo_nas.analysis.pareto.TrueFront``: a tabular
        benchmark lists every architecture, so its front is known. Searches and comparisons then
        report the members they recovered and their IGD beside the hypervolume. None (the default):
        the front is unknown."""
        return None

    def check(self, objectives, algorithm: str, scored_as_accuracy: bool = False, *,
              rewards_accuracy: bool = False) -> None:
        """Problem-specific checks of a run's objectives and algorithm (``ValueError``).
        ``scored_as_accuracy``: a comparison reports a score as accuracy (``[compare]``);
        ``rewards_accuracy``: the algorithm's reward needs an accuracy (it reads ``[search] reward``)."""


def _evaluate_one(genome: Genome, problem: Problem) -> dict:
    return problem.evaluate([genome])[0]
