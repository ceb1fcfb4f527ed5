"""Whole-file writes: ``atomic_write`` replaces a file all at once, so a reader or a kill never sees half of it.

Every file evo-nas rewrites (run summaries, checkpoints, Pareto files, configs, latency tables,
model cards, plots) goes through it: the bytes go to a temporary file beside the target, are
flushed and fsynced, and the temporary file is renamed over the target (``os.replace``, atomic
on POSIX). Appended files (``.jsonl``) are written by ``evo_nas.search.jsonl.append_jsonl``.
"""
from __future__ import annotations

import os
import threading
from pathlib import Path


def atomic_write(path: str | Path, data: bytes | str) -> Path:
    """Replace ``path`` with ``data`` (``str`` is written as UTF-8) all at once; returns ``path``.

    An interrupted write leaves the old file, or none, and no temporary file. The temporary
    name carries the process and thread, so concurrent writers never share one."""
    path = Path(path)
    if isinstance(data, str):
        data = data.encode()
    tmp = path.with_name(f".{path.name}.tmp{os.getpid()}-{threading.get_ident()}")
    try:
        with open(tmp, "wb") as f:
            f.write(data)
            f.flush()
            os.fsync(f.fileno())
        os.replace(tmp, path)
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise
    return path


__all__ = ["atomic_write"]
