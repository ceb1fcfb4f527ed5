"""One chosen network of a run as ONNX with its trained weights (or, said loudly, a random initialisation),
optional INT8 versions, and a card saying what was predicted, what measured, and with which weights.

MnasNet (Tan et al., 2019, arXiv 1807.11626) ends a search with one model deployed on the phone
it was measured on. ``export_member`` writes ``<out>/net-<hash>.onnx`` (``evo_nas.deploy.pareto_export.export_onnx``:
checked in ONNX Runtime against PyTorch), ``.int8-dynamic.onnx`` / ``.int8-static.onnx`` on request
(``evo_nas.deploy.quantize``), and ``net-<hash>.json``, the card. No predicted figure is in a file
name. ``evo-nas verify`` (``evo_nas.deploy.verify``) re-measures the files and checks the card's
limits.
"""
from __future__ import annotations

import os
import shutil
import sys
from pathlib import Path

from ..algorithms.constraints import run_limits
from ..base.files import atomic_write, remove_stale_stages, stage_dir
from ..base.hashing import derive_seed, digest
from ..base.jsonio import dumps
from .choose import Choice
from .pareto_export import ExportCheck, check_out_dir, export_onnx
from .trained import default_dir, load_trained

CARD_FORMAT = 1
RANDOM_INIT = ("RANDOM INITIALISATION, NOT TRAINED: these weights are seeded noise; predicted accuracies do "
               "not apply to this file. Train it first: evo-nas train RUN --key KEY")


def member_name(key: str) -> str:
    return "net-" + digest(key.encode(), length=10)


def _latency_prediction(problem, record: dict, same_network: bool) -> dict:
    lm = problem.latency_model()
    desc = lm.describe() if lm is not None else {"source": "problem", "problem": problem.name,
                                                 **(problem.describe().get("latency") or {})}
    device = desc.get("device") or f"{problem.name}: {getattr(problem, 'device', None) or 'its own device'}"
    device_id = device.get("id") if isinstance(device, dict) else None
    return {"source": record.get("latency_source") or desc.get("source"), "device": device,
            "device_id": device_id, "runtime": desc.get("runtime"), "threads": desc.get("threads"),
            "same_network": same_network, "model": desc}


def export_member(run, choice: Choice, out_dir=None, *, weights=None, int8=(), overwrite: bool = False,
                  calibration_images: int = 200) -> dict:
    """Export the network ``choice`` names from ``run`` (a ``RunDir``); returns the card.

    ``weights``: a folder ``evo-nas train`` wrote; default ``RUN/trained/<hash>`` when it exists,
    else a seeded random initialisation (the card and a line on stderr say so). ``int8``: modes
    of ``evo_nas.deploy.quantize`` (static calibrates on ``calibration_images`` training images of
    the data the weights were trained on). ``out_dir`` (default ``RUN/export``) must be empty
    unless ``overwrite``, which replaces this member's files only; files appear only once all
    passed their checks."""
    import torch

    from ..spaces.costs import count
    from .quantize import dataset_arrays, onnx_accuracy, quantize

    key = choice.record["key"]
    out = Path(out_dir) if out_dir is not None else run.path / "export"
    check_out_dir(out, overwrite)
    problem = run.problem()
    space = problem.space
    seed = run.resolved_config().seed
    folder = Path(weights) if weights is not None else default_dir(run.path, key)
    trained = None
    if weights is not None or (folder / "trained.json").is_file():
        trained = load_trained(folder)
        if trained.record["genome"] != key:
            raise ValueError(f"{folder} holds weights of genome {trained.record['genome'][:80]!r}, not of the chosen "
                             f"{key[:80]!r}")
    if trained is not None:
        arch, model = trained.arch, trained.model
        same = not trained.record.get("notes")
        w = {"kind": "trained", "folder": str(folder), "sha256": trained.record["weights"]["sha256"],
             "steps": trained.record["training"]["steps"], "data": trained.record["data"]["name"],
             "data_fingerprint": trained.record["data"]["fingerprint"], "val_acc": trained.record["val_acc"],
             "test_acc": trained.record["test_acc"], "test_images": trained.record["data"]["test_images"],
             "notes": trained.record.get("notes", [])}
    else:
        from ..networks.builder import build_model

        genome = space.parse(key)
        arch = space.decode(genome.genes)
        model = build_model(arch, generator=torch.Generator().manual_seed(derive_seed(seed, key, "export")))
        same = True
        w = {"kind": "random-init", "seed": seed, "warning": RANDOM_INIT}
        print(f"evo-nas export: warning: {RANDOM_INIT}", file=sys.stderr)
    name = member_name(key)
    out.parent.mkdir(parents=True, exist_ok=True)
    remove_stale_stages(out.parent)
    stage = stage_dir(out)
    shutil.rmtree(stage, ignore_errors=True)
    try:
        check: ExportCheck = export_onnx(arch, stage / f"{name}.onnx", model=model, seed=seed)
        files = [{"file": f"{name}.onnx", "precision": "fp32", "size_bytes": check.size_bytes}]
        test = None
        if trained is not None:
            test = dataset_arrays(trained.data_config(), arch.resolution, "test")
            files[0]["test_acc"] = onnx_accuracy(stage / f"{name}.onnx", *test)
        for mode in int8:
            path = stage / f"{name}.int8-{mode}.onnx"
            calib = None
            if mode == "static" and trained is not None:
                calib = dataset_arrays(trained.data_config(), arch.resolution, "train", calibration_images)[0]
            quantize(stage / f"{name}.onnx", path, mode, calib)
            entry = {"file": path.name, "precision": f"int8-{mode}", "size_bytes": path.stat().st_size}
            if mode == "static":
                entry["calibration_images"] = len(calib)
            if test is not None:
                entry["test_acc"] = onnx_accuracy(path, *test)
            files.append(entry)
        cost = count(arch)
        objective_names = list(run.objectives().names)
        shown = dict.fromkeys([*objective_names, "top1", "val_acc", "latency_ms", "params_m", "macs_m"])
        card = {
            "format": CARD_FORMAT, "genome": key, "space": space.name, "run": str(run.path), "seed": seed,
            "chosen": choice.to_dict(), "objective_names": objective_names,
            "predicted": {k: choice.record.get(k) for k in shown if choice.record.get(k) is not None},
            "predicted_by": {"problem": problem.name, "proxy": choice.record.get("proxy")},
            "latency_prediction": _latency_prediction(problem, choice.record, same),
            "network": {"resolution": arch.resolution, "in_channels": arch.in_channels,
                        "num_classes": arch.num_classes, "params_m": cost.params / 1e6, "macs_m": cost.macs / 1e6,
                        "as_searched": same},
            "weights": w, "files": files,
            "onnx_check": {k: v for k, v in check.__dict__.items() if k != "path"} | {"torch": torch.__version__},
            "limits": run_limits(run.config),
        }
        atomic_write(stage / f"{name}.json", dumps(card, indent=2, sort_keys=True))
        check_out_dir(out, overwrite)
        out.mkdir(exist_ok=True)
        for p in out.glob(f"{name}.*"):
            p.unlink()
        for p in stage.iterdir():
            os.replace(p, out / p.name)
    finally:
        shutil.rmtree(stage, ignore_errors=True)
    return card


__all__ = ["export_member", "member_name", "RANDOM_INIT"]
