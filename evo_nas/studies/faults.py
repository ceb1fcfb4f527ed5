"""Fault injection: small synthetic searches killed, stopped, torn and corrupted, then resumed (issue 18).

Each scenario runs ``python -m evo_nas search`` as a subprocess on a synthetic configuration
(evaluations cost microseconds, so a 30-generation search takes seconds), injects faults at
moments drawn from one seeded generator, recovers as a user would (``--resume``, or deleting the
file an error names), and compares the finished run with an uninterrupted run of the same
configuration:

- lost: evaluations complete on disk right after a fault and missing when the run has finished;
- the finished run's evaluations (key, status, objectives) and Pareto set against the
  uninterrupted run's.

Faults: ``kill -9`` (with the latency measured in the pool or serially, on one or two workers;
the workers of a killed search must exit), SIGTERM (exit 143, ``run.json`` "interrupted"), a
torn last line of ``evaluations.jsonl``, a corrupt checkpoint (the one before, or replay, takes
over), a corrupt evaluation cache (a one-line error, no new run directory), and a concurrent
``--resume`` (refused while the search runs). ``evo_nas/studies/faults_rundir.py`` adds the
faults of a run directory that must not lie and of the cluster and disk (issue 27);
``experiments/fault_injection.py`` runs both.
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
from typing import Callable

import numpy as np

from ..engine.run import CHECKPOINT, EVALUATIONS, PREVIOUS_CHECKPOINT, RunDir

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


# -- scenarios ----------------------------------------------------------------------------------------

class FaultInjector:
    """Runs the scenarios on ``config`` (a synthetic search) in ``workdir``; ``log`` gets one line per fault."""

    def __init__(self, config: dict, workdir: Path, rng: np.random.Generator, kills: int = 3,
                 log: Callable[[str], None] = print):
        if (config.get("problem") or {}).get("name") != "synthetic":
            raise ValueError("fault injection runs synthetic searches: set [problem] name = \"synthetic\"")
        self.config = config
        self.workdir = Path(workdir)
        self.workdir.mkdir(parents=True, exist_ok=True)
        self.rng = rng
        self.kills = kills
        self.log = log
        self.cli = _Cli(self.workdir)
        self.variants = {
            "pool, 1 job": _with_search(config, n_jobs=1, cache=False),
            "serial latency, 2 jobs": {**_with_search(config, n_jobs=2, cache=False),
                                       "problem": {**config["problem"], "latency": "serial"}},
        }
        self.pop = int((config.get("search") or {}).get("pop_size", 16))
        self.baselines: dict[str, tuple[dict, list[str], int]] = {}
        self.scenarios: list[Scenario] = []

    def _config_file(self, name: str, config: dict) -> Path:
        path = self.workdir / f"{name}.toml"
        path.write_text(to_toml(config))
        return path

    def baseline(self, variant: str) -> tuple[dict, list[str], int]:
        """The uninterrupted run of ``variant``: its evaluations, Pareto keys and evaluation-file lines."""
        if variant not in self.baselines:
            run_dir = self.workdir / f"uninterrupted-{len(self.baselines)}"
            rc, err = self.cli.run(str(self._config_file(run_dir.name, self.variants[variant])), "--run-dir",
                                   str(run_dir))
            if rc != 0:
                raise RuntimeError(f"the uninterrupted {variant} run failed (exit {rc}): {err}")
            self.baselines[variant] = (signature(complete_evaluations(run_dir)), front_keys(run_dir),
                                       _lines(run_dir / EVALUATIONS))
        return self.baselines[variant]

    def _moments(self, variant: str, n: int) -> list[int]:
        """``n`` increasing evaluation-file line counts at which to strike, drawn from the generator."""
        lines, pop = self.baseline(variant)[2], self.pop
        return sorted(int(x) for x in self.rng.choice(np.arange(pop // 2, max(pop, lines - pop)), n, replace=False))

    def _jitter(self) -> None:
        time.sleep(float(self.rng.uniform(0, 0.01)))

    def _new(self, name: str, variant: str, **search) -> tuple[Scenario, Path]:
        sc = Scenario(name, variant, self.workdir / name)
        self.scenarios.append(sc)
        return sc, self._config_file(name, _with_search(self.variants[variant], **search))

    def _fault(self, sc: Scenario, kind: str, what: str, outcome: str, expected: bool,
               snapshot: dict | None = None) -> Fault:
        """Record a fault; ``snapshot``: the complete evaluations before it (default: on disk now)."""
        f = Fault(sc.name, kind, what, outcome, expected,
                  snapshot=complete_evaluations(sc.run_dir) if snapshot is None else snapshot)
        sc.faults.append(f)
        self.log(f"{'ok  ' if expected else 'FAIL'} {sc.name}: {what} -> {outcome}")
        return f

    def _strike(self, sc: Scenario, proc: subprocess.Popen, at: int, sig: int) -> tuple[bool, set[int]]:
        if not _until(proc, sc.run_dir / EVALUATIONS, at):
            return False, set()
        self._jitter()
        if proc.poll() is not None:
            return False, set()
        workers = _children(proc.pid)
        proc.send_signal(sig)
        return True, workers

    def _struck_run(self, sc: Scenario, cfg: Path, at: int, sig: int = signal.SIGKILL):
        """Start the search of ``sc``, strike it with ``sig`` once ``at`` evaluation lines are written, and
        wait for it to end: (struck, its worker pids, exit status, standard error)."""
        proc = self.cli.start(str(cfg), "--run-dir", str(sc.run_dir))
        struck, workers = self._strike(sc, proc, at, sig)
        rc, err = self.cli.finish(proc)
        return struck, workers, rc, err

    def _resume(self, sc: Scenario) -> tuple[int, str]:
        return self.cli.run("--resume", str(sc.run_dir))

    def _finish(self, sc: Scenario) -> None:
        """Resume until done (at most twice), then compare with the uninterrupted run."""
        for _ in range(2):
            if RunDir(sc.run_dir).summary().get("status") == "done":
                break
            rc, err = self._resume(sc)
            if rc != 0:
                self.log(f"FAIL {sc.name}: final --resume exited {rc}: {err.splitlines()[-1] if err else ''}")
        sc.completed = RunDir(sc.run_dir).summary().get("status") == "done"
        final = complete_evaluations(sc.run_dir)
        for f in sc.faults:
            f.lost = len(set(f.snapshot) - set(final))
        base_evals, base_front, _ = self.baseline(sc.variant)
        mine = signature(final)
        sc.evaluations_differ = mine != base_evals
        sc.front_differs = front_keys(sc.run_dir) != base_front
        status = RunDir(sc.run_dir).summary().get("status")
        changed = sum(1 for k in mine if k in base_evals and mine[k] != base_evals[k])
        self.log(f"{'ok  ' if sc.completed and not sc.evaluations_differ and not sc.front_differs else 'DIFF'} "
                 f"{sc.name}: run {status}; {len(mine)} evaluations, uninterrupted {len(base_evals)} "
                 f"({len(set(base_evals) - set(mine))} missing, {len(set(mine) - set(base_evals))} extra, "
                 f"{changed} changed); Pareto set {'differs' if sc.front_differs else 'same'}; "
                 f"lost {sum(f.lost for f in sc.faults)}")

    # each scenario: start, strike, recover, compare
    def kills_then_resume(self, variant: str) -> None:
        sc, cfg = self._new(f"kill9-{len(self.scenarios)}", variant)
        moments = self._moments(variant, self.kills)
        proc = self.cli.start(str(cfg), "--run-dir", str(sc.run_dir))
        for at in moments:
            struck, workers = self._strike(sc, proc, at, signal.SIGKILL)
            if not struck:
                self.log(f"     {sc.name}: the run ended before line {at}; no kill")
                break
            self.cli.finish(proc)
            gone = _workers_gone(workers) if workers else "no workers"
            self._fault(sc, "kill -9", f"kill -9 at {_lines(sc.run_dir / EVALUATIONS)} evaluation lines ({variant})",
                        f"killed; {gone}", "STILL" not in gone)
            proc = self.cli.start("--resume", str(sc.run_dir))
        self.cli.finish(proc)
        self._finish(sc)

    def sigterm_then_resume(self) -> None:
        variant = "serial latency, 2 jobs"
        sc, cfg = self._new("sigterm", variant)
        at = self._moments(variant, 1)[0]
        struck, workers, rc, err = self._struck_run(sc, cfg, at, signal.SIGTERM)
        if struck:
            status = RunDir(sc.run_dir).summary().get("status")
            gone = _workers_gone(workers) if workers else "no workers"
            ok = rc == 143 and status == "interrupted" and "--resume" in err and "STILL" not in gone
            self._fault(sc, "SIGTERM", f"SIGTERM at {_lines(sc.run_dir / EVALUATIONS)} evaluation lines",
                        f"exit {rc}, run.json status {status!r}, {gone}", ok)
        self._finish(sc)

    def torn_line_then_resume(self) -> None:
        variant = "pool, 1 job"
        sc, cfg = self._new("torn-line", variant)
        at = self._moments(variant, 1)[0]
        struck = self._struck_run(sc, cfg, at)[0]
        if struck:
            log = sc.run_dir / EVALUATIONS
            before = self._fault(sc, "kill -9", f"kill -9 at {_lines(log)} evaluation lines", "killed", True)
            cut = tear_last_line(log, self.rng)
            rc, err = self._resume(sc)
            self._fault(sc, "torn last line", f"last line of {EVALUATIONS} torn ({cut} bytes cut)",
                        f"--resume exit {rc}{': ' + err if rc else ''}", rc == 0, snapshot=before.snapshot)
        self._finish(sc)

    def corrupt_checkpoint(self) -> None:
        variant = "pool, 1 job"
        sc, cfg = self._new("corrupt-checkpoint", variant)
        at = max(self._moments(variant, 1)[0], 2 * self.pop)  # past generation 1: a previous checkpoint exists
        struck = self._struck_run(sc, cfg, at)[0]
        if struck:
            log = sc.run_dir / EVALUATIONS
            before = log.read_bytes()
            _garbage(sc.run_dir / CHECKPOINT, self.rng)
            rc, err = self._resume(sc)
            kept = log.read_bytes().startswith(before)
            self._fault(sc, "corrupt checkpoint", f"kill -9, then garbage in {CHECKPOINT}",
                        f"--resume exit {rc}, saying {err.splitlines()[0][:150] if err else '-'!r}; evaluations "
                        f"{'kept' if kept else 'CHANGED'}",
                        rc == 0 and kept and "corrupt checkpoint" in err and PREVIOUS_CHECKPOINT in err)
        self._finish(sc)

    def corrupt_cache(self) -> None:
        variant = "pool, 1 job"
        cache = self.workdir / "corrupt-cache.sqlite"
        sc, cfg = self._new("corrupt-cache", variant, cache=str(cache))
        at = self._moments(variant, 1)[0]
        struck = self._struck_run(sc, cfg, at)[0]
        if struck:
            log = sc.run_dir / EVALUATIONS
            before = log.read_bytes()
            for companion in (Path(f"{cache}-wal"), Path(f"{cache}-shm")):
                companion.unlink(missing_ok=True)  # a WAL still holding every page would heal the file
            _garbage(cache, self.rng)
            rc, err = self._resume(sc)
            ok = rc == 2 and err.count("\n") == 0 and str(cache) in err and log.read_bytes() == before
            self._fault(sc, "corrupt cache", "kill -9, then garbage in the evaluation cache",
                        f"--resume exit {rc}: {err!r}", ok)
            fresh = self.workdir / "corrupt-cache-new-run"
            rc, err = self.cli.run(str(cfg), "--run-dir", str(fresh))
            ok = rc == 2 and err.count("\n") == 0 and not fresh.exists()
            self._fault(sc, "corrupt cache", "a new search on the corrupt cache",
                        f"exit {rc}, run directory {'absent' if not fresh.exists() else 'CREATED'}", ok)
            for p in cache.parent.glob(cache.name + "*"):
                p.unlink()
        self._finish(sc)

    def concurrent_resume(self) -> None:
        variant = "pool, 1 job"
        sc, cfg = self._new("concurrent-resume", variant)
        at = self._moments(variant, 1)[0]
        proc = self.cli.start(str(cfg), "--run-dir", str(sc.run_dir))
        if _until(proc, sc.run_dir / EVALUATIONS, at):
            rc, err = self._resume(sc)
            running = proc.poll() is None
            ok = rc == 2 and f"pid {proc.pid}" in err and err.count("\n") == 0
            self._fault(sc, "concurrent resume", f"--resume while the search runs (pid {proc.pid})",
                        f"exit {rc}: {err!r}" + ("" if running else " (the search had ended meanwhile)"),
                        ok or (not running and rc == 0))
        rc, err = self.cli.finish(proc)
        if rc != 0:
            self.log(f"FAIL {sc.name}: the original search exited {rc}: {err}")
        self._finish(sc)

    def run_all(self) -> list[Scenario]:
        for variant in self.variants:
            self.baseline(variant)
        self.kills_then_resume("pool, 1 job")
        self.kills_then_resume("serial latency, 2 jobs")
        self.sigterm_then_resume()
        self.torn_line_then_resume()
        self.corrupt_checkpoint()
        self.corrupt_cache()
        self.concurrent_resume()
        return self.scenarios


def summary(scenarios: list[Scenario], tracebacks: int | None = None) -> str:
    """The closing lines: faults injected (by kind), expected outcomes, lost evaluations, differing runs
    and (``tracebacks``) the Python tracebacks seen on standard error."""
    faults = [f for s in scenarios for f in s.faults]
    kinds: dict[str, int] = {}
    for f in faults:
        kinds[f.kind] = kinds.get(f.kind, 0) + 1
    n = len(scenarios)
    return "\n".join([
        f"faults injected: {len(faults)} ({', '.join(f'{k}: {v}' for k, v in kinds.items())}); "
        f"outcome as expected: {sum(f.expected for f in faults)} of {len(faults)}",
        f"completed evaluations lost: {sum(f.lost for f in faults)}",
        f"runs not completed: {sum(not s.completed for s in scenarios)} of {n}",
        f"runs whose final evaluations differ from the uninterrupted run: "
        f"{sum(bool(s.evaluations_differ) for s in scenarios)} of {n}",
        f"runs whose final Pareto set differs from the uninterrupted run: "
        f"{sum(bool(s.front_differs) for s in scenarios)} of {n}",
    ] + ([] if tracebacks is None else [f"tracebacks seen on standard error: {tracebacks}"]))


__all__ = ["FaultInjector", "Fault", "Scenario", "summary", "to_toml", "tear_last_line", "complete_evaluations"]
