"""The ``Comparison``: every cell's evaluations analyzed at each budget, as the rows of the outputs."""
from __future__ import annotations

import math
from dataclasses import dataclass, field

import numpy as np

from ..algorithms.objectives import Objectives
from ..algorithms.reward import Reward
from ..analysis.pareto import IGD_NORMALIZATION
from ..analysis.stats import a12, a12_magnitude, mann_whitney, median_interval
from .curves import (
    evals_to_reach, front_points, hv_curve, ideal_point, reference_point, true_front_scores, unique_in_order,
)


@dataclass
class Comparison:
    """Everything the outputs are made from; ``runs[(algorithm, seed)]`` = evaluation records.

    ``budgets``: the numbers of unique evaluations the analysis is made at (default: the longest
    cell's count); a cell is read up to each budget, and a cell that stopped before a budget
    (stalled, or its generation cap) keeps its final values beyond its last evaluation.
    ``baseline``: the algorithm whose final median hypervolume the others are timed to reach.
    ``latency_targets_ms``: targets for the best accuracy under each. ``ablation``: algorithms
    drawn in separate figures beside the first. ``cells``: per cell, how its run ended. ``true_front``:
    the problem's exact Pareto front (``evo_nas.analysis.pareto.TrueFront``) where it knows one; each cell is
    then also scored by the members it recovered and its IGD."""

    algorithms: tuple[str, ...]
    seeds: tuple[int, ...]
    runs: dict
    objectives: Objectives
    reward: Reward
    budgets: tuple[int, ...] | None = None
    baseline: str | None = None
    latency_targets_ms: tuple[float, ...] = ()
    ablation: tuple[str, ...] = ()
    cells: dict = field(default_factory=dict)
    true_front: object = None

    def __post_init__(self):
        self.unique = {k: unique_in_order(v) for k, v in self.runs.items()}
        self.ref = reference_point([r for recs in self.unique.values() for r in recs], self.objectives)
        self.curves = {k: hv_curve(v, self.objectives, self.ref) for k, v in self.unique.items()}
        longest = max((len(c) for c in self.curves.values()), default=0)
        self.budget_list = tuple(self.budgets) if self.budgets else (longest,)
        self.horizon = self.budget_list[-1]
        self.budget = min(len(c) for c in self.curves.values())
        finals = [c[-1] for c in self.curves.values() if len(c)]
        self.best_final = max(finals) if finals else 0.0
        sources = {r.get("accuracy_source") for recs in self.unique.values() for r in recs} - {None}
        self.accuracy_source = sources.pop() if len(sources) == 1 else None
        self.accuracy = self.objectives.accuracy or "val_acc"
        # per cell, in unique evaluation order: accuracy and latency (NaN where failed or missing) and reward
        self._acc, self._lat, self._reward = {}, {}, {}
        for k, recs in self.unique.items():
            ok = np.array([r.get("status") == "ok" for r in recs], dtype=bool)
            acc = np.array([r.get(self.accuracy) for r in recs], dtype=float).reshape(-1)
            lat = np.array([r.get("latency_ms") for r in recs], dtype=float).reshape(-1)
            acc[~ok], lat[~ok] = np.nan, np.nan
            self._acc[k], self._lat[k] = acc, lat
            self._reward[k] = self._rewards(acc, lat)

    # -- per cell, per budget -----------------------------------------------------------------
    def hv_at(self, algorithm: str, seed: int, n: int) -> float:
        c = self.curves[(algorithm, seed)]
        return float(c[min(n, len(c)) - 1]) if len(c) and n >= 1 else 0.0

    def finals(self, algorithm: str, budget: int) -> np.ndarray:
        return np.array([self.hv_at(algorithm, s, budget) for s in self.seeds])

    def used(self, algorithm: str, budget: int) -> np.ndarray:
        return np.array([min(len(self.curves[(algorithm, s)]), budget) for s in self.seeds])

    def records_at(self, algorithm: str, seed: int, budget: int) -> list[dict]:
        return self.unique[(algorithm, seed)][:budget]

    def curve_matrix(self, algorithm: str, upto: int) -> np.ndarray:
        """(seeds, upto): each seed's hypervolume after n = 1..upto evaluations, flat once it stopped."""
        out = np.zeros((len(self.seeds), upto))
        for i, s in enumerate(self.seeds):
            c = self.curves[(algorithm, s)][:upto]
            if len(c):
                out[i, :len(c)] = c
                out[i, len(c):] = c[-1]
        return out

    def axis_label(self, name: str) -> str:
        if name == "val_acc" and self.accuracy_source:
            return f"val_acc = {self.accuracy_source}"
        return name

    def _rewards(self, acc: np.ndarray, lat: np.ndarray) -> np.ndarray:
        """``Reward.of_record`` over arrays: ACC x (LAT/T)^w, 0 where either is missing or LAT <= 0."""
        valid = np.isfinite(acc) & np.isfinite(lat) & (lat > 0)
        safe = np.where(valid, lat, self.reward.target_ms)
        w = np.where(safe <= self.reward.target_ms, self.reward.alpha, self.reward.beta)
        return np.where(valid, np.where(valid, acc, 0.0) * (safe / self.reward.target_ms) ** w, 0.0)

    def best_rewards(self, algorithm: str, budget: int) -> np.ndarray:
        return np.array([float(self._reward[(algorithm, s)][:budget].max(initial=0.0)) for s in self.seeds])

    def best_under(self, algorithm: str, seed: int, budget: int, target_ms: float) -> float:
        """``best_under`` over the cell's first ``budget`` unique evaluations."""
        acc, lat = self._acc[(algorithm, seed)][:budget], self._lat[(algorithm, seed)][:budget]
        ok = (lat <= target_ms) & np.isfinite(acc)
        return float(acc[ok].max()) if ok.any() else float("nan")

    # -- rows of the outputs ----------------------------------------------------------------
    def curve_rows(self, step: int | None = None) -> list[dict]:
        """Median hypervolume and its 95% interval over seeds (and the mean) at every ``step``-th
        evaluation (default: about 1,000 points per algorithm) and at each budget."""
        upto = self.horizon
        step = step or max(1, upto // 1000)
        grid = sorted({1, *range(step, upto + 1, step), *self.budget_list})
        idx = np.array(grid) - 1
        rows = []
        for a in self.algorithms:
            m = self.curve_matrix(a, upto)[:, idx]
            med, lo, hi, _ = median_interval(m)
            lengths = np.array([len(self.curves[(a, s)]) for s in self.seeds])
            for j, n in enumerate(grid):
                rows.append({"algorithm": a, "evaluations": n, "hv_median": med[j], "hv_lo": lo[j], "hv_hi": hi[j],
                             "hv_mean": float(m[:, j].mean()), "seeds": len(self.seeds),
                             "seeds_still_running": int((lengths >= n).sum())})
        return rows

    def true_scores(self, algorithm: str, budget: int) -> tuple[np.ndarray, np.ndarray]:
        """Per seed, the exact front's members recovered in the first ``budget`` unique evaluations and
        the IGD of their Pareto set (NaN where none succeeded); ``ValueError`` without a true front."""
        if self.true_front is None:
            raise ValueError("the problem has no exact Pareto front")
        scores = [true_front_scores(self.records_at(algorithm, s, budget), self.objectives, self.true_front)
                  for s in self.seeds]
        return (np.array([n for n, _ in scores], dtype=float),
                np.array([np.nan if d is None else d for _, d in scores], dtype=float))

    def _true_columns(self, a: str, first_scores: tuple | None, scores: tuple | None) -> dict:
        """The table row's columns about the exact front (none without one)."""
        if self.true_front is None:
            return {}
        (found, igd), (found_first, igd_first) = scores, first_scores
        out = {"true_front_size": self.true_front.size}
        for name, v, v1 in (("recovered", found, found_first), ("igd", igd, igd_first)):
            med, lo, hi, _ = median_interval(v)
            out.update({f"{name}_median": float(med), f"{name}_lo": float(lo), f"{name}_hi": float(hi),
                        f"{name}_mean": float(np.mean(v)),
                        f"p_{name}_vs_first": float("nan") if a == self.algorithms[0] else mann_whitney(v1, v),
                        f"a12_{name}_first_vs": float("nan") if a == self.algorithms[0] else a12(v1, v)})
        out["recovered_fraction_median"] = out["recovered_median"] / self.true_front.size
        return out

    def table_rows(self) -> list[dict]:
        first = self.algorithms[0]
        rows = []
        for b in self.budget_list:
            final = {a: self.finals(a, b) for a in self.algorithms}
            reward = {a: self.best_rewards(a, b) for a in self.algorithms}
            true = {a: self.true_scores(a, b) for a in self.algorithms} if self.true_front is not None else {}
            for a in self.algorithms:
                med, lo, hi, cov = median_interval(final[a])
                used = self.used(a, b)
                reach = [evals_to_reach(self.curves[(a, s)][:b], 0.95 * self.best_final) for s in self.seeds]
                got = [r for r in reach if r is not None]
                sd = float(final[a].std(ddof=1)) if len(self.seeds) > 1 else 0.0
                effect = float("nan") if a == first else a12(final[first], final[a])
                rows.append({
                    "budget": b,
                    "algorithm": a,
                    "evaluations": str(used.min()) if used.min() == used.max() else f"{used.min()}-{used.max()}",
                    "evaluations_median": float(np.median(used)),
                    "final_hv_median": float(med), "final_hv_lo": float(lo), "final_hv_hi": float(hi),
                    "interval_coverage": cov,
                    "final_hv_mean": float(final[a].mean()),
                    "final_hv_sd": sd,
                    "evals_to_95pct_mean": float(np.mean(got)) if got else float("nan"),
                    "seeds_reaching_95pct": f"{len(got)}/{len(reach)}",
                    "best_reward_median": float(np.median(reward[a])),
                    "best_reward_mean": float(reward[a].mean()),
                    "best_reward_sd": float(reward[a].std(ddof=1)) if len(self.seeds) > 1 else 0.0,
                    "p_hv_vs_first": float("nan") if a == first else mann_whitney(final[first], final[a]),
                    "a12_hv_first_vs": effect,
                    "a12_magnitude": "" if a == first else a12_magnitude(effect),
                    "p_reward_vs_first": float("nan") if a == first else mann_whitney(reward[first], reward[a]),
                    **self._true_columns(a, true.get(first), true.get(a)),
                })
        return rows

    def reach_rows(self) -> list[dict]:
        """Per budget and algorithm (the baseline itself aside), the evaluations needed to reach the
        baseline's final median hypervolume: per seed (median and range over the seeds that reach it), and where the median
        curve crosses it; as fractions of the budget and of the baseline's median unique evaluations."""
        if self.baseline is None:
            return []
        rows = []
        for b in self.budget_list:
            target = float(np.median(self.finals(self.baseline, b)))
            base_used = float(np.median(self.used(self.baseline, b)))
            for a in (a for a in self.algorithms if a != self.baseline):
                reach = [evals_to_reach(self.curves[(a, s)][:b], target) for s in self.seeds]
                got = np.array([r for r in reach if r is not None], dtype=float)
                # seeds that never reach the target count as beyond the budget in the median
                med = float(np.median([r if r is not None else math.inf for r in reach]))
                med_curve = np.median(self.curve_matrix(a, b), axis=0)
                crossing = evals_to_reach(med_curve, target)
                rows.append({
                    "budget": b, "algorithm": a, "baseline": self.baseline, "baseline_final_hv_median": target,
                    "baseline_evaluations_median": base_used,
                    "evals_to_reach_median": med if math.isfinite(med) else float("nan"),
                    "evals_to_reach_min": float(got.min()) if len(got) else float("nan"),
                    "evals_to_reach_max": float(got.max()) if len(got) else float("nan"),
                    "seeds_reaching": f"{len(got)}/{len(reach)}",
                    "fraction_of_budget": med / b if math.isfinite(med) else float("nan"),
                    "fraction_of_baseline_evaluations": med / base_used if math.isfinite(med) else float("nan"),
                    "median_curve_reaches_at": float(crossing) if crossing is not None else float("nan"),
                })
        return rows

    def target_rows(self) -> list[dict]:
        """Per budget, algorithm and latency target: the best accuracy under it (median, 95% interval,
        mean over seeds; seeds with no evaluation under the target are left out and counted), and the
        Mann-Whitney p and A12 of the first algorithm against this one."""
        first = self.algorithms[0]
        rows = []
        for b in self.budget_list:
            for t in self.latency_targets_ms:
                vals = {a: np.array([self.best_under(a, s, b, t) for s in self.seeds]) for a in self.algorithms}
                for a in self.algorithms:
                    v = vals[a][~np.isnan(vals[a])]
                    f = vals[first][~np.isnan(vals[first])]
                    med, lo, hi, _ = median_interval(v) if len(v) else (np.nan, np.nan, np.nan, np.nan)
                    rows.append({"budget": b, "target_ms": t, "algorithm": a, "accuracy": self.accuracy,
                                 "median": float(med), "lo": float(lo), "hi": float(hi),
                                 "mean": float(v.mean()) if len(v) else float("nan"),
                                 "seeds_with_a_model": f"{len(v)}/{len(self.seeds)}",
                                 "p_vs_first": float("nan") if a == first else mann_whitney(f, v),
                                 "a12_first_vs": float("nan") if a == first else a12(f, v)})
        return rows

    def fronts(self, budget: int | None = None, algorithms=None) -> dict:
        """Per algorithm, the non-dominated set of all its evaluations (up to ``budget``) over all seeds."""
        budget = budget or self.horizon
        return {a: front_points([r for s in self.seeds for r in self.records_at(a, s, budget)], self.objectives)
                for a in (algorithms or self.algorithms)}

    def summary(self) -> dict:
        return {"algorithms": list(self.algorithms), "seeds": list(self.seeds), "budgets": list(self.budget_list),
                "objectives": self.objectives.to_dict(), "reward": self.reward.to_dict(),
                "hv_reference": self.objectives.natural(self.ref),
                "hv_normalization": "divided by the box from the ideal point (accuracy 1, cost 0) to the reference",
                "statistics": {"center": "median over seeds",
                               "interval": "distribution-free 95% interval of the median (order statistics), "
                                           f"coverage {median_interval(np.zeros(len(self.seeds)))[3]:.3f}",
                               "test": "Mann-Whitney U, two-sided (scipy.stats.mannwhitneyu; exact without ties)",
                               "effect_size": "Vargha-Delaney A12 of the first algorithm against each other one"},
                "baseline": self.baseline, "ablation": list(self.ablation),
                "latency_targets_ms": list(self.latency_targets_ms),
                "evaluations_per_cell": {f"{a}-seed{s}": len(self.curves[(a, s)]) for a, s in self.runs},
                "cells": {f"{a}-seed{s}": v for (a, s), v in self.cells.items()},
                "accuracy_source": self.accuracy_source or f"{self.accuracy} as evaluated",
                "best_final_hv": self.best_final,
                **({} if self.true_front is None else {"true_front": {
                    "size": self.true_front.size, "population": self.true_front.population,
                    "hypervolume_normalized": float(self.true_front.hypervolume(self.ref) / np.prod(
                        self.ref - ideal_point(self.objectives))),
                    "igd_normalization": IGD_NORMALIZATION}})}


__all__ = ["Comparison"]
