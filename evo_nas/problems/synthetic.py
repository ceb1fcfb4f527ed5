"""A synthetic, deterministic objective for testing and benchmarking the search engine itself.

Not a proxy for accuracy: ``val_acc`` grows with the log of the analytic MACs
(``evo_nas.spaces.costs``) plus a small perturbation hashed from (seed, genome key) by
``evo_nas.base.hashing.unit``, and ``latency_ms`` is a linear function of MACs and layer count. It costs microseconds, depends on
nothing but the seed and the canonical key (so serial, parallel and resumed runs must agree
exactly), and lets tests drive whole searches. ``[problem]``::

    name = "synthetic"
    fail = 0.1             # this share of genomes fails (default 0)
    latency = "serial"     # leave latency to a model unsafe in a worker pool (as a timed
                           # measurement is), so the engine computes it in its own process
    batch = true           # score a generation in one call in the engine's process

The space is ``[space] name`` (default ``mnasnet``) with its overrides.
"""
from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Literal

import numpy as np
from pydantic import BaseModel, ConfigDict, Field

from ..base import hashing
from ..base.config import Seeded
from ..base.errors import validate
from ..base.hashing import unit as _unit
from ..spaces.config import SpaceSection
from ..spaces.costs import count
from ..spaces.loader import load_space
from ..spaces.space import Genome, Space
from . import register_problem
from .base import Objective, Problem


class SyntheticKeys(BaseModel):
    """The ``[problem]`` keys of ``synthetic``."""

    model_config = ConfigDict(strict=True, extra="forbid")

    fail: float = Field(0.0, ge=0, lt=1, description="a number in [0, 1) (the share of genomes that fail)")
    latency: Literal["pool", "serial"] = Field("pool", description="'pool' or 'serial'")
    batch: bool = Field(False, description="true or false")

    @classmethod
    def of(cls, config: dict) -> "SyntheticKeys":
        section = config.get("problem")
        section = {k: v for k, v in section.items() if k != "name"} if isinstance(section, dict) else {}
        return validate(cls, section, "problem")


@dataclass
class SyntheticConfig:
    """Stands where ``EvalConfig`` stands: ``seed``, ``space()``, ``fingerprint()``."""

    seed: int
    space_section: dict
    fail_rate: float = 0.0
    serial_latency: bool = False

    @classmethod
    def from_dict(cls, config: dict) -> "SyntheticConfig":
        """``seed``, ``[space]`` (``SpaceSection``) and ``[problem]`` (``SyntheticKeys``) of ``config``, checked
        by the schema's models: ``ValueError`` of one line. The space is loaded once to check that it exists."""
        seed = validate(Seeded, config).seed
        space = dict(config.get("space", {}) or {})
        validate(SpaceSection, space, "space")
        keys = SyntheticKeys.of(config)
        cls._load(space)
        return cls(seed, space, keys.fail, keys.latency == "serial")

    @staticmethod
    def _load(section: dict) -> Space:
        section = dict(section)
        name = section.pop("file", None) or section.pop("name", "mnasnet")
        return load_space(name, **section)

    def space(self) -> Space:
        return self._load(self.space_section)

    def fingerprint(self) -> str:
        # version 2: the perturbations come from ``hashing.unit``, so results cached by version 1 are not served
        return hashing.fingerprint({"evaluator": "synthetic", "version": 2, "seed": self.seed,
                                    "space": self.space().fingerprint(), "fail": self.fail_rate,
                                    "serial_latency": self.serial_latency})

    def latency_model(self):
        return SerialSyntheticLatency(self.seed) if self.serial_latency else None

    def describe(self) -> dict:
        return {"evaluator": "synthetic", "latency": {"source": "predicted", "model": "synthetic MACs-linear"}}


def synthetic_latency(seed: int, arch) -> float:
    macs_m = count(arch).macs / 1e6
    return 0.05 * macs_m + 0.1 * len(arch.layers()) + 0.5 * _unit(seed, arch.to_string(), "lat")


class SerialSyntheticLatency:
    """The synthetic latency behind the ``LatencyModel`` interface, declared unsafe in a pool."""

    safe_in_pool = False

    def __init__(self, seed: int):
        self.seed = seed
        self.calls: list[int] = []

    def latency_ms(self, arch) -> float:
        import os

        self.calls.append(os.getpid())
        return synthetic_latency(self.seed, arch)

    def fingerprint(self) -> str:
        return f"synthetic-serial-{self.seed}"

    def describe(self) -> dict:
        return {"source": "predicted", "model": "synthetic, computed serially in the main process"}


def synthetic_evaluate(genome: Genome, cfg: SyntheticConfig) -> dict:
    key = genome.key
    arch = genome.architecture()
    c = count(arch)
    macs_m, params_m = c.macs / 1e6, c.params / 1e6
    base = {"key": key, "params_m": params_m, "macs_m": macs_m, "train_s": 0.0, "proxy": "synthetic"}
    if _unit(cfg.seed, key, "fail") < cfg.fail_rate:
        return {**base, "val_acc": None, "latency_ms": None, "status": "failed",
                "error": "synthetic failure"}
    acc = min(0.99, 0.5 + 0.06 * math.log1p(macs_m) + 0.03 * (_unit(cfg.seed, key, "acc") - 0.5))
    latency = None if cfg.serial_latency else synthetic_latency(cfg.seed, arch)
    return {**base, "val_acc": acc, "latency_ms": latency, "status": "ok", "error": None}


@register_problem("synthetic")
class SyntheticProblem(Problem):
    """The synthetic objective behind the ``Problem`` seam (per genome, or batched with ``batch = true``)."""

    objectives = (Objective("val_acc", "max", "fraction", "synthetic: grows with log MACs"),
                  Objective("latency_ms", "min", "ms", "synthetic: linear in MACs and layers"),
                  Objective("params_m", "min", "M", "parameters, analytic"),
                  Objective("macs_m", "min", "M", "multiply-accumulates at batch 1, analytic"))
    default_objectives = ("val_acc", "latency_ms")
    config_keys = tuple(SyntheticKeys.model_fields)
    config_model = SyntheticKeys
    config_sections = ("space",)

    def __init__(self, cfg: SyntheticConfig, batch: bool = False):
        self.cfg = cfg
        self.space = cfg.space()
        self.batch = batch

    @classmethod
    def from_config(cls, config: dict) -> "SyntheticProblem":
        return cls(SyntheticConfig.from_dict(config), SyntheticKeys.of(config).batch)

    @property
    def cheap_objectives(self) -> tuple[str, ...]:
        """Parameters and MACs are analytic counts; latency too unless it stands for a measurement."""
        return ("params_m", "macs_m") if self.cfg.serial_latency else ("latency_ms", "params_m", "macs_m")

    def evaluate_cheap(self, X) -> dict:
        """The ``cheap_objectives`` of the gene array ``X`` (N, n_genes), counted on the built architectures."""
        out = {k: [] for k in self.cheap_objectives}
        for g in self.space.genomes(X):
            arch = g.architecture()
            c = count(arch)
            out["params_m"].append(c.params / 1e6)
            out["macs_m"].append(c.macs / 1e6)
            if "latency_ms" in out:
                out["latency_ms"].append(synthetic_latency(self.cfg.seed, arch))
        return {k: np.asarray(v, dtype=float) for k, v in out.items()}

    def task(self):
        return synthetic_evaluate, self.cfg

    def fingerprint(self) -> str:
        return self.cfg.fingerprint()

    def describe(self) -> dict:
        return {"problem": self.name, **self.cfg.describe()}

    def latency_model(self):
        return self.cfg.latency_model()
