"""Benchmark (issue 3): per-layer lookup-table latency (FBNet, arXiv 1812.03443) against
end-to-end measurement on this machine (MnasNet, arXiv 1807.11626), on random genomes.

    python experiments/bench_latency_fidelity.py [--config FILE] [--runtime onnxruntime] [--genomes N]
                                                 [--json FILE] [--png PREFIX]

Prints the share within +-10%, MAPE, Kendall tau, repeatability over independent passes and the
time to build the table versus measuring every genome; run it on a quiet machine.
"""
from __future__ import annotations

import argparse
import sys
import tempfile
from pathlib import Path

from evo_nas.base.errors import validate
from evo_nas.base.jsonio import dumps
from evo_nas.base.outputs import add_overwrite_argument, out_or_exit
from evo_nas.latency import Protocol, make_runtime
from evo_nas.spaces.loader import load_space, read_toml
from evo_nas.studies.latency_fidelity import BenchKeys, format_report, run_fidelity, scatter

HERE = Path(__file__).resolve().parent
# (share within +-10% in %, Kendall tau) each issue set: issue 3 at 28 px, issue 16 at real resolutions
TARGETS = {None: (95.0, 0.9), ("ofa-mbv3", "torch"): (99.0, 0.95), ("ofa-mbv3", "onnxruntime"): (95.0, None)}


def main(argv=None) -> int:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--config", default=str(HERE / "bench_latency_fidelity.toml"))
    p.add_argument("--runtime", action="append", choices=["torch", "onnxruntime"], help="repeatable")
    p.add_argument("--resolution", type=int)
    p.add_argument("--genomes", type=int)
    p.add_argument("--passes", type=int)
    p.add_argument("--table", help="table file to build or resume (default: fresh, temporary)")
    p.add_argument("--json", help="write the full results (per-genome figures included) here")
    p.add_argument("--png", help="write a scatter of predicted against measured latency to PNG_<runtime>.png")
    add_overwrite_argument(p)
    args = p.parse_args(argv)
    out_or_exit(p, args.table, args.overwrite, option="--table")
    out_or_exit(p, args.json, args.overwrite, option="--json")
    for name in (args.runtime or ["torch", "onnxruntime"]) if args.png else ():
        out_or_exit(p, f"{args.png}_{name}.png", args.overwrite, option="--png")

    cfg = read_toml(Path(args.config), "config")
    bench = validate(BenchKeys, dict(cfg.get("bench") or {}), "bench")
    sp, lat = cfg.get("space", {}), cfg.get("latency", {})
    space = load_space(sp.get("name", "mnasnet"), resolution=args.resolution or sp.get("resolution"),
                       in_channels=sp.get("in_channels"), num_classes=sp.get("num_classes"))
    protocol = Protocol.from_dict(lat)
    results = []
    for name in args.runtime or [lat.get("runtime", "torch")]:
        runtime = make_runtime(name, lat.get("threads", 1))
        with tempfile.TemporaryDirectory(prefix="evo-nas-bench-") as tmp:
            table = args.table or bench.table or str(Path(tmp) / f"{name}.json")
            r = run_fidelity(space, runtime, protocol, table, genomes=args.genomes or bench.genomes,
                             passes=args.passes or bench.passes, seed=cfg.get("seed", 1),
                             calibration=lat.get("calibration"))
        r["space"] = {"name": space.name, "resolution": space.resolution, "in_channels": space.in_channels,
                      "num_classes": space.num_classes}
        print(f"\n=== {name}, {space.name} space at {space.resolution}x{space.resolution}x{space.in_channels}, "
              f"{space.num_classes} classes ===")
        print(format_report(r, TARGETS.get((space.name, name), TARGETS[None])), flush=True)
        if args.png:
            print(f"wrote {scatter(r, f'{args.png}_{name}.png')}")
        results.append(r)
    if args.json:
        Path(args.json).write_text(dumps(results, indent=1))
    return 0


if __name__ == "__main__":
    sys.exit(main())
