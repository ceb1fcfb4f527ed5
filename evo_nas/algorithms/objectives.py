"""Which quantities a search optimizes, and how a result dict becomes a minimization vector.

MnasNet (Tan et al., 2019, arXiv 1807.11626) searches accuracy against measured latency; here
the two are separate objectives of a multi-objective search (NSGA-II, Deb et al., 2002), with
an optional hard latency target as a constraint (``latency_ms <= latency_target_ms``), and hard limits
on any objective from ``[constraints]`` (``evo_nas.algorithms.constraints``).

The ``[objectives]`` section::

    names = ["top1", "latency_ms"]               # default: the problem's default objectives;
                                                 # any the problem reports may be listed
    latency_target_ms = 25.0                     # optional hard constraint
    reference = { top1 = 0.70, latency_ms = 100.0 }   # hypervolume reference, natural units

The problem (``evo_nas.problems``) declares each objective's direction: maximized ones (top-1,
validation accuracy, a zero-cost score) enter the vector negated; the others are minimized as
they are.
A failed evaluation gets ``FAILED_PENALTY`` in every objective and constraint, so every
successful candidate dominates it and it never enters a Pareto set.
"""
from __future__ import annotations

import math
from dataclasses import dataclass, field

import numpy as np

FAILED_PENALTY = 1e9


@dataclass(frozen=True)
class Objectives:
    names: tuple[str, ...] = ("val_acc", "latency_ms")
    latency_target_ms: float | None = None
    reference: tuple[float, ...] | None = None
    maximize: frozenset[str] = frozenset({"val_acc", "score"})
    limits: tuple[tuple[str, str, float], ...] = ()
    #: each objective's unit as its problem declares it ("ms", "M", "fraction"; "" when unknown), for labels
    units: tuple[str, ...] = field(default=(), compare=False)

    @classmethod
    def from_dict(cls, section, problem=None, constraints=None) -> "Objectives":
        """The ``[objectives]`` section (a dict, an ``ObjectivesSection`` or None) for ``problem``, a
        ``Problem`` class or instance whose objectives may be named (default: the default problem's),
        with the ``[constraints]`` section's limits (``evo_nas.algorithms.constraints``).
        ``ValueError`` names an objective the problem does not report or a reference that does not
        match the names."""
        from ..base.errors import validate
        from .config import ObjectivesSection
        from .constraints import limits_from_section

        if problem is None:
            from ..problems import DEFAULT_PROBLEM, problem_class

            problem = problem_class(DEFAULT_PROBLEM)
        s = section if isinstance(section, ObjectivesSection) else validate(ObjectivesSection, section or {}, "objectives")
        available = {o.name: o for o in problem.objectives}
        maximize = frozenset(o.name for o in problem.objectives if o.direction == "max")
        names = list(problem.default_objectives) if s.names is None else s.names
        for n in names:
            if n not in available:
                raise ValueError(f"[objectives] names: {n!r} is not an objective of problem {problem.name!r} "
                                 f"(expected one of {', '.join(available)})")
        reference = None
        if s.reference is not None:
            extra = [k for k in s.reference if k not in names]
            missing = [n for n in names if n not in s.reference]
            if extra:
                raise ValueError(f"[objectives] reference: {extra[0]!r} is not one of the objectives "
                                 f"({', '.join(names)})")
            if missing:
                raise ValueError(f"[objectives] reference: {missing[0]!r} is missing (the reference names every "
                                 f"objective: {', '.join(names)})")
            reference = tuple(float(s.reference[n]) for n in names)
        limits = limits_from_section(constraints, list(available))
        return cls(tuple(names), s.latency_target_ms, reference, frozenset(n for n in names if n in maximize),
                   limits, tuple(available[n].unit for n in names))

    def to_dict(self) -> dict:
        d: dict = {"names": list(self.names)}
        if self.latency_target_ms is not None:
            d["latency_target_ms"] = self.latency_target_ms
        if self.reference is not None:
            d["reference"] = dict(zip(self.names, self.reference))
        return d

    @property
    def accuracy(self) -> str | None:
        """The first maximized objective (the accuracy a reward or a plot uses), or None."""
        return next((n for n in self.names if n in self.maximize), None)

    def unit(self, name: str) -> str:
        """The unit of objective ``name`` ("" when the problem gave none)."""
        return dict(zip(self.names, self.units)).get(name, "")

    @property
    def n_obj(self) -> int:
        return len(self.names)

    @property
    def n_constr(self) -> int:
        return (0 if self.latency_target_ms is None else 1) + len(self.limits)

    @staticmethod
    def ok(result: dict) -> bool:
        return result.get("status") == "ok"

    def vector(self, result: dict) -> np.ndarray:
        """The minimization vector of one result (``FAILED_PENALTY`` everywhere if it failed)."""
        if not self.ok(result):
            return np.full(self.n_obj, FAILED_PENALTY)
        out = []
        for n in self.names:
            v = result.get(n)
            if v is None or not math.isfinite(float(v)):
                return np.full(self.n_obj, FAILED_PENALTY)
            out.append(-float(v) if n in self.maximize else float(v))
        return np.array(out)

    def matrix(self, records) -> tuple[np.ndarray, np.ndarray]:
        """``vector`` of every record at once, shape (N, n_obj), and the feasibility mask, shape (N,)."""
        n = len(records)
        if n == 0:
            return np.zeros((0, self.n_obj)), np.zeros(0, dtype=bool)
        A = np.array([[r.get(k) for r in records] for k in self.names], dtype=float).T.copy()
        ok = np.array([r.get("status") == "ok" for r in records]) & np.isfinite(A).all(axis=1)
        A[:, [i for i, k in enumerate(self.names) if k in self.maximize]] *= -1
        A[~ok] = FAILED_PENALTY
        feasible = ok
        if self.latency_target_ms is not None:
            lat = A[:, self.names.index("latency_ms")] if "latency_ms" in self.names else \
                np.array([r.get("latency_ms") for r in records], dtype=float)
            feasible = ok & (lat <= self.latency_target_ms)
        for name, op, value in self.limits:
            v = np.array([r.get(name) if r.get(name) is not None else np.nan for r in records], dtype=float)
            with np.errstate(invalid="ignore"):
                feasible = feasible & ((v <= value) if op == "max" else (v >= value))
        return A, feasible

    def constraints(self, result: dict) -> np.ndarray:
        """Inequality constraints ``g <= 0`` (pymoo's convention): the latency target, then ``limits``."""
        from .constraints import violation

        g = []
        if self.latency_target_ms is not None:
            if not self.ok(result) or result.get("latency_ms") is None:
                g.append(FAILED_PENALTY)
            else:
                g.append(float(result["latency_ms"]) - self.latency_target_ms)
        for limit in self.limits:
            v = violation(result, limit) if self.ok(result) else None
            g.append(FAILED_PENALTY if v is None else v)
        return np.array(g, dtype=float)

    def feasible(self, result: dict) -> bool:
        return self.ok(result) and bool(np.all(self.vector(result) < FAILED_PENALTY)) and bool(
            np.all(self.constraints(result) <= 0))

    def reference_vector(self) -> np.ndarray | None:
        if self.reference is None:
            return None
        return np.array([-r if n in self.maximize else r for n, r in zip(self.names, self.reference)])

    def natural(self, vector) -> dict:
        """A minimization vector back in natural units."""
        return {n: (-float(v) if n in self.maximize else float(v)) for n, v in zip(self.names, vector)}
