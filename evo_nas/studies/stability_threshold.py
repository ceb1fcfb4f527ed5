"""What the stability rules of a latency table's build see on a quiet machine and under a known load (issue 26).

``evo_nas.latency.stability.judge`` flags a build by five rules (load, clock, unstable share, p90
tail, calibration pass spread) whose limits were set by hand. This study measures, in alternating
repetitions of two conditions (quiet, loaded, quiet, loaded, ...: drift over time biases neither),
what a table build measures: ``layers`` seeded layers measured once (as ``measure_layers`` does),
then ``networks`` seeded networks end to end in ``passes`` interleaved passes with the machine's
state recorded before each pass and after the last, exactly as ``evo_nas.latency.table.calibrate``
does. Each repetition is judged by ``LatencyTable.unstable_reasons`` (the code's rules, not a copy)
and the quantity each rule compares with its limit is recorded beside the verdict. The loaded
condition runs ``busy_load`` (one busy process per core by default) for its whole duration.

Before each repetition the 1-minute load average is given up to ``settle_s`` to follow the change
(the kernel averages it over about a minute): a quiet repetition waits until it falls to the
measuring threads, a loaded one until it rises to the number of busy workers.

It times networks: run it on an otherwise quiet machine. The suggested ``MAX_PASS_SPREAD`` is the
geometric mean of the largest quiet and the smallest loaded pass spread when they separate.
``experiments/stability_threshold.py`` runs it and writes ``report``'s text beside the result.
"""
from __future__ import annotations

import os
import time
from collections.abc import Callable

import numpy as np

from ..latency import stability
from ..latency.fewshot import sample_genomes
from ..latency.lookup import LatencyTable
from ..latency.measure import Runtime
from ..latency.protocol import Protocol
from ..latency.stability import record
from ..latency.table import build_network, measure_layers, network_input_shape
from ..spaces.arch import to_architecture
from .busy_load import KINDS, busy_load, wait_for_load

CONDITIONS = ("quiet", "loaded")
RULES = ("load", "clock", "unstable_share", "tail", "calibration")


def rule_of(reason: str) -> str:
    """The rule (one of ``RULES``) a reason line of ``stability.judge`` names; ``ValueError`` for an unknown one."""
    head = reason.split(":", 1)[0]
    if head == "spread":
        return "tail" if "p90" in reason else "unstable_share"
    if head in RULES:
        return head
    raise ValueError(f"unknown stability reason {reason!r}")


def pass_spreads(passes_ms) -> tuple[float, list[float]]:
    """(``stability.pass_spread``, per network ``stability.network_spreads``) of ``passes_ms``, shape (passes,
    networks), in ms: the first is the figure ``stability.judge`` compares with ``MAX_PASS_SPREAD``."""
    return stability.pass_spread(passes_ms), [float(v) for v in stability.network_spreads(passes_ms)]


def rule_statistics(header: dict, entries: dict, passes_ms) -> dict:
    """The quantity each rule of ``stability.judge`` compares with its limit (None where there is nothing to judge):
    ``load`` max 1-minute load less the measuring threads (limit: cores - threads), ``clock`` relative clock
    range, ``unstable_share`` share of layers above the protocol's CV, ``tail`` median p90 / median - 1,
    ``calibration`` the pass spread."""
    threads = int(header.get("threads", 1))
    states = header.get("machine_states", [])
    loads = [s["load_1m"] for s in states if s.get("load_1m") is not None]
    clocks = [s["cpu_mhz"] for s in states if s.get("cpu_mhz")]
    max_cv = float(header.get("protocol", {}).get("max_cv", 0.05))
    figures = list(entries.values())
    tails = [e["p90_ms"] / e["ms"] - 1 for e in figures if e.get("p90_ms") is not None and e.get("ms")]
    return {"load": max(loads) - threads if loads else None,
            "clock": (max(clocks) - min(clocks)) / max(clocks) if clocks else None,
            "unstable_share": float(np.mean([e.get("cv", 0.0) > max_cv for e in figures])) if figures else None,
            "tail": float(np.median(tails)) if tails else None,
            "calibration": pass_spreads(passes_ms)[0] if passes_ms else None}


def rule_limits(cores: int, threads: int) -> dict:
    """Each rule's limit in ``stability`` now, in the units of ``rule_statistics``."""
    return {"load": cores - threads, "clock": stability.MAX_CLOCK_SPREAD, "unstable_share": stability.MAX_UNSTABLE_SHARE,
            "tail": stability.MAX_TAIL, "calibration": stability.MAX_PASS_SPREAD}


def measure_repetition(space, archs: list, specs: list, runtime: Runtime, protocol: Protocol, passes: int) -> LatencyTable:
    """One build's measurements into an unsaved table: ``specs`` measured once, then ``archs`` end to end in
    ``passes`` interleaved passes (the loop of ``calibrate``), the machine's state recorded as a build records it."""
    table = LatencyTable.new(space, runtime, protocol)
    measure_layers(table, specs, runtime, protocol)
    runs = []
    for _ in range(passes):
        record(table.header, "calibration")
        runs.append([runtime.measure(build_network(a), network_input_shape(a), protocol).median_ms for a in archs])
    record(table.header, "calibration")
    table.calibration = {"passes_ms": [[round(m, 6) for m in row] for row in runs]}
    return table


def judged(table: LatencyTable) -> dict:
    """A repetition's figures: passes, pass spreads, machine states, rule statistics, reasons and flags per rule."""
    reasons = table.unstable_reasons()
    passes_ms = table.calibration["passes_ms"]
    spread, per_network = pass_spreads(passes_ms)
    flagged = {rule_of(r) for r in reasons}
    return {"passes_ms": passes_ms, "pass_spread": spread, "network_spreads": per_network,
            "machine_states": table.header.get("machine_states", []),
            "layers": table.entries, "statistics": rule_statistics(table.header, table.entries, passes_ms),
            "reasons": reasons, "flags": {r: r in flagged for r in RULES}}


def suggest_threshold(quiet: list[float], loaded: list[float]) -> dict:
    """A limit between two conditions' values: when every quiet value is below every loaded one, the geometric
    mean of the largest quiet and the smallest loaded value (half the smallest loaded value when the largest
    quiet one is 0), else None (they do not separate). ``ValueError`` when either list is empty."""
    if not quiet or not loaded:
        raise ValueError(f"need values of both conditions (quiet: {len(quiet)}, loaded: {len(loaded)})")
    hi, lo = max(quiet), min(loaded)
    separate = hi < lo
    threshold = None
    if separate:
        threshold = float(np.sqrt(hi * lo)) if hi > 0 else lo / 2
    return {"separate": separate, "quiet_max": float(hi), "loaded_min": float(lo), "threshold": threshold}


def _peak(rep: dict) -> float | None:
    loads = [s["load_1m"] for s in rep["machine_states"] if s.get("load_1m") is not None]
    return max(loads) if loads else None


def summarize(reps: list[dict]) -> dict:
    """Per condition: repetitions, median and range of each rule's statistic and of the peak load average, and
    how many repetitions each rule flagged (quiet: false alarms; loaded: flagged = detections)."""
    out = {}
    for cond in CONDITIONS:
        rs = [r for r in reps if r["condition"] == cond]
        if not rs:
            continue
        stats = {}
        for rule in RULES:
            vals = [r["statistics"][rule] for r in rs if r["statistics"][rule] is not None]
            stats[rule] = ({"median": float(np.median(vals)), "min": float(min(vals)), "max": float(max(vals))}
                           if vals else None)
        peaks = [p for p in map(_peak, rs) if p is not None]
        out[cond] = {"repetitions": len(rs), "statistics": stats,
                     "load_1m_peak": ({"median": float(np.median(peaks)), "min": min(peaks), "max": max(peaks)}
                                      if peaks else None),
                     "flagged": {rule: sum(r["flags"][rule] for r in rs) for rule in RULES},
                     "flagged_any": sum(bool(r["reasons"]) for r in rs)}
    return out


def stability_study(space, runtime: Runtime, protocol: Protocol, *, networks: int = 6, passes: int = 3, reps: int = 3,
                    layers: int = 24, seed: int = 0, workers: int | None = None, load_kind: str = "matmul",
                    settle_s: float = 30.0, log: Callable[[str], None] | None = None) -> dict:
    """The study (module docstring): ``reps`` repetitions of each condition, alternating, on the same ``networks``
    seeded networks of ``space`` and ``layers`` seeded layers of theirs. Returns the JSON-ready result: the set-up,
    the genomes, every repetition (``judged`` plus condition, settling and wall time), the summary per condition
    and the suggestions (``suggestions``). ``ValueError`` for a count below 1 (``passes`` below 2, ``layers``
    below 0) or an unknown ``load_kind``."""
    workers = (os.cpu_count() or 1) if workers is None else workers
    for name, v, least in (("networks", networks, 1), ("passes", passes, 2), ("reps", reps, 1), ("layers", layers, 0),
                           ("workers", workers, 1)):
        if not isinstance(v, int) or isinstance(v, bool) or v < least:
            raise ValueError(f"{name} = {v!r} must be an int >= {least}")
    if load_kind not in KINDS:
        raise ValueError(f"load kind {load_kind!r} (expected one of {', '.join(KINDS)})")
    rng = np.random.default_rng(seed)
    genomes = sample_genomes(space, networks, rng)
    archs = [to_architecture(g) for g in genomes]
    distinct = list({s.key(): s for a in archs for s in a.layers()}.values())
    picked = sorted(rng.choice(len(distinct), size=min(layers, len(distinct)), replace=False)) if layers else []
    specs = [distinct[i] for i in picked]
    threads = runtime.threads
    out = []
    for i in range(reps):
        for cond in CONDITIONS:
            t0 = time.perf_counter()
            if cond == "quiet":
                settle = wait_for_load(lambda load: load <= threads, settle_s)
                table = measure_repetition(space, archs, specs, runtime, protocol, passes)
            else:
                with busy_load(workers, load_kind):
                    settle = wait_for_load(lambda load: load >= workers, settle_s)
                    table = measure_repetition(space, archs, specs, runtime, protocol, passes)
            rep = {"condition": cond, "repetition": i, "settle": settle,
                   "wall_s": round(time.perf_counter() - t0, 2), **judged(table)}
            out.append(rep)
            if log:
                log(f"{cond} {i + 1}/{reps}: pass spread {rep['pass_spread']:.1%}, peak load {_peak(rep)}, "
                    f"{rep['wall_s']:.0f} s; "
                    + ("; ".join(rule_of(r) for r in rep["reasons"]) or "stable"))
    cores = os.cpu_count() or 1
    return {"setup": {"space": getattr(space, "name", ""), **runtime.describe(), "protocol": protocol.to_dict(),
                      "networks": networks, "passes": passes, "reps": reps, "layers": len(specs), "seed": seed,
                      "workers": workers, "load_kind": load_kind, "settle_s": settle_s, "cores": cores,
                      "limits": rule_limits(cores, threads), "order": [r["condition"] for r in out]},
            "genomes": [g.key for g in genomes], "repetitions": out, "summary": summarize(out),
            "suggestion": suggestions(out)}


def suggestions(reps: list[dict]) -> dict:
    """``suggest_threshold`` for each rule's statistic over the repetitions (a rule without values in both
    conditions is left out); ``calibration`` is the suggested ``MAX_PASS_SPREAD``."""
    out = {}
    for rule in RULES:
        vals = [[r["statistics"][rule] for r in reps if r["condition"] == c and r["statistics"][rule] is not None]
                for c in CONDITIONS]
        if all(vals):
            out[rule] = suggest_threshold(*vals)
    return out

def _fmt(rule: str, v) -> str:
    if v is None:
        return "-"
    return f"{v:.2f}" if rule == "load" else f"{v:.1%}"


def _span(rule: str, s: dict | None) -> str:
    return "-" if s is None else f"{_fmt(rule, s['median'])} [{_fmt(rule, s['min'])}, {_fmt(rule, s['max'])}]"


def report(result: dict, quick: bool = False) -> str:
    """The study's text: set-up, per condition the pass spread and peak load, per rule its limit, values,
    false alarms (quiet repetitions flagged) and misses (loaded repetitions not flagged), the suggested
    ``MAX_PASS_SPREAD``, then one line per repetition."""
    su, summ, sug = result["setup"], result["summary"], result["suggestion"]
    p = su["protocol"]
    lines = [(f"stability thresholds on this machine: {su['space']}, {su['runtime']} {su['runtime_version']}, "
              f"{su['threads']} thread(s){' (QUICK: not a result)' if quick else ''}"),
             (f"{su['networks']} networks x {su['passes']} interleaved passes, {su['layers']} layers, protocol warmup "
              f"{p['warmup']}, {p['rounds']} x {p['repeats']} calls, max_cv {p['max_cv']}; {su['reps']} repetition(s) per "
              f"condition, alternating; loaded: {su['workers']} busy {su['load_kind']} workers on {su['cores']} cores; "
              f"settling <= {su['settle_s']:g} s"),
             "", f"{'condition':<10}{'reps':>5}  {'pass spread median [min, max]':<32}{'peak load_1m':<26}flagged (any rule)"]
    for cond, s in summ.items():
        lines.append(f"{cond:<10}{s['repetitions']:>5}  {_span('calibration', s['statistics']['calibration']):<32}"
                     f"{_span('load', s['load_1m_peak']):<26}{s['flagged_any']}/{s['repetitions']}")
    lines += ["", (f"{'rule':<16}{'limit now':>10}  {'quiet median [min, max]':<26}{'false alarms':<14}"
                   f"{'loaded median [min, max]':<26}{'misses':<8}separate at")]
    q, ld = summ.get("quiet"), summ.get("loaded")
    for rule in RULES:
        limit = su["limits"][rule]
        alarms = f"{q['flagged'][rule]}/{q['repetitions']}" if q else "-"
        misses = f"{ld['repetitions'] - ld['flagged'][rule]}/{ld['repetitions']}" if ld else "-"
        g = sug.get(rule)
        sep = "-" if g is None else (_fmt(rule, g["threshold"]) if g["separate"] else "no")
        lines.append(f"{rule:<16}{_fmt(rule, limit):>10}  {_span(rule, q and q['statistics'][rule]):<26}{alarms:<14}"
                     f"{_span(rule, ld and ld['statistics'][rule]):<26}{misses:<8}{sep}")
    lines.append("(load: peak 1-minute load average less the measuring threads; the rule flags it above cores - threads)")
    if all(c["statistics"]["clock"] is None or c["statistics"]["clock"]["max"] == 0 for c in summ.values()):
        lines.append("(clock: the readable clock never changed; a virtual machine often shows only its nominal clock, "
                     "so this study cannot set the clock limit here)")
    g = sug.get("calibration")
    if g is None:
        lines.append("suggested MAX_PASS_SPREAD: none (no repetitions of both conditions)")
    elif g["separate"]:
        lines.append(f"suggested MAX_PASS_SPREAD: {g['threshold']:.3f} ({g['threshold']:.1%}: geometric mean of the largest "
                     f"quiet spread {g['quiet_max']:.1%} and the smallest loaded spread {g['loaded_min']:.1%}; now "
                     f"{stability.MAX_PASS_SPREAD:.1%}; from {su['reps']} repetition(s) per condition)")
    else:
        lines.append(f"suggested MAX_PASS_SPREAD: none: quiet and loaded pass spreads do not separate (largest quiet "
                     f"{g['quiet_max']:.1%} >= smallest loaded {g['loaded_min']:.1%}), so no limit on the pass spread "
                     f"tells these conditions apart")
    lines += ["", "per repetition:"]
    for r in result["repetitions"]:
        st = r["settle"]
        lines.append(f"  {r['condition']} {r['repetition'] + 1}: pass spread {r['pass_spread']:.1%} (networks "
                     + " ".join(f"{v:.1%}" for v in r["network_spreads"])
                     + f"), peak load {_fmt('load', _peak(r))}, clock range "
                     f"{_fmt('clock', r['statistics']['clock'])}, waited {st['waited_s']:g} s for the load average "
                     f"({'settled' if st['settled'] else 'not settled'}), {r['wall_s']:.0f} s; "
                     + ("; ".join(r["reasons"]) or "stable"))
    return "\n".join(lines)


__all__ = ["CONDITIONS", "RULES", "judged", "measure_repetition", "pass_spreads", "report", "rule_limits", "rule_of",
           "rule_statistics", "stability_study", "suggest_threshold", "suggestions", "summarize"]
