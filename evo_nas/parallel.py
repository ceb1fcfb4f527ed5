"""The one place that calls joblib's ``Parallel``/``delayed``: an order-preserving parallel map.

The backend is configuration, as joblib's ``parallel_config`` intends: ``loky`` processes on a
workstation, ``threading``, ``sequential``, or ``dask`` to send the same work to a
dask.distributed cluster (an existing ``Client``, or one connected to ``scheduler``). Results
come back in input order whatever finishes first; ``on_result(index, value)`` is called as each
one completes, so the caller can persist it before the whole batch is done. A call starts no more
workers than it has items (the schema caps ``n_jobs`` at ``MAX_JOBS``).

Loky workers never outlive their purpose: each exits within ``PARENT_POLL_S`` of its parent's
death (even ``kill -9``), idles out after ``LOKY_IDLE_S``, and ``shutdown_workers()`` (called by
the CLI on Ctrl-C or SIGTERM) kills them at once.
"""
from __future__ import annotations

import os
import sys
import threading
import time
from typing import Any, Callable, Sequence

BACKENDS = ("loky", "threading", "sequential", "dask")
LOKY_IDLE_S = 60.0     # an idle loky worker exits after this many seconds (joblib's default: 300)
PARENT_POLL_S = 0.5    # how often a loky worker checks that the process that started it is alive


def _exit_with_parent() -> None:
    """Loky worker initializer: a daemon thread ends this worker once its parent is gone."""
    parent = os.getppid()

    def watch():
        while os.getppid() == parent:
            time.sleep(PARENT_POLL_S)
        os._exit(1)

    threading.Thread(target=watch, name="evo-nas-parent-watch", daemon=True).start()


def shutdown_workers() -> None:
    """Kill this process's loky workers now (after an interrupt); nothing happens when none run."""
    module = sys.modules.get("joblib.externals.loky.reusable_executor")
    executor = getattr(module, "_executor", None)
    if executor is not None:
        executor.shutdown(wait=False, kill_workers=True)


def _indexed(fn, index, item):
    return index, fn(item)


def check_backend(backend: str, n_jobs: int) -> None:
    if backend not in BACKENDS:
        raise ValueError(f"backend = {backend!r} (expected one of {', '.join(BACKENDS)})")
    if not isinstance(n_jobs, int) or isinstance(n_jobs, bool) or n_jobs == 0 or n_jobs < -1:
        raise ValueError(f"n_jobs = {n_jobs!r} must be a positive int or -1")


def check_dask(scheduler: str | None) -> None:
    """Without a scheduler address, the dask backend needs a Client already running here."""
    if scheduler:
        return
    from distributed import get_client

    try:
        get_client()
    except ValueError:
        raise ValueError("backend = 'dask' needs a running dask.distributed Client "
                         "or [search] scheduler = 'tcp://host:port'") from None


def parallel_map(fn: Callable, items: Sequence, n_jobs: int = 1, backend: str = "loky", *,
                 on_result: Callable[[int, Any], None] | None = None, scheduler: str | None = None) -> list:
    """``[fn(x) for x in items]`` across ``n_jobs`` workers of ``backend``, in input order."""
    check_backend(backend, n_jobs)
    items = list(items)
    out: list = [None] * len(items)
    if not items:
        return out
    if backend == "sequential" or (n_jobs == 1 and backend != "dask") or len(items) == 1 and backend != "dask":
        for i, item in enumerate(items):
            out[i] = fn(item)
            if on_result is not None:
                on_result(i, out[i])
        return out

    from joblib import Parallel, delayed, parallel_config

    # never more workers than tasks (nor than cores for -1): a pool is started per call
    n_jobs = min((os.cpu_count() or 1) if n_jobs == -1 else n_jobs, len(items))
    client = None
    if backend == "dask":
        from distributed import Client

        if scheduler:
            client = Client(scheduler, set_as_default=False)
        else:
            check_dask(scheduler)
    try:
        config = dict(backend=backend, n_jobs=n_jobs)
        if backend == "loky":
            config.update(idle_worker_timeout=LOKY_IDLE_S, initializer=_exit_with_parent)
        if client is not None:
            config["client"] = client
        with parallel_config(**config):
            results = Parallel(return_as="generator_unordered")(
                delayed(_indexed)(fn, i, item) for i, item in enumerate(items))
            for i, value in results:
                out[i] = value
                if on_result is not None:
                    on_result(i, value)
    finally:
        if client is not None:
            client.close()
    return out
