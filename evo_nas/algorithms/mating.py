"""pymoo's mating for NSGA-II on integer gene arrays: the same offspring, without an object per step.

pymoo's ``Mating`` (``pymoo.core.infill``, ``pymoo.core.mating``) wraps every step in a
``Population``: the parents' genes are read off their individuals, the children are made into
individuals after crossover, read back for mutation, written back after mutation and repair, and
read again for each duplicate check. ``ArrayMating`` runs the same steps in the same order, with
the same draws from pymoo's generator, on one gene array, and makes the offspring individuals once:
the selection (pymoo's tournament on the population), crossover, mutation and repair operators are
the same objects, so a run gives the same offspring as with pymoo's ``Mating``
(``tests/test_search_nsga2.py`` checks it generation by generation).
"""
from __future__ import annotations

import math

import numpy as np
from pymoo.core.mating import Mating
from pymoo.core.population import Population
from pymoo.core.variable import get


def population_genes(pop) -> np.ndarray:
    """The ``X`` rows of a pymoo population (len(pop), n_var), read off its individuals
    (``Population.get("X")`` asks each individual by name, which costs more than the comparison
    it feeds)."""
    return np.array([ind.X for ind in pop])


def row_bytes(X: np.ndarray) -> list[bytes]:
    """Each row of the integer array ``X`` as bytes: equal rows, equal bytes."""
    return [x.tobytes() for x in np.ascontiguousarray(X, dtype=np.int64)]


def new_rows(X: np.ndarray, known=frozenset(), siblings: bool = True) -> np.ndarray:
    """(len(X),) bool: the rows of the integer array ``X`` that are not in ``known`` (rows as
    ``row_bytes``) and, with ``siblings``, do not repeat an earlier row of ``X``."""
    keep = np.zeros(len(X), dtype=bool)
    seen: set[bytes] = set()
    for i, row in enumerate(row_bytes(X)):
        keep[i] = row not in known and row not in seen
        if siblings:
            seen.add(row)
    return keep


class ArrayMating(Mating):
    """``Mating`` (selection, crossover, mutation, repair, duplicate elimination against the child's
    siblings, the population and the offspring so far, up to ``n_max_iterations`` rounds) on gene
    arrays; the operators are those of ``mating``, whose crossover and mutation ``_do`` work on
    arrays (``evo_nas.algorithms.nsga2``)."""

    def __init__(self, mating: Mating):
        super().__init__(mating.selection, mating.crossover, mating.mutation, repair=mating.repair,
                         eliminate_duplicates=mating.eliminate_duplicates,
                         n_max_iterations=mating.n_max_iterations)
        if self.crossover.n_offsprings != self.crossover.n_parents:
            raise ValueError(f"ArrayMating needs a crossover with as many children as parents, got "
                             f"{self.crossover.n_offsprings} from {self.crossover.n_parents}")
        for op in (self.crossover, self.mutation, self.repair):
            if op.vtype is not None or getattr(op, "repair", None) is not None:
                raise ValueError(f"ArrayMating runs {type(op).__name__} without its own vtype or repair")

    def do(self, problem, pop, n_offsprings, random_state=None, n_max_iterations=None, **kwargs):
        if n_max_iterations is None:
            n_max_iterations = self.n_max_iterations
        P = population_genes(pop)
        known = set(row_bytes(P))
        parts: list[np.ndarray] = []
        n_off = 0
        n_infills = 0
        while n_off < n_offsprings:
            X = self._mate(problem, pop, P, n_offsprings - n_off, random_state, **kwargs)
            X = self.repair._do(problem, X, random_state=random_state, **kwargs)
            X = X[new_rows(X, known)][:n_offsprings - n_off]
            known.update(row_bytes(X))
            parts.append(X)
            n_off += len(X)
            n_infills += 1
            if n_infills >= n_max_iterations:
                break
        X = np.concatenate(parts) if parts else np.zeros((0, problem.n_var), dtype=np.int64)
        return Population.new("X", X) if len(X) else Population.create()

    def _mate(self, problem, pop, P: np.ndarray, n_remaining: int, random_state, **kwargs) -> np.ndarray:
        """One round of ``Mating._do``: the children's genes (n, n_var), before repair."""
        crossover, mutation = self.crossover, self.mutation
        n_matings = math.ceil(n_remaining / crossover.n_offsprings)
        parents = self.selection.do(problem, pop, n_matings, crossover.n_parents, to_pop=False,
                                    random_state=random_state, **kwargs)
        # Crossover.do: children of the matings that cross, copies of the parents elsewhere
        X = np.swapaxes(P[parents], 0, 1)
        children = np.empty((crossover.n_offsprings, n_matings, X.shape[2]), dtype=X.dtype)
        cross = random_state.random(n_matings) < get(crossover.prob, size=n_matings)
        if cross.any():
            Q = crossover._do(problem, X, random_state=random_state, **kwargs)
            children[:, cross] = Q[:, cross]
        children[:, ~cross] = X[:, ~cross]
        X = children.reshape(-1, X.shape[-1])
        # Mutation.do: each child mutated with the mutation's probability
        mutated = mutation._do(problem, X, random_state=random_state, **kwargs)
        hit = random_state.random(size=len(X)) <= get(mutation.prob, size=len(X))
        X = X.copy()
        X[hit] = mutated[hit]
        return X
