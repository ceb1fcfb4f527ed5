"""Whole-file writes: ``atomic_write`` replaces a file all at once, so a reader or a kill never sees half of it.

Every file evo-nas rewrites (run summaries, checkpoints, Pareto files, configs, latency tables,
model cards, plots, exported ONNX files through ``atomic_path``) goes through it: the bytes go to a temporary file beside the target, are
flushed and fsynced, and the temporary file is renamed over the target (``os.replace``, atomic
on POSIX). Appended files (``.jsonl``) are written by ``evo_nas.search.jsonl.append_jsonl``.
"""
from __future__ import annotations

import contextlib
import os
import threading
from pathlib import Path


@contextlib.contextmanager
def atomic_path(path: str | Path):
    """A temporary path beside ``path`` for a writer that needs a file name (an ONNX exporter):
    when the block ends without an exception, the file written there is fsynced and renamed over
    ``path``; otherwise it is removed and ``path`` is left as it was. The temporary name carries
    the process and thread, so concurrent writers never share one."""
    path = Path(path)
    tmp = path.with_name(f".{path.name}.tmp{os.getpid()}-{threading.get_ident()}")
    try:
        yield tmp
        with open(tmp, "rb") as f:
            os.fsync(f.fileno())
        os.replace(tmp, path)
    finally:
        tmp.unlink(missing_ok=True)


def atomic_write(path: str | Path, data: bytes | str) -> Path:
    """Replace ``path`` with ``data`` (``str`` is written as UTF-8) all at once; returns ``path``.

    An interrupted write leaves the old file, or none, and no temporary file."""
    with atomic_path(path) as tmp:
        with open(tmp, "wb") as f:
            f.write(data.encode() if isinstance(data, str) else data)
    return Path(path)


__all__ = ["atomic_path", "atomic_write"]
