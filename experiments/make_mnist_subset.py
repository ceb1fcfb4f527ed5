"""Build the embedded MNIST subset (``evo_nas/assets/mnist_subset.npz``) from the original IDX files.

Seeded and class-balanced: 600 training and 100 test images per digit, drawn without
replacement from MNIST's own train and test files (LeCun, Cortes, Burges). The source indices
and the sha256 of each source file are stored in the archive next to the images.

    python experiments/make_mnist_subset.py --source ../shared/data/mnist   # -> runs/make_mnist_subset/
    python experiments/make_mnist_subset.py --source ../shared/data/mnist \
        --out evo_nas/assets/mnist_subset.npz --overwrite                   # replace the shipped copy
The method is ``evo_nas/accuracy/mnist_subset.py``.
"""
from __future__ import annotations

import argparse
from pathlib import Path

from evo_nas.accuracy.mnist_subset import build_subset
from evo_nas.base.files import atomic_write
from evo_nas.base.outputs import add_out_arguments, default_out, out_or_exit


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--source", default="../shared/data/mnist", type=Path)
    ap.add_argument("--train-per-class", type=int, default=600)
    ap.add_argument("--test-per-class", type=int, default=100)
    ap.add_argument("--seed", type=int, default=0)
    add_out_arguments(ap, default_out("make_mnist_subset") / "mnist_subset.npz", "the archive to write")
    args = ap.parse_args()
    out = out_or_exit(ap, args.out, args.overwrite)
    data, n_train, n_test = build_subset(args.source, args.train_per_class, args.test_per_class, args.seed)
    out.parent.mkdir(parents=True, exist_ok=True)
    atomic_write(out, data)
    print(f"wrote {out} ({out.stat().st_size / 1e6:.2f} MB): {n_train} train + {n_test} test images")


if __name__ == "__main__":
    main()
