"""Random search over a space (Li & Talwalkar, 2019; the control of Real et al., AAAI 2019):
every genome drawn uniformly, gene by gene, from the run's numpy generator."""
from __future__ import annotations

import copy

import numpy as np
from pydantic import Field

from ..base.config import MAX_BATCH, Section
from ..base.errors import validate
from ..spaces.space import Genome, Space


class RandomKeys(Section):
    """``[search.random]``: ``batch_size`` (genomes per ask)."""

    batch_size: int = Field(8, ge=1, le=MAX_BATCH, description=f"an int in [1, {MAX_BATCH}] (genomes per ask)")


class RandomSearchKeys(Section):
    """Random search's ``[search]`` table: ``[search.random]``."""

    random: RandomKeys = Field(default_factory=RandomKeys)


class RandomSearch:
    """Uniform samples as an ask/tell ``Strategy``; ``search["random"]["batch_size"]`` per ask."""

    name = "random"
    config_model = RandomSearchKeys
    search_keys = tuple(RandomSearchKeys.model_fields)  # [search] tables this strategy reads

    def __init__(self, space: Space, search: dict, objectives=None, rng: np.random.Generator | None = None):
        if rng is None:
            raise ValueError("RandomSearch needs an explicit numpy Generator (rng)")
        keys = validate(RandomKeys, search.get("random") or {}, "search.random")
        self.batch_size = keys.batch_size
        self.space = space
        self.rng = rng
        self.told = 0

    def ask(self) -> list[Genome]:
        return [self.space.sample(self.rng) for _ in range(self.batch_size)]

    def tell(self, genomes: list[Genome], results: list[dict]) -> None:
        if len(genomes) != len(results):
            raise ValueError(f"tell got {len(genomes)} genomes and {len(results)} results")
        self.told += len(genomes)

    def state_dict(self) -> dict:
        return {"rng": copy.deepcopy(self.rng.bit_generator.state), "told": self.told}

    def load_state_dict(self, d: dict) -> None:
        self.rng.bit_generator.state = d["rng"]
        self.told = d["told"]
