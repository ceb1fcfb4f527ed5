"""The configuration a resumed run goes on with: its own, with other execution keys and a larger budget.

A run's ``config.json`` is the configuration it was started with. A resume may change how the
search executes (the ``EXECUTION_KEYS``: ``n_jobs``, ``backend``, ...) and raise its budget (the
``BUDGET_KEYS``: ``generations``, ``max_evaluations``), nothing else: every strategy asks the same
whatever its budget, so a run of 20 generations resumed with 30 replays its 20 and goes on to the
same evaluations, Pareto set and hypervolume as a run of 30 from the start. A budget never
shrinks (a resume with less than the run was given is refused), and a bound is never added to a
budget that had none. The grown budget is written to ``config.json`` once the replay has
reproduced the run's recorded generations (``RunDir.grow_budget``).
"""
from __future__ import annotations

import copy

from ..base.errors import shown
from ..schema.config import resolved
from .checkpoint import config_hash
from .run import RunDir
from .settings import BUDGET_KEYS, EXECUTION_KEYS


def _strip(config: dict) -> dict:
    """``config`` without the ``EXECUTION_KEYS`` and ``BUDGET_KEYS``, which may change on resume."""
    stripped = copy.deepcopy(config)
    for k in (*EXECUTION_KEYS, *BUDGET_KEYS):
        (stripped.get("search") or {}).pop(k, None)
    return stripped


def _differences(a, b, path: str = "") -> list[tuple[str, str, str]]:
    """Every key (dotted, in sorted order) where ``a`` and ``b`` differ, with both values (``absent``
    where one lacks it), as the configuration file spells them."""
    if not (isinstance(a, dict) and isinstance(b, dict)):
        return [] if a == b and type(a) is type(b) else [(path, shown(a), shown(b))]
    out = []
    for k in sorted(set(a) | set(b)):
        where = f"{path}.{k}" if path else k
        if k not in a or k not in b:
            out.append((where, shown(a[k]) if k in a else "absent", shown(b[k]) if k in b else "absent"))
        else:
            out += _differences(a[k], b[k], where)
    return out


def _sets(config: dict, key: str) -> bool:
    """Whether the configuration as given sets the dotted ``key``."""
    for part in key.split("."):
        if not isinstance(config, dict) or part not in config:
            return False
        config = config[part]
    return True


def _first_difference(stored: dict, given: dict, raw: dict) -> tuple[str, str, str]:
    """The difference to name: the first one in a key that ``raw`` (the configuration as given)
    sets, rather than a default that follows from it."""
    diffs = _differences(stored, given) or [("configuration", "one", "another")]
    return next((d for d in diffs if _sets(raw, d[0])), diffs[0])


def grown_budget(path, stored: dict, given: dict) -> dict | None:
    """The ``BUDGET_KEYS`` of ``given`` (a resolved ``[search]``) when they raise those of ``stored``
    (the run's), None when they are the same; ``ValueError`` of one line naming the key when one
    is lower than the run's, or bounds what the run left unbounded (None: no bound)."""
    changed = False
    for k in BUDGET_KEYS:
        was, now = stored.get(k), given.get(k)
        if was == now:
            continue
        if now is not None and was is None:
            raise ValueError(f"cannot resume {path}: [search] {k} = {now} would bound a run that had no {k}; "
                             f"a budget may only grow on resume")
        if now is not None and now < was:
            raise ValueError(f"cannot resume {path}: [search] {k} = {now} is lower than the run's budget (it was "
                             f"given {was}); a budget may only grow on resume")
        changed = True
    return {k: given.get(k) for k in BUDGET_KEYS} if changed else None


def resume_config(run: RunDir, config: dict | None) -> tuple[dict, dict | None]:
    """(the configuration to resume ``run`` with, the grown budget or None).

    The stored configuration, resolved (a ``config.json`` written before defaults were filled in
    gets them now), with the ``EXECUTION_KEYS`` that ``config`` sets and its budget when that grows
    (``grown_budget``); ``ValueError`` when ``config`` differs from the stored one in anything else
    (compared on resolved values)."""
    stored = resolved(run.config)
    if config is None:
        return stored, None
    given = resolved(config)
    if config_hash(given) != config_hash(stored):
        key, was, now = _first_difference(_strip(stored), _strip(given), config)
        raise ValueError(f"cannot resume {run.path}: the configuration differs in [{key.split('.')[0]}] "
                         f"({key}: {was} in the run, {now} given; only {', '.join(EXECUTION_KEYS)} may change "
                         f"on resume, and the budget ({', '.join(BUDGET_KEYS)}) grow)")
    budget = grown_budget(run.path, stored["search"], given["search"])
    merged = copy.deepcopy(stored)
    for k in EXECUTION_KEYS:
        if k in (config.get("search") or {}):
            if k in given["search"]:
                merged["search"][k] = given["search"][k]
            else:
                merged["search"].pop(k, None)
    for k, v in (budget or {}).items():
        if v is None:
            merged["search"].pop(k, None)
        else:
            merged["search"][k] = v
    return merged, budget
