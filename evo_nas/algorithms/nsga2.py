"""NSGA-II (Deb et al., 2002) over a genome space, as a thin ask/tell adapter around pymoo.

The pymoo ``Problem`` is over integer vectors: ``X[i]`` is the gene tuple of a genome, each
gene bounded by its cardinality. Integers rather than object-dtype genomes because pymoo's
mating, survival and duplicate elimination then work on plain arrays, and a genome is rebuilt
from its genes for free. The block structure
lives in the operators (``evo_nas.algorithms.operators``), which every pymoo operator here calls
with the ``random_state`` generator pymoo hands it. Repair maps every child to the canonical
genes of the network it builds, so duplicate elimination on ``X`` is elimination on the
canonical key. pymoo's mating loop runs on one gene array (``evo_nas.algorithms.mating``), making
the children pymoo's own ``Mating`` would. Objectives are never computed by the problem: the
engine evaluates and tells.
"""
from __future__ import annotations

import pickle
from typing import Annotated, Literal

import numpy as np
from pydantic import Field, model_validator
from pymoo.algorithms.moo.nsga2 import NSGA2
from pymoo.core.crossover import Crossover
from pymoo.core.duplicate import DefaultDuplicateElimination
from pymoo.core.mating import Mating
from pymoo.core.mutation import Mutation
from pymoo.core.problem import Problem
from pymoo.core.repair import Repair
from pymoo.core.sampling import Sampling
from pymoo.core.termination import NoTermination

from ..base.config import MAX_BATCH, Section
from ..base.errors import validate
from ..spaces.space import Genome, Space
from . import operators as ops
from .mating import ArrayMating, new_rows, population_genes, row_bytes
from .objectives import Objectives


class GenomeProblem(Problem):
    """Integer genes in ``[0, cardinality - 1]``; objectives and constraints from ``Objectives``."""

    def __init__(self, space: Space, objectives: Objectives):
        card = np.array(space.cardinalities)
        super().__init__(n_var=space.n_genes, n_obj=objectives.n_obj, n_ieq_constr=objectives.n_constr,
                         xl=np.zeros(len(card), dtype=int), xu=card - 1, vtype=int)
        self.space = space

    def _evaluate(self, X, out, *args, **kwargs):
        raise RuntimeError("GenomeProblem is evaluated by the search engine, not by pymoo")


class GenomeSampling(Sampling):
    def _do(self, problem, n_samples, *args, random_state=None, **kwargs):
        card = np.array(problem.space.cardinalities)
        X = (random_state.random((n_samples, len(card))) * card).astype(np.int64)
        return ops.repair_array(problem.space, X)


class BlockCrossover(Crossover):
    """Two parents, two children exchanging whole blocks (uniform, one- or two-point), or single genes
    (``gene_uniform``, the ablation)."""

    def __init__(self, kind: str = "uniform", prob: float = 0.9):
        if kind not in ops.CROSSOVERS:
            raise ValueError(f"[search] crossover = {kind!r} (expected one of {', '.join(ops.CROSSOVERS)})")
        super().__init__(2, 2, prob=prob)
        self.kind = kind

    def _do(self, problem, X, *args, random_state=None, **kwargs):
        return np.stack(ops.crossover_array(problem.space, X[0], X[1], random_state, self.kind))


class BlockMutation(Mutation):
    """One decision per hit block (``decision_rate`` per block) plus an occasional block resample."""

    def __init__(self, prob: float = 1.0, decision_rate: float | None = None, block_resample_rate: float = 0.1,
                 ordered_steps: bool = False):
        super().__init__(prob=prob)
        self.decision_rate = decision_rate
        self.block_resample_rate = block_resample_rate
        self.ordered_steps = ordered_steps

    def _do(self, problem, X, *args, random_state=None, **kwargs):
        return ops.mutate_array(problem.space, X, random_state, self.decision_rate, self.block_resample_rate,
                                getattr(self, "ordered_steps", False))


class GeneMutation(Mutation):
    """Gene-level mutation (``per_gene`` or ``ordinal``), each gene hit with probability ``rate``
    (default 1 / n_genes): the ablation of the block-aware ``BlockMutation``."""

    def __init__(self, kind: str = "per_gene", prob: float = 1.0, rate: float | None = None):
        if kind not in ("per_gene", "ordinal"):
            raise ValueError(f"GeneMutation kind = {kind!r} (expected per_gene or ordinal)")
        super().__init__(prob=prob)
        self.kind = kind
        self.rate = rate

    def _do(self, problem, X, *args, random_state=None, **kwargs):
        fn = ops.mutate_per_gene_array if self.kind == "per_gene" else ops.mutate_ordinal_array
        return fn(problem.space, X, random_state, self.rate)


class ExactDuplicateElimination(DefaultDuplicateElimination):
    """pymoo's default elimination (a child equal to an earlier child or to any member of the other
    populations goes) decided by comparing integer genes exactly, not by all pairwise distances."""

    def __init__(self):
        super().__init__(func=population_genes)

    def _do(self, pop, other, is_duplicate):
        X = self.func(pop)
        Y = None if other is None else self.func(other)
        if X.dtype.kind not in "iu" or Y is not None and Y.dtype.kind not in "iu":
            return super()._do(pop, other, is_duplicate)
        if Y is None:
            is_duplicate |= ~new_rows(X)
        else:
            is_duplicate |= ~new_rows(X, set(row_bytes(Y)), siblings=False)
        return is_duplicate


class CanonicalRepair(Repair):
    def _do(self, problem, X, **kwargs):
        return ops.repair_array(problem.space, X)


Rate = Annotated[float, Field(ge=0, le=1, allow_inf_nan=False)]
RATE = "a number in [0, 1]"


class NSGA2Keys(Section):
    """NSGA-II's ``[search]`` keys, their types, ranges and defaults (written into the resolved config).

    ``n_offsprings`` defaults to ``pop_size``. ``crossover`` and ``mutation`` default to ``"auto"``:
    on a space whose every choice is ordered (``Space.ordered``: Once-for-All's kernel, expansion,
    depth, resolution) gene-level uniform crossover and ordinal +-1 steps at rate 0.5 / genes, which
    matched pymoo's SBX and polynomial mutation where the block-aware pair did not
    (``experiments/sample_efficiency``); elsewhere the block-aware ``"uniform"`` and ``"block"``. The
    rates that apply depend on the mutation: ``"block"`` and ``"block_ordinal"`` take ``decision_rate``
    (default 1 / blocks, left unwritten: it depends on the space) and ``block_resample_rate`` (0.1);
    ``"per_gene"`` and ``"ordinal"`` take ``gene_mutation_rate`` (default 1 / genes, unwritten). A
    rate given for the other kind is an error (for ``"auto"``, once the space is known)."""

    pop_size: int = Field(20, ge=2, le=MAX_BATCH, description=f"an int in [2, {MAX_BATCH}]")
    n_offsprings: int | None = Field(None, ge=1, le=MAX_BATCH, description=f"an int in [1, {MAX_BATCH}]")
    crossover: Literal[("auto",) + ops.CROSSOVERS] = Field(
        "auto", description=f"one of auto, {', '.join(ops.CROSSOVERS)}")
    crossover_prob: Rate = Field(0.9, description=RATE)
    mutation: Literal[("auto",) + ops.MUTATIONS] = Field("auto", description=f"one of auto, {', '.join(ops.MUTATIONS)}")
    mutation_prob: Rate = Field(1.0, description=RATE)
    decision_rate: Rate | None = Field(None, description=RATE)
    block_resample_rate: Rate | None = Field(None, description=RATE)
    gene_mutation_rate: Rate | None = Field(None, description=RATE)

    @model_validator(mode="after")
    def _rates_of_the_mutation(self) -> "NSGA2Keys":
        if self.n_offsprings is None:
            self.n_offsprings = self.pop_size
        if self.mutation != "auto":
            _check_rates(self, self.mutation)
        return self


def _check_rates(keys: NSGA2Keys, kind: str, why: str = "") -> None:
    block = kind in ("block", "block_ordinal")
    wrong = ("gene_mutation_rate",) if block else ("decision_rate", "block_resample_rate")
    for key in wrong:
        if getattr(keys, key) is not None:
            raise ValueError(f"[search] {key} = {getattr(keys, key)!r} does not apply to mutation = "
                             f"{keys.mutation!r}{why}")
    if block and keys.block_resample_rate is None:
        keys.block_resample_rate = 0.1


def resolve_operators(keys: NSGA2Keys, space: Space) -> NSGA2Keys:
    """``keys`` with ``"auto"`` operators chosen for ``space`` (see ``NSGA2Keys``); ``ValueError``
    names a rate that does not apply to the mutation chosen."""
    keys = keys.model_copy()
    ordered = bool(space.n_genes) and all(space.ordered)
    if keys.crossover == "auto":
        keys.crossover = "gene_uniform" if ordered else "uniform"
    if keys.mutation == "auto":
        kind = "ordinal" if ordered else "block"
        _check_rates(keys, kind, f" (on space {space.name!r}, {'ordinal steps' if ordered else 'block mutation'})")
        keys.mutation = kind
        if ordered and keys.gene_mutation_rate is None:
            keys.gene_mutation_rate = 0.5 / space.n_genes
    return keys


def _mutation(keys: NSGA2Keys):
    """The mutation ``[search] mutation`` names (resolved), with only the rates that apply to it."""
    if keys.mutation in ("block", "block_ordinal"):
        return BlockMutation(float(keys.mutation_prob), keys.decision_rate, float(keys.block_resample_rate),
                             ordered_steps=keys.mutation == "block_ordinal")
    return GeneMutation(keys.mutation, float(keys.mutation_prob), keys.gene_mutation_rate)


class NSGA2Strategy:
    """NSGA-II over the space's genes with block-aware operators; its ``[search]`` keys are
    ``NSGA2Keys`` (``crossover``: "uniform" exchanges whole blocks, "one_point" and "two_point" cut at
    block boundaries, "gene_uniform" goes gene by gene)."""

    config_model = NSGA2Keys
    search_keys = tuple(NSGA2Keys.model_fields)

    def __init__(self, space: Space, search: dict, objectives: Objectives, rng: np.random.Generator):
        self.space = space
        self.objectives = objectives
        keys = validate(NSGA2Keys, {k: search[k] for k in self.search_keys if k in search}, "search")
        keys = self.keys = resolve_operators(keys, space)
        self.problem = GenomeProblem(space, objectives)
        self.algorithm = NSGA2(
            pop_size=keys.pop_size, n_offsprings=keys.n_offsprings,
            sampling=GenomeSampling(),
            crossover=BlockCrossover(keys.crossover, float(keys.crossover_prob)),
            mutation=_mutation(keys),
            repair=CanonicalRepair(),
            eliminate_duplicates=ExactDuplicateElimination(),
        )
        self.algorithm.mating = ArrayMating(self.algorithm.mating)
        seed = int(rng.integers(2 ** 31 - 1))
        self.algorithm.setup(self.problem, termination=NoTermination(), seed=seed, verbose=False)
        self._pending = None

    def ask(self) -> list[Genome]:
        """The next offspring; empty when pymoo can make no new genome (the space or the operators
        are exhausted), which ends the run as ``exhausted``."""
        return self.space.genomes(self.ask_array())

    def ask_array(self) -> np.ndarray:
        """``ask`` as the canonical gene array (N, n_genes), without building genomes."""
        pop = self.algorithm.ask()
        if pop is None or len(pop) == 0:
            self._pending = None
            return np.zeros((0, self.space.n_genes), dtype=np.int64)
        self._pending = pop
        return self.space.canonical_rows(population_genes(pop))

    def tell(self, genomes: list[Genome], results: list[dict]) -> None:
        if self._pending is not None and len(genomes) != len(self._pending):
            raise ValueError(f"tell got {len(genomes)} genomes for {len(self._pending)} asked")
        self.tell_array(results)

    def tell_array(self, results: list[dict]) -> None:
        """``tell`` after ``ask_array``: the results of its rows, in order."""
        pop = self._pending
        if pop is None or len(results) != len(pop):
            raise ValueError(f"tell got {len(results)} results for {0 if pop is None else len(pop)} asked")
        F, _ = self.objectives.matrix(results)
        if self.objectives.n_constr:
            G = np.array([self.objectives.constraints(r) for r in results], dtype=float).reshape(len(pop), -1)
        else:
            G = np.zeros((len(pop), 0))
        # what pymoo's Evaluator stores for an evaluated population, without re-evaluating anything;
        # rows are views (``pop.set`` copies them so that a row does not keep a large matrix alive:
        # these matrices are one generation's)
        H = np.zeros((len(pop), 0))
        evaluated = ("F", "G", "H")
        for ind, f, g, h in zip(pop, F, G, H):
            ind.F, ind.G, ind.H = f, g, h
            ind.evaluated.update(evaluated)
        self.algorithm.tell(infills=pop)
        self._pending = None

    def population(self) -> list[Genome]:
        pop = self.algorithm.pop
        return [] if pop is None else [self.space.genome(x) for x in pop.get("X")]

    def state_dict(self) -> dict:
        """The live pymoo algorithm and pending offspring: pickle the result before the next ask."""
        return {"algorithm": self.algorithm, "pending": self._pending}

    def load_state_dict(self, d: dict) -> None:
        def load(v):
            return pickle.loads(v) if isinstance(v, bytes) else v

        self.algorithm = load(d["algorithm"])
        if type(self.algorithm.mating) is Mating:
            # a checkpoint written before ArrayMating: the same offspring, made on arrays
            self.algorithm.mating = ArrayMating(self.algorithm.mating)
        self.problem = self.algorithm.problem
        self._pending = load(d["pending"])
