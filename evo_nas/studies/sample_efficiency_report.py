"""Tables and plots of the sample-efficiency study: the anytime hypervolume of each algorithm against the
best-known front, top-1 under latency targets, tests of the surrogate against every peer, and the
surrogate's rank correlations (Kendall tau, scipy), pooled over rounds and seeds. Mann-Whitney U (two-sided,
exact without ties) and Vargha-Delaney A12 are ``evo_nas.analysis.stats``'s, as in ``evo-nas compare``."""
from __future__ import annotations

import json
from pathlib import Path

import numpy as np

from ..analysis.stats import a12, mann_whitney

from .sample_efficiency import ALGORITHMS, BUDGETS, LABELS, OPTUNA_MAX, SURROGATE, TARGETS_MS, scores

BEST_KNOWN = Path(__file__).resolve().parents[2] / "experiments" / "best_known_ofa.json"


def table(cells: dict, seeds) -> dict:
    """algorithm -> budget -> list over seeds of the scores of its first ``budget`` distinct networks."""
    out: dict = {}
    for a in ALGORITHMS:
        for b in BUDGETS:
            rows = []
            for s in seeds:
                c = cells.get((a, s))
                if c is None or c["distinct"] < b:
                    continue
                rows.append(scores(np.array(c["top1"][:b]), np.array(c["latency_ms"][:b])))
            if len(rows) >= 3:  # a peer whose costly cells did not all finish is shown with its seed count
                out.setdefault(a, {})[b] = rows
    return out


def fmt(values, digits=3) -> str:
    q1, med, q3 = np.percentile(values, [25, 50, 75])
    return f"{med:.{digits}f} [{q1:.{digits}f}, {q3:.{digits}f}]"


def top1_header(first: str) -> list[str]:
    """The header rows of a best-top-1 table whose first column is ``first``, one column per ``TARGETS_MS``."""
    return ["| " + first + " | " + " | ".join(f"<= {t} ms" for t in TARGETS_MS) + " |",
            "|---" * (len(TARGETS_MS) + 1) + "|"]


def top1_row(label: str, rows: list[dict], best_top1: dict) -> tuple[str, dict]:
    """A best-top-1 table row: per target of ``TARGETS_MS``, the median over ``rows`` (``scores`` dicts; a
    run with no network under the target skipped, nan when none has one) and its gap to ``best_top1``
    ({str(ms): top-1}) in points; and the medians {ms: top-1}."""
    med = {}
    for t in TARGETS_MS:
        v = [r[f"top1@{t}"] for r in rows if r[f"top1@{t}"] is not None]
        med[t] = float(np.median(v)) if v else float("nan")
    cols = [f"{100 * med[t]:.2f}% ({100 * (med[t] - best_top1[str(t)]):+.2f})" for t in TARGETS_MS]
    return f"| {label} | " + " | ".join(cols) + " |", med


def pooled_taus(cells: dict, seeds) -> list[str]:
    """The surrogate's predictions made before evaluation, pooled by stage of the run."""
    from ..algorithms.surrogate_model import kendall_tau, pair_tau

    lines = ["| networks evaluated before the round | rounds | candidates | tau (all) | tau near the front "
             "(within 1 point) | tau at equal latency (pairs within 5%, same round) | pairs | mean abs error "
             "(top-1 points) |", "|---|---|---|---|---|---|---|---|"]
    stages = ((0, 100), (100, 300), (300, 1000), (1000, 2000), (2000, 5000))
    for lo, hi in stages:
        taus, near, eq_num, eq_pairs, errs, n_rounds, n_cand = [], [], 0.0, 0, [], 0, 0
        for s in seeds:
            c = cells.get(("surrogate", s))
            for r in (c or {}).get("report") or []:
                if not lo <= r["trained_on"] < hi or "predicted" not in r:
                    continue
                n_rounds += 1
                p, m, lat = (np.array(r[k]) for k in ("predicted", "measured", "latency_ms"))
                n_cand += len(p)
                if r.get("tau") is not None:
                    taus.append(r["tau"])
                if r.get("tau_near_front") is not None:
                    near.append(r["tau_near_front"])
                t, k = pair_tau(p, m, lat)
                if k:
                    eq_num += t * k
                    eq_pairs += k
                errs.append(np.abs(p - m).mean() * 100)
        if not n_rounds:
            continue
        eq = f"{eq_num / eq_pairs:.3f}" if eq_pairs else "n/a"
        lines.append(f"| {lo:,}-{hi:,} | {n_rounds} | {n_cand} | {np.median(taus):.3f} | "
                     f"{np.median(near) if near else float('nan'):.3f} | {eq} | {eq_pairs} | {np.mean(errs):.2f} |")
    return lines


def surrogate_keys() -> str:
    """The bench's ``[search.surrogate]`` (the defaults with ``SURROGATE`` over them), as ``key = value`` pairs."""
    from ..algorithms.surrogate import SurrogateKeys

    return ", ".join(f"{k} = {v!r}" for k, v in SurrogateKeys(**SURROGATE).model_dump().items())


def write_report(out: Path, cells: dict, seeds) -> None:
    best = json.loads(BEST_KNOWN.read_text())
    best_hv, best_top1 = best["hypervolume"], best["top1_at_ms"]
    res = table(cells, seeds)
    lines = [f"# Sample efficiency on ofa-mbv3: {len(seeds)} seeds, first N distinct networks of each run",
             "", f"Best-known front ({BEST_KNOWN.name}, `{best['command']}`): HV {best_hv:.4f}, top-1 " +
             ", ".join(f"{100 * best_top1[str(t)]:.2f}% @ {t} ms" for t in TARGETS_MS) + ".", "",
             f"Optuna's TPE costs grow with the square of its trials: it runs to {OPTUNA_MAX:,} distinct networks or "
             f"{4 * OPTUNA_MAX:,} trials, whichever comes first (it repeats networks).", "",
             "The surrogate's `[search.surrogate]`: " + surrogate_keys() + ".", "",
             "## Hypervolume, median [IQR], and median fraction of the best-known front", "",
             "| algorithm | " + " | ".join(f"{b:,}" for b in BUDGETS) + " |", "|---" * (len(BUDGETS) + 1) + "|"]
    summary: dict = {"best_known_hv": best_hv, "hv": {}, "fraction": {}, "tests": {}, "top1": {}}
    for a, per in res.items():
        cols = []
        for b in BUDGETS:
            if b not in per:
                cols.append("")
                continue
            hv = [r["hv"] for r in per[b]]
            summary["hv"].setdefault(a, {})[b] = float(np.median(hv))
            summary["fraction"].setdefault(a, {})[b] = float(np.median(hv) / best_hv)
            n = f", {len(hv)} seeds" if len(hv) < len(seeds) else ""
            cols.append(f"{fmt(hv)} ({100 * np.median(hv) / best_hv:.1f}%{n})")
        lines.append(f"| {LABELS[a]} | " + " | ".join(cols) + " |")
    lines += ["", "## Surrogate against each peer: two-sided exact Mann-Whitney p / A12 on hypervolume", "",
              "| peer | " + " | ".join(f"{b:,}" for b in BUDGETS) + " |", "|---" * (len(BUDGETS) + 1) + "|"]
    for a in res:
        if a == "surrogate" or "surrogate" not in res:
            continue
        cols = []
        for b in BUDGETS:
            if b not in res[a] or b not in res["surrogate"]:
                cols.append("")
                continue
            x, y = [r["hv"] for r in res["surrogate"][b]], [r["hv"] for r in res[a][b]]
            p, e = mann_whitney(x, y), a12(x, y)
            summary["tests"].setdefault(a, {})[b] = {"p": p, "a12": e}
            cols.append(f"{p:.1e} / {e:.2f}")
        lines.append(f"| {LABELS[a]} | " + " | ".join(cols) + " |")
    if "nsga2" in res and "pymoo" in res:
        lines += ["", "evo-nas NSGA-II against pymoo's defaults (p / A12 on hypervolume): " + ", ".join(
            f"{b:,}: median {np.median([r['hv'] for r in res['nsga2'][b]]):.3f} vs "
            f"{np.median([r['hv'] for r in res['pymoo'][b]]):.3f}, "
            f"{mann_whitney([r['hv'] for r in res['nsga2'][b]], [r['hv'] for r in res['pymoo'][b]]):.2g} / "
            f"{a12([r['hv'] for r in res['nsga2'][b]], [r['hv'] for r in res['pymoo'][b]]):.2f}"
            for b in BUDGETS if b in res["nsga2"] and b in res["pymoo"])]
    for b in (300, 1000, 5000):
        lines += ["", f"## Best top-1 under Note10 targets at {b:,} networks: median (gap to the best-known, points)",
                  "", *top1_header("algorithm")]
        for a, per in res.items():
            if b in per:
                line, med = top1_row(LABELS[a], per[b], best_top1)
                summary["top1"].setdefault(a, {})[b] = med
                lines.append(line)
    lines += ["", "## Surrogate model: Kendall tau of the top-1 predicted before evaluation, pooled over seeds",
              ""] + pooled_taus(cells, seeds)
    lines += ["", "Wall seconds per cell (median; the machine was shared, so only a rough guide): " + ", ".join(
        f"{LABELS[a]} {np.median([c['wall_s'] for (x, _), c in cells.items() if x == a]):.0f}"
        for a in ALGORITHMS if any(x == a for x, _ in cells))]
    (out / "results.md").write_text("\n".join(lines) + "\n")
    summary["per_seed"] = {a: {b: rows for b, rows in per.items()} for a, per in res.items()}
    (out / "results.json").write_text(json.dumps(summary, indent=1, default=str) + "\n")
    plot(out / "anytime.png", res, best_hv)
    print("\n".join(lines))


def plot(path: Path, res: dict, best_hv: float) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots(figsize=(7.5, 4.8))
    for a, per in res.items():
        b = sorted(per)
        q = np.array([np.percentile([r["hv"] / best_hv for r in per[x]], [25, 50, 75]) for x in b])
        ax.plot(b, q[:, 1], marker="o", ms=3, label=LABELS[a], lw=2.2 if a == "surrogate" else 1.2)
        ax.fill_between(b, q[:, 0], q[:, 2], alpha=0.15)
    for level in (0.95, 0.975):
        ax.axhline(level, color="grey", lw=0.6, ls="--")
    ax.set_xscale("log")
    ax.set_xlabel("distinct networks evaluated")
    ax.set_ylabel("hypervolume / best-known (median, IQR)")
    ax.set_title("ofa-mbv3: anytime hypervolume, 10 seeds")
    ax.legend(fontsize=8, loc="lower right")
    ax.grid(alpha=0.3, which="both")
    fig.tight_layout()
    fig.savefig(path, dpi=130)
    plt.close(fig)
