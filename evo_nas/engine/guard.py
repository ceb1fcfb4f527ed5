"""The guard around a call that writes a run directory: one writer at a time, nothing left by an early failure.

``guarded_run`` holds the run's lock (``evo_nas.engine.lock``) while the call runs; a directory the
call made is removed again when it fails before its first evaluation, and a run that stops early
says so in ``run.json`` (``interrupted`` or ``error``) with the command that resumes it.
"""
from __future__ import annotations

import errno
import functools
import inspect
import json
import shutil
from pathlib import Path

from ..base.files import atomic_write
from ..base.jsonio import dumps, plain
from ..base.parallel import ClusterLost
from .lock import RunLock
from .run import CONFIG, EVALUATIONS, SUMMARY, RunDir


def stopped_from_outside(error: BaseException) -> bool:
    """Whether ``error`` stopped a run from outside it (a full disk, a lost cluster): the run is
    ``interrupted`` and resumes once that is fixed, rather than ended by an ``error``."""
    return isinstance(error, ClusterLost) or isinstance(error, OSError) and error.errno in (errno.ENOSPC,
                                                                                              errno.EDQUOT)


def _mark_unfinished(path: Path, status: str, error: BaseException | None = None) -> None:
    """``run.json`` of a run that stopped early says so, and how to continue it. On a full disk, where
    the atomic replacement has no room, the file is rewritten in place (it fits in its own blocks)."""
    p = path / SUMMARY
    try:
        summary = json.loads(p.read_text())
    except (OSError, ValueError):
        return
    if summary.get("status") != "running":
        return
    summary.update(status=status, resume=f"evo-nas search --resume {path}")
    if error is not None:
        summary["error"] = f"{type(error).__name__}: {error}"
    blob = dumps(summary, indent=2, sort_keys=True, default=plain).encode()
    try:
        atomic_write(p, blob)
    except OSError:
        try:
            with open(p, "r+b") as f:
                f.write(blob)
                f.truncate()
        except OSError:
            pass


def _remove_new_dir(path: Path, top: Path) -> None:
    """Remove ``path``, which this process created, and its parents up to ``top`` while they are empty."""
    shutil.rmtree(path, ignore_errors=True)
    while path != top:
        path = path.parent
        try:
            path.rmdir()
        except OSError:
            return


def guarded_run(fn):
    """Decorate ``fn(config, run_dir, *, resume=False, ...)``, a call that writes a run directory.

    - The call holds ``RunLock(run_dir)`` throughout: a second writer gets ``RunLocked``.
    - A resumed ``run_dir`` must be a run directory (``FileNotFoundError`` before anything is written).
    - A directory this call created (with the parent folders it created), or an empty one made
      for it (``claimed=True``), is removed again when
      the call fails before its first evaluation: a bad config, cache or latency table leaves
      nothing behind. A directory that existed before is never removed.
    - A call stopped by ``KeyboardInterrupt`` (Ctrl-C, or SIGTERM in the CLI) leaves
      ``run.json`` with status ``"interrupted"``, as does a full disk or a lost dask cluster
      (``stopped_from_outside``); another exception with ``"error"``; each with the command that
      resumes the run.
    """
    signature = inspect.signature(fn)

    @functools.wraps(fn)
    def wrapper(*args, **kwargs):
        bound = signature.bind(*args, **kwargs)
        bound.apply_defaults()
        path = Path(bound.arguments["run_dir"])
        created = None
        if path.exists() and not path.is_dir():
            raise NotADirectoryError(f"run directory {path} is a file, not a directory")
        if bound.arguments.get("resume"):
            RunDir(path)
        elif bound.arguments.get("claimed") and path.is_dir() and not any(path.iterdir()):
            created = Path(bound.arguments["claimed"])  # made empty for this call (a numbered default directory)
        elif not path.exists():
            created = path
            while not created.parent.exists():
                created = created.parent
            path.mkdir(parents=True)
        try:
            lock = RunLock(path).acquire()
        except BaseException:
            if created:
                _remove_new_dir(path, created)
            raise
        try:
            return fn(*args, **kwargs)
        except KeyboardInterrupt:
            if created and not (path / CONFIG).exists():
                _remove_new_dir(path, created)
            else:
                _mark_unfinished(path, "interrupted")
            raise
        except Exception as e:
            if created and not (path / EVALUATIONS).exists():
                _remove_new_dir(path, created)
            else:
                _mark_unfinished(path, "interrupted" if stopped_from_outside(e) else "error", e)
            raise
        finally:
            lock.release()

    return wrapper
