"""The Python API on the quickstart: a small NSGA-II search of MnasNet's space on Accel-NASBench.

    python experiments/api_example.py [--generations 5] [--pop-size 20] [--run-dir DIR]

Searches the shipped ``quickstart`` config at a small budget (overrides merge into ``[search]``),
prints the Pareto set (ImageNet top-1 against Xilinx ZCU102 latency in ms, from evo-nas's
Accel-NASBench surrogates), writes
``pareto.png`` into the run directory, and reads the run back with ``evo_nas.load_run``.
"""
import argparse

import evo_nas
from evo_nas.base.outputs import out_or_exit

parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
parser.add_argument("--config", default="quickstart", help="a config file, or a shipped config's name")
parser.add_argument("--generations", type=int, default=5)
parser.add_argument("--pop-size", type=int, default=20)
parser.add_argument("--run-dir", help="a new run directory (default runs/quickstart, numbered if taken)")
args = parser.parse_args()
out_or_exit(parser, args.run_dir, option="--run-dir")

result = evo_nas.search(args.config, args.run_dir, search={"generations": args.generations, "pop_size": args.pop_size})
print(result)
print(result.table())
for record in result.pareto[:3]:
    print(f"top-1 {record['top1']:.4f}  latency {record['latency_ms']:.2f} ms  {record['key']}")
print(f"wrote {result.plot()}")
print(f"reloaded: {evo_nas.load_run(result.run_dir)}")
