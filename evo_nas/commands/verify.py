"""``evo-nas verify``: re-measure exported networks here against their predicted latency and the run's limits."""
from __future__ import annotations


def register(sub):
    p = sub.add_parser("verify", help="re-measure exported ONNX networks; check predicted latency and limits",
                       description="Time every ONNX file that evo-nas export wrote in EXPORT_DIR (FP32 and INT8) in "
                                   "ONNX Runtime under the latency protocol (warm-up, fixed threads, rounds of timed "
                                   "calls; median with IQR), print predicted against measured latency where they "
                                   "are of the same network, runtime and machine, flag INT8 files that are not "
                                   "faster, and check the run's limits ([constraints], latency_target_ms) and any "
                                   "given here. Writes EXPORT_DIR/verify.json. Exit status 1 when a limit is broken.")
    p.add_argument("export_dir", metavar="EXPORT_DIR", help="folder written by evo-nas export RUN --knee/--key/--best")
    p.add_argument("--threads", type=int, default=1, help="ONNX Runtime intra-op threads (default 1)")
    p.add_argument("--max", action="append", metavar="NAME=VALUE", help="an extra limit NAME <= VALUE (repeatable)")
    p.add_argument("--min", action="append", metavar="NAME=VALUE", help="an extra limit NAME >= VALUE (repeatable)")
    p.add_argument("--warmup", type=int, help="protocol override: untimed calls")
    p.add_argument("--repeats", type=int, help="protocol override: timed calls per round")
    p.add_argument("--rounds", type=int, help="protocol override: rounds")
    p.set_defaults(func=run)


def run(args) -> int:
    from ..deploy.choose import parse_limits
    from ..deploy.verify import report_text, verify
    from ..latency.protocol import Protocol

    if args.threads < 1:
        raise ValueError(f"--threads {args.threads} must be >= 1")
    over = {k: getattr(args, k) for k in ("warmup", "repeats", "rounds") if getattr(args, k) is not None}
    protocol = Protocol.from_dict(over)
    extra = [list(x) for x in parse_limits(args.max, "max") + parse_limits(args.min, "min")]
    report = verify(args.export_dir, threads=args.threads, protocol=protocol, extra_limits=extra)
    print(report_text(report))
    return 1 if report["broken"] else 0
