import re

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from evo_nas.algorithms import operators as ops
from evo_nas.spaces.loader import load_space
from evo_nas.spaces.space import Genome

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
@given(seeds, st.sampled_from(ops.BLOCK_CROSSOVERS))
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


# -- the vectorized operators the NSGA-II adapter uses ---------------------------------------------

SPACES = {name: load_space(name) for name in ("mnasnet", "fbnet", "mobilenetv3", "ofa-mbv3")}


def distinct_parents(space, n, r):
    """``n`` parent pairs whose blocks all differ (every gene of B is another choice than A's)."""
    card = np.array(space.cardinalities)
    A = (r.random((n, space.n_genes)) * card).astype(np.int64)
    B = (A + 1 + (r.random((n, space.n_genes)) * (card - 1)).astype(np.int64)) % card
    assert (A != B).all()
    return A, B


def block_sources(space, child, A, B):
    """(N, n_blocks) True where the child's block is B's, False where it is A's; fails if neither."""
    out = np.zeros((len(child), space.n_blocks), dtype=bool)
    for b, s in enumerate(space.block_slices):
        from_a = (child[:, s] == A[:, s]).all(axis=1)
        from_b = (child[:, s] == B[:, s]).all(axis=1)
        assert (from_a ^ from_b).all(), f"block {b} is neither parent's"
        out[:, b] = from_b
    return out


@pytest.mark.parametrize("name", SPACES)
@pytest.mark.parametrize("kind", ops.BLOCK_CROSSOVERS)
def test_crossover_array_exchanges_whole_blocks(name, kind):
    space, r = SPACES[name], rng(11)
    A, B = distinct_parents(space, 400, r)
    C1, C2 = ops.crossover_array(space, A, B, r, kind)
    assert C1.shape == C2.shape == A.shape
    took = block_sources(space, C1, A, B)
    assert (block_sources(space, C2, A, B) == ~took).all()  # complementary children
    switches = (took[:, 1:] != took[:, :-1]).sum(axis=1)
    mixed = took.any(axis=1) & (~took).any(axis=1)  # the child has blocks of both parents
    if kind == "uniform":
        assert took.any(axis=0).all() and (~took).any(axis=0).all()  # over the draws, in every block
        assert mixed.mean() > 0.5
        return
    assert (switches == 1).all() if kind == "one_point" else ((switches >= 1) & (switches <= 2)).all()
    assert mixed.all() and not took[:, 0].any()
    cuts = set((np.nonzero(took[:, 1:] != took[:, :-1])[1] + 1).tolist())
    assert cuts == set(range(1, space.n_blocks))  # cuts fall on block boundaries, every one of them


def test_crossover_array_of_no_pairs_and_bad_kind():
    A = np.zeros((0, SPACE.n_genes), dtype=np.int64)
    C1, C2 = ops.crossover_array(SPACE, A, A, rng(0), "two_point")
    assert C1.shape == C2.shape == (0, SPACE.n_genes)
    with pytest.raises(ValueError, match="'three_point'"):
        ops.crossover_array(SPACE, A, A, rng(0), "three_point")


def changed_blocks(space, X, Y):
    """Per row, the number of genes changed in each block, shape (N, n_blocks)."""
    return np.stack([(X[:, s] != Y[:, s]).sum(axis=1) for s in space.block_slices], axis=1)


@pytest.mark.parametrize("name", SPACES)
@pytest.mark.parametrize("rate", [None, 0.0, 0.3, 1.0])
def test_mutate_array_changes_one_decision_per_hit_block(name, rate):
    space, r = SPACES[name], rng(12)
    card = np.array(space.cardinalities)
    X = (r.random((300, space.n_genes)) * card).astype(np.int64)
    Y = ops.mutate_array(space, X, r, rate, block_resample_rate=0.0)
    assert Y.shape == X.shape and ((Y >= 0) & (Y < card)).all()
    per_block = changed_blocks(space, X, Y)
    assert (per_block <= 1).all()  # one decision per changed block
    assert (per_block.sum(axis=1) >= 1).all()  # every row changes
    assert not (X != Y)[:, card == 1].any()
    if rate == 0.0:
        assert (per_block.sum(axis=1) == 1).all()
    if rate == 1.0:
        assert (per_block == 1).all()


@pytest.mark.parametrize("name", SPACES)
def test_mutate_array_with_block_resampling_redraws_at_most_one_block(name):
    space, r = SPACES[name], rng(13)
    card = np.array(space.cardinalities)
    X = (r.random((300, space.n_genes)) * card).astype(np.int64)
    Y = ops.mutate_array(space, X, r, 0.0, block_resample_rate=1.0)
    assert ((Y >= 0) & (Y < card)).all()
    per_block = changed_blocks(space, X, Y)
    assert ((per_block > 1).sum(axis=1) <= 1).all()
    assert (per_block.sum(axis=1) <= 1 + max(s.stop - s.start for s in space.block_slices)).all()
    assert (per_block > 1).any()  # a resampled block does change several genes, sometimes
    assert not (X != Y)[:, card == 1].any()


def space_with_fixed_blocks():
    """MnasNet with no choice at all in block 1 and only some choices in block 2."""
    import copy

    d = copy.deepcopy(SPACE.definition)
    d["blocks"][0]["choices"] = {"op": ["mbconv6"], "kernel": [3], "se_ratio": [0.0], "skip": ["identity"],
                                 "filters": [1.0], "layers": [0]}
    d["blocks"][1]["choices"] = {"op": ["mbconv6"], "kernel": [3]}
    return type(SPACE)(d, "fixed-blocks")


def test_mutate_array_leaves_single_choice_genes_alone():
    space, r = space_with_fixed_blocks(), rng(14)
    card = np.array(space.cardinalities)
    assert (card[space.block_slices[0]] == 1).all() and (card == 1).sum() == 8
    X = (r.random((500, space.n_genes)) * card).astype(np.int64)
    for rate, resample in [(None, 0.0), (0.5, 0.0), (1.0, 1.0)]:
        Y = ops.mutate_array(space, X, r, rate, resample)
        assert not (X != Y)[:, card == 1].any() and ((Y >= 0) & (Y < card)).all()


@pytest.mark.parametrize("rate", [None, 0.0, 0.5])
def test_mutate_array_changes_every_row_when_some_block_has_a_choice(rate):
    space, r = space_with_fixed_blocks(), rng(15)
    card = np.array(space.cardinalities)
    X = (r.random((500, space.n_genes)) * card).astype(np.int64)
    Y = ops.mutate_array(space, X, r, rate, block_resample_rate=0.0)
    assert ((X != Y).sum(axis=1) >= 1).all()


@pytest.mark.parametrize("name", SPACES)
def test_repair_array_is_repair_genes_row_by_row(name):
    space, r = SPACES[name], rng(16)
    card = np.array(space.cardinalities)
    X = r.integers(-3, card.max() + 3, size=(150, space.n_genes))
    X[:50] = (r.random((50, space.n_genes)) * card).astype(np.int64)  # in range, not canonical
    R = ops.repair_array(space, X)
    assert R.dtype == np.int64 and R.shape == X.shape
    assert R.tolist() == [list(ops.repair_genes(space, x)) for x in X]
    assert ops.repair_array(space, R).tolist() == R.tolist()
    assert ops.repair_array(space, np.zeros((0, space.n_genes))).shape == (0, space.n_genes)


def test_repair_array_agrees_with_repair_genes_on_float_genes():
    X = np.full((1, SPACE.n_genes), 0.0)
    X[0, 0] = 1.7  # block 1 op: sepconv (1) or mbconv3 (2)
    assert ops.repair_array(SPACE, X).tolist() == [list(ops.repair_genes(SPACE, X[0]))]


@pytest.mark.parametrize("name", SPACES)
def test_genomes_of_an_array_are_the_canonical_genomes_of_its_rows(name):
    space, r = SPACES[name], rng(17)
    card = np.array(space.cardinalities)
    X = (r.random((150, space.n_genes)) * card).astype(np.int64)
    built = space.genomes(X)
    expected = [space.genome(x).canonical() for x in X]
    assert [g.genes for g in built] == [g.genes for g in expected]
    assert [g.key for g in built] == [g.key for g in expected]
    assert built == expected and all(g.space is space for g in built)
    for value, row, col in [(None, 7, 5), (-1, 3, space.n_genes - 1)]:
        bad = X.copy()
        bad[row, col] = card[col] if value is None else value
        with pytest.raises(ValueError, match=re.escape(f"{space.gene_names[col]} = {bad[row, col]} is out of range")):
            space.genomes(bad)


# -- gene-level operators (the ablation of the block-aware ones) -----------------------------------

@pytest.mark.parametrize("name", SPACES)
def test_gene_uniform_crossover_takes_each_gene_from_either_parent(name):
    space, r = SPACES[name], rng(21)
    A, B = distinct_parents(space, 400, r)
    C1, C2 = ops.crossover_array(space, A, B, r, "gene_uniform")
    from_b = C1 == B
    assert ((C1 == A) ^ from_b).all() and (C2 == np.where(from_b, A, B)).all()  # complementary children
    assert abs(from_b.mean() - 0.5) < 0.02  # each gene independently, half from each parent
    split = [(from_b[:, s].any(1) & ~from_b[:, s].all(1)).mean() for s in space.block_slices if s.stop - s.start > 1]
    assert split and min(split) > 0.3  # blocks are split, unlike the block-aware crossovers
    c1, c2 = ops.crossover_genes(space, tuple(A[0]), tuple(B[0]), r, "gene_uniform")
    assert all(x in (a, b) and y == (b if x == a else a) for x, y, a, b in zip(c1, c2, A[0], B[0]))


def _random_rows(space, n, r):
    card = np.array(space.cardinalities)
    return (r.random((n, space.n_genes)) * card).astype(np.int64), card


@pytest.mark.parametrize("name", SPACES)
@pytest.mark.parametrize("rate", [None, 0.2, 1.0])
def test_per_gene_mutation_hits_genes_at_the_rate_and_draws_other_choices_uniformly(name, rate):
    space, r = SPACES[name], rng(22)
    X, card = _random_rows(space, 2000, r)
    Y = ops.mutate_per_gene_array(space, X, r, rate)
    assert Y.shape == X.shape and ((Y >= 0) & (Y < card)).all()
    changed = X != Y
    assert not changed[:, card == 1].any()
    p = 1.0 / space.n_genes if rate is None else rate
    frac = changed[:, card > 1].mean()
    assert abs(frac - p) < 4 * np.sqrt(p * (1 - p) / changed[:, card > 1].size) + 1e-12
    # the new value is uniform over the other choices: every (old, new) pair of a 3-way gene alike
    three = np.flatnonzero(card == 3)
    if len(three) and rate == 1.0:
        old, new = X[:, three].ravel(), Y[:, three].ravel()
        counts = np.array([[((old == a) & (new == b)).sum() for b in range(3)] for a in range(3)])
        off = counts[~np.eye(3, dtype=bool)]
        assert np.diag(counts).sum() == 0 and off.min() > 0.85 * off.mean()


@pytest.mark.parametrize("name", SPACES)
def test_ordinal_mutation_steps_to_a_neighbouring_choice(name):
    space, r = SPACES[name], rng(23)
    X, card = _random_rows(space, 2000, r)
    Y = ops.mutate_ordinal_array(space, X, r, 1.0)
    moved = Y - X
    assert (np.abs(moved[:, card > 1]) == 1).all() and not moved[:, card == 1].any()
    assert ((Y >= 0) & (Y < card)).all()
    inner = (X > 0) & (X < card - 1)
    assert abs((moved[inner] > 0).mean() - 0.5) < 0.03  # up or down alike inside the range
    Z = ops.mutate_ordinal_array(space, X, r)
    assert (np.abs(Z - X) <= 1).all() and 0 < (Z != X).mean() < 3.0 / space.n_genes


def test_gene_mutations_are_seeded_and_reject_a_bad_rate():
    X, _ = _random_rows(SPACE, 50, rng(0))
    for fn in (ops.mutate_per_gene_array, ops.mutate_ordinal_array):
        assert (fn(SPACE, X, rng(5), 0.3) == fn(SPACE, X, rng(5), 0.3)).all()
        assert fn(SPACE, X[:0], rng(5)).shape == (0, SPACE.n_genes)
        with pytest.raises(ValueError, match="1.5"):
            fn(SPACE, X, rng(5), 1.5)


def test_nsga2_takes_the_gene_level_operators_from_search_keys():
    from evo_nas.algorithms.nsga2 import BlockMutation, GeneMutation, NSGA2Strategy
    from evo_nas.algorithms.objectives import Objectives

    space = SPACES["ofa-mbv3"]

    def strategy(**search):
        return NSGA2Strategy(space, {"pop_size": 8, **search}, Objectives.from_dict(None), rng(0))

    s = strategy(crossover="gene_uniform", mutation="per_gene", gene_mutation_rate=0.1)
    assert s.algorithm.mating.crossover.kind == "gene_uniform"
    m = s.algorithm.mating.mutation
    assert isinstance(m, GeneMutation) and (m.kind, m.rate) == ("per_gene", 0.1)
    # "auto" on a space whose every choice is ordered: gene-uniform crossover, ordinal steps at 0.5 / genes
    auto = strategy().algorithm.mating
    assert auto.crossover.kind == "gene_uniform" and (auto.mutation.kind, auto.mutation.rate) == ("ordinal", 0.5 / 46)
    assert isinstance(strategy(mutation="block").algorithm.mating.mutation, BlockMutation)
    assert strategy(mutation="ordinal").algorithm.mating.mutation.kind == "ordinal"
    for bad, match in [({"mutation": "swap"}, "'swap'"), ({"crossover": "sbx"}, "'sbx'"),
                       ({"mutation": "per_gene", "decision_rate": 0.2}, "decision_rate"),
                       ({"gene_mutation_rate": 0.1, "mutation": "block"}, "gene_mutation_rate"),
                       ({"decision_rate": 0.1}, "decision_rate = 0.1 does not apply to mutation = 'auto'"),
                       ({"mutation": "ordinal", "gene_mutation_rate": 2.0}, "2.0")]:
        with pytest.raises(ValueError, match=match):
            strategy(**bad)
    genomes = s.ask()
    assert len(genomes) == 8 and all(g.genes == g.canonical().genes for g in genomes)
