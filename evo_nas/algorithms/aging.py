"""Aging (regularized) evolution (Real et al., "Regularized Evolution for Image Classifier
Architecture Search", AAAI 2019, algorithm 1) on MnasNet's reward, built on DEAP's toolbox.

The population is a queue of P models. After P random models, each new model is the mutated child
of the best of S models sampled (with replacement) from the population; the child joins on the
right and the oldest model leaves on the left, whatever its fitness. Fitness is MnasNet's reward
ACC x (LAT/T)^w; in a single-objective run without ``[search.reward]`` it is the objective itself, as
the paper evolves on accuracy alone (``ObjectiveFitness``). Mutation changes one decision of one block (the engine's
``mutate_decision``, repaired). ``ask()`` returns ``batch_size`` children, each from
its own tournament, so a batch can be evaluated in parallel (the paper's workers are asynchronous).
"""
from __future__ import annotations

import collections
import copy
import math

import numpy as np
from deap import base
from pydantic import Field, model_validator

from ..base.config import MAX_BATCH, Section
from ..base.errors import validate
from ..spaces.space import Genome, Space
from .operators import mutate_decision
from .reward import Reward, RewardKeys


class RewardFitness(base.Fitness):
    weights = (1.0,)


class Individual:
    __slots__ = ("genome", "fitness")

    def __init__(self, genome: Genome, reward: float):
        self.genome = genome
        self.fitness = RewardFitness((reward,))


class ObjectiveFitness:
    """The fitness of a single-objective run: the objective, larger is better (a minimized one enters
    negated); a failed or infeasible record (latency target, ``[constraints]``) gets ``-inf``, below
    every feasible one. ``objectives``: an ``Objectives`` of one name."""

    def __init__(self, objectives):
        if objectives.n_obj != 1:
            raise ValueError(f"ObjectiveFitness takes one objective, got {list(objectives.names)}")
        self.objectives = objectives

    def of_record(self, record: dict, accuracy: str | None = None) -> float:
        if not self.objectives.feasible(record):
            return -math.inf
        return -float(self.objectives.vector(record)[0])


def tournament(population, sample_size: int, rng: np.random.Generator):
    """The best of ``sample_size`` individuals drawn with replacement (algorithm 1 of Real et al.)."""
    idx = rng.integers(len(population), size=sample_size)
    return max((population[int(i)] for i in idx), key=lambda ind: ind.fitness)


class AgingKeys(Section):
    """``[search.aging]``: P, S and the children per ask (Real et al., 2019, algorithm 1)."""

    population: int = Field(100, ge=1, le=MAX_BATCH, description=f"an int in [1, {MAX_BATCH}] (P, models kept)")
    sample: int = Field(25, ge=1, le=MAX_BATCH, description=f"an int in [1, {MAX_BATCH}] (S, models per tournament)")
    batch_size: int = Field(8, ge=1, le=MAX_BATCH, description=f"an int in [1, {MAX_BATCH}] (children per ask)")

    @model_validator(mode="after")
    def _sample_within_population(self) -> "AgingKeys":
        if self.sample > self.population:
            def named(key):
                value = getattr(self, key)
                return f"{key} ({value})" if key in self.model_fields_set else f"the default {key} ({value})"

            raise ValueError(f"[search.aging] {named('population')} must be >= {named('sample')}")
        return self


class AgingSearchKeys(Section):
    """Aging evolution's ``[search]`` tables: ``[search.aging]`` and ``[search.reward]`` (required unless
    the run has one objective, which is then the fitness)."""

    aging: AgingKeys = Field(default_factory=AgingKeys)
    reward: RewardKeys | None = None


class AgingEvolution:
    """Aging evolution as an ask/tell ``Strategy``: ``search["aging"]`` as ``AgingKeys``,
    ``search["reward"]`` as ``RewardKeys``; without it, a single objective as ``ObjectiveFitness``."""

    name = "aging"
    config_model = AgingSearchKeys
    search_keys = tuple(AgingSearchKeys.model_fields)  # [search] tables this strategy reads

    def __init__(self, space: Space, search: dict, objectives=None, rng: np.random.Generator | None = None):
        if rng is None:
            raise ValueError("AgingEvolution needs an explicit numpy Generator (rng)")
        keys = validate(AgingKeys, search.get("aging") or {}, "search.aging")
        self.population_size, self.sample_size, self.batch_size = keys.population, keys.sample, keys.batch_size
        self.space = space
        self.rng = rng
        if search.get("reward") is None and objectives is not None and objectives.n_obj == 1:
            self.reward = ObjectiveFitness(objectives)
        else:
            self.reward = Reward.from_dict(search.get("reward"), "search.reward")
        self.accuracy = (objectives.accuracy if objectives is not None else None) or "val_acc"
        self.population: collections.deque[Individual] = collections.deque()
        self.born = 0
        self.toolbox = base.Toolbox()
        self.toolbox.register("random_genome", space.sample, rng)
        self.toolbox.register("select", tournament, sample_size=self.sample_size, rng=rng)
        self.toolbox.register("mutate", mutate_decision, rng=rng)

    def ask(self) -> list[Genome]:
        if self.born < self.population_size:
            n = min(self.batch_size, self.population_size - self.born)
            return [self.toolbox.random_genome() for _ in range(n)]
        return [self.toolbox.mutate(self.toolbox.select(self.population).genome) for _ in range(self.batch_size)]

    def tell(self, genomes: list[Genome], results: list[dict]) -> None:
        if len(genomes) != len(results):
            raise ValueError(f"tell got {len(genomes)} genomes and {len(results)} results")
        for genome, result in zip(genomes, results):
            self.population.append(Individual(genome, self.reward.of_record(result, self.accuracy)))
            self.born += 1
            while len(self.population) > self.population_size:
                self.population.popleft()

    def state_dict(self) -> dict:
        return {"population": [(ind.genome.genes, ind.fitness.values[0]) for ind in self.population],
                "born": self.born, "rng": copy.deepcopy(self.rng.bit_generator.state)}

    def load_state_dict(self, d: dict) -> None:
        self.population = collections.deque(Individual(self.space.genome(g), r) for g, r in d["population"])
        self.born = d["born"]
        self.rng.bit_generator.state = d["rng"]
