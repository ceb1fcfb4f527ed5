"""Search: the engine loop, the strategies it runs (NSGA-II and baselines), run directories.

The package is also callable: ``evo_nas.search(config, run_dir=None, **overrides)`` is
``evo_nas.api.search`` (the Python API), so the name means the same whether or not a
submodule such as ``evo_nas.search.engine`` has been imported.
"""
import sys
import types

from .objectives import Objectives
from .strategy import STRATEGIES, Strategy, make_strategy

__all__ = ["Objectives", "STRATEGIES", "Strategy", "make_strategy", "run_search", "RunDir"]


class _CallablePackage(types.ModuleType):
    """``evo_nas.search``: this package, which runs ``evo_nas.api.search`` when called."""

    def __call__(self, config, run_dir=None, *, verbose: bool = False, **overrides):
        from ..api import search

        return search(config, run_dir, verbose=verbose, **overrides)


sys.modules[__name__].__class__ = _CallablePackage


def __getattr__(name):
    if name == "run_search":
        from .engine import run_search
        return run_search
    if name == "RunDir":
        from .run import RunDir
        return RunDir
    raise AttributeError(name)
