"""The registry of search algorithms: a name, the ``module:Class`` that implements it, imported when used.

A new algorithm is one file in ``evo_nas/algorithms`` and one line here (or ``STRATEGIES[name] =
"package.module:Class"`` from outside the package). Nothing here imports an algorithm until it is
asked for by name.
"""
from __future__ import annotations

import importlib

# algorithm name -> "module:Class", imported only when used
STRATEGIES: dict[str, str] = {
    "nsga2": "evo_nas.algorithms.nsga2:NSGA2Strategy",
    "surrogate": "evo_nas.algorithms.surrogate:SurrogateStrategy",
    "random": "evo_nas.algorithms.random_search:RandomSearch",
    "aging": "evo_nas.algorithms.aging:AgingEvolution",
    "rl": "evo_nas.algorithms.rl:RLStrategy",
}


def strategy_class(name: str) -> type:
    if not isinstance(name, str) or name not in STRATEGIES:
        raise ValueError(f"[search] algorithm = {name!r} (expected one of {', '.join(sorted(STRATEGIES))})")
    module, _, cls = STRATEGIES[name].partition(":")
    return getattr(importlib.import_module(module), cls)
