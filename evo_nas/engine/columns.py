"""Candidates as gene arrays, and the records of a batch problem's column scores built column by column.

A strategy that asks in gene arrays (``ask_array``) and a problem that scores them in columns
(``Problem.evaluate_columns``: NSGA-II on Once-for-All) go without genome objects: keys, records
and their JSON lines are built a column at a time, never with Python work per record beyond one
dict, so the engine costs little beside the search itself. Anything the columns cannot say (a
value that is not a finite number, an objective missing, a failing batch) goes through the
evaluation service's ``record`` one row at a time, as every other problem does.
"""
from __future__ import annotations

import json
import time
from json.encoder import encode_basestring_ascii
from typing import Callable

import numpy as np

from ..problems.service import EvaluationService, set_threads
from ..spaces.space import Genome
from .jsonl import json_lines

# what ``record`` sets itself; a problem's columns never name them
RECORD_FIELDS = frozenset({"key", "genes", "generation", "cached", "status", "error", "eval_s", "latency_pending"})


class Asked:
    """One generation's candidates and their keys: the canonical gene array of a strategy that asks
    in arrays (``ask_array``; genomes are built only where one is needed), else its genomes."""

    def __init__(self, space, genomes=None, X=None):
        self.space = space
        self.X = X
        self._genomes = genomes
        self.keys = space.keys(X) if genomes is None else [g.key for g in genomes]

    def __len__(self) -> int:
        return len(self.keys)

    def genome(self, i: int) -> Genome:
        if self._genomes is not None:
            return self._genomes[i]
        return Genome._from_canonical(self.space, tuple(self.X[i].tolist()), self.keys[i])

    def genes(self, i: int) -> list[int]:
        return self.X[i].tolist() if self._genomes is None else list(self._genomes[i].genes)


class GeneRows:
    """Gene rows by key, in one growing integer array: no Python object per row."""

    def __init__(self, n_genes: int, cardinality: int):
        self.index: dict[str, int] = {}
        self.X = np.zeros((0, n_genes), dtype=np.min_scalar_type(cardinality - 1))

    def add(self, keys: list[str], X: np.ndarray) -> None:
        n = len(self.index)
        if n + len(X) > len(self.X):
            grown = np.zeros((max(2 * len(self.X), n + len(X), 1024), self.X.shape[1]), dtype=self.X.dtype)
            grown[:n] = self.X[:n]
            self.X = grown
        self.X[n:n + len(X)] = X
        self.index.update(zip(keys, range(n, n + len(X))))

    def __getitem__(self, key: str) -> list[int]:
        return self.X[self.index[key]].tolist()


def rows_json(X: np.ndarray) -> list[str]:
    """The JSON text of every row of the integer array ``X``; digits 0-9 (every gene of most spaces)
    are laid out as bytes at once."""
    n, m = X.shape
    if not m or X.min() < 0 or X.max() > 9:
        return [json.dumps(r) for r in X.tolist()]
    width = 3 * m  # "[" + digits joined by ", " + "]"
    buf = np.empty((n, width), dtype=np.uint8)
    buf[:, 0] = ord("[")
    buf[:, 1::3] = X + ord("0")
    buf[:, 2:width - 1:3] = ord(",")
    buf[:, 3:width - 1:3] = ord(" ")
    buf[:, -1] = ord("]")
    text = buf.tobytes().decode("ascii")
    return [text[i:i + width] for i in range(0, n * width, width)]


def column_records(asked: Asked, todo: list[int], columns: dict, per: float, generation: int,
                   objectives, gene_rows: GeneRows) -> tuple[list[dict], str] | None:
    """The ``record`` of every row a problem scored as columns, and their JSON lines, built column by
    column (their genes go to ``gene_rows``, not into the records); a column holds numbers or strings
    (e.g. where a value came from); None when a value needs ``record``'s checks (not a finite number
    or a string, or one of the ``objectives`` names missing)."""
    n = len(todo)
    values = {}
    for k, v in columns.items():
        a = np.asarray(v)
        if k in RECORD_FIELDS or a.shape != (n,) or a.dtype.kind not in "iufU" or \
                a.dtype.kind == "f" and not np.isfinite(a).all():
            return None
        values[k] = a.tolist()
    if any(k not in values for k in objectives):
        return None
    keys = [asked.keys[i] for i in todo]
    X = asked.X[todo]
    per = float(per)
    template = dict.fromkeys(values)
    template.update(status="ok", error=None, eval_s=per, generation=generation, cached=False, key=None)
    records = [template.copy() for _ in keys]
    for name, column in [*values.items(), ("key", keys)]:
        for rec, v in zip(records, column):
            rec[name] = v
    gene_rows.add(keys, X)
    text = {k: list(map(encode_basestring_ascii, v)) if v and isinstance(v[0], str) else json.dumps(v)[1:-1].split(", ")
            for k, v in values.items()}
    text.update(status='"ok"', error="null", eval_s=json.dumps(per), generation=str(generation), cached="false",
                key=list(map(encode_basestring_ascii, keys)), genes=rows_json(X))
    return records, json_lines(text, n)


def evaluate_columns(service: EvaluationService, asked: Asked, todo: list[int], generation: int,
                     gene_rows: GeneRows, commit_built: Callable[[list[dict], str], None]) -> bool:
    """Score the rows ``todo`` of ``asked.X`` with ``Problem.evaluate_columns`` and commit their records;
    False (nothing done) when the problem offers no columns. Records built from columns go to
    ``commit_built(records, text)``; any others (a failing batch, values ``record`` must check)
    to ``service.commit``. For a batch problem without a latency model, and no replacing evaluator."""
    problem = service.problem
    set_threads(service.threads)
    t0 = time.perf_counter()
    results = None
    try:
        columns = problem.evaluate_columns(asked.X[todo])
        if columns is None:
            return False
        if any(len(v) != len(todo) for v in columns.values()):
            raise ValueError(f"problem {problem.name!r} returned columns of "
                             f"{sorted({len(v) for v in columns.values()})} values for {len(todo)} genomes")
    except Exception as e:  # noqa: BLE001  (a failing batch fails its candidates, not the run)
        results = [{"status": "failed", "error": f"{type(e).__name__}: {e}"}] * len(todo)
    per = (time.perf_counter() - t0) / len(todo)
    if results is None:
        built = column_records(asked, todo, columns, per, generation, service.objectives, gene_rows)
        if built is not None:
            commit_built(*built)
            return True
        results = [{**dict(zip(columns, row)), "status": "ok", "error": None}
                   for row in zip(*(np.asarray(v).tolist() for v in columns.values()))]
    service.commit([service.record(asked.keys[i], asked.genes(i), {**r, "eval_s": per}, generation, False)
                    for i, r in zip(todo, results)])
    return True
