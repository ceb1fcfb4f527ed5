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
``experiments/fault_injection.py`` runs both. The records, the subprocess and the probes they
share are ``evo_nas/studies/faults_harness.py``.
"""
from __future__ import annotations

import signal
import subprocess
import time
from pathlib import Path
from typing import Callable

import numpy as np

from ..engine.run import CHECKPOINT, EVALUATIONS, PREVIOUS_CHECKPOINT, RunDir
from .faults_harness import (
    Fault, Scenario, _children, _Cli, _garbage, _lines, _until, _with_search, _workers_gone, complete_evaluations,
    front_keys, signature, tear_last_line, to_toml,
)

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


__all__ = ["FaultInjector", "summary"]
