"""Issue 27, item 6: every size a configuration sets has an upper bound with a one-line error, and a
worker pool never starts more workers than it has work."""
import os

import pytest

from evo_nas.base.config import MAX_BATCH, MAX_COUNT, MAX_JOBS
from evo_nas.schema.config import resolve


@pytest.mark.parametrize("search, bad", [
    ({"n_offsprings": 2 ** 63 - 1}, f"[search] n_offsprings = {2 ** 63 - 1} must be an int in [1, {MAX_BATCH}]"),
    ({"pop_size": MAX_BATCH + 1}, f"[search] pop_size = {MAX_BATCH + 1} must be an int in [2, {MAX_BATCH}]"),
    ({"n_jobs": 2000}, f"[search] n_jobs = 2000 must be an int in [1, {MAX_JOBS}] or -1"),
    ({"generations": 10 ** 12}, f"[search] generations = {10 ** 12} must be an int in [1, {MAX_COUNT}]"),
    ({"max_evaluations": 2 ** 62}, f"[search] max_evaluations = {2 ** 62} must be an int in [1, {MAX_COUNT}]"),
    ({"threads_per_worker": 10 ** 6}, "[search] threads_per_worker = 1000000 must be an int in [1, 256]"),
    ({"algorithm": "aging", "aging": {"population": 10 ** 9, "sample": 2}},
     f"[search.aging] population = 1000000000 must be an int in [1, {MAX_BATCH}]"),
    ({"algorithm": "rl", "rl": {"batch_size": 10 ** 9}},
     f"[search.rl] batch_size = 1000000000 must be an int in [1, {MAX_BATCH}]"),
])
def test_an_unbounded_size_is_one_line_error(search, bad):
    with pytest.raises(ValueError) as e:
        resolve({"search": {"generations": 2, **search}})
    assert str(e.value).startswith(bad) and "\n" not in str(e.value)


def test_a_space_and_a_proxy_are_bounded_too():
    with pytest.raises(ValueError, match=r"resolution = 100000 must be an int in \[8, 4096\]"):
        resolve({"space": {"name": "mnasnet", "resolution": 100000}, "search": {"generations": 1}})


def test_a_pool_starts_no_more_workers_than_tasks(monkeypatch):
    import joblib

    from evo_nas.base.parallel import parallel_map

    seen = []  # the worker counts of the pools started
    original = joblib.parallel_config.__init__

    def spy(self, *args, **kwargs):
        if kwargs.get("n_jobs") is not None:
            seen.append(kwargs["n_jobs"])
        original(self, *args, **kwargs)

    monkeypatch.setattr(joblib.parallel_config, "__init__", spy)
    assert parallel_map(abs, [-1, -2, -3], n_jobs=MAX_JOBS, backend="threading") == [1, 2, 3]
    assert seen == [3]
    assert parallel_map(abs, [-1, -2], n_jobs=-1, backend="threading") == [1, 2]
    assert seen[-1] == min(2, os.cpu_count())
