"""Latency runtimes: what times a module at batch 1 (PyTorch eager, ONNX Runtime, a user's command).

Each runtime runs a module under a ``Protocol`` (``evo_nas.latency.protocol``: warm-up, timed
rounds, median and stability check) with a fixed thread count, in a process whose allocator keeps
freed memory (``evo_nas.latency.machine``). Runtimes: PyTorch eager (``torch``) and ONNX Runtime
(``onnxruntime``), both single-stream, batch 1, on this machine's CPU; and ``CommandRuntime``,
another device reached through a user's command that receives the ONNX file. Both ONNX runtimes
time the file ``evo_nas.networks.onnx_export`` writes, the same file ``evo-nas export`` ships.
``onnxruntime-int8-dynamic`` and ``onnxruntime-int8-static`` time its INT8 versions
(``evo_nas.networks.quantize``, as ``evo-nas export --int8`` writes them), so INT8 latency can be
an objective or a limit; static calibration there uses seeded random images, which set the
quantization ranges (not the speed) of the graph timed.

The protocol, its statistics and the machine description are re-exported here, where callers
have long imported them from.
"""
from __future__ import annotations

import contextlib
import os
import re
import shlex
import subprocess
import tempfile
from typing import Callable, Iterator

from ..base.hashing import digest
from ..networks.onnx_export import INPUT, example_input, write_onnx
from .machine import allocator_policy, cpu_model, machine_info, steady_allocator
from .protocol import Measurement, Protocol, measure, summarize


class Runtime:
    """Runs a module at batch 1 on this machine's CPU with a fixed thread count, in a process whose
    allocator keeps freed memory (``steady_allocator``)."""

    name: str = ""

    def __init__(self, threads: int = 1):
        if not isinstance(threads, int) or isinstance(threads, bool) or threads < 1:
            raise ValueError(f"[latency] threads = {threads!r} must be an int >= 1")
        self.threads = threads
        steady_allocator()  # before anything is measured or recorded in this process

    @property
    def version(self) -> str:
        raise NotImplementedError

    def describe(self) -> dict:
        return {"runtime": self.name, "runtime_version": self.version, "threads": self.threads,
                "allocator": allocator_policy()}

    def device(self) -> dict:
        """The device that runs the timed calls (this machine for the local runtimes)."""
        return machine_info()

    def session(self, module, input_shape: tuple[int, ...]) -> contextlib.AbstractContextManager:
        """Context manager yielding a zero-argument callable that runs one inference."""
        raise NotImplementedError

    def measure(self, module, input_shape: tuple[int, ...], protocol: Protocol = Protocol()) -> Measurement:
        with self.session(module, input_shape) as call:
            return measure(call, protocol)


class TorchRuntime(Runtime):
    """PyTorch eager, ``torch.inference_mode``, ``torch.set_num_threads(threads)``."""

    name = "torch"

    @property
    def version(self) -> str:
        import torch

        return torch.__version__

    @contextlib.contextmanager
    def session(self, module, input_shape) -> Iterator[Callable[[], object]]:
        import torch

        previous = torch.get_num_threads()
        torch.set_num_threads(self.threads)
        module.eval()
        x = example_input(input_shape)
        try:
            with torch.inference_mode():
                yield lambda: module(x)
        finally:
            torch.set_num_threads(previous)


class OnnxRuntime(Runtime):
    """ONNX Runtime CPU provider, sequential execution, ``intra_op_num_threads = threads``."""

    name = "onnxruntime"

    @property
    def version(self) -> str:
        import onnxruntime

        return onnxruntime.__version__

    @contextlib.contextmanager
    def session(self, module, input_shape) -> Iterator[Callable[[], object]]:
        import onnxruntime as ort

        with tempfile.TemporaryDirectory(prefix="evo-nas-onnx-") as tmp:
            path = self.model_file(module, input_shape, tmp)
            opts = ort.SessionOptions()
            opts.intra_op_num_threads = self.threads
            opts.inter_op_num_threads = 1
            opts.execution_mode = ort.ExecutionMode.ORT_SEQUENTIAL
            sess = ort.InferenceSession(path, opts, providers=["CPUExecutionProvider"])
            x = example_input(input_shape).numpy()
            yield lambda: sess.run(None, {INPUT: x})

    def model_file(self, module, input_shape, folder: str) -> str:
        """The ONNX file timed: the FP32 export of ``module``, written in ``folder``."""
        path = os.path.join(folder, "model.onnx")
        write_onnx(module, path, input_shape)
        return path


class OnnxInt8Runtime(OnnxRuntime):
    """ONNX Runtime timing the INT8 version of the export (``evo_nas.networks.quantize``), as shipped
    by ``evo-nas export --int8 MODE``."""

    mode = "dynamic"
    calibration_images = 8

    @property
    def version(self) -> str:
        return f"{super().version}+int8-{self.mode}"

    def model_file(self, module, input_shape, folder: str) -> str:
        import numpy as np

        from ..networks.quantize import quantize

        fp32 = super().model_file(module, input_shape, folder)
        calibration = None
        if self.mode == "static":
            rng = np.random.default_rng(0)
            calibration = rng.standard_normal((self.calibration_images, *input_shape[1:])).astype(np.float32)
        return str(quantize(fp32, os.path.join(folder, f"model-int8-{self.mode}.onnx"), self.mode, calibration))


class OnnxInt8DynamicRuntime(OnnxInt8Runtime):
    name = "onnxruntime-int8-dynamic"
    mode = "dynamic"


class OnnxInt8StaticRuntime(OnnxInt8Runtime):
    name = "onnxruntime-int8-static"
    mode = "static"


class CommandRuntime(Runtime):
    """A device reached through a user's command: it gets an exported ONNX file (``{model}`` in the
    command, else appended as the last argument), applies its own protocol on its device and prints
    the median latency in ms as the last number on its standard output."""

    name = "command"

    def __init__(self, command: str, device: str = "", timeout_s: float = 600.0, threads: int = 1):
        super().__init__(threads)
        if not isinstance(command, str) or not command.strip():
            raise ValueError(f"[latency] command = {command!r} must be a non-empty string")
        self.command = command
        self.label = device or shlex.split(command)[0]
        self.timeout_s = timeout_s

    @property
    def version(self) -> str:
        return self.command

    def device(self) -> dict:
        return {"cpu": self.label, "id": digest(self.label.encode(), length=8), "command": self.command}

    def describe(self) -> dict:
        # the device's own runtime allocates; this process only exports the file
        return {"runtime": self.name, "runtime_version": self.version, "threads": self.threads}

    def run_onnx(self, path: str) -> float:
        args = shlex.split(self.command)
        if any("{model}" in a for a in args):
            args = [a.replace("{model}", path) for a in args]
        else:
            args.append(path)
        try:
            proc = subprocess.run(args, capture_output=True, text=True, timeout=self.timeout_s)
        except FileNotFoundError:
            raise ValueError(f"[latency] command {args[0]!r} not found") from None
        except subprocess.TimeoutExpired:
            raise ValueError(f"[latency] command {self.command!r} timed out after {self.timeout_s} s") from None
        if proc.returncode != 0:
            raise ValueError(f"[latency] command {self.command!r} exited with {proc.returncode}: "
                             f"{proc.stderr.strip()[-300:]}")
        numbers = re.findall(r"[-+]?\d+(?:\.\d*)?(?:[eE][-+]?\d+)?", proc.stdout)
        if not numbers or not float(numbers[-1]) > 0:
            raise ValueError(f"[latency] command {self.command!r} printed no positive latency in ms "
                             f"(stdout: {proc.stdout.strip()[-200:]!r})")
        return float(numbers[-1])

    def measure(self, module, input_shape, protocol: Protocol = Protocol()) -> Measurement:
        with tempfile.TemporaryDirectory(prefix="evo-nas-cmd-") as tmp:
            path = os.path.join(tmp, "model.onnx")
            write_onnx(module, path, input_shape)
            ms = self.run_onnx(path)
        return Measurement(median_ms=ms, iqr_ms=0.0, cv=0.0, samples=1, attempts=1, stable=True)


RUNTIMES: dict[str, type[Runtime]] = {r.name: r for r in (TorchRuntime, OnnxRuntime, OnnxInt8DynamicRuntime,
                                                           OnnxInt8StaticRuntime)}


def make_runtime(name: str, threads: int = 1) -> Runtime:
    if name not in RUNTIMES:
        raise ValueError(f"[latency] runtime = {name!r} (expected one of {', '.join(RUNTIMES)})")
    return RUNTIMES[name](threads)


__all__ = ["Protocol", "Measurement", "measure", "summarize", "machine_info", "cpu_model", "Runtime",
           "TorchRuntime", "OnnxRuntime", "OnnxInt8Runtime", "CommandRuntime", "RUNTIMES", "make_runtime", "allocator_policy",
           "steady_allocator"]
