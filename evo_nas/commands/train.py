"""``evo-nas train``: full training of one genome with a test-accuracy report, to confirm Pareto members."""
from __future__ import annotations

from pathlib import Path

from ..files import atomic_write
from ..jsonio import dumps
from ..spacefiles import genome_argument, known_file, load_known, read_toml


def register(sub):
    p = sub.add_parser("train", help="fully train one genome and report its test accuracy",
                       description="Train GENOME on the training split (the validation split held out, as "
                                   "during search) and report validation and test accuracy as one JSON line "
                                   "plus a readable summary.")
    p.add_argument("genome", metavar="GENOME",
                   help="block string, comma-separated genes, a known architecture name or a file holding one")
    p.add_argument("--config", type=Path, help="experiment TOML: seed, [space], [data] are read from it")
    p.add_argument("--data", help="'mnist-subset' (embedded, default), an MNIST IDX folder, a .npz file or an "
                                  "image folder")
    p.add_argument("--format", choices=("idx", "npz", "folder"), help="format of --data when it is a path")
    p.add_argument("--space", help="space name or file (default: the config's, else mnasnet)")
    p.add_argument("--seed", type=int)
    p.add_argument("--epochs", type=float, help="training epochs (default 5)")
    p.add_argument("--steps", type=int, help="training steps instead of epochs")
    p.add_argument("--batch-size", type=int, default=32)
    p.add_argument("--lr", type=float, default=0.02)
    p.add_argument("--optimizer", default="sgd", help="sgd or adamw")
    p.add_argument("--threads", type=int, default=1, help="torch threads (default 1)")
    p.add_argument("--out", type=Path, help="also write the JSON record to this file")
    p.set_defaults(func=run)


def _config(args) -> dict:
    cfg = read_toml(args.config, "config") if args.config else {}
    cfg = {k: cfg[k] for k in ("seed", "space", "data") if k in cfg}
    if args.seed is not None:
        cfg["seed"] = args.seed
    if args.space:
        cfg["space"] = {"file": args.space} if args.space.endswith(".toml") else {"name": args.space}
    if args.data:
        data = {"name": args.data} if args.data == "mnist-subset" else {"path": args.data}
        if args.format:
            data["format"] = args.format
        cfg["data"] = data
    return cfg


def _genome(text: str, space):
    """A known architecture's genome in ``space``, or a genome string or file (``genome_argument``)."""
    known_path = known_file(text)
    if known_path is not None:
        known = load_known(known_path)
        if known.space.name != space.name:
            raise ValueError(f"{text} is an architecture of space {known.space.name!r}, not {space.name!r}; "
                             f"pass --space {known.space.name}")
        try:
            genes = known.genome().genes
        except ValueError as e:
            raise ValueError(f"{text} is not on the grid of space {known.space.name!r} ({e}); train takes a "
                             f"genome of the space, `evo-nas show {text}` describes the network") from None
        return space.genome(genes)
    return genome_argument(text, space.parse)


def run(args) -> int:
    from ..evaluate import EvalConfig, train_full
    from ..train import TrainSettings

    base = args.config.parent if args.config else None
    cfg = EvalConfig.from_dict(_config(args), base_dir=base)
    settings = TrainSettings.from_dict(
        {"steps": args.steps, "epochs": None if args.steps else (args.epochs or 5.0), "batch_size": args.batch_size,
         "lr": args.lr, "optimizer": args.optimizer}, section="train")
    if args.threads < 1:
        raise ValueError(f"--threads {args.threads} must be >= 1")
    genome = _genome(args.genome, cfg.space())
    rec = train_full(genome, cfg, settings, threads=args.threads)
    line = dumps(rec, sort_keys=True)
    print(line)
    if args.out:
        atomic_write(args.out, line + "\n")
    print(f"{rec['key']}\n  dataset {rec['dataset']}: trained on {rec['train_images']} images, {rec['steps']} steps "
          f"in {rec['train_s']:.1f} s ({args.threads} thread(s))\n  val acc {rec['val_acc']:.4f}   "
          f"test acc {rec['test_acc']:.4f} ({rec['test_images']} images)   "
          f"{rec['params_m']:.3f} M params   {rec['macs_m']:.2f} M MACs")
    return 0
