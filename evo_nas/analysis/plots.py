"""Plots of a run: the accuracy objective against latency (ms), every evaluation in grey, the Pareto set in red.

The figure ``evo-nas search``, ``evo-nas pareto`` and ``Result.plot`` write as ``pareto.png``
(matplotlib, Agg backend; imported only when a plot is drawn).
"""
from __future__ import annotations

import io
from pathlib import Path

from ..base.files import atomic_write

Y_LABELS = {"val_acc": "validation accuracy (proxy)", "score": "proxy score",
            "top1": "ImageNet top-1 (predicted)"}


def plot_front(records: list[dict], front: list[dict], objectives, path: Path, y: str = "val_acc") -> Path:
    """Write ``y`` (the accuracy objective) against ``latency_ms`` as a PNG at ``path``, the front highlighted.

    ``records``: every evaluation of the run (only ``status == "ok"`` ones with both values are
    drawn); ``front``: its Pareto set; ``objectives``: the run's ``Objectives`` (a latency target,
    when set, is drawn as a dashed line). The file is replaced all at once. Returns ``path``."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    ok = [r for r in records if r.get("status") == "ok" and r.get(y) is not None
          and r.get("latency_ms") is not None]
    fig, ax = plt.subplots(figsize=(6.4, 4.4), dpi=120)
    ax.scatter([r["latency_ms"] for r in ok], [r[y] for r in ok], s=10, c="0.7", label="evaluated")
    f = sorted(front, key=lambda r: r["latency_ms"])
    ax.plot([r["latency_ms"] for r in f], [r[y] for r in f], "o-", c="tab:red", ms=4,
            drawstyle="steps-post", label=f"Pareto set ({len(f)})")
    if objectives.latency_target_ms is not None:
        ax.axvline(objectives.latency_target_ms, ls="--", c="0.4", lw=1, label="latency target")
    ax.set_xlabel("latency (ms)")
    ax.set_ylabel(Y_LABELS.get(y, y))
    ax.legend(loc="lower right")
    ax.grid(alpha=0.3)
    fig.tight_layout()
    png = io.BytesIO()
    fig.savefig(png, format="png")
    plt.close(fig)
    return atomic_write(path, png.getvalue())
