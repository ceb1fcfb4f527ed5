"""Rebuild evo-nas's Accel-NASBench surrogates from the records and print their fidelity on the test split.

    EVO_NAS_DATA=/work/shared/data python experiments/train_anb_surrogate.py [--seed 0]
        # -> runs/train_anb_surrogate/anb/ and runs/train_anb_surrogate/anb_surrogate_expected.json
    EVO_NAS_DATA=/work/shared/data python experiments/train_anb_surrogate.py --out evo_nas/assets/anb \
        --expected tests/data/anb_surrogate_expected.json --overwrite     # replace the shipped surrogates

Needs scikit-learn and skl2onnx (``pip install -e ".[anb-refit]"``) and Accel-NASBench's records,
found through ``evo_nas.problems.benchdata``. See ``evo_nas/studies/anb_surrogate.py`` for the method.
"""
from __future__ import annotations

import argparse

from evo_nas.base.outputs import add_out_arguments, default_out, out_or_exit
from evo_nas.studies.anb_surrogate import build, table


def main(argv=None) -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    add_out_arguments(ap, default_out("train_anb_surrogate") / "anb", "folder of the ONNX surrogates")
    ap.add_argument("--expected", default=str(default_out("train_anb_surrogate") / "anb_surrogate_expected.json"),
                    help="the expected predictions' JSON file (tests/data/anb_surrogate_expected.json is the "
                         "committed one)")
    ap.add_argument("--data-dir", default=None, help="a folder holding anb/ (default: $EVO_NAS_DATA)")
    ap.add_argument("--seed", type=int, default=0)
    args = ap.parse_args(argv)
    out = out_or_exit(ap, args.out, args.overwrite)
    expected = out_or_exit(ap, args.expected, args.overwrite, option="--expected")
    expected.parent.mkdir(parents=True, exist_ok=True)
    rows = build(out, expected, args.data_dir, args.seed)
    print("Fidelity on Accel-NASBench's published test split (models fitted on train + val, "
          "hyper-parameters chosen on val):")
    print(table(rows))


if __name__ == "__main__":
    main()
