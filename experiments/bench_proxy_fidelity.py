"""Benchmark: Kendall tau and top-5 overlap of each accuracy proxy against a 5x longer training.

    python experiments/bench_proxy_fidelity.py [experiments/proxy_fidelity.toml] [--out results.json]
"""
from __future__ import annotations

import argparse
from pathlib import Path

from evo_nas.base.files import atomic_write
from evo_nas.base.jsonio import dumps
from evo_nas.base.outputs import add_overwrite_argument, out_or_exit
from evo_nas.spaces.loader import read_toml
from evo_nas.studies.proxy_fidelity import fidelity_study, format_report, summarize


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("config", nargs="?", type=Path, default=Path(__file__).with_name("proxy_fidelity.toml"))
    ap.add_argument("--out", type=Path, help="write every record and the summary as JSON")
    add_overwrite_argument(ap)
    args = ap.parse_args()
    out_or_exit(ap, args.out, args.overwrite)
    study = fidelity_study(read_toml(args.config, "config"))
    rows = summarize(study)
    print(format_report(study, rows))
    if args.out:
        atomic_write(args.out, dumps({"study": study, "summary": rows}, indent=1, default=str))


if __name__ == "__main__":
    main()
