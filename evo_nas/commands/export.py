"""``evo-nas export``: a run's Pareto members as ONNX (checked in ONNX Runtime) with a JSON card each,
the deployable form of the models that MnasNet, FBNet and MobileNetV3 searched for phones."""
from __future__ import annotations


def register(sub):
    p = sub.add_parser("export", help="write Pareto members as ONNX with a JSON card",
                       description="Export every Pareto member of RUN as ONNX, checked to load and run in ONNX "
                                   "Runtime with the same outputs as PyTorch, plus a JSON card (genome string, "
                                   "objectives, how latency was obtained, seed).")
    p.add_argument("run_dir", metavar="RUN", help="run directory written by evo-nas search")
    p.add_argument("--pareto", action="store_true", required=True, help="export the run's Pareto set")
    p.add_argument("--out", help="output directory (default RUN/export); must be empty unless --overwrite")
    p.add_argument("--overwrite", action="store_true",
                   help="replace the models exported into --out before (paretoNN_*.onnx/.json; other files stay)")
    p.set_defaults(func=run)


def run(args) -> int:
    from ..export import export_pareto

    cards = export_pareto(args.run_dir, args.out, overwrite=args.overwrite)
    for c in cards:
        objectives = ", ".join(f"{k} {v:.4g}" for k, v in c["objectives"].items())
        print(f"{c['onnx']['file']}: {objectives}; ONNX Runtime max abs diff {c['onnx']['max_abs_diff']:.2g}")
    print(f"{len(cards)} models written to {args.out or args.run_dir + '/export'} (weights: {cards[0]['weights']})")
    return 0
