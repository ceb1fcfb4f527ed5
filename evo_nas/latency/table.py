"""Building a per-layer latency lookup table: every distinct layer measured once, then a calibration.

FBNet (Wu et al., 2019, arXiv 1812.03443, section 3.2). Each distinct layer of a space is measured
once, in isolation, with the same runtime and protocol as a whole network, into a
``LatencyTable`` (``evo_nas.latency.lookup``: the file, its identity and its prediction). The
term the layers do not cover is fitted on whole networks measured end to end (``calibrate``; the
fits are in ``evo_nas.latency.calibration``). The table file is saved as the build goes, so an
interrupted build leaves the last complete file, from which ``build_table`` resumes.
"""
from __future__ import annotations

import os
import time
from pathlib import Path
from typing import Callable, Iterable

import numpy as np

from ..spaces.arch import Architecture, LayerSpec, to_architecture
from .calibration import FIT_CHOICES, FIT_DEFAULT, FITS, check_fit, fit_calibration, refit
from .layers import space_layers
from .lookup import LatencyTable, network_signature, space_signature
from .measure import Runtime
from .protocol import Protocol
from .stability import record


def layer_input_shape(spec: LayerSpec) -> tuple[int, int, int, int]:
    return (1, spec.in_ch, spec.resolution, spec.resolution)


def build_layer(spec: LayerSpec):
    """A single-layer module for timing, weights from a fixed seed."""
    import torch

    from ..networks.builder import Layer

    with torch.random.fork_rng(devices=[]):
        torch.manual_seed(0)
        return Layer(spec).eval()


def build_network(arch: Architecture):
    import torch

    from ..networks.builder import build_model

    return build_model(arch, generator=torch.Generator().manual_seed(0)).eval()


def network_input_shape(arch: Architecture) -> tuple[int, int, int, int]:
    return (1, arch.in_channels, arch.resolution, arch.resolution)


def default_calibration(space) -> int:
    """Calibration networks when none are configured: 20, and at least 8 per input resolution
    the space searches (each resolution has its own offset)."""
    return max(20, 8 * len(getattr(space, "resolutions", None) or ()))


def calibration_genomes(space, n: int, seed: int) -> list:
    """``n`` seeded random genomes; a space that searches the resolution gets them spread evenly
    over its resolutions, so each resolution has its own fit."""
    rng = np.random.default_rng(seed)
    genomes = [space.sample(rng) for _ in range(n)]
    gene = getattr(space, "resolution_gene", None)
    if gene is None or len(space.resolutions) < 2:
        return genomes
    out = []
    for i, g in enumerate(genomes):
        genes = list(g.genes)
        genes[gene] = i % len(space.resolutions)
        out.append(space.genome(genes))
    return out


STATE_EVERY = 25  # layers between two samples of the machine's state


def measure_layers(table: LatencyTable, specs: Iterable[LayerSpec], runtime: Runtime, protocol: Protocol,
                   on_done: Callable[[int], None] | None = None) -> int:
    """Measure ``specs`` into ``table``, sampling the machine's state every ``STATE_EVERY`` layers."""
    done = 0
    for spec in specs:
        if done % STATE_EVERY == 0:
            record(table.header, "layers")
        table.add(spec, runtime.measure(build_layer(spec), layer_input_shape(spec), protocol))
        done += 1
        if on_done:
            on_done(done)
    return done


def calibrate(table: LatencyTable, archs: list, runtime: Runtime, protocol: Protocol,
              fit: str = FIT_DEFAULT, seed: int = 0, passes: int = 3, progress: bool = True) -> dict:
    """Fill missing layers of ``archs``, measure them end to end (a progress bar), fit and store the calibration."""
    from tqdm import tqdm

    archs = [to_architecture(a) for a in archs]
    for a in archs:
        measure_layers(table, table.missing(a), runtime, protocol)
    # Passes interleaved over the networks; the median per network resists a passing disturbance.
    runs = []
    with tqdm(total=passes * len(archs), desc="calibration networks", unit="net", disable=not progress) as bar:
        for _ in range(passes):
            record(table.header, "calibration")
            row = []
            for a in archs:
                row.append(runtime.measure(build_network(a), network_input_shape(a), protocol).median_ms)
                bar.update(1)
            runs.append(row)
    record(table.header, "calibration")
    measured = [float(np.median(col)) for col in zip(*runs)]
    sums, depths = [table.layer_sum(a) for a in archs], [len(a.layers()) for a in archs]
    resolutions = [a.resolution for a in archs]
    several = len(set(resolutions)) > 1
    table.calibration = {**fit_calibration(sums, depths, measured, fit, resolutions if several else None),
                         "seed": seed, "passes": passes, "genomes": [a.to_string() for a in archs],
                         "measured_ms": [round(m, 6) for m in measured], "layer_sums": [round(v, 6) for v in sums],
                         "passes_ms": [[round(m, 6) for m in row] for row in runs],
                         "n_layers": depths}
    if several:
        table.calibration["resolutions"] = resolutions
    return table.calibration


def build_table(space, runtime: Runtime, protocol: Protocol, path: str | Path, *, calibration: int | None = None,
                seed: int = 0, fit: str = FIT_DEFAULT, save_every: int = 50, progress: bool = True,
                limit: int | None = None, rebuild: bool = False, recalibrate: bool = False) -> LatencyTable:
    """Measure every distinct layer of ``space`` into ``path``, resuming from a partial file there.

    A complete, calibrated file at ``path`` is left as it is unless ``rebuild`` (measure every layer and
    the calibration again, into ``rebuild_path(path)``, which replaces ``path`` only once complete; an
    interrupted rebuild resumes from it) or ``recalibrate`` (keep the layers, measure the calibration
    networks again). The header records the machine's state while measuring and the stability
    rules the build broke (``unstable``; ``evo_nas.latency.stability``)."""
    path = Path(path)
    if rebuild:
        target, path = path, rebuild_path(path)
        table = build_table(space, runtime, protocol, path, calibration=calibration, seed=seed, fit=fit,
                            save_every=save_every, progress=progress, limit=limit)
        if table.calibrated and all(k in table.entries for k in space_layers(space)):
            os.replace(path, target)
            table.path = target
        return table
    from tqdm import tqdm

    table = LatencyTable.new(space, runtime, protocol, path)
    if path.is_file():
        old = LatencyTable.load(path)
        if not table.same_measurement(old):
            raise ValueError(f"latency table {path} was measured with a different device, runtime, version, threads, "
                             f"batch, allocator or network ({old.identity()}); choose another path to build a new "
                             f"table, or --rebuild to replace it")
        table.entries, table.calibration = old.entries, old.calibration
        table.header["build_s"] = old.header.get("build_s", 0.0)
        table.header["machine_states"] = old.header.get("machine_states", [])
    todo = [s for k, s in space_layers(space).items() if k not in table.entries]
    complete = limit is None or len(todo) <= limit
    if limit is not None:
        todo = todo[:limit]
    bar = tqdm(total=len(todo), desc="latency table", unit="layer", disable=not progress)

    def step(done: int) -> None:
        bar.update(1)
        if done % save_every == 0:
            table.save()

    t0 = time.perf_counter()
    try:
        measure_layers(table, todo, runtime, protocol, step)
    finally:
        bar.close()
        table.header["build_s"] = round(table.header.get("build_s", 0.0) + time.perf_counter() - t0, 3)
        table.save()
    if complete and (todo or recalibrate or not table.calibrated):
        t0 = time.perf_counter()
        n = calibration if calibration is not None else default_calibration(space)
        calibrate(table, calibration_genomes(space, n, seed), runtime, protocol, fit, seed, progress=progress)
        table.header["build_s"] = round(table.header["build_s"] + time.perf_counter() - t0, 3)
    table.header["unstable"] = table.unstable_reasons()
    table.save()
    return table


def rebuild_path(path: str | Path) -> Path:
    """Where ``build_table(..., rebuild=True)`` builds the replacement of ``path``."""
    path = Path(path)
    return path.with_name(path.stem + ".rebuild" + path.suffix)


__all__ = ["LatencyTable", "space_layers", "build_table", "rebuild_path", "calibrate", "fit_calibration", "calibration_genomes",
           "network_signature", "space_signature", "build_layer", "build_network", "layer_input_shape",
           "network_input_shape", "measure_layers", "default_calibration", "FIT_DEFAULT", "FITS", "FIT_CHOICES",
           "check_fit", "refit"]
