"""Whether a latency table's measurements can be trusted: the machine's state while it was built, and the rule.

A table measured while other work competes for the cores is wrong for good: every later search
reads it. On this project's 2-core machine, a table built at a load average of about 5 fitted a
4.86 ms offset, and networks then ran in 2.0-2.5 ms against predictions of 6.1-6.6 ms. So the
state of the machine (``machine.machine_state``: load average, CPU clock) is sampled while layers
and networks are measured, and stored in the table's header (``machine_states``) with the
spread of the measurements (``entries``: median, p90, p99, CV). ``judge`` applies the rule:

- **load**: the 1-minute load average, less the measuring threads, above ``cores - threads``
  at any sample: other work wanted the cores the measurement ran on;
- **clock**: the CPU clock varied by more than ``MAX_CLOCK_SPREAD`` between samples (frequency
  scaling, thermal throttling);
- **spread**: more than ``MAX_UNSTABLE_SHARE`` of the measurements missed the protocol's
  stability check (CV of round medians above ``max_cv`` after every attempt), or their median
  relative tail (p90 / median - 1) exceeds ``MAX_TAIL``;
- **calibration**: the calibration networks' measured passes disagree by more than
  ``MAX_PASS_SPREAD`` (``pass_spread``: the 90th percentile over networks of (max - min) / median).

Limits set from data (``experiments/stability_threshold.py``, committed in
``experiments/stability_threshold/``: 6 networks x 3 passes, 3 quiet and 3 loaded repetitions,
alternating, on this project's 2-core machine with ONNX Runtime). The load rule told every
repetition apart (load above threads: quiet at most 0.68, loaded at least 1.58; the limit is 1 on
2 cores). The median pass spread did not, in an earlier run (quiet up to 8.6%, loaded down to
5.5%: a competing process hits some networks and spares others), which is why the rule reads the
90th percentile: quiet at most 11.4%, loaded at least 49.6% (earlier run: 12.9%, 56.5%). A full
quiet build (``experiments/latency_trust/``, 40 networks, load at most 0.95) then reached 26.2%,
so ``MAX_PASS_SPREAD`` is 0.35, near the geometric mean (36%) of the largest quiet figure seen
and the smallest loaded one. The earlier 5% on the median flagged quiet builds (5.5-7.6% here).
The clock, unstable-share and tail limits flagged no repetition either way: they guard other
failures (frequency scaling, a protocol too short for the machine); this study cannot set them.

A table that breaks a rule is *unstable*: ``evo-nas latency build-table`` warns and exits 3,
a search using it warns, and ``evo-nas latency check`` re-measures it.
"""
from __future__ import annotations

import os

import numpy as np

from .machine import machine_state

MAX_UNSTABLE_SHARE = 0.10
MAX_TAIL = 0.25
MAX_CLOCK_SPREAD = 0.10
MAX_PASS_SPREAD = 0.35
MAX_STATES = 200


def record(header: dict, phase: str, state: dict | None = None) -> dict:
    """Append the machine's state now (or ``state``) to ``header["machine_states"]``, tagged with ``phase``
    (``layers``, ``calibration``); the list keeps its first and last ``MAX_STATES // 2`` samples."""
    s = {"phase": phase, **(state if state is not None else machine_state())}
    states = header.setdefault("machine_states", [])
    states.append(s)
    if len(states) > MAX_STATES:
        del states[MAX_STATES // 2]
    return s


def judge(header: dict, entries: dict, calibration: dict | None = None, cores: int | None = None) -> list[str]:
    """The rules a table breaks, one line each (empty: stable). ``header`` holds ``threads``, ``protocol``
    and ``machine_states``; ``entries`` the layers' figures; ``cores`` default: this machine's."""
    reasons = []
    threads = int(header.get("threads", 1))
    cores = cores or header.get("device", {}).get("cores") or os.cpu_count() or 1
    # measured on another device through a command: this machine's state says nothing about it
    states = [] if header.get("runtime") == "command" else header.get("machine_states", [])
    loads = [s["load_1m"] for s in states if s.get("load_1m") is not None]
    if loads:
        other = max(loads) - threads
        if other > cores - threads:
            reasons.append(f"load: the 1-minute load average reached {max(loads):.2f} on {cores} cores while "
                           f"{threads} thread(s) measured: other work competed for the cores (allowed: load - "
                           f"threads <= cores - threads = {cores - threads})")
    clocks = [s["cpu_mhz"] for s in states if s.get("cpu_mhz")]
    if clocks and (max(clocks) - min(clocks)) / max(clocks) > MAX_CLOCK_SPREAD:
        reasons.append(f"clock: the CPU clock varied from {min(clocks):.0f} to {max(clocks):.0f} MHz "
                       f"(more than {MAX_CLOCK_SPREAD:.0%})")
    max_cv = float(header.get("protocol", {}).get("max_cv", 0.05))
    figures = list(entries.values())
    if figures:
        unstable = np.mean([e.get("cv", 0.0) > max_cv for e in figures])
        if unstable > MAX_UNSTABLE_SHARE:
            reasons.append(f"spread: {unstable:.0%} of {len(figures)} layers stayed above the protocol's CV "
                           f"{max_cv:.0%} after every attempt (allowed: {MAX_UNSTABLE_SHARE:.0%})")
        tails = [e["p90_ms"] / e["ms"] - 1 for e in figures if e.get("p90_ms") is not None and e.get("ms")]
        if tails and float(np.median(tails)) > MAX_TAIL:
            reasons.append(f"spread: the median layer's p90 is {np.median(tails):.0%} above its median "
                           f"(allowed: {MAX_TAIL:.0%})")
    passes = (calibration or {}).get("passes_ms")
    if passes:
        spread = pass_spread(passes)
        if spread > MAX_PASS_SPREAD:
            reasons.append(f"calibration: the networks' measured passes differ by {spread:.1%} (90th percentile "
                           f"over networks; allowed: {MAX_PASS_SPREAD:.0%})")
    return reasons


def network_spreads(passes_ms) -> np.ndarray:
    """(max - min) / median of each network's passes, shape (networks,); ``passes_ms`` (passes, networks), ms."""
    runs = np.asarray(passes_ms, float)
    return (runs.max(0) - runs.min(0)) / np.median(runs, 0)


def pass_spread(passes_ms) -> float:
    """The calibration rule's figure: the 90th percentile over networks of ``network_spreads``."""
    return float(np.percentile(network_spreads(passes_ms), 90))


def summary(header: dict) -> dict:
    """Load, clock and count of the machine states sampled while a table was measured."""
    states = header.get("machine_states", [])
    loads = [s["load_1m"] for s in states if s.get("load_1m") is not None]
    clocks = [s["cpu_mhz"] for s in states if s.get("cpu_mhz")]
    return {"samples": len(states), "load_1m_max": max(loads) if loads else None,
            "load_1m_median": float(np.median(loads)) if loads else None,
            "cpu_mhz_min": min(clocks) if clocks else None, "cpu_mhz_max": max(clocks) if clocks else None}


__all__ = ["record", "judge", "summary", "pass_spread", "network_spreads", "MAX_UNSTABLE_SHARE", "MAX_TAIL",
           "MAX_CLOCK_SPREAD", "MAX_PASS_SPREAD"]
