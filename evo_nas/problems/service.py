"""The evaluation service: how a problem's genomes become evaluation records, for search, refine and compare.

DEAP evaluates only individuals without a fitness, through one pluggable ``map``; this is that
path, in one place. Its callers decide which genomes to evaluate and count what comes back: the
search engine (``evo_nas.engine.loop``, whose runs are also the cells of a comparison) and
NetAdapt refinement (``evo_nas.deploy.netadapt``).

- A batch problem (``Problem.batch``) scores the genomes in one ``evaluate`` call in this
  process; any other problem one genome per worker task through ``parallel_map``, where
  ``evaluate_task`` fixes the worker's torch threads, times the call and turns an exception into
  a failed result. A result never raises: a bad candidate is a record with ``status = "failed"``.
- ``record`` turns a result into a record: plain Python values, the genome's ``key`` and
  ``genes``, the ``generation``, whether it was ``cached``, every objective present (None when
  missing) and finite, else the record fails with the reason.
- When the problem's latency model times networks (unsafe in a worker pool), a successful record
  without ``latency_ms`` is first written marked ``latency_pending`` (a kill then loses nothing)
  and completed here, serially, once no worker is busy.
- The persistent cache (``evo_nas.engine.cache.EvalCache``) is read by ``lookup`` and written (``store``)
  with every committed successful record, under the problem's fingerprint.

``commit`` is the one way a record leaves: ``write`` (durable, e.g. a run's
``append_evaluations``), then ``account`` (the caller's memo and counters), then the cache.
"""
from __future__ import annotations

import contextlib
import math
import os
import threading
import time
from typing import Callable, Sequence

import numpy as np

from ..base.parallel import parallel_map
from ..spaces.space import Genome
from .base import Problem

# record fields that say how a result was obtained, not what it is: never cached
BOOKKEEPING = ("generation", "cached", "genes", "origin", "refined_from")


def set_threads(n: int) -> None:
    """Fix this process's OpenMP/MKL and torch thread counts to ``n``."""
    os.environ["OMP_NUM_THREADS"] = str(n)
    os.environ["MKL_NUM_THREADS"] = str(n)
    try:
        import torch
    except ImportError:
        return
    if torch.get_num_threads() != n:
        torch.set_num_threads(n)


def plain(v):
    """A numpy scalar as the Python value it holds; anything else unchanged."""
    if isinstance(v, (np.floating, np.integer, np.bool_)):
        return v.item()
    return v


# held by a task of a problem that is not thread-safe: a worker process running several tasks at once
# (a dask worker with more than one thread) runs such tasks one at a time, as a loky worker does
_EXCLUSIVE = threading.Lock()


def evaluate_task(task) -> dict:
    """Run in a worker: ``task = (function, genome, config, threads[, exclusive])``; torch threads fixed
    first; ``exclusive`` (a problem that is not thread-safe): no other such task of this process runs
    meanwhile, whatever the worker's thread count.

    Returns ``function(genome, config)`` with ``eval_s`` (seconds) added; never raises for a bad
    candidate: an exception becomes ``{"status": "failed", "error": "<Type>: <message>"}``."""
    fn, genome, eval_cfg, threads, *rest = task
    with _EXCLUSIVE if rest and rest[0] else contextlib.nullcontext():
        set_threads(threads)
        t0 = time.perf_counter()
        try:
            result = dict(fn(genome, eval_cfg))
        except Exception as e:
            result = {"status": "failed", "error": f"{type(e).__name__}: {e}"}
    result["eval_s"] = time.perf_counter() - t0
    return result


class EvaluationService:
    """Evaluates genomes of ``problem`` and commits their records (see the module docstring).

    ``objectives``: the names every record carries and checks for finiteness. ``write(records)``
    persists records durably; ``account(records)`` is called after each write, pending records
    included (marked ``latency_pending``). ``evaluator(genome, config)``, when given, replaces
    the problem's per-genome function (and its batch path). ``cache``: an ``EvalCache`` or None.
    ``n_jobs``, ``backend``, ``scheduler``: ``parallel_map``'s; ``threads``: torch threads per
    worker. ``say(text)`` reports progress of long serial latency measurements.
    """

    def __init__(self, problem: Problem, objectives: Sequence[str], *, write: Callable[[list[dict]], None],
                 account: Callable[[list[dict]], None] = lambda records: None, evaluator: Callable | None = None,
                 cache=None, n_jobs: int = 1, backend: str = "loky", scheduler: str | None = None, threads: int = 1,
                 say: Callable[[str], None] = lambda text: None):
        self.problem = problem
        self.space = problem.space
        self.objectives = tuple(objectives)
        self.fingerprint = problem.fingerprint()
        self.write, self.account = write, account
        self.evaluator = evaluator
        self.cache = cache
        self.n_jobs, self.backend, self.scheduler, self.threads = n_jobs, backend, scheduler, threads
        self.say = say
        self._latency: dict[str, float] = {}

    # -- records --------------------------------------------------------------------------
    def record(self, key: str, genes: list[int], result: dict, generation: int | None, cached: bool,
               **fields) -> dict:
        """The record of ``result`` for the genome ``key`` with ``genes`` (a list, kept as given);
        ``fields`` (e.g. ``origin``) are added to it."""
        rec = {k: plain(v) for k, v in result.items()}
        rec.update(key=key, genes=genes, generation=generation, cached=cached, **fields)
        rec.setdefault("status", "failed")
        rec.setdefault("error", None)
        for k in self.objectives:
            rec.setdefault(k, None)
        if rec["status"] == "ok":
            for k in self.objectives:
                v = rec[k]
                if v is None and k == "latency_ms" and self.problem.latency_model() is not None:
                    continue  # measured serially next (``needs_latency``)
                if isinstance(v, bool) or not isinstance(v, (int, float)) or not math.isfinite(v):
                    rec.update(status="failed", error=f"non-finite objective: {k} = {v!r}")
                    rec[k] = None
                    break
        return rec

    def lookup(self, keys: Sequence[str]) -> dict[str, dict]:
        """The persistent cache's results for the genome ``keys``, by key (those it holds)."""
        if self.cache is None or not keys:
            return {}
        return self.cache.get_many(list(keys), self.fingerprint)

    def commit(self, records: list[dict], store: bool = True) -> None:
        """Durable first (one ``write`` for the batch), then accounted, then cached unless not ``store``."""
        self.write(records)
        self.account(records)
        if store:
            self.store(records)

    def store(self, records: list[dict]) -> None:
        """The successful, complete ``records`` into the persistent cache, without their ``BOOKKEEPING``
        fields (a record still waiting for its latency is stored once ``measure_pending`` completes it)."""
        if self.cache is not None:
            self.cache.put_many([(r["key"], {k: v for k, v in r.items() if k not in BOOKKEEPING})
                                 for r in records if r["status"] == "ok" and not r.get("latency_pending")],
                                self.fingerprint)

    # -- evaluation -----------------------------------------------------------------------
    def evaluate(self, genomes: Sequence[Genome], generation: int | None = None, **fields) -> None:
        """Evaluate ``genomes`` (none of them cached or seen: the caller's choice) and commit each record."""
        if not genomes:
            return
        if self.problem.batch and self.evaluator is None:
            set_threads(self.threads)
            t0 = time.perf_counter()
            try:
                results = self.problem.evaluate(genomes)
                if len(results) != len(genomes):
                    raise ValueError(f"problem {self.problem.name!r} returned {len(results)} results "
                                     f"for {len(genomes)} genomes")
            except Exception as e:  # noqa: BLE001  (a failing batch fails its candidates, not the run)
                results = [{"status": "failed", "error": f"{type(e).__name__}: {e}"}] * len(genomes)
            per = (time.perf_counter() - t0) / len(genomes)
            recs = [self.record(g.key, list(g.genes), {**r, "eval_s": per}, generation, False, **fields)
                    for g, r in zip(genomes, results)]
            pending = [r for r in recs if self.needs_latency(r)]
            for r in pending:
                r["latency_pending"] = True
            self.commit(recs)
            self.measure_pending(pending)
            return
        pending: list[dict] = []

        def done(i: int, result: dict) -> None:
            rec = self.record(genomes[i].key, list(genomes[i].genes), result, generation, False, **fields)
            if self.needs_latency(rec):
                # on disk now, so a kill loses nothing; completed below, once the pool is idle
                rec["latency_pending"] = True
                pending.append(rec)
            self.commit([rec])

        fn, cfg = self.problem.task()
        exclusive = not self.problem.thread_safe
        tasks = [(self.evaluator or fn, g, cfg, self.threads, exclusive) for g in genomes]
        parallel_map(evaluate_task, tasks, self.n_jobs, self.backend, on_result=done, scheduler=self.scheduler)
        self.measure_pending(pending)

    def needs_latency(self, rec: dict) -> bool:
        """A successful record still waiting for the problem's latency model."""
        return rec["status"] == "ok" and rec.get("latency_ms") is None and self.problem.latency_model() is not None

    def measure_pending(self, records: list[dict]) -> None:
        """Latency models that time the network run here, serially, while no worker is busy."""
        count = getattr(self.problem.latency_model(), "missing_layers", None)
        if records and count is not None:
            try:
                n = count([self.space.genome(r["genes"]).architecture() for r in records])
            except Exception:  # noqa: BLE001  (a bad genome fails below, with its reason)
                n = 0
            if n:
                self.say(f"measuring {n} new layers for this machine's latency table (serially, workers idle; "
                         f"they are kept for later runs)")
        for rec in sorted(records, key=lambda r: r["key"]):
            rec = dict(rec)
            rec.pop("latency_pending", None)
            t0 = time.perf_counter()
            try:
                v = self._model_latency(self.space.genome(rec["genes"]))
                if not math.isfinite(v):
                    raise ValueError(f"non-finite objective: latency_ms = {v!r}")
                rec["latency_ms"] = v
            except Exception as e:
                rec.update(status="failed", error=f"latency: {type(e).__name__}: {e}")
            rec["latency_s"] = time.perf_counter() - t0
            self.commit([rec])

    def _model_latency(self, genome: Genome) -> float:
        """The latency model's figure for ``genome`` in ms, obtained once per key."""
        key = genome.key
        if key not in self._latency:
            self._latency[key] = float(self.problem.latency_model().latency_ms(genome.architecture()))
        return self._latency[key]

    def latency_ms(self, genome: Genome) -> float:
        """``genome``'s latency in ms without committing anything (e.g. to rank candidates first).

        The latency model's figure (the one ``measure_pending`` then records: obtained once per
        key) or, for a problem without a model, the ``latency_ms`` of evaluating it; NaN when
        that evaluation reports none (a failed candidate). Raises what the latency model raises."""
        if self.problem.latency_model() is not None:
            return self._model_latency(genome)
        key = genome.key
        if key not in self._latency:
            fn, cfg = self.problem.task()
            v = (self.evaluator or fn)(genome, cfg).get("latency_ms")
            self._latency[key] = math.nan if v is None else float(v)
        return self._latency[key]


__all__ = ["EvaluationService", "evaluate_task", "set_threads", "plain", "BOOKKEEPING"]
