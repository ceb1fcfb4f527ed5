"""A run killed with SIGKILL mid-generation resumes with nothing lost and ends as an uninterrupted run."""
import json
import os
import signal
import subprocess
import sys
import time

from evo_nas.cli import main
from evo_nas.engine.jsonl import append_jsonl, read_jsonl
from evo_nas.engine.run import RunDir
from evo_nas.engine.runner import run_search

from conftest import needs_data

CONFIG = {"seed": 11, "space": {"name": "mnasnet", "resolution": 32, "num_classes": 10},
          "problem": {"name": "synthetic"}, "search": {"pop_size": 8, "generations": 5, "cache": False},
          "objectives": {"reference": {"val_acc": 0.5, "latency_ms": 10.0}}}

CHILD = """
import json, sys, time
from evo_nas.engine.runner import run_search
from evo_nas.problems.synthetic import synthetic_evaluate

def slow(genome, cfg):
    time.sleep(0.05)
    return synthetic_evaluate(genome, cfg)

run_search(json.loads(sys.argv[1]), sys.argv[2], quiet=True, evaluator=slow)
"""


def _evals(path):
    return sorted((r["generation"], r["key"], r["val_acc"], r["latency_ms"]) for r in read_jsonl(path))


def test_sigkill_mid_generation_then_resume(tmp_path):
    run_dir = tmp_path / "killed"
    log = run_dir / "evaluations.jsonl"
    child = subprocess.Popen([sys.executable, "-c", CHILD, json.dumps(CONFIG), str(run_dir)],
                             stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    target = 8 * 2 + 3  # three evaluations into the third generation
    deadline = time.time() + 120
    while time.time() < deadline and child.poll() is None:
        if log.exists() and log.read_bytes().count(b"\n") >= target:
            break
        time.sleep(0.01)
    assert child.poll() is None, child.stderr.read().decode()
    os.kill(child.pid, signal.SIGKILL)
    child.wait()
    before = read_jsonl(log)
    assert 8 * 2 + 3 <= len(before) < 8 * 5
    assert RunDir(run_dir).load_checkpoint()["generation"] >= 2

    assert main(["search", "--resume", str(run_dir), "--quiet"]) == 0
    resumed = RunDir(run_dir)
    after = read_jsonl(log)
    # nothing lost, nothing evaluated twice
    assert after[:len(before)] == before
    assert len({r["key"] for r in after}) == len(after)

    straight = run_search(CONFIG, tmp_path / "straight", quiet=True)
    assert _evals(log) == _evals(tmp_path / "straight" / "evaluations.jsonl")
    assert [r["key"] for r in resumed.pareto()] == [r["key"] for r in straight.front]
    assert resumed.summary()["hypervolume"] == straight.hypervolume
    assert resumed.summary()["evaluations"] == straight.evaluations
    assert len(resumed.logbook()) == 5


def test_a_torn_last_line_is_skipped_and_cut_before_the_next_append(tmp_path):
    path = tmp_path / "e.jsonl"
    append_jsonl(path, [{"a": 1}, {"a": 2}])
    with open(path, "ab") as f:
        f.write(b'{"a": 3, "b"')
    assert read_jsonl(path) == [{"a": 1}, {"a": 2}]
    append_jsonl(path, [{"a": 4}])
    assert read_jsonl(path) == [{"a": 1}, {"a": 2}, {"a": 4}]


def test_a_corrupt_checkpoint_is_rebuilt_by_replay(tmp_path, capsys):
    config = CONFIG | {"search": {**CONFIG["search"], "generations": 1}}
    straight = run_search(config, tmp_path / "run", quiet=True)
    (tmp_path / "run" / "checkpoint.json").write_bytes(b"garbage")
    (tmp_path / "run" / "checkpoint.prev.json").unlink(missing_ok=True)
    resumed = run_search(None, tmp_path / "run", resume=True, quiet=False)
    assert "corrupt checkpoint" in capsys.readouterr().err
    assert [r["key"] for r in resumed.front] == [r["key"] for r in straight.front]
    assert resumed.evaluations == straight.evaluations


OFA_CHILD = """
import json, sys, time
from evo_nas.problems.ofa import OFAProblem
from evo_nas.engine import loop
from evo_nas.engine.runner import run_search

loop.CHECKPOINT_S = float(sys.argv[3])
fast = OFAProblem.evaluate_array

def slow(self, X):
    time.sleep(0.02)
    return fast(self, X)

OFAProblem.evaluate_array = slow
run_search(json.loads(sys.argv[1]), sys.argv[2], quiet=True)
"""


@needs_data("ofa")
def test_an_ofa_batch_search_killed_at_a_random_generation_resumes_to_the_same_pareto_set(tmp_path):
    import numpy as np

    config = {"seed": 4, "problem": {"name": "ofa-mbv3"}, "search": {"pop_size": 40, "generations": 30},
              "objectives": {"reference": {"top1": 0.70, "latency_ms": 100.0}}}
    straight = run_search(config, tmp_path / "straight", quiet=True)
    rng = np.random.default_rng(2026)
    for checkpoint_s in (0.0, 0.25):
        run_dir = tmp_path / f"killed-{checkpoint_s}"
        kill_at = int(rng.integers(3, 25))
        child = subprocess.Popen([sys.executable, "-c", OFA_CHILD, json.dumps(config), str(run_dir), str(checkpoint_s)],
                                 stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
        # evaluations.jsonl gets each generation as it is scored (the logbook waits for a checkpoint)
        evaluations = run_dir / "evaluations.jsonl"
        deadline = time.time() + 120
        while time.time() < deadline and child.poll() is None:
            records = read_jsonl(evaluations)
            if records and records[-1]["generation"] >= kill_at:
                break
            time.sleep(0.005)
        assert child.poll() is None, child.stderr.read().decode()
        os.kill(child.pid, signal.SIGKILL)
        child.wait()
        before = {r["key"]: r for r in RunDir(run_dir).evaluations()}
        resumed = run_search(None, run_dir, resume=True, quiet=True)
        after = {r["key"]: r for r in RunDir(run_dir).evaluations()}
        assert all(after[k] == r for k, r in before.items())
        assert [m["key"] for m in resumed.front] == [m["key"] for m in straight.front]
        assert resumed.hypervolume == straight.hypervolume
        strip = lambda e: {k: v for k, v in e.items() if k not in ("wall_s", "eval_s")}
        assert [strip(e) for e in RunDir(run_dir).logbook()] == [strip(e) for e in RunDir(straight.run_dir).logbook()]
