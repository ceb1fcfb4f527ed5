"""Engine benchmark: throughput at n_jobs = 1 and 2, parallel efficiency, engine overhead, resume cache hits.

The same seeded search (same genomes, so the same work; results do not depend on the worker
count) runs once serially and once on two workers with the persistent cache off. Engine
overhead is the share of wall time spent outside the evaluation phase (asking, telling,
bookkeeping, checkpoints, start-up), shown whole and split into the per-generation loop and the
one-time start-up (imports, dataset, strategy; the first run of the process pays the imports). A third copy runs in a subprocess killed with SIGKILL
part-way, then resumes here: its resumed session reports how many asked genomes were served
without evaluation, and that none was evaluated twice. ``experiments/bench_engine.py`` runs it.
"""
from __future__ import annotations

import copy
import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

from ..engine.jsonl import read_jsonl
from ..engine.run import EVALUATIONS, RunDir
from ..engine.runner import run_search

_CHILD = """
import json, sys
from evo_nas.engine.runner import run_search
run_search(json.loads(sys.argv[1]), sys.argv[2], quiet=True)
"""


def _with(config: dict, **search) -> dict:
    c = copy.deepcopy(config)
    c["search"] = {**(c.get("search") or {}), **search}
    return c


def _timed_run(config: dict, run_dir: Path) -> dict:
    t0 = time.perf_counter()
    result = run_search(config, run_dir, quiet=True)
    wall = time.perf_counter() - t0
    eval_s = sum(e["eval_s"] for e in result.logbook)
    loop_s = sum(e["wall_s"] for e in result.logbook)
    return {"n_jobs": config["search"].get("n_jobs", 1), "evaluations": result.evaluations, "wall_s": wall,
            "eval_phase_s": eval_s, "evals_per_s": result.evaluations / wall,
            "overhead_share": (wall - eval_s) / wall,
            "loop_overhead_share": (loop_s - eval_s) / wall, "startup_s": wall - loop_s,
            "front": [r["key"] for r in result.front], "logbook": result.logbook}


def _killed_then_resumed(config: dict, run_dir: Path, kill_after: int) -> dict:
    log = run_dir / EVALUATIONS
    child = subprocess.Popen([sys.executable, "-c", _CHILD, json.dumps(config), str(run_dir)],
                             stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    deadline = time.time() + 600
    while child.poll() is None and time.time() < deadline:
        if log.exists() and log.read_bytes().count(b"\n") >= kill_after:
            break
        time.sleep(0.02)
    killed = child.poll() is None
    if killed:
        os.kill(child.pid, signal.SIGKILL)
    child.wait()
    before = len(read_jsonl(log))
    resumed = run_search(None, run_dir, resume=True, quiet=True)
    run = RunDir(run_dir)
    records = run.evaluations()
    complete = [r for r in read_jsonl(log) if not r.get("latency_pending")]
    book = run.logbook()
    first_resumed = min((e["generation"] for e in book if e["generation"] >= _checkpoint_gen(book, before)),
                        default=None)
    session = [e for e in book if first_resumed is not None and e["generation"] >= first_resumed]
    asked = sum(e["asked"] for e in session)
    hits = sum(e["cache_hits"] for e in session)
    return {"killed": killed, "evaluations_before_kill": before, "evaluations_total": len(records),
            "evaluated_twice": len(complete) - len({r["key"] for r in complete}),
            "resumed_asked": asked, "resumed_cache_hits": hits,
            "resumed_hit_rate": hits / asked if asked else 0.0,
            "first_resumed_generation_hits": session[0]["cache_hits"] if session else 0,
            "front": [r["key"] for r in resumed.front]}


def _checkpoint_gen(book: list[dict], before: int) -> int:
    """The first generation whose evaluations were not all on disk at the kill."""
    for e in book:
        if e["evaluations"] > before:
            return e["generation"]
    return len(book)


def benchmark_engine(config: dict, workdir) -> dict:
    """Run the three measurements on ``config`` (its ``[search]`` budget defines the workload)."""
    workdir = Path(workdir)
    workdir.mkdir(parents=True, exist_ok=True)
    base = _with(config, cache=False)
    serial = _timed_run(_with(base, n_jobs=1), workdir / "serial")
    parallel = _timed_run(_with(base, n_jobs=2, backend="loky"), workdir / "parallel")
    efficiency = parallel["evals_per_s"] / serial["evals_per_s"] / 2
    total = serial["evaluations"]
    resume = _killed_then_resumed(_with(base, n_jobs=1), workdir / "resumed", kill_after=max(1, total // 2 + 1))
    # the same generations again on a cache the first copy filled (a budget in unique evaluations
    # would make the re-run go on past them, since hits are free)
    warm_cache = str(workdir / "cache.sqlite")
    same_gens = _with(config, cache=warm_cache, n_jobs=2, generations=len(serial["logbook"]), max_evaluations=None)
    same_gens["search"] = {k: v for k, v in same_gens["search"].items() if v is not None}
    run_search(same_gens, workdir / "cold", quiet=True)
    t0 = time.perf_counter()
    rerun = run_search(same_gens, workdir / "warm", quiet=True)
    rerun_s = time.perf_counter() - t0
    rerun_asked = sum(e["asked"] for e in rerun.logbook)
    return {"serial": serial, "parallel": parallel, "parallel_efficiency": efficiency,
            "same_front": serial["front"] == parallel["front"] == resume["front"], "resume": resume,
            "rerun_with_warm_cache": {"asked": rerun_asked, "cache_hits": rerun.cache_hits,
                                      "hit_rate": rerun.cache_hits / rerun_asked if rerun_asked else 0.0,
                                      "new_evaluations": rerun.evaluations, "wall_s": rerun_s},
            "cpu_count": os.cpu_count(), "load_avg": os.getloadavg()}


def format_report(r: dict) -> str:
    s, p = r["serial"], r["parallel"]
    lines = [
        f"machine: {r['cpu_count']} cores, load average {r['load_avg'][0]:.2f} {r['load_avg'][1]:.2f} "
        f"{r['load_avg'][2]:.2f} (at the end)",
        f"{'':24}{'n_jobs=1':>12}{'n_jobs=2':>12}",
        f"{'evaluations':24}{s['evaluations']:>12}{p['evaluations']:>12}",
        f"{'wall time (s)':24}{s['wall_s']:>12.2f}{p['wall_s']:>12.2f}",
        f"{'evaluations / s':24}{s['evals_per_s']:>12.3f}{p['evals_per_s']:>12.3f}",
        f"{'engine overhead (%)':24}{100 * s['overhead_share']:>12.2f}{100 * p['overhead_share']:>12.2f}",
        f"{'  of which in the loop':24}{100 * s['loop_overhead_share']:>12.2f}{100 * p['loop_overhead_share']:>12.2f}",
        f"{'  start-up (s)':24}{s['startup_s']:>12.2f}{p['startup_s']:>12.2f}",
        f"parallel efficiency (rate2 / rate1 / 2): {r['parallel_efficiency']:.3f}",
        f"same Pareto set serial / parallel / killed+resumed: {r['same_front']}",
    ]
    q = r["resume"]
    lines.append(f"SIGKILL after {q['evaluations_before_kill']} evaluations, resumed: "
                 f"{q['evaluations_total']} total, evaluated twice: {q['evaluated_twice']}, "
                 f"resumed-session cache hits {q['resumed_cache_hits']}/{q['resumed_asked']} "
                 f"({100 * q['resumed_hit_rate']:.1f}%), first resumed generation: "
                 f"{q['first_resumed_generation_hits']} hits")
    w = r["rerun_with_warm_cache"]
    lines.append(f"re-run on a warm cache: {w['cache_hits']}/{w['asked']} hits ({100 * w['hit_rate']:.1f}%), "
                 f"{w['new_evaluations']} new evaluations, {w['wall_s']:.2f} s")
    return "\n".join(lines)
