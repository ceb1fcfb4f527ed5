"""Latency you can trust, on this machine (issue 26): build a per-layer table for Once-for-All's space,
judge its build, check it against end-to-end measurements, and fit a few-shot model on the same machine.

1. ``build_table`` for ``ofa-mbv3`` with the machine's state recorded: the stability verdict
   (``evo_nas.latency.stability``);
2. ``check_table`` on 20 seeded networks (3 passes): predicted against measured, the drift;
3. a few-shot model (``evo_nas.latency.fewshot``): the Note10 table fitted on 20 other networks
   measured here, scored on the check's 20 networks, beside the table.

It times networks: run it on a quiet machine. ``quick`` (tiny protocol and samples) only
exercises it. ``experiments/latency_trust.py`` runs it.
"""
from __future__ import annotations

import tempfile
from pathlib import Path

import numpy as np

from ..latency import Protocol, build_table, make_runtime
from ..latency.check import check_table
from ..latency.devices import MeasuredLatency
from ..latency.fewshot import fit, ofa_features, sample_genomes, scores
from ..latency.ofa_table import OFALatencyTable
from ..latency.stability import summary
from ..problems.ofa import note10_files
from ..spaces.loader import load_space


def trust_study(runtime_name: str, lat: dict, quick: bool = False) -> tuple[dict, str]:
    """The study with ``runtime_name`` (``onnxruntime`` or ``torch``, one thread) under the protocol,
    calibration count and seed of the ``[latency]`` section ``lat``: the JSON-ready result (build
    state, calibration, check, few-shot model and scores) and the report's text."""
    protocol = Protocol.from_dict(lat)
    calibration, n, passes = lat["calibration"], 20, 3
    if quick:
        protocol, calibration, n, passes = Protocol(warmup=0, repeats=1, rounds=1), 5, 4, 1
    space = load_space("ofa-mbv3")
    runtime = make_runtime(runtime_name, 1)
    with tempfile.TemporaryDirectory(prefix="evo-nas-trust-") as tmp:
        table = build_table(space, runtime, protocol, Path(tmp) / "table.json", calibration=calibration,
                            seed=lat["seed"], progress=True)
    checked = check_table(table, space, runtime, protocol, n=n, seed=7, passes=passes)
    measured = np.array([r["measured_ms"] for r in checked["networks"]])
    train = sample_genomes(space, n, np.random.default_rng(8))
    here = MeasuredLatency(runtime, protocol)
    train_ms = [here.latency_ms(g.architecture()) for g in train]
    note10 = OFALatencyTable(note10_files(), "note10").for_space(space)
    X = space.canonical_array(np.array([g.genes for g in train]))
    model = fit(ofa_features(note10, X), train_ms)
    Xc = space.canonical_array(np.array([space.parse(r["key"]).genes for r in checked["networks"]]))
    fewshot_scores = scores(model.predict(ofa_features(note10, Xc)), measured)
    result = {"runtime": runtime_name, "quick": quick, "build_state": summary(table.header),
              "unstable": table.header["unstable"], "calibration": {k: table.calibration.get(k) for k in
                                                                     ("fit", "n", "mape_pct")},
              "check": checked, "fewshot": {"model": model.to_dict(), "scores": fewshot_scores}}
    s, f = checked["scores"], fewshot_scores
    report = "\n".join([
        f"latency trust on this machine, {runtime_name}{' (QUICK: not a result)' if quick else ''}",
        f"table build: load average {result['build_state']['load_1m_median']} (median), "
        f"{result['build_state']['load_1m_max']} (max); verdict: "
        + ("stable" if not table.header["unstable"] else "UNSTABLE: " + "; ".join(table.header["unstable"])),
        f"check, {n} networks x {passes} passes: table tau {s['kendall_tau']:.3f}, MAPE {s['mape_pct']:.1f}%, "
        f"within 10% {s['within_10_pct']:.0f}%, drift {checked['drift_pct']:+.1f}%",
        f"few-shot (Note10 table fitted on {n} other networks measured here, {model.model}): tau "
        f"{f['kendall_tau']:.3f}, MAPE {f['mape_pct']:.1f}%, within 10% {f['within_10_pct']:.0f}%"])
    return result, report
