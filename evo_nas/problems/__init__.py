"""Problems: what a search optimizes, behind one seam, registered by name and chosen by ``[problem] name``.

Every algorithm (NSGA-II, random search, aging evolution, the RL controller) sees a problem
only through ``Problem``: a space, the objectives it reports (name, direction, unit) and one
``evaluate`` over a batch of genomes. Built in:

- ``ofa-mbv3``: Once-for-All's ImageNet benchmark (Cai et al., ICLR 2020, arXiv 1908.09791),
  predicted top-1 and Samsung Note10 latency, vectorized over a whole generation;
- ``anb``: Accel-NASBench (Ahmad et al., 2024, arXiv 2404.08005), ImageNet top-1, FPGA latency and
  accelerator throughput over MnasNet's own space, from surrogates evo-nas fitted on its records;
- ``nb201``: NAS-Bench-201 (Dong & Yang, ICLR 2020, arXiv 2001.00326) with 27 devices' measured
  latencies, a table lookup whose exact Pareto fronts are known (``Problem.true_front``);
- ``train``: MnasNet's short-training proxy on a dataset, with latency measured or predicted on
  this machine (Tan et al., 2019, arXiv 1807.11626), one genome per worker task;
- ``synthetic``: a deterministic microsecond objective for testing the engine.

A new benchmark is a new module: subclass ``Problem``, decorate it with
``@register_problem("name")``, and select it with ``[problem] name = "name"``.
"""
from __future__ import annotations

import importlib

from .base import Objective, Problem

# name -> "module:Class" (imported when first used) or the class itself (registered at run time)
PROBLEMS: dict[str, str | type[Problem]] = {
    "ofa-mbv3": "evo_nas.problems.ofa:OFAProblem",
    "anb": "evo_nas.problems.anb:ANBProblem",
    "nb201": "evo_nas.problems.nb201:NB201Problem",
    "train": "evo_nas.problems.train:TrainProblem",
    "synthetic": "evo_nas.problems.synthetic:SyntheticProblem",
}
DEFAULT_PROBLEM = "train"


def register_problem(name: str):
    """Class decorator: make ``cls`` selectable as ``[problem] name = "<name>"``."""

    def wrap(cls: type[Problem]) -> type[Problem]:
        if not (isinstance(cls, type) and issubclass(cls, Problem)):
            raise TypeError(f"register_problem({name!r}) needs a Problem subclass, got {cls!r}")
        cls.name = name
        PROBLEMS[name] = cls
        return cls

    return wrap


def problem_name(config: dict) -> str:
    """The ``[problem] name`` of a config (``train`` when the section is absent)."""
    section = config.get("problem")
    if section is None:
        return DEFAULT_PROBLEM
    if not isinstance(section, dict):
        raise ValueError(f"[problem] must be a table, got {section!r}")
    return section.get("name", DEFAULT_PROBLEM)


def problem_class(name: str) -> type[Problem]:
    if not isinstance(name, str) or name not in PROBLEMS:
        raise ValueError(f"[problem] name = {name!r} (expected one of {', '.join(sorted(PROBLEMS))})")
    entry = PROBLEMS[name]
    if isinstance(entry, str):
        module, _, cls = entry.partition(":")
        entry = getattr(importlib.import_module(module), cls)
        PROBLEMS[name] = entry
    return entry


def make_problem(config: dict) -> Problem:
    """The problem a config selects, validated (``ValueError`` names the bad key and value)."""
    if not isinstance(config, dict):
        raise ValueError(f"configuration must be a table, got {type(config).__name__}")
    cls = problem_class(problem_name(config))
    section = dict(config.get("problem") or {})
    section.pop("name", None)
    unknown = sorted(set(section) - set(cls.config_keys))
    if unknown:
        allowed = ", ".join(("name", *cls.config_keys))
        raise ValueError(f"[problem] unknown key {unknown[0]!r} for problem {cls.name!r} (expected {allowed})")
    return cls.from_config(config)


__all__ = ["Objective", "Problem", "PROBLEMS", "register_problem", "problem_class", "problem_name",
           "make_problem"]
