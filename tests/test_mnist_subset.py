"""The embedded MNIST subset is reproducible: rebuilt from MNIST's IDX files (data mirror), it is the
shipped ``evo_nas/assets/mnist_subset.npz`` byte for byte."""
import numpy as np

from evo_nas.accuracy.datafiles import EMBEDDED
from evo_nas.accuracy.mnist_subset import FILES, balanced_indices, build_subset

from conftest import needs_data


def test_balanced_indices_draw_per_class_without_replacement():
    labels = np.repeat(np.arange(10), 7)
    idx = balanced_indices(labels, 3, np.random.default_rng(0))
    assert len(idx) == 30 and len(set(idx.tolist())) == 30 and (np.diff(idx) > 0).all()
    assert np.bincount(labels[idx], minlength=10).tolist() == [3] * 10
    assert not np.array_equal(idx, balanced_indices(labels, 3, np.random.default_rng(1)))


@needs_data("mnist")
def test_rebuilding_the_subset_gives_the_shipped_file():
    from evo_nas.problems import benchdata

    folder = benchdata.data_file("mnist", FILES["train_images"]).parent
    data, n_train, n_test = build_subset(folder)
    assert (n_train, n_test) == (6000, 1000)
    assert data == EMBEDDED["mnist-subset"].read_bytes()
