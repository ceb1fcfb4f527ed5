"""The count of a run's evaluations: every record by genome key, the counters, best values and archive.

DEAP keeps the individuals it has evaluated and a ``ParetoFront`` of every one seen; ``Tally``
keeps the same for a run: ``memo`` holds every record of the run by its genome's key, and each
record is counted once (``n_evaluated``, its budget's unit; ``n_served`` of them from the
persistent cache; ``n_failed`` with their ``failure_reasons``), improves the ``best`` value of
each objective and enters the ``archive`` (the Pareto set over every successful evaluation).

A resumed run counts the records made before its checkpoint at once (``settle``); later ones
wait in ``replay`` by generation and are counted when the replay reaches their generation
(``release``), so counters, archive and logbook match an uninterrupted run.
"""
from __future__ import annotations

import re
from collections import Counter

from ..algorithms.objectives import Objectives
from .archive import Archive


def failure_reason(error) -> str:
    """A failure reason without the candidate-specific numbers, for counting by kind."""
    text = str(error or "unknown")
    return re.sub(r"\d+(\.\d+)?(e[-+]?\d+)?", "N", text)[:160]


class Tally:
    """The run's records ``memo`` (key -> record, every one the run holds) and what is counted of them."""

    def __init__(self, objectives: Objectives, records: dict[str, dict]):
        self.objectives = objectives
        self.memo: dict[str, dict] = records
        self.counted: set[str] = set()
        self.replay: dict[int, list[str]] = {}  # generation -> keys of records waiting for its replay
        self.waiting: set[str] = set()
        self.archive = Archive(objectives)
        self.n_evaluated = 0
        self.n_served = 0
        self.n_failed = 0
        self.failure_reasons: Counter = Counter()
        self.best: dict[str, float] = {}

    def settle(self, generation: int) -> None:
        """Count the records made before ``generation``; later ones wait to be replayed.

        A resumed run continues from its last checkpoint and replays the generations after it:
        their genomes are served from the run's own records (nothing is re-evaluated) and
        counted when their generation is replayed."""
        self.replay = {}
        early = []
        for key, rec in self.memo.items():
            gen = rec.get("generation")
            if gen is None or gen < generation:
                early.append(rec)
            else:
                self.replay.setdefault(gen, []).append(key)
        self.waiting = {k for keys in self.replay.values() for k in keys}
        self.account(early)

    def release(self, keys) -> None:
        """Count records that waited for their generation to be replayed."""
        keys = list(keys)
        self.waiting.difference_update(keys)
        self.account([self.memo[k] for k in keys])

    def release_all(self) -> None:
        """Count every record still waiting (a run that ends before its replay reached them)."""
        self.release([k for keys in self.replay.values() for k in keys])
        self.replay = {}

    def account(self, records) -> None:
        """Add completed records to the memo, counters, best values and archive (once per key)."""
        done = []
        memo, counted, waiting = self.memo, self.counted, self.waiting
        n = served = 0
        for rec in records:
            key = rec["key"]
            memo[key] = rec
            if rec.get("latency_pending") or key in counted or key in waiting:
                continue
            counted.add(key)
            n += 1
            if rec.get("cached"):
                served += 1
            if rec["status"] != "ok":
                self.n_failed += 1
                self.failure_reasons[failure_reason(rec.get("error"))] += 1
                continue
            done.append(rec)
        self.n_evaluated += n
        self.n_served += served
        self._improve(done)

    def account_new(self, records: list[dict]) -> None:
        """``account`` of records built from columns: new keys, every one ok, none cached or pending."""
        keys = [r["key"] for r in records]
        self.memo.update(zip(keys, records))
        self.counted.update(keys)
        self.n_evaluated += len(records)
        self._improve(records)

    def _improve(self, done: list[dict]) -> None:
        """Best values and archive with successful records."""
        for name in self.objectives.names:
            values = [v for v in [r.get(name) for r in done] if v is not None]
            if values:
                better = max if name in self.objectives.maximize else min
                self.best[name] = better(values) if name not in self.best else better(self.best[name], better(values))
        self.archive.add(done)
