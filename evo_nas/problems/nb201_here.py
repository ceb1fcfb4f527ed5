"""NAS-Bench-201 cells timed on this machine: the ``nb201`` problem's ``device = "this-machine"``.

NAS-Bench-201 lists every cell's latency on 27 devices (HW-NAS-Bench, HELP); this one is the
machine that runs the search. Each cell's network (``evo_nas.networks.nb201``, the PyTorch
network NAS-Bench-201 trains) is built once, exported and timed end to end at batch 1 by a
latency runtime (default ONNX Runtime, what ``evo-nas export`` ships) under the measurement
protocol (``evo_nas.latency.protocol``: warm-up, rounds of repeats, median), serially in the
engine's process (the problem is a batch problem, so no worker pool competes with it). A cell is
timed once per run; its latency is a measurement, so a rerun gives other figures (the table's 27
devices do not have that problem), and no exact Pareto front is known for this device.
"""
from __future__ import annotations

import numpy as np

from ..latency.config import latency_model_from_config


class MachineLatency:
    """Latency in ms of NAS-Bench-201 cells on this machine, measured once per cell.

    ``section``: the ``[latency]`` keys of a measured model (``runtime``, ``threads`` and the
    protocol's ``warmup``, ``repeats``, ``rounds``, ``max_cv``, ``max_attempts``), checked by
    ``latency_model_from_config`` (``ValueError`` of one line); its ``MeasuredLatency`` times each
    cell's network and gives the fingerprint and description."""

    def __init__(self, space, section: dict | None = None):
        given = dict(section or {})
        if given.get("mode", "measured") != "measured":
            raise ValueError(f"[latency] mode = {given['mode']!r} (the default when [latency] names none): nb201 "
                             f"on device 'this-machine' times whole networks: set mode = \"measured\"")
        self.space = space
        self.model = latency_model_from_config({**given, "mode": "measured"}, space)
        self._ms: dict[int, float] = {}

    def latency_ms(self, codes, genes) -> np.ndarray:
        """Latency of each cell, shape (N,): ``codes`` (N,) the table rows, ``genes`` (N, 6) their genes."""
        import torch

        from ..networks.nb201 import build_network

        out = np.empty(len(codes), dtype=np.float64)
        shape = (1, self.space.in_channels, self.space.resolution, self.space.resolution)
        for i, (code, g) in enumerate(zip(np.asarray(codes).tolist(), np.asarray(genes))):
            if code not in self._ms:
                net = build_network(self.space, tuple(int(x) for x in g), torch.Generator().manual_seed(0)).eval()
                self._ms[code] = self.model.runtime.measure(net, shape, self.model.protocol).median_ms
            out[i] = self._ms[code]
        return out

    def fingerprint(self) -> str:
        return self.model.fingerprint()

    def describe(self) -> dict:
        return {**self.model.describe(), "where": "this machine, serially in the engine's process"}


__all__ = ["MachineLatency"]
