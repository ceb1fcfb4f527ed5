"""Fair comparisons of search algorithms on one space, evaluator, cache policy and budget: NSGA-II
(Deb et al., 2002) against MnasNet's RL controller (Tan et al., 2019, arXiv 1807.11626), aging
evolution and random search (Real et al., AAAI 2019), and ablations of one algorithm's settings.

A comparison is algorithms x seeds; each cell is an ordinary run directory of the search engine,
so it resumes after a kill like any search. Budgets are unique architecture evaluations, counted
by the engine for every algorithm alike. Every algorithm's Pareto set is taken over all of its
evaluations, never over a last population, and scored against one hypervolume reference.
Outputs, at each budget: hypervolume versus evaluations (median and its distribution-free 95%
interval over seeds, CSV and PNG), the fronts overlaid, a table of final hypervolume (median with
its interval, mean and sd), the best MnasNet reward under the target (the RL controller's own
objective), two-sided Mann-Whitney U tests and Vargha-Delaney A12 effect sizes of the first
algorithm against each other one; with a ``baseline``, the evaluations each algorithm needs to
reach the baseline's final median hypervolume; with latency targets, the best accuracy under each.

The ``[compare]`` section of a search configuration::

    algorithms = ["nsga2", "aging", "rl", "random"]   # the first is the one tested against the others
    seeds = [0, 1, 2, 3, 4]
    cell_jobs = 1        # cells run at once (each cell's evaluations use [search] n_jobs)
    score_as_accuracy = 100.0   # optional: a zero-cost proxy's score / 100 stands for val_acc
    budgets = [2000, 10000]     # optional: analyze the first N unique evaluations of each cell, per N
                                # (default: the longest cell); the engine stops exactly at
                                # max_evaluations and is seeded, so a cell's first N evaluations are
                                # what a run with max_evaluations = N evaluates
    baseline = "rl"             # optional: time every other algorithm to the baseline's final median HV
    latency_targets_ms = [15, 20, 25, 30, 40]   # optional: best accuracy under each latency target
    ablation = ["nsga2-gene"]   # optional: algorithms drawn in their own figures beside the first

    [compare.overrides.nsga2-gene]   # a named variant: [search] keys taken over the shared ones
    algorithm = "nsga2"              # the search algorithm it runs (a known name may be overridden too)
    crossover = "gene_uniform"

A cell that stops before a budget (``max_stall``, a ``generations`` cap) keeps its final values
beyond its last evaluation, and the table shows how many unique evaluations each cell used.

A zero-cost proxy (``[proxy] kind = "synflow"``) returns a ``score`` and no accuracy; with
``score_as_accuracy = S`` every cell's evaluator reports ``val_acc = score / S`` (marked
``accuracy_source``), so NSGA-II, the hypervolume and MnasNet's reward all see the same quantity.
A linear scale keeps every reward ranking: ACC x f(LAT) is only multiplied by 1/S.

Modules: ``config`` (the ``[compare]`` section, each cell's configuration), ``cells`` (running
the cells), ``curves`` (hypervolume curves and fronts over evaluation records), ``comparison``
(the analysis, with intervals, tests and effect sizes from ``evo_nas.analysis.stats``), ``load`` (reading it back from
the cells' run directories), ``output`` (tables, CSV, figures, summary), ``suite`` and
``suite_output`` (the same comparison over several problems, ``[suite]``, and its summary across
them).
"""
from __future__ import annotations

from ..analysis.stats import a12, a12_magnitude, mann_whitney, median_interval, t_interval
from .cells import ScoreAsAccuracy, run_cells
from .comparison import Comparison
from .config import CompareConfig, cell_config, cell_dir, reward_of
from .curves import (
    best_under, evals_to_reach, front_points, hv_curve, hv_curve_points, ideal_point, objective_matrix, reference_point,
    unique_in_order,
)
from .load import load_comparison
from .output import reach_markdown, table_markdown, targets_markdown, write_outputs

__all__ = ["CompareConfig", "reward_of", "cell_config", "cell_dir", "ScoreAsAccuracy", "run_cells",
           "unique_in_order", "objective_matrix", "reference_point", "ideal_point", "hv_curve_points", "hv_curve",
           "evals_to_reach", "front_points", "best_under", "t_interval", "median_interval", "mann_whitney", "a12",
           "a12_magnitude", "Comparison", "load_comparison", "table_markdown", "reach_markdown", "targets_markdown",
           "write_outputs"]
