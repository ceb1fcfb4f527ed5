"""Run directories: the resolved config, every evaluation, the logbook, the checkpoint, the Pareto set.

Layout (DEAP's checkpoint recipe: population, generation, archive, logbook and RNG state
saved together; here the archive is the append-only ``evaluations.jsonl``)::

    config.json         the resolved configuration (all sections), written once
    evaluations.jsonl   one line per unique genome of the run, appended, flushed and fsynced
                        (two when latency is measured serially after the accuracy: the last wins)
    logbook.jsonl       one line per generation (evaluations, cache hits, failures, hypervolume)
    checkpoint.pkl      strategy state (RNG included), generation, logbook; atomically replaced
    run.json            status and summary, atomically replaced
    pareto.json/.csv    the non-dominated set over every evaluation of the run (and pareto.png)

``kill -9`` can leave a torn last line in a ``.jsonl`` file; readers skip it and the next
append starts on a fresh line. Nothing here ever truncates a file that holds results.
"""
from __future__ import annotations

import csv
import io
import json
import os
import pickle
from pathlib import Path

import numpy as np

from ..jsonio import dumps
from ..pareto import hypervolume, non_dominated
from .objectives import Objectives

CONFIG = "config.json"
EVALUATIONS = "evaluations.jsonl"
LOGBOOK = "logbook.jsonl"
CHECKPOINT = "checkpoint.pkl"
SUMMARY = "run.json"
CHECKPOINT_VERSION = 1


def atomic_write(path: Path, data: bytes) -> None:
    """Replace ``path`` with ``data`` all at once (temporary file, fsync, rename); an interrupted
    write leaves the old file and no temporary one."""
    tmp = path.with_name(f".{path.name}.tmp{os.getpid()}")
    try:
        with open(tmp, "wb") as f:
            f.write(data)
            f.flush()
            os.fsync(f.fileno())
        os.replace(tmp, path)
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise


def _json_default(x):
    if hasattr(x, "item"):
        return x.item()
    if hasattr(x, "tolist"):
        return x.tolist()
    raise TypeError(f"{type(x).__name__} is not JSON serializable")


def read_jsonl(path: Path) -> list[dict]:
    """Every complete line; a torn last line (killed mid-write) is skipped, a torn inner line is an error."""
    if not path.exists():
        return []
    lines = path.read_bytes().split(b"\n")
    out = []
    for n, line in enumerate(lines, 1):
        if not line.strip():
            continue
        try:
            out.append(json.loads(line))
        except json.JSONDecodeError:
            if n == len(lines) or all(not x.strip() for x in lines[n:]):
                continue
            raise ValueError(f"{path}: line {n} is not valid JSON (corrupt run file)") from None
    return out


def append_jsonl(path: Path, records) -> None:
    records = list(records)
    if not records:
        return
    blob = "".join(dumps(r, sort_keys=True, default=_json_default) + "\n" for r in records).encode()
    if path.exists():
        _drop_torn_tail(path)
    with open(path, "ab") as f:
        f.write(blob)
        f.flush()
        os.fsync(f.fileno())


def _drop_torn_tail(path: Path) -> None:
    """Cut an incomplete last line (a write interrupted by kill -9); it never held a whole record."""
    with open(path, "r+b") as f:
        size = f.seek(0, os.SEEK_END)
        if size == 0:
            return
        f.seek(size - 1)
        if f.read(1) == b"\n":
            return
        pos = size
        while pos > 0:
            step = min(4096, pos)
            f.seek(pos - step)
            chunk = f.read(step)
            nl = chunk.rfind(b"\n")
            if nl >= 0:
                f.truncate(pos - step + nl + 1)
                return
            pos -= step
        f.truncate(0)


class RunDir:
    """A search's directory; ``RunDir(path)`` opens an existing one (``FileNotFoundError`` if absent)."""

    def __init__(self, path, *, must_exist: bool = True):
        self.path = Path(path)
        if must_exist and not (self.path / CONFIG).is_file():
            raise FileNotFoundError(f"{self.path} is not a run directory (no {CONFIG})")

    @classmethod
    def create(cls, path, config: dict) -> "RunDir":
        """A new run; refuses a directory that already holds a run's results."""
        path = Path(path)
        if (path / CONFIG).exists() or (path / EVALUATIONS).exists():
            raise FileExistsError(f"run directory {path} already holds a run; resume it with "
                                  f"--resume {path} or choose another --run-dir")
        blob = dumps(config, nonfinite="raise", where="config", indent=2, sort_keys=True, default=_json_default)
        path.mkdir(parents=True, exist_ok=True)
        run = cls(path, must_exist=False)
        atomic_write(path / CONFIG, blob.encode())
        return run

    # -- reading ------------------------------------------------------------------------
    @property
    def config(self) -> dict:
        try:
            return json.loads((self.path / CONFIG).read_text())
        except json.JSONDecodeError as e:
            raise ValueError(f"{self.path / CONFIG}: not valid JSON ({e})") from None

    def objectives(self) -> Objectives:
        return Objectives.from_dict(self.config.get("objectives"))

    def eval_config(self):
        from .engine import make_eval_config

        return make_eval_config(self.config)

    def space(self):
        return self.eval_config().space()

    def evaluations(self) -> list[dict]:
        """One record per genome, in first-evaluated order. A genome whose latency is measured
        serially after its accuracy has two lines (``latency_pending``, then complete); the last wins."""
        by_key: dict[str, dict] = {}
        for r in read_jsonl(self.path / EVALUATIONS):
            by_key[r["key"]] = r
        return list(by_key.values())

    def logbook(self) -> list[dict]:
        return read_jsonl(self.path / LOGBOOK)

    def summary(self) -> dict:
        p = self.path / SUMMARY
        return json.loads(p.read_text()) if p.exists() else {}

    def pareto(self, records: list[dict] | None = None) -> list[dict]:
        """The feasible non-dominated records over every evaluation, sorted by the last objective."""
        return pareto_front(self.evaluations() if records is None else records, self.objectives())

    # -- writing ------------------------------------------------------------------------
    def append_evaluations(self, records) -> None:
        append_jsonl(self.path / EVALUATIONS, records)

    def append_logbook(self, entries) -> None:
        append_jsonl(self.path / LOGBOOK, entries)

    def rewrite_logbook(self, entries) -> None:
        blob = "".join(dumps(e, sort_keys=True, default=_json_default) + "\n" for e in entries).encode()
        atomic_write(self.path / LOGBOOK, blob)

    def write_summary(self, summary: dict) -> None:
        atomic_write(self.path / SUMMARY, dumps(summary, indent=2, sort_keys=True, default=_json_default).encode())

    def save_checkpoint(self, state: dict) -> None:
        atomic_write(self.path / CHECKPOINT, pickle.dumps({"version": CHECKPOINT_VERSION, **state}))

    def load_checkpoint(self) -> dict | None:
        p = self.path / CHECKPOINT
        if not p.exists():
            return None
        try:
            state = pickle.loads(p.read_bytes())
        except Exception as e:
            raise ValueError(f"{p}: corrupt checkpoint ({type(e).__name__}: {e})") from None
        if not isinstance(state, dict) or state.get("version") != CHECKPOINT_VERSION:
            raise ValueError(f"{p}: unknown checkpoint format")
        return state

    def write_pareto(self, front: list[dict] | None = None) -> tuple[Path, Path]:
        front = self.pareto() if front is None else front
        objectives = self.objectives()
        js, cs = self.path / "pareto.json", self.path / "pareto.csv"
        payload = {"objectives": objectives.to_dict(), "size": len(front),
                   "hypervolume": front_hypervolume(front, objectives), "front": front}
        atomic_write(js, dumps(payload, indent=2, sort_keys=True, default=_json_default).encode())
        atomic_write(cs, front_csv(front, objectives).encode())
        return js, cs


PARETO_COLUMNS = ("val_acc", "latency_ms", "params_m", "macs_m", "generation", "key")


def front_csv(front: list[dict], objectives: Objectives) -> str:
    cols = list(dict.fromkeys([*objectives.names, *PARETO_COLUMNS]))
    buf = io.StringIO()
    w = csv.writer(buf, lineterminator="\n")
    w.writerow(cols)
    for r in front:
        w.writerow([r.get(c) for c in cols])
    return buf.getvalue()


def pareto_front(records: list[dict], objectives: Objectives) -> list[dict]:
    ok = [r for r in records if objectives.feasible(r)]
    seen, unique = set(), []
    for r in ok:
        if r["key"] not in seen:
            seen.add(r["key"])
            unique.append(r)
    if not unique:
        return []
    F = np.array([objectives.vector(r) for r in unique])
    front = [r for r, m in zip(unique, non_dominated(F)) if m]
    last = objectives.names[-1]
    return sorted(front, key=lambda r: (r[last], r["key"]))


def front_hypervolume(front: list[dict], objectives: Objectives) -> float | None:
    ref = objectives.reference_vector()
    if ref is None:
        return None
    if not front:
        return 0.0
    return hypervolume(np.array([objectives.vector(r) for r in front]), ref)
