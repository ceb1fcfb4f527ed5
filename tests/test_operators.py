import numpy as np
import pytest
from hypothesis import given, settings, strategies as st

from evo_nas.search import operators as ops
from evo_nas.space import Genome, load_space

SPACE = load_space("mnasnet")
seeds = st.integers(0, 2 ** 32 - 1)


def rng(seed):
    return np.random.default_rng(seed)


def is_canonical(g: Genome) -> bool:
    return g.genes == SPACE.canonical_genes(g.genes)


@settings(max_examples=50, deadline=None)
@given(seeds)
def test_sample_is_valid_and_canonical(seed):
    g = ops.sample(SPACE, rng(seed))
    SPACE.validate(g.genes)
    assert is_canonical(g)
    assert SPACE.parse(g.key) == g


@settings(max_examples=50, deadline=None)
@given(seeds, st.sampled_from(ops.CROSSOVERS))
def test_crossover_exchanges_whole_blocks(seed, kind):
    r = rng(seed)
    a, b = SPACE.sample(r).genes, SPACE.sample(r).genes
    c1, c2 = ops.crossover_genes(SPACE, a, b, r, kind)
    for s in SPACE.block_slices:
        assert (tuple(c1[s]), tuple(c2[s])) in {(a[s], b[s]), (b[s], a[s])}
    if kind != "uniform":
        # at most one (one_point) or two (two_point) switches between parents along the blocks
        took = [tuple(c1[s]) == b[s] for s in SPACE.block_slices]
        differs = [a[s] != b[s] for s in SPACE.block_slices]
        seq = [t for t, d in zip(took, differs) if d]
        switches = sum(x != y for x, y in zip(seq, seq[1:]))
        assert switches <= (1 if kind == "one_point" else 2)


@settings(max_examples=50, deadline=None)
@given(seeds, st.sampled_from(ops.CROSSOVERS))
def test_crossover_children_are_valid_canonical_genomes(seed, kind):
    r = rng(seed)
    a, b = ops.sample(SPACE, r), ops.sample(SPACE, r)
    for child in ops.crossover(a, b, r, kind):
        SPACE.validate(child.genes)
        assert is_canonical(child)


@settings(max_examples=60, deadline=None)
@given(seeds)
def test_decision_mutation_changes_exactly_one_gene(seed):
    r = rng(seed)
    g = SPACE.sample(r).genes
    m = ops.mutate_decision_genes(SPACE, g, r)
    changed = [i for i, (x, y) in enumerate(zip(g, m)) if x != y]
    assert len(changed) == 1
    SPACE.validate(tuple(m))


@settings(max_examples=60, deadline=None)
@given(seeds)
def test_block_resample_stays_inside_one_block(seed):
    r = rng(seed)
    g = SPACE.sample(r).genes
    m = ops.resample_block_genes(SPACE, g, r)
    blocks = {n for n, s in enumerate(SPACE.block_slices) if tuple(g[s]) != tuple(m[s])}
    assert len(blocks) <= 1
    SPACE.validate(tuple(m))


@settings(max_examples=40, deadline=None)
@given(seeds, st.floats(0, 1), st.floats(0, 1))
def test_mutation_keeps_validity_and_changes_something(seed, rate, resample):
    r = rng(seed)
    g = ops.sample(SPACE, r)
    raw = ops.mutate_genes(SPACE, g.genes, r, rate, resample)
    assert list(raw) != list(g.genes)
    child = ops.mutate(g, r, rate, resample)
    SPACE.validate(child.genes)
    assert is_canonical(child)


@settings(max_examples=40, deadline=None)
@given(seeds)
def test_mutate_decision_yields_a_different_network(seed):
    r = rng(seed)
    g = ops.sample(SPACE, r)
    assert ops.mutate_decision(g, r).key != g.key


@settings(max_examples=40, deadline=None)
@given(st.lists(st.integers(-3, 6), min_size=SPACE.n_genes, max_size=SPACE.n_genes))
def test_repair_clips_and_is_idempotent(genes):
    fixed = ops.repair_genes(SPACE, genes)
    SPACE.validate(fixed)
    assert ops.repair_genes(SPACE, fixed) == fixed


def test_operators_are_deterministic_given_the_generator():
    a = [ops.mutate(ops.sample(SPACE, rng(7)), rng(8)).key for _ in range(2)]
    assert a[0] == a[1]
    x, y = ops.sample(SPACE, rng(1)), ops.sample(SPACE, rng(2))
    assert [c.key for c in ops.crossover(x, y, rng(3), "two_point")] == \
           [c.key for c in ops.crossover(x, y, rng(3), "two_point")]


def test_unknown_crossover_is_rejected():
    with pytest.raises(ValueError, match="'three_point'"):
        ops.crossover_genes(SPACE, SPACE.sample(rng(0)).genes, SPACE.sample(rng(1)).genes, rng(2), "three_point")
