"""Deployable exports: a found architecture as ONNX, checked in ONNX Runtime against PyTorch, plus a JSON card.

The searches of MnasNet (Tan et al., 2019, arXiv 1807.11626), FBNet (Wu et al., 2019, arXiv
1812.03443) and MobileNetV3 (Howard et al., 2019, arXiv 1905.02244) end in models meant for
phones; ``export_onnx`` writes one with ``evo_nas.networks.onnx_export.write_onnx`` (the exporter whose
files the latency subsystem times, so a shipped model is the graph whose latency was measured),
validates the graph with ``onnx.checker``, runs it in ONNX Runtime on a seeded input and
compares the outputs with PyTorch's. ``export_pareto`` does this for every
Pareto member of a run and writes next to each ``.onnx`` a card: genome string, objectives,
how latency was obtained, seeds, and what the weights are. The search proxies keep no trained
weights, so exported weights are a seeded initialisation unless a trained model is passed in.
"""
from __future__ import annotations

import os
import re
from dataclasses import asdict, dataclass
from pathlib import Path

import numpy as np
import torch

from ..base.files import atomic_path, atomic_write, remove_stale_stages, stage_dir
from ..base.hashing import derive_seed
from ..base.jsonio import dumps
from ..networks.onnx_export import INPUT, OPSET, write_onnx
from ..spaces.arch import to_architecture


class ExportError(ValueError):
    """The exported graph failed its check (invalid ONNX, or outputs differing from PyTorch)."""


@dataclass(frozen=True)
class ExportCheck:
    path: str
    opset: int
    input_shape: tuple[int, ...]
    max_abs_diff: float
    output_scale: float
    atol: float
    rtol: float
    onnxruntime: str
    size_bytes: int


def export_onnx(obj, path: str | Path, *, model: torch.nn.Module | None = None, seed: int = 0, batch: int = 2,
                atol: float = 0.0, rtol: float = 1e-4) -> ExportCheck:
    """Write ``obj`` (a Genome or Architecture) as ONNX at ``path`` and check it in ONNX Runtime.

    ``model``: the built network to export (e.g. trained weights); otherwise it is built with
    weights initialised from ``seed``. The graph is ``write_onnx``'s (opset ``OPSET``, input
    ``input`` of shape ``(batch, in_channels, resolution, resolution)`` with a dynamic batch,
    output ``logits``); the check runs it on a seeded input of ``batch`` samples and passes when
    the largest absolute difference is at most ``atol + rtol * max|PyTorch output|``, else
    ``ExportError``. The file appears only once it passed the check (written to a temporary
    name, then renamed: ``evo_nas.base.files.atomic_path``).
    """
    import onnx
    import onnxruntime as ort

    from ..networks.builder import build_model

    arch = to_architecture(obj)
    key = arch.to_string()
    path = Path(path)
    if model is None:
        model = build_model(arch, generator=torch.Generator().manual_seed(derive_seed(seed, key, "export")))
    model = model.eval()
    shape = (batch, arch.in_channels, arch.resolution, arch.resolution)
    x = torch.randn(shape, generator=torch.Generator().manual_seed(derive_seed(seed, "input/" + key, "export")))
    path.parent.mkdir(parents=True, exist_ok=True)
    with atomic_path(path) as tmp:
        write_onnx(model, tmp, shape)
        with torch.no_grad():
            expected = model(x).numpy()
        try:
            onnx.checker.check_model(onnx.load(str(tmp)), full_check=True)
        except Exception as e:
            raise ExportError(f"{path}: exported graph is not valid ONNX ({e})") from None
        session = ort.InferenceSession(str(tmp), providers=["CPUExecutionProvider"])
        got = session.run(None, {INPUT: x.numpy()})[0]
        diff = float(np.max(np.abs(got - expected))) if got.shape == expected.shape else float("inf")
        scale = float(np.max(np.abs(expected)))
        if not diff <= atol + rtol * scale:
            raise ExportError(f"{path}: ONNX Runtime output differs from PyTorch (max abs diff {diff:.3g}, "
                              f"output scale {scale:.3g}, shape {got.shape} vs {expected.shape}, "
                              f"tolerance {atol:g} + {rtol:g} x scale)")
    return ExportCheck(str(path), OPSET, shape, diff, scale, atol, rtol, ort.__version__, path.stat().st_size)


def card(record: dict, check: ExportCheck, *, space: str, seed: int, latency: dict | None,
         weights: str, objectives: list[str] | None = None) -> dict:
    """The JSON card of one exported model: genome, objectives, latency provenance, seeds, check."""
    objective_keys = dict.fromkeys([*(objectives or ()), "val_acc", "top1", "latency_ms", "params_m", "macs_m"])
    return {
        "genome": record["key"],
        "space": space,
        "objectives": {k: record.get(k) for k in objective_keys if record.get(k) is not None},
        "objective_names": list(objectives) if objectives else None,
        "proxy": record.get("proxy"),
        "latency": {**(latency or {}), "source": record.get("latency_source") or (latency or {}).get("source")},
        "seed": seed,
        "weights": weights,
        "origin": record.get("origin", "search"),
        "onnx": {**{k: v for k, v in asdict(check).items() if k != "path"}, "file": Path(check.path).name,
                 "torch": torch.__version__},
    }


def model_filename(index: int, record: dict, accuracy: str = "val_acc") -> str:
    """``paretoNN[_acc0.812][_23.45ms]``: the accuracy is the record's ``accuracy`` objective."""
    acc = record.get(accuracy)
    lat = record.get("latency_ms")
    parts = [f"pareto{index:02d}"]
    if acc is not None:
        parts.append(f"acc{acc:.3f}")
    if lat is not None:
        parts.append(f"{lat:.2f}ms")
    return re.sub(r"[^A-Za-z0-9._-]", "_", "_".join(parts))


EXPORTED = re.compile(r"pareto\d{2,}_[A-Za-z0-9._-]*\.(onnx|json)")


def exported_files(out: Path) -> list[Path]:
    """The files in ``out`` that ``export_pareto`` writes (``paretoNN_*.onnx`` and ``.json``)."""
    return sorted(p for p in out.iterdir() if p.is_file() and EXPORTED.fullmatch(p.name))


def check_out_dir(out: Path, overwrite: bool) -> None:
    """``ValueError`` unless ``out`` is absent, empty, or ``overwrite`` is set (then it must be a directory)."""
    if not out.exists():
        return
    if not out.is_dir():
        raise ValueError(f"export directory {out} is a file")
    present = sorted(p.name for p in out.iterdir())
    if present and not overwrite:
        raise ValueError(f"export directory {out} is not empty ({len(present)} entries, e.g. {present[0]}); "
                         f"pass --overwrite to replace the models exported there, or choose another --out")


def export_pareto(run_dir, out_dir=None, *, overwrite: bool = False, atol: float = 0.0,
                  rtol: float = 1e-4) -> list[dict]:
    """Export every Pareto member of a run as ``<out>/paretoNN_*.onnx`` + ``.json``; returns the cards.

    ``out`` (default ``RUN/export``) must be absent or empty, so two runs' models never mix,
    unless ``overwrite``: then the models exported there before (``paretoNN_*.onnx``/``.json``)
    are replaced and any other file is left alone. The models are written to a staging folder
    next to ``out`` and moved in only when every one passed its check: a failed export leaves
    ``out`` as it was (``ValueError``/``ExportError``).
    """
    import shutil

    from ..engine.run import RunDir

    run = RunDir(run_dir)
    out = Path(out_dir) if out_dir is not None else run.path / "export"
    check_out_dir(out, overwrite)
    front = run.pareto()
    if not front:
        raise ValueError(f"{run.path}: the run has no feasible Pareto members to export")
    problem = run.problem()
    space = problem.space
    seed = run.resolved_config().seed
    lm = problem.latency_model()
    latency = lm.describe() if lm is not None else problem.describe().get("latency") or {"source": "problem",
                                                                                       "problem": problem.name}
    out.parent.mkdir(parents=True, exist_ok=True)
    remove_stale_stages(out.parent)
    stage = stage_dir(out)
    shutil.rmtree(stage, ignore_errors=True)
    cards = []
    try:
        for i, rec in enumerate(front):
            try:
                obj = space.parse(rec["key"])
            except ValueError:
                obj = space.parse_architecture(rec["key"]).canonical()
            name = model_filename(i, rec, run.objectives().accuracy or "val_acc")
            check = export_onnx(obj, stage / f"{name}.onnx", seed=seed, atol=atol, rtol=rtol)
            c = card(rec, check, space=space.name, seed=seed, latency=latency,
                     weights=f"untrained: initialised from seed {seed} and the genome key (the search keeps no "
                             f"trained weights); train before deployment",
                     objectives=list(run.objectives().names))
            atomic_write(stage / f"{name}.json", dumps(c, indent=2, sort_keys=True).encode())
            cards.append(c)
        check_out_dir(out, overwrite)
        out.mkdir(exist_ok=True)
        for old in exported_files(out):
            old.unlink()
        for new in exported_files(stage):
            os.replace(new, out / new.name)
    finally:
        shutil.rmtree(stage, ignore_errors=True)
    return cards


__all__ = ["export_onnx", "export_pareto", "card", "ExportCheck", "ExportError"]
