"""The one ONNX exporter: the file ``evo-nas export`` ships is the file the latency subsystem times.

``write_onnx`` is the only call of ``torch.onnx.export`` in the package. ``evo_nas.deploy.pareto_export``
writes a found network with it (then checks it in ONNX Runtime), and the ``onnxruntime`` and
``command`` latency runtimes (``evo_nas.latency.measure``) write the network or layer they time
with it, so a latency figure is the latency of the shipped graph. The convention: the
TorchScript-based exporter (``dynamo=False``: the dynamo exporter needs onnxscript), opset
``OPSET``, the module in eval mode without gradients, constant folding, one input ``input`` of
shape ``(batch, channels, height, width)`` whose batch dimension is dynamic, one output
``logits`` of shape ``(batch, ...)``. The traced example input is fixed (seeded, batch 1); the
file does not depend on it: the same module and input shape give the same bytes.
"""
from __future__ import annotations

import warnings
from pathlib import Path

OPSET = 17
INPUT = "input"
OUTPUT = "logits"


def example_input(input_shape: tuple[int, ...]):
    """A fixed, seeded normal float32 tensor of ``input_shape`` (not zeros, so no data-dependent
    shortcut can flatter a kernel)."""
    import torch

    return torch.randn(tuple(input_shape), generator=torch.Generator().manual_seed(0))


def write_onnx(module, path: str | Path, input_shape: tuple[int, ...]) -> None:
    """Write ``module`` (an ``nn.Module``, put in eval mode) as ONNX at ``path``.

    ``input_shape``: ``(batch, channels, height, width)`` (any batch: the exported batch
    dimension is dynamic); height and width are fixed in the graph. Raises what
    ``torch.onnx.export`` raises for a module it cannot export.
    """
    import torch

    module.eval()
    x = example_input((1, *tuple(input_shape)[1:]))
    with torch.no_grad(), warnings.catch_warnings():
        warnings.simplefilter("ignore")
        torch.onnx.export(module, (x,), str(path), dynamo=False, opset_version=OPSET, do_constant_folding=True,
                          input_names=[INPUT], output_names=[OUTPUT],
                          dynamic_axes={INPUT: {0: "batch"}, OUTPUT: {0: "batch"}})


__all__ = ["OPSET", "INPUT", "OUTPUT", "example_input", "write_onnx"]
