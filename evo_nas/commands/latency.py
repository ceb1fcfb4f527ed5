"""``evo-nas latency``: measure a genome here and predict it from a per-layer table (MnasNet, FBNet).

``evo-nas latency build-table`` measures every distinct layer of a space into a table file
(progress bar, resumable, ``--rebuild``/``--recalibrate``; exit 3 when the machine was not quiet
enough, ``evo_nas.latency.stability``); ``evo-nas latency check`` re-measures a seeded sample
against the table (``commands/_latency_check.py``); ``evo-nas latency sample|fit`` fit a new
device's model from a few measured networks (``commands/_latency_fit.py``); ``evo-nas latency
GENOME`` prints the measured latency (median, IQR, CV, attempts) for each runtime and the
table's prediction with its error.
"""
from __future__ import annotations

import argparse
import sys
from pathlib import Path

from ..base.files import from_base
from ..spaces.loader import load_genome_or_architecture, load_space, read_toml

# evo_nas.latency.measure.RUNTIMES, named here so that the parser does not import torch
RUNTIME_NAMES = ["torch", "onnxruntime", "onnxruntime-int8-dynamic", "onnxruntime-int8-static"]


def register(sub):
    p = sub.add_parser(
        "latency", help="measure or predict latency; build a per-layer latency table",
        description="`evo-nas latency build-table [options]` measures every distinct layer of the space into a table "
                    "(resumes from a partial file; --rebuild measures it again; exit 3 when the machine was not "
                    "quiet enough). `evo-nas latency check` re-measures seeded networks against the table. "
                    "`evo-nas latency sample` lists seeded networks to measure on your device; `evo-nas latency "
                    "fit` fits a known table to those measurements. `evo-nas latency GENOME [options]` measures "
                    "GENOME end to end on this machine and, when a table is available, prints its prediction "
                    "next to the measurement.",
        formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("target", metavar="build-table|check|sample|fit|GENOME",
                   help="'build-table', 'check', 'sample', 'fit', or a genome: block string, gene list, known "
                        "architecture name or .toml")
    p.add_argument("--config", help="experiment TOML: its [space] and [latency] sections give the defaults")
    p.add_argument("--space", help="space name or file (default: mnasnet)")
    p.add_argument("--resolution", type=int, help="input resolution override")
    p.add_argument("--in-channels", type=int, help="input channels override")
    p.add_argument("--num-classes", type=int, help="class count override")
    p.add_argument("--runtime", action="append", choices=RUNTIME_NAMES,
                   help="runtime (repeatable for GENOME; default [latency] runtime, else onnxruntime: what "
                        "`evo-nas export` ships)")
    p.add_argument("--threads", type=int, help="intra-op threads (default 1)")
    p.add_argument("--command", dest="device_command",
                   help="build-table on another device: a command that gets each layer as an ONNX file "
                        "({model}, else appended) and prints its latency in ms")
    p.add_argument("--device", help="with --command: the device's name, recorded in the table header")
    p.add_argument("--table", help="table file (default: the per-machine table under ~/.cache/evo-nas/latency "
                                   "or $EVO_NAS_LATENCY_DIR)")
    p.add_argument("--no-table", action="store_true", help="GENOME: measure only, skip the table prediction")
    p.add_argument("--calibration", type=int, default=None,
                   help="build-table: calibration networks (default 20, and at least 8 per input resolution)")
    p.add_argument("--seed", type=int, default=None, help="build-table: calibration sample seed (default 0)")
    p.add_argument("--fit", choices=["auto", "offset", "offset+per_layer", "affine"],
                   help="build-table: calibration fit (default auto: the lowest leave-one-out error on the "
                        "calibration networks)")
    p.add_argument("--limit", type=int, help="build-table: measure at most this many layers now (resume later)")
    p.add_argument("--rebuild", action="store_true",
                   help="build-table: measure every layer and the calibration again; the old table is replaced "
                        "once the new one is complete")
    p.add_argument("--recalibrate", action="store_true",
                   help="build-table: keep the layers, measure the calibration networks again")
    p.add_argument("--overwrite", action="store_true",
                   help="build-table: build into a --table committed to git (refused otherwise)")
    p.add_argument("--allow-unstable", action="store_true",
                   help="build-table: exit 0 even when the machine was not quiet enough (the table still says so)")
    p.add_argument("--passes", type=int, default=3, help="check: measurements of each network (default 3)")
    p.add_argument("--no-progress", action="store_true", help="no progress bar")
    from ._latency_fit import add_arguments

    add_arguments(p)
    for name in ("warmup", "repeats", "rounds", "max-attempts"):
        p.add_argument(f"--{name}", type=int, help="protocol override")
    p.add_argument("--max-cv", type=float, help="protocol override: re-measure above this CV of round medians")
    p.set_defaults(func=run)


def _config(args) -> dict:
    if not args.config:
        return {}
    d = read_toml(Path(args.config), "config")
    for name in ("space", "latency"):
        if not isinstance(d.get(name, {}), dict):
            raise ValueError(f"{args.config}: [{name}] must be a table")
    base = Path(args.config).resolve().parent  # the config's relative paths are read from its folder
    for name, key in (("space", "file"), ("latency", "table")):
        if key in d.get(name, {}):
            d[name][key] = from_base(d[name][key], base)
    return d


def _space(args, config: dict):
    """The space: from the config (through its dataset when it has [data]), then the CLI overrides."""
    cli = {k: getattr(args, k) for k in ("resolution", "in_channels", "num_classes") if getattr(args, k) is not None}
    section = config.get("space", {})
    if args.space is None and "data" in config:
        from ..accuracy.evaluate import EvalConfig

        space = EvalConfig.from_dict(config, base_dir=Path(args.config).parent).space()
        space = space.with_overrides(**cli) if cli else space
    else:
        name = args.space or section.get("file") or section.get("name") or "mnasnet"
        over = {k: section.get(k) for k in ("resolution", "in_channels", "num_classes", "width_multiplier")}
        space = load_space(name, **{**over, **cli})
    a = space.decode((0,) * space.n_genes)
    return space, {"resolution": a.resolution, "in_channels": a.in_channels, "num_classes": a.num_classes}


def _latency_section(args, section: dict) -> dict:
    s = dict(section)
    for k in ("threads", "warmup", "repeats", "rounds", "max_attempts", "max_cv", "table", "calibration", "seed",
              "fit", "device"):
        v = getattr(args, k)
        if v is not None:
            s[k] = v
    if args.device_command is not None:
        s["command"] = args.device_command
    return s


def _checked(lat: dict) -> dict:
    """``lat`` checked by the schema as a ``mode = "table"`` ``[latency]`` section, defaults filled in;
    keys a table does not take (another mode's) are not this command's and are left out."""
    from ..base.errors import validate
    from ..latency.config import LatencySection
    from ..latency.devices import DEVICES

    keys = DEVICES["table"][1]
    section = {**{k: v for k, v in lat.items() if k in keys}, "mode": "table"}
    return validate(LatencySection, section, "latency").model_dump(exclude_none=True)


def run(args) -> int:
    from ..latency import Protocol, make_runtime
    from ..latency.devices import check_device, default_table_path

    config = _config(args)
    space, over = _space(args, config)
    lat = _checked(_latency_section(args, config.get("latency", {})))
    if args.target not in ("sample", "fit") and ("table" not in lat or args.target == "build-table"):
        check_device(lat)
    protocol = Protocol.from_dict(lat)
    if "command" in lat:
        if args.target not in ("build-table", "fit"):
            raise ValueError("--command measures on another device; use it with build-table or fit --measure N")
        from ..latency.measure import CommandRuntime

        runtime = CommandRuntime(lat["command"], lat.get("device", ""), lat["timeout_s"])
        if args.target == "fit":
            from ._latency_fit import fit

            return fit(args, space, lat, lambda: runtime, protocol)
        return _build(args, space, lat, runtime, protocol, default_table_path)
    runtimes = args.runtime or [lat["runtime"]]
    if args.target == "sample":
        from ._latency_fit import sample

        return sample(args, space)
    if args.target == "fit":
        from ._latency_fit import fit

        return fit(args, space, lat, lambda: make_runtime(runtimes[0], lat["threads"]), protocol)
    if args.target == "check":
        from ._latency_check import check

        return check(args, space, lat, make_runtime(runtimes[0], lat["threads"]), protocol, default_table_path)
    if args.target == "build-table":
        return _build(args, space, lat, make_runtime(runtimes[0], lat["threads"]), protocol, default_table_path)
    return _genome(args, space, over, lat, runtimes, lat["threads"], protocol, default_table_path)


def _build(args, space, lat, runtime, protocol, default_table_path) -> int:
    from ..base.outputs import check_out
    from ..latency import build_table

    path = Path(lat["table"]) if "table" in lat else default_table_path(space, runtime)
    check_out(path, args.overwrite, option="--table" if args.table else "[latency] table")
    m = runtime.device()
    print(f"building {path}\n  device  : {m['cpu']} ({m.get('cores', '?')} cores, id {m['id']})\n"
          f"  runtime : {runtime.name} {runtime.version}, threads={runtime.threads}\n"
          f"  protocol: {protocol.to_dict()}", file=sys.stderr)
    if args.rebuild and args.recalibrate:
        raise ValueError("--rebuild measures everything again; --recalibrate only the calibration: choose one")
    table = build_table(space, runtime, protocol, path, calibration=lat.get("calibration"),
                        seed=lat["seed"], fit=lat["fit"], progress=not args.no_progress,
                        limit=args.limit, rebuild=args.rebuild, recalibrate=args.recalibrate)
    path = table.path
    c = table.calibration
    print(f"{path}: {len(table.entries)} layers, build time {table.header.get('build_s', 0):.1f} s")
    if table.calibrated:
        print(f"calibration: {c.get('scale', 1.0):.3f} x layer sum + offset {c['offset_ms']:.4f} ms + "
              f"{c['per_layer_ms']:.4f} ms/layer "
              f"({c['fit']}, {c['n']} networks, MAPE {c['mape_pct']:.2f}%)")
    else:
        print("not calibrated yet: run build-table again to finish")
    from ..latency.stability import summary

    st = summary(table.header)
    print(f"machine while measuring: load average {st['load_1m_median']} (median), {st['load_1m_max']} (max); "
          f"CPU clock {st['cpu_mhz_min']}-{st['cpu_mhz_max']} MHz ({st['samples']} samples)")
    reasons = table.header.get("unstable") or []
    if reasons:
        print(f"WARNING: latency table {path} is not stable:", file=sys.stderr)
        for r in reasons:
            print(f"  - {r}", file=sys.stderr)
        print("  its predictions will be off for every search that reads it: rebuild it on a quiet machine with "
              "`evo-nas latency build-table --rebuild` (same options), and check it with `evo-nas latency check`",
              file=sys.stderr)
        return 0 if args.allow_unstable else 3
    return 0


def _genome(args, space, over, lat, runtimes, threads, protocol, default_table_path) -> int:
    from ..latency import LatencyTable, MeasuredLatency, machine_info, make_runtime
    from ..latency.devices import check_device
    from ..spaces.arch import to_architecture

    space, obj = load_genome_or_architecture(args.target, space, **over)
    arch = to_architecture(obj)
    m = machine_info()
    print(f"genome  : {arch.to_string()}")
    print(f"network : {arch.resolution}x{arch.resolution}x{arch.in_channels}, {arch.num_classes} classes, "
          f"{len(arch.layers())} layers, batch 1")
    print(f"machine : {m['cpu']} ({m['cores']} cores, {m['system']}, id {m['id']})")
    print(f"protocol: {protocol.to_dict()}")
    for name in runtimes:
        rt = make_runtime(name, threads)
        meas = MeasuredLatency(rt, protocol).measure(arch)
        line = (f"{name:<12} {rt.version} threads={threads}: measured {meas.median_ms:.3f} ms "
                f"(IQR {meas.iqr_ms:.3f} ms, CV {meas.cv * 100:.1f}%, {meas.samples} samples, "
                f"{meas.attempts} attempt{'s' if meas.attempts > 1 else ''}{'' if meas.stable else ', UNSTABLE'})")
        print(line)
        if args.no_table:
            continue
        path = Path(lat["table"]) if "table" in lat else default_table_path(space, rt)
        if not path.is_file():
            print(f"{'':<12} predicted: no table at {path} (evo-nas latency build-table)")
            continue
        table = LatencyTable.load(path)
        check_device(lat, table)
        table.check_network(arch)
        if table.header["runtime"] != name:
            print(f"{'':<12} predicted: table {path} is for runtime {table.header['runtime']!r}")
            continue
        missing = table.missing(arch)
        if missing or not table.calibrated:
            why = f"{len(missing)} layers missing" if missing else "not calibrated"
            print(f"{'':<12} predicted: table {path} incomplete ({why})")
            continue
        pred = table.predict(arch)
        where = ("this machine" if table.measured_here()
                 else "measured elsewhere: " + table.header["device"].get("cpu", "?"))
        print(f"{'':<12} predicted {pred:.3f} ms from {path} ({where}, {table.header['runtime']} "
              f"threads={table.header['threads']}); error {100 * (pred - meas.median_ms) / meas.median_ms:+.1f}%")
    return 0
