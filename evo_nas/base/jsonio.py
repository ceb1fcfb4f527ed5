"""Strict JSON for every file evo-nas writes: RFC 8259, so no ``NaN`` or ``Infinity`` tokens.

Python's ``json`` writes ``NaN`` and ``Infinity`` unless told not to, and strict parsers (jq,
JavaScript's ``JSON.parse``, serde_json, Go) reject such a file. ``dumps`` never writes them; each
writer chooses what a non-finite float means in its file:

- ``nonfinite="null"``: a missing value (evaluation records, logbooks, summaries, Pareto files,
  model cards, comparison summaries): a record is never lost for one odd field;
- ``nonfinite="raise"``: ``ValueError`` naming where the value sits (configurations, latency
  tables), where a value that must be a number cannot silently become nothing.

NumPy scalars and arrays are written as plain numbers and lists.
"""
from __future__ import annotations

import json
import math
from typing import Any, Callable

NONFINITE = ("null", "raise")


def _reject_constant(token: str):
    raise ValueError(f"{token} is not valid JSON (RFC 8259 has no NaN or Infinity)")


def read_json(path, what: str = "") -> Any:
    """The JSON value in the file ``path``. ``MissingFile`` (``what not found: PATH``) when there is no
    such file; a one-line ``ValueError`` (``what PATH: not valid JSON (...)``) when it is not JSON."""
    from pathlib import Path

    from .errors import MissingFile

    path = Path(path)
    if not path.is_file():
        raise MissingFile(f"{what or 'file'} not found: {path}")
    try:
        return json.loads(path.read_bytes())
    except ValueError as e:
        raise ValueError(f"{what + ' ' if what else ''}{path}: not valid JSON ({e})") from None


def loads_strict(text: str | bytes) -> Any:
    """``json.loads`` that rejects ``NaN``, ``Infinity`` and ``-Infinity`` (``ValueError``)."""
    return json.loads(text, parse_constant=_reject_constant)


def finite(obj: Any, nonfinite: str = "null", where: str = "value") -> Any:
    """A copy of ``obj`` with plain containers and numbers; a NaN or infinity becomes ``None``
    (``nonfinite="null"``) or raises ``ValueError`` naming its path under ``where``."""
    if nonfinite not in NONFINITE:
        raise ValueError(f"nonfinite = {nonfinite!r} (expected one of {', '.join(NONFINITE)})")
    return _walk(obj, nonfinite, where)


def _walk(x: Any, nonfinite: str, path: str) -> Any:
    if x is None or isinstance(x, (bool, int, str)):
        return x
    if isinstance(x, float):
        if math.isfinite(x):
            return x
        if nonfinite == "raise":
            raise ValueError(f"{path} = {x!r} is not a finite number and cannot be written as JSON")
        return None
    if isinstance(x, dict):
        return {k: _walk(v, nonfinite, f"{path}.{k}") for k, v in x.items()}
    if isinstance(x, (list, tuple)):
        return [_walk(v, nonfinite, f"{path}[{i}]") for i, v in enumerate(x)]
    if hasattr(x, "tolist") and callable(x.tolist):
        return _walk(x.tolist(), nonfinite, path)
    if hasattr(x, "item") and callable(x.item):
        return _walk(x.item(), nonfinite, path)
    return x


def plain(x: Any) -> Any:
    """``default`` for ``dumps``: a NumPy scalar as a plain number, an array as a list; ``TypeError`` otherwise."""
    if hasattr(x, "item"):
        return x.item()
    if hasattr(x, "tolist"):
        return x.tolist()
    raise TypeError(f"{type(x).__name__} is not JSON serializable")


def dumps(obj: Any, *, nonfinite: str = "null", where: str = "value", default: Callable | None = None,
          **kwargs) -> str:
    """``json.dumps`` that writes strict JSON; see ``finite`` for ``nonfinite`` and ``where``.

    ``default`` converts objects JSON does not know (as in ``json.dumps``); what it returns must
    itself be finite. Other keyword arguments (``indent``, ``sort_keys``) go to ``json.dumps``.
    """
    try:
        return json.dumps(obj, allow_nan=False, default=default, **kwargs)
    except ValueError:
        return json.dumps(finite(obj, nonfinite, where), allow_nan=False, default=default, **kwargs)


__all__ = ["dumps", "finite", "loads_strict", "plain", "NONFINITE"]
