"""Issue 27, items 4 and 5: dask cluster faults end a search cleanly, and dask workers are held to the
determinism rule of threads."""
import json
import os
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import pytest

from evo_nas.base import parallel
from evo_nas.cli import main
from evo_nas.engine.run import RunDir
from evo_nas.engine.runner import run_search
from evo_nas.problems.synthetic import SyntheticProblem, synthetic_evaluate

distributed = pytest.importorskip("distributed")
REPO = Path(__file__).resolve().parents[1]


def config(**search):
    return {"seed": 2, "space": {"name": "mnasnet", "resolution": 32, "num_classes": 10},
            "problem": {"name": "synthetic"}, "search": {"pop_size": 6, "generations": 3, "cache": False, **search},
            "objectives": {"reference": {"val_acc": 0.5, "latency_ms": 10.0}}}


@pytest.mark.parametrize("address", ["localhost:8786", "tcp://", "tcp://host:port", "http://10.0.0.5:8786"])
def test_a_malformed_scheduler_address_is_refused_before_the_run_starts(tmp_path, capsys, address):
    path = tmp_path / "c.toml"
    path.write_text('seed = 2\n[problem]\nname = "synthetic"\n[space]\nname = "mnasnet"\n'
                    f'[search]\ngenerations = 2\nbackend = "dask"\nscheduler = "{address}"\n')
    t0 = time.monotonic()
    assert main(["search", str(path), "--run-dir", str(tmp_path / "run"), "--quiet"]) == 2
    err = capsys.readouterr().err.strip()
    assert err == (f"evo-nas search: error: [search] scheduler = {address!r} is not a dask scheduler address "
                   f"(expected scheme://host:port, such as 'tcp://10.0.0.5:8786')")
    assert time.monotonic() - t0 < 5 and not (tmp_path / "run").exists()


def test_an_unreachable_scheduler_is_refused_within_the_connect_timeout(tmp_path, monkeypatch):
    monkeypatch.setattr(parallel, "DASK_CONNECT_S", 1.0)
    with socket.socket() as s:  # a port where nothing listens
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    t0 = time.monotonic()
    with pytest.raises(ValueError, match=rf"scheduler = 'tcp://127.0.0.1:{port}': no dask scheduler answered"):
        run_search(config(backend="dask", scheduler=f"tcp://127.0.0.1:{port}"), tmp_path / "run", quiet=True)
    assert time.monotonic() - t0 < 20 and not (tmp_path / "run").exists()


class RacyProblem(SyntheticProblem):
    """The synthetic problem marked not thread-safe, as training is (process-wide torch state)."""

    thread_safe = False


SHARED = {}


def racy(genome, cfg):
    """An evaluation reading back process-wide state it set: another task of the same process running
    meanwhile changes its result, as two trainings sharing torch's global state do."""
    SHARED["key"] = genome.key
    time.sleep(0.01)
    out = synthetic_evaluate(genome, cfg)
    out["val_acc"] = out["val_acc"] if SHARED["key"] == genome.key else 0.0
    return out


def test_a_multithreaded_dask_worker_runs_a_thread_unsafe_problem_one_task_at_a_time(tmp_path):
    from distributed import LocalCluster

    cfg = config(pop_size=8, generations=2)
    serial = run_search(cfg, tmp_path / "serial", quiet=True, evaluator=racy, problem=RacyProblem.from_config(cfg))
    with LocalCluster(n_workers=1, threads_per_worker=4, processes=False, dashboard_address=None) as cluster:
        on_dask = run_search(config(pop_size=8, generations=2, backend="dask", n_jobs=4,
                                    scheduler=cluster.scheduler_address),
                             tmp_path / "dask", quiet=True, evaluator=racy, problem=RacyProblem.from_config(cfg))
    accs = lambda run: sorted((r["key"], r["val_acc"]) for r in RunDir(run.run_dir).evaluations())  # noqa: E731
    assert accs(on_dask) == accs(serial)


SLOW = """
import time
from evo_nas.problems.synthetic import synthetic_evaluate

def slow(genome, cfg):
    time.sleep(0.3)
    return synthetic_evaluate(genome, cfg)
"""

CHILD = """
import json, sys
from evo_nas.cli import main
from evo_nas.engine import runner as engine
import slowmod
original = engine.Engine.__init__
def init(self, config, run, evaluator, quiet, problem=None):
    original(self, config, run, slowmod.slow, quiet, problem)
engine.Engine.__init__ = init
sys.exit(main(sys.argv[1:]))
"""


def _free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _start(args, env, **kw):
    return subprocess.Popen(args, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
                            start_new_session=True, **kw)


@pytest.mark.slow
def test_a_lost_scheduler_ends_the_search_with_one_line_and_it_resumes(tmp_path):
    (tmp_path / "slowmod.py").write_text(SLOW)
    env = {**os.environ, "PYTHONPATH": os.pathsep.join([str(REPO), str(tmp_path)])}
    port = _free_port()
    address = f"tcp://127.0.0.1:{port}"
    scheduler = _start([sys.executable, "-m", "distributed.cli.dask_scheduler", "--port", str(port),
                        "--no-dashboard"], env)
    worker = _start([sys.executable, "-m", "distributed.cli.dask_worker", address, "--nthreads", "1",
                     "--no-dashboard"], env)
    run_dir = tmp_path / "run"
    cfg = tmp_path / "c.toml"
    cfg.write_text('seed = 2\n[problem]\nname = "synthetic"\n[space]\nname = "mnasnet"\nresolution = 32\n'
                   'num_classes = 10\n'
                   f'[search]\npop_size = 6\ngenerations = 4\ncache = false\nbackend = "dask"\nn_jobs = 2\n'
                   f'scheduler = "{address}"\n[objectives]\nreference = {{ val_acc = 0.5, latency_ms = 10.0 }}\n')
    try:
        time.sleep(3)
        child = subprocess.Popen([sys.executable, "-c", CHILD, "search", str(cfg), "--run-dir", str(run_dir),
                                  "--quiet"], env=env, cwd=tmp_path, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
        log = run_dir / "evaluations.jsonl"
        deadline = time.time() + 90
        while time.time() < deadline and child.poll() is None:
            if log.exists() and log.read_bytes().count(b"\n") >= 8:
                break
            time.sleep(0.05)
        assert child.poll() is None, child.stderr.read().decode()
        os.killpg(scheduler.pid, signal.SIGKILL)
        t0 = time.time()
        out, err = child.communicate(timeout=60)
        waited = time.time() - t0
    finally:
        for p in (scheduler, worker):
            try:
                os.killpg(p.pid, signal.SIGKILL)
            except ProcessLookupError:
                pass
            p.wait()
    err = err.decode().strip()
    assert child.returncode == 75, err
    assert err.count("\n") == 0 and "Traceback" not in err, err
    assert err.startswith("evo-nas search: interrupted: ") and f"evo-nas search --resume {run_dir}" in err
    assert waited < 30
    summary = json.loads((run_dir / "run.json").read_text())
    assert summary["status"] == "interrupted" and summary["resume"] == f"evo-nas search --resume {run_dir}"
    straight = run_search(config(generations=4), tmp_path / "straight", quiet=True)
    assert main(["search", "--resume", str(run_dir), "--backend", "loky", "--quiet"]) == 0  # on this machine
    resumed = RunDir(run_dir)
    assert [r["key"] for r in resumed.pareto()] == [r["key"] for r in straight.front]
    assert resumed.summary()["evaluations"] == straight.evaluations

