"""INT8 versions of an exported ONNX network with ONNX Runtime's quantization, and top-1 of any ONNX file.

``quantize`` writes a dynamic (``quantize_dynamic``: weights INT8, activations quantized at run
time) or static (``quantize_static``: activations' ranges calibrated on training images, QDQ
format, per-channel weights) INT8 model (ONNX Runtime, "Quantize ONNX models",
onnxruntime.ai/docs/performance/model-optimizations/quantization.html). Whether it is faster is
measured, never assumed: on x86 CPUs an INT8 graph of depthwise convolutions is often slower than
FP32 (ONNX Runtime issues 20052 and 26143); ``evo-nas verify`` flags it. ``onnx_accuracy`` runs a
file on the test split, so accuracy after quantization is measured too.
"""
from __future__ import annotations

import tempfile
from pathlib import Path

import numpy as np

from ..base.files import atomic_path
from ..networks.onnx_export import INPUT

MODES = ("dynamic", "static")


def _session(path):
    import onnxruntime as ort

    opts = ort.SessionOptions()
    opts.intra_op_num_threads = 1
    opts.inter_op_num_threads = 1
    return ort.InferenceSession(str(path), opts, providers=["CPUExecutionProvider"])


class _Calibration:
    """ONNX Runtime's ``CalibrationDataReader`` over ``x`` (N, C, H, W) float32, one image per call."""

    def __init__(self, x: np.ndarray):
        self.x = x
        self.i = 0

    def get_next(self):
        if self.i >= len(self.x):
            return None
        self.i += 1
        return {INPUT: self.x[self.i - 1:self.i]}

    def rewind(self):
        self.i = 0


def quantize(fp32: str | Path, out: str | Path, mode: str, calibration: np.ndarray | None = None) -> Path:
    """Write the INT8 version of the ONNX file ``fp32`` at ``out``. ``mode``: ``dynamic`` or ``static``;
    ``static`` needs ``calibration``, float32 images (N, C, H, W) normalized as the network's input.
    ``ValueError`` for another mode or static without images."""
    from onnxruntime.quantization import CalibrationDataReader, QuantFormat, QuantType, quantize_dynamic, \
        quantize_static

    if mode not in MODES:
        raise ValueError(f"--int8 {mode!r} (expected one of {', '.join(MODES)})")
    from onnxruntime.quantization.shape_inference import quant_pre_process

    out = Path(out)
    with atomic_path(out) as tmp, tempfile.TemporaryDirectory(prefix="evo-nas-quant-") as work:
        pre = Path(work) / "pre.onnx"
        quant_pre_process(str(fp32), str(pre))   # shape inference and graph optimization, as ONNX Runtime advises
        fp32 = pre
        if mode == "dynamic":
            quantize_dynamic(str(fp32), str(tmp), weight_type=QuantType.QInt8)
        else:
            if calibration is None or len(calibration) == 0:
                raise ValueError("--int8 static needs calibration images: train the network on a dataset first "
                                 "(evo-nas train), or use --int8 dynamic")
            reader = type("Reader", (_Calibration, CalibrationDataReader), {})(
                np.ascontiguousarray(calibration, dtype=np.float32))
            quantize_static(str(fp32), str(tmp), reader, quant_format=QuantFormat.QDQ, per_channel=True,
                            activation_type=QuantType.QUInt8, weight_type=QuantType.QInt8)
    return out


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
