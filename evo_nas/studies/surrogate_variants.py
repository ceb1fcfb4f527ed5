"""Variants of the surrogate-assisted NSGA-II on ofa-mbv3, scored as the sample-efficiency study scores a cell.

Each variant names every ``[search.surrogate]`` key (so a change of default changes no variant);
``experiments/bench_surrogate_variants.py`` runs the cells with ``sample_efficiency.run_cell`` and
``report`` gives per budget the median [IQR] fraction of the best-known hypervolume, two-sided
exact Mann-Whitney p and Vargha-Delaney A12 against the first variant, and the model's Kendall tau
pooled by stage of the run. ``use_oracle`` replaces the model by the benchmark's own accuracy: a
diagnostic of what the inner search and the batch reach with a perfect model (NSGANetV2, Lu et
al., ECCV 2020, section 3.2, for the loop).
"""
from __future__ import annotations

import json
from pathlib import Path

import numpy as np

from ..analysis.stats import a12, mann_whitney
from .sample_efficiency import BUDGETS, scores
from .sample_efficiency_report import BEST_KNOWN, fmt, pooled_taus, top1_header, top1_row


def _keys(model, pop, kappa, local=0.0, parents=3, neighbours=False, early=0):
    return {"model": model, "inner_pop": pop, "kappa": kappa, "initial": 50, "batch": 10, "batch_growth": 0.02,
            "inner_generations": 30, "max_train": 1000, "local_share": local, "local_parents": parents,
            "front_neighbours": neighbours, "early_model": "bayes_ridge", "early_until": early}


VARIANTS = {  # br: bayes_ridge, krr: kernel_ridge; p: inner population; k: kappa
    "br-p100-k0": _keys("bayes_ridge", 100, 0.0),  # the default before this study
    "br-p300-k0": _keys("bayes_ridge", 300, 0.0),
    "br-p500-k0": _keys("bayes_ridge", 500, 0.0),
    "br-p300-k05": _keys("bayes_ridge", 300, 0.5),  # the default since, until local_share
    "br-p300-k05-l2": _keys("bayes_ridge", 300, 0.5, 0.2),
    "br-p300-k05-l3": _keys("bayes_ridge", 300, 0.5, 0.3),
    "br-p300-k05-l5": _keys("bayes_ridge", 300, 0.5, 0.5),
    "br-p300-k05-l2-front": _keys("bayes_ridge", 300, 0.5, 0.2, 0),  # mutants of any front member
    "br-p300-k05-l3-front": _keys("bayes_ridge", 300, 0.5, 0.3, 0),
    "br-p300-k05-l3-nb": _keys("bayes_ridge", 300, 0.5, 0.3, 3, True),  # + the front's 1-gene neighbours
    "gp-p300-k05-l3-nb": _keys("gp", 300, 0.5, 0.3, 3, True),
    "gp-p300-k05-l3-nb-e150": _keys("gp", 300, 0.5, 0.3, 3, True, 150),  # Bayesian ridge below 150 networks
    "br-p300-k1": _keys("bayes_ridge", 300, 1.0),
    "krr-p100-k0": _keys("kernel_ridge", 100, 0.0),
    "krr-p300-k0": _keys("kernel_ridge", 300, 0.0),
    "mlp-p300-k0": _keys("mlp", 300, 0.0),
    "mlp-p300-k05": _keys("mlp", 300, 0.5),
    "adaptive-p300-k05": _keys("adaptive", 300, 0.5),
}


def use_oracle() -> None:
    """The strategy's prediction becomes the benchmark's own (top-1, latency): a perfect model."""
    from ..algorithms.surrogate import SurrogateStrategy

    def predict(self, models, X):
        F = self.problem.evaluate_array(X)
        mean = np.stack([-F[:, 0], F[:, 1]], axis=1)
        return mean, mean.copy()

    SurrogateStrategy._predict = predict


def hv_fractions(cell: dict, best: float) -> dict:
    return {b: scores(np.array(cell["top1"][:b]), np.array(cell["latency_ms"][:b]))["hv"] / best
            for b in BUDGETS if cell["distinct"] >= b}


def report(out: Path, variants: list, seeds: list) -> str:
    best = json.loads(BEST_KNOWN.read_text())["hypervolume"]
    cells = {(v, s): json.loads(p.read_text()) for v in variants for s in seeds
             if (p := out / "cells" / f"{v}-{s}.json").exists()}
    frac = {v: [hv_fractions(cells[(v, s)], best) for s in seeds if (v, s) in cells] for v in variants}
    base = variants[0]
    lines = [f"# Surrogate variants on ofa-mbv3: % of the best-known HV ({best:.4f}), median [IQR] over seeds "
             f"{seeds[0]}-{seeds[-1]}; p / A12 against {base}", "",
             "| variant | " + " | ".join(f"{b:,}" for b in BUDGETS) + " | wall s (median) |",
             "|---" * (len(BUDGETS) + 2) + "|"]
    for v in variants:
        cols = []
        for b in BUDGETS:
            x = [f[b] for f in frac[v] if b in f]
            y = [f[b] for f in frac[base] if b in f]
            if len(x) < len(seeds):
                cols.append("")
                continue
            test = f", p {mann_whitney(x, y):.2g}, A12 {a12(x, y):.2f}" if v != base and len(y) == len(seeds) else ""
            cols.append(fmt(100 * np.array(x), 1) + test)
        wall = [c["wall_s"] for (w, _), c in cells.items() if w == v]
        lines.append(f"| {v} | " + " | ".join(cols) + f" | {np.median(wall):.0f} |" if wall else f"| {v} |")
    bk = json.loads(BEST_KNOWN.read_text())["top1_at_ms"]
    for b in (300, 1000):
        lines += ["", f"Best top-1 under Note10 targets at {b:,} networks: median (gap to the best-known, points)", "",
                  *top1_header("variant")]
        for v in variants:
            got = [scores(np.array(c["top1"][:b]), np.array(c["latency_ms"][:b])) for (w, _), c in cells.items()
                   if w == v and c["distinct"] >= b]
            if got:
                lines.append(top1_row(v, got, bk)[0])
    for v in variants:
        sub = {("surrogate", s): c for (w, s), c in cells.items() if w == v}
        if sub:
            lines += ["", f"## {v}: Kendall tau of the top-1 predicted before evaluation, pooled over seeds", ""]
            lines += pooled_taus(sub, seeds)
    return "\n".join(lines) + "\n"


__all__ = ["VARIANTS", "use_oracle", "hv_fractions", "report"]
