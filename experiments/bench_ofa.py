"""Benchmark on Once-for-All's ImageNet problem (predicted top-1, Note10 latency): search quality
and engine cost of evo-nas's block-aware NSGA-II beside a plain pymoo NSGA-II, in one run.

    python experiments/bench_ofa.py                    # both parts (about 4 minutes on 2 cores)
    python experiments/bench_ofa.py --part quality     # or: --part scale
    python experiments/bench_ofa.py --out experiments/bench_ofa_results.txt

Quality: per budget and seed, the Pareto set of *all* evaluations of each method: hypervolume
(reference top-1 0.70, 100 ms), the best predicted top-1 under Note10 targets, unique networks
evaluated (canonical keys), wall seconds. The plain loop is pymoo's NSGA-II over the same 46
integer genes: integer random sampling, SBX and polynomial mutation with rounding repair,
duplicate elimination, population 100, calling the same vectorized evaluation.

Scale: the search loop's wall time (imports and problem loading excluded) of both, at 5,000 and
50,000 evaluations, medians of interleaved repeats; the 20,000 / 5,000 wall ratio of evo-nas;
a 100,000-evaluation evo-nas search in a child process (peak RSS, archive, logbook, resume); and
a 50,000-evaluation search killed with SIGKILL at a random generation and resumed, against the
same search uninterrupted.
"""
from __future__ import annotations

import argparse
import json
import os
import platform
import resource
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from evo_nas.analysis.pareto import hypervolume, non_dominated  # noqa: E402
from evo_nas.problems import make_problem  # noqa: E402
from evo_nas.engine.runner import run_search  # noqa: E402
from evo_nas.engine.run import RunDir  # noqa: E402

REFERENCE = (0.70, 100.0)
TARGETS_MS = (15, 20, 25, 30, 40)
POP = 100


def config(seed: int, budget: int | None, cache, generations: int | None = None) -> dict:
    return {"seed": seed, "problem": {"name": "ofa-mbv3"},
            "search": {"algorithm": "nsga2", "pop_size": POP, "max_evaluations": budget, "generations": generations,
                       "max_stall": 10 ** 6, "cache": cache},
            "objectives": {"names": ["top1", "latency_ms"],
                           "reference": {"top1": REFERENCE[0], "latency_ms": REFERENCE[1]}}}


def scores(top1: np.ndarray, lat: np.ndarray) -> dict:
    """Hypervolume of all points and the best top-1 under each latency target."""
    F = np.stack([-top1, lat], axis=1)
    out = {"hv": hypervolume(F[non_dominated(F)], np.array([-REFERENCE[0], REFERENCE[1]]))}
    for t in TARGETS_MS:
        ok = lat <= t
        out[f"top1@{t}ms"] = float(top1[ok].max()) if ok.any() else float("nan")
    return out


def run_evo(problem, seed: int, budget: int | None, root: Path, cache=None, generations: int | None = None) -> dict:
    path = root / f"evo-{budget}-{generations}-{seed}"
    shutil.rmtree(path, ignore_errors=True)
    t0 = time.perf_counter()
    r = run_search(config(seed, budget, cache, generations), path, quiet=True, problem=problem)
    wall = time.perf_counter() - t0
    evals = RunDir(path).evaluations()
    top1 = np.array([e["top1"] for e in evals])
    lat = np.array([e["latency_ms"] for e in evals])
    return {**scores(top1, lat), "unique": len({e["key"] for e in evals}), "evaluations": r.evaluations,
            "generations": r.generations, "wall_s": wall}


def run_plain(problem, seed: int, budget: int, *, sbx_prob: float = 1.0, sbx_eta: float = 3.0, pm_eta: float = 3.0,
              keep: list | None = None) -> dict:
    """pymoo's NSGA-II for ``budget`` evaluations (rows, repeats included) with SBX (``sbx_prob``,
    ``sbx_eta``) and polynomial mutation (``pm_eta``), rounding repair; ``keep``, when given,
    receives the evaluated gene arrays and their (top-1, latency) in order."""
    from pymoo.algorithms.moo.nsga2 import NSGA2
    from pymoo.core.problem import Problem
    from pymoo.operators.crossover.sbx import SBX
    from pymoo.operators.mutation.pm import PM
    from pymoo.operators.repair.rounding import RoundingRepair
    from pymoo.operators.sampling.rnd import IntegerRandomSampling
    from pymoo.optimize import minimize

    card = np.array(problem.space.cardinalities)
    seen_X, seen_F = [], []

    class Plain(Problem):
        def __init__(self):
            super().__init__(n_var=len(card), n_obj=2, xl=np.zeros(len(card)), xu=card - 1, vtype=int)

        def _evaluate(self, X, out, *args, **kwargs):
            X = np.asarray(X, dtype=np.int64)
            F = problem.evaluate_array(X)
            seen_X.append(X)
            seen_F.append(F)
            out["F"] = np.stack([-F[:, 0], F[:, 1]], axis=1)

    algorithm = NSGA2(pop_size=POP, sampling=IntegerRandomSampling(),
                      crossover=SBX(prob=sbx_prob, eta=sbx_eta, vtype=float, repair=RoundingRepair()),
                      mutation=PM(eta=pm_eta, vtype=float, repair=RoundingRepair()), eliminate_duplicates=True)
    t0 = time.perf_counter()
    minimize(Plain(), algorithm, ("n_evals", budget), seed=seed, verbose=False)
    wall = time.perf_counter() - t0
    X, F = np.concatenate(seen_X), np.concatenate(seen_F)
    if keep is not None:
        keep += [X, F]
    unique = len({tuple(x) for x in problem.space.canonical_array(X).tolist()})
    return {**scores(F[:, 0], F[:, 1]), "unique": unique, "evaluations": len(X), "generations": len(seen_X),
            "wall_s": wall}


def run_evox(problem, seed: int, budget: int, *, uniform_choices: bool = False, keep: list | None = None) -> dict | None:
    """EvoX's NSGA-II over the same genes (rounded), when the optional package is installed.
    ``uniform_choices``: genes drawn in [0, n) and floored, so every choice is equally likely
    (rounding [0, n - 1] gives the end choices half the chance); ``keep`` as in ``run_plain``."""
    try:
        import torch
        from evox.algorithms import NSGA2 as EvoxNSGA2
        from evox.core import Problem
        from evox.workflows import StdWorkflow
    except Exception:  # noqa: BLE001  (optional baseline)
        return None
    card = torch.tensor(problem.space.cardinalities, dtype=torch.float32)
    seen = []

    class OFA(Problem):
        def evaluate(self, pop):
            snap = torch.floor(pop) if uniform_choices else torch.round(pop)
            X = torch.clamp(snap, torch.zeros_like(card), card - 1).long().numpy()
            F = problem.evaluate_array(X)
            seen.append((X, F))
            return torch.tensor(np.stack([-F[:, 0], F[:, 1]], axis=1), dtype=torch.float32)

    torch.manual_seed(seed)
    algo = EvoxNSGA2(pop_size=POP, n_objs=2, lb=torch.zeros_like(card), ub=card if uniform_choices else card - 1)
    wf = StdWorkflow(algo, OFA())
    t0 = time.perf_counter()
    wf.init_step()
    while sum(len(f) for _, f in seen) < budget:
        wf.step()
    wall = time.perf_counter() - t0
    X = np.concatenate([x for x, _ in seen])[:budget]
    F = np.concatenate([f for _, f in seen])[:budget]
    if keep is not None:
        keep += [X, F]
    unique = len({tuple(x) for x in problem.space.canonical_array(X).tolist()})
    return {**scores(F[:, 0], F[:, 1]), "unique": unique, "evaluations": len(F), "wall_s": wall}


def median_iqr(values) -> str:
    v = np.asarray([x for x in values if x == x], float)
    if not len(v):
        return "n/a"
    q1, med, q3 = np.percentile(v, [25, 50, 75])
    return f"{med:.4f} [{q1:.4f}, {q3:.4f}]"


def quality(problem, seeds, budgets, root: Path, emit) -> None:
    emit(f"## Search quality: {len(seeds)} seeds, population {POP}, reference (top-1 {REFERENCE[0]}, "
         f"{REFERENCE[1]:g} ms); median [IQR] over seeds\n")
    methods = {"evo-nas NSGA-II (block-aware)": lambda s, b: run_evo(problem, s, b, root),
               "plain pymoo NSGA-II (SBX + PM)": lambda s, b: run_plain(problem, s, b)}
    if run_evox(problem, 0, POP) is not None:
        methods["EvoX NSGA-II"] = lambda s, b: run_evox(problem, s, b)
    else:
        emit("(EvoX is not installed: its row is left out; `pip install -e \".[bench]\"` adds it)\n")
    cols = ["hv"] + [f"top1@{t}ms" for t in TARGETS_MS]
    for budget in budgets:
        res = {m: [fn(s, budget) for s in seeds] for m, fn in methods.items()}
        emit(f"### {budget:,} evaluations\n")
        emit("| method | " + " | ".join(cols) + " | unique networks | wall s |")
        emit("|---" * (len(cols) + 3) + "|")
        for m, rs in res.items():
            uniq = [r["unique"] for r in rs if r["unique"] is not None]
            emit(f"| {m} | " + " | ".join(median_iqr([r[c] for r in rs]) for c in cols) +
                 f" | {f'{np.median(uniq):.0f}' if uniq else 'n/a'} | {np.median([r['wall_s'] for r in rs]):.2f} |")
        emit("")
        first, second = list(res)[:2]
        wins = {c: np.median([r[c] for r in res[first]]) >= np.median([r[c] for r in res[second]]) for c in cols}
        emit(f"evo-nas at or above the plain loop (median): " +
             ", ".join(f"{c} {'yes' if w else 'NO'}" for c, w in wins.items()))
        emit("")


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
    env = {**os.environ, "PYTHONPATH": str(Path(__file__).resolve().parent.parent)}
    return subprocess.Popen([sys.executable, "-c", CHILD, json.dumps(cfg), str(path), "1" if resume else "0"],
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, env=env)


def finish(p: subprocess.Popen) -> dict:
    out, err = p.communicate()
    if p.returncode != 0:
        raise RuntimeError(f"child failed ({p.returncode}): {err.decode()[-2000:]}")
    return json.loads(out.decode().strip().splitlines()[-1])


def front_keys(path: Path) -> list[str]:
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


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--part", choices=("quality", "scale", "all"), default="all")
    ap.add_argument("--seeds", type=int, default=10)
    ap.add_argument("--budgets", type=int, nargs="+", default=[1000, 5000])
    ap.add_argument("--repeats", type=int, default=3)
    ap.add_argument("--out", help="also write the report to this file")
    args = ap.parse_args()
    import torch

    torch.set_num_threads(1)
    lines = []

    def emit(text=""):
        print(text, flush=True)
        lines.append(text)

    emit(f"# bench_ofa: {platform.processor() or platform.machine()}, {os.cpu_count()} cores, "
         f"Python {platform.python_version()}, torch {torch.__version__}, 1 thread, "
         f"load average at start {os.getloadavg()[0]:.2f}\n")
    problem = make_problem({"problem": {"name": "ofa-mbv3"}})
    with tempfile.TemporaryDirectory(prefix="bench-ofa-") as tmp:
        root = Path(tmp)
        if args.part in ("quality", "all"):
            quality(problem, list(range(args.seeds)), args.budgets, root, emit)
        if args.part in ("scale", "all"):
            scale(problem, root, emit, args.repeats)
    emit(f"load average at end {os.getloadavg()[0]:.2f}")
    if args.out:
        Path(args.out).write_text("\n".join(lines) + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
