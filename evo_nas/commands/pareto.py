"""``evo-nas pareto``: the non-dominated set over every evaluation of a run, as table, CSV, JSON and PNG.

Dominance in minimization form (accuracy negated), as in NSGA-II (Deb et al., 2002).
"""
from __future__ import annotations

from pathlib import Path


def register(sub):
    p = sub.add_parser("pareto", help="print a run's Pareto set and write CSV, JSON and a PNG plot",
                       description="Recompute the Pareto set over every evaluation of RUN; print it and write "
                                   "pareto.csv, pareto.json and pareto.png into the run directory.")
    p.add_argument("run_dir", metavar="RUN", help="run directory written by evo-nas search")
    p.add_argument("--no-plot", action="store_true", help="skip the PNG")
    p.add_argument("--keys", action="store_true", help="print full genome strings instead of shortened ones")
    p.set_defaults(func=run)


def _short(key: str, width: int = 60) -> str:
    return key if len(key) <= width else key[:width - 3] + "..."


def front_table(front: list[dict], objectives, full_keys: bool = False) -> str:
    from ..report import _table

    cols = list(dict.fromkeys([*objectives.names, "params_m", "macs_m"]))
    rows = []
    for n, r in enumerate(front, 1):
        vals = []
        for c in cols:
            v = r.get(c)
            vals.append("-" if v is None else (f"{v:.4f}" if c in objectives.maximize else f"{v:.3f}"))
        rows.append([str(n), *vals, str(r.get("generation", "")), r["key"] if full_keys else _short(r["key"])])
    return _table(rows, ["#", *cols, "gen", "genome"])


Y_LABELS = {"val_acc": "validation accuracy (proxy)", "score": "proxy score",
            "top1": "ImageNet top-1 (predicted)"}


def plot_front(records: list[dict], front: list[dict], objectives, path: Path, y: str = "val_acc") -> Path:
    """``y`` (the accuracy objective) against latency, the front highlighted."""
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
    tmp = path.with_name(f".{path.name}.tmp.png")
    fig.savefig(tmp)
    plt.close(fig)
    tmp.replace(path)
    return path


def run(args) -> int:
    from ..pareto import reference_warning
    from ..search.run import RunDir, front_hypervolume

    run_dir = RunDir(args.run_dir)
    objectives = run_dir.objectives()
    records = run_dir.evaluations()
    if not records:
        raise ValueError(f"{run_dir.path / 'evaluations.jsonl'} holds no evaluation records: no Pareto set to "
                         f"take (nothing was written)")
    front = run_dir.pareto(records)
    js, cs = run_dir.write_pareto(front, records)
    print(front_table(front, objectives, args.keys))
    hv = front_hypervolume(front, objectives)
    ref = objectives.to_dict().get("reference")
    n_ok = sum(1 for r in records if r.get("status") == "ok")
    print(f"\n{len(front)} non-dominated of {len(records)} evaluations ({n_ok} ok)  hypervolume: "
          f"{'-' if hv is None else f'{hv:.6g}'}" + (f" (reference {ref})" if ref else ""))
    ref_vector = objectives.reference_vector()
    warning = None if ref_vector is None or not front else reference_warning(
        [objectives.vector(r) for r in front], ref_vector, names=objectives.names)
    if warning:
        print(f"warning: {warning}")
    written = [cs, js]
    y = objectives.accuracy
    if not args.no_plot and y is not None and "latency_ms" in objectives.names:
        written.append(plot_front(records, front, objectives, run_dir.path / "pareto.png", y))
    print("wrote " + ", ".join(str(p) for p in written))
    return 0
