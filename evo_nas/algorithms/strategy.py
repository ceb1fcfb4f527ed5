"""The ``Strategy`` protocol every search algorithm implements, and the registry of algorithms.

An ask/tell interface (as pymoo's ``Algorithm.ask``/``tell``) lets one engine loop own budget,
cache, parallel evaluation, checkpointing and run directories for every algorithm: NSGA-II
(Deb et al., 2002), and the baselines (random search, aging evolution, Real et al., 2019; the
MnasNet RL controller, Tan et al., 2019). Every strategy is built as
``Cls(space, search, objectives, rng)``: ``search`` is the ``[search]`` section, ``rng`` a
seeded ``numpy.random.Generator`` that is the strategy's only source of randomness. A class that
sets ``takes_problem = True`` (surrogate-assisted NSGA-II, Lu et al., ECCV 2020) also gets
``problem=``, the ``Problem`` searched, for its cheap objectives. A strategy may offer
``report() -> list[dict]``: the engine writes it to ``<name>.jsonl`` in the run directory.
"""
from __future__ import annotations

from typing import Protocol, runtime_checkable

import numpy as np

from ..spaces.space import Genome, Space
from .objectives import Objectives
from .registry import STRATEGIES, strategy_class


@runtime_checkable
class Strategy(Protocol):
    def ask(self) -> list[Genome]:
        """The next batch of candidates (may repeat genomes seen before; the engine caches)."""

    def tell(self, genomes: list[Genome], results: list[dict]) -> None:
        """Results for exactly the genomes of the last ``ask``, in the same order."""

    def state_dict(self) -> dict:
        """Everything needed to continue exactly, RNG state included (for callers that keep a strategy
        in memory; the engine does not use it: a resume replays, see below)."""

    def load_state_dict(self, d: dict) -> None:
        """Restore a ``state_dict``."""


# A resumed run rebuilds its strategy by replay (``evo_nas.engine.checkpoint``): the strategy is built
# again from its seeded generator and asked and told the run's recorded generations. What a strategy
# must provide for that is determinism: the same generator, asks and results give the same asks.
# Nothing of it is written to a run directory, so nothing there is ever unpickled.
#
# A strategy may also offer ``ask_array() -> np.ndarray`` (the canonical genes of the next batch,
# shape (N, n_genes)) and ``tell_array(results)``: the engine then builds no genome it does not
# need (NSGA-II does).


def make_strategy(name: str, space: Space, search: dict, objectives: Objectives,
                  rng: np.random.Generator, problem=None) -> Strategy:
    """The strategy ``name``; one that declares ``takes_problem`` also gets the ``problem`` (its
    ``cheap_objectives`` cost no evaluation)."""
    cls = strategy_class(name)
    if getattr(cls, "takes_problem", False):
        return cls(space, search, objectives, rng, problem=problem)
    return cls(space, search, objectives, rng)
