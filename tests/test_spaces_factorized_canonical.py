"""FactorizedSpace.canonical_array (block by block, memoized) gives exactly encode(decode(row))."""
import numpy as np
import pytest

from evo_nas.spaces.loader import load_space


@pytest.mark.parametrize("seed", [0, 1])
def test_canonical_array_matches_decode_encode_row_by_row(seed):
    sp = load_space("mnasnet")
    rng = np.random.default_rng(seed)
    X = (rng.random((400, sp.n_genes)) * np.array(sp.cardinalities)).astype(np.int64)
    expected = np.array([sp.encode(sp.decode(x)) for x in X])
    assert (expected != X).any()  # the test covers rows that do change
    assert np.array_equal(sp.canonical_array(X), expected)
    assert np.array_equal(sp.canonical_array(X), expected)  # again, from the memo
    narrow = sp.with_overrides(width_multiplier=0.35)  # other channel counts: its own memo
    assert np.array_equal(narrow.canonical_array(X), np.array([narrow.encode(narrow.decode(x)) for x in X]))


def test_canonical_array_names_a_gene_out_of_range():
    sp = load_space("mnasnet")
    X = np.zeros((3, sp.n_genes), dtype=np.int64)
    X[2, 5] = sp.cardinalities[5]
    with pytest.raises(ValueError, match="block 1 layers = 3 is out of range"):
        sp.canonical_array(X)
