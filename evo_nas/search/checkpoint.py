"""Data-only checkpoints bound to their run, and the check of a run's records against what it knows.

A checkpoint (``checkpoint.json``) holds no code and no strategy state: only where the search
stood and what it stood on. The search state is always rebuilt by replaying the seeded search
over the run's own records (``evo_nas.search.loop``: nothing recorded is evaluated again), so
nothing a run directory holds is ever unpickled. The checkpoint binds that replay to its run:

- ``config_hash``: the run's resolved configuration without the execution keys (seed,
  ``[search]`` and every other section included); a checkpoint of another run is refused;
- ``fingerprint``: the problem's evaluation fingerprint;
- ``generation``, ``logbook``, ``evaluations``: the generations done, logbook entries and
  evaluations counted when it was written;
- ``records_bytes``, ``records_sha256``: the length and sha256 of ``evaluations.jsonl`` as it
  was then. The file only grows: a shorter file, or a prefix with another hash, means records
  were lost or replaced, and the resume stops with one line naming them.

A strategy needs nothing for this beyond the ``Strategy`` protocol: ask and tell deterministic
given its seeded generator and the results it is told.
"""
from __future__ import annotations

import copy
import hashlib
import json
from pathlib import Path

from ..hashing import fingerprint
from ..schema import EXECUTION_KEYS

FORMAT = "evo-nas checkpoint"
VERSION = 2
FIELDS = {"generation": int, "logbook": int, "evaluations": int, "records_bytes": int, "records_sha256": str,
          "config_hash": str, "fingerprint": str}


def config_hash(config: dict) -> str:
    """The fingerprint of a resolved configuration without the ``EXECUTION_KEYS`` (which may change on resume)."""
    stripped = copy.deepcopy(config)
    for k in EXECUTION_KEYS:
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
    if not isinstance(state, dict) or state.get("format") != FORMAT or state.get("version") != VERSION:
        raise ValueError(f"{path}: corrupt checkpoint (not an evo-nas checkpoint of version {VERSION})")
    for name, kind in FIELDS.items():
        v = state.get(name)
        if not isinstance(v, kind) or isinstance(v, bool) or kind is int and v < 0:
            raise ValueError(f"{path}: corrupt checkpoint ({name} = {v!r})")
    return state


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
