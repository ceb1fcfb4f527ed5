"""The fault-injection harness itself (issue 18): its TOML writer, its torn line, one kill -9 scenario."""
import tomllib

import numpy as np

from evo_nas.engine.jsonl import append_jsonl, read_jsonl
from evo_nas.studies.faults import FaultInjector, summary
from evo_nas.studies.faults_harness import tear_last_line, to_toml

CONFIG = {"seed": 6, "space": {"name": "mnasnet", "resolution": 32, "num_classes": 10},
          "problem": {"name": "synthetic", "fail": 0.1}, "search": {"pop_size": 6, "generations": 8},
          "objectives": {"names": ["val_acc", "latency_ms"], "reference": {"val_acc": 0.0, "latency_ms": 50.0}}}


def test_to_toml_round_trips():
    assert tomllib.loads(to_toml(CONFIG)) == CONFIG


def test_tear_last_line_leaves_a_torn_record_that_readers_skip(tmp_path):
    path = tmp_path / "e.jsonl"
    append_jsonl(path, [{"a": 1}, {"a": 2, "pad": "x" * 40}])
    cut = tear_last_line(path, np.random.default_rng(0))
    assert 2 <= cut < len('{"a": 2, "pad": "' + "x" * 40 + '"}\n')
    assert read_jsonl(path) == [{"a": 1}]


def test_a_killed_and_resumed_run_matches_the_uninterrupted_one(tmp_path):
    lines = []
    injector = FaultInjector(CONFIG, tmp_path, np.random.default_rng(1), kills=1, log=lines.append)
    injector.kills_then_resume("pool, 1 job")
    [scenario] = injector.scenarios
    assert scenario.completed and not scenario.evaluations_differ and not scenario.front_differs
    assert all(f.expected and f.lost == 0 for f in scenario.faults)
    text = summary(injector.scenarios)
    assert "completed evaluations lost: 0" in text and "Pareto set differs from the uninterrupted run: 0 of 1" in text
    assert lines and lines[-1].startswith("ok   kill9-0: run done")
