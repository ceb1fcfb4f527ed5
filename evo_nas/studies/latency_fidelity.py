"""How far a per-layer latency table (FBNet, arXiv 1812.03443) can be trusted on this machine.

Measures random genomes end to end with the protocol, ``passes`` times each (passes interleaved
over the genomes, so slow drift shows up as spread instead of bias), and compares the median
of the passes with the table's prediction: share within +-10%, mean absolute percentage error,
Kendall tau, the repeatability of the measurement (CV of a genome's median over the passes) and
the cost of building the table against measuring every genome once. The targets are
nn-Meter's (Zhang et al., MobiSys 2021: 99% within +-10% on mobile CPUs).
"""
from __future__ import annotations

import os
import time
from pathlib import Path

import numpy as np
from pydantic import Field

from ..base.config import Section
from ..latency.devices import MeasuredLatency
from ..latency.lookup import LatencyTable
from ..latency.machine import machine_info
from ..latency.measure import Runtime
from ..latency.protocol import Protocol
from ..latency.table import FITS, build_table, calibration_genomes, refit


class BenchKeys(Section):
    """``[bench]`` of ``bench_latency_fidelity.py``: each key's type, range and default."""

    genomes: int = Field(100, ge=2, description="an int >= 2 (random genomes measured end to end)")
    passes: int = Field(5, ge=1, description="an int >= 1 (interleaved measurements of each genome)")
    table: str = Field("", description='a file path, or "" for a fresh table in a temporary directory')


class PlatformsBenchKeys(BenchKeys):
    """``[bench]`` of ``platforms.py``, which measures the same way: one pass by default, and 0
    measures nothing (as ``--no-measure``); no ``table`` is this machine's default table."""

    passes: int = Field(1, ge=0, description="a non-negative int (end-to-end measurements of each subnet; 0: none)")
    table: str = Field("", description='a file path, or "" for this machine\'s default table')


def fidelity_stats(predicted, measured) -> dict:
    from scipy.stats import kendalltau

    p, m = np.asarray(predicted, float), np.asarray(measured, float)
    err = (p - m) / m
    return {"within_5pct": float(np.mean(np.abs(err) <= 0.05)), "within_10pct": float(np.mean(np.abs(err) <= 0.10)),
            "mape_pct": float(np.mean(np.abs(err)) * 100), "rmse_ms": float(np.sqrt(np.mean((p - m) ** 2))),
            "max_ape_pct": float(np.max(np.abs(err)) * 100), "bias_pct": float(np.mean(err) * 100),
            "kendall_tau": float(kendalltau(p, m).statistic)}


def repeatability(passes_ms: np.ndarray) -> dict:
    """``passes_ms``: (passes, genomes) medians; CV per genome across passes, and the mean Kendall tau
    between two passes (how well the measurement repeats its own ranking)."""
    from scipy.stats import kendalltau

    cv = passes_ms.std(axis=0) / passes_ms.mean(axis=0)
    taus = [kendalltau(passes_ms[i], passes_ms[j]).statistic
            for i in range(len(passes_ms)) for j in range(i + 1, len(passes_ms))]
    return {"tau_between_passes": float(np.mean(taus)) if taus else None,
            "cv_median_pct": float(np.median(cv) * 100), "cv_p90_pct": float(np.percentile(cv, 90) * 100),
            "cv_max_pct": float(np.max(cv) * 100)}


def run_fidelity(space, runtime: Runtime, protocol: Protocol, table_path: str | Path, *, genomes: int = 100,
                 passes: int = 5, seed: int = 1, calibration: int | None = None, progress: bool = True) -> dict:
    """Build (or resume) the table at ``table_path``, then measure and compare ``genomes`` genomes."""
    from tqdm import tqdm

    resumed = Path(table_path).is_file()
    t0 = time.perf_counter()
    table = build_table(space, runtime, protocol, table_path, calibration=calibration, progress=progress)
    table_s = time.perf_counter() - t0
    sample = calibration_genomes(space, genomes, seed)
    archs = [g.architecture() for g in sample]
    predicted = [table.predict(a) for a in archs]
    alternatives = {}
    if "layer_sums" in table.calibration:
        for fit in FITS:
            alt = LatencyTable(table.header, table.entries, refit(table.calibration, fit))
            alternatives[fit] = [alt.predict(a) for a in archs]
    model = MeasuredLatency(runtime, protocol)
    meas = np.zeros((passes, len(archs)))
    unstable = 0
    pass_s = []
    with tqdm(total=passes * len(archs), desc="end-to-end", unit="net", disable=not progress) as bar:
        for p in range(passes):
            t = time.perf_counter()
            for i, a in enumerate(archs):
                m = model.measure(a)
                meas[p, i] = m.median_ms
                unstable += not m.stable
                bar.update(1)
            pass_s.append(time.perf_counter() - t)
    measured = np.median(meas, axis=0)
    return {
        "machine": machine_info(), **runtime.describe(), "protocol": protocol.to_dict(),
        "genomes": len(archs), "passes": passes, "seed": seed, "table": str(table_path),
        "table_entries": len(table.entries), "calibration": table.calibration,
        "fit": fidelity_stats(predicted, measured), "fit_single_pass": fidelity_stats(predicted, meas[0]),
        "by_fit": {f: {**fidelity_stats(p, measured), **{k: refit(table.calibration, f)[k] for k in
                                                          ("offset_ms", "per_layer_ms", "scale")}}
                   for f, p in alternatives.items()},
        "load_avg": [round(x, 2) for x in os.getloadavg()],
        "repeatability": repeatability(meas), "unstable_measurements": int(unstable),
        "measured_ms": {"min": float(measured.min()), "median": float(np.median(measured)),
                        "max": float(measured.max())},
        "table_build_s": float(table.header.get("build_s", table_s)), "resumed": resumed,
        "measure_all_s": float(np.median(pass_s)),
        "keys": [g.key for g in sample], "resolutions": [a.resolution for a in archs], "predicted": predicted,
        "measured": measured.tolist(), "passes_ms": meas.tolist(),
    }


def scatter(r: dict, path: str | Path) -> Path:
    """Predicted against measured latency, one colour per input resolution, with the +-10% band."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    p, m = np.asarray(r["predicted"]), np.asarray(r["measured"])
    res = np.asarray(r.get("resolutions") or [0] * len(p))
    fig, ax = plt.subplots(figsize=(5, 4.6))
    lo, hi = 0.9 * min(p.min(), m.min()), 1.1 * max(p.max(), m.max())
    ax.plot([lo, hi], [lo, hi], color="k", lw=0.8)
    ax.fill_between([lo, hi], [0.9 * lo, 0.9 * hi], [1.1 * lo, 1.1 * hi], color="0.85", label="+-10%")
    for v in sorted(set(res.tolist())):
        ax.scatter(m[res == v], p[res == v], s=12, label=f"{v} px" if v else None)
    f = r["fit"]
    ax.set_title(f"{r['runtime']} {r['runtime_version']}, {r['threads']} thread(s): {f['within_10pct'] * 100:.0f}% "
                 f"within 10%, tau {f['kendall_tau']:.3f}", fontsize=9)
    ax.set_xlabel("measured end to end (ms, median of passes)")
    ax.set_ylabel("predicted by the per-layer table (ms)")
    ax.set_xlim(lo, hi)
    ax.set_ylim(lo, hi)
    ax.legend(fontsize=7, loc="upper left")
    fig.tight_layout()
    fig.savefig(path, dpi=130)
    plt.close(fig)
    return Path(path)


def format_report(r: dict, targets: tuple[float | None, float | None] = (95.0, 0.9)) -> str:
    """The figures as a table; ``targets``: (share within +-10% in %, Kendall tau), None for none."""
    f, fs, rep, c = r["fit"], r["fit_single_pass"], r["repeatability"], r["calibration"]
    within_t = f">= {targets[0]:g}%" if targets[0] is not None else ""
    tau_t = f">= {targets[1]:g}" if targets[1] is not None else ""
    m = r["machine"]
    lines = [
        f"machine : {m['cpu']} ({m['cores']} cores, {m['system']}, id {m['id']}); "
        f"load average at the end {r['load_avg']}",
        f"runtime : {r['runtime']} {r['runtime_version']}, threads={r['threads']}, batch 1, allocator: "
        f"{r.get('allocator', 'system default')}",
        f"protocol: {r['protocol']}",
        f"table   : {r['table']} ({r['table_entries']} layers; fit {c['fit']}: offset {c['offset_ms']:.4f} ms "
        f"(mean), {c['per_layer_ms']:.4f} ms/layer, scale {c.get('scale', 1.0):.3f}, on {c['n']} calibration networks)",
        f"genomes : {r['genomes']} random (seed {r['seed']}), measured latency "
        f"{r['measured_ms']['min']:.3f} .. {r['measured_ms']['max']:.3f} ms (median {r['measured_ms']['median']:.3f})",
        "",
        f"{'figure':<44}{'measured':>12}{'target':>10}",
        f"{'within +-5% of measured (median of passes)':<44}{f['within_5pct'] * 100:>11.1f}%{'':>10}",
        f"{'within +-10% of measured (median of passes)':<44}{f['within_10pct'] * 100:>11.1f}%{within_t:>10}",
        f"{'mean absolute percentage error':<44}{f['mape_pct']:>11.2f}%{'':>10}",
        f"{'max absolute percentage error':<44}{f['max_ape_pct']:>11.2f}%{'':>10}",
        f"{'mean signed error (bias)':<44}{f['bias_pct']:>11.2f}%{'':>10}",
        f"{'RMSE':<44}{f['rmse_ms']:>10.3f}ms{'':>10}",
        f"{'Kendall tau (predicted vs measured)':<44}{f['kendall_tau']:>12.3f}{tau_t:>10}",
        f"{'within +-10% of a single pass':<44}{fs['within_10pct'] * 100:>11.1f}%{'':>10}",
        f"{'repeatability: CV over %d passes (median)' % r['passes']:<44}{rep['cv_median_pct']:>11.2f}%{'<= 3%':>10}",
        f"{'repeatability: CV over passes (90th pct)':<44}{rep['cv_p90_pct']:>11.2f}%{'':>10}",
        f"{'repeatability: Kendall tau between passes':<44}"
        f"{rep['tau_between_passes'] if rep.get('tau_between_passes') is not None else float('nan'):>12.3f}{'':>10}",
        f"{'measurements above the protocol max_cv':<44}{r['unstable_measurements']:>12d}{'':>10}",
        f"{'time to build the table' + (' (resumed file)' if r['resumed'] else ''):<44}"
        f"{r['table_build_s']:>11.1f}s{'':>10}",
        f"{'time to measure every genome once':<44}{r['measure_all_s']:>11.1f}s{'':>10}",
        f"{'ratio build table / measure all':<44}{r['table_build_s'] / r['measure_all_s']:>12.2f}{'':>10}",
        f"{'table pays off after (genomes measured)':<44}"
        f"{r['table_build_s'] / (r['measure_all_s'] / r['genomes']):>12.0f}{'':>10}",
        "",
        f"calibration fits side by side (fitted on the {c['n']} calibration networks, scored on the genomes above):",
        f"{'fit':<18}{'offset ms':>10}{'ms/layer':>10}{'scale':>7}{'within 10%':>12}{'MAPE':>8}{'tau':>7}",
    ]
    for fit, s in r["by_fit"].items():
        mark = " (used)" if fit == c["fit"] else ""
        lines.append(f"{fit:<18}{s['offset_ms']:>10.4f}{s['per_layer_ms']:>10.4f}{s['scale']:>7.3f}"
                     f"{s['within_10pct'] * 100:>11.1f}%{s['mape_pct']:>7.2f}%{s['kendall_tau']:>7.3f}{mark}")
    return "\n".join(lines)


__all__ = ["run_fidelity", "format_report", "fidelity_stats", "repeatability", "scatter"]
