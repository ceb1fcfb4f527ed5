"""Running a comparison's cells: each an ordinary, resumable run of the search engine."""
from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Callable

from .config import CompareConfig, cell_config, cell_dir, reward_of


@dataclass(frozen=True)
class ScoreAsAccuracy:
    """An evaluator: the problem's own per-genome ``function`` (its ``task()``; default
    ``evo_nas.accuracy.evaluate.evaluate``, the ``train`` problem's), then ``val_acc = score / scale``.
    Picklable for workers when ``function`` is a module-level function."""

    scale: float
    function: Callable | None = None

    def __call__(self, genome, cfg) -> dict:
        if self.function is None:
            from ..accuracy.evaluate import evaluate as function
        else:
            function = self.function
        rec = dict(function(genome, cfg))
        if rec.get("status") == "ok":
            if rec.get("score") is None:
                rec.update(status="failed", error="score_as_accuracy: the proxy returned no score")
            else:
                rec["val_acc"] = float(rec["score"]) / self.scale
                rec["accuracy_source"] = f"{rec.get('proxy')} score / {self.scale:g}"
        return rec


def _run_cell(args) -> str:
    import torch

    from ..engine.runner import run_search
    from ..problems import make_problem

    config, algorithm, seed, runs, evaluator = args
    torch.set_num_threads(1)
    cell = cell_config(config, algorithm, seed)
    scale = CompareConfig.from_dict(config).score_as_accuracy
    if evaluator is None and scale is not None:
        evaluator = ScoreAsAccuracy(scale, make_problem(cell).task()[0])
    path = cell_dir(runs, algorithm, seed)
    run_search(cell, path, resume=path.exists(), quiet=True, evaluator=evaluator)
    return str(path)


def validate_cells(config: dict, problem=None) -> CompareConfig:
    """Check ``[compare]``, the reward and every algorithm's cell configuration (``ValueError`` of one
    line) on ``problem`` (default: built from ``config``; ``benchdata.DataMissing`` without its data)."""
    from ..engine.runner import validate_config
    from ..problems import make_problem

    cmp = CompareConfig.from_dict(config)
    reward_of(config)
    problem = make_problem(config) if problem is None else problem
    for a in cmp.algorithms:
        try:
            validate_config(cell_config(config, a, cmp.seeds[0]), problem)
        except ValueError as e:
            raise ValueError(f"[compare] algorithm {a!r}: {e}") from None
    return cmp


def run_cells(config: dict, runs: str | Path, *, backend: str = "loky", progress=None, evaluator=None) -> list[str]:
    """Run (or resume) every cell under ``runs``; ``progress(algorithm, seed)`` is called before each
    one (as each one finishes with ``cell_jobs`` > 1).

    Every cell's configuration is validated before the first cell starts. ``evaluator`` replaces
    the configured one (as in ``run_search``), e.g. in tests."""
    cmp = validate_cells(config)
    cells = [(config, a, s, Path(runs), evaluator) for s in cmp.seeds for a in cmp.algorithms]
    if cmp.cell_jobs == 1:
        done = []
        for c in cells:
            if progress is not None:
                progress(c[1], c[2])
            done.append(_run_cell(c))
        return done
    from ..base.parallel import parallel_map

    def finished(i, _):
        if progress is not None:
            progress(cells[i][1], cells[i][2])

    return parallel_map(_run_cell, cells, cmp.cell_jobs, backend, on_result=finished)


__all__ = ["ScoreAsAccuracy", "validate_cells", "run_cells"]
