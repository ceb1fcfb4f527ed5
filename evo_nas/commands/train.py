"""``evo-nas train``: full training of one genome, or of one member of a run's Pareto set, with a
test-accuracy report; ``--out DIR`` keeps the weights (safetensors) for ``evo-nas export``."""
from __future__ import annotations

import sys
from pathlib import Path

from ..base.files import atomic_write
from ..base.jsonio import dumps
from ..spaces.loader import genome_argument, known_file, load_known, load_space, read_toml, space_names
from ._choice import add_choice_arguments, choice_from_args, wants_choice


def register(sub):
    p = sub.add_parser("train", help="fully train one genome (or a run's chosen member) and report its test accuracy",
                       description="Train GENOME, or the member of RUN's Pareto set that --key, --knee or --best "
                                   "chooses, on the training split (the validation split held out, as during "
                                   "search) and report validation and test accuracy as one JSON line plus a readable "
                                   "summary. The network is built for the data (its resolution, channels and "
                                   "classes). With RUN, the weights are kept in RUN/trained/<hash> (or --out DIR), "
                                   "where evo-nas export finds them.")
    p.add_argument("genome", metavar="GENOME|RUN",
                   help="block string, comma-separated genes, a known architecture name or a file holding one; "
                        "or a run directory (then choose a member)")
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
    p.add_argument("--out", type=Path, help="a folder: keep the weights there (model.safetensors + trained.json; "
                                            "default with RUN: RUN/trained/<hash>); a file ending in .json: write "
                                            "only the JSON record there")
    add_choice_arguments(p)
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


def _detect_space(text: str):
    """The first shipped space (MnasNet's first) in which ``text`` parses as a genome, else None."""
    for name in ["mnasnet", *(n for n in space_names() if n != "mnasnet")]:
        try:
            space = load_space(name)
            genome_argument(text, space.parse)
        except (ValueError, OSError):
            continue
        return name
    return None


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


def _settings(args):
    from ..accuracy.train import TrainSettings

    if args.threads < 1:
        raise ValueError(f"--threads {args.threads} must be >= 1")
    return TrainSettings.from_dict(
        {"steps": args.steps, "epochs": None if args.steps else (args.epochs or 5.0), "batch_size": args.batch_size,
         "lr": args.lr, "optimizer": args.optimizer}, section="train")


def _space_for(args, cfg: dict) -> None:
    """Fill ``cfg["space"]`` when neither --space nor the config names one: the config's problem's space
    (``[problem] name = "anb"`` is Accel-NASBench's), else the shipped space the genome parses in."""
    if "space" in cfg:
        return
    problem = (read_toml(args.config, "config").get("problem") or {}) if args.config else {}
    if problem.get("name") not in (None, "train", "synthetic"):
        from ..problems import make_problem

        cfg["space"] = {"name": make_problem({"problem": problem}).space.name}
        return
    if known_file(args.genome) is None:
        name = _detect_space(args.genome)
        if name not in (None, "mnasnet"):
            print(f"space: {name} (the first shipped space GENOME parses in; --space sets another)", file=sys.stderr)
            cfg["space"] = {"name": name}


def _run_mode(args) -> int:
    from ..deploy.trained import default_dir, save_trained, train_member
    from ..engine.run import RunDir

    run = RunDir(args.genome)
    if args.config or args.space:
        raise ValueError("with a run directory, the space and config are the run's: drop --config/--space")
    if not wants_choice(args):
        raise ValueError(f"{run.path} is a run: choose a member with --key KEY, --knee or --best OBJECTIVE")
    if args.out is not None and args.out.suffix == ".json":
        raise ValueError(f"--out {args.out}: with a run, --out is the folder that keeps the weights")
    choice = choice_from_args(run, args)
    config = run.config
    data = config.get("data")
    if args.data:
        data = {"name": args.data} if args.data == "mnist-subset" else {"path": args.data}
        if args.format:
            data["format"] = args.format
    seed = args.seed if args.seed is not None else config.get("seed", 0)
    base = (config.get("search") or {}).get("base_dir")
    trained = train_member(run.space(), choice.record["key"], data=data, seed=seed, settings=_settings(args),
                           threads=args.threads, base_dir=base)
    out = args.out if args.out is not None else default_dir(run.path, choice.record["key"])
    path = save_trained(trained, out, {"run": str(run.path), "chosen": choice.to_dict(),
                                       "predicted": {k: choice.record.get(k) for k in run.objectives().names}})
    r = trained.record
    print(f"{r['genome']}\n  chosen: {choice.how} ({choice.detail})")
    for note in r["notes"]:
        print(f"  note: {note}")
    print(f"  dataset {r['data']['name']}: {r['training']['steps']} steps in {r['training']['train_s']:.1f} s "
          f"({args.threads} thread(s))\n  val acc {r['val_acc']:.4f}   test acc {r['test_acc']:.4f} "
          f"({r['data']['test_images']} images)   {r['network']['params_m']:.3f} M params at "
          f"{r['network']['resolution']} px\n  weights: {path.parent} (evo-nas export {run.path} "
          f"--key {r['genome']} uses them)")
    return 0


def run(args) -> int:
    from ..accuracy.evaluate import EvalConfig, train_full
    from ..base.outputs import check_out
    from ..spaces.loader import existing_file

    if args.out is not None:
        check_out(args.out, flag=None)
    if existing_file(Path(args.genome) / "config.json") is not None:
        return _run_mode(args)
    if wants_choice(args):
        where = Path(args.genome)
        if where.is_dir():
            raise ValueError(f"{where} is not a run directory (no config.json); --key, --knee and --best choose "
                             f"a member of a run")
        raise FileNotFoundError(f"run directory not found: {where} (--key, --knee and --best choose a member of "
                                f"a run; give a genome without them)")
    base = args.config.parent if args.config else None
    raw = _config(args)
    _space_for(args, raw)
    cfg = EvalConfig.from_dict(raw, base_dir=base)
    settings = _settings(args)
    genome = _genome(args.genome, cfg.space())
    keep = args.out is not None and args.out.suffix != ".json"
    if keep:
        from ..deploy.trained import save_trained, train_member

        trained = train_member(cfg.space(), genome.key, data=raw.get("data"), seed=cfg.seed, settings=settings,
                               threads=args.threads, base_dir=base)
        save_trained(trained, args.out)
        r = trained.record
        rec = {"key": r["genome"], "val_acc": r["val_acc"], "test_acc": r["test_acc"], **r["network"],
               "train_s": r["training"]["train_s"], "steps": r["training"]["steps"], "dataset": r["data"]["name"],
               "train_images": r["data"]["train_images"], "test_images": r["data"]["test_images"], "seed": cfg.seed,
               "weights": str(args.out)}
    else:
        rec = train_full(genome, cfg, settings, threads=args.threads)
    line = dumps(rec, sort_keys=True)
    print(line)
    if args.out and not keep:
        atomic_write(args.out, line + "\n")
    print(f"{rec['key']}\n  dataset {rec['dataset']}: trained on {rec['train_images']} images, {rec['steps']} steps "
          f"in {rec['train_s']:.1f} s ({args.threads} thread(s))\n  val acc {rec['val_acc']:.4f}   "
          f"test acc {rec['test_acc']:.4f} ({rec['test_images']} images)   "
          f"{rec['params_m']:.3f} M params   {rec['macs_m']:.2f} M MACs")
    return 0
