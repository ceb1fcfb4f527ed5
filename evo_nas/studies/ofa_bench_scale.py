"""Engine cost on Once-for-All's ImageNet benchmark: evo-nas's search loop against pymoo's plain NSGA-II.

The loop's wall time (imports and problem loading excluded) of both at 5,000, 20,000 and 50,000
evaluations, medians of interleaved repeats; a 100,000-evaluation evo-nas search in a child
process (peak RSS, archive, logbook, resume after completion); and a 50,000-evaluation search
killed with SIGKILL at a seeded random generation and resumed, against the same search
uninterrupted (same Pareto set, same logbook). ``experiments/bench_ofa.py --part scale`` runs it;
run it on a quiet machine (it times).
"""
from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import numpy as np

from ..engine.run import RunDir
from .ofa_bench import config, run_evo, run_plain

ROOT = Path(__file__).resolve().parents[2]  # the folder holding the evo_nas package, for the child's PYTHONPATH

def loop_times(problem, budget: int, repeats: int, root: Path) -> dict:
    """Median loop seconds and generations of evo-nas (as configured by default: no persistent cache
    for a batch problem), of evo-nas with a SQLite cache, of the plain pymoo loop, and of evo-nas
    stopped at the plain loop's number of generations."""
    runs = {"evo": [], "cached": [], "plain": [], "same_generations": []}
    for rep in range(repeats):
        runs["evo"].append(run_evo(problem, rep, budget, root))
        runs["cached"].append(run_evo(problem, rep, budget, root, cache=str(root / f"cache-{budget}-{rep}.sqlite")))
        plain = run_plain(problem, rep, budget)
        runs["plain"].append(plain)
        runs["same_generations"].append(run_evo(problem, rep, None, root, generations=plain["generations"]))
    return {name: {"wall_s": float(np.median([r["wall_s"] for r in rs])), "walls": [r["wall_s"] for r in rs],
                   "generations": int(np.median([r["generations"] for r in rs])),
                   "unique": int(np.median([r["unique"] for r in rs]))} for name, rs in runs.items()}


CHILD = r"""
import json, resource, sys, time
from evo_nas.engine.runner import run_search
cfg, path, resume = json.loads(sys.argv[1]), sys.argv[2], sys.argv[3] == "1"
t0 = time.perf_counter()
r = run_search(None if resume else cfg, path, resume=resume, quiet=True)
print(json.dumps({"evaluations": r.evaluations, "generations": r.generations, "front": len(r.front),
                  "hv": r.hypervolume, "wall_s": time.perf_counter() - t0,
                  "maxrss_kb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss}))
"""


def child(cfg: dict, path: Path, resume: bool = False) -> subprocess.Popen:
    """A search of ``cfg`` into ``path`` (or its resumption) in a child process; ``finish`` reads its result."""
    env = {**os.environ, "PYTHONPATH": os.pathsep.join(filter(None, [str(ROOT), os.environ.get("PYTHONPATH")]))}
    return subprocess.Popen([sys.executable, "-c", CHILD, json.dumps(cfg), str(path), "1" if resume else "0"],
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, env=env)


def finish(p: subprocess.Popen) -> dict:
    """The child's result line as a dict; ``RuntimeError`` with its stderr's tail if it failed."""
    out, err = p.communicate()
    if p.returncode != 0:
        raise RuntimeError(f"child failed ({p.returncode}): {err.decode()[-2000:]}")
    return json.loads(out.decode().strip().splitlines()[-1])


def front_keys(path: Path) -> list[str]:
    """The genome keys of a run's Pareto set, in pareto.json's order."""
    return [m["key"] for m in json.loads((path / "pareto.json").read_text())["front"]]


def kill_generation(p: subprocess.Popen, evaluations: Path, generation: int) -> int | None:
    """SIGKILL the search ``p`` once ``evaluations`` (appended every generation) holds a record of
    ``generation`` or later; the generation of the last record on disk then, or None if it ended first."""
    tail, last, f = b"", None, None
    try:
        while p.poll() is None:
            if f is None and evaluations.exists():
                f = open(evaluations, "rb")
            if f is not None:
                lines = (tail + f.read()).split(b"\n")
                tail = lines.pop()
                if lines:
                    last = json.loads(lines[-1])["generation"]
                if last is not None and last >= generation:
                    os.kill(p.pid, signal.SIGKILL)
                    return last
            time.sleep(0.002)
    finally:
        if f is not None:
            f.close()
    return None


def scale(problem, root: Path, emit, repeats: int) -> None:
    """Write the engine-cost table and the 100,000-evaluation and kill-and-resume lines through ``emit(line)``;
    the runs go in ``root``."""
    emit(f"## Engine cost: search loop wall seconds, median of {repeats} interleaved repeats (evo-nas with "
         f"its archive of every evaluation, per-generation logbook and hypervolume, checkpoints; a batch "
         f"problem has no persistent cache by default, the 'with cache' column sets one)\n")
    emit("| evaluations | evo-nas s (generations) | evo-nas with SQLite cache s | plain pymoo s (generations, "
         "unique networks) | ratio | ratio per repeat (min-max) | ratio with cache | target | evo-nas s at the "
         "plain loop's generations (evaluations) | ratio at equal generations |")
    emit("|---|---|---|---|---|---|---|---|---|---|")
    t = {}
    for budget, target in ((5000, "<= 2"), (20000, ""), (50000, "<= 1.5")):
        m = loop_times(problem, budget, repeats, root)
        e, c, p, g = m["evo"], m["cached"], m["plain"], m["same_generations"]
        t[budget] = e["wall_s"]
        paired = [a / b for a, b in zip(e["walls"], p["walls"])]
        emit(f"| {budget:,} | {e['wall_s']:.2f} ({e['generations']}) | {c['wall_s']:.2f} | {p['wall_s']:.2f} "
             f"({p['generations']}, {p['unique']:,}) | {e['wall_s'] / p['wall_s']:.2f} | "
             f"{min(paired):.2f}-{max(paired):.2f} | "
             f"{c['wall_s'] / p['wall_s']:.2f} | {target} | {g['wall_s']:.2f} ({g['unique']:,}) | "
             f"{g['wall_s'] / p['wall_s']:.2f} |")
    emit("\nAn evaluation is counted as each tool counts it: evo-nas counts unique networks (an offspring "
         "it has evaluated before is served from its archive), pymoo every row it evaluates, repeats "
         "included, so at an equal count evo-nas runs more generations; the last two columns compare "
         "equal generations.")
    emit(f"\nevo-nas 20,000 / 5,000 wall ratio: {t[20000] / t[5000]:.2f} (target <= 5; 4 is linear)\n")
    steps = [e["wall_s"] for e in RunDir(root / f"evo-None-{g['generations']}-{repeats - 1}").logbook()]
    emit(f"evo-nas step milliseconds per generation (logbook wall_s) in its last {g['generations']}-generation run: first 100 "
         f"{1e3 * np.mean(steps[:100]):.2f}, last 100 {1e3 * np.mean(steps[-100:]):.2f}\n")

    path = root / "big"
    cfg = config(0, 100_000, None)
    big = finish(child(cfg, path))
    run = RunDir(path)
    n_lines = sum(1 for _ in open(path / "evaluations.jsonl"))
    again = finish(child(cfg, path, resume=True))
    emit(f"100,000-evaluation search (child process): {big['evaluations']:,} evaluations in {big['generations']} "
         f"generations, {big['wall_s']:.1f} s; peak RSS {big['maxrss_kb'] / 1024:.0f} MiB (target <= 2048); "
         f"archive {n_lines:,} lines, logbook {len(run.logbook())} generations; Pareto set {big['front']}, "
         f"hypervolume {big['hv']:.4f}; resumed after completion: {again['evaluations']:,} evaluations, "
         f"same Pareto set: {'yes' if again['front'] == big['front'] else 'NO'}\n")

    rng = np.random.default_rng(2026)
    cfg = config(1, 50_000, None)
    full, killed = root / "full50k", root / "killed50k"
    finish(child(cfg, full))
    kill_at = int(rng.integers(20, 450))
    p = child(cfg, killed)
    killed_at = kill_generation(p, killed / "evaluations.jsonl", kill_at)
    p.wait()
    before = len(RunDir(killed).evaluations())
    resumed = finish(child(cfg, killed, resume=True))
    same = front_keys(full) == front_keys(killed)
    same_log = [{k: v for k, v in e.items() if k not in ("wall_s", "eval_s")} for e in RunDir(full).logbook()] == \
               [{k: v for k, v in e.items() if k not in ("wall_s", "eval_s")} for e in RunDir(killed).logbook()]
    emit(f"50,000-evaluation search killed with SIGKILL in generation {killed_at} (drawn: {kill_at}; "
         f"{before:,} evaluations on disk), "
         f"resumed: {resumed['evaluations']:,} evaluations; same Pareto set as uninterrupted: "
         f"{'yes' if same else 'NO'}; same logbook (timings aside): {'yes' if same_log else 'NO'}\n")
