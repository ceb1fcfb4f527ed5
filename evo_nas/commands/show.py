"""``evo-nas show``: an architecture as a per-block table, like figure 7 of the MnasNet paper."""
from __future__ import annotations

import re

from ..space import load_genome_or_architecture, load_space
from ..report import architecture_table


def register(sub):
    p = sub.add_parser("show", help="print an architecture as a per-block table",
                       description="Print a genome string, gene list or known architecture (name or .toml file) "
                                   "as a per-block table with parameters and MACs.")
    p.add_argument("genome", metavar="GENOME_OR_FILE",
                   help="block string ('ir_r2_k3_s2_e6_i16_o24-...'), comma-separated genes, "
                        "a known architecture name (mobilenetv2, mnasnet_a1) or a .toml file")
    p.add_argument("--space", help="space name or file (default: ofa-mbv3 for a string 'r<resolution>-...', "
                                   "else mnasnet)")
    p.add_argument("--resolution", type=int, help="input resolution override")
    p.add_argument("--num-classes", type=int, help="class count override")
    p.set_defaults(func=run)


def run(args) -> int:
    overrides = dict(resolution=args.resolution, num_classes=args.num_classes)
    name = args.space or ("ofa-mbv3" if re.match(r"r\d+-", args.genome.strip()) else "mnasnet")
    space = load_space(name, **overrides)
    space, obj = load_genome_or_architecture(args.genome, space, **overrides)
    print(architecture_table(obj))
    return 0
