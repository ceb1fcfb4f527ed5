"""Issue 18: SIGTERM stops a search like Ctrl-C (state saved, status "interrupted", exit 143), and no
loky worker outlives its parent, whether the parent was stopped by SIGTERM or killed with SIGKILL."""
import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

from evo_nas.cli import main
from evo_nas.engine.jsonl import read_jsonl
from evo_nas.engine.runner import run_search

CONFIG = {"seed": 4, "space": {"name": "mnasnet", "resolution": 32, "num_classes": 10},
          "problem": {"name": "synthetic"}, "search": {"pop_size": 8, "generations": 6, "cache": False, "n_jobs": 2},
          "objectives": {"reference": {"val_acc": 0.5, "latency_ms": 10.0}}}

TOML = """seed = 4
[space]
name = "mnasnet"
resolution = 32
num_classes = 10
[problem]
name = "synthetic"
[search]
pop_size = 8
generations = 6
cache = false
n_jobs = 2
[objectives]
reference = { val_acc = 0.5, latency_ms = 10.0 }
"""

# `evo-nas search` with the synthetic evaluator slowed down, so that a signal lands mid-run; every
# evaluation appends its worker's pid to PIDS
CLI = """
import os, sys, time
from evo_nas.problems import synthetic

fast = synthetic.synthetic_evaluate

def slow(genome, cfg):
    with open(os.environ["PIDS"], "a") as f:
        f.write(f"{os.getpid()}\\n")
    time.sleep(0.05)
    return fast(genome, cfg)

synthetic.synthetic_evaluate = slow
from evo_nas.cli import main
sys.exit(main(sys.argv[1:]))
"""


def _running(pid: int) -> bool:
    """Alive and not a zombie (an orphan's zombie may wait for a reaper that never comes)."""
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except FileNotFoundError:
        return False
    return stat.rsplit(")", 1)[1].split()[0] != "Z"


def _start(tmp_path, run_dir):
    (tmp_path / "tiny.toml").write_text(TOML)
    root = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
    env = {**os.environ, "PIDS": str(tmp_path / "pids"), "PYTHONPATH": root}
    return subprocess.Popen([sys.executable, "-c", CLI, "search", str(tmp_path / "tiny.toml"), "--run-dir",
                             str(run_dir), "--quiet"], env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE)


def _wait_for_evaluations(child, log: Path, n: int) -> None:
    deadline = time.time() + 120
    while time.time() < deadline and child.poll() is None:
        if log.exists() and log.read_bytes().count(b"\n") >= n:
            return
        time.sleep(0.01)
    raise AssertionError(f"the search ended or stalled before {n} evaluations: {child.stderr.read().decode()}")


def _workers(tmp_path, parent: int) -> set[int]:
    pids = {int(x) for x in (tmp_path / "pids").read_text().split()}
    assert pids and parent not in pids
    return pids


def _all_gone(pids: set[int], within_s: float) -> bool:
    deadline = time.time() + within_s
    while time.time() < deadline:
        if not any(_running(p) for p in pids):
            return True
        time.sleep(0.05)
    return False


def test_sigterm_saves_the_run_exits_143_and_resume_completes(tmp_path):
    run_dir = tmp_path / "run"
    child = _start(tmp_path, run_dir)
    _wait_for_evaluations(child, run_dir / "evaluations.jsonl", 8 + 3)
    child.send_signal(signal.SIGTERM)
    out, err = child.communicate(timeout=60)
    assert child.returncode == 143, err.decode()
    err = err.decode()
    assert "terminated (SIGTERM)" in err and f"resume with: evo-nas search --resume {run_dir}" in err
    summary = json.loads((run_dir / "run.json").read_text())
    assert summary["status"] == "interrupted" and summary["resume"] == f"evo-nas search --resume {run_dir}"
    assert not (run_dir / "run.lock").exists()
    assert _all_gone(_workers(tmp_path, child.pid), within_s=5)
    before = read_jsonl(run_dir / "evaluations.jsonl")
    assert 8 + 3 <= len(before) < 8 * 6

    assert main(["search", "--resume", str(run_dir), "--quiet", "--n-jobs", "1"]) == 0
    after = read_jsonl(run_dir / "evaluations.jsonl")
    assert after[:len(before)] == before
    assert json.loads((run_dir / "run.json").read_text())["status"] == "done"
    straight = run_search(CONFIG, tmp_path / "straight", quiet=True)
    assert sorted(r["key"] for r in after) == sorted(r["key"] for r in read_jsonl(straight.run_dir / "evaluations.jsonl"))


def test_loky_workers_exit_when_their_parent_is_killed(tmp_path):
    run_dir = tmp_path / "run"
    child = _start(tmp_path, run_dir)
    _wait_for_evaluations(child, run_dir / "evaluations.jsonl", 8 + 3)
    workers = _workers(tmp_path, child.pid)
    child.kill()
    child.wait()
    assert _all_gone(workers, within_s=5)
