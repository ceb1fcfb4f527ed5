"""Stability thresholds from data (issue 26): what the rules judging a latency table's build see on a quiet
machine and under a known load; RUN IT ON AN OTHERWISE QUIET MACHINE (it times networks).

    python experiments/stability_threshold.py [--runtime onnxruntime] [--networks 6] [--passes 3] [--reps 3]
        [--layers 24] [--settle-s 30] [--workers N] [--load-kind matmul|spin] [--space ofa-mbv3] [--out DIR] [--quick]

Alternating quiet and loaded repetitions (the loaded ones with one busy process per core, started
and stopped by the script) measure seeded layers and networks as a table build does, under the
protocol of ``bench_latency_fidelity_ofa.toml`` ([latency]; the runtime from ``--runtime``), and
``stability.judge`` judges each. Writes ``DIR/results.txt`` and ``DIR/results.json`` (default DIR:
``runs/stability_threshold``). ``--quick`` (tiny protocol, 2 networks x 2 passes, 1 repetition, no
settling) only exercises the script. The study is ``evo_nas/studies/stability_threshold.py``.
"""
from __future__ import annotations

import argparse
import sys
from pathlib import Path

from evo_nas.base.jsonio import dumps
from evo_nas.base.outputs import add_out_arguments, default_out, out_or_exit
from evo_nas.latency import RUNTIMES, Protocol, make_runtime
from evo_nas.spaces.loader import load_space, read_toml
from evo_nas.studies.busy_load import KINDS
from evo_nas.studies.stability_threshold import report, stability_study

HERE = Path(__file__).resolve().parent


def main(argv=None) -> int:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--runtime", default="onnxruntime", choices=sorted(RUNTIMES))
    p.add_argument("--space", default="ofa-mbv3", help="a space name or .toml file (default ofa-mbv3)")
    p.add_argument("--networks", type=int, default=6, help="calibration networks measured (default 6)")
    p.add_argument("--passes", type=int, default=3, help="interleaved passes over them (default 3, as a build)")
    p.add_argument("--reps", type=int, default=3, help="repetitions per condition (default 3)")
    p.add_argument("--layers", type=int, default=24, help="layers measured per repetition (default 24)")
    p.add_argument("--settle-s", type=float, default=30.0,
                   help="longest wait for the load average to follow the load before a repetition (default 30)")
    p.add_argument("--workers", type=int, default=None, help="busy processes when loaded (default: one per core)")
    p.add_argument("--load-kind", default="matmul", choices=KINDS)
    p.add_argument("--seed", type=int, default=0)
    add_out_arguments(p, default_out("stability_threshold"))
    p.add_argument("--quick", action="store_true", help="tiny protocol, 2 networks x 2 passes, 1 repetition")
    args = p.parse_args(argv)
    for suffix in (".txt", ".json"):
        out_or_exit(p, Path(args.out) / f"results{suffix}", args.overwrite)
    lat = read_toml(HERE / "bench_latency_fidelity_ofa.toml", "config")["latency"]
    protocol = Protocol.from_dict(lat)
    if args.quick:
        protocol = Protocol(warmup=0, repeats=1, rounds=1)
        args.networks, args.passes, args.reps, args.layers, args.settle_s = 2, 2, 1, 2, 0.0
    try:
        space = load_space(args.space)
        result = stability_study(space, make_runtime(args.runtime, lat["threads"]), protocol, networks=args.networks,
                                 passes=args.passes, reps=args.reps, layers=args.layers, seed=args.seed,
                                 workers=args.workers, load_kind=args.load_kind, settle_s=args.settle_s,
                                 log=lambda line: print(line, file=sys.stderr, flush=True))
    except (ValueError, FileNotFoundError) as e:
        p.exit(2, f"{p.prog}: error: {e}\n")
    result["quick"] = args.quick
    text = report(result, args.quick)
    print(text)
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    (out / "results.txt").write_text(text + "\n")
    (out / "results.json").write_text(dumps(result, indent=1) + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
