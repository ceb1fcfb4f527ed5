"""The machine a latency figure is measured on, and the memory allocator policy of the measuring process."""
from __future__ import annotations

import ctypes
import ctypes.util
import functools
import os
import platform

from ..base.hashing import digest


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
    info["id"] = digest(f"{cpu}|{info['machine']}|{info['cores']}".encode(), length=8)
    return info


def _read(path: str) -> str | None:
    try:
        with open(path) as f:
            return f.read().strip()
    except OSError:
        return None


def cpu_mhz() -> float | None:
    """The mean current clock of the CPUs in MHz: cpufreq's ``scaling_cur_freq`` where the kernel exposes it,
    else ``cpu MHz`` of /proc/cpuinfo (a virtual machine's nominal clock); None where neither is readable."""
    freqs = []
    for i in range(os.cpu_count() or 0):
        v = _read(f"/sys/devices/system/cpu/cpu{i}/cpufreq/scaling_cur_freq")
        if v and v.isdigit():
            freqs.append(int(v) / 1000.0)
    if not freqs:
        for line in (_read("/proc/cpuinfo") or "").splitlines():
            if line.startswith("cpu MHz"):
                try:
                    freqs.append(float(line.split(":", 1)[1]))
                except ValueError:
                    pass
    return round(sum(freqs) / len(freqs), 1) if freqs else None


def load_1m() -> float | None:
    """The 1-minute load average now (None where the system has none)."""
    try:
        return os.getloadavg()[0]
    except OSError:
        return None


def machine_state() -> dict:
    """What the machine is doing now: 1-minute load average, CPU clock (MHz) and frequency governor
    (None where not readable). Recorded while a latency table is measured (``evo_nas.latency.stability``)."""
    load = load_1m()
    return {"load_1m": None if load is None else round(load, 2), "cpu_mhz": cpu_mhz(),
            "governor": _read("/sys/devices/system/cpu/cpu0/cpufreq/scaling_governor")}


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


# what a process that never called ``steady_allocator`` (and a table written before it) records
DEFAULT_ALLOCATOR = "system default"


def allocator_policy() -> str:
    """How this process allocates memory now; recorded with every figure (see ``steady_allocator``)."""
    if not _steady:
        return DEFAULT_ALLOCATOR
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


__all__ = ["cpu_model", "machine_info", "machine_state", "cpu_mhz", "allocator_policy", "steady_allocator"]
