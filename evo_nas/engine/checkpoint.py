"""Data-only checkpoints bound to their run, and the check of a run's records against what it knows.

A checkpoint (``checkpoint.json``) holds no code and no strategy state: only where the search
stood and what it stood on. The search state is always rebuilt by replaying the seeded search
over the run's own records (``evo_nas.engine.loop``: nothing recorded is evaluated again), so
nothing a run directory holds is ever unpickled. The checkpoint binds that replay to its run:

- ``config_hash``: the run's resolved configuration without the execution keys and the budget,
  which may grow on resume (seed, ``[search]`` and every other section included); a checkpoint of
  another run is refused (version 2 hashed the budget too: ``config.json``'s is used for it);
- ``fingerprint``: the problem's evaluation fingerprint;
- ``generation``, ``logbook``, ``evaluations``: the generations done, logbook entries and
  evaluations counted when it was written;
- ``records_bytes``, ``records_sha256``: the length and sha256 of ``evaluations.jsonl`` as it
  was then. The file only grows: a shorter file, or a prefix with another hash, means records
  were lost or replaced, and the resume stops with one line naming them.

A strategy needs nothing for this beyond the ``Strategy`` protocol: ask and tell deterministic
given its seeded generator and the results it is told.

``prepare_resume`` makes the checks before a replay and returns what the replay itself must find
(every genome of the recorded generations) and reproduce (the recorded logbook): ``Resume``.
``not_a_record`` and ``not_an_entry`` check the lines of ``evaluations.jsonl`` and ``logbook.jsonl``.
"""
from __future__ import annotations

import copy
import hashlib
import json
import math
import os
import shutil
import sys
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable

from ..algorithms.config import BUDGET_KEYS, EXECUTION_KEYS
from ..base.files import atomic_write
from ..base.hashing import fingerprint
from ..base.jsonio import dumps
from ..schema.config import resolved

FORMAT = "evo-nas checkpoint"
VERSION = 3
READABLE = (2, 3)  # version 2's config_hash includes the budget
FIELDS = {"generation": int, "logbook": int, "evaluations": int, "records_bytes": int, "records_sha256": str,
          "config_hash": str, "fingerprint": str}


def config_hash(config: dict, *, budget: bool = False) -> str:
    """The fingerprint of a resolved configuration without the ``EXECUTION_KEYS`` and ``BUDGET_KEYS``
    (which may change on resume); ``budget``: with the budget, as checkpoints of version 2 hashed it."""
    stripped = copy.deepcopy(config)
    for k in EXECUTION_KEYS if budget else (*EXECUTION_KEYS, *BUDGET_KEYS):
        (stripped.get("search") or {}).pop(k, None)
    return fingerprint(stripped)


class FileDigest:
    """The length and running sha256 of an append-only file, kept up to date as this process appends."""

    def __init__(self, path: Path):
        self.path = path
        self.size = 0
        self.sha = hashlib.sha256()
        if path.exists():
            with open(path, "rb") as f:
                for chunk in iter(lambda: f.read(1 << 20), b""):
                    self.sha.update(chunk)
                    self.size += len(chunk)

    def update(self, blob: bytes) -> None:
        self.sha.update(blob)
        self.size += len(blob)

    def hexdigest(self) -> str:
        return self.sha.hexdigest()


def prefix_sha256(path: Path, n: int) -> tuple[int, str]:
    """(bytes read, sha256 of the first ``n`` bytes of ``path``); fewer bytes read means the file is shorter."""
    h, size = hashlib.sha256(), 0
    if path.exists():
        with open(path, "rb") as f:
            while size < n:
                chunk = f.read(min(1 << 20, n - size))
                if not chunk:
                    break
                h.update(chunk)
                size += len(chunk)
    return size, h.hexdigest()


def parse(path: Path, blob: bytes) -> dict:
    """A checkpoint's fields from its bytes; ``ValueError`` naming ``path`` when it is not one."""
    try:
        state = json.loads(blob)
    except (ValueError, UnicodeDecodeError) as e:
        raise ValueError(f"{path}: corrupt checkpoint (not JSON: {e})") from None
    if not isinstance(state, dict) or state.get("format") != FORMAT or state.get("version") not in READABLE:
        raise ValueError(f"{path}: corrupt checkpoint (not an evo-nas checkpoint of version "
                         f"{' or '.join(map(str, READABLE))})")
    for name, kind in FIELDS.items():
        v = state.get(name)
        if not isinstance(v, kind) or isinstance(v, bool) or kind is int and v < 0:
            raise ValueError(f"{path}: corrupt checkpoint ({name} = {v!r})")
    return state


def save(folder: Path, state: dict, records: FileDigest) -> None:
    """Replace ``folder/checkpoint.json`` atomically with ``state`` and the length and sha256 of the
    ``records`` (``evaluations.jsonl`` now); the one it replaces stays as ``checkpoint.prev.json``."""
    state = {"format": FORMAT, "version": VERSION, **state, "records_bytes": records.size,
             "records_sha256": records.hexdigest()}
    blob = dumps(state, nonfinite="raise", where="checkpoint", indent=1, sort_keys=True).encode()
    current = folder / "checkpoint.json"
    if current.exists():
        tmp = folder / f".checkpoint.prev.json.tmp{os.getpid()}"
        tmp.unlink(missing_ok=True)
        try:
            os.link(current, tmp)
        except OSError:
            shutil.copyfile(current, tmp)
        os.replace(tmp, folder / "checkpoint.prev.json")
    atomic_write(current, blob)


def read(path: Path) -> dict:
    """The checkpoint at ``path`` as data; ``ValueError`` naming the file when it is damaged or unreadable."""
    try:
        blob = path.read_bytes()
    except OSError as e:
        raise ValueError(f"{path}: cannot read the checkpoint ({e.strerror or e})") from None
    return parse(path, blob)


def find(folder: Path) -> tuple[dict | None, str | None]:
    """(the last intact checkpoint in ``folder`` or None, a note on what was not usable or None).

    A damaged ``checkpoint.json`` gives way to an intact ``checkpoint.prev.json``; with neither, the
    state is rebuilt by replay all the same, and the note says so."""
    current, prev = folder / "checkpoint.json", folder / "checkpoint.prev.json"
    if not current.exists():
        return None, None
    try:
        return read(current), None
    except ValueError as e:
        damaged = str(e)
    if prev.exists():
        try:
            state = read(prev)
            return state, f"{damaged}; using {prev} (generation {state['generation']})"
        except ValueError:
            pass
    return None, f"{damaged}; no intact checkpoint is left"


def missing_records(records: list[dict], logbook: list[dict]) -> str | None:
    """Where ``records`` fall short of the logbook's cumulative ``evaluations``: the first generation
    whose count the records do not reach, or None when they reach every one."""
    per_gen: dict[int, int] = {}
    for r in records:
        g = r.get("generation")
        if isinstance(g, int):
            per_gen[g] = per_gen.get(g, 0) + 1
    seen = 0
    gens = sorted(per_gen)
    i = 0
    for entry in logbook:
        g, want = entry.get("generation"), entry.get("evaluations")
        if not isinstance(g, int) or not isinstance(want, int):
            continue
        while i < len(gens) and gens[i] <= g:
            seen += per_gen[gens[i]]
            i += 1
        if seen < want:
            return (f"the logbook counts {want} evaluations by generation {g}, evaluations.jsonl holds {seen} "
                    f"of generations 0-{g} ({want - seen} missing)")
    return None


def check_records(path: Path, state: dict | None, logbook: list[dict], records: list[dict]) -> str | None:
    """What the run directory ``path`` lacks against its checkpoint ``state`` and ``logbook``
    (one sentence naming the file and what is missing or changed), or None when the records
    account for both."""
    evaluations = path / "evaluations.jsonl"
    if state is not None:
        want = state["records_bytes"]
        size, sha = prefix_sha256(evaluations, want)
        if size < want and len(records) < state["evaluations"]:
            return (f"{evaluations} holds {len(records)} records, the checkpoint of generation {state['generation']} "
                    f"follows {state['evaluations']}: records are missing"
                    + (f" ({gap})" if (gap := missing_records(records, logbook)) else ""))
        if size < want or sha != state["records_sha256"]:
            return (f"{evaluations} is not the file the checkpoint of generation {state['generation']} follows "
                    f"(its first {want} bytes differ): records were replaced or changed")
    gap = missing_records(records, logbook)
    if gap:
        return f"{evaluations} lacks records: {gap}"
    return None


@dataclass
class Resume:
    """What the replay of a resumed run must find and reproduce: ``recorded``, the logbook on disk
    (its entries are compared and kept); ``bound``, the generations below which every genome is on
    record; ``way``, how to go on when the run is refused. The default: a new run, nothing to check."""

    recorded: list[dict] = field(default_factory=list)
    bound: int = 0
    path: Path | None = None
    way: str = ""

    def verified(self, index: int, entry: dict) -> dict:
        """The recorded logbook entry ``index`` when the replayed ``entry`` reproduces it (timings
        aside); ``ValueError`` naming the first field that differs."""
        kept = self.recorded[index]
        for k in sorted(set(kept) | set(entry)):
            if k in ("wall_s", "eval_s"):
                continue
            a, b = kept.get(k), entry.get(k)
            same = a == b or isinstance(a, float) and isinstance(b, (int, float)) and \
                math.isclose(a, b, rel_tol=1e-9, abs_tol=1e-12)
            if not same:
                raise ValueError(f"cannot resume {self.path}: replaying generation {entry.get('generation')} gives "
                                 f"{k} = {b}, {self.path / 'logbook.jsonl'} says {a} (the records, the logbook or "
                                 f"the evo-nas version differ from the run's); {self.way}")
        return kept

    def missing(self, generation: int, key: str, n: int) -> None:
        """``ValueError``: the replay of ``generation``, which is on record in full, asks ``key`` and
        ``n`` genomes in all that ``evaluations.jsonl`` does not hold."""
        raise ValueError(f"cannot resume {self.path}: generation {generation} is on record in full, but its genome "
                         f"{key[:80]}{'...' if len(key) > 80 else ''} is not in evaluations.jsonl ({n} of the "
                         f"generation missing); {self.way}")


def prepare_resume(run, memo: dict, run_hash: str, fingerprint: str, rebuild: bool,
                   say: Callable[[str], None]) -> Resume:
    """The checks of a run directory (``RunDir`` ``run``, its records ``memo`` by key) before its
    replay: its checkpoint must be this run's (``run_hash``, its ``config_hash``; ``fingerprint``) and
    its records those the checkpoint and logbook account for; a checkpoint pickled by an older evo-nas is
    refused. Each failed check is a one-line ``ValueError`` naming the way on. ``rebuild``: no
    check, the logbook is rewritten by the replay (what is missing is evaluated again)."""
    way = (f"resume with `evo-nas search --resume {run.path} --rebuild` to replay the seeded search over the "
           f"records it holds (what is missing is evaluated again)")
    state, note = run.find_checkpoint()
    if rebuild:
        say(f"evo-nas: rebuilding {run.path} by replaying the seeded search over its {len(memo)} recorded evaluations")
        run.rewrite_logbook([])
        return Resume(path=run.path, way=way)
    legacy = run.legacy_checkpoint()
    if state is None and note is None and legacy is not None:
        raise ValueError(f"{legacy} is a checkpoint of an older evo-nas, which is no longer read (a pickle can run "
                         f"code); {way}")
    if note:  # said even when quiet: a file of the run was damaged
        print(f"evo-nas: {note}; the search state is rebuilt by replay", file=sys.stderr)
    where = run.path / "checkpoint.json"
    if state is not None:  # version 2 hashed the budget too: config.json's, which grows only after a full replay
        want = run_hash if state["version"] >= 3 else config_hash(resolved(run.config), budget=True)
        if state["config_hash"] != want:
            raise ValueError(f"{where} belongs to another run: it was written for configuration "
                             f"{state['config_hash']}, this run's config.json gives {want}; remove it (and "
                             f"checkpoint.prev.json) or {way}")
    if state is not None and state["fingerprint"] != fingerprint:
        raise ValueError(f"{where} was written for evaluation fingerprint {state['fingerprint']}, this configuration "
                         f"gives {fingerprint}; {way}")
    recorded = run.logbook()
    lacking = check_records(run.path, state, recorded, list(memo.values()))
    if lacking:
        raise ValueError(f"cannot resume {run.path}: {lacking}; restore it from a copy, or {way}")
    if state is not None and len(recorded) < state["logbook"]:
        print(f"evo-nas: {run.path / 'logbook.jsonl'} holds {len(recorded)} of the checkpoint's {state['logbook']} "
              f"generations; the rest are rebuilt by replay", file=sys.stderr)
    elif state is None and (memo or recorded):
        say(f"evo-nas: {run.path} has no checkpoint; rebuilding the search state by replaying the seeded search "
            f"over its {len(memo)} recorded evaluations (none is re-evaluated)")
    whole = sum(1 for e in recorded if not e.get("partial"))
    return Resume(recorded, max(whole, state["generation"] if state is not None else 0), run.path, way)


def not_a_record(value) -> str | None:
    """What keeps a line's value from being an evaluation record (a table with a genome ``key``, a
    ``status`` and an int ``generation`` or none), or None."""
    if not isinstance(value, dict):
        return f"not an evaluation record (a JSON {type(value).__name__})"
    for name, ok in (("key", lambda v: isinstance(v, str) and v), ("status", lambda v: isinstance(v, str)),
                     ("generation", lambda v: v is None or isinstance(v, int) and not isinstance(v, bool))):
        if not ok(value.get(name)):
            return f"not an evaluation record ({name} = {str(value.get(name))[:40]})"
    return None


def not_an_entry(value) -> str | None:
    """What keeps a line's value from being a logbook entry (a table with an int ``generation``), or None."""
    if not isinstance(value, dict) or not isinstance(value.get("generation"), int):
        return "not a logbook entry (a table with an int generation)"
    return None
