"""Fault injection (issues 18 and 27): small synthetic searches killed, stopped, torn, corrupted, planted
with code, robbed of records, cut off from their cluster and their disk, then resumed.

    python experiments/fault_injection.py [experiments/fault_injection.toml] [--workdir DIR]

One line per injected fault (what, outcome), then: faults injected, completed evaluations lost,
the runs whose final evaluations or Pareto set differ from an uninterrupted run of the same
configuration, and the Python tracebacks seen. The logic is ``evo_nas/studies/faults.py`` and
``faults_rundir.py``; exit status 1 when any fault had an unexpected outcome, an evaluation was
lost, a run differs or a traceback was seen. The full-disk fault mounts a small tmpfs (root only).
"""
from __future__ import annotations

import argparse
import sys
import tempfile
from pathlib import Path

import numpy as np

from evo_nas.base.outputs import out_or_exit
from evo_nas.spaces.loader import read_toml
from evo_nas.studies.faults import summary
from evo_nas.studies.faults_rundir import RunDirFaults


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("config", nargs="?", type=Path, default=Path(__file__).with_name("fault_injection.toml"))
    parser.add_argument("--workdir", type=Path, help="keep the runs here (default: a temporary folder)")
    args = parser.parse_args()
    out_or_exit(parser, args.workdir, option="--workdir")
    config = read_toml(args.config, "config")
    faults = config.pop("faults", {})
    with tempfile.TemporaryDirectory(prefix="evo-nas-faults-") as tmp:
        injector = RunDirFaults(config, args.workdir or Path(tmp), np.random.default_rng(faults.get("seed", 0)),
                                 kills=faults.get("kills", 3), log=lambda line: print(line, flush=True))
        scenarios = injector.run_all()
        report = summary(scenarios, injector.cli.tracebacks)
        print(report)
    bad = any(not f.expected or f.lost for s in scenarios for f in s.faults) or any(
        s.evaluations_differ or s.front_differs or not s.completed for s in scenarios) or injector.cli.tracebacks
    return 1 if bad else 0


if __name__ == "__main__":
    sys.exit(main())
