"""Random search over a space (Li & Talwalkar, 2019; the control of Real et al., AAAI 2019):
every genome drawn uniformly, gene by gene, from the run's numpy generator."""
from __future__ import annotations

import copy

import numpy as np

from ..space import Genome, Space


class RandomSearch:
    """Uniform samples as an ask/tell ``Strategy``; ``search["random"]["batch_size"]`` per ask."""

    name = "random"
    search_keys = ("random",)  # [search] tables this strategy reads

    def __init__(self, space: Space, search: dict, objectives=None, rng: np.random.Generator | None = None):
        if rng is None:
            raise ValueError("RandomSearch needs an explicit numpy Generator (rng)")
        opts = dict(search.get("random") or {})
        unknown = set(opts) - {"batch_size"}
        if unknown:
            raise ValueError(f"search.random: unknown key {sorted(unknown)[0]!r} (expected batch_size)")
        self.batch_size = opts.get("batch_size", 8)
        if isinstance(self.batch_size, bool) or not isinstance(self.batch_size, int) or self.batch_size < 1:
            raise ValueError(f"search.random: batch_size = {self.batch_size!r} must be an int >= 1")
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
