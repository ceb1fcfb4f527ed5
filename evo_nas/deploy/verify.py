"""Re-measuring exported networks on this machine: predicted against measured latency, and the run's limits.

MnasNet (Tan et al., 2019, arXiv 1807.11626) trusts latency measured on the device, not a proxy
of it. ``verify`` times every ONNX file an export wrote (``evo_nas.deploy.export``) in ONNX Runtime
under the latency protocol (``evo_nas.latency.protocol``: fixed threads, warm-up, rounds of timed
calls, the median with its interquartile range, repeated when unstable; in a process whose
allocator keeps freed memory, ``evo_nas.latency.machine``), compares the median with the
prediction the search used where the two are of the same thing (the same network, runtime,
thread count and machine; otherwise it says why not), flags INT8 files that are not faster than
FP32, and checks each file against the limits the card carries from the run. A limit on latency
is checked on the measurement where it is comparable, else on the prediction (said so);
parameters and MACs on the exported network; accuracy on the test accuracy measured at export
where the weights were trained on the searched network, else on the prediction.
"""
from __future__ import annotations

import os
from pathlib import Path

from ..algorithms.constraints import limit_text, violation
from ..base.errors import MissingFile
from ..base.files import atomic_write
from ..base.jsonio import dumps, read_json
from ..latency.machine import machine_info, steady_allocator
from ..latency.protocol import Measurement, Protocol, measure
from ..networks.onnx_export import INPUT, example_input

REPORT = "verify.json"
ACCURACY = ("top1", "val_acc", "test_acc")


def measure_file(path: str | Path, input_shape, threads: int = 1, protocol: Protocol = Protocol()) -> Measurement:
    """Latency of the ONNX file at ``path`` at batch 1 in ONNX Runtime (CPU, sequential, ``threads``
    intra-op threads, as ``evo_nas.latency.measure.OnnxRuntime`` runs a network), under ``protocol``."""
    import onnxruntime as ort

    steady_allocator()
    opts = ort.SessionOptions()
    opts.intra_op_num_threads = threads
    opts.inter_op_num_threads = 1
    opts.execution_mode = ort.ExecutionMode.ORT_SEQUENTIAL
    sess = ort.InferenceSession(str(path), opts, providers=["CPUExecutionProvider"])
    x = example_input((1, *tuple(input_shape)[1:])).numpy()
    return measure(lambda: sess.run(None, {INPUT: x}), protocol)


def comparable(card: dict, threads: int) -> tuple[bool, str]:
    """Whether the card's predicted latency is of what ``verify`` measures here, and why not."""
    lp = card.get("latency_prediction") or {}
    why = []
    if not lp.get("same_network", False):
        why.append("the exported network was rebuilt for the data (" + "; ".join(card["weights"].get("notes", []))
                   + ")")
    if lp.get("runtime") != "onnxruntime":
        why.append(f"predicted for runtime {lp.get('runtime') or lp.get('source')!r}, measured in onnxruntime")
    here = machine_info()["id"]
    if lp.get("device_id") != here:
        dev = lp.get("device")
        name = dev.get("cpu") if isinstance(dev, dict) else dev or (lp.get("model") or {}).get("problem")
        why.append(f"predicted for device {name!r}, measured on this machine ({machine_info()['cpu']})")
    if lp.get("threads") is not None and lp.get("threads") != threads:
        why.append(f"predicted at {lp.get('threads')} thread(s), measured at {threads}")
    return (not why), "; ".join(why)


def _check_limits(card: dict, row: dict, same: bool, limits) -> list[dict]:
    out = []
    net = card["network"]
    trained = card["weights"]["kind"] == "trained"
    for limit in limits:
        name = limit[0]
        if name == "latency_ms" and same:
            value, source = row["measured_ms"], "measured here"
        elif name in ("params_m", "macs_m"):
            value, source = net[name], "counted on the exported network"
        elif name in ACCURACY and trained and net.get("as_searched") and row.get("test_acc") is not None:
            value, source = row["test_acc"], f"measured test accuracy ({card['weights']['data']})"
        else:
            value, source = card["predicted"].get(name), "predicted by the search (not re-measured here)"
        v = violation({name: value}, tuple(limit))
        status = "unknown" if v is None else "met" if v <= 0 else "BROKEN"
        out.append({"limit": limit_text(limit), "value": value, "source": source, "status": status})
    return out


def verify_card(card: dict, folder: Path, *, threads: int = 1, protocol: Protocol = Protocol(),
                extra_limits=()) -> dict:
    """Measure every file of one card; returns ``{genome, comparable, why, rows, broken}``."""
    same, why = comparable(card, threads)
    # a limit on latency holds on the device the run predicted for: every file measured there counts,
    # INT8 versions included, even when the exported network is not the one whose latency was predicted
    device_same = comparable({**card, "latency_prediction": {**card.get("latency_prediction", {}),
                                                             "same_network": True}}, threads)[0]
    net = card["network"]
    shape = (1, net["in_channels"], net["resolution"], net["resolution"])
    limits = [list(x) for x in card.get("limits", [])] + [list(x) for x in extra_limits]
    predicted = card["predicted"].get("latency_ms")
    rows, fp32 = [], None
    for f in card["files"]:
        path = folder / f["file"]
        if not path.is_file():
            raise MissingFile(f"{path}: named in the card {card['genome'][:60]!r} but missing")
        m = measure_file(path, shape, threads, protocol)
        row = {"file": f["file"], "precision": f["precision"], "measured_ms": m.median_ms, "iqr_ms": m.iqr_ms,
               "p10_ms": m.p10_ms, "p90_ms": m.p90_ms, "cv": m.cv, "stable": m.stable, "attempts": m.attempts,
               "test_acc": f.get("test_acc")}
        if f["precision"] == "fp32":
            fp32 = row
            if same and predicted is not None:
                row["predicted_ms"] = predicted
                row["error_pct"] = 100.0 * (predicted - m.median_ms) / m.median_ms
                if m.p10_ms is not None and m.p90_ms is not None:
                    row["predicted_in_p10_p90"] = m.p10_ms <= predicted <= m.p90_ms
        elif fp32 is not None:
            row["speedup_vs_fp32"] = fp32["measured_ms"] / m.median_ms
            spread = (fp32["iqr_ms"] + m.iqr_ms) / 2
            row["int8_flag"] = ("not faster than fp32" if m.median_ms >= fp32["measured_ms"] else
                                "faster, within the spread" if fp32["measured_ms"] - m.median_ms <= spread else
                                "faster")
        row["limits"] = _check_limits(card, row, device_same, limits)
        rows.append(row)
    broken = [f"{r['file']}: {c['limit']} ({c['value']:.4g}, {c['source']})" for r in rows for c in r["limits"]
              if c["status"] == "BROKEN"]
    return {"genome": card["genome"], "card": card.get("_path"), "predicted_ms": predicted,
            "predicted_by": card["latency_prediction"].get("source"), "comparable": same, "why": why, "rows": rows,
            "broken": broken}


def cards_in(folder: Path) -> list[dict]:
    """The cards ``evo_nas.deploy.export`` wrote in ``folder`` (``net-*.json``)."""
    cards = []
    for p in sorted(folder.glob("net-*.json")):
        c = read_json(p)
        if not isinstance(c, dict) or "files" not in c or "network" not in c:
            raise ValueError(f"{p}: not an export card (no 'files'/'network')")
        c["_path"] = p.name
        cards.append(c)
    return cards


def verify(folder, *, threads: int = 1, protocol: Protocol = Protocol(), extra_limits=(), write: bool = True) -> dict:
    """Verify every exported network in ``folder``; returns the report (also written as ``verify.json``).
    ``FileNotFoundError`` when the folder holds no card."""
    folder = Path(folder)
    if not folder.is_dir():
        raise MissingFile(f"export folder not found: {folder}")
    cards = cards_in(folder)
    if not cards:
        raise MissingFile(f"{folder}: no exported network (net-*.json); write one with evo-nas export RUN --knee")
    load = os.getloadavg()[0] if hasattr(os, "getloadavg") else None
    cores = os.cpu_count() or 1
    report = {"machine": machine_info(), "threads": threads, "protocol": protocol.to_dict(), "load_average": load,
              "busy": load is not None and load > 0.5 * cores,
              "networks": [verify_card(c, folder, threads=threads, protocol=protocol, extra_limits=extra_limits)
                           for c in cards]}
    report["broken"] = [b for n in report["networks"] for b in n["broken"]]
    if write:
        atomic_write(folder / REPORT, dumps(report, indent=2, sort_keys=True))
    return report


def report_text(report: dict) -> str:
    """The report as ``evo-nas verify`` prints it: one block per network, one line per file."""
    lines = []
    if report["busy"]:
        lines.append(f"WARNING: load average {report['load_average']:.1f} on {report['machine']['cores']} cores: "
                     f"this machine is busy, the timings are not reliable; rerun on a quiet machine")
    for n in report["networks"]:
        pred = "-" if n["predicted_ms"] is None else f"{n['predicted_ms']:.3f} ms ({n['predicted_by']})"
        lines.append(f"{n['card']}  {n['genome'][:70]}")
        lines.append(f"  predicted latency {pred}" + ("" if n["comparable"] else f"; not comparable here: {n['why']}"))
        for r in n["rows"]:
            bars = (f"p10-p90 {r['p10_ms']:.3f}-{r['p90_ms']:.3f}, " if r.get("p10_ms") is not None
                    and r.get("p90_ms") is not None else "")
            text = (f"  {r['file']:<34} measured {r['measured_ms']:.3f} ms ({bars}IQR {r['iqr_ms']:.3f}, CV "
                    f"{100 * r['cv']:.1f}%{'' if r['stable'] else ', unstable'})")
            if "error_pct" in r:
                text += f"  prediction error {r['error_pct']:+.1f}%"
                if "predicted_in_p10_p90" in r:
                    text += " (inside p10-p90)" if r["predicted_in_p10_p90"] else " (outside p10-p90)"
            if "speedup_vs_fp32" in r:
                text += f"  x{r['speedup_vs_fp32']:.2f} vs fp32: {r['int8_flag']}"
            if r.get("test_acc") is not None:
                text += f"  test acc {r['test_acc']:.4f}"
            lines.append(text)
            for c in r["limits"]:
                value = "-" if c["value"] is None else f"{c['value']:.4g}"
                lines.append(f"      {c['status']:<7} {c['limit']}: {value} ({c['source']})")
    lines.append(f"{len(report['broken'])} limit(s) broken" + (": " + "; ".join(report["broken"])
                                                                if report["broken"] else ""))
    return "\n".join(lines)


__all__ = ["verify", "verify_card", "measure_file", "comparable", "cards_in", "report_text", "REPORT"]
