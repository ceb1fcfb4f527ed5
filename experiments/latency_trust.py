"""Latency you can trust, on this machine (issue 26): build a table, judge its build, check it, and fit
a few-shot model on the same machine; RUN IT ON A QUIET MACHINE (it times networks).

    python experiments/latency_trust.py [--runtime onnxruntime|torch] [--out DIR] [--quick]

1. ``build_table`` for ``ofa-mbv3`` (the protocol of ``bench_latency_fidelity_ofa.toml``) with the
   machine's state recorded: the stability verdict (``evo_nas.latency.stability``);
2. ``check_table`` on 20 seeded networks (3 passes): predicted against measured, the drift;
3. a few-shot model (``evo_nas.latency.fewshot``): the Note10 table fitted on 20 other networks
   measured here, scored on the check's 20 networks, beside the table.
Writes ``DIR/latency_trust_<runtime>.txt`` and ``.json`` (default DIR: ``runs/latency_trust``).
``--quick`` (tiny protocol and samples) only exercises the script.
The study is ``evo_nas/studies/latency_trust.py``.
"""
from __future__ import annotations

import argparse
import sys
from pathlib import Path

from evo_nas.base.jsonio import dumps
from evo_nas.base.outputs import add_out_arguments, default_out, out_or_exit
from evo_nas.spaces.loader import read_toml
from evo_nas.studies.latency_trust import trust_study

HERE = Path(__file__).resolve().parent


def main(argv=None) -> int:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--runtime", default="onnxruntime", choices=["onnxruntime", "torch"])
    add_out_arguments(p, default_out("latency_trust"))
    p.add_argument("--quick", action="store_true")
    args = p.parse_args(argv)
    for suffix in (".txt", ".json"):
        out_or_exit(p, Path(args.out) / f"latency_trust_{args.runtime}{suffix}", args.overwrite)
    lat = read_toml(HERE / "bench_latency_fidelity_ofa.toml", "config")["latency"]
    result, report = trust_study(args.runtime, lat, args.quick)
    print(report)
    out = Path(args.out) / f"latency_trust_{args.runtime}"
    out.parent.mkdir(parents=True, exist_ok=True)
    out.with_suffix(".txt").write_text(report + "\n")
    out.with_suffix(".json").write_text(dumps(result, indent=1) + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
