"""On-device latency measurement: a timing protocol and the runtimes it times (batch 1, CPU).

MnasNet (Tan et al., 2019, arXiv 1807.11626) measures latency on the target device instead of
counting FLOPs. A figure is only worth that much if the protocol behind it is fixed: a fixed
thread count, untimed warm-up calls, ``rounds x repeats`` individually timed calls, the median of
all samples as the figure, the IQR of the samples as its spread, and the coefficient of
variation of the per-round medians as the stability check. When that CV exceeds ``max_cv`` the
whole measurement (warm-up included) is repeated, at most ``max_attempts`` times; the most stable
attempt is kept and the number of attempts is recorded.

``measure`` takes the call to time and the clock as arguments, so its logic is testable with a
fake clock and a fake runner. Runtimes: PyTorch eager (``torch``) and ONNX Runtime (``onnxruntime``),
both single-stream, batch 1; and ``CommandRuntime``, another device reached through a user's
command that receives the ONNX file. Both ONNX runtimes time the file ``evo_nas.onnx_export``
writes, the same file ``evo-nas export`` ships.
"""
from __future__ import annotations

import contextlib
import ctypes
import ctypes.util
import functools
import hashlib
import os
import platform
import re
import shlex
import statistics
import subprocess
import tempfile
import time
from dataclasses import asdict, dataclass
from typing import Callable, Iterator

import numpy as np

from ..onnx_export import INPUT, example_input, write_onnx


@dataclass(frozen=True)
class Protocol:
    """How a latency is measured; every field is recorded next to the figures it produced."""

    warmup: int = 10
    repeats: int = 20
    rounds: int = 5
    max_cv: float = 0.05
    max_attempts: int = 3

    def __post_init__(self):
        from ..schema.protocol import check_protocol

        check_protocol(asdict(self))

    @classmethod
    def from_dict(cls, d: dict) -> "Protocol":
        """The protocol keys of ``d`` (a ``[latency]`` section; other keys are ignored) over the defaults;
        ``ValueError`` of one line naming a bad key and value (``evo_nas.schema.protocol``)."""
        from ..schema.protocol import PROTOCOL_KEYS, check_protocol

        return cls(**check_protocol({k: d[k] for k in PROTOCOL_KEYS if k in d}))

    def to_dict(self) -> dict:
        return asdict(self)


@dataclass(frozen=True)
class Measurement:
    """One measured latency: median of all timed calls, with its spread and how it was obtained."""

    median_ms: float
    iqr_ms: float
    cv: float
    samples: int
    attempts: int
    stable: bool

    def to_dict(self) -> dict:
        return asdict(self)


def summarize(samples_ms: list[list[float]]) -> tuple[float, float, float]:
    """(median, IQR, CV of the per-round medians) of samples grouped by round."""
    flat = np.concatenate([np.asarray(r, dtype=float) for r in samples_ms])
    q25, med, q75 = np.percentile(flat, [25, 50, 75])
    medians = [float(np.median(r)) for r in samples_ms]
    mean = statistics.fmean(medians)
    cv = statistics.pstdev(medians) / mean if len(medians) > 1 and mean > 0 else 0.0
    return float(med), float(q75 - q25), float(cv)


def measure(call: Callable[[], object], protocol: Protocol = Protocol(),
            clock: Callable[[], float] = time.perf_counter) -> Measurement:
    """Time ``call`` under ``protocol``; ``clock`` returns seconds."""
    best = None
    for attempt in range(1, protocol.max_attempts + 1):
        for _ in range(protocol.warmup):
            call()
        rounds = []
        for _ in range(protocol.rounds):
            samples = []
            for _ in range(protocol.repeats):
                t0 = clock()
                call()
                samples.append((clock() - t0) * 1e3)
            rounds.append(samples)
        med, iqr, cv = summarize(rounds)
        if best is None or cv < best[2]:
            best = (med, iqr, cv)
        if cv <= protocol.max_cv:
            break
    med, iqr, cv = best
    return Measurement(median_ms=med, iqr_ms=iqr, cv=cv, samples=protocol.rounds * protocol.repeats,
                       attempts=attempt, stable=cv <= protocol.max_cv)


def cpu_model() -> str:
    try:
        with open("/proc/cpuinfo") as f:
            for line in f:
                if line.startswith("model name"):
                    return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or platform.machine() or "unknown"


def machine_info() -> dict:
    """The machine a figure was measured on."""
    cpu = cpu_model()
    info = {"cpu": cpu, "cores": os.cpu_count() or 0, "machine": platform.machine(),
            "system": f"{platform.system()} {platform.release()}", "python": platform.python_version()}
    info["id"] = hashlib.sha256(f"{cpu}|{info['machine']}|{info['cores']}".encode()).hexdigest()[:8]
    return info


_M_TRIM_THRESHOLD, _M_MMAP_THRESHOLD = -1, -3  # glibc mallopt parameters (malloc.h)
_KEEP_BELOW = 32 << 20  # glibc's largest accepted mmap threshold on 64-bit systems
_KEEP_FREED = 1 << 30
_steady = False


@functools.cache
def _glibc():
    if platform.system() != "Linux" or platform.libc_ver()[0] != "glibc":
        return None
    try:
        return ctypes.CDLL(ctypes.util.find_library("c") or "libc.so.6")
    except OSError:
        return None


def allocator_policy() -> str:
    """How this process allocates memory now; recorded with every figure (see ``steady_allocator``)."""
    if not _steady:
        return "system default"
    return f"glibc, freed memory kept (mmap threshold {_KEEP_BELOW >> 20} MiB, trim threshold {_KEEP_FREED >> 20} MiB)"


def steady_allocator() -> str:
    """Keep freed memory in the process, as an inference runtime's memory arena does; process-wide, once.

    With glibc's defaults a buffer above the (dynamic) mmap threshold goes back to the system when
    it is freed, and the next call pays a page fault for every 4 KiB of it. Whether a buffer is
    mmapped depends on the heap's history, so the figure flips between two modes: on this
    project's 2-core machine one OFA layer at 80 px measured 0.7 or 3.1 ms, and a whole network
    11.3 or 14.5 ms, from one run to the next. Fixing both thresholds (glibc ``mallopt``) keeps
    such buffers in the heap, so layers and whole networks are timed without page faults.
    Returns ``allocator_policy()``.
    """
    global _steady
    libc = _glibc()
    if libc is not None and not _steady:
        ok = libc.mallopt(_M_MMAP_THRESHOLD, _KEEP_BELOW) and libc.mallopt(_M_TRIM_THRESHOLD, _KEEP_FREED)
        if not ok:
            raise RuntimeError("glibc mallopt refused the latency measurement's allocator thresholds")
        _steady = True
    return allocator_policy()


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
            path = os.path.join(tmp, "model.onnx")
            write_onnx(module, path, input_shape)
            opts = ort.SessionOptions()
            opts.intra_op_num_threads = self.threads
            opts.inter_op_num_threads = 1
            opts.execution_mode = ort.ExecutionMode.ORT_SEQUENTIAL
            sess = ort.InferenceSession(path, opts, providers=["CPUExecutionProvider"])
            x = example_input(input_shape).numpy()
            yield lambda: sess.run(None, {INPUT: x})


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
        return {"cpu": self.label, "id": hashlib.sha256(self.label.encode()).hexdigest()[:8], "command": self.command}

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


RUNTIMES: dict[str, type[Runtime]] = {TorchRuntime.name: TorchRuntime, OnnxRuntime.name: OnnxRuntime}


def make_runtime(name: str, threads: int = 1) -> Runtime:
    if name not in RUNTIMES:
        raise ValueError(f"[latency] runtime = {name!r} (expected one of {', '.join(RUNTIMES)})")
    return RUNTIMES[name](threads)


__all__ = ["Protocol", "Measurement", "measure", "summarize", "machine_info", "cpu_model", "Runtime",
           "TorchRuntime", "OnnxRuntime", "CommandRuntime", "RUNTIMES", "make_runtime", "allocator_policy",
           "steady_allocator"]
