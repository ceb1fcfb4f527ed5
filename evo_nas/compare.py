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
"""
from __future__ import annotations

import copy
import csv
import io
import math
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from .baselines.reward import Reward
from .files import atomic_write
from .jsonio import dumps
from .pareto import hypervolume_2d, non_dominated
from .search.objectives import FAILED_PENALTY, Objectives


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
        from .schema import section
        from .search.strategy import STRATEGIES

        d = section("compare", config.get("compare"))
        where = "[compare]"
        algs = tuple(d.algorithms)
        for name, over in d.overrides.items():
            if name not in algs:
                raise ValueError(f"[compare.overrides.{name}]: {name!r} is not in [compare] algorithms {list(algs)}")
            if not isinstance(over, dict):
                raise ValueError(f"[compare.overrides.{name}] = {over!r} must be a table of [search] keys")
            base = over.get("algorithm", name)
            if base not in STRATEGIES or name in STRATEGIES and base != name:
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


@dataclass(frozen=True)
class ScoreAsAccuracy:
    """An evaluator: ``evo_nas.evaluate.evaluate``, then ``val_acc = score / scale`` (picklable for workers)."""

    scale: float

    def __call__(self, genome, cfg) -> dict:
        from .evaluate import evaluate

        rec = dict(evaluate(genome, cfg))
        if rec.get("status") == "ok":
            if rec.get("score") is None:
                rec.update(status="failed", error="score_as_accuracy: the proxy returned no score")
            else:
                rec["val_acc"] = float(rec["score"]) / self.scale
                rec["accuracy_source"] = f"{rec.get('proxy')} score / {self.scale:g}"
        return rec


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
    from .search.settings import ENGINE_KEYS
    from .search.strategy import strategy_class

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


def _run_cell(args) -> str:
    import torch

    from .search.engine import run_search

    config, algorithm, seed, runs, evaluator = args
    torch.set_num_threads(1)
    scale = CompareConfig.from_dict(config).score_as_accuracy
    if evaluator is None and scale is not None:
        evaluator = ScoreAsAccuracy(scale)
    path = cell_dir(runs, algorithm, seed)
    run_search(cell_config(config, algorithm, seed), path, resume=path.exists(), quiet=True, evaluator=evaluator)
    return str(path)


def run_cells(config: dict, runs: str | Path, *, backend: str = "loky", progress=None, evaluator=None) -> list[str]:
    """Run (or resume) every cell under ``runs``; ``progress(algorithm, seed)`` is called before each one.

    Every cell's configuration is validated before the first cell starts. ``evaluator`` replaces
    the configured one (as in ``run_search``), e.g. in tests."""
    from .problems import make_problem
    from .search.engine import validate_config

    cmp = CompareConfig.from_dict(config)
    reward_of(config)
    problem = make_problem(config)
    for a in cmp.algorithms:
        try:
            validate_config(cell_config(config, a, cmp.seeds[0]), problem)
        except ValueError as e:
            raise ValueError(f"[compare] algorithm {a!r}: {e}") from None
    cells = [(config, a, s, Path(runs), evaluator) for s in cmp.seeds for a in cmp.algorithms]
    if cmp.cell_jobs == 1:
        done = []
        for c in cells:
            if progress is not None:
                progress(c[1], c[2])
            done.append(_run_cell(c))
        return done
    from .parallel import parallel_map

    return parallel_map(_run_cell, cells, cmp.cell_jobs, backend)


# -- analysis over plain evaluation records ----------------------------------------------------

def unique_in_order(records: list[dict]) -> list[dict]:
    """The first record of each architecture key, in evaluation order."""
    seen, out = set(), []
    for r in records:
        if r["key"] not in seen:
            seen.add(r["key"])
            out.append(r)
    return out


def objective_matrix(records: list[dict], objectives: Objectives) -> np.ndarray:
    """The minimization vectors of ``records``, shape (N, n_obj); ``FAILED_PENALTY`` rows for failures."""
    return objectives.matrix(records)[0]


def reference_point(all_records: list[dict], objectives: Objectives) -> np.ndarray:
    """``[objectives] reference`` if given, else 10% beyond the worst successful value of each objective."""
    ref = objectives.reference_vector()
    if ref is not None:
        return ref
    f = objective_matrix(all_records, objectives)
    f = f[np.all(f < FAILED_PENALTY, axis=1)]
    if not len(f):
        raise ValueError("no successful evaluation to place a hypervolume reference point")
    lo, hi = f.min(0), f.max(0)
    return hi + 0.1 * np.maximum(hi - lo, 1e-12)


def ideal_point(objectives: Objectives) -> np.ndarray:
    """The best conceivable value of each objective (accuracy 1, zero cost), for normalization."""
    return np.array([-1.0 if n in objectives.maximize else 0.0 for n in objectives.names])


def hv_curve_points(F, ref) -> np.ndarray:
    """Hypervolume (both objectives minimized) of the first n rows of ``F`` (N, 2), n = 1..N, bounded by ``ref``.

    One pass that keeps the non-dominated set sorted by the first objective (the second then
    strictly decreasing) and updates the area by what each new point adds: a point weakly
    dominated by the set (an equal point included) or not strictly better than ``ref`` in both
    objectives changes nothing; otherwise it removes the run of points it dominates, which are
    adjacent in that order, and only the strips of its neighbours change. O(N log N) for the
    searches here, against a re-sort of the front per point."""
    import bisect

    F = np.asarray(F, dtype=float).reshape(-1, 2)
    r0, r1 = float(ref[0]), float(ref[1])
    out = np.zeros(len(F))
    xs: list[float] = []
    ys: list[float] = []
    hv = 0.0
    inside = (F[:, 0] < r0) & (F[:, 1] < r1)
    for i, (a, b) in enumerate(F.tolist()):
        if inside[i]:
            j = bisect.bisect_right(xs, a)
            if not (j and ys[j - 1] <= b):
                k = bisect.bisect_left(xs, a)
                m = k
                while m < len(xs) and ys[m] >= b:
                    m += 1
                right = xs[m] if m < len(xs) else r0
                # old strips: left neighbour's (up to xs[k] or the removed run), then the removed points'
                old = 0.0
                if k:
                    old += ((xs[k] if k < len(xs) else r0) - xs[k - 1]) * (r1 - ys[k - 1])
                for q in range(k, m):
                    old += ((xs[q + 1] if q + 1 < len(xs) else r0) - xs[q]) * (r1 - ys[q])
                new = (right - a) * (r1 - b)
                if k:
                    new += (a - xs[k - 1]) * (r1 - ys[k - 1])
                hv += new - old
                xs[k:m] = [a]
                ys[k:m] = [b]
        out[i] = hv
    return out


def hv_curve(records: list[dict], objectives: Objectives, ref, ideal=None) -> np.ndarray:
    """Hypervolume of the first n unique evaluations, n = 1..len; divided by the ideal-to-ref box."""
    if objectives.n_obj != 2:
        raise ValueError(f"compare handles 2 objectives, got {list(objectives.names)}")
    ref = np.asarray(ref, float)
    scale = float(np.prod(ref - (ideal_point(objectives) if ideal is None else np.asarray(ideal, float))))
    return hv_curve_points(objective_matrix(unique_in_order(records), objectives), ref) / scale


def t_interval(values: np.ndarray, axis: int = 0, level: float = 0.95):
    """Mean and the t-distribution confidence interval of the mean along ``axis``."""
    from scipy import stats

    values = np.asarray(values, float)
    n = values.shape[axis]
    mean = values.mean(axis)
    if n < 2:
        return mean, mean.copy(), mean.copy()
    half = stats.t.ppf(0.5 + level / 2, n - 1) * values.std(axis, ddof=1) / math.sqrt(n)
    return mean, mean - half, mean + half


def median_interval(values, axis: int = 0, level: float = 0.95):
    """Median and the distribution-free confidence interval of the median along ``axis``.

    The interval is [x_(k), x_(n+1-k)] of the sorted sample with the largest k whose binomial
    coverage 1 - 2 P(Bin(n, 1/2) < k) is at least ``level`` (Conover, Practical Nonparametric
    Statistics, 3rd ed., section 3.2); for 10 seeds that is the 2nd and 9th value, coverage 97.9%.
    No k reaches ``level`` below 6 samples: the interval is then the whole range, whose coverage
    is smaller. Returns (median, lo, hi, coverage)."""
    from scipy import stats

    v = np.sort(np.asarray(values, float), axis=axis)
    n = v.shape[axis]
    med = np.median(v, axis=axis)
    k = 1
    while k + 1 <= n // 2 and 1 - 2 * stats.binom.cdf(k, n, 0.5) >= level:
        k += 1
    coverage = float(1 - 2 * stats.binom.cdf(k - 1, n, 0.5))
    return med, np.take(v, k - 1, axis=axis), np.take(v, n - k, axis=axis), coverage


def evals_to_reach(curve: np.ndarray, threshold: float) -> int | None:
    hit = np.nonzero(curve >= threshold)[0]
    return int(hit[0]) + 1 if len(hit) else None


def mann_whitney(a, b) -> float:
    """Two-sided Mann-Whitney U p-value: the exact distribution when the pooled values have no ties,
    else the normal approximation with continuity correction (NaN when both samples are constant
    and equal, or one is empty)."""
    from scipy import stats

    a, b = np.asarray(a, float), np.asarray(b, float)
    if len(a) == 0 or len(b) == 0:
        return float("nan")
    if np.all(a == a[0]) and np.all(b == a[0]):
        return float("nan")
    pooled = np.concatenate([a, b])
    method = "exact" if len(np.unique(pooled)) == len(pooled) else "asymptotic"
    return float(stats.mannwhitneyu(a, b, alternative="two-sided", method=method).pvalue)


def a12(a, b) -> float:
    """Vargha and Delaney's A12 (J. Educ. Behav. Stat. 25(2), 2000): P(X > Y) + P(X = Y) / 2 for X
    drawn from ``a`` and Y from ``b``; 0.5 is no effect, 1 is ``a`` always larger."""
    a, b = np.asarray(a, float), np.asarray(b, float)
    if len(a) == 0 or len(b) == 0:
        return float("nan")
    gt = (a[:, None] > b[None, :]).mean()
    eq = (a[:, None] == b[None, :]).mean()
    return float(gt + 0.5 * eq)


def a12_magnitude(value: float) -> str:
    """Vargha and Delaney's labels: |A12 - 0.5| below 0.06 negligible, 0.14 small, 0.21 medium, else large."""
    if math.isnan(value):
        return "n/a"
    d = abs(value - 0.5)
    return "negligible" if d < 0.06 else "small" if d < 0.14 else "medium" if d < 0.21 else "large"


def front_points(records: list[dict], objectives: Objectives) -> np.ndarray:
    """Natural-unit points of the non-dominated set of ``records`` (failed ones never enter)."""
    f = objective_matrix(unique_in_order(records), objectives)
    f = f[np.all(f < FAILED_PENALTY, axis=1)]
    if not len(f):
        return np.zeros((0, 2))
    f = f[non_dominated(f)]
    nat = np.array([[objectives.natural(p)[n] for n in objectives.names] for p in f])
    return nat[np.argsort(nat[:, 1 if objectives.names[0] in objectives.maximize else 0])]


def best_under(records: list[dict], accuracy: str, target_ms: float) -> float:
    """The best ``accuracy`` of the successful ``records`` with ``latency_ms <= target_ms``; NaN if none."""
    best = float("nan")
    for r in records:
        if r.get("status") == "ok" and r.get("latency_ms") is not None and r.get(accuracy) is not None \
                and r["latency_ms"] <= target_ms and not best >= r[accuracy]:
            best = float(r[accuracy])
    return best


@dataclass
class Comparison:
    """Everything the outputs are made from; ``runs[(algorithm, seed)]`` = evaluation records.

    ``budgets``: the numbers of unique evaluations the analysis is made at (default: the longest
    cell's count); a cell is read up to each budget, and a cell that stopped before a budget
    (stalled, or its generation cap) keeps its final values beyond its last evaluation.
    ``baseline``: the algorithm whose final median hypervolume the others are timed to reach.
    ``latency_targets_ms``: targets for the best accuracy under each. ``ablation``: algorithms
    drawn in separate figures beside the first. ``cells``: per cell, how its run ended."""

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

    def table_rows(self) -> list[dict]:
        first = self.algorithms[0]
        rows = []
        for b in self.budget_list:
            final = {a: self.finals(a, b) for a in self.algorithms}
            reward = {a: self.best_rewards(a, b) for a in self.algorithms}
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
                "best_final_hv": self.best_final}


def _fmt(v, digits=4):
    if isinstance(v, float):
        return "n/a" if math.isnan(v) else f"{v:.{digits}f}"
    return str(v)


def _p(v) -> str:
    if isinstance(v, float) and not math.isnan(v) and v < 0.001:
        return f"{v:.1e}"
    return _fmt(v, 3)


def table_markdown(comparison: Comparison) -> str:
    rows = comparison.table_rows()
    first = comparison.algorithms[0]
    cov = rows[0]["interval_coverage"] if rows else float("nan")
    head = ["algorithm", "evaluations", "final HV median [95% CI]", "final HV mean ± sd",
            f"A12 ({first} vs this)", f"p (HV vs {first})",
            f"best reward, T = {comparison.reward.target_ms:g} ms (median)", f"p (reward vs {first})"]
    lines = []
    for b in comparison.budget_list:
        if len(comparison.budget_list) > 1:
            lines += [f"Budget {b:,} unique evaluations:", ""]
        lines += ["| " + " | ".join(head) + " |", "|" + "---|" * len(head)]
        for r in (r for r in rows if r["budget"] == b):
            a12_text = "" if r["algorithm"] == first else f"{_fmt(r['a12_hv_first_vs'], 2)} ({r['a12_magnitude']})"
            lines.append("| " + " | ".join([
                r["algorithm"], r["evaluations"],
                f"{_fmt(r['final_hv_median'])} [{_fmt(r['final_hv_lo'])}, {_fmt(r['final_hv_hi'])}]",
                f"{_fmt(r['final_hv_mean'])} ± {_fmt(r['final_hv_sd'])}", a12_text,
                _p(r["p_hv_vs_first"]), _fmt(r["best_reward_median"]), _p(r["p_reward_vs_first"])]) + " |")
        lines.append("")
    lines.append(f"HV: hypervolume of all of a cell's evaluations, normalized; median over {len(comparison.seeds)} seeds "
                 f"with its distribution-free interval (coverage {cov:.3f}). p: two-sided Mann-Whitney U.")
    return "\n".join(lines) + "\n"


def reach_markdown(comparison: Comparison) -> str:
    rows = comparison.reach_rows()
    if not rows:
        return ""
    base = comparison.baseline
    head = ["budget", "algorithm", f"{base} final median HV", "evaluations to reach it: median [min, max]",
            "seeds reaching", "fraction of the budget", f"fraction of {base}'s unique evaluations",
            "median curve reaches it at"]
    lines = ["| " + " | ".join(head) + " |", "|" + "---|" * len(head)]
    for r in rows:
        med = r["evals_to_reach_median"]
        med_text = f"> {r['budget']:,}" if math.isnan(med) else _fmt(med, 0)
        lines.append("| " + " | ".join([
            f"{r['budget']:,}", r["algorithm"], _fmt(r["baseline_final_hv_median"]),
            f"{med_text} [{_fmt(r['evals_to_reach_min'], 0)}, {_fmt(r['evals_to_reach_max'], 0)}]",
            r["seeds_reaching"], _fmt(r["fraction_of_budget"], 3), _fmt(r["fraction_of_baseline_evaluations"], 3),
            _fmt(r["median_curve_reaches_at"], 0)]) + " |")
    return "\n".join(lines) + (f"\n\nA seed that never reaches the target counts as beyond the budget in the median; "
                               f"{base}'s unique evaluations are its median over seeds (it may stop before the budget).\n")


def targets_markdown(comparison: Comparison) -> str:
    rows = comparison.target_rows()
    if not rows:
        return ""
    first = comparison.algorithms[0]
    targets = comparison.latency_targets_ms
    lines = []
    for b in comparison.budget_list:
        lines += [f"Best {comparison.accuracy} under each latency target, {b:,} unique evaluations: median [95% CI] "
                  f"over seeds; p (Mann-Whitney U, two-sided) and A12 of {first} against each.", ""]
        head = ["algorithm"] + [f"<= {t:g} ms" for t in targets]
        lines += ["| " + " | ".join(head) + " |", "|" + "---|" * len(head)]
        for a in comparison.algorithms:
            cells = []
            for t in targets:
                r = next(r for r in rows if r["budget"] == b and r["target_ms"] == t and r["algorithm"] == a)
                text = f"{_fmt(r['median'])} [{_fmt(r['lo'])}, {_fmt(r['hi'])}]"
                if a != first:
                    text += f"<br>p {_p(r['p_vs_first'])}, A12 {_fmt(r['a12_first_vs'], 2)}"
                if r["seeds_with_a_model"] != f"{len(comparison.seeds)}/{len(comparison.seeds)}":
                    text += f" ({r['seeds_with_a_model']} seeds)"
                cells.append(text)
            lines.append("| " + " | ".join([a] + cells) + " |")
        lines.append("")
    return "\n".join(lines)


def _csv(rows: list[dict]) -> str:
    buf = io.StringIO()
    w = csv.DictWriter(buf, fieldnames=list(rows[0]), lineterminator="\n")
    w.writeheader()
    for r in rows:
        w.writerow({k: (f"{v:.6g}" if isinstance(v, float) else v) for k, v in r.items()})
    return buf.getvalue()


def write_outputs(comparison: Comparison, out: str | Path) -> list[Path]:
    """``hv_curve.csv/png``, ``fronts.png``, ``table.md/csv``, ``summary.json`` under ``out``; with a
    baseline ``reach.md/csv``, with latency targets ``targets.md/csv``, with an ablation
    ``hv_curve_ablation.png`` and ``fronts_ablation.png``."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    out = Path(out)
    out.mkdir(parents=True, exist_ok=True)
    written = []
    c = comparison

    def put(name, data):
        atomic_write(out / name, data)
        written.append(out / name)

    def png_bytes(fig) -> bytes:
        fig.tight_layout()
        buf = io.BytesIO()
        fig.savefig(buf, format="png")
        plt.close(fig)
        return buf.getvalue()

    put("hv_curve.csv", _csv(c.curve_rows()))
    put("table.csv", _csv(c.table_rows()))
    put("table.md", table_markdown(c))
    if c.baseline is not None:
        put("reach.csv", _csv(c.reach_rows()))
        put("reach.md", reach_markdown(c))
    if c.latency_targets_ms:
        put("targets.csv", _csv(c.target_rows()))
        put("targets.md", targets_markdown(c))
    put("summary.json", dumps(c.summary(), indent=2, default=float) + "\n")

    main = [a for a in c.algorithms if a not in c.ablation]
    groups = [("", main)] + ([("_ablation", [c.algorithms[0], *c.ablation])] if c.ablation else [])
    ref = ", ".join(f"{k} {v:g}" for k, v in c.objectives.natural(c.ref).items())
    x = np.arange(1, c.horizon + 1)
    # a log axis from horizon / 1000 evaluations on when the horizon is long, the y range fitted to what is shown
    first_shown = max(1, c.horizon // 1000) if c.horizon >= 1000 else 1
    for suffix, algs in groups:
        fig, ax = plt.subplots(figsize=(7.2, 4.6), dpi=120)
        shown = []
        for a in algs:
            med, lo, hi, _ = median_interval(c.curve_matrix(a, c.horizon))
            line, = ax.plot(x, med, label=a, lw=1.4)
            ax.fill_between(x, lo, hi, color=line.get_color(), alpha=0.2, lw=0)
            shown += [lo[first_shown - 1:].min(), hi[first_shown - 1:].max()]
        if c.baseline is not None and c.baseline in algs:
            level = float(np.median(c.finals(c.baseline, c.horizon)))
            ax.axhline(level, color="grey", ls=":", lw=1, label=f"{c.baseline} final median")
        for b in c.budget_list[:-1]:
            ax.axvline(b, color="black", ls="--", lw=0.8, alpha=0.5)
        if c.horizon >= 1000:
            ax.set_xscale("log")
            ax.set_xlim(first_shown, c.horizon * 1.05)
            pad = 0.04 * (max(shown) - min(shown))
            ax.set_ylim(min(shown) - pad, max(shown) + pad)
        ax.set_xlabel("unique architecture evaluations")
        ax.set_ylabel("normalized hypervolume")
        ax.set_title(f"median and 95% interval over {len(c.seeds)} seeds (reference: {ref})", fontsize=9)
        ax.legend(fontsize=8)
        ax.grid(alpha=0.3, which="both")
        put(f"hv_curve{suffix}.png", png_bytes(fig))

    names = c.objectives.names
    xi, yi = (1, 0) if names[0] in c.objectives.maximize else (0, 1)
    for suffix, algs in groups:
        fig, ax = plt.subplots(figsize=(7.2, 4.6), dpi=120)
        for a, pts in c.fronts(c.horizon, algs).items():
            if len(pts):
                ax.step(pts[:, xi], pts[:, yi], where="post", marker="o", ms=2.5, lw=1, label=f"{a} ({len(pts)})")
        if "latency_ms" in names:
            ax.axvline(c.reward.target_ms, color="grey", ls=":", lw=1, label="target T")
        ax.set_xlabel(c.axis_label(names[xi]))
        ax.set_ylabel(c.axis_label(names[yi]))
        ax.set_title(f"Pareto sets over all evaluations of {len(c.seeds)} seeds ({c.horizon:,} per seed)", fontsize=9)
        ax.legend(fontsize=8)
        ax.grid(alpha=0.3)
        put(f"fronts{suffix}.png", png_bytes(fig))
    return written


def load_comparison(config: dict, runs: str | Path) -> Comparison:
    """Read every cell's evaluations back from its run directory, with how each run ended."""
    from .search.run import RunDir

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
    from .problems import problem_class, problem_name

    objectives = Objectives.from_dict(config.get("objectives"), problem_class(problem_name(config)))
    return Comparison(cmp.algorithms, cmp.seeds, records, objectives, reward_of(config), budgets=cmp.budgets,
                      baseline=cmp.baseline, latency_targets_ms=cmp.latency_targets_ms, ablation=cmp.ablation,
                      cells=cells)
