"""Engine benchmark (issue 5): evaluations/s at n_jobs = 1 and 2, parallel efficiency, engine
overhead share, cache hits on a SIGKILLed-and-resumed run and on a warm re-run.

    python experiments/bench_engine.py [experiments/bench_engine.toml] [--workdir DIR]

Targets: parallel efficiency >= 0.85 on 2 cores, engine overhead < 2% of wall time. Run it on
an otherwise idle machine: other load on the same cores lowers the parallel efficiency.
"""
import argparse
import tempfile
from pathlib import Path

from evo_nas.base.jsonio import dumps
from evo_nas.base.outputs import add_overwrite_argument, out_or_exit
from evo_nas.spaces.loader import read_toml
from evo_nas.studies.engine_bench import benchmark_engine, format_report

parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
parser.add_argument("config", nargs="?", default=str(Path(__file__).with_name("bench_engine.toml")))
parser.add_argument("--workdir", help="where the benchmark's runs go (default: a temporary directory)")
parser.add_argument("--json", help="also write the raw figures here")
add_overwrite_argument(parser)
args = parser.parse_args()
out_or_exit(parser, args.workdir, args.overwrite, option="--workdir")
out_or_exit(parser, args.json, args.overwrite, option="--json")

with tempfile.TemporaryDirectory(prefix="evo-nas-bench-") as tmp:
    config = read_toml(Path(args.config), "config")
    config.setdefault("search", {})["base_dir"] = str(Path(args.config).resolve().parent)
    report = benchmark_engine(config, Path(args.workdir) if args.workdir else Path(tmp))
    print(format_report(report))
    if args.json:
        Path(args.json).write_text(dumps(report, indent=2, default=str))
