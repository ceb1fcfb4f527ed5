"""Fair comparisons of search algorithms on one space, evaluator, cache policy and budget: NSGA-II
(Deb et al., 2002) against MnasNet's RL controller (Tan et al., 2019, arXiv 1807.11626), aging
evolution and random search (Real et al., AAAI 2019).

A comparison is algorithms x seeds; each cell is an ordinary run directory of the search engine,
so it resumes after a kill like any search. Budgets are unique architecture evaluations, counted
by the engine for every algorithm alike. Every algorithm's Pareto set is taken over all of its
evaluations, never over a last population. Outputs: hypervolume versus evaluations (mean and 95%
t-interval over seeds, CSV and PNG), the fronts overlaid, and a table of final hypervolume,
evaluations to reach 95% of the best final hypervolume, the best MnasNet reward under the target
(the RL controller's own objective), and Mann-Whitney U tests of the first algorithm against each
other one.

The ``[compare]`` section of a search configuration::

    algorithms = ["nsga2", "aging", "rl", "random"]   # the first is the one tested against the others
    seeds = [0, 1, 2, 3, 4]
    cell_jobs = 1        # cells run at once (each cell's evaluations use [search] n_jobs)
    score_as_accuracy = 100.0   # optional: a zero-cost proxy's score / 100 stands for val_acc

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
import os
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from .baselines.reward import Reward
from .jsonio import dumps
from .pareto import hypervolume_2d, non_dominated
from .search.objectives import FAILED_PENALTY, Objectives


@dataclass(frozen=True)
class CompareConfig:
    algorithms: tuple[str, ...]
    seeds: tuple[int, ...]
    cell_jobs: int = 1
    score_as_accuracy: float | None = None

    @classmethod
    def from_dict(cls, config: dict) -> "CompareConfig":
        d = dict(config.get("compare") or {})
        where = "[compare]"
        unknown = set(d) - {"algorithms", "seeds", "cell_jobs", "score_as_accuracy"}
        if unknown:
            raise ValueError(f"{where}: unknown key {sorted(unknown)[0]!r} "
                             "(expected algorithms, seeds, cell_jobs, score_as_accuracy)")
        algs = d.get("algorithms", ["nsga2", "aging", "rl", "random"])
        if not isinstance(algs, list) or not algs or not all(isinstance(a, str) for a in algs) \
                or len(set(algs)) != len(algs):
            raise ValueError(f"{where}: algorithms = {algs!r} must be a non-empty list of distinct names")
        from .search.strategy import STRATEGIES

        for a in algs:
            if a not in STRATEGIES:
                raise ValueError(f"{where}: algorithm {a!r} is unknown (expected one of {', '.join(sorted(STRATEGIES))})")
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
        return cls(tuple(algs), tuple(seeds), jobs, None if scale is None else float(scale))


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
    NSGA-II, ``[search.rl]`` for the controller, ...). The persistent cache is off: a cache shared
    between cells would hand later cells free evaluations and break equal budgets; repeats within
    a cell are still free, for every algorithm alike.
    """
    from .search.settings import ENGINE_KEYS
    from .search.strategy import strategy_class

    cell = copy.deepcopy({k: v for k, v in config.items() if k != "compare"})
    cell["seed"] = seed
    search = cell.get("search") or {}
    keys = getattr(strategy_class(algorithm), "search_keys", None)
    if keys is not None:
        search = {k: v for k, v in search.items() if k in ENGINE_KEYS or k in keys}
    search.update(algorithm=algorithm, cache=False)
    cell["search"] = search
    scale = (config.get("compare") or {}).get("score_as_accuracy")
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

    ``evaluator`` replaces the configured one (as in ``run_search``), e.g. in tests."""
    cmp = CompareConfig.from_dict(config)
    reward_of(config)
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
    if not records:
        return np.zeros((0, objectives.n_obj))
    return np.array([objectives.vector(r) for r in records], dtype=float)


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


def hv_curve(records: list[dict], objectives: Objectives, ref, ideal=None) -> np.ndarray:
    """Hypervolume of the first n unique evaluations, n = 1..len; divided by the ideal-to-ref box."""
    if objectives.n_obj != 2:
        raise ValueError(f"compare handles 2 objectives, got {list(objectives.names)}")
    ref = np.asarray(ref, float)
    scale = float(np.prod(ref - (ideal_point(objectives) if ideal is None else np.asarray(ideal, float))))
    f = objective_matrix(unique_in_order(records), objectives)
    out = np.zeros(len(f))
    front = np.zeros((0, 2))
    hv = 0.0
    for i, p in enumerate(f):
        if np.all(p < ref) and not np.any(np.all(front <= p, axis=1)):
            front = np.vstack([front, p])
            front = front[non_dominated(front)]
            hv = hypervolume_2d(front, ref) / scale
        out[i] = hv
    return out


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


def evals_to_reach(curve: np.ndarray, threshold: float) -> int | None:
    hit = np.nonzero(curve >= threshold)[0]
    return int(hit[0]) + 1 if len(hit) else None


def mann_whitney(a, b) -> float:
    """Two-sided Mann-Whitney U p-value (NaN when both samples are constant and equal)."""
    from scipy import stats

    a, b = np.asarray(a, float), np.asarray(b, float)
    if len(a) == 0 or len(b) == 0:
        return float("nan")
    if np.all(a == a[0]) and np.all(b == a[0]):
        return float("nan")
    return float(stats.mannwhitneyu(a, b, alternative="two-sided").pvalue)


def front_points(records: list[dict], objectives: Objectives) -> np.ndarray:
    """Natural-unit points of the non-dominated set of ``records`` (failed ones never enter)."""
    f = objective_matrix(unique_in_order(records), objectives)
    f = f[np.all(f < FAILED_PENALTY, axis=1)]
    if not len(f):
        return np.zeros((0, 2))
    f = f[non_dominated(f)]
    nat = np.array([[objectives.natural(p)[n] for n in objectives.names] for p in f])
    return nat[np.argsort(nat[:, 1 if objectives.names[0] in objectives.maximize else 0])]


@dataclass
class Comparison:
    """Everything the outputs are made from; ``runs[(algorithm, seed)]`` = evaluation records."""

    algorithms: tuple[str, ...]
    seeds: tuple[int, ...]
    runs: dict
    objectives: Objectives
    reward: Reward

    def __post_init__(self):
        self.ref = reference_point([r for recs in self.runs.values() for r in recs], self.objectives)
        self.curves = {k: hv_curve(v, self.objectives, self.ref) for k, v in self.runs.items()}
        self.budget = min(len(c) for c in self.curves.values())
        finals = [c[-1] for c in self.curves.values() if len(c)]
        self.best_final = max(finals) if finals else 0.0
        sources = {r.get("accuracy_source") for recs in self.runs.values() for r in recs} - {None}
        self.accuracy_source = sources.pop() if len(sources) == 1 else None

    def axis_label(self, name: str) -> str:
        if name == "val_acc" and self.accuracy_source:
            return f"val_acc = {self.accuracy_source}"
        return name

    def curve_rows(self) -> list[dict]:
        rows = []
        for a in self.algorithms:
            m = np.array([self.curves[(a, s)][:self.budget] for s in self.seeds])
            mean, lo, hi = t_interval(m)
            for n in range(self.budget):
                rows.append({"algorithm": a, "evaluations": n + 1, "hv_mean": mean[n], "hv_lo": lo[n],
                             "hv_hi": hi[n], "seeds": len(self.seeds)})
        return rows

    def table_rows(self) -> list[dict]:
        first = self.algorithms[0]
        final = {a: np.array([self.curves[(a, s)][-1] for s in self.seeds]) for a in self.algorithms}
        best_reward = {a: np.array([max((self.reward.of_record(r, self.objectives.accuracy or "val_acc") for r in self.runs[(a, s)]), default=0.0)
                                    for s in self.seeds]) for a in self.algorithms}
        rows = []
        for a in self.algorithms:
            reach = [evals_to_reach(self.curves[(a, s)], 0.95 * self.best_final) for s in self.seeds]
            got = [r for r in reach if r is not None]
            evals = sorted({len(self.curves[(a, s)]) for s in self.seeds})
            rows.append({
                "algorithm": a,
                "evaluations": "/".join(map(str, evals)),
                "final_hv_mean": float(final[a].mean()),
                "final_hv_sd": float(final[a].std(ddof=1)) if len(self.seeds) > 1 else 0.0,
                "evals_to_95pct_mean": float(np.mean(got)) if got else float("nan"),
                "seeds_reaching_95pct": f"{len(got)}/{len(reach)}",
                "best_reward_mean": float(best_reward[a].mean()),
                "best_reward_sd": float(best_reward[a].std(ddof=1)) if len(self.seeds) > 1 else 0.0,
                "p_hv_vs_first": float("nan") if a == first else mann_whitney(final[first], final[a]),
                "p_reward_vs_first": float("nan") if a == first else mann_whitney(best_reward[first], best_reward[a]),
            })
        return rows

    def fronts(self) -> dict:
        """Per algorithm, the non-dominated set of all its evaluations over all seeds."""
        return {a: front_points([r for s in self.seeds for r in self.runs[(a, s)]], self.objectives)
                for a in self.algorithms}

    def summary(self) -> dict:
        return {"algorithms": list(self.algorithms), "seeds": list(self.seeds),
                "objectives": self.objectives.to_dict(), "reward": self.reward.to_dict(),
                "hv_reference": self.objectives.natural(self.ref),
                "hv_normalization": "divided by the box from the ideal point (accuracy 1, cost 0) to the reference",
                "evaluations_per_cell": {f"{a}-seed{s}": len(self.curves[(a, s)]) for a, s in self.runs},
                "accuracy_source": self.accuracy_source or "val_acc as evaluated",
                "best_final_hv": self.best_final}


def _fmt(v, digits=4):
    if isinstance(v, float):
        return "n/a" if math.isnan(v) else f"{v:.{digits}f}"
    return str(v)


def table_markdown(comparison: Comparison) -> str:
    rows = comparison.table_rows()
    first = comparison.algorithms[0]
    head = ["algorithm", "evaluations", "final HV (mean ± sd)", "evals to 95% of best HV (seeds reaching)",
            f"best reward, T = {comparison.reward.target_ms:g} ms (mean ± sd)",
            f"p (HV vs {first})", f"p (reward vs {first})"]
    lines = ["| " + " | ".join(head) + " |", "|" + "---|" * len(head)]
    for r in rows:
        lines.append("| " + " | ".join([
            r["algorithm"], r["evaluations"], f"{_fmt(r['final_hv_mean'])} ± {_fmt(r['final_hv_sd'])}",
            f"{_fmt(r['evals_to_95pct_mean'], 0)} ({r['seeds_reaching_95pct']})",
            f"{_fmt(r['best_reward_mean'])} ± {_fmt(r['best_reward_sd'])}",
            _fmt(r["p_hv_vs_first"], 3), _fmt(r["p_reward_vs_first"], 3)]) + " |")
    return "\n".join(lines) + "\n"


def _atomic_write(path: Path, data: str | bytes) -> None:
    tmp = path.with_name(f".{path.name}.tmp")
    with open(tmp, "wb") as f:
        f.write(data.encode() if isinstance(data, str) else data)
    os.replace(tmp, path)


def _csv(rows: list[dict]) -> str:
    buf = io.StringIO()
    w = csv.DictWriter(buf, fieldnames=list(rows[0]), lineterminator="\n")
    w.writeheader()
    for r in rows:
        w.writerow({k: (f"{v:.6g}" if isinstance(v, float) else v) for k, v in r.items()})
    return buf.getvalue()


def write_outputs(comparison: Comparison, out: str | Path) -> list[Path]:
    """``hv_curve.csv/png``, ``fronts.png``, ``table.md/csv``, ``summary.json`` under ``out``."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    out = Path(out)
    out.mkdir(parents=True, exist_ok=True)
    written = []

    def put(name, data):
        _atomic_write(out / name, data)
        written.append(out / name)

    def png_bytes(fig) -> bytes:
        fig.tight_layout()
        buf = io.BytesIO()
        fig.savefig(buf, format="png")
        plt.close(fig)
        return buf.getvalue()

    curve = comparison.curve_rows()
    put("hv_curve.csv", _csv(curve))
    put("table.csv", _csv(comparison.table_rows()))
    put("table.md", table_markdown(comparison))
    put("summary.json", dumps(comparison.summary(), indent=2, default=float) + "\n")

    fig, ax = plt.subplots(figsize=(6.4, 4.2), dpi=120)
    for a in comparison.algorithms:
        rows = [r for r in curve if r["algorithm"] == a]
        x = [r["evaluations"] for r in rows]
        line, = ax.plot(x, [r["hv_mean"] for r in rows], label=a)
        ax.fill_between(x, [r["hv_lo"] for r in rows], [r["hv_hi"] for r in rows], color=line.get_color(), alpha=0.2)
    ax.set_xlabel("unique architecture evaluations")
    ax.set_ylabel("normalized hypervolume")
    ref = ", ".join(f"{k} {v:g}" for k, v in comparison.objectives.natural(comparison.ref).items())
    ax.set_title(f"mean and 95% interval over {len(comparison.seeds)} seeds (reference: {ref})", fontsize=9)
    ax.legend()
    ax.grid(alpha=0.3)
    put("hv_curve.png", png_bytes(fig))

    names = comparison.objectives.names
    xi, yi = (1, 0) if names[0] in comparison.objectives.maximize else (0, 1)
    fig, ax = plt.subplots(figsize=(6.4, 4.2), dpi=120)
    for a, pts in comparison.fronts().items():
        if len(pts):
            ax.step(pts[:, xi], pts[:, yi], where="post", marker="o", ms=3, label=f"{a} ({len(pts)})")
    if "latency_ms" in names:
        ax.axvline(comparison.reward.target_ms, color="grey", ls=":", lw=1, label="target T")
    ax.set_xlabel(comparison.axis_label(names[xi]))
    ax.set_ylabel(comparison.axis_label(names[yi]))
    ax.set_title(f"Pareto sets over all evaluations of {len(comparison.seeds)} seeds")
    ax.legend()
    ax.grid(alpha=0.3)
    put("fronts.png", png_bytes(fig))
    return written


def load_comparison(config: dict, runs: str | Path) -> Comparison:
    """Read every cell's evaluations back from its run directory."""
    from .search.run import RunDir

    cmp = CompareConfig.from_dict(config)
    records = {}
    for a in cmp.algorithms:
        for s in cmp.seeds:
            path = cell_dir(runs, a, s)
            if not path.exists():
                raise FileNotFoundError(f"cell {a} seed {s} has no run directory {path} (run the comparison first)")
            records[(a, s)] = RunDir(path).evaluations()
    from .problems import problem_class, problem_name

    objectives = Objectives.from_dict(config.get("objectives"), problem_class(problem_name(config)))
    return Comparison(cmp.algorithms, cmp.seeds, records, objectives,
                      reward_of(config))
