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

from ..base.errors import validate
from ..base.hashing import fingerprint
from ..latency.config import LatencySection
from ..latency.machine import machine_info
from ..latency.measure import make_runtime
from ..latency.protocol import Protocol


class MachineLatency:
    """Latency in ms of NAS-Bench-201 cells on this machine, measured once per cell.

    ``section``: the ``[latency]`` keys of a measured model (``runtime``, ``threads`` and the
    protocol's ``warmup``, ``repeats``, ``rounds``, ``max_cv``, ``max_attempts``), checked by
    ``LatencySection`` (``ValueError`` of one line)."""

    def __init__(self, space, section: dict | None = None):
        given = dict(section or {})
        if given.get("mode", "measured") != "measured":
            raise ValueError(f"[latency] mode = {given['mode']!r} (the default when [latency] names none): nb201 "
                             f"on device 'this-machine' times whole networks: set mode = \"measured\"")
        s = validate(LatencySection, {**given, "mode": "measured"}, "latency").model_dump(exclude_none=True)
        self.space = space
        self.runtime = make_runtime(s["runtime"], s["threads"])
        self.protocol = Protocol.from_dict(s)
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
                self._ms[code] = self.runtime.measure(net, shape, self.protocol).median_ms
            out[i] = self._ms[code]
        return out

    def fingerprint(self) -> str:
        return fingerprint({"source": "measured", "device": machine_info()["id"], **self.runtime.describe(),
                            "protocol": self.protocol.to_dict()})

    def describe(self) -> dict:
        return {"source": "measured", "device": machine_info(), **self.runtime.describe(), "batch": 1,
                "protocol": self.protocol.to_dict(), "where": "this machine, serially in the engine's process"}


__all__ = ["MachineLatency"]
