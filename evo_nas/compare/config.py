"""The ``[compare]`` section of a comparison: which algorithm x seed cells run, and each cell's search configuration."""
from __future__ import annotations

import copy
from dataclasses import dataclass, field
from pathlib import Path

from ..algorithms.reward import Reward


@dataclass(frozen=True)
class CompareConfig:
    """``[compare]``: which cells run and how they are analyzed (see the module docstring)."""

    algorithms: tuple[str, ...]
    seeds: tuple[int, ...]
    cell_jobs: int = 1
    score_as_accuracy: float | None = None
    overrides: dict = field(default_factory=dict)
    budgets: tuple[int, ...] | None = None
    baseline: str | None = None
    latency_targets_ms: tuple[float, ...] = ()
    ablation: tuple[str, ...] = ()

    @classmethod
    def from_dict(cls, config: dict) -> "CompareConfig":
        """``[compare]`` of ``config``: types, ranges and defaults from the schema (``CompareSection``),
        then the checks across keys and sections. ``ValueError`` of one line."""
        from ..algorithms.strategy import STRATEGIES
        from ..schema.config import section

        d = section("compare", config.get("compare"))
        where = "[compare]"
        algs = tuple(d.algorithms)
        for name, over in d.overrides.items():
            if name not in algs:
                raise ValueError(f"[compare.overrides.{name}]: {name!r} is not in [compare] algorithms {list(algs)}")
            if not isinstance(over, dict):
                raise ValueError(f"[compare.overrides.{name}] = {over!r} must be a table of [search] keys")
            base = over.get("algorithm", name)
            if base not in STRATEGIES or (name in STRATEGIES and base != name):
                raise ValueError(f"[compare.overrides.{name}]: algorithm = {base!r} must be one of "
                                 f"{', '.join(sorted(STRATEGIES))}" + (f" and equal to {name!r}" if name in STRATEGIES else ""))
        for a in algs:
            if a not in STRATEGIES and a not in d.overrides:
                raise ValueError(f"{where}: algorithm {a!r} is unknown (expected one of {', '.join(sorted(STRATEGIES))}, "
                                 f"or a name with [compare.overrides.{a}] algorithm = ...)")
        if d.budgets is not None:
            cap = (config.get("search") or {}).get("max_evaluations")
            if isinstance(cap, int) and d.budgets[-1] > cap:
                raise ValueError(f"{where}: budgets = {d.budgets!r} exceed [search] max_evaluations = {cap}")
        if d.baseline is not None and d.baseline not in algs:
            raise ValueError(f"{where}: baseline = {d.baseline!r} is not in algorithms {list(algs)}")
        for a in d.ablation:
            if a not in algs or a == algs[0]:
                raise ValueError(f"{where}: ablation entry {a!r} must be one of the algorithms after the first "
                                 f"({', '.join(algs[1:])})")
        return cls(algs, tuple(d.seeds), d.cell_jobs, d.score_as_accuracy,
                   {k: dict(v) for k, v in d.overrides.items()}, None if d.budgets is None else tuple(d.budgets),
                   d.baseline, tuple(d.latency_targets_ms), tuple(d.ablation))

    def strategy(self, name: str) -> str:
        """The search algorithm (``[search] algorithm``) a cell named ``name`` runs."""
        return self.overrides.get(name, {}).get("algorithm", name)


def reward_of(config: dict) -> Reward:
    """The MnasNet reward of a comparison: ``[search.reward]``."""
    return Reward.from_dict((config.get("search") or {}).get("reward"), "[search.reward]")


def cell_config(config: dict, algorithm: str, seed: int) -> dict:
    """The search configuration of one cell: the shared sections, this seed and algorithm.

    ``[search]`` keeps the engine's keys and the ones this algorithm reads (``pop_size`` for
    NSGA-II, ``[search.rl]`` for the controller, ...), then takes ``[compare.overrides.<algorithm>]``
    over them (a nested table key by key). The persistent cache is off: a cache shared
    between cells would hand later cells free evaluations and break equal budgets; repeats within
    a cell are still free, for every algorithm alike.
    """
    from ..algorithms.strategy import strategy_class
    from ..engine.settings import ENGINE_KEYS

    over = copy.deepcopy(((config.get("compare") or {}).get("overrides") or {}).get(algorithm) or {})
    strategy = over.pop("algorithm", algorithm)
    cell = copy.deepcopy({k: v for k, v in config.items() if k != "compare"})
    cell["seed"] = seed
    search = cell.get("search") or {}
    keys = getattr(strategy_class(strategy), "search_keys", None)
    if keys is not None:
        search = {k: v for k, v in search.items() if k in ENGINE_KEYS or k in keys}
    for k, v in over.items():
        search[k] = {**search[k], **v} if isinstance(v, dict) and isinstance(search.get(k), dict) else v
    search.update(algorithm=strategy, cache=False)
    cell["search"] = search
    scale = CompareConfig.from_dict(config).score_as_accuracy if config.get("compare") else None
    if scale is not None:
        cell["compare"] = {"score_as_accuracy": scale}
    return cell


def cell_dir(runs: Path, algorithm: str, seed: int) -> Path:
    return Path(runs) / f"{algorithm}-seed{seed}"


__all__ = ["CompareConfig", "reward_of", "cell_config", "cell_dir"]
