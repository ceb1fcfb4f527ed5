"""A latency measurement protocol and its statistics (MnasNet, Tan et al., 2019, arXiv 1807.11626).

MnasNet measures latency on the target device instead of counting FLOPs. A figure is only worth
that much if the protocol behind it is fixed: a fixed thread count, untimed warm-up calls,
``rounds x repeats`` individually timed calls, the median of all samples as the figure, the IQR
of the samples as its spread (the 90th and 99th percentiles are kept beside the median), and the
coefficient of variation of the per-round medians as the stability check. When that CV exceeds
``max_cv`` the whole measurement (warm-up included) is repeated, at most ``max_attempts`` times;
the most stable attempt is kept and the number of attempts is recorded.

``measure`` takes the call to time and the clock as arguments, so its logic is testable with a
fake clock and a fake runner; the runtimes that supply the call are in ``evo_nas.latency.measure``.
"""
from __future__ import annotations

import statistics
import time
from dataclasses import asdict, dataclass
from typing import Callable

import numpy as np


@dataclass(frozen=True)
class Protocol:
    """How a latency is measured; every field is recorded next to the figures it produced."""

    warmup: int = 10
    repeats: int = 20
    rounds: int = 5
    max_cv: float = 0.05
    max_attempts: int = 3

    def __post_init__(self):
        from .protocol_keys import check_protocol

        check_protocol(asdict(self))

    @classmethod
    def from_dict(cls, d: dict) -> "Protocol":
        """The protocol keys of ``d`` (a ``[latency]`` section; other keys are ignored) over the defaults;
        ``ValueError`` of one line naming a bad key and value (``evo_nas.latency.protocol_keys``)."""
        from .protocol_keys import PROTOCOL_KEYS, check_protocol

        return cls(**check_protocol({k: d[k] for k in PROTOCOL_KEYS if k in d}))

    def to_dict(self) -> dict:
        return asdict(self)


@dataclass(frozen=True)
class Measurement:
    """One measured latency: median of all timed calls, with its spread and how it was obtained."""

    median_ms: float
    iqr_ms: float
    cv: float
    samples: int
    attempts: int
    stable: bool
    p90_ms: float | None = None
    p99_ms: float | None = None
    p10_ms: float | None = None

    def to_dict(self) -> dict:
        return asdict(self)


def summarize(samples_ms: list[list[float]]) -> tuple[float, float, float]:
    """(median, IQR, CV of the per-round medians) of samples grouped by round."""
    med, iqr, cv, *_ = summarize_tails(samples_ms)
    return med, iqr, cv


def summarize_tails(samples_ms: list[list[float]]) -> tuple[float, float, float, float, float, float]:
    """(median, IQR, CV of the per-round medians, 90th, 99th and 10th percentile) of samples grouped by round."""
    flat = np.concatenate([np.asarray(r, dtype=float) for r in samples_ms])
    p10, q25, med, q75, p90, p99 = np.percentile(flat, [10, 25, 50, 75, 90, 99])
    medians = [float(np.median(r)) for r in samples_ms]
    mean = statistics.fmean(medians)
    cv = statistics.pstdev(medians) / mean if len(medians) > 1 and mean > 0 else 0.0
    return float(med), float(q75 - q25), float(cv), float(p90), float(p99), float(p10)


def measure(call: Callable[[], object], protocol: Protocol = Protocol(),
            clock: Callable[[], float] = time.perf_counter) -> Measurement:
    """Time ``call`` under ``protocol``; ``clock`` returns seconds."""
    best = None
    for attempt in range(1, protocol.max_attempts + 1):
        for _ in range(protocol.warmup):
            call()
        rounds = []
        for _ in range(protocol.rounds):
            samples = []
            for _ in range(protocol.repeats):
                t0 = clock()
                call()
                samples.append((clock() - t0) * 1e3)
            rounds.append(samples)
        stats = summarize_tails(rounds)
        if best is None or stats[2] < best[2]:
            best = stats
        if stats[2] <= protocol.max_cv:
            break
    med, iqr, cv, p90, p99, p10 = best
    return Measurement(median_ms=med, iqr_ms=iqr, cv=cv, samples=protocol.rounds * protocol.repeats,
                       attempts=attempt, stable=cv <= protocol.max_cv, p90_ms=p90, p99_ms=p99, p10_ms=p10)


__all__ = ["Protocol", "Measurement", "summarize", "summarize_tails", "measure"]
