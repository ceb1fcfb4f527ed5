"""Variants of evo-nas's surrogate-assisted NSGA-II on ofa-mbv3 (accuracy model, inner population, optimism),
scored as the sample-efficiency study scores a cell: hypervolume of the first N distinct networks against the
best-known front.

    python experiments/bench_surrogate_variants.py --variants br-p100-k0,br-p300-k05 --seeds 0-9 --budget 2000
    python experiments/bench_surrogate_variants.py --variants br-p100-k0,br-p300-k05 --seeds 0-9 --report-only
    python experiments/bench_surrogate_variants.py --oracle --variants br-p100-k0,br-p300-k0 --seeds 0-2 --budget 1000

Each variant x seed cell is ``evo_nas.studies.sample_efficiency.run_cell`` with the variant's
``[search.surrogate]`` keys (all spelled out, so a change of default changes no variant), written to
``OUT/cells/`` as it ends (a rerun continues). The report gives per budget the median [IQR] fraction
of the best-known hypervolume, two-sided exact Mann-Whitney p and Vargha-Delaney A12 against the
first variant, the model's Kendall tau pooled by stage of the run (``pooled_taus``), and the wall
seconds per cell (a rough guide: the machine may be shared). ``--oracle`` replaces the model by the
benchmark's own accuracy (a diagnostic: what the inner search and the batch reach with a perfect model).
"""
from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from evo_nas.analysis.stats import a12, mann_whitney  # noqa: E402
from evo_nas.studies.sample_efficiency import BUDGETS, run_cell, scores  # noqa: E402
from evo_nas.studies.sample_efficiency_report import BEST_KNOWN, fmt, pooled_taus  # noqa: E402


def _keys(model, pop, kappa):
    return {"model": model, "inner_pop": pop, "kappa": kappa, "initial": 50, "batch": 10, "batch_growth": 0.02,
            "inner_generations": 30, "max_train": 1000}


VARIANTS = {  # br: bayes_ridge, krr: kernel_ridge; p: inner population; k: kappa
    "br-p100-k0": _keys("bayes_ridge", 100, 0.0),  # the default before this study
    "br-p300-k0": _keys("bayes_ridge", 300, 0.0),
    "br-p500-k0": _keys("bayes_ridge", 500, 0.0),
    "br-p300-k05": _keys("bayes_ridge", 300, 0.5),  # the default since
    "br-p300-k1": _keys("bayes_ridge", 300, 1.0),
    "krr-p100-k0": _keys("kernel_ridge", 100, 0.0),
    "krr-p300-k0": _keys("kernel_ridge", 300, 0.0),
    "mlp-p300-k0": _keys("mlp", 300, 0.0),
    "mlp-p300-k05": _keys("mlp", 300, 0.5),
    "adaptive-p300-k05": _keys("adaptive", 300, 0.5),
}


def use_oracle() -> None:
    """The strategy's prediction becomes the benchmark's own (top-1, latency): a perfect model."""
    from evo_nas.algorithms.surrogate import SurrogateStrategy

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
    for v in variants:
        sub = {("surrogate", s): c for (w, s), c in cells.items() if w == v}
        if sub:
            lines += ["", f"## {v}: Kendall tau of the top-1 predicted before evaluation, pooled over seeds", ""]
            lines += pooled_taus(sub, seeds)
    return "\n".join(lines) + "\n"


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--out", default="runs/surrogate_variants")
    ap.add_argument("--variants", default="br-p100-k0,br-p300-k05",
                    help=f"comma-separated, the first is the baseline; of {', '.join(VARIANTS)}")
    ap.add_argument("--seeds", default="0-9", help="a range a-b or a comma-separated list")
    ap.add_argument("--budget", type=int, default=2000, help="distinct networks per cell")
    ap.add_argument("--oracle", action="store_true", help="a perfect model (diagnostic; cells go to OUT/oracle)")
    ap.add_argument("--report-only", action="store_true")
    args = ap.parse_args()
    variants = args.variants.split(",")
    bad = [v for v in variants if v not in VARIANTS]
    if bad:
        ap.error(f"unknown variant {bad[0]!r} (expected one of {', '.join(VARIANTS)})")
    a, _, b = args.seeds.partition("-")
    seeds = list(range(int(a), int(b) + 1)) if b else [int(s) for s in args.seeds.split(",")]
    out = Path(args.out) / ("oracle" if args.oracle else "")
    (out / "cells").mkdir(parents=True, exist_ok=True)
    if args.oracle:
        use_oracle()
    if not args.report_only:
        for s in seeds:
            for v in variants:
                path = out / "cells" / f"{v}-{s}.json"
                if not path.exists():
                    cell = run_cell("surrogate", s, args.budget, VARIANTS[v])
                    path.write_text(json.dumps({**cell, "variant": v, "surrogate": VARIANTS[v]}))
                    print(f"{v} seed {s}: {cell['distinct']} networks, {cell['wall_s']:.0f} s", flush=True)
    text = report(out, variants, seeds)
    (out / f"report-{'_'.join(variants)}-{seeds[0]}-{seeds[-1]}.md").write_text(text)
    print(text)
    return 0


if __name__ == "__main__":
    sys.exit(main())
