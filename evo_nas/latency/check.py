"""Checking a latency table against the machine now: re-measure a seeded sample of networks, report the drift.

A table is a measurement frozen at build time; the machine, its load, its runtime version or
its clock may have changed since (``evo_nas.latency.stability`` judges the build itself).
``check_table`` measures ``n`` seeded networks end to end, ``passes`` times each (interleaved),
and sets the table's prediction beside the median, with the passes' range as the error bar.
The drift is the median signed error; the verdict uses the nn-Meter-style share within +-10%.
"""
from __future__ import annotations

import numpy as np

from .fewshot import scores
from .lookup import LatencyTable
from .machine import machine_state
from .measure import Runtime
from .protocol import Protocol
from .table import build_network, calibration_genomes, network_input_shape

MAX_DRIFT_PCT = 10.0  # |median signed error| above this: the table no longer describes the machine
MIN_WITHIN_10_PCT = 80.0


def check_table(table: LatencyTable, space, runtime: Runtime, protocol: Protocol, n: int = 10, seed: int = 1,
                passes: int = 3, progress: bool = True) -> dict:
    """Predicted against measured for ``n`` seeded networks of ``space`` (spread over its resolutions).

    Returns ``{"networks": [{"key", "predicted_ms", "measured_ms", "low_ms", "high_ms", "error_pct"}],
    "scores": {...}, "drift_pct", "ok", "state_before", "state_after"}``. ``ValueError`` if the table
    is not calibrated or lacks a layer of a sampled network."""
    from tqdm import tqdm

    if n < 2 or passes < 1:
        raise ValueError(f"check needs at least 2 networks and 1 pass (got {n} and {passes})")
    genomes = calibration_genomes(space, n, seed)
    archs = [g.architecture() for g in genomes]
    predicted = [table.predict(a) for a in archs]
    before = machine_state()
    runs = []
    with tqdm(total=n * passes, desc="checking networks", unit="net", disable=not progress) as bar:
        for _ in range(passes):
            row = []
            for a in archs:
                row.append(runtime.measure(build_network(a), network_input_shape(a), protocol).median_ms)
                bar.update(1)
            runs.append(row)
    runs = np.asarray(runs)
    measured = np.median(runs, axis=0)
    err = (np.asarray(predicted) - measured) / measured * 100
    nets = [{"key": g.key, "predicted_ms": float(p), "measured_ms": float(m), "low_ms": float(lo),
             "high_ms": float(hi), "error_pct": float(e)}
            for g, p, m, lo, hi, e in zip(genomes, predicted, measured, runs.min(0), runs.max(0), err)]
    s = scores(predicted, measured)
    drift = float(np.median(err))
    return {"networks": nets, "scores": s, "drift_pct": drift, "seed": seed, "passes": passes,
            "ok": abs(drift) <= MAX_DRIFT_PCT and s["within_10_pct"] >= MIN_WITHIN_10_PCT,
            "state_before": before, "state_after": machine_state()}


__all__ = ["check_table", "MAX_DRIFT_PCT", "MIN_WITHIN_10_PCT"]
