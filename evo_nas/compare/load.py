"""Reading a comparison back: every cell's evaluations from its run directory, with how each run ended."""
from __future__ import annotations

from pathlib import Path

from ..algorithms.objectives import Objectives
from .comparison import Comparison
from .config import CompareConfig, cell_dir, reward_of


def load_comparison(config: dict, runs: str | Path) -> Comparison:
    """Read every cell's evaluations back from its run directory, with how each run ended."""
    from ..engine.run import RunDir

    cmp = CompareConfig.from_dict(config)
    records, cells = {}, {}
    for a in cmp.algorithms:
        for s in cmp.seeds:
            path = cell_dir(runs, a, s)
            if not path.exists():
                raise FileNotFoundError(f"cell {a} seed {s} has no run directory {path} (run the comparison first)")
            run = RunDir(path)
            records[(a, s)] = run.evaluations()
            summary = run.summary()
            cells[(a, s)] = {"stopped": summary.get("stopped"), "generations": summary.get("generations"),
                             "evaluations": summary.get("evaluations")}
    from ..problems import Problem, make_problem, problem_class, problem_name

    cls = problem_class(problem_name(config))
    objectives = Objectives.from_dict(config.get("objectives"), cls, config.get("constraints"))
    true = None
    if cls.true_front is not Problem.true_front:  # only a problem that may know its front is built
        true = make_problem(config).true_front(objectives.names, objectives.latency_target_ms)
    return Comparison(cmp.algorithms, cmp.seeds, records, objectives, reward_of(config), budgets=cmp.budgets,
                      baseline=cmp.baseline, latency_targets_ms=cmp.latency_targets_ms, ablation=cmp.ablation,
                      cells=cells, true_front=true)


__all__ = ["load_comparison"]
