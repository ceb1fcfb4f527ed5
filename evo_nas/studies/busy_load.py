"""A known competing load for latency studies: busy worker processes started and always stopped.

``busy_load(workers, kind)`` is a context manager that starts ``workers`` processes (default: one
per core) that each keep one core busy, and stops them when the block ends, however it ends
(normal exit, exception, Ctrl-C). A worker also exits by itself within milliseconds when the
process that started it is gone (killed with SIGKILL, say), so no stray process outlives a study.

Kinds: ``matmul`` (numpy 128 x 128 float32 matrix products with one BLAS thread: compute, caches
and memory traffic, like another inference job) and ``spin`` (a pure Python loop: one core's
issue slots only). ``wait_for_load`` lets the 1-minute load average settle after workers start or
stop, since the kernel averages it with a time constant of one minute.
"""
from __future__ import annotations

import contextlib
import multiprocessing
import os
import time
from collections.abc import Callable, Iterator

from ..latency.machine import load_1m

KINDS = ("matmul", "spin")
BUSY_NAME = "evo-nas-busy"  # the workers' multiprocessing name
_CHECK_EVERY = 2000  # loop iterations of a spin worker between two looks at its stop signal


def _work(kind: str, stop, parent: int) -> None:
    """One busy worker: run ``kind`` until ``stop`` is set or the process ``parent`` is gone."""
    if kind == "matmul":
        import numpy as np
        from threadpoolctl import threadpool_limits

        threadpool_limits(1)
        a = np.random.default_rng(0).standard_normal((128, 128)).astype(np.float32)
        step = lambda: a @ a
    else:
        def step():
            x = 0
            for i in range(_CHECK_EVERY):
                x += i * i
            return x
    while not stop.is_set() and os.getppid() == parent:
        step()


def stop_workers(procs: list, stop, timeout_s: float = 5.0) -> None:
    """Ask ``procs`` to stop (``stop`` event), then terminate and finally kill any still running; reaps them all."""
    stop.set()
    deadline = time.monotonic() + timeout_s
    for p in procs:
        p.join(max(0.0, deadline - time.monotonic()))
    for p in procs:
        if p.is_alive():
            p.terminate()
            p.join(1.0)
        if p.is_alive():
            p.kill()
            p.join()


@contextlib.contextmanager
def busy_load(workers: int | None = None, kind: str = "matmul") -> Iterator[list[int]]:
    """Run ``workers`` busy processes (default ``os.cpu_count()``) of ``kind`` for the duration of the
    block; yields their process ids. ``ValueError`` for an unknown kind or a worker count below 1."""
    if kind not in KINDS:
        raise ValueError(f"load kind {kind!r} (expected one of {', '.join(KINDS)})")
    workers = (os.cpu_count() or 1) if workers is None else workers
    if not isinstance(workers, int) or isinstance(workers, bool) or workers < 1:
        raise ValueError(f"busy workers = {workers!r} must be an int >= 1")
    ctx = multiprocessing.get_context("spawn")  # a clean interpreter: no inherited runtime threads
    stop = ctx.Event()
    procs = []
    try:
        for _ in range(workers):
            p = ctx.Process(target=_work, args=(kind, stop, os.getpid()), daemon=True, name=BUSY_NAME)
            p.start()
            procs.append(p)
        yield [p.pid for p in procs]
    finally:
        stop_workers(procs, stop)


def wait_for_load(done: Callable[[float], bool], timeout_s: float, poll_s: float = 1.0,
                  read: Callable[[], float | None] = load_1m, sleep: Callable[[float], None] = time.sleep,
                  clock: Callable[[], float] = time.monotonic) -> dict:
    """Wait until ``done(load_1m)`` holds or ``timeout_s`` have passed (no wait when ``timeout_s`` <= 0 or the
    load average is unreadable): ``{"waited_s", "load_1m", "settled"}``."""
    t0 = clock()
    load = read()
    while load is not None and not done(load) and clock() - t0 < timeout_s:
        sleep(poll_s)
        load = read()
    return {"waited_s": round(clock() - t0, 1), "load_1m": load, "settled": load is not None and done(load)}


__all__ = ["BUSY_NAME", "KINDS", "busy_load", "stop_workers", "wait_for_load"]
