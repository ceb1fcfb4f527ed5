"""Accuracy of an exported network's ONNX files, FP32 or INT8, and the images INT8 is calibrated on.

The INT8 files themselves are written by ``evo_nas.networks.quantize`` (``quantize``, dynamic or
static). Whether INT8 is faster is measured, never assumed: ``evo-nas verify`` flags an INT8 file
that is not. ``onnx_accuracy`` runs a file on the test split, so accuracy after quantization is
measured too.
"""
from __future__ import annotations

from pathlib import Path

import numpy as np

from ..networks.onnx_export import INPUT
from ..networks.quantize import MODES, quantize


def _session(path):
    import onnxruntime as ort

    opts = ort.SessionOptions()
    opts.intra_op_num_threads = 1
    opts.inter_op_num_threads = 1
    return ort.InferenceSession(str(path), opts, providers=["CPUExecutionProvider"])


def onnx_accuracy(path: str | Path, x: np.ndarray, y: np.ndarray, batch: int = 250) -> float:
    """Top-1 of the ONNX file at ``path`` on images ``x`` (N, C, H, W) float32 and labels ``y`` (N,)."""
    sess = _session(path)
    correct = 0
    for i in range(0, len(x), batch):
        logits = sess.run(None, {INPUT: np.ascontiguousarray(x[i:i + batch], dtype=np.float32)})[0]
        correct += int((logits.argmax(1) == y[i:i + batch]).sum())
    return correct / len(x)


def dataset_arrays(data_config, resolution: int, split: str, n: int | None = None):
    """``(x, y)`` of a dataset's ``"test"`` split or the first ``n`` images of its training split (the
    validation split left out, as in training), normalized and resized as the network's input."""
    import torch

    from ..accuracy.data import load_dataset
    from ..accuracy.dataset import to_tensor

    ds = load_dataset(data_config)
    if split == "test":
        x, y = ds.x_test, ds.y_test
    else:
        tr, _ = ds.split(data_config.resolved_val_size(ds), data_config.split_seed)
        tr = tr[:n] if n is not None else tr
        x, y = ds.x_train[tr], ds.y_train[tr]
    with torch.no_grad():
        return to_tensor(x, ds.stats, resolution).numpy(), np.asarray(y)


__all__ = ["MODES", "quantize", "onnx_accuracy", "dataset_arrays"]
