"""Fault injection, issue 27: a run directory that cannot lie, and clean ends on cluster and disk faults.

``RunDirFaults`` adds to ``FaultInjector``'s scenarios (issue 18) the faults a run directory may
carry or meet, each injected into a search killed with ``kill -9`` at a drawn moment (or struck
while it runs), then recovered as the one-line error says, and compared with an uninterrupted run:

- a planted pickle (``checkpoint.pkl`` that creates a file when unpickled): refused with the
  ``--rebuild`` opt-in, never loaded, the file never created;
- a foreign checkpoint (another seed's ``checkpoint.json``): refused as another run's;
- missing records (``evaluations.jsonl`` replaced by an older copy, or deleted): ``--resume`` and
  ``evo-nas pareto`` refuse and name what is missing; the run never ends ``done`` smaller;
- a valid JSON line that is not a record: one line naming the file and line;
- the dask scheduler killed mid-search: exit 75 within a bounded time, one line, ``run.json``
  ``interrupted`` with the resume command; resumed on this machine;
- a full disk, on a tmpfs of a few MB mounted for the purpose (needs root; otherwise reported as
  not run): exit 75, one line naming the file, ``run.json`` ``interrupted``, no worker-pool noise;
  resumed once space is freed.
"""
from __future__ import annotations

import os
import pickle
import shutil
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

from ..engine.run import CHECKPOINT, EVALUATIONS, PREVIOUS_CHECKPOINT, RunDir
from .faults import FaultInjector
from .faults_harness import Scenario, _lines, _until, _with_search, complete_evaluations

MARKER = "planted-pickle-ran"


class _Plant:
    def __init__(self, marker: Path):
        self.marker = str(marker)

    def __reduce__(self):
        return open, (self.marker, "w")


def _one_line(rc: int, err: str, code: int = 2) -> bool:
    return rc == code and err.count("\n") == 0 and "Traceback" not in err


class RunDirFaults(FaultInjector):
    """``FaultInjector`` with the scenarios of issue 27 (see the module docstring)."""

    def _killed(self, name: str, variant: str = "pool, 1 job", **search) -> tuple[Scenario, bool]:
        sc, cfg = self._new(name, variant, **search)
        at = max(self._moments(variant, 1)[0], 2 * self.pop)
        struck = self._struck_run(sc, cfg, at)[0]
        if struck:
            self._fault(sc, "kill -9", f"kill -9 at {_lines(sc.run_dir / EVALUATIONS)} evaluation lines", "killed",
                        True)
        return sc, struck

    def planted_pickle(self) -> None:
        sc, struck = self._killed("planted-pickle")
        if struck:
            marker = self.workdir / MARKER
            for f in sc.run_dir.glob("checkpoint*"):
                f.unlink()
            (sc.run_dir / "checkpoint.pkl").write_bytes(pickle.dumps(_Plant(marker)))
            (sc.run_dir / "checkpoint.prev.pkl").write_bytes(pickle.dumps(_Plant(marker)))
            rc, err = self._resume(sc)
            self._fault(sc, "planted pickle", "checkpoint.pkl and checkpoint.prev.pkl that run code when unpickled",
                        f"--resume exit {rc}: {err[:160]!r}; code {'RAN' if marker.exists() else 'not run'}",
                        _one_line(rc, err) and "--rebuild" in err and not marker.exists())
            rc, err = self.cli.run("--resume", str(sc.run_dir), "--rebuild")
            self._fault(sc, "planted pickle", "--resume --rebuild (the documented opt-in)",
                        f"exit {rc}; code {'RAN' if marker.exists() else 'not run'}", rc == 0 and not marker.exists())
        self._finish(sc)

    def foreign_checkpoint(self) -> None:
        other = self.workdir / "other-seed"
        if not other.exists():
            config = {**self.variants["pool, 1 job"], "seed": int(self.config.get("seed", 0)) + 1}
            self.cli.run(str(self._config_file(other.name, config)), "--run-dir", str(other))
        sc, struck = self._killed("foreign-checkpoint")
        if struck:
            before = (sc.run_dir / EVALUATIONS).read_bytes()
            for name in (CHECKPOINT, PREVIOUS_CHECKPOINT):
                shutil.copy(other / name, sc.run_dir / name)
            rc, err = self._resume(sc)
            kept = (sc.run_dir / EVALUATIONS).read_bytes() == before
            self._fault(sc, "foreign checkpoint", "checkpoint.json of a run with another seed copied in",
                        f"--resume exit {rc}: {err[:160]!r}; evaluations {'untouched' if kept else 'CHANGED'}",
                        _one_line(rc, err) and "belongs to another run" in err and kept)
            for name in (CHECKPOINT, PREVIOUS_CHECKPOINT):  # as the error says: remove it
                (sc.run_dir / name).unlink()
        self._finish(sc)

    def missing_records(self, how: str) -> None:
        variant = "pool, 1 job"
        sc, cfg = self._new(f"missing-records-{how}", variant)
        early, late = sorted(self._moments(variant, 2))
        late = max(late, early + self.pop, 2 * self.pop)
        proc = self.cli.start(str(cfg), "--run-dir", str(sc.run_dir))
        log = sc.run_dir / EVALUATIONS
        older = None
        if _until(proc, log, early):
            older = log.read_bytes()
        struck, _ = self._strike(sc, proc, late, signal.SIGKILL)
        self.cli.finish(proc)
        if struck and older is not None:
            snapshot = complete_evaluations(sc.run_dir)
            backup = log.read_bytes()
            if how == "deleted":
                log.unlink()
            else:
                log.write_bytes(older)
            rc, err = self._resume(sc)
            prc, perr = self.cli.run(str(sc.run_dir), command="pareto")
            status = RunDir(sc.run_dir).summary().get("status")
            self._fault(sc, "missing records", f"{EVALUATIONS} {how} ({len(snapshot)} records before)",
                        f"--resume exit {rc}: {err[:170]!r}; pareto exit {prc}; run.json {status!r}",
                        _one_line(rc, err) and "records are missing" in err and _one_line(prc, perr)
                        and status != "done", snapshot=snapshot)
            log.write_bytes(backup)  # as the error says: restore it
        self._finish(sc)

    def non_record_line(self) -> None:
        sc, struck = self._killed("non-record-line")
        if struck:
            log = sc.run_dir / EVALUATIONS
            snapshot = complete_evaluations(sc.run_dir)
            lines = log.read_bytes().splitlines(keepends=True)
            at = int(self.rng.integers(1, len(lines)))
            bad = [b'[1, 2]\n', b'{"a": 1}\n', b'{"key": 7, "status": "ok"}\n'][int(self.rng.integers(3))]
            log.write_bytes(b"".join(lines[:at] + [bad] + lines[at:]))
            rc, err = self._resume(sc)
            self._fault(sc, "non-record line", f"{bad.strip().decode()} inserted as line {at + 1}",
                        f"--resume exit {rc}: {err[:170]!r}",
                        _one_line(rc, err) and f"line {at + 1} is not an evaluation record" in err, snapshot=snapshot)
            log.write_bytes(b"".join(lines))  # as the error says: remove the line
        self._finish(sc)

    def scheduler_kill(self) -> None:
        try:
            import distributed  # noqa: F401
        except ImportError:
            self.log("     scheduler-kill: not run (dask.distributed is not installed)")
            return
        with socket.socket() as s:
            s.bind(("127.0.0.1", 0))
            port = s.getsockname()[1]
        address = f"tcp://127.0.0.1:{port}"
        start = dict(env=self.cli.env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, start_new_session=True)
        scheduler = subprocess.Popen([sys.executable, "-m", "distributed.cli.dask_scheduler", "--port", str(port),
                                      "--no-dashboard"], **start)
        worker = subprocess.Popen([sys.executable, "-m", "distributed.cli.dask_worker", address, "--nthreads", "1",
                                   "--nworkers", "2", "--no-dashboard"], **start)
        variant = "pool, 1 job"
        sc, cfg = self._new("scheduler-kill", variant, backend="dask", n_jobs=2, scheduler=address)
        try:
            time.sleep(4)
            proc = self.cli.start(str(cfg), "--run-dir", str(sc.run_dir))
            at = self._moments(variant, 1)[0]
            if _until(proc, sc.run_dir / EVALUATIONS, at):
                snapshot = complete_evaluations(sc.run_dir)
                os.killpg(scheduler.pid, signal.SIGKILL)
                t0 = time.monotonic()
                rc, err = self.cli.finish(proc, timeout=120)
                waited = time.monotonic() - t0
                summary = RunDir(sc.run_dir).summary()
                self._fault(sc, "scheduler kill", f"dask scheduler killed at {at} evaluation lines",
                            f"exit {rc} after {waited:.1f} s: {err[:150]!r}; run.json {summary.get('status')!r}",
                            _one_line(rc, err, 75) and waited < 30 and summary.get("status") == "interrupted"
                            and "--resume" in summary.get("resume", ""), snapshot=snapshot)
            else:
                self.cli.finish(proc)
        finally:
            for p in (scheduler, worker):
                try:
                    os.killpg(p.pid, signal.SIGKILL)
                except ProcessLookupError:
                    pass
                p.wait()
        self.cli.run("--resume", str(sc.run_dir), "--backend", "loky")  # on this machine
        self._finish(sc)

    def full_disk(self, size_kb: int = 4096) -> None:
        mount = self.workdir / "tinyfs"
        mount.mkdir(exist_ok=True)
        done = subprocess.run(["mount", "-t", "tmpfs", "-o", f"size={size_kb}k", "tmpfs", str(mount)],
                              capture_output=True, text=True)
        if done.returncode != 0:
            self.log(f"     full-disk: not run (cannot mount a {size_kb} KB tmpfs: {done.stderr.strip()[:100]})")
            return
        try:
            variant = "serial latency, 2 jobs"
            sc, cfg = self._new("full-disk", variant)
            sc.run_dir = mount / "run"
            filler = mount / "filler"
            # leave room for about a third of the uninterrupted run's evaluations
            room = (self.workdir / "uninterrupted-1" / EVALUATIONS).stat().st_size // 3
            free = os.statvfs(mount).f_bavail * os.statvfs(mount).f_frsize
            filler.write_bytes(b"\0" * max(free - room, 0))
            rc, err = self.cli.run(str(cfg), "--run-dir", str(sc.run_dir))
            summary = RunDir(sc.run_dir).summary() if (sc.run_dir / "run.json").exists() else {}
            snapshot = complete_evaluations(sc.run_dir)
            self._fault(sc, "full disk", f"{size_kb} KB tmpfs filled to {room} bytes free",
                        f"exit {rc} with {len(snapshot)} evaluations: {err[:200]!r}; run.json "
                        f"{summary.get('status')!r}",
                        _one_line(rc, err, 75) and "No space left on device" in err and str(mount) in err
                        and summary.get("status") == "interrupted", snapshot=snapshot)
            filler.unlink()  # free the space, as the error says, then resume
            self._finish(sc)
            shutil.copytree(sc.run_dir, self.workdir / "full-disk", dirs_exist_ok=True)
        finally:
            subprocess.run(["umount", str(mount)], capture_output=True)

    def run_all(self) -> list[Scenario]:
        super().run_all()
        self.planted_pickle()
        self.foreign_checkpoint()
        self.missing_records("older-copy")
        self.missing_records("deleted")
        self.non_record_line()
        self.scheduler_kill()
        self.full_disk()
        return self.scenarios


__all__ = ["RunDirFaults", "_with_search"]
