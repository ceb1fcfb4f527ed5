"""A suite of comparisons: the same algorithms, seeds and budgets on several problems, one table per
problem and one summary across them (median rank, significant wins, share of the best-known or exact
Pareto front), in the manner of benchmark suites such as EvoXBench (Lu et al., 2023, arXiv 2208.04321).

The suite file holds the sections every problem shares (``[search]``, ``[search.reward]``...) and::

    [suite]
    algorithms = ["nsga2", "aging", "random", "rl"]   # the same for every problem
    seeds = [0, 1, 2, 3, 4]
    budgets = [1000, 5000]    # unique evaluations; the shared [search] max_evaluations must reach the last
    cell_jobs = 1
    alpha = 0.05              # significance level of the wins

    [suite.problems.anb-zcu102]            # a named problem: sections taken over the shared ones
    problem = { name = "anb", device = "zcu102" }
    objectives = { names = ["top1", "latency_ms"], reference = { top1 = 0.40, latency_ms = 25.0 } }
    search = { reward = { target_ms = 7.0 } }

Each problem is an ordinary comparison (``evo_nas.compare``) in ``OUT/problems/NAME/``: its cells
resume one by one, and its tables and figures are those of ``evo-nas compare``. A problem whose
benchmark data is missing (``evo_nas.problems.benchdata.DataMissing``) is skipped with the data layer's one line.
"""
from __future__ import annotations

import copy
import math
import re
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
from scipy.stats import rankdata

from ..algorithms.objectives import FAILED_PENALTY
from ..analysis.pareto import non_dominated
from ..analysis.stats import a12, mann_whitney
from .comparison import Comparison
from .curves import objective_matrix
from .load import load_comparison

NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.-]*$")


def _merge(base: dict, over: dict) -> dict:
    """``over`` taken over ``base``, nested tables key by key."""
    out = copy.deepcopy(base)
    for k, v in over.items():
        out[k] = _merge(out[k], v) if isinstance(v, dict) and isinstance(out.get(k), dict) else copy.deepcopy(v)
    return out


def suite_configs(config: dict) -> dict[str, dict]:
    """Per problem name, in the file's order, its comparison configuration: the shared sections,
    the problem's own, and ``[compare]`` with the suite's algorithms, seeds, budgets and cell_jobs.
    ``ValueError`` of one line for a bad ``[suite]`` (names the key and the value)."""
    from ..schema.config import CONFIG_SECTIONS, section

    s = section("suite", config.get("suite"))
    shared = {k: v for k, v in config.items() if k != "suite"}
    if "compare" in shared:
        raise ValueError("[compare] does not apply to a suite: algorithms, seeds and budgets are [suite] keys "
                         "(a problem's own [compare] keys go in [suite.problems.NAME.compare])")
    out = {}
    for name, table in s.problems.items():
        if not NAME.match(name):
            raise ValueError(f"[suite.problems] name {name!r} must be letters, digits, '_', '.' or '-' "
                             f"(it names a folder)")
        for k in table:
            if k not in CONFIG_SECTIONS:
                raise ValueError(f"[suite.problems.{name}] {k!r} is not a configuration section "
                                 f"(expected some of {', '.join(CONFIG_SECTIONS)})")
        own = dict(table.get("compare") or {})
        for k in ("algorithms", "seeds", "budgets", "cell_jobs"):
            if k in own:
                raise ValueError(f"[suite.problems.{name}.compare] {k} is set by [suite] for every problem")
        cfg = _merge(shared, table)
        cfg["compare"] = {**own, "algorithms": list(s.algorithms), "seeds": list(s.seeds),
                          "cell_jobs": s.cell_jobs, **({} if s.budgets is None else {"budgets": list(s.budgets)})}
        out[name] = cfg
    return out


def problem_dir(out: str | Path, name: str) -> Path:
    return Path(out) / "problems" / name


def run_suite(config: dict, out: str | Path, *, runs: str | Path | None = None, progress=None,
              analyze_only: bool = False) -> "Suite":
    """Run (or resume) every problem's cells under ``OUT/problems/NAME/runs`` (``RUNS/NAME`` with
    ``runs``), write each problem's outputs in ``OUT/problems/NAME``; return the ``Suite``. ``progress(text)`` gets one line per cell (and one per
    problem). A problem whose data is missing is skipped, its error kept (``Suite.skipped``); any other
    error stops the suite with the problem's name."""
    from ..problems import make_problem
    from ..problems.benchdata import DataMissing
    from ..schema.config import section
    from .cells import run_cells, validate_cells
    from .output import write_outputs

    configs = suite_configs(config)
    s = section("suite", config.get("suite"))
    suite = Suite(tuple(s.algorithms), tuple(s.seeds), s.alpha)
    n, n_cells = len(configs), len(s.algorithms) * len(s.seeds)
    for name, cfg in configs.items():  # every problem is checked before the first cell runs
        try:
            validate_cells(cfg, make_problem(cfg))
        except DataMissing as e:
            suite.skipped[name] = str(e).splitlines()[0]
        except ValueError as e:
            raise ValueError(f"[suite.problems.{name}]: {e}") from None
    for i, (name, cfg) in enumerate(configs.items(), 1):
        if name in suite.skipped:
            if progress:
                progress(f"[problem {i}/{n}] {name}: skipped ({suite.skipped[name]})")
            continue
        where = problem_dir(out, name)
        cells = Path(runs) / name if runs is not None else where / "runs"
        if not analyze_only:
            done = iter(range(1, n_cells + 1))

            def cell(algorithm, seed, i=i, name=name, done=done):
                if progress:
                    progress(f"[problem {i}/{n}] {name}: [{next(done)}/{n_cells}] {algorithm} seed {seed}")
            run_cells(cfg, cells, progress=cell)
        comparison = load_comparison(cfg, cells)
        write_outputs(comparison, where)
        suite.problems[name] = comparison
    return suite


@dataclass
class Suite:
    """Every problem's ``Comparison`` (``problems``, by name) and the skipped ones (``skipped``: name ->
    the data error). Scores are taken at each budget of the problems' analysis (``budget_list``)."""

    algorithms: tuple[str, ...]
    seeds: tuple[int, ...]
    alpha: float = 0.05
    problems: dict[str, Comparison] = field(default_factory=dict)
    skipped: dict[str, str] = field(default_factory=dict)

    def budgets(self) -> tuple[int, ...]:
        """The budgets every problem was analyzed at, in order."""
        sets = [set(c.budget_list) for c in self.problems.values()]
        return tuple(sorted(set.intersection(*sets))) if sets else ()

    @staticmethod
    def reference_front(c: Comparison) -> tuple[str, tuple[str, ...]]:
        """(``"true"`` or ``"best-known"``, the genome keys of the front): the problem's exact Pareto
        front where it knows one, else the non-dominated set of every evaluation of every algorithm
        and seed of this comparison (at its last budget)."""
        if c.true_front is not None:
            return "true", tuple(c.true_front.keys)
        recs = [r for a in c.algorithms for s in c.seeds for r in c.records_at(a, s, c.horizon)
                if r.get("status") == "ok"]
        f = objective_matrix(recs, c.objectives) if recs else np.zeros((0, len(c.objectives.names)))
        ok = np.all(f < FAILED_PENALTY, axis=1)
        keys = [r["key"] for r, k in zip(recs, ok) if k]
        mask = non_dominated(f[ok]) if ok.any() else np.zeros(0, dtype=bool)
        return "best-known", tuple(sorted({k for k, m in zip(keys, mask.tolist()) if m}))

    def problem_rows(self, budget: int) -> list[dict]:
        """Per problem and algorithm at ``budget``: median HV, its rank among the algorithms (1 best,
        ties averaged), wins and losses (Mann-Whitney p < alpha, direction by A12) against each other
        algorithm, the Mann-Whitney p and A12 of the first algorithm against this one on HV, the
        median share of the reference front its cells found, and where the problem knows its exact
        front, the median members of it recovered and IGD to it (NaN otherwise)."""
        rows = []
        first = self.algorithms[0]
        for name, c in self.problems.items():
            kind, front = self.reference_front(c)
            members = set(front)
            finals = {a: c.finals(a, budget) for a in self.algorithms}
            med = np.array([np.median(finals[a]) for a in self.algorithms])
            ranks = rankdata(-med, method="average")
            for j, a in enumerate(self.algorithms):
                found, igd = c.true_scores(a, budget) if c.true_front is not None else ([], [])
                wins = losses = 0
                for o in self.algorithms:
                    if o == a:
                        continue
                    p = mann_whitney(finals[a], finals[o])
                    if not math.isnan(p) and p < self.alpha:
                        effect = a12(finals[a], finals[o])
                        wins, losses = wins + (effect > 0.5), losses + (effect < 0.5)
                share = [len(members & {r["key"] for r in c.records_at(a, s, budget) if r.get("status") == "ok"})
                         / len(members) if members else float("nan") for s in c.seeds]
                rows.append({"budget": budget, "problem": name, "algorithm": a, "hv_median": float(med[j]),
                             "rank": float(ranks[j]), "wins": int(wins), "losses": int(losses),
                             "p_hv_first_vs": float("nan") if a == first else mann_whitney(finals[first], finals[a]),
                             "a12_hv_first_vs": float("nan") if a == first else a12(finals[first], finals[a]),
                             "front": kind, "front_size": len(members),
                             "front_share_median": float(np.median(share)),
                             "recovered_median": _nanmedian(list(found)), "igd_median": _nanmedian(list(igd))})
        return rows

    def summary_rows(self) -> list[dict]:
        """Per budget and algorithm, across problems: median rank, total wins and losses, median
        share of the reference front, and the problems it ranked first on."""
        rows = []
        for b in self.budgets():
            per = self.problem_rows(b)
            for a in self.algorithms:
                mine = [r for r in per if r["algorithm"] == a]
                rows.append({"budget": b, "algorithm": a, "problems": len(mine),
                             "median_rank": float(np.median([r["rank"] for r in mine])),
                             "mean_rank": float(np.mean([r["rank"] for r in mine])),
                             "wins": sum(r["wins"] for r in mine), "losses": sum(r["losses"] for r in mine),
                             "front_share_median": float(np.nanmedian([r["front_share_median"] for r in mine])),
                             "true_front_share_median": _nanmedian([r["front_share_median"] for r in mine
                                                                    if r["front"] == "true"]),
                             "first_on": sum(r["rank"] == 1 for r in mine)})
        return rows


def _nanmedian(v: list[float]) -> float:
    """The median of the numbers of ``v`` that are not NaN; NaN when there is none."""
    v = [x for x in v if not math.isnan(x)]
    return float(np.median(v)) if v else float("nan")


__all__ = ["suite_configs", "problem_dir", "run_suite", "Suite"]
