"""Append-only JSON-lines files that survive ``kill -9``: reading past a torn last line, appending durably.

``kill -9`` can leave a torn last line in a ``.jsonl`` file; ``read_jsonl`` skips it and the next
append cuts it first, so the new line starts on a fresh one. Nothing here ever truncates a
complete line. ``json_lines`` writes many records given column by column, as ``append_jsonl``
would write them one at a time.
"""
from __future__ import annotations

import itertools
import json
import os
from pathlib import Path
from typing import Callable

from ..base.files import named
from ..base.jsonio import dumps, plain


def read_jsonl(path: Path, check: Callable[[object], str | None] | None = None) -> list[dict]:
    """Every complete line; a torn last line (killed mid-write) is skipped, a torn inner line is an error.
    ``check(value)``: what is wrong with a line's value (None: nothing), a ``ValueError`` naming the line."""
    if not path.exists():
        return []
    try:
        lines = path.read_bytes().split(b"\n")
    except OSError as e:
        raise named(e, path) from None
    out = []
    for n, line in enumerate(lines, 1):
        if not line.strip():
            continue
        try:
            value = json.loads(line)
        except (json.JSONDecodeError, UnicodeDecodeError):
            if n == len(lines) or all(not x.strip() for x in lines[n:]):
                continue
            raise ValueError(f"{path}: line {n} is not valid JSON (corrupt run file)") from None
        wrong = check(value) if check is not None else None
        if wrong:
            raise ValueError(f"{path}: line {n} is {wrong} (corrupt run file: remove the line, or restore the file)")
        out.append(value)
    return out


# file (device, inode) -> its size after this process's last append: unchanged since means no torn tail to cut
_CLEAN_TAILS: dict[tuple[int, int], int] = {}


def append_jsonl(path: Path, records, sync: bool = True) -> None:
    """Append records, one strict-JSON line each, flushed and (``sync``) fsynced. A torn last line
    left by a kill is cut first (skipped when the file is as this process last left it)."""
    text = jsonl_text(records)
    if text:
        append_text(path, text, sync)


def jsonl_text(records) -> str:
    """Records as strict-JSON lines with sorted keys, as ``append_jsonl`` writes them."""
    return "".join(dumps(r, sort_keys=True, default=plain) + "\n" for r in records)


def append_text(path: Path, text: str, sync: bool = True) -> None:
    """``append_jsonl`` of lines already written as JSON (each ending in a newline)."""
    if not text:
        return
    blob = text.encode()
    try:
        st = os.stat(path)
    except FileNotFoundError:
        st = None
    if st is not None and _CLEAN_TAILS.get((st.st_dev, st.st_ino)) != st.st_size:
        drop_torn_tail(path)
    try:
        with open(path, "ab") as f:
            f.write(blob)
            f.flush()
            if sync:
                os.fsync(f.fileno())
            st = os.fstat(f.fileno())
    except OSError as e:
        raise named(e, path) from None
    _CLEAN_TAILS[st.st_dev, st.st_ino] = st.st_size


def json_lines(columns: dict, n: int) -> str:
    """``n`` lines of JSON objects given column by column, as ``dumps(record, sort_keys=True)`` writes
    each: a column is a list of ``n`` JSON texts, or one JSON text (a ``str``) shared by every line."""
    names = sorted(columns)
    shared = {k: columns[k] for k in names if isinstance(columns[k], str)}
    varying = [columns[k] for k in names if k not in shared]
    for col in varying:
        if len(col) != n:
            raise ValueError(f"a column has {len(col)} values for {n} lines")

    def literal(text: str) -> str:
        return text.replace("{", "{{").replace("}", "}}")

    template = "{{" + ", ".join(literal(json.dumps(k) + ": ") + (literal(shared[k]) if k in shared else "{}")
                                for k in names) + "}}\n"
    if not varying:
        return template.format() * n
    return "".join(itertools.starmap(template.format, zip(*varying)))


def drop_torn_tail(path: Path) -> None:
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
