"""The measurement protocol's logic, with a fake clock and a fake runner (no timing assertions)."""
import numpy as np
import pytest

from evo_nas.latency.protocol import Protocol, measure, summarize


class FakeDevice:
    """``call()`` advances a fake clock by ``duration_ms(call_index)``."""

    def __init__(self, duration_ms):
        self.t = 0.0
        self.calls = 0
        self.duration_ms = duration_ms

    def clock(self):
        return self.t

    def call(self):
        self.t += self.duration_ms(self.calls) / 1e3
        self.calls += 1


def test_warmup_and_repeats_are_counted_and_only_repeats_timed():
    p = Protocol(warmup=7, repeats=11, rounds=3, max_attempts=2)
    # warm-up calls are slow (cold caches): they must not reach the figure
    dev = FakeDevice(lambda i: 50.0 if i < 7 else 2.0)
    m = measure(dev.call, p, dev.clock)
    assert dev.calls == 7 + 11 * 3
    assert m.samples == 33
    assert m.attempts == 1 and m.stable
    assert m.median_ms == pytest.approx(2.0)
    assert m.iqr_ms == pytest.approx(0.0)


def test_median_and_iqr_of_scripted_samples():
    p = Protocol(warmup=0, repeats=4, rounds=2)
    seq = [1.0, 2.0, 3.0, 4.0, 1.0, 2.0, 3.0, 4.0]
    dev = FakeDevice(lambda i: seq[i])
    m = measure(dev.call, p, dev.clock)
    q25, q50, q75 = np.percentile(seq, [25, 50, 75])
    assert m.median_ms == pytest.approx(q50)
    assert m.iqr_ms == pytest.approx(q75 - q25)
    assert m.cv == pytest.approx(0.0)


def test_unstable_rounds_trigger_a_remeasurement_that_is_recorded():
    p = Protocol(warmup=2, repeats=5, rounds=4, max_cv=0.05, max_attempts=3)
    per_attempt = 2 + 5 * 4

    def duration(i):
        attempt, j = divmod(i, per_attempt)
        if attempt == 0 and j >= 2:
            rnd = (j - 2) // 5
            return 1.0 if rnd % 2 == 0 else 3.0  # round medians 1, 3, 1, 3: CV 0.5
        return 2.0

    dev = FakeDevice(duration)
    m = measure(dev.call, p, dev.clock)
    assert m.attempts == 2
    assert dev.calls == 2 * per_attempt  # warm-up repeated with the measurement
    assert m.stable and m.median_ms == pytest.approx(2.0)


def test_remeasurement_is_bounded_and_keeps_the_most_stable_attempt():
    p = Protocol(warmup=0, repeats=2, rounds=2, max_cv=0.01, max_attempts=3)
    spreads = [1.0, 0.2, 0.5]  # attempt 2 is the least noisy, none is stable

    def duration(i):
        attempt, j = divmod(i, 4)
        return 10.0 + (spreads[attempt] if j >= 2 else -spreads[attempt])

    dev = FakeDevice(duration)
    m = measure(dev.call, p, dev.clock)
    assert dev.calls == 12 and m.attempts == 3 and not m.stable
    assert m.cv == pytest.approx(0.2 / 10.0)


def test_summarize_cv_of_round_medians():
    med, iqr, cv = summarize([[1.0, 1.0], [3.0, 3.0]])
    assert med == pytest.approx(2.0)
    assert cv == pytest.approx(0.5)


@pytest.mark.parametrize("kw, name", [({"repeats": 0}, "repeats"), ({"rounds": 0}, "rounds"),
                                      ({"warmup": -1}, "warmup"), ({"max_cv": 0.0}, "max_cv"),
                                      ({"max_attempts": 0}, "max_attempts")])
def test_protocol_rejects_bad_values_by_name(kw, name):
    with pytest.raises(ValueError, match=name):
        Protocol(**kw)


def test_protocol_from_dict_types():
    assert Protocol.from_dict({"repeats": 3, "max_cv": 1, "mode": "x"}) == Protocol(repeats=3, max_cv=1.0)
    with pytest.raises(ValueError, match="repeats = '3'"):
        Protocol.from_dict({"repeats": "3"})
    with pytest.raises(ValueError, match="warmup = 1.5"):
        Protocol.from_dict({"warmup": 1.5})
