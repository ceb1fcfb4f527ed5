"""Wall time to a hypervolume on MNIST training: evo-nas's surrogate-assisted NSGA-II against its plain NSGA-II.

On the expensive problem (``experiments/mnist_train.toml``: each candidate trained briefly on the
embedded MNIST subset, latency from this machine's per-layer table, 2 workers) the cost of a
search is wall-clock time, and the surrogate's own work (fitting its models, its inner NSGA-II
over them, picking a batch) is part of it. Each algorithm x seed cell is an ordinary engine run
directory ``OUT/cells/<algorithm>-seed<k>/`` started from that TOML (read, not copied) with
``max_evaluations`` = the budget, ``n_jobs`` 2 and no persistent cache (a cell must not be served
another cell's evaluations for free); ``generations`` is dropped so that the budget alone stops a
run. NSGA-II keeps the TOML's population of 16. The surrogate (``[search.surrogate]``, NSGANetV2,
Lu et al., ECCV 2020) keeps its defaults except ``initial`` = 40 (default 50): a fifth of the
default budget of 200, so that 16 model rounds of ``batch`` 10 (the default, a multiple of the 2
workers: no worker idles in a round) follow; 40 is also 2.5 of NSGA-II's generations of 16, so the
first model is fitted about when NSGA-II starts its third generation. The train problem declares no
cheap objective, so the surrogate models latency as well as accuracy (on MnasNet's 42 genes).

Cells run one at a time (each already uses both cores), seeds outer, algorithms inner. Before
each cell the worker pool is shut down, so every cell pays the same pool start-up (workers start,
import torch, load the data) in its first generation; before the first cell a throwaway search of
each algorithm on the synthetic problem (``warm_up``) imports in this process what a search
imports on first use, so that the first cell of each algorithm pays no more than the later ones.
A killed cell resumes through the engine's resume; its finished marker ``OUT/cells/<cell>.json``
(outer wall time, load average before and after, whether it was resumed, the machine) is written
when it ends, so a rerun continues with the next cell.

Latency table: ``[latency] mode = "table"`` without a file fills this machine's table on demand,
measuring missing layers serially while the workers idle, inside a cell's wall time, and leaving
them to later cells (the first cell would pay for all). ``fill_latency_table`` therefore measures
every distinct layer of the space into that table (``evo_nas.latency.table.build_table``, as
``evo-nas latency build-table`` does; later searches keep using it) and calibrates it once,
serially, before any cell, with no pool running; its time is recorded in ``OUT/latency_fill.json``
and counted in no cell. A complete table is a pure lookup (``TableLatency.safe_in_pool``): the
workers predict latency in the pool, nothing is timed during a cell, and every cell sees the same
latency function.
"""
from __future__ import annotations

import copy
import os
import tempfile
import time
from pathlib import Path

from ..algorithms.config import ENGINE_KEYS
from ..algorithms.registry import strategy_class
from ..base.files import atomic_write
from ..base.jsonio import dumps, read_json
from ..base.parallel import parallel_map, shutdown_workers
from ..engine.run import CONFIG as RUN_CONFIG
from ..engine.runner import run_search
from ..latency.devices import TableLatency
from ..latency.machine import load_1m, machine_info
from ..latency.table import build_table, space_layers
from ..problems import make_problem
from ..schema.config import resolve
from ..schema.reader import read_config

CONFIG = Path(__file__).resolve().parents[2] / "experiments" / "mnist_train.toml"
ALGORITHMS = ("surrogate", "nsga2")
LABELS = {"surrogate": "evo-nas surrogate NSGA-II", "nsga2": "evo-nas NSGA-II"}
BUDGET = 200
N_JOBS = 2
SURROGATE = {"initial": 40, "batch": 10}


def base_config(config: dict | str | Path = CONFIG) -> dict:
    """The study's base configuration: a dict as given, or a TOML file read (its folder is ``base_dir``)."""
    cfg, path = read_config(config)
    if path is not None:
        cfg.setdefault("search", {}).setdefault("base_dir", str(Path(path).resolve().parent))
    return cfg


def cell_config(base: dict, algorithm: str, seed: int, budget: int = BUDGET, surrogate: dict | None = None,
                n_jobs: int = N_JOBS) -> dict:
    """The engine's config of one cell: ``base`` with ``seed``, the algorithm and its own ``[search]``
    keys only, ``max_evaluations`` = ``budget`` and no ``generations``, ``n_jobs``, no persistent
    cache, no stall stop; for the surrogate ``SURROGATE`` updated with ``surrogate``."""
    if algorithm not in ALGORITHMS:
        raise ValueError(f"algorithm = {algorithm!r} (expected one of {', '.join(ALGORITHMS)})")
    if not isinstance(budget, int) or budget < 1:
        raise ValueError(f"budget = {budget!r} must be a positive int (evaluations)")
    cfg = copy.deepcopy(base)
    own = set(strategy_class(algorithm).search_keys or ()) - {"surrogate"}
    search = {k: v for k, v in cfg.get("search", {}).items() if k in ENGINE_KEYS or k in own}
    search.pop("generations", None)
    search.update(algorithm=algorithm, max_evaluations=budget, n_jobs=n_jobs, cache=False, max_stall=10 ** 6)
    if algorithm == "surrogate":
        search["surrogate"] = {**SURROGATE, **(surrogate or {})}
    cfg.update(seed=seed, search=search)
    return cfg


def fill_latency_table(base: dict, out: Path | None = None, progress: bool = True) -> dict:
    """Measure every layer of the space missing from the table ``base``'s ``[latency]`` fills, and
    calibrate it, serially and now (see the module docstring). Returns (and, with ``out``, appends
    to ``out/latency_fill.json``) the table's path, the space's layers, how many were measured and
    the seconds it took; nothing is measured for a table that is complete and calibrated, or a
    latency model that is not a filling table (``filled`` false). ``RuntimeError`` if the table
    is still not a pure lookup afterwards."""
    problem = make_problem(resolve(base).dump())
    model = problem.latency_model()
    if not isinstance(model, TableLatency) or not model.fill:
        info = {"filled": False, "why": "the latency model is not a table filled on demand"}
    else:
        layers = space_layers(problem.space)
        missing = sum(k not in model.table.entries for k in layers)
        t0 = time.perf_counter()
        if missing or not model.table.calibrated:
            shutdown_workers()  # nothing else runs on the cores while layers are timed
            build_table(problem.space, model.runtime, model.protocol, model.table.path, calibration=model.calibration,
                        seed=model.seed, fit=model.fit, progress=progress)
        info = {"filled": True, "table": str(model.table.path), "layers": len(layers), "measured": missing,
                "calibrated_now": bool(missing or not model.table.calibrated),
                "fill_s": round(time.perf_counter() - t0, 3), "load_1m_after": _load()}
        again = make_problem(resolve(base).dump()).latency_model()
        if not again.safe_in_pool:
            raise RuntimeError(f"latency table {model.table.path} still misses layers of the space after filling it")
        info["unstable"] = again.table.header.get("unstable") or []
    if out is not None:
        path = Path(out) / "latency_fill.json"
        past = read_json(path, "latency fill record") if path.is_file() else []
        Path(out).mkdir(parents=True, exist_ok=True)
        atomic_write(path, dumps([*past, info], indent=1) + "\n")
    return info


def warm_up(surrogate: dict | None = None, n_jobs: int = N_JOBS) -> float:
    """Import now, in this process, what the cells' searches import on first use (the surrogate's
    model library, its inner NSGA-II, joblib's workers), so that the first cell does not pay it:
    a 12-network surrogate search and a 12-network NSGA-II search on the synthetic problem in a
    temporary folder, and one ``parallel_map`` over ``n_jobs`` workers, then shut down. Returns its seconds."""
    t0 = time.perf_counter()
    keys = {**SURROGATE, **(surrogate or {}), "initial": 8, "batch": 4, "inner_pop": 8, "inner_generations": 2}
    with tempfile.TemporaryDirectory(prefix="mnist-walltime-warm-up-") as tmp:
        for algorithm, own in (("surrogate", {"surrogate": keys}), ("nsga2", {"pop_size": 8})):
            run_search({"seed": 0, "space": {"name": "mnasnet", "resolution": 28, "num_classes": 10},
                        "problem": {"name": "synthetic"},
                        "search": {"algorithm": algorithm, "max_evaluations": 12, "cache": False, **own},
                        "objectives": {"reference": {"val_acc": 0.5, "latency_ms": 10.0}}},
                       Path(tmp) / algorithm, quiet=True)
    parallel_map(abs, list(range(-n_jobs, 0)), n_jobs)
    shutdown_workers()
    return time.perf_counter() - t0


def _load() -> float | None:
    load = load_1m()
    return None if load is None else round(load, 2)


def cell_name(algorithm: str, seed: int) -> str:
    return f"{algorithm}-seed{seed}"


def cell_dir(out: Path, algorithm: str, seed: int) -> Path:
    return Path(out) / "cells" / cell_name(algorithm, seed)


def marker(out: Path, algorithm: str, seed: int) -> Path:
    """The file a finished cell writes beside its run directory."""
    return Path(out) / "cells" / f"{cell_name(algorithm, seed)}.json"


def run_cell(out: Path, base: dict, algorithm: str, seed: int, budget: int = BUDGET, surrogate: dict | None = None,
             n_jobs: int = N_JOBS) -> dict:
    """Run (or resume) one cell to its budget and write its marker; returns the marker's content.
    A finished cell is not run again: ``ValueError`` if it was run with another budget."""
    done = marker(out, algorithm, seed)
    if done.is_file():
        info = read_json(done, "cell record")
        if info.get("budget") != budget:
            raise ValueError(f"cell {cell_name(algorithm, seed)} in {out} was run with budget {info.get('budget')}, "
                             f"not {budget}: write to another --out")
        return info
    path = cell_dir(out, algorithm, seed)
    resumed = (path / RUN_CONFIG).is_file()
    shutdown_workers()  # a fresh pool per cell: each cell pays the same start-up
    load_before = _load()
    t0 = time.perf_counter()
    if resumed:
        result = run_search(None, path, resume=True, quiet=True)
    else:
        result = run_search(cell_config(base, algorithm, seed, budget, surrogate, n_jobs), path, quiet=True)
    wall = time.perf_counter() - t0
    shutdown_workers()
    info = {"algorithm": algorithm, "seed": seed, "budget": budget, "n_jobs": n_jobs, "resumed": resumed,
            "evaluations": result.evaluations, "failures": result.failures, "stopped": result.stopped,
            "outer_wall_s": round(wall, 3), "load_1m_before": load_before, "load_1m_after": _load(),
            "machine": machine()}
    atomic_write(done, dumps(info, indent=1) + "\n")
    return info


def machine() -> dict:
    """The machine the cells ran on: CPU model and cores, torch's threads in this process and in each
    worker, the thread variables set, and the versions."""
    import platform

    import torch

    return {**machine_info(), "torch": torch.__version__, "torch_threads_main": torch.get_num_threads(),
            "threads_per_worker": 1, "omp_num_threads": os.environ.get("OMP_NUM_THREADS"),
            "python": platform.python_version()}


def describe(config: dict | str | Path = CONFIG, seeds=(0,)) -> dict:
    """The study's setting as the report states it: the base configuration (a path relative to the
    repository when it lies there, else ``"a dict"``) and the seeds; the rest the report reads from the cells."""
    if isinstance(config, dict):
        where = "a dict"
    else:
        path = Path(config).resolve()
        root = CONFIG.parents[1]
        where = str(path.relative_to(root)) if path.is_relative_to(root) else str(path)
    return {"config": where, "seeds": list(seeds)}


def run_cells(out: Path, seeds, budget: int = BUDGET, config: dict | str | Path = CONFIG,
              surrogate: dict | None = None, n_jobs: int = N_JOBS, progress: bool = True) -> dict:
    """The latency table filled (``fill_latency_table``), the process warmed up (``warm_up``), then every
    cell not yet finished, one at a time; returns the base configuration used."""
    out = Path(out)
    base = base_config(config)
    (out / "cells").mkdir(parents=True, exist_ok=True)
    fill = fill_latency_table(base, out, progress)
    if progress and fill.get("filled"):
        print(f"latency table {fill['table']}: {fill['measured']} of {fill['layers']} layers measured in "
              f"{fill['fill_s']:.0f} s (counted in no cell)", flush=True)
    warm = warm_up(surrogate, n_jobs)
    if progress:
        print(f"warm-up (imports, worker pool; counted in no cell): {warm:.0f} s", flush=True)
    for seed in seeds:
        for algorithm in ALGORITHMS:
            info = run_cell(out, base, algorithm, seed, budget, surrogate, n_jobs)
            if progress:
                print(f"{cell_name(algorithm, seed)}: {info['evaluations']} evaluations, "
                      f"{info['outer_wall_s']:.0f} s", flush=True)
    return base


__all__ = ["ALGORITHMS", "BUDGET", "CONFIG", "LABELS", "N_JOBS", "SURROGATE", "base_config", "cell_config",
           "cell_dir", "cell_name", "describe", "fill_latency_table", "machine", "marker", "run_cell", "run_cells",
           "warm_up"]
