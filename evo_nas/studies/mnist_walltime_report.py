"""The wall-time study's analysis: hypervolume against cumulative wall seconds, time to a target, overhead, tests.

What the engine's logbook holds (``evo_nas.engine.loop.Engine.step``), one entry per generation
(NSGA-II) or round (surrogate): ``wall_s``, the seconds from just before the strategy's ``ask`` to
the entry's statistics (the ask: for the surrogate its models' fit, inner NSGA-II and batch pick;
the lookups; the evaluations; the ``tell``; the hypervolume), and ``eval_s``, the seconds of the
evaluation call alone: the worker pool's wall time for the generation's genomes, both workers
together (not their sum), plus any serial latency measurement (none with the complete table the
study prepares). Their difference is the search's own time: the **overhead**. Outside every entry
are the run's start (building the problem, ``config.json``) and the checkpoints between entries;
the cell's outer wall time (its marker) includes them. A resumed cell keeps the recorded timings of
the generations before the kill; the generation a kill interrupted is timed again without the
evaluations it had finished, so it is short.

A cell's curve is its logbook's (cumulative ``wall_s``, ``evaluations``, ``hypervolume``); time
to a target is read at the end of the first entry whose hypervolume reaches it (resolution: one
generation of 16 or one round of 10). Targets: the median final hypervolume of the NSGA-II cells,
and ``fraction`` (0.95) of it. Tests: two-sided Mann-Whitney U (exact without ties) and
Vargha-Delaney A12 of the surrogate against NSGA-II (``evo_nas.analysis.stats``), on the final
hypervolume and on the wall seconds to each target, a cell that never reaches it ranked last.
"""
from __future__ import annotations

import io
import math
from pathlib import Path

import numpy as np

from ..analysis.stats import a12, mann_whitney
from ..base.files import atomic_write
from ..base.jsonio import dumps, read_json
from ..engine.run import RunDir
from .mnist_walltime import ALGORITHMS, LABELS, cell_dir, cell_name, marker

FRACTION = 0.95


def curve(logbook: list[dict]) -> dict:
    """A cell's curve from its logbook entries: cumulative ``wall_s`` and ``eval_s`` (s), ``evaluations``
    and ``hypervolume`` (0 before any success), one value per entry."""
    if not logbook:
        raise ValueError("an empty logbook has no curve")
    return {"wall_s": np.cumsum([e["wall_s"] for e in logbook]).tolist(),
            "eval_s": np.cumsum([e["eval_s"] for e in logbook]).tolist(),
            "evaluations": [e["evaluations"] for e in logbook],
            "hypervolume": [e.get("hypervolume") or 0.0 for e in logbook]}


def time_to(c: dict, target: float) -> dict | None:
    """Wall seconds and evaluations at the end of the first entry of curve ``c`` whose hypervolume
    reaches ``target``; None when none does."""
    for i, hv in enumerate(c["hypervolume"]):
        if hv >= target:
            return {"wall_s": c["wall_s"][i], "evaluations": c["evaluations"][i], "entry": i}
    return None


def load_cells(out: Path, seeds) -> dict:
    """``{(algorithm, seed): cell}`` of the finished cells under ``out``: marker, curve and worker seconds
    (the sum of the records' ``eval_s``, each a worker's time on one genome)."""
    cells = {}
    for a in ALGORITHMS:
        for s in seeds:
            if not marker(out, a, s).is_file():
                continue
            run = RunDir(cell_dir(out, a, s))
            cells[(a, s)] = {"marker": read_json(marker(out, a, s), "cell record"), "curve": curve(run.logbook()),
                             "worker_s": float(sum(r.get("eval_s") or 0.0 for r in run.evaluations())),
                             "search": run.config["search"]}
    return cells


def _spread(values) -> dict | None:
    v = np.asarray(values, float)
    if not len(v):
        return None
    q1, med, q3 = np.percentile(v, [25, 50, 75])
    return {"median": float(med), "q1": float(q1), "q3": float(q3), "min": float(v.min()), "max": float(v.max())}


def analyze(cells: dict, fraction: float = FRACTION) -> dict:
    """Targets, per-cell figures, per-algorithm summaries and the tests (see the module docstring).
    ``ValueError`` when no NSGA-II cell has finished (the targets come from them)."""
    finals = {k: c["curve"]["hypervolume"][-1] for k, c in cells.items()}
    base = [v for (a, _), v in finals.items() if a == "nsga2"]
    if not base:
        raise ValueError("no finished nsga2 cell: the target hypervolume is the median of theirs")
    targets = {"median NSGA-II final": float(np.median(base))}
    targets[f"{fraction:g} x median NSGA-II final"] = fraction * targets["median NSGA-II final"]
    per_cell = {}
    for (a, s), c in sorted(cells.items()):
        cv, m = c["curve"], c["marker"]
        wall, ev = cv["wall_s"][-1], cv["eval_s"][-1]
        per_cell[cell_name(a, s)] = {
            "algorithm": a, "seed": s, "evaluations": cv["evaluations"][-1], "final_hv": finals[(a, s)],
            "wall_s": wall, "eval_s": ev, "overhead_s": wall - ev, "outer_wall_s": m["outer_wall_s"],
            "worker_s": c["worker_s"], "pool_use": c["worker_s"] / (m["n_jobs"] * ev) if ev > 0 else None,
            "resumed": m["resumed"], "failures": m["failures"], "load_1m": [m["load_1m_before"], m["load_1m_after"]],
            "reached": {t: time_to(cv, v) for t, v in targets.items()}}
    summary, tests = {}, {}
    for a in ALGORITHMS:
        rows = [r for r in per_cell.values() if r["algorithm"] == a]
        if not rows:
            continue
        reach = {}
        for t in targets:
            hit = [r["reached"][t] for r in rows if r["reached"][t] is not None]
            reach[t] = {"reached": len(hit), "of": len(rows), "wall_s": _spread([h["wall_s"] for h in hit]),
                        "evaluations": _spread([h["evaluations"] for h in hit])}
        summary[a] = {"cells": len(rows), "final_hv": _spread([r["final_hv"] for r in rows]),
                      "wall_s": _spread([r["wall_s"] for r in rows]), "eval_s": _spread([r["eval_s"] for r in rows]),
                      "overhead_s": _spread([r["overhead_s"] for r in rows]),
                      "overhead_share": _spread([r["overhead_s"] / r["wall_s"] for r in rows]), "targets": reach}
    if {"surrogate", "nsga2"} <= set(summary):
        pick = {a: [r for r in per_cell.values() if r["algorithm"] == a] for a in ("surrogate", "nsga2")}
        hv = {a: [r["final_hv"] for r in rows] for a, rows in pick.items()}
        tests["final_hv"] = {"p": mann_whitney(hv["surrogate"], hv["nsga2"]), "a12": a12(hv["surrogate"], hv["nsga2"])}
        for t in targets:
            w = {a: [math.inf if r["reached"][t] is None else r["reached"][t]["wall_s"] for r in rows]
                 for a, rows in pick.items()}
            tests[f"wall_s to {t}"] = {"p": mann_whitney(w["surrogate"], w["nsga2"]),
                                       "a12": a12(w["surrogate"], w["nsga2"])}
    return {"targets": targets, "cells": per_cell, "algorithms": summary, "tests": tests}


def _range(s: dict | None, digits: int = 0) -> str:
    return "n/a" if s is None else f"{s['median']:.{digits}f} [{s['min']:.{digits}f}, {s['max']:.{digits}f}]"


def _iqr(s: dict, digits: int = 4) -> str:
    return f"{s['median']:.{digits}f} [{s['q1']:.{digits}f}, {s['q3']:.{digits}f}]"


def markdown(results: dict) -> str:
    """``results.md``: the setting, the machine, the table fill, the summaries, the tests, every cell."""
    r, m, fill = results, results["machine"], results.get("latency_fill") or {}
    lines = ["# Wall time to a hypervolume on MNIST training: surrogate-assisted NSGA-II vs NSGA-II", "",
             "A **wall-clock** measurement: the x-axis is seconds on the machine below, the surrogate's model fitting "
             "and inner search included. It is only meaningful if the machine was quiet (load averages per cell "
             "below).", "",
             f"- Configuration: `{r['config']}`, budget {', '.join(map(str, r['budget']))} evaluations, "
             f"{', '.join(map(str, r['n_jobs']))} workers, seeds {r['seeds']}; the surrogate cells' "
             f"`[search.surrogate]`: {r['surrogate']}.",
             f"- Machine: {m['cpu']}, {m['cores']} cores, {m['system']}; torch {m['torch']} "
             f"({m['torch_threads_main']} threads in the main process, {m['threads_per_worker']} per worker), "
             f"OMP_NUM_THREADS={m['omp_num_threads']}, Python {m['python']} (recorded by the first cell"
             f"{'' if r['same_machine'] else '; OTHER CELLS RAN ON ANOTHER MACHINE'}).",
             (f"- Latency table filled before any cell, counted in none: {fill['measured']} of {fill['layers']} "
              f"layers measured in {fill['fill_s']:.0f} s (`{fill['table']}`)." if fill.get("filled") else
              f"- No latency table filled before the cells ({fill.get('why', 'no record')})."),
             *([f"- The table's measurement broke a stability rule (latency values, hence hypervolumes, may be "
                f"off; the timings are not affected): {fill['unstable'][0]}"] if fill.get("unstable") else []),
             "- Per entry, `wall_s` runs from before the strategy's ask to the generation's statistics; `eval_s` is "
             "the pool's wall time for the generation's evaluations; overhead = wall - eval "
             "(`evo_nas/studies/mnist_walltime_report.py`).", "",
             "Targets (hypervolume, reference val_acc 0.0 / latency 20 ms): " + "; ".join(
                 f"{t} = {v:.4f}" for t, v in r["targets"].items()), "",
             "| algorithm | cells | final HV median [IQR] | wall s median [min, max] | overhead s | overhead share |",
             "|---|---|---|---|---|---|"]
    for a, s in r["algorithms"].items():
        share = s["overhead_share"]
        lines.append(f"| {LABELS[a]} | {s['cells']} | {_iqr(s['final_hv'])} | {_range(s['wall_s'])} | "
                     f"{_range(s['overhead_s'])} | {share['median']:.1%} [{share['min']:.1%}, {share['max']:.1%}] |")
    lines += ["", "| algorithm | target | reached | wall s median [min, max] | evaluations median [min, max] |",
              "|---|---|---|---|---|"]
    for a, s in r["algorithms"].items():
        for t, h in s["targets"].items():
            lines.append(f"| {LABELS[a]} | {t} | {h['reached']}/{h['of']} | {_range(h['wall_s'])} | "
                         f"{_range(h['evaluations'])} |")
    if r["tests"]:
        lines += ["", "Surrogate against NSGA-II (two-sided Mann-Whitney U; A12 = P(surrogate > NSGA-II); for wall "
                  "seconds below 0.5 means the surrogate is faster, a cell that never reaches a target ranks last):",
                  "", "| quantity | p | A12 |", "|---|---|---|"]
        lines += [f"| {q} | {v['p']:.3g} | {v['a12']:.2f} |" for q, v in r["tests"].items()]
    lines += ["", "| cell | evals | final HV | wall s | eval s | overhead s | outer s | pool use | resumed | "
              "load before/after | " + " | ".join(f"to {t}: s / evals" for t in r["targets"]) + " |",
              "|---" * (10 + len(r["targets"])) + "|"]
    for name, c in r["cells"].items():
        reach = [f"{h['wall_s']:.0f} / {h['evaluations']}" if h else "never" for h in c["reached"].values()]
        use = "n/a" if c["pool_use"] is None else f"{c['pool_use']:.0%}"
        lines.append(f"| {name} | {c['evaluations']} | {c['final_hv']:.4f} | {c['wall_s']:.0f} | {c['eval_s']:.0f} | "
                     f"{c['overhead_s']:.1f} | {c['outer_wall_s']:.0f} | {use} | {'yes' if c['resumed'] else 'no'} | "
                     f"{c['load_1m'][0]} / {c['load_1m'][1]} | " + " | ".join(reach) + " |")
    lines += ["", "Pool use: the workers' seconds on genomes over (workers x evaluation wall seconds). "
              "A resumed cell's interrupted generation is under-timed (module docstring).", ""]
    return "\n".join(lines)


def plot(cells: dict, targets: dict, path: Path) -> Path:
    """Hypervolume against cumulative wall seconds: a thin step line per cell, the median over an
    algorithm's cells on a common time grid (a finished cell holds its final value), the targets dashed."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots(figsize=(7.0, 4.4), dpi=120)
    end = max(c["curve"]["wall_s"][-1] for c in cells.values())
    grid = np.linspace(0.0, end, 400)
    for color, a in zip(("C0", "C1"), ALGORITHMS):
        mine = [c["curve"] for (alg, _), c in sorted(cells.items()) if alg == a]
        if not mine:
            continue
        at = []
        for c in mine:
            ax.step(c["wall_s"], c["hypervolume"], where="post", color=color, lw=0.7, alpha=0.45)
            i = np.searchsorted(c["wall_s"], grid, side="right")
            at.append(np.where(i > 0, np.asarray(c["hypervolume"])[np.maximum(i - 1, 0)], 0.0))
        ax.plot(grid, np.median(at, axis=0), color=color, lw=2.0, label=f"{LABELS[a]} (median of {len(mine)})")
    for (t, v), ls in zip(targets.items(), ("--", ":")):
        ax.axhline(v, color="0.4", lw=1, ls=ls, label=t)
    ax.set_xlabel("cumulative wall seconds (2 workers)")
    ax.set_ylabel("hypervolume (val_acc x latency_ms)")
    ax.legend(fontsize=8, loc="best")
    fig.tight_layout()
    png = io.BytesIO()
    fig.savefig(png, format="png")
    plt.close(fig)
    return atomic_write(path, png.getvalue())


def write_report(out: Path, seeds, setting: dict, fraction: float = FRACTION) -> dict:
    """``OUT/results.json``, ``OUT/results.md`` and ``OUT/hv_vs_wall.png`` from the finished cells;
    ``setting``: ``mnist_walltime.describe``'s; budget, workers, surrogate keys (as resolved in the
    cells' ``config.json``) and the machine (the first cell's) come from the cells.
    ``ValueError`` when no cell (or no NSGA-II cell) has finished. Returns the results."""
    out = Path(out)
    cells = load_cells(out, seeds)
    fills = out / "latency_fill.json"
    if not cells:
        raise ValueError(f"no finished cell under {out / 'cells'}")
    machines = [c["marker"]["machine"] for _, c in sorted(cells.items())]
    searches = [c["search"] for (a, _), c in sorted(cells.items()) if a == "surrogate"]
    results = {**setting, "budget": sorted({c["marker"]["budget"] for c in cells.values()}),
               "n_jobs": sorted({c["marker"]["n_jobs"] for c in cells.values()}),
               "surrogate": searches[0].get("surrogate") if searches else None,
               "machine": machines[0], "same_machine": len({m["id"] for m in machines}) == 1,
               "latency_fill": read_json(fills, "latency fill record")[0] if fills.is_file() else None,
               **analyze(cells, fraction),
               "curves": {cell_name(a, s): c["curve"] for (a, s), c in sorted(cells.items())}}
    atomic_write(out / "results.json", dumps(results, indent=1) + "\n")
    atomic_write(out / "results.md", markdown(results))
    plot(cells, results["targets"], out / "hv_vs_wall.png")
    return results


__all__ = ["FRACTION", "analyze", "curve", "load_cells", "markdown", "plot", "time_to", "write_report"]
