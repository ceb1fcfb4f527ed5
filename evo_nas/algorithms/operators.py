"""Block-aware variation operators: pure genome -> genome functions over a ``Space``.

A genome's genes are grouped by block (``space.block_slices``), as in MnasNet's factorized
hierarchical space (Tan et al., 2019, arXiv 1807.11626, section 4). Crossover exchanges whole
blocks (uniform over blocks, or one/two cut points at block boundaries); mutation changes one
decision of one block (the mutation of aging evolution, Real et al., 2019) or resamples a whole
block. Every child is repaired to the canonical genes of the network it builds, so genomes that
build the same network are one genome. Every function takes an explicit
``numpy.random.Generator``; none imports torch.

Gene-level operators, for ablations against the block-aware ones: uniform crossover gene by gene
(``gene_uniform``; Syswerda, 1989), per-gene mutation to a uniformly drawn other choice
(``per_gene``, each gene with probability 1 / n_genes by default, as the bit-flip mutation of a
genetic algorithm) and an ordinal mutation (``ordinal``) that steps a hit gene to a neighbouring
choice, +-1 in the order the space lists them: where choices are ordered (kernel 3 < 5 < 7,
expansion, depth, resolution) it moves to the nearest larger or smaller one, as the polynomial
mutation of real-coded GAs does after rounding (Deb & Agrawal, 1995).
"""
from __future__ import annotations

import numpy as np

from ..spaces.space import Genome, Space

BLOCK_CROSSOVERS = ("uniform", "one_point", "two_point")
CROSSOVERS = BLOCK_CROSSOVERS + ("gene_uniform", "intermediate")
MUTATIONS = ("block", "block_ordinal", "per_gene", "ordinal")


def repair_genes(space: Space, genes) -> tuple[int, ...]:
    """Clip every gene into its range, then take the canonical genes of the network built."""
    clipped = tuple(int(min(max(int(np.rint(g)), 0), c - 1)) for g, c in zip(genes, space.cardinalities))
    return space.canonical_genes(clipped)


def repair_array(space: Space, X) -> np.ndarray:
    """``repair_genes`` over every row of ``X`` (N, n_genes), vectorized where the space is."""
    X = np.asarray(X)
    if len(X) == 0:
        return X.astype(np.int64)
    clipped = np.clip(np.rint(X).astype(np.int64), 0, np.array(space.cardinalities) - 1)
    return space.canonical_array(clipped)


def repair(genome: Genome) -> Genome:
    return genome.space.genome(repair_genes(genome.space, genome.genes))


def sample(space: Space, rng: np.random.Generator) -> Genome:
    """Every decision uniform over its choices (covers the whole space), then repaired."""
    return repair(space.sample(rng))


def _blocks_to_genes(space: Space, a, b, take_b) -> tuple[list[int], list[int]]:
    c1, c2 = list(a), list(b)
    for s, swap in zip(space.block_slices, take_b):
        if swap:
            c1[s], c2[s] = list(b[s]), list(a[s])
    return c1, c2


def crossover_genes(space: Space, a, b, rng: np.random.Generator, kind: str = "uniform"):
    """Two children of gene tuples ``a`` and ``b`` that exchange whole blocks (every gene
    independently for ``gene_uniform``; ordered genes between the parents' for ``intermediate``)."""
    n = space.n_blocks
    if kind == "intermediate":
        c1, c2 = _intermediate(space, np.asarray(a)[None, :], np.asarray(b)[None, :], rng)
        return [int(v) for v in c1[0]], [int(v) for v in c2[0]]
    if kind == "gene_uniform":
        take = rng.random(space.n_genes) < 0.5
        return [int(y if t else x) for x, y, t in zip(a, b, take)], [int(x if t else y) for x, y, t in zip(a, b, take)]
    if kind == "uniform":
        take_b = rng.random(n) < 0.5
    elif kind in ("one_point", "two_point"):
        if n < 2:
            take_b = np.zeros(n, dtype=bool)
        else:
            k = 1 if kind == "one_point" or n < 3 else 2
            cuts = np.sort(rng.choice(np.arange(1, n), size=k, replace=False))
            take_b = np.zeros(n, dtype=bool)
            if k == 1:
                take_b[cuts[0]:] = True
            else:
                take_b[cuts[0]:cuts[1]] = True
    else:
        raise ValueError(f"crossover = {kind!r} (expected one of {', '.join(CROSSOVERS)})")
    return _blocks_to_genes(space, a, b, take_b)


def crossover(a: Genome, b: Genome, rng: np.random.Generator, kind: str = "uniform") -> tuple[Genome, Genome]:
    space = a.space
    c1, c2 = crossover_genes(space, a.genes, b.genes, rng, kind)
    return space.genome(repair_genes(space, c1)), space.genome(repair_genes(space, c2))


def mutate_decision_genes(space: Space, genes, rng: np.random.Generator, block: int | None = None) -> list[int]:
    """Change one decision of one block to another of its choices (no-op only if none exists)."""
    genes = list(genes)
    blocks = range(space.n_blocks) if block is None else [block]
    options = [(b, i) for b in blocks
               for i in range(space.block_slices[b].start, space.block_slices[b].stop)
               if space.cardinalities[i] > 1]
    if not options:
        return genes
    if block is None:
        # pick the block first, then a decision in it, so every block is equally likely
        with_choice = sorted({b for b, _ in options})
        b = with_choice[int(rng.integers(len(with_choice)))]
        options = [o for o in options if o[0] == b]
    _, i = options[int(rng.integers(len(options)))]
    new = int(rng.integers(space.cardinalities[i] - 1))
    genes[i] = new if new < genes[i] else new + 1
    return genes


def resample_block_genes(space: Space, genes, rng: np.random.Generator, block: int | None = None) -> list[int]:
    """Draw every decision of one block afresh."""
    genes = list(genes)
    b = int(rng.integers(space.n_blocks)) if block is None else block
    for i in range(space.block_slices[b].start, space.block_slices[b].stop):
        genes[i] = int(rng.integers(space.cardinalities[i]))
    return genes


def mutate_genes(space: Space, genes, rng: np.random.Generator, decision_rate: float | None = None,
                 block_resample_rate: float = 0.1) -> list[int]:
    """Each block changes one decision with probability ``decision_rate`` (default 1 / blocks),
    at least one block always; then, with ``block_resample_rate``, one block is resampled."""
    rate = 1.0 / space.n_blocks if decision_rate is None else decision_rate
    changeable = [b for b, s in enumerate(space.block_slices)
                  if any(space.cardinalities[i] > 1 for i in range(s.start, s.stop))]
    hit = np.flatnonzero(rng.random(space.n_blocks) < rate)
    if changeable and not set(hit.tolist()) & set(changeable):
        hit = [changeable[int(rng.integers(len(changeable)))]]
    genes = list(genes)
    for b in hit:
        genes = mutate_decision_genes(space, genes, rng, block=int(b))
    if rng.random() < block_resample_rate:
        genes = resample_block_genes(space, genes, rng)
    return genes


def _gene_blocks(space: Space) -> np.ndarray:
    """The block index of every gene, shape (n_genes,)."""
    out = np.empty(space.n_genes, dtype=np.int64)
    for b, s in enumerate(space.block_slices):
        out[s] = b
    return out


def crossover_array(space: Space, A, B, rng: np.random.Generator, kind: str = "uniform"):
    """``crossover_genes`` over N parent pairs at once: rows of ``A`` and ``B`` (N, n_genes) exchange
    whole blocks (every gene independently for ``gene_uniform``); returns the two child arrays."""
    A, B = np.asarray(A), np.asarray(B)
    n, nb = len(A), space.n_blocks
    if kind == "gene_uniform":
        mask = rng.random((n, space.n_genes)) < 0.5
        return np.where(mask, B, A), np.where(mask, A, B)
    if kind == "intermediate":
        return _intermediate(space, A, B, rng)
    if kind == "uniform":
        take_b = rng.random((n, nb)) < 0.5
    elif kind in ("one_point", "two_point"):
        take_b = np.zeros((n, nb), dtype=bool)
        if nb >= 2:
            k = 1 if kind == "one_point" or nb < 3 else 2
            cuts = np.sort(np.argsort(rng.random((n, nb - 1)), axis=1)[:, :k] + 1, axis=1)
            pos = np.arange(nb)[None, :]
            take_b = pos >= cuts[:, :1] if k == 1 else (pos >= cuts[:, :1]) & (pos < cuts[:, 1:2])
    else:
        raise ValueError(f"crossover = {kind!r} (expected one of {', '.join(CROSSOVERS)})")
    mask = take_b[:, _gene_blocks(space)]
    return np.where(mask, B, A), np.where(mask, A, B)


def _intermediate(space: Space, A, B, rng: np.random.Generator):
    """Discrete intermediate recombination: an ordered gene of the first child is drawn uniformly from
    the choices between the parents' (inclusive), the second child's mirrors it (a + b - c, the
    parents' mean kept, as SBX keeps it; Deb & Agrawal, 1995); an unordered gene is swapped with
    probability 0.5 (uniform crossover)."""
    A, B = np.asarray(A, dtype=np.int64), np.asarray(B, dtype=np.int64)
    ordered = np.asarray(space.ordered, dtype=bool)[None, :]
    lo, hi = np.minimum(A, B), np.maximum(A, B)
    between = lo + (rng.random(A.shape) * (hi - lo + 1)).astype(np.int64)
    swap = rng.random(A.shape) < 0.5
    c1 = np.where(ordered, between, np.where(swap, B, A))
    c2 = np.where(ordered, A + B - between, np.where(swap, A, B))
    return c1, c2


def mutate_array(space: Space, X, rng: np.random.Generator, decision_rate: float | None = None,
                 block_resample_rate: float = 0.1, ordered_steps: bool = False) -> np.ndarray:
    """``mutate_genes`` over every row of ``X`` (N, n_genes) at once: each block changes one decision
    with probability ``decision_rate`` (default 1 / blocks), at least one block per row; then,
    with ``block_resample_rate``, one block of the row is drawn afresh. ``ordered_steps``: a
    decision whose choices are ordered (``space.ordered``) steps to a neighbouring choice (-1 or
    +1, the one neighbour at an end) instead of any other choice."""
    X = np.array(X, dtype=np.int64, copy=True)
    n, nb = X.shape[0], space.n_blocks
    if n == 0:
        return X
    card = np.array(space.cardinalities)
    rate = 1.0 / nb if decision_rate is None else decision_rate
    options = [[i for i in range(s.start, s.stop) if card[i] > 1] for s in space.block_slices]
    n_opts = np.array([len(o) for o in options])
    hit = rng.random((n, nb)) < rate
    changeable = np.flatnonzero(n_opts > 0)
    none = ~(hit & (n_opts > 0)[None, :]).any(axis=1)
    if len(changeable):
        hit[np.flatnonzero(none), changeable[rng.integers(len(changeable), size=int(none.sum()))]] = True
    table = np.zeros((nb, max(1, n_opts.max())), dtype=np.int64)
    for b, o in enumerate(options):
        table[b, :len(o)] = o
    rows, blocks = np.nonzero(hit & (n_opts > 0)[None, :])
    genes = table[blocks, (rng.random(len(rows)) * n_opts[blocks]).astype(np.int64)]
    new = (rng.random(len(rows)) * (card[genes] - 1)).astype(np.int64)
    old = X[rows, genes]
    X[rows, genes] = np.where(new < old, new, new + 1)
    if ordered_steps:
        step = np.where(new < old, -1, 1)  # the same draw: a lower choice steps down, a higher one up
        stepped = np.clip(old + step, 0, card[genes] - 1)
        X[rows, genes] = np.where(np.asarray(space.ordered, dtype=bool)[genes], stepped, X[rows, genes])
    for r in np.flatnonzero(rng.random(n) < block_resample_rate):
        s = space.block_slices[int(rng.integers(nb))]
        X[r, s] = (rng.random(s.stop - s.start) * card[s]).astype(np.int64)
    return X


def _gene_rate(space: Space, rate: float | None) -> float:
    rate = 1.0 / space.n_genes if rate is None else float(rate)
    if not 0.0 <= rate <= 1.0:
        raise ValueError(f"gene mutation rate = {rate!r} must be in [0, 1]")
    return rate


def _gene_hits(space: Space, X, rng: np.random.Generator, rate: float | None):
    """A copy of ``X``, the cardinalities, and the (rows, genes) drawn to mutate: each gene that has
    another choice with probability ``rate`` (default 1 / n_genes)."""
    X = np.array(X, dtype=np.int64, copy=True)
    card = np.array(space.cardinalities)
    if X.size == 0:
        return X, card, np.zeros(0, dtype=np.int64), np.zeros(0, dtype=np.int64)
    hit = (rng.random(X.shape) < _gene_rate(space, rate)) & (card > 1)[None, :]
    rows, genes = np.nonzero(hit)
    return X, card, rows, genes


def mutate_per_gene_array(space: Space, X, rng: np.random.Generator, rate: float | None = None) -> np.ndarray:
    """Every gene of every row of ``X`` (N, n_genes) that has another choice changes, with probability
    ``rate`` (default 1 / n_genes), to one of its other choices drawn uniformly; unrepaired."""
    X, card, rows, genes = _gene_hits(space, X, rng, rate)
    if not len(rows):
        return X
    new = (rng.random(len(rows)) * (card[genes] - 1)).astype(np.int64)
    old = X[rows, genes]
    X[rows, genes] = np.where(new < old, new, new + 1)
    return X


def mutate_ordinal_array(space: Space, X, rng: np.random.Generator, rate: float | None = None) -> np.ndarray:
    """Every gene of every row of ``X`` (N, n_genes) that has another choice steps, with probability
    ``rate`` (default 1 / n_genes), to a neighbouring choice: -1 or +1 with equal probability, the one
    neighbour at either end of the range; unrepaired."""
    X, card, rows, genes = _gene_hits(space, X, rng, rate)
    if not len(rows):
        return X
    old = np.clip(X[rows, genes], 0, card[genes] - 1)
    step = np.where(rng.random(len(rows)) < 0.5, -1, 1)
    step = np.where(old == 0, 1, np.where(old == card[genes] - 1, -1, step))
    X[rows, genes] = old + step
    return X


def mutate(genome: Genome, rng: np.random.Generator, decision_rate: float | None = None,
           block_resample_rate: float = 0.1) -> Genome:
    space = genome.space
    return space.genome(repair_genes(space, mutate_genes(space, genome.genes, rng, decision_rate,
                                                         block_resample_rate)))


def mutate_decision(genome: Genome, rng: np.random.Generator, tries: int = 16) -> Genome:
    """One decision of one block, repaired (aging evolution's mutation).

    A decision that does not change the network (a skip choice where no shortcut fits) is
    redrawn, up to ``tries`` times, so the child differs from its parent when it can."""
    space = genome.space
    child = genome
    for _ in range(tries):
        child = space.genome(repair_genes(space, mutate_decision_genes(space, genome.genes, rng)))
        if child.genes != genome.canonical().genes:
            break
    return child


def resample_block(genome: Genome, rng: np.random.Generator) -> Genome:
    space = genome.space
    return space.genome(repair_genes(space, resample_block_genes(space, genome.genes, rng)))
