"""INT8 versions of an ONNX network with ONNX Runtime's quantization: dynamic and static.

``quantize`` writes a dynamic (``quantize_dynamic``: weights INT8, activations quantized at run
time) or static (``quantize_static``: activations' ranges calibrated on images, QDQ format,
per-channel weights) INT8 model (ONNX Runtime, "Quantize ONNX models",
onnxruntime.ai/docs/performance/model-optimizations/quantization.html). ``evo-nas export --int8``
ships such files (``evo_nas.deploy``); the ``onnxruntime-int8-*`` latency runtimes time them
(``evo_nas.latency.measure``), so INT8 latency can be searched on. Whether INT8 is faster is
measured, never assumed: on x86 CPUs an INT8 graph of depthwise convolutions is often slower than
FP32 (ONNX Runtime issues 20052 and 26143).
"""
from __future__ import annotations

import tempfile
from pathlib import Path

import numpy as np

from ..base.files import atomic_path
from .onnx_export import INPUT

MODES = ("dynamic", "static")


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
    from onnxruntime.quantization import (
        CalibrationDataReader, QuantFormat, QuantType, quantize_dynamic, quantize_static,
    )

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


__all__ = ["MODES", "quantize"]
