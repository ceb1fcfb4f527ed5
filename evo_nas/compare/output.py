"""A comparison's outputs: markdown tables, CSV rows, hypervolume-curve and front figures, a JSON summary."""
from __future__ import annotations

import csv
import io
import math
from pathlib import Path

import numpy as np

from ..analysis.pareto import IGD_NORMALIZATION
from ..analysis.stats import median_interval
from ..base.files import atomic_write
from ..base.jsonio import dumps
from .comparison import Comparison


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
    if comparison.true_front is not None:
        lines += ["", *_true_front_markdown(comparison, rows)]
    return "\n".join(lines) + "\n"


def _true_front_markdown(comparison: Comparison, rows: list[dict]) -> list[str]:
    """The table of the exact Pareto front's members each algorithm recovered, and its IGD."""
    true, first = comparison.true_front, comparison.algorithms[0]
    head = ["algorithm", f"recovered of {true.size} (median [95% CI])", "share", f"A12 / p ({first} vs this)",
            "IGD (median [95% CI])", f"A12 / p ({first} vs this)"]
    lines = [f"The exact Pareto front: {true.size} of the {true.population:,} architectures. Recovered: its "
             f"members among a cell's evaluations; IGD of the cell's Pareto set to it, {IGD_NORMALIZATION} "
             f"(lower is better; A12 of IGD < 0.5 favours {first}).", ""]
    for b in comparison.budget_list:
        if len(comparison.budget_list) > 1:
            lines += [f"Budget {b:,} unique evaluations:", ""]
        lines += ["| " + " | ".join(head) + " |", "|" + "---|" * len(head)]
        for r in (r for r in rows if r["budget"] == b):
            vs = [] if r["algorithm"] == first else [
                f"{_fmt(r[f'a12_{k}_first_vs'], 2)} / {_p(r[f'p_{k}_vs_first'])}" for k in ("recovered", "igd")]
            vs = vs or ["", ""]
            lines.append("| " + " | ".join([
                r["algorithm"], f"{_fmt(r['recovered_median'], 1)} [{_fmt(r['recovered_lo'], 0)}, "
                                f"{_fmt(r['recovered_hi'], 0)}]", f"{100 * r['recovered_fraction_median']:.1f}%", vs[0],
                f"{_fmt(r['igd_median'])} [{_fmt(r['igd_lo'])}, {_fmt(r['igd_hi'])}]", vs[1]]) + " |")
        lines.append("")
    return lines


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
        if c.true_front is not None:
            true = np.array([[c.objectives.natural(p)[n] for n in names] for p in c.true_front.points])
            ax.plot(true[:, xi], true[:, yi], "kx", ms=4, mew=0.8, label=f"true front ({c.true_front.size})")
        if "latency_ms" in names:
            ax.axvline(c.reward.target_ms, color="grey", ls=":", lw=1, label="target T")
        ax.set_xlabel(c.axis_label(names[xi]))
        ax.set_ylabel(c.axis_label(names[yi]))
        ax.set_title(f"Pareto sets over all evaluations of {len(c.seeds)} seeds ({c.horizon:,} per seed)", fontsize=9)
        ax.legend(fontsize=8)
        ax.grid(alpha=0.3)
        put(f"fronts{suffix}.png", png_bytes(fig))
    return written


__all__ = ["table_markdown", "reach_markdown", "targets_markdown", "write_outputs"]
