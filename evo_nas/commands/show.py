"""``evo-nas show``: an architecture as a per-block table, like figure 7 of the MnasNet paper."""
from __future__ import annotations

import re
from pathlib import Path

from ..analysis.report import architecture_table
from ..spaces.loader import load_genome_or_architecture, load_space, read_toml

OVERRIDES = ("resolution", "in_channels", "num_classes")


def register(sub):
    p = sub.add_parser("show", help="print an architecture as a per-block table",
                       description="Print a genome string, gene list or known architecture (name or .toml file) "
                                   "as a per-block table with parameters and MACs. The network's input and "
                                   "classes come from --config (an experiment or a run directory: its data), "
                                   "else from the space, and --resolution, --in-channels, --num-classes override.")
    p.add_argument("genome", metavar="GENOME_OR_FILE",
                   help="block string ('ir_r2_k3_s2_e6_i16_o24-...'), comma-separated genes, "
                        "a known architecture name (mobilenetv2, mnasnet_a1) or a .toml file")
    p.add_argument("--space", help="space name or file (default: the config's, else ofa-mbv3 for a string "
                                   "'r<resolution>-...', anb for 'e<expansion>k<kernel>l<layers>...', nb201 for "
                                   "a cell string '|op~0|+...', else mnasnet)")
    p.add_argument("--config", metavar="CONFIG_OR_RUN",
                   help="experiment TOML or run directory: the network as that search built it")
    p.add_argument("--resolution", type=int, help="input resolution override")
    p.add_argument("--in-channels", type=int, help="input channels override (1 for grayscale data)")
    p.add_argument("--num-classes", type=int, help="class count override")
    p.set_defaults(func=run)


def config_space(where: str):
    """The space a search of ``where`` (an experiment TOML or a run directory) builds networks in."""
    path = Path(where)
    if path.is_dir():
        from ..engine.run import RunDir

        return RunDir(path).space()
    from ..problems import make_problem

    config = read_toml(path, "config")
    search = config.get("search") or {}
    if not isinstance(search, dict):
        raise ValueError(f"{path}: [search] must be a table")
    config["search"] = {**search, "base_dir": search.get("base_dir", str(path.resolve().parent))}
    return make_problem(config).space


def run(args) -> int:
    cli = {k: getattr(args, k) for k in OVERRIDES if getattr(args, k) is not None}
    for k, v in cli.items():
        if v < 1:
            raise ValueError(f"--{k.replace('_', '-')} {v} must be >= 1")
    if args.config:
        if args.space:
            raise ValueError("--space and --config are exclusive (the config names its space)")
        space = config_space(args.config)
        space = space.with_overrides(**cli) if cli else space
        if getattr(space, "type_name", "") == "nb201":
            print(space.cell_table(space.parse(args.genome).genes))
            return 0
        a = space.decode((0,) * space.n_genes)
        overrides = {k: getattr(a, k) for k in OVERRIDES}
    else:
        text = args.genome.strip()
        name = args.space or ("ofa-mbv3" if re.match(r"r\d+-", text) else
                              "anb" if re.match(r"e[\d.]+k\d+l\d+", text) else
                              "nb201" if text.startswith("|") else "mnasnet")
        space = load_space(name, **cli)
        if getattr(space, "type_name", "") == "nb201":
            print(space.cell_table(space.parse(text).genes))
            return 0
        overrides = cli
    space, obj = load_genome_or_architecture(args.genome, space, **overrides)
    print(architecture_table(obj))
    return 0
