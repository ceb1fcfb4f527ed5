"""``RunLock``: one writing process per run directory, through ``run.lock``."""
from __future__ import annotations

import errno
import fcntl
import json
import os
import socket
import sys
import time
from pathlib import Path

LOCK = "run.lock"


class RunLocked(ValueError):
    """Another live process holds the run directory's lock; the message names it (pid, host, since)."""


def _pid_alive(pid: int) -> bool:
    """True when process ``pid`` exists on this host (signal 0 probes without signalling)."""
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


class RunLock:
    """One writer per run directory: ``run.lock``, held with ``fcntl.flock`` and naming its holder.

    ``with RunLock(path):`` (or ``acquire()``/``release()``) raises ``RunLocked`` naming the pid,
    host and start time of the process that holds it. The kernel drops a flock when its holder
    dies, so the lock of a killed process (``kill -9``) is taken over at once. A lock file whose
    recorded pid is no longer alive on this host is stale and taken over as well, even while a
    process the dead holder forked keeps the file open (the file is replaced). On a filesystem
    without ``flock`` the recorded pid and host alone decide. Released on exit: the file is removed.
    """

    def __init__(self, path):
        self.dir = Path(path)
        self.path = self.dir / LOCK
        self._fd: int | None = None

    def holder(self) -> dict:
        """What the lock file says about its holder (``{}`` when empty or unreadable)."""
        for _ in range(20):
            try:
                info = json.loads(self.path.read_text() or "{}")
            except (OSError, ValueError):
                info = {}
            if info:
                return info if isinstance(info, dict) else {}
            time.sleep(0.01)  # the holder writes its details right after it takes the lock
        return {}

    def _stale(self, info: dict) -> bool:
        return (info.get("host") == socket.gethostname() and isinstance(info.get("pid"), int)
                and not _pid_alive(info["pid"]))

    def _refuse(self, info: dict) -> RunLocked:
        if not info:
            return RunLocked(f"run directory {self.dir} is in use by another process ({self.path} is locked)")
        return RunLocked(f"run directory {self.dir} is in use by pid {info.get('pid')} on host {info.get('host')} "
                         f"since {info.get('since')} ({info.get('command', '?')}); wait for it to end or stop it "
                         f"(a lock left by a dead process on this host is taken over)")

    def _same_file(self, fd: int) -> bool:
        try:
            st = os.stat(self.path)
        except FileNotFoundError:
            return False
        own = os.fstat(fd)
        return (st.st_dev, st.st_ino) == (own.st_dev, own.st_ino)

    def acquire(self) -> "RunLock":
        if self._fd is not None:
            raise RuntimeError(f"{self.path} is already held by this RunLock")
        for _ in range(20):
            fd = os.open(self.path, os.O_RDWR | os.O_CREAT, 0o644)
            try:
                try:
                    fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
                except BlockingIOError:
                    info = self.holder()
                    if not self._stale(info):
                        raise self._refuse(info) from None
                    if self._same_file(fd):  # a child of the dead holder keeps it open: replace the file
                        self.path.unlink(missing_ok=True)
                    continue
                except OSError as e:
                    if e.errno not in (errno.ENOLCK, errno.EOPNOTSUPP, errno.ENOSYS):
                        raise
                    info = self.holder()
                    if info and info.get("pid") is not None and not self._stale(info):
                        raise self._refuse(info) from None
                if not self._same_file(fd):  # replaced while we waited: lock the new file
                    continue
                blob = json.dumps({"pid": os.getpid(), "host": socket.gethostname(),
                                   "since": time.strftime("%Y-%m-%dT%H:%M:%S%z"),
                                   "command": " ".join(sys.argv)[:300]}).encode()
                os.ftruncate(fd, 0)
                os.pwrite(fd, blob, 0)
                os.fsync(fd)
                self._fd, fd = fd, None
                return self
            finally:
                if fd is not None:
                    os.close(fd)
        raise RunLocked(f"could not lock {self.path}: other processes keep replacing it")

    def release(self) -> None:
        if self._fd is None:
            return
        try:
            if self._same_file(self._fd):
                self.path.unlink()
        finally:
            os.close(self._fd)
            self._fd = None

    def __enter__(self) -> "RunLock":
        return self.acquire()

    def __exit__(self, *exc) -> None:
        self.release()
