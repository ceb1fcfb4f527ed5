"""``evo-nas export``: one chosen member of a run as ONNX with its trained weights (or, said loudly, a random
initialisation), optional INT8 versions and a JSON card; or, with ``--pareto``, every Pareto member (untrained)."""
from __future__ import annotations

from ._choice import add_choice_arguments, choice_from_args, wants_choice


def register(sub):
    p = sub.add_parser("export", help="write one chosen network (or the Pareto set) as ONNX with a JSON card",
                       description="Export the member of RUN's Pareto set that --key, --knee or --best chooses as "
                                   "ONE ONNX file, with the weights evo-nas train kept for it (RUN/trained/<hash>, "
                                   "or --weights DIR; without them a seeded random initialisation, which the card "
                                   "and a warning say), checked in ONNX Runtime against PyTorch, plus a card "
                                   "(JSON): what was predicted, what measured, which weights. --int8 adds "
                                   "quantized versions. --pareto exports every Pareto member instead (untrained).")
    p.add_argument("run_dir", metavar="RUN", help="run directory written by evo-nas search")
    add_choice_arguments(p)
    p.add_argument("--pareto", action="store_true", help="export every Pareto member (seeded weights, untrained)")
    p.add_argument("--weights", help="folder written by evo-nas train (default: RUN/trained/<hash> when present)")
    p.add_argument("--int8", action="append", choices=("dynamic", "static"), default=[],
                   help="also write an INT8 version (ONNX Runtime quantization; static calibrates on training "
                        "images of the weights' dataset); repeatable")
    p.add_argument("--out", help="output directory (default RUN/export); must be empty unless --overwrite")
    p.add_argument("--overwrite", action="store_true",
                   help="replace this network's files (or, with --pareto, the paretoNN_* files) in --out; other "
                        "files stay")
    p.set_defaults(func=run)


def run(args) -> int:
    from ..base.outputs import check_out
    from ..deploy.pareto_export import export_pareto
    from ..engine.run import RunDir

    if args.out:
        check_out(args.out, args.overwrite)
    if args.pareto == wants_choice(args):
        raise ValueError("export needs exactly one of --key KEY, --knee, --best OBJECTIVE (one network) or --pareto")
    if args.pareto:
        if args.int8 or args.weights:
            raise ValueError("--int8 and --weights apply to one chosen network, not to --pareto")
        cards = export_pareto(args.run_dir, args.out, overwrite=args.overwrite)
        for c in cards:
            objectives = ", ".join(f"{k} {v:.4g}" for k, v in c["objectives"].items())
            print(f"{c['onnx']['file']}: {objectives}; ONNX Runtime max abs diff {c['onnx']['max_abs_diff']:.2g}")
        print(f"{len(cards)} models written to {args.out or args.run_dir + '/export'} (weights: {cards[0]['weights']})")
        return 0
    from ..deploy.export import export_member

    run_dir = RunDir(args.run_dir)
    choice = choice_from_args(run_dir, args)
    card = export_member(run_dir, choice, args.out, weights=args.weights, int8=tuple(dict.fromkeys(args.int8)),
                         overwrite=args.overwrite)
    out = args.out or f"{args.run_dir}/export"
    w = card["weights"]
    print(f"{card['genome']}\n  chosen: {choice.how} ({choice.detail})")
    print("  predicted: " + ", ".join(f"{k} {v:.4g}" for k, v in card["predicted"].items()))
    print("  weights: " + (f"trained {w['steps']} steps on {w['data']}, test acc {w['test_acc']:.4f}"
                            if w["kind"] == "trained" else "RANDOM INITIALISATION (not trained)"))
    for f in card["files"]:
        acc = f" test acc {f['test_acc']:.4f}" if f.get("test_acc") is not None else ""
        print(f"  {out}/{f['file']} ({f['precision']}, {f['size_bytes'] / 1e6:.2f} MB){acc}")
    print(f"  card: {out}/{card['files'][0]['file'].removesuffix('.onnx')}.json; re-measure with evo-nas verify {out}")
    return 0
