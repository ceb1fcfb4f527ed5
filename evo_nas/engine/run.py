"""Run directories: the resolved config, every evaluation, the logbook, the checkpoint, the Pareto set.

Layout (DEAP's checkpoint recipe: population, generation, archive, logbook and RNG state
saved together; here the archive is the append-only ``evaluations.jsonl``)::

    config.json         the resolved configuration (all sections), written when the run starts
                        (and again when a resume raises its budget, ``evo_nas.engine.resuming``)
    evaluations.jsonl   one line per unique genome of the run, appended, flushed and fsynced
                        (two when latency is measured serially after the accuracy: the last wins)
    logbook.jsonl       one line per generation (evaluations, cache hits, failures, hypervolume),
                        appended and fsynced with each checkpoint
    checkpoint.json     where the search stood, bound to this run's configuration and records
                        (``evo_nas.engine.checkpoint``: data only, no pickle); atomically replaced
    checkpoint.prev.json the one before: used when checkpoint.json is damaged
    run.json            status and summary, atomically replaced
    pareto.json/.csv    the non-dominated set over every evaluation of the run (and pareto.png)
    run.lock            while a process writes the run: its pid, host and start (``RunLock``)

``kill -9`` can leave a torn last line in a ``.jsonl`` file; readers skip it and the next
append starts on a fresh line (``evo_nas.engine.jsonl``). Nothing here ever truncates a file that
holds results. The Pareto outputs are computed by ``evo_nas.engine.front``; a call that writes a
run holds its lock through ``evo_nas.engine.guard``.
"""
from __future__ import annotations

import json
from pathlib import Path

from ..algorithms.objectives import Objectives
from ..base.errors import MissingFile
from ..base.files import atomic_write
from ..base.jsonio import dumps, plain
from . import checkpoint as ckpt
from .front import front_csv, front_hypervolume, pareto_front
from .jsonl import append_jsonl, append_text, drop_torn_tail, jsonl_text, read_jsonl
from .lock import RunLock

CONFIG = "config.json"
EVALUATIONS = "evaluations.jsonl"
LOGBOOK = "logbook.jsonl"
CHECKPOINT = "checkpoint.json"
PREVIOUS_CHECKPOINT = "checkpoint.prev.json"
# checkpoints pickled by evo-nas before 0.2: never read (a pickle can run code); a resume replays instead
LEGACY_CHECKPOINTS = ("checkpoint.pkl", "checkpoint.prev.pkl")
SUMMARY = "run.json"


def _config_blob(config: dict) -> bytes:
    return dumps(config, nonfinite="raise", where="config", indent=2, sort_keys=True, default=plain).encode()


class RunDir:
    """A search's directory; ``RunDir(path)`` opens an existing one (``FileNotFoundError`` if absent)."""

    def __init__(self, path, *, must_exist: bool = True):
        self.path = Path(path)
        self._records: ckpt.FileDigest | None = None  # evaluations.jsonl's length and sha256, once appended to
        if must_exist and not (self.path / CONFIG).is_file():
            if not self.path.exists():
                raise MissingFile(f"run directory not found: {self.path}")
            raise MissingFile(f"{self.path} is not a run directory (no {CONFIG})")

    @classmethod
    def create(cls, path, config: dict) -> "RunDir":
        """A new run; refuses a directory that already holds a run's results."""
        path = Path(path)
        if (path / CONFIG).exists() or (path / EVALUATIONS).exists():
            raise FileExistsError(f"run directory {path} already holds a run; resume it (evo-nas search --resume "
                                  f"{path}, or evo_nas.resume) or choose another run directory")
        blob = _config_blob(config)
        path.mkdir(parents=True, exist_ok=True)
        run = cls(path, must_exist=False)
        atomic_write(path / CONFIG, blob)
        return run

    def grow_budget(self, budget: dict) -> None:
        """Replace the ``[search]`` budget keys of ``config.json`` with ``budget`` (a key set to None
        is removed), atomically; the rest of the stored configuration is kept as it is."""
        config = self.config
        search = config.setdefault("search", {})
        for k, v in budget.items():
            if v is None:
                search.pop(k, None)
            else:
                search[k] = v
        atomic_write(self.path / CONFIG, _config_blob(config))

    # -- reading ------------------------------------------------------------------------
    @property
    def config(self) -> dict:
        try:
            config = json.loads((self.path / CONFIG).read_bytes())
        except (ValueError, UnicodeDecodeError) as e:
            raise ValueError(f"{self.path / CONFIG}: not valid JSON ({e})") from None
        if not isinstance(config, dict):
            raise ValueError(f"{self.path / CONFIG}: not a JSON table")
        return config

    def resolved_config(self):
        """The stored configuration as the schema's typed ``Config``, defaults filled in (a ``config.json``
        written before a default was declared gets it here, as on resume)."""
        from ..schema.config import resolve

        return resolve(self.config)

    def objectives(self) -> Objectives:
        from ..problems import problem_class, problem_name

        config = self.config
        return Objectives.from_dict(config.get("objectives"), problem_class(problem_name(config)),
                                    config.get("constraints"))

    def problem(self):
        """The run's problem, rebuilt from its stored configuration."""
        from ..problems import make_problem

        return make_problem(self.config)

    def space(self):
        return self.problem().space

    def evaluations(self) -> list[dict]:
        """One record per genome, in first-evaluated order. A genome whose latency is measured
        serially after its accuracy has two lines (``latency_pending``, then complete); the last wins."""
        by_key: dict[str, dict] = {}
        for r in read_jsonl(self.path / EVALUATIONS, ckpt.not_a_record):
            by_key[r["key"]] = r
        return list(by_key.values())

    def logbook(self) -> list[dict]:
        return read_jsonl(self.path / LOGBOOK, ckpt.not_an_entry)

    def summary(self) -> dict:
        """``run.json`` ({} before it is written); ``ValueError`` naming the file when it is not a JSON table."""
        p = self.path / SUMMARY
        if not p.exists():
            return {}
        try:
            summary = json.loads(p.read_bytes())
        except (ValueError, UnicodeDecodeError) as e:
            raise ValueError(f"{p}: not valid JSON ({e}); the run's results are in {EVALUATIONS}") from None
        if not isinstance(summary, dict):
            raise ValueError(f"{p}: not a JSON table; the run's results are in {EVALUATIONS}")
        return summary

    def lock(self) -> RunLock:
        """This directory's writer lock (``with run.lock():``)."""
        return RunLock(self.path)

    def pareto(self, records: list[dict] | None = None) -> list[dict]:
        """The feasible non-dominated records over every evaluation, sorted by the last objective."""
        return pareto_front(self.evaluations() if records is None else records, self.objectives())

    # -- writing ------------------------------------------------------------------------
    def append_evaluations(self, records, text: str | None = None) -> None:
        """Append records (one fsync); ``text``: the same records already written as JSON lines."""
        text = jsonl_text(records) if text is None else text
        if not text:
            return
        self.records_digest()
        append_text(self.path / EVALUATIONS, text)
        self._records.update(text.encode())

    def records_digest(self) -> ckpt.FileDigest:
        """The length and sha256 of ``evaluations.jsonl`` (a torn last line cut first), kept as this object appends."""
        if self._records is None:
            path = self.path / EVALUATIONS
            if path.exists():
                drop_torn_tail(path)
            self._records = ckpt.FileDigest(path)
        return self._records

    def append_logbook(self, entries) -> None:
        """Append generations, fsynced (the engine does so before a checkpoint counts them)."""
        append_jsonl(self.path / LOGBOOK, entries)

    def rewrite_logbook(self, entries) -> None:
        blob = "".join(dumps(e, sort_keys=True, default=plain) + "\n" for e in entries).encode()
        atomic_write(self.path / LOGBOOK, blob)

    def write_report(self, name: str, lines: list[dict]) -> None:
        """Replace the JSON-lines file ``name`` (a strategy's report, e.g. ``surrogate.jsonl``) atomically."""
        atomic_write(self.path / name, "".join(dumps(e, sort_keys=True, default=plain) + "\n" for e in lines).encode())

    def write_summary(self, summary: dict) -> None:
        atomic_write(self.path / SUMMARY, dumps(summary, indent=2, sort_keys=True, default=plain).encode())

    def save_checkpoint(self, state: dict) -> None:
        """Replace ``checkpoint.json`` with ``state`` and the length and sha256 of ``evaluations.jsonl``
        now (``checkpoint.save``); the one it replaces stays as ``checkpoint.prev.json``."""
        ckpt.save(self.path, state, self.records_digest())

    def read_checkpoint(self, name: str = CHECKPOINT) -> dict:
        """The checkpoint file ``name`` as data; ``ValueError`` naming the file when it is damaged."""
        return ckpt.read(self.path / name)

    def load_checkpoint(self) -> dict | None:
        """The last intact checkpoint (``find_checkpoint``), or None."""
        return self.find_checkpoint()[0]

    def find_checkpoint(self) -> tuple[dict | None, str | None]:
        """(the last intact checkpoint or None, a note on what was not usable or None): ``checkpoint.find``."""
        return ckpt.find(self.path)

    def legacy_checkpoint(self) -> Path | None:
        """A checkpoint pickled by an older evo-nas, which this version does not read (None: none)."""
        return next((self.path / n for n in LEGACY_CHECKPOINTS if (self.path / n).exists()), None)

    def pareto_made_from(self) -> int | None:
        """How many evaluation records the current ``pareto.json`` was taken over (None: no file).

        A file written before this count was stored gives its front size, a lower bound."""
        try:
            d = json.loads((self.path / "pareto.json").read_text())
        except (OSError, ValueError):
            return None
        n = d.get("records", d.get("size")) if isinstance(d, dict) else None
        return n if isinstance(n, int) and not isinstance(n, bool) else None

    def write_pareto(self, front: list[dict] | None = None, records: list[dict] | None = None) -> tuple[Path, Path]:
        """Write ``pareto.json`` (with the count of records it was taken over) and ``pareto.csv``.

        ``records``: the evaluations the front comes from (default: the run's); ``front``: their
        Pareto set (default: computed). ``ValueError`` when the existing ``pareto.json`` was made
        from more records than these: results are never rewritten from less data.
        """
        records = self.evaluations() if records is None else records
        front = self.pareto(records) if front is None else front
        made_from = self.pareto_made_from()
        if made_from is not None and len(records) < made_from:
            raise ValueError(f"{self.path / 'pareto.json'} was made from {made_from} evaluation records and "
                             f"{self.path / EVALUATIONS} now holds {len(records)}; refusing to replace it with a "
                             f"Pareto set of less data (restore the evaluations, or delete pareto.json to accept)")
        objectives = self.objectives()
        js, cs = self.path / "pareto.json", self.path / "pareto.csv"
        payload = {"objectives": objectives.to_dict(), "size": len(front), "records": len(records),
                   "hypervolume": front_hypervolume(front, objectives), "front": front}
        atomic_write(js, dumps(payload, indent=2, sort_keys=True, default=plain).encode())
        atomic_write(cs, front_csv(front, objectives).encode())
        return js, cs
