"""``evo-nas latency sample|fit``: a latency model for a new device from a few networks measured on it.

``sample`` writes N seeded networks of an ``ofa_mbv3`` space to a CSV (``key,latency_ms``, the
latency left empty) for you to measure on your device; ``fit`` reads such a CSV back, or measures
N seeded networks here (``--measure N``: this machine's runtime, or ``--command`` for another
device), and fits a known per-layer table to them (``evo_nas.latency.fewshot``), writing a small
JSON model that ``[problem] device = "fitted"``, ``latency_model = FILE`` selects.
"""
from __future__ import annotations

import csv
import sys
from pathlib import Path

import numpy as np

from ..base.outputs import check_out


def add_arguments(p) -> None:
    p.add_argument("--measurements", help="fit: a CSV key,latency_ms of networks measured on the device")
    p.add_argument("--measure", type=int, metavar="N",
                   help="fit: measure N seeded networks now (here, or on --command's device) instead")
    p.add_argument("--base", default="note10", choices=["note10", "i7-8700k"],
                   help="fit: the known per-layer table recalibrated (default note10)")
    p.add_argument("--model", default="auto",
                   help="fit: scale, scale+layers, stages, auto (the lowest cross-validated error; default) or "
                        "forward (the table's features chosen one by one by cross-validated error)")
    p.add_argument("--networks", type=int, help="sample: how many networks (default 20); check: (default 10)")
    p.add_argument("--out", help="sample: the CSV to write; fit: the model JSON to write")


def _space(args, space):
    if getattr(space, "type_name", "") != "ofa_mbv3":
        raise ValueError(f"--space {space.name!r}: the known tables (note10, i7-8700k) cover ofa_mbv3 spaces only")
    return space


def sample(args, space) -> int:
    from ..latency.fewshot import sample_genomes

    space = _space(args, space)
    n = 20 if args.networks is None else args.networks
    if n < 1:
        raise ValueError(f"--networks {n} must be >= 1")
    seed = args.seed if args.seed is not None else 0
    genomes = sample_genomes(space, n, np.random.default_rng(seed))
    if args.out:
        check_out(args.out, flag=None)
    out = open(args.out, "w", newline="") if args.out else sys.stdout
    try:
        w = csv.writer(out)
        w.writerow(["key", "latency_ms"])
        w.writerows([g.key, ""] for g in genomes)
    finally:
        if args.out:
            out.close()
    if args.out:
        print(f"{args.out}: {len(genomes)} networks of {space.name} (seed {seed}); measure each on your device, "
              f"fill in latency_ms, then `evo-nas latency fit --measurements {args.out} --out model.json`",
              file=sys.stderr)
    return 0


def _measure_here(args, space, runtime, protocol) -> tuple[list, np.ndarray, Path]:
    """Measure ``--measure`` seeded networks with ``runtime``; the CSV is written beside the model."""
    from tqdm import tqdm

    from ..latency.devices import MeasuredLatency
    from ..latency.fewshot import sample_genomes

    path = check_out(Path(args.out).with_suffix(".measurements.csv"), option="--out's measurements file", flag=None)
    seed = args.seed if args.seed is not None else 0
    genomes = sample_genomes(space, args.measure, np.random.default_rng(seed))
    model = MeasuredLatency(runtime, protocol)
    ms = []
    for g in tqdm(genomes, desc="measuring networks", unit="net", disable=args.no_progress):
        ms.append(model.latency_ms(g.architecture()))
    with open(path, "w", newline="") as f:
        w = csv.writer(f)
        w.writerow(["key", "latency_ms"])
        w.writerows([g.key, f"{m:.6f}"] for g, m in zip(genomes, ms))
    return genomes, np.asarray(ms), path


def fit(args, space, lat, runtime_for, protocol) -> int:
    from ..latency.fewshot import fit as fit_model
    from ..latency.fewshot import ofa_features, read_measurements
    from ..latency.ofa_table import OFALatencyTable
    from ..problems.ofa import TABLE_DEVICES

    space = _space(args, space)
    if not args.out:
        raise ValueError("fit needs --out FILE.json (the model to write)")
    check_out(args.out, flag=None)
    if (args.measurements is None) == (args.measure is None):
        raise ValueError("fit needs either --measurements FILE.csv or --measure N")
    if args.measurements is not None:
        genomes, ms = read_measurements(args.measurements, space)
        source = str(args.measurements)
    else:
        if args.measure < 3:
            raise ValueError(f"--measure {args.measure} must be >= 3")
        genomes, ms, path = _measure_here(args, space, runtime_for(), protocol)
        source = str(path)
    X = space.canonical_array(np.array([g.genes for g in genomes], dtype=np.int64))
    table = OFALatencyTable(TABLE_DEVICES[args.base][0](), args.base).for_space(space)
    if args.model == "forward":
        from ..latency.multisource import fit as fit_forward

        m = fit_forward(ofa_features(table, X), ms)
    else:
        m = fit_model(ofa_features(table, X), ms, choose=args.model)
    m.base, m.space, m.device = args.base, space.name, lat.get("device", "") or ""
    m.networks = [{"key": g.key, "latency_ms": round(float(v), 6)} for g, v in zip(genomes, ms)]
    m.save(args.out)
    cv = ", ".join(f"{k} {v:.2f}%" for k, v in m.cv_mape_pct.items())
    print(f"{args.out}: {m.model} fit of the {args.base} table on {m.n} networks ({source}): "
          f"latency = {' + '.join(f'{w:.4g} x {f}' for w, f in zip(m.weights, m.features))} + {m.intercept:.4g} ms; "
          f"fit MAPE {m.fit_mape_pct:.2f}%" + (f"; cross-validated MAPE {cv}" if cv else ""))
    print(f'use it: [problem] name = "ofa-mbv3", device = "fitted", latency_model = "{args.out}"')
    return 0
