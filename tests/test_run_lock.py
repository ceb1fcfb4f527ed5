"""Issue 18: one writer per run directory; a lock left by a dead process is taken over."""
import errno
import json
import os
import signal
import socket
import subprocess
import sys

import pytest

from evo_nas.cli import main
from evo_nas.engine import lock as lock_module
from evo_nas.engine.lock import LOCK, RunLock, RunLocked
from evo_nas.engine.runner import run_search

CONFIG = {"seed": 5, "space": {"name": "mnasnet", "resolution": 32, "num_classes": 10},
          "problem": {"name": "synthetic"}, "search": {"pop_size": 6, "generations": 1, "cache": False},
          "objectives": {"reference": {"val_acc": 0.0, "latency_ms": 50.0}}}

HOLD = """
import os, sys, time
from evo_nas.engine.lock import RunLock
lock = RunLock(sys.argv[1]).acquire()
if sys.argv[2] == "fork":
    child = os.fork()
    if child == 0:
        null = os.open(os.devnull, os.O_WRONLY)
        os.dup2(null, 1)
        os.dup2(null, 2)
        time.sleep(60)  # inherits the locked descriptor and outlives its parent
        os._exit(0)
    print(child, flush=True)
    os._exit(0)
print("locked", flush=True)
time.sleep(60)
"""


def _env():
    root = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
    return {**os.environ, "PYTHONPATH": root + os.pathsep + os.environ.get("PYTHONPATH", "")}


def _dead_pid() -> int:
    p = subprocess.Popen([sys.executable, "-c", "pass"])
    p.wait()
    return p.pid


@pytest.fixture
def finished_run(tmp_path):
    run_search(CONFIG, tmp_path / "run", quiet=True)
    return tmp_path / "run"


def test_resume_is_refused_while_another_process_holds_the_run(finished_run, capsys):
    holder = subprocess.Popen([sys.executable, "-c", HOLD, str(finished_run), "hold"], stdout=subprocess.PIPE,
                              env=_env())
    try:
        assert holder.stdout.readline().strip() == b"locked"
        before = (finished_run / "evaluations.jsonl").read_bytes()
        capsys.readouterr()
        assert main(["search", "--resume", str(finished_run), "--quiet"]) == 2
        err = capsys.readouterr().err.strip()
        assert err.startswith("evo-nas search: error: run directory") and "\n" not in err
        assert f"pid {holder.pid} on host {socket.gethostname()}" in err
        assert (finished_run / "evaluations.jsonl").read_bytes() == before
        assert json.loads((finished_run / "run.json").read_text())["status"] == "done"
    finally:
        holder.kill()
        holder.wait()
    # killed: the kernel dropped its flock, and the next writer takes the lock over
    assert main(["search", "--resume", str(finished_run), "--quiet"]) == 0
    assert not (finished_run / LOCK).exists()


def test_a_stale_lock_file_of_a_dead_process_is_taken_over(finished_run):
    (finished_run / LOCK).write_text(json.dumps({"pid": _dead_pid(), "host": socket.gethostname()}))
    assert main(["search", "--resume", str(finished_run), "--quiet"]) == 0
    assert not (finished_run / LOCK).exists()


def test_a_lock_kept_open_by_a_child_of_a_dead_holder_is_stale(tmp_path):
    holder = subprocess.run([sys.executable, "-c", HOLD, str(tmp_path), "fork"], capture_output=True, env=_env(),
                            check=True)
    orphan = int(holder.stdout)
    try:
        with RunLock(tmp_path) as lock:
            assert json.loads(lock.path.read_text())["pid"] == os.getpid()
    finally:
        os.kill(orphan, signal.SIGKILL)


def test_without_flock_the_recorded_pid_and_host_decide(tmp_path, monkeypatch):
    def no_flock(fd, op):
        raise OSError(errno.ENOLCK, "No locks available")

    monkeypatch.setattr(lock_module.fcntl, "flock", no_flock)
    (tmp_path / LOCK).write_text(json.dumps({"pid": _dead_pid(), "host": socket.gethostname()}))
    with RunLock(tmp_path):
        pass
    (tmp_path / LOCK).write_text(json.dumps({"pid": os.getppid(), "host": socket.gethostname()}))
    with pytest.raises(RunLocked, match=f"pid {os.getppid()} on host"):
        RunLock(tmp_path).acquire()
    (tmp_path / LOCK).write_text(json.dumps({"pid": _dead_pid(), "host": "elsewhere"}))
    with pytest.raises(RunLocked, match="on host elsewhere"):
        RunLock(tmp_path).acquire()
