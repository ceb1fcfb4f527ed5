"""Build the embedded MNIST subset (``evo_nas/assets/mnist_subset.npz``) from the original IDX files.

Seeded and class-balanced: 600 training and 100 test images per digit, drawn without
replacement from MNIST's own train and test files (LeCun, Cortes, Burges). The source indices
and the sha256 of each source file are stored in the archive next to the images.

    python experiments/make_mnist_subset.py --source ../shared/data/mnist   # -> runs/make_mnist_subset/
    python experiments/make_mnist_subset.py --source ../shared/data/mnist \
        --out evo_nas/assets/mnist_subset.npz --overwrite                   # replace the shipped copy
"""
from __future__ import annotations

import argparse
import hashlib
import io
from pathlib import Path

import numpy as np

from evo_nas.accuracy.datafiles import read_idx
from evo_nas.base.files import atomic_write
from evo_nas.base.outputs import add_out_arguments, default_out, out_or_exit

FILES = {"train_images": "train-images.idx3-ubyte.gz", "train_labels": "train-labels.idx1-ubyte.gz",
         "test_images": "t10k-images.idx3-ubyte.gz", "test_labels": "t10k-labels.idx1-ubyte.gz"}


def balanced_indices(labels: np.ndarray, per_class: int, rng: np.random.Generator) -> np.ndarray:
    picks = [rng.choice(np.flatnonzero(labels == c), per_class, replace=False) for c in range(10)]
    return np.sort(np.concatenate(picks))


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--source", default="../shared/data/mnist", type=Path)
    ap.add_argument("--train-per-class", type=int, default=600)
    ap.add_argument("--test-per-class", type=int, default=100)
    ap.add_argument("--seed", type=int, default=0)
    add_out_arguments(ap, default_out("make_mnist_subset") / "mnist_subset.npz", "the archive to write")
    args = ap.parse_args()
    args.out = out_or_exit(ap, args.out, args.overwrite)
    rng = np.random.default_rng(args.seed)
    arrays = {k: read_idx(args.source / f) for k, f in FILES.items()}
    sha = {k: hashlib.sha256((args.source / f).read_bytes()).hexdigest() for k, f in FILES.items()}
    tr = balanced_indices(arrays["train_labels"], args.train_per_class, rng)
    te = balanced_indices(arrays["test_labels"], args.test_per_class, rng)
    args.out.parent.mkdir(parents=True, exist_ok=True)
    npz = io.BytesIO()
    np.savez_compressed(
        npz, x_train=arrays["train_images"][tr], y_train=arrays["train_labels"][tr],
        x_test=arrays["test_images"][te], y_test=arrays["test_labels"][te],
        train_source_index=tr.astype(np.int32), test_source_index=te.astype(np.int32),
        source_files=np.array([FILES[k] for k in FILES]), source_sha256=np.array([sha[k] for k in FILES]),
        seed=np.array(args.seed))
    atomic_write(args.out, npz.getvalue())
    print(f"wrote {args.out} ({args.out.stat().st_size / 1e6:.2f} MB): {len(tr)} train + {len(te)} test images")


if __name__ == "__main__":
    main()
