"""The means of fault injection: fault and scenario records, configurations written as TOML, the
command line run as a subprocess, probes of its processes, and the contents of a run directory.

``evo_nas.studies.faults`` and ``evo_nas.studies.faults_rundir`` build their scenarios from these.
"""
from __future__ import annotations

import copy
import json
import os
import signal
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from ..engine.run import RunDir

POLL_S = 0.003


@dataclass
class Fault:
    """One injected fault: what was done, what happened, and whether that was the expected outcome."""

    scenario: str
    kind: str
    what: str
    outcome: str
    expected: bool
    snapshot: dict = field(default_factory=dict, repr=False)  # complete evaluations on disk after the fault
    lost: int = 0


@dataclass
class Scenario:
    name: str
    variant: str
    run_dir: Path
    faults: list[Fault] = field(default_factory=list)
    completed: bool = False
    evaluations_differ: bool | None = None
    front_differs: bool | None = None


# -- configuration files ----------------------------------------------------------------------------

def _toml_value(v) -> str:
    if isinstance(v, bool):
        return "true" if v else "false"
    if isinstance(v, (int, float)):
        if isinstance(v, float) and not np.isfinite(v):
            raise ValueError(f"{v!r} cannot be written as TOML here")
        return repr(v)
    if isinstance(v, str):
        return json.dumps(v)
    if isinstance(v, (list, tuple)):
        return "[" + ", ".join(_toml_value(x) for x in v) + "]"
    if isinstance(v, dict):
        return "{ " + ", ".join(f"{k} = {_toml_value(x)}" for k, x in v.items()) + " }"
    raise ValueError(f"{v!r} ({type(v).__name__}) cannot be written as TOML")


def to_toml(config: dict) -> str:
    """A configuration as TOML: top-level scalars, one table per section, deeper tables inline."""
    lines = [f"{k} = {_toml_value(v)}" for k, v in config.items() if not isinstance(v, dict)]
    for k, v in config.items():
        if isinstance(v, dict):
            lines.append(f"[{k}]")
            lines.extend(f"{kk} = {_toml_value(vv)}" for kk, vv in v.items())
    return "\n".join(lines) + "\n"


def _with_search(config: dict, **search) -> dict:
    c = copy.deepcopy(config)
    c["search"] = {**(c.get("search") or {}), **search}
    return c


# -- the command line, as a subprocess ----------------------------------------------------------------

class _Cli:
    """``python -m evo_nas search ...`` in ``workdir``, importing this checkout's ``evo_nas``."""

    def __init__(self, workdir: Path):
        self.workdir = workdir
        self.tracebacks = 0  # Python tracebacks seen on standard error, over every command run
        root = str(Path(__file__).resolve().parents[2])
        self.env = {**os.environ, "PYTHONPATH": os.pathsep.join(p for p in (root, os.environ.get("PYTHONPATH"))
                                                                  if p)}

    def start(self, *args: str, command: str = "search") -> subprocess.Popen:
        err = tempfile.TemporaryFile(dir=self.workdir)
        extra = ["--quiet"] if command == "search" else ["--no-plot"]
        proc = subprocess.Popen([sys.executable, "-m", "evo_nas", command, *args, *extra], cwd=self.workdir,
                                env=self.env, stdout=subprocess.DEVNULL, stderr=err)
        proc.err_file = err
        return proc

    def finish(self, proc: subprocess.Popen, timeout: float = 300) -> tuple[int, str]:
        """Wait for ``proc``; its exit status and standard error (the same again on a second call)."""
        if not hasattr(proc, "outcome"):
            rc = proc.wait(timeout)
            proc.err_file.seek(0)
            proc.outcome = rc, proc.err_file.read().decode(errors="replace").strip()
            proc.err_file.close()
            self.tracebacks += proc.outcome[1].count("Traceback (most recent call last)")
        return proc.outcome

    def run(self, *args: str, timeout: float = 300, command: str = "search") -> tuple[int, str]:
        return self.finish(self.start(*args, command=command), timeout)


def _lines(path: Path) -> int:
    try:
        return path.read_bytes().count(b"\n")
    except FileNotFoundError:
        return 0


def _until(proc: subprocess.Popen, log: Path, lines: int, timeout: float = 300) -> bool:
    """Wait until ``log`` has ``lines`` lines while ``proc`` runs; False when it ended first."""
    deadline = time.monotonic() + timeout
    while proc.poll() is None and time.monotonic() < deadline:
        if _lines(log) >= lines:
            return True
        time.sleep(POLL_S)
    return False


def _children(pid: int) -> set[int]:
    """The processes ``pid`` started (its loky workers), from ``/proc`` (empty where there is none)."""
    out: set[int] = set()
    for task in Path(f"/proc/{pid}/task").glob("*"):
        try:
            out |= {int(x) for x in (task / "children").read_text().split()}
        except (OSError, ValueError):
            pass
    return out


def _running(pid: int) -> bool:
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return False
    return stat.rsplit(")", 1)[1].split()[0] != "Z"


def _workers_gone(pids: set[int], within_s: float = 5.0) -> str:
    deadline = time.monotonic() + within_s
    while time.monotonic() < deadline and any(_running(p) for p in pids):
        time.sleep(0.05)
    left = sorted(p for p in pids if _running(p))
    for p in left:  # the workers this script's search started: never leave them behind
        os.kill(p, signal.SIGKILL)
    return f"{len(pids)} workers exited" if not left else f"{len(left)} of {len(pids)} workers STILL RUNNING"


# -- run contents -------------------------------------------------------------------------------------

def complete_evaluations(run_dir: Path) -> dict[str, dict]:
    """The evaluations on disk that are complete (a serial latency still pending is not), by key."""
    return {r["key"]: r for r in RunDir(run_dir, must_exist=False).evaluations() if not r.get("latency_pending")}


def signature(records: dict[str, dict]) -> dict[str, tuple]:
    """What must not change across faults: each key's status and objectives."""
    return {k: (r.get("status"), r.get("val_acc"), r.get("latency_ms")) for k, r in records.items()}


def front_keys(run_dir: Path) -> list[str] | None:
    try:
        return [r["key"] for r in json.loads((run_dir / "pareto.json").read_text())["front"]]
    except (OSError, ValueError, KeyError):
        return None


def tear_last_line(path: Path, rng: np.random.Generator) -> int:
    """Cut the file inside its last line, as a write interrupted by ``kill -9`` leaves it; returns the
    bytes cut."""
    data = path.read_bytes()
    start = data.rstrip(b"\n").rfind(b"\n") + 1
    line = len(data) - start
    cut = int(rng.integers(2, max(3, line - 1)))
    path.write_bytes(data[:len(data) - cut])
    return cut


def _garbage(path: Path, rng: np.random.Generator, size: int = 4096) -> None:
    path.write_bytes(b"\x00not-a-valid-file\x00" + rng.integers(0, 256, size, dtype=np.uint8).tobytes())


__all__ = ["Fault", "Scenario", "to_toml", "tear_last_line", "complete_evaluations"]
