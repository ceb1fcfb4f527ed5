"""Search: the engine loop, the strategies it runs (NSGA-II and baselines), run directories."""
from .objectives import Objectives
from .strategy import STRATEGIES, Strategy, make_strategy

__all__ = ["Objectives", "STRATEGIES", "Strategy", "make_strategy", "run_search", "RunDir"]


def __getattr__(name):
    if name == "run_search":
        from .engine import run_search
        return run_search
    if name == "RunDir":
        from .run import RunDir
        return RunDir
    raise AttributeError(name)
