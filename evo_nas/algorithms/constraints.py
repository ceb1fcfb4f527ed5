"""Hard limits on objectives as inequality constraints ``g(x) <= 0`` (pymoo's convention).

NSGA-II handles them as Deb et al. (2002, section VI) do and pymoo's ``NSGA2`` does by default:
a feasible solution beats an infeasible one, two infeasible ones compare by total violation, and
only feasible solutions enter the Pareto set. Strategies without a notion of constraints (random
search, aging evolution, RL) search as before; their Pareto set is filtered to feasible members
the same way. A limit is ``(name, "max" | "min", value)`` in the objective's natural unit: from
``[constraints]`` (``evo_nas.algorithms.constraints_config``) and ``[objectives] latency_target_ms``.
"""
from __future__ import annotations

import math

Limit = tuple[str, str, float]


def limits_from_section(section, available=None) -> tuple[Limit, ...]:
    """``[constraints]`` (a dict of ``{min, max}`` tables or ``Bound`` models, or None) as limits, sorted by
    name; ``ValueError`` of one line for a bad bound or a name not in ``available`` (when given)."""
    from ..base.errors import validate
    from .constraints_config import Bound

    if section is None:
        return ()
    if not isinstance(section, dict):
        raise ValueError(f"[constraints] must be a table of {{ min = ..., max = ... }}, got {section!r}")
    out: list[Limit] = []
    for name in sorted(section):
        if available is not None and name not in available:
            raise ValueError(f"[constraints] {name!r} is not an objective of the problem (expected one of "
                             f"{', '.join(available)})")
        raw = section[name]
        b = raw if isinstance(raw, Bound) else validate(Bound, raw, f"constraints.{name}")
        if b.min is not None:
            out.append((name, "min", float(b.min)))
        if b.max is not None:
            out.append((name, "max", float(b.max)))
    return tuple(out)


def violation(record: dict, limit: Limit) -> float | None:
    """How far ``record`` is past ``limit`` (<= 0: met), or None when it holds no finite value for it."""
    name, op, value = limit
    v = record.get(name)
    if v is None or not math.isfinite(float(v)):
        return None
    return float(v) - value if op == "max" else value - float(v)


def run_limits(config: dict) -> list[list]:
    """Every hard limit of a run's stored configuration: ``[name, op, value]`` lists (JSON-ready)."""
    out = [list(lim) for lim in limits_from_section(config.get("constraints"))]
    target = (config.get("objectives") or {}).get("latency_target_ms")
    if target is not None and ["latency_ms", "max", float(target)] not in out:
        out.append(["latency_ms", "max", float(target)])
    return out


def limit_text(limit) -> str:
    name, op, value = limit
    return f"{name} {'<=' if op == 'max' else '>='} {value:g}"


__all__ = ["Limit", "limits_from_section", "violation", "run_limits", "limit_text"]
