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

from evo_nas.latency.devices import MeasuredLatency
from evo_nas.latency.measure import Protocol, Runtime, machine_info
from evo_nas.latency.table import FITS, LatencyTable, build_table, calibration_genomes, refit


def fidelity_stats(predicted, measured) -> dict:
    from scipy.stats import kendalltau

    p, m = np.asarray(predicted, float), np.asarray(measured, float)
    err = (p - m) / m
    return {"within_10pct": float(np.mean(np.abs(err) <= 0.10)), "mape_pct": float(np.mean(np.abs(err)) * 100),
            "max_ape_pct": float(np.max(np.abs(err)) * 100), "bias_pct": float(np.mean(err) * 100),
            "kendall_tau": float(kendalltau(p, m).statistic)}


def repeatability(passes_ms: np.ndarray) -> dict:
    """``passes_ms``: (passes, genomes) medians; CV per genome across passes."""
    cv = passes_ms.std(axis=0) / passes_ms.mean(axis=0)
    return {"cv_median_pct": float(np.median(cv) * 100), "cv_p90_pct": float(np.percentile(cv, 90) * 100),
            "cv_max_pct": float(np.max(cv) * 100)}


def run_fidelity(space, runtime: Runtime, protocol: Protocol, table_path: str | Path, *, genomes: int = 100,
                 passes: int = 5, seed: int = 1, calibration: int = 20, progress: bool = True) -> dict:
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
        "keys": [g.key for g in sample], "predicted": predicted, "measured": measured.tolist(),
    }


def format_report(r: dict) -> str:
    f, fs, rep, c = r["fit"], r["fit_single_pass"], r["repeatability"], r["calibration"]
    m = r["machine"]
    lines = [
        f"machine : {m['cpu']} ({m['cores']} cores, {m['system']}, id {m['id']}); "
        f"load average at the end {r['load_avg']}",
        f"runtime : {r['runtime']} {r['runtime_version']}, threads={r['threads']}, batch 1",
        f"protocol: {r['protocol']}",
        f"table   : {r['table']} ({r['table_entries']} layers; fitted offset {c['offset_ms']:.4f} ms "
        f"+ {c['per_layer_ms']:.4f} ms/layer on {c['n']} calibration networks)",
        f"genomes : {r['genomes']} random (seed {r['seed']}), measured latency "
        f"{r['measured_ms']['min']:.3f} .. {r['measured_ms']['max']:.3f} ms (median {r['measured_ms']['median']:.3f})",
        "",
        f"{'figure':<44}{'measured':>12}{'target':>10}",
        f"{'within +-10% of measured (median of passes)':<44}{f['within_10pct'] * 100:>11.1f}%{'>= 95%':>10}",
        f"{'mean absolute percentage error':<44}{f['mape_pct']:>11.2f}%{'':>10}",
        f"{'max absolute percentage error':<44}{f['max_ape_pct']:>11.2f}%{'':>10}",
        f"{'mean signed error (bias)':<44}{f['bias_pct']:>11.2f}%{'':>10}",
        f"{'Kendall tau (predicted vs measured)':<44}{f['kendall_tau']:>12.3f}{'>= 0.9':>10}",
        f"{'within +-10% of a single pass':<44}{fs['within_10pct'] * 100:>11.1f}%{'':>10}",
        f"{'repeatability: CV over %d passes (median)' % r['passes']:<44}{rep['cv_median_pct']:>11.2f}%{'<= 3%':>10}",
        f"{'repeatability: CV over passes (90th pct)':<44}{rep['cv_p90_pct']:>11.2f}%{'':>10}",
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


__all__ = ["run_fidelity", "format_report", "fidelity_stats", "repeatability"]
