"""Plots of a run's objectives: every evaluation in grey, the Pareto set in red, drawn for any number of objectives.

The figure ``evo-nas search``, ``evo-nas pareto`` and ``Result.plot`` write as ``pareto.png``
(matplotlib, Agg backend; imported only when a plot is drawn). Its form follows the number k of
objectives, as pymoo's ``Scatter`` and ``PCP`` and Optuna's ``plot_pareto_front`` and
``plot_parallel_coordinate`` do:

- k = 1: every evaluation's value in the order evaluated, and the best feasible value so far;
- k = 2: one objective against the other (``latency_ms`` across when it is one), the Pareto set
  as the staircase that bounds the region it dominates;
- k >= 3: a pairs plot (each pair of objectives once, the Pareto set as points: projected on two
  axes a front is no staircase, so no line joins them) above a parallel-coordinates plot
  (Inselberg, 1985), each coordinate scaled to the evaluations' range with its better end up.

Every axis names its objective, unit and direction (max or min).
"""
from __future__ import annotations

import io
from pathlib import Path

import numpy as np

from ..base.files import atomic_write

TITLES = {"val_acc": "validation accuracy (proxy)", "score": "proxy score", "top1": "top-1",
          "latency_ms": "latency", "params_m": "parameters", "macs_m": "MACs"}
GREY, RED = "0.7", "tab:red"


def objective_label(objectives, name: str) -> str:
    """``name`` as an axis label: its title, unit and direction, e.g. ``latency [ms], min``."""
    title = TITLES.get(name, name.replace("_", " "))
    unit = objectives.unit(name)
    return f"{title}{f' [{unit}]' if unit else ''}, {'max' if name in objectives.maximize else 'min'}"


def _values(objectives, records: list[dict]) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Natural values of ``records`` (N, k), which succeeded with every objective finite (N,), and which
    are feasible too (N,)."""
    if not records:
        return np.zeros((0, objectives.n_obj)), np.zeros(0, dtype=bool), np.zeros(0, dtype=bool)
    v = np.array([[np.nan if r.get(n) is None else r[n] for n in objectives.names] for r in records], dtype=float)
    ok = np.array([r.get("status") == "ok" for r in records]) & np.isfinite(v).all(axis=1)
    return v, ok, objectives.matrix(records)[1] & ok


def front_figure(records: list[dict], front: list[dict], objectives):
    """The matplotlib ``Figure`` of ``plot_front`` (see the module docstring for its form by k).

    ``records``: every evaluation of the run, in the order evaluated; ``front``: its Pareto set;
    ``objectives``: the run's ``Objectives`` (a latency target, when set, is a dashed line)."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    values, ok, feasible = _values(objectives, records)
    points = _values(objectives, front)[0] if front else np.zeros((0, objectives.n_obj))
    k = objectives.n_obj
    if k == 1:
        fig, ax = plt.subplots(figsize=(6.4, 4.4), dpi=120)
        _best_so_far(ax, values[:, 0], ok, feasible, objectives)
    elif k == 2:
        fig, ax = plt.subplots(figsize=(6.4, 4.4), dpi=120)
        _staircase(ax, values, ok, points, objectives)
    else:
        fig = plt.figure(figsize=(max(6.4, 2.6 * (k - 1)), 2.4 * (k - 1) + 2.8), dpi=120)
        _pairs(fig, values, ok, points, objectives)
    fig.tight_layout()
    return fig


def plot_front(records: list[dict], front: list[dict], objectives, path: Path) -> Path:
    """Write ``front_figure`` as a PNG at ``path`` (replaced all at once); returns ``path``."""
    import matplotlib.pyplot as plt

    fig = front_figure(records, front, objectives)
    png = io.BytesIO()
    fig.savefig(png, format="png")
    plt.close(fig)
    return atomic_write(path, png.getvalue())


def _target(ax, objectives, x: str | None, y: str | None) -> None:
    t = objectives.latency_target_ms
    if t is None:
        return
    if x == "latency_ms":
        ax.axvline(t, ls="--", c="0.4", lw=1, label="latency target")
    if y == "latency_ms":
        ax.axhline(t, ls="--", c="0.4", lw=1, label="latency target")


def _best_so_far(ax, v: np.ndarray, ok: np.ndarray, feasible: np.ndarray, objectives) -> None:
    """k = 1: each value against its evaluation number, and the best feasible value up to it."""
    name = objectives.names[0]
    n = np.arange(1, len(v) + 1)
    ax.scatter(n[feasible], v[feasible], s=10, c=GREY, label="evaluated")
    if (ok & ~feasible).any():
        ax.scatter(n[ok & ~feasible], v[ok & ~feasible], s=12, c="0.85", marker="x", label="infeasible")
    if feasible.any():
        up = name in objectives.maximize
        first = int(np.argmax(feasible))
        best = (np.maximum if up else np.minimum).accumulate(np.where(feasible, v, -np.inf if up else np.inf)[first:])
        ax.plot(n[first:], best, c=RED, drawstyle="steps-post", label=f"best so far ({best[-1]:.4g})")
        top = feasible & (v == best[-1])
        ax.scatter(n[top], v[top], s=24, c=RED, edgecolors="darkred", zorder=3, label=f"best ({int(top.sum())})")
    _target(ax, objectives, None, name)
    ax.set_xlabel("evaluation (in the order evaluated)")
    ax.set_ylabel(objective_label(objectives, name))
    ax.legend(loc="best")
    ax.grid(alpha=0.3)


def _staircase(ax, values: np.ndarray, ok: np.ndarray, points: np.ndarray, objectives) -> None:
    """k = 2: the evaluations and the Pareto set's staircase, ``latency_ms`` (or the second objective) across."""
    names = list(objectives.names)
    if "latency_ms" in names:
        i = names.index("latency_ms")
    else:
        i = 0 if objectives.accuracy == names[1] else 1
    j = 1 - i
    x, y = names[i], names[j]
    ax.scatter(values[ok, i], values[ok, j], s=10, c=GREY, label="evaluated")
    order = np.argsort(points[:, i], kind="stable")
    # the boundary of the dominated region: a minimized x holds each y up to the next member, a maximized one from the last
    ax.plot(points[order, i], points[order, j], "o-", c=RED, ms=4,
            drawstyle="steps-post" if x not in objectives.maximize else "steps-pre",
            label=f"Pareto set ({len(points)})")
    _target(ax, objectives, x, y)
    ax.set_xlabel(objective_label(objectives, x))
    ax.set_ylabel(objective_label(objectives, y))
    ax.legend(loc="lower right" if x not in objectives.maximize and y in objectives.maximize else "best")
    ax.grid(alpha=0.3)


def _pairs(fig, values: np.ndarray, ok: np.ndarray, points: np.ndarray, objectives) -> None:
    """k >= 3: the lower triangle of the scatter matrix (objective j across, i up, j < i) and the
    parallel coordinates below it, spanning the width."""
    names = list(objectives.names)
    k = len(names)
    grid = fig.add_gridspec(k, k - 1, height_ratios=[1.0] * (k - 1) + [1.2])
    axes: dict[tuple[int, int], object] = {}
    for i in range(1, k):
        for j in range(i):
            ax = fig.add_subplot(grid[i - 1, j], sharex=axes.get((j + 1, j)), sharey=axes.get((i, 0)))
            axes[(i, j)] = ax
            ax.scatter(values[ok, j], values[ok, i], s=6, c=GREY, label=f"evaluated ({int(ok.sum())})")
            ax.scatter(points[:, j], points[:, i], s=14, c=RED, edgecolors="darkred", linewidths=0.4,
                       label=f"Pareto set ({len(points)})")
            _target(ax, objectives, names[j], names[i])
            ax.grid(alpha=0.3)
            ax.tick_params(labelsize=7)
            if i == k - 1:
                ax.set_xlabel(objective_label(objectives, names[j]), fontsize=8)
            else:
                ax.tick_params(labelbottom=False)
            if j == 0:
                ax.set_ylabel(objective_label(objectives, names[i]), fontsize=8)
            else:
                ax.tick_params(labelleft=False)
    handles, labels = axes[(1, 0)].get_legend_handles_labels()
    fig.legend(handles, labels, loc="upper right", fontsize=8, frameon=False)
    _parallel(fig.add_subplot(grid[k - 1, :]), values, ok, points, objectives)


def _parallel(ax, values: np.ndarray, ok: np.ndarray, points: np.ndarray, objectives) -> None:
    """Parallel coordinates: one polyline per evaluation, each objective scaled to [0, 1] over the
    evaluations with its better end at the top, its best and worst values written at the ends."""
    from matplotlib.collections import LineCollection

    names = list(objectives.names)
    k = len(names)
    lo = values[ok].min(axis=0) if ok.any() else np.zeros(k)
    hi = values[ok].max(axis=0) if ok.any() else np.ones(k)
    up = np.array([n in objectives.maximize for n in names])

    def scaled(v: np.ndarray) -> np.ndarray:
        t = np.divide(v - lo, hi - lo, out=np.full(v.shape, 0.5), where=hi > lo)
        return np.where(up, t, 1.0 - t)

    xs = np.arange(k, dtype=float)
    rows = scaled(values[ok])
    alpha = float(np.clip(30.0 / max(len(rows), 1), 0.05, 0.6))
    ax.add_collection(LineCollection([np.column_stack([xs, r]) for r in rows], colors=GREY, linewidths=0.6,
                                     alpha=alpha))
    ax.add_collection(LineCollection([np.column_stack([xs, r]) for r in scaled(points)], colors=RED,
                                     linewidths=1.2))
    ax.vlines(xs, 0, 1, colors="0.3", linewidths=0.8)
    for x, a, b, better_up in zip(xs, lo, hi, up):
        top, bottom = (b, a) if better_up else (a, b)
        ax.text(x, 1.03, f"{top:.4g}", ha="center", va="bottom", fontsize=7)
        ax.text(x, -0.03, f"{bottom:.4g}", ha="center", va="top", fontsize=7)
    ax.set_xlim(-0.3, k - 0.7)
    ax.set_ylim(-0.15, 1.15)
    ax.set_xticks(xs)
    ax.set_xticklabels([objective_label(objectives, n).replace(", ", "\n") for n in names], fontsize=8)
    ax.set_yticks([])
    ax.set_ylabel("better ↑", fontsize=8)
    for side in ("top", "right", "left"):
        ax.spines[side].set_visible(False)
