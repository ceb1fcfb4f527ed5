"""The ``[compare]`` section of a comparison: which algorithm x seed cells run, and each cell's search configuration."""
from __future__ import annotations

import copy
from dataclasses import dataclass, field
from pathlib import Path

from ..baselines.reward import Reward


COMPARE_KEYS = ("algorithms", "seeds", "cell_jobs", "score_as_accuracy", "overrides", "budgets", "baseline",
                "latency_targets_ms", "ablation")


def _names(value, where: str, key: str) -> tuple[str, ...]:
    if not isinstance(value, list) or not all(isinstance(a, str) for a in value) or len(set(value)) != len(value):
        raise ValueError(f"{where}: {key} = {value!r} must be a list of distinct names")
    return tuple(value)


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
        d = dict(config.get("compare") or {})
        where = "[compare]"
        unknown = set(d) - set(COMPARE_KEYS)
        if unknown:
            raise ValueError(f"{where}: unknown key {sorted(unknown)[0]!r} (expected {', '.join(COMPARE_KEYS)})")
        from ..search.strategy import STRATEGIES

        algs = d.get("algorithms", ["nsga2", "aging", "rl", "random"])
        if not isinstance(algs, list) or not algs:
            raise ValueError(f"{where}: algorithms = {algs!r} must be a non-empty list of distinct names")
        algs = _names(algs, where, "algorithms")
        overrides = d.get("overrides") or {}
        if not isinstance(overrides, dict):
            raise ValueError(f"{where}: overrides = {overrides!r} must be a table of tables, one per algorithm name")
        for name, over in overrides.items():
            if name not in algs:
                raise ValueError(f"[compare.overrides.{name}]: {name!r} is not in [compare] algorithms {list(algs)}")
            if not isinstance(over, dict):
                raise ValueError(f"[compare.overrides.{name}] = {over!r} must be a table of [search] keys")
            base = over.get("algorithm", name)
            if base not in STRATEGIES or name in STRATEGIES and base != name:
                raise ValueError(f"[compare.overrides.{name}]: algorithm = {base!r} must be one of "
                                 f"{', '.join(sorted(STRATEGIES))}" + (f" and equal to {name!r}" if name in STRATEGIES else ""))
        for a in algs:
            if a not in STRATEGIES and a not in overrides:
                raise ValueError(f"{where}: algorithm {a!r} is unknown (expected one of {', '.join(sorted(STRATEGIES))}, "
                                 f"or a name with [compare.overrides.{a}] algorithm = ...)")
        seeds = d.get("seeds", [0, 1, 2, 3, 4])
        if not isinstance(seeds, list) or not seeds or not all(isinstance(s, int) and not isinstance(s, bool)
                                                               for s in seeds) or len(set(seeds)) != len(seeds):
            raise ValueError(f"{where}: seeds = {seeds!r} must be a non-empty list of distinct ints")
        jobs = d.get("cell_jobs", 1)
        if isinstance(jobs, bool) or not isinstance(jobs, int) or jobs < 1:
            raise ValueError(f"{where}: cell_jobs = {jobs!r} must be an int >= 1")
        scale = d.get("score_as_accuracy")
        if scale is not None and (isinstance(scale, bool) or not isinstance(scale, (int, float)) or not scale > 0):
            raise ValueError(f"{where}: score_as_accuracy = {scale!r} must be a number > 0")
        budgets = d.get("budgets")
        if budgets is not None:
            if not isinstance(budgets, list) or not budgets or not all(
                    isinstance(b, int) and not isinstance(b, bool) and b >= 1 for b in budgets) \
                    or sorted(set(budgets)) != budgets:
                raise ValueError(f"{where}: budgets = {budgets!r} must be a non-empty increasing list of ints >= 1")
            cap = (config.get("search") or {}).get("max_evaluations")
            if isinstance(cap, int) and budgets[-1] > cap:
                raise ValueError(f"{where}: budgets = {budgets!r} exceed [search] max_evaluations = {cap}")
            budgets = tuple(budgets)
        baseline = d.get("baseline")
        if baseline is not None and baseline not in algs:
            raise ValueError(f"{where}: baseline = {baseline!r} is not in algorithms {list(algs)}")
        targets = d.get("latency_targets_ms", [])
        if not isinstance(targets, list) or not all(
                isinstance(t, (int, float)) and not isinstance(t, bool) and t > 0 for t in targets):
            raise ValueError(f"{where}: latency_targets_ms = {targets!r} must be a list of numbers > 0")
        ablation = _names(d.get("ablation", []), where, "ablation")
        for a in ablation:
            if a not in algs or a == algs[0]:
                raise ValueError(f"{where}: ablation entry {a!r} must be one of the algorithms after the first "
                                 f"({', '.join(algs[1:])})")
        return cls(algs, tuple(seeds), jobs, None if scale is None else float(scale),
                   {k: dict(v) for k, v in overrides.items()}, budgets, baseline,
                   tuple(float(t) for t in targets), ablation)

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
    from ..search.settings import ENGINE_KEYS
    from ..search.strategy import strategy_class

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
    scale = (config.get("compare") or {}).get("score_as_accuracy")
    if scale is not None:
        cell["compare"] = {"score_as_accuracy": scale}
    return cell


def cell_dir(runs: Path, algorithm: str, seed: int) -> Path:
    return Path(runs) / f"{algorithm}-seed{seed}"


__all__ = ["COMPARE_KEYS", "CompareConfig", "reward_of", "cell_config", "cell_dir"]
