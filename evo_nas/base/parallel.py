"""The one place that calls joblib's ``Parallel``/``delayed``: an order-preserving parallel map.

The backend is configuration, as joblib's ``parallel_config`` intends: ``loky`` processes on a
workstation, ``threading``, ``sequential``, or ``dask`` to send the same work to a
dask.distributed cluster (an existing ``Client``, or one connected to ``scheduler``): its own
futures, so that a lost scheduler or a killed worker raises ``ClusterLost`` within
``DASK_CONNECT_S`` instead of leaving joblib's retrieve loop waiting. Results
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
DASK_CONNECT_S = 10.0  # how long a search waits to reach its dask scheduler (at start, and after losing it)
DASK_POLL_S = 0.05     # how often the dask path checks its futures
SCHEMES = ("tcp", "tls", "inproc", "ucx", "ws", "wss")


class ClusterLost(RuntimeError):
    """The dask cluster went away under a running map (scheduler lost, worker killed): the run is
    interrupted, not failed; what completed before is kept by ``on_result``."""
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
    """The dask backend's cluster is reachable: ``ValueError`` of one line when ``scheduler`` is not an
    address (``tcp://host:port``), no scheduler answers there within ``DASK_CONNECT_S``, or, without
    an address, no Client runs in this process."""
    if scheduler:
        scheme, sep, rest = scheduler.partition("://")
        host, colon, port = rest.rpartition(":")
        valid_port = colon and port.isdigit() and 0 < int(port) < 65536
        if not sep or scheme not in SCHEMES or not rest or scheme != "inproc" and not (host and valid_port):
            raise ValueError(f"[search] scheduler = {scheduler!r} is not a dask scheduler address "
                             f"(expected scheme://host:port, such as 'tcp://10.0.0.5:8786')")
        from distributed import Client

        try:
            client = Client(scheduler, set_as_default=False, timeout=DASK_CONNECT_S)
        except (OSError, TimeoutError) as e:
            raise ValueError(f"[search] scheduler = {scheduler!r}: no dask scheduler answered within "
                             f"{DASK_CONNECT_S:g} s ({type(e).__name__})") from None
        client.close()
        return
    from distributed import get_client

    try:
        get_client()
    except ValueError:
        raise ValueError("backend = 'dask' needs a running dask.distributed Client "
                         "or [search] scheduler = 'tcp://host:port'") from None


def _dask_map(client, fn: Callable, items: list, out: list, on_result) -> None:
    """``fn`` over ``items`` as dask futures, ``on_result`` as each completes. A lost scheduler or a
    killed worker raises ``ClusterLost`` within about ``DASK_CONNECT_S``: never a hang."""
    from distributed import CancelledError

    futures = client.map(fn, items, pure=False)
    index = {f.key: i for i, f in enumerate(futures)}
    pending = list(futures)
    away_since = None
    try:
        while pending:
            still = []
            for f in pending:
                if not f.done():
                    still.append(f)
                    continue
                try:
                    value = f.result()
                except (CancelledError, Exception) as e:  # noqa: BLE001  (every failure here is the cluster's)
                    text = " ".join(str(e).split())
                    if "reason:" in text:  # a cancelled future: "... cancelled for reason: scheduler-connection-lost."
                        text = text.split("reason:", 1)[1].strip().split(" ")[0].rstrip(".")
                    raise ClusterLost(f"the dask cluster stopped running evaluations ({type(e).__name__}: "
                                      f"{text[:160]})") from None
                i = index[f.key]
                out[i] = value
                if on_result is not None:
                    on_result(i, value)
            pending = still
            if client.status != "running":
                away_since = away_since or time.monotonic()
                if time.monotonic() - away_since > DASK_CONNECT_S:
                    raise ClusterLost(f"lost the dask scheduler (client {client.status} for "
                                      f"{DASK_CONNECT_S:g} s)")
            else:
                away_since = None
            if pending:
                time.sleep(DASK_POLL_S)
    finally:
        for f in pending:
            f.release()


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

    if backend == "dask":  # futures of its own client: joblib's dask backend hangs when the scheduler is lost
        import logging

        from distributed import Client, get_client

        # distributed logs a lost connection as tracebacks; ClusterLost says it in one line
        logs = [logging.getLogger(name) for name in list(logging.root.manager.loggerDict)
                if name == "distributed" or name.startswith("distributed.")]
        levels = [log.level for log in logs]
        for log in logs:
            log.setLevel(logging.CRITICAL)
        try:
            try:
                client = Client(scheduler, set_as_default=False, timeout=DASK_CONNECT_S) if scheduler else get_client()
            except (OSError, TimeoutError) as e:
                raise ClusterLost(f"cannot reach the dask scheduler {scheduler} ({type(e).__name__})") from None
            try:
                _dask_map(client, fn, items, out, on_result)
            finally:
                if scheduler:
                    client.close(timeout=DASK_CONNECT_S)
        finally:
            for log, level in zip(logs, levels):
                log.setLevel(level)
        return out

    from joblib import Parallel, delayed, parallel_config

    # never more workers than tasks (nor than cores for -1): a pool is started per call
    n_jobs = min((os.cpu_count() or 1) if n_jobs == -1 else n_jobs, len(items))
    config = dict(backend=backend, n_jobs=n_jobs)
    if backend == "loky":
        config.update(idle_worker_timeout=LOKY_IDLE_S, initializer=_exit_with_parent)
    with parallel_config(**config):
        results = Parallel(return_as="generator_unordered")(
            delayed(_indexed)(fn, i, item) for i, item in enumerate(items))
        for i, value in results:
            out[i] = value
            if on_result is not None:
                on_result(i, value)
    return out
