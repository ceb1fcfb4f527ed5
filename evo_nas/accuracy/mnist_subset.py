"""Building the embedded MNIST subset (``evo_nas/assets/mnist_subset.npz``) from MNIST's original IDX files.

Seeded and class-balanced: ``train_per_class`` training and ``test_per_class`` test images per
digit, drawn without replacement from MNIST's own train and test files (LeCun, Cortes, Burges).
The source indices and the sha256 of each source file are stored in the archive next to the
images. ``experiments/make_mnist_subset.py`` runs it; ``datafiles.load_embedded`` reads the result.
"""
from __future__ import annotations

import hashlib
import io
from pathlib import Path

import numpy as np

from .datafiles import read_idx

FILES = {"train_images": "train-images.idx3-ubyte.gz", "train_labels": "train-labels.idx1-ubyte.gz",
         "test_images": "t10k-images.idx3-ubyte.gz", "test_labels": "t10k-labels.idx1-ubyte.gz"}


def balanced_indices(labels: np.ndarray, per_class: int, rng: np.random.Generator) -> np.ndarray:
    """Sorted indices of ``per_class`` images of each digit 0-9 of ``labels`` (N,), drawn without replacement."""
    picks = [rng.choice(np.flatnonzero(labels == c), per_class, replace=False) for c in range(10)]
    return np.sort(np.concatenate(picks))


def build_subset(source: str | Path, train_per_class: int = 600, test_per_class: int = 100,
                 seed: int = 0) -> tuple[bytes, int, int]:
    """The subset as the bytes of a compressed ``.npz`` (x/y_train, x/y_test, the source indices, file
    names and sha256s, the seed), and its numbers of training and test images. ``source``: a folder
    holding MNIST's four ``.gz`` IDX files; a missing one is a ``FileNotFoundError``."""
    source = Path(source)
    rng = np.random.default_rng(seed)
    arrays = {k: read_idx(source / f) for k, f in FILES.items()}
    sha = {k: hashlib.sha256((source / f).read_bytes()).hexdigest() for k, f in FILES.items()}
    tr = balanced_indices(arrays["train_labels"], train_per_class, rng)
    te = balanced_indices(arrays["test_labels"], test_per_class, rng)
    npz = io.BytesIO()
    np.savez_compressed(
        npz, x_train=arrays["train_images"][tr], y_train=arrays["train_labels"][tr],
        x_test=arrays["test_images"][te], y_test=arrays["test_labels"][te],
        train_source_index=tr.astype(np.int32), test_source_index=te.astype(np.int32),
        source_files=np.array([FILES[k] for k in FILES]), source_sha256=np.array([sha[k] for k in FILES]),
        seed=np.array(seed))
    return npz.getvalue(), len(tr), len(te)
