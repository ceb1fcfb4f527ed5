"""Whole-file writes: ``atomic_write`` replaces a file all at once, so a reader or a kill never sees half of it.

Every file evo-nas rewrites (run summaries, checkpoints, Pareto files, configs, latency tables,
model cards, plots, exported ONNX files through ``atomic_path``) goes through it: the bytes go
to a temporary file beside the target, are flushed and fsynced, the temporary file is renamed
over the target (``os.replace``, atomic on POSIX), and the folder is fsynced so that the rename
survives a power loss. A failed write names the file (``named``). Appended files (``.jsonl``) are written by
``evo_nas.engine.jsonl.append_jsonl``. ``from_base`` reads a relative path a config gives from
the config's folder. ``stage_dir`` and ``remove_stale_stages``: an export's staging folder, and
the removal of those a killed export left.
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
        try:
            yield tmp
            with open(tmp, "rb") as f:
                os.fsync(f.fileno())
            os.replace(tmp, path)
        except OSError as e:
            raise named(e, path) from None
        _fsync_dir(path.parent)
    finally:
        tmp.unlink(missing_ok=True)


def named(error: OSError, path: str | Path) -> OSError:
    """``error`` naming ``path`` (a full disk's ``[Errno 28]`` names no file, or a temporary one)."""
    if error.filename == str(path) or error.errno is None:
        return error
    return type(error)(error.errno, error.strerror, str(path))


STAGE = ".export-tmp"  # a staging folder's name: .<folder>.export-tmp<pid>


def stage_dir(out: Path) -> Path:
    """The staging folder of this process for an export into ``out`` (beside it)."""
    return out.parent / f".{out.name}{STAGE}{os.getpid()}"


def remove_stale_stages(folder: str | Path) -> list[Path]:
    """Remove the staging folders in ``folder`` that an export killed before it finished left
    behind (their process is gone); returns them."""
    import shutil

    removed = []
    for p in Path(folder).glob(f".*{STAGE}*"):
        pid = p.name.rpartition(STAGE)[2]
        if not p.is_dir() or not pid.isdigit() or int(pid) == os.getpid() or _alive(int(pid)):
            continue
        shutil.rmtree(p, ignore_errors=True)
        if not p.exists():
            removed.append(p)
    return removed


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except OSError:
        return True
    return True


def _fsync_dir(folder: Path) -> None:
    """Make a rename in ``folder`` durable (POSIX); a no-op where folders cannot be opened."""
    try:
        fd = os.open(folder, os.O_RDONLY)
    except OSError:
        return
    try:
        os.fsync(fd)
    except OSError:
        pass
    finally:
        os.close(fd)


def atomic_write(path: str | Path, data: bytes | str) -> Path:
    """Replace ``path`` with ``data`` (``str`` is written as UTF-8) all at once; returns ``path``.

    A write that fails or is interrupted leaves the old file, or none. An exception removes the
    temporary file; ``kill -9`` may leave one (``.<name>.tmp<pid>-<thread>``), which nothing reads."""
    with atomic_path(path) as tmp:
        with open(tmp, "wb") as f:
            f.write(data.encode() if isinstance(data, str) else data)
    return Path(path)


def from_base(path, base: str | Path | None):
    """``path`` as a config gives it, read from ``base`` (the config's folder, ``[search] base_dir``)
    when it is a relative path string; anything else (absolute, ``None``, not a string) unchanged."""
    if base is None or not isinstance(path, str) or Path(path).is_absolute():
        return path
    return str(Path(base) / path)


__all__ = ["atomic_path", "atomic_write", "from_base", "named", "remove_stale_stages", "stage_dir"]

