"""Latency you can trust, on this machine (issue 26): build a table, judge its build, check it, and fit
a few-shot model on the same machine; RUN IT ON A QUIET MACHINE (it times networks).

    python experiments/latency_trust.py [--runtime onnxruntime|torch] [--out DIR] [--quick]

1. ``build_table`` for ``ofa-mbv3`` (the protocol of ``bench_latency_fidelity_ofa.toml``) with the
   machine's state recorded: the stability verdict (``evo_nas.latency.stability``);
2. ``check_table`` on 20 seeded networks (3 passes): predicted against measured, the drift;
3. a few-shot model (``evo_nas.latency.fewshot``): the Note10 table fitted on 20 other networks
   measured here, scored on the check's 20 networks, beside the table.
Writes ``DIR/latency_trust_<runtime>.txt`` and ``.json`` (default DIR: ``runs/latency_trust``).
``--quick`` (tiny protocol and samples) only exercises the script.
"""
from __future__ import annotations

import argparse
import sys
import tempfile
from pathlib import Path

import numpy as np

from evo_nas.base.jsonio import dumps
from evo_nas.base.outputs import add_out_arguments, default_out, out_or_exit
from evo_nas.latency import Protocol, build_table, make_runtime
from evo_nas.latency.check import check_table
from evo_nas.latency.devices import MeasuredLatency
from evo_nas.latency.fewshot import fit, ofa_features, sample_genomes, scores
from evo_nas.latency.ofa_table import OFALatencyTable
from evo_nas.latency.stability import summary
from evo_nas.problems.ofa import note10_files
from evo_nas.spaces.loader import load_space, read_toml

HERE = Path(__file__).resolve().parent


def main(argv=None) -> int:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--runtime", default="onnxruntime", choices=["onnxruntime", "torch"])
    add_out_arguments(p, default_out("latency_trust"))
    p.add_argument("--quick", action="store_true")
    args = p.parse_args(argv)
    for suffix in (".txt", ".json"):
        out_or_exit(p, Path(args.out) / f"latency_trust_{args.runtime}{suffix}", args.overwrite)
    lat = read_toml(HERE / "bench_latency_fidelity_ofa.toml", "config")["latency"]
    protocol = Protocol.from_dict(lat)
    calibration, n, passes = lat["calibration"], 20, 3
    if args.quick:
        protocol, calibration, n, passes = Protocol(warmup=0, repeats=1, rounds=1), 5, 4, 1
    space = load_space("ofa-mbv3")
    runtime = make_runtime(args.runtime, 1)
    with tempfile.TemporaryDirectory() as tmp:
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
    result = {"runtime": args.runtime, "quick": args.quick, "build_state": summary(table.header),
              "unstable": table.header["unstable"], "calibration": {k: table.calibration.get(k) for k in
                                                                     ("fit", "n", "mape_pct")},
              "check": checked, "fewshot": {"model": model.to_dict(), "scores": fewshot_scores}}
    s, f = checked["scores"], fewshot_scores
    report = "\n".join([
        f"latency trust on this machine, {args.runtime}{' (QUICK: not a result)' if args.quick else ''}",
        f"table build: load average {result['build_state']['load_1m_median']} (median), "
        f"{result['build_state']['load_1m_max']} (max); verdict: "
        + ("stable" if not table.header["unstable"] else "UNSTABLE: " + "; ".join(table.header["unstable"])),
        f"check, {n} networks x {passes} passes: table tau {s['kendall_tau']:.3f}, MAPE {s['mape_pct']:.1f}%, "
        f"within 10% {s['within_10_pct']:.0f}%, drift {checked['drift_pct']:+.1f}%",
        f"few-shot (Note10 table fitted on {n} other networks measured here, {model.model}): tau "
        f"{f['kendall_tau']:.3f}, MAPE {f['mape_pct']:.1f}%, within 10% {f['within_10_pct']:.0f}%"])
    print(report)
    out = Path(args.out) / f"latency_trust_{args.runtime}"
    out.parent.mkdir(parents=True, exist_ok=True)
    out.with_suffix(".txt").write_text(report + "\n")
    out.with_suffix(".json").write_text(dumps(result, indent=1) + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
