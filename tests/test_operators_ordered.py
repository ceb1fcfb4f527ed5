"""Operators that respect ordered choices: intermediate crossover and block mutation by neighbouring steps."""
import numpy as np

from evo_nas.algorithms import operators as ops
from evo_nas.algorithms.nsga2 import NSGA2Keys


def _random(space, n, seed):
    rng = np.random.default_rng(seed)
    return (rng.random((n, space.n_genes)) * np.array(space.cardinalities)).astype(np.int64)


def test_intermediate_crossover_stays_between_the_parents_and_keeps_their_sum(ofa_space):
    A, B = _random(ofa_space, 200, 0), _random(ofa_space, 200, 1)
    c1, c2 = ops.crossover_array(ofa_space, A, B, np.random.default_rng(2), "intermediate")
    assert np.array_equal(c1 + c2, A + B)
    assert ((c1 >= np.minimum(A, B)) & (c1 <= np.maximum(A, B))).all()
    # children are not only copies: intermediate values appear where the parents are 2 apart
    gap = np.abs(A - B) == 2
    assert (c1[gap] == (A[gap] + B[gap]) // 2).any()


def test_intermediate_crossover_swaps_unordered_genes(mnasnet):
    A, B = _random(mnasnet, 100, 3), _random(mnasnet, 100, 4)
    c1, c2 = ops.crossover_array(mnasnet, A, B, np.random.default_rng(5), "intermediate")
    assert ((c1 == A) | (c1 == B)).all() and np.array_equal(np.where(c1 == A, B, A)[A != B], c2[A != B])


def test_block_ordinal_mutation_steps_to_a_neighbour(ofa_space):
    X = _random(ofa_space, 300, 6)
    Y = ops.mutate_array(ofa_space, X, np.random.default_rng(7), block_resample_rate=0.0, ordered_steps=True)
    diff = Y - X
    assert (np.abs(diff) <= 1).all() and (np.abs(diff).sum(axis=1) >= 1).all()
    # the same draws as the categorical block mutation: the same genes change, in the same direction
    Z = ops.mutate_array(ofa_space, X, np.random.default_rng(7), block_resample_rate=0.0)
    assert np.array_equal(Z != X, Y != X) and np.array_equal(np.sign(Z - X), np.sign(diff))


def test_nsga2_keys_accept_the_ordered_operators():
    keys = NSGA2Keys(crossover="intermediate", mutation="block_ordinal")
    assert keys.block_resample_rate == 0.1
