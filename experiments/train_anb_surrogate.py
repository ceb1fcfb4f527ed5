"""Rebuild evo-nas's Accel-NASBench surrogates from the records and print their fidelity on the test split.

    EVO_NAS_DATA=/work/shared/data python experiments/train_anb_surrogate.py \
        [--out evo_nas/assets/anb] [--expected tests/data/anb_surrogate_expected.json] [--seed 0]

Needs scikit-learn and skl2onnx (``pip install -e ".[anb-refit]"``) and Accel-NASBench's records,
found through ``evo_nas.problems.benchdata``. See ``evo_nas/studies/anb_surrogate.py`` for the method.
"""
from __future__ import annotations

import argparse
from pathlib import Path

from evo_nas.studies.anb_surrogate import build, table

ROOT = Path(__file__).resolve().parent.parent


def main(argv=None) -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--out", type=Path, default=ROOT / "evo_nas" / "assets" / "anb")
    ap.add_argument("--expected", type=Path, default=ROOT / "tests" / "data" / "anb_surrogate_expected.json")
    ap.add_argument("--data-dir", default=None, help="a folder holding anb/ (default: $EVO_NAS_DATA)")
    ap.add_argument("--seed", type=int, default=0)
    args = ap.parse_args(argv)
    rows = build(args.out, args.expected, args.data_dir, args.seed)
    print("Fidelity on Accel-NASBench's published test split (models fitted on train + val, "
          "hyper-parameters chosen on val):")
    print(table(rows))


if __name__ == "__main__":
    main()
