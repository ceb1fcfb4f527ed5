"""Choosing one member of a Pareto set: by genome, at the knee, or the best in one objective under limits.

The knee is the member farthest from the line (in general, the hyperplane) through the extreme
members, in objectives normalized to [0, 1] over the set, on the side of the ideal point: where a
small gain in one objective starts to cost much in another (Das, 1999, "On characterizing the
'knee' of the Pareto curve based on normal-boundary intersection", Structural Optimization 18;
Branke et al., PPSN 2004). ``choose`` is the one function ``evo-nas train``, ``export`` and
``experiments/closed_loop.py`` call.
"""
from __future__ import annotations

import math
import re
from dataclasses import dataclass

import numpy as np

LIMIT = re.compile(r"\s*([A-Za-z_][A-Za-z0-9_]*)\s*=\s*([-+0-9.eE]+)\s*")


@dataclass(frozen=True)
class Choice:
    """The chosen record (a run's evaluation record: ``key`` and objectives) and how it was chosen."""

    record: dict
    how: str
    detail: str

    def to_dict(self) -> dict:
        return {"key": self.record["key"], "how": self.how, "detail": self.detail}


def parse_limits(items, op: str) -> list[tuple[str, str, float]]:
    """``["latency_ms=20", ...]`` -> ``[("latency_ms", op, 20.0), ...]``; ``op`` is ``"max"`` (``--under``)
    or ``"min"`` (``--over``). ``ValueError`` names an item that is not ``NAME=NUMBER``."""
    out = []
    for item in items or ():
        m = LIMIT.fullmatch(str(item))
        value = None
        if m:
            try:
                value = float(m.group(2))
            except ValueError:
                value = None
        if m is None or value is None or not math.isfinite(value):
            flag = "--under" if op == "max" else "--over"
            raise ValueError(f"{flag} {item!r}: expected NAME=NUMBER, e.g. latency_ms=20")
        out.append((m.group(1), op, value))
    return out


def knee_index(F: np.ndarray) -> tuple[int, float]:
    """Index of the knee of the minimization vectors ``F`` (N, M) of a Pareto set, and its distance.

    Each objective is scaled to [0, 1] over the set. The extremes are the members best in each
    objective; the knee maximizes the distance below the hyperplane through them (towards the
    ideal point at the origin). With fewer than three members, or extremes that span no
    hyperplane, it is the member nearest the ideal point (distance reported as 0)."""
    F = np.asarray(F, dtype=float)
    n, m = F.shape
    lo, hi = F.min(axis=0), F.max(axis=0)
    span = np.where(hi > lo, hi - lo, 1.0)
    Z = (F - lo) / span
    nearest = int(np.argmin(np.linalg.norm(Z, axis=1)))
    if n < 3:
        return nearest, 0.0
    E = Z[np.argmin(Z, axis=0)]                           # one extreme member per objective (M, M)
    # hyperplane w . z = 1 through the extremes
    try:
        w = np.linalg.solve(E, np.ones(m))
    except np.linalg.LinAlgError:
        return nearest, 0.0
    if not np.all(np.isfinite(w)) or np.linalg.norm(w) == 0:
        return nearest, 0.0
    dist = (1.0 - Z @ w) / np.linalg.norm(w)             # > 0: on the ideal point's side
    i = int(np.argmax(dist))
    if dist[i] <= 0:
        return nearest, 0.0
    return i, float(dist[i])


def _meets(record: dict, limits) -> bool:
    for name, op, value in limits:
        v = record.get(name)
        if v is None or not math.isfinite(float(v)):
            return False
        if (op == "max" and float(v) > value) or (op == "min" and float(v) < value):
            return False
    return True


def choose(front: list[dict], objectives, *, key: str | None = None, knee: bool = False, best: str | None = None,
           limits=(), records: list[dict] | None = None) -> Choice:
    """One member of the Pareto set ``front`` (records of a run; ``objectives``: the run's ``Objectives``).

    Exactly one of: ``key`` (a genome string: the member with that key, else, from ``records``, any
    successful evaluation with it), ``knee`` (``knee_index``), ``best`` (an objective name: the
    member best in it, maximized or minimized as the run's objectives say, among those meeting
    ``limits``, ``(name, "max"|"min", value)`` from ``parse_limits``). ``ValueError`` when none
    or several are given, when the key is not in the run, when an objective is unknown or when
    no member meets the limits (naming the best value reached)."""
    given = [x for x in (key is not None, knee, best is not None) if x]
    if len(given) != 1:
        raise ValueError("choose one member with exactly one of --key KEY, --knee, --best OBJECTIVE")
    if not front:
        raise ValueError("the run has no feasible Pareto members to choose from")
    if limits and best is None:
        raise ValueError("--under/--over apply to --best only")
    if key is not None:
        for r in front:
            if r["key"] == key:
                return Choice(r, "key", "given genome, a Pareto member")
        for r in records or ():
            if r["key"] == key and r.get("status") == "ok":
                return Choice(r, "key", "given genome, evaluated by the run but not in its Pareto set")
        raise ValueError(f"genome {key[:120]!r} is not among the run's evaluations")
    if knee:
        F = np.array([objectives.vector(r) for r in front])
        i, d = knee_index(F)
        names = ", ".join(objectives.names)
        if d == 0.0:
            return Choice(front[i], "knee", f"no member lies below the line through the extremes of the "
                                            f"{len(front)}-member Pareto set: the one nearest the ideal point, "
                                            f"objectives ({names}) scaled to [0, 1]")
        return Choice(front[i], "knee", f"largest distance ({d:.3f}) below the hyperplane through the extremes of "
                                        f"the {len(front)}-member Pareto set, objectives ({names}) scaled to [0, 1]")
    known = set(objectives.names) | {k for r in front for k, v in r.items() if isinstance(v, (int, float))}
    for name in [best, *(n for n, _, _ in limits)]:
        if name not in known:
            raise ValueError(f"{name!r} is not an objective of the run (known: {', '.join(objectives.names)})")
    ok = [r for r in front if r.get(best) is not None and _meets(r, limits)]
    if not ok:
        text = ", ".join(f"{n} {'<=' if op == 'max' else '>='} {v:g}" for n, op, v in limits)
        lows = {n: min(float(r[n]) if op == "max" else -float(r[n]) for r in front if r.get(n) is not None)
                for n, op, _ in limits}
        reached = ", ".join(f"{n} {'lowest' if op == 'max' else 'highest'} {abs(lows[n]):.4g}" for n, op, _ in limits)
        raise ValueError(f"no Pareto member meets {text} (the set reaches {reached})")
    sign = -1.0 if best in objectives.maximize or best in ("top1", "val_acc", "test_acc", "score") else 1.0
    r = min(ok, key=lambda r: (sign * float(r[best]), r["key"]))
    text = " and ".join(f"{n} {'<=' if op == 'max' else '>='} {v:g}" for n, op, v in limits)
    return Choice(r, "best", f"{'highest' if sign < 0 else 'lowest'} {best}" + (f" with {text}" if text else "")
                  + f" among {len(front)} Pareto members ({len(ok)} qualify)")


def choose_in_run(run, **kw) -> Choice:
    """``choose`` over a run directory's (``RunDir``) Pareto set and evaluations."""
    records = run.evaluations() if kw.get("key") is not None else None
    return choose(run.pareto(), run.objectives(), records=records, **kw)


__all__ = ["Choice", "choose", "choose_in_run", "knee_index", "parse_limits"]
