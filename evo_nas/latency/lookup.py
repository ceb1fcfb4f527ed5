"""A per-layer latency lookup table: its file, the measurement it belongs to, and its prediction.

FBNet (Wu et al., 2019, arXiv 1812.03443, section 3.2). Each distinct layer (``LayerSpec.key()``:
op, kernel, stride, in/mid/out channels, expansion conv, SE width and style, shortcut, groups,
activation, input resolution) has one entry, measured in isolation. A network's latency is
predicted as the sum of its layers' entries plus a fitted term for what the layers do not cover
(stem, head, per-call overhead, cache effects); the fits are in ``evo_nas.latency.calibration``.

A table is a JSON file: a header (device, runtime and version, threads, batch, the network's
stem, head, resolution, input channels and classes, the protocol), the calibration, and the
entries. Files are written with ``evo_nas.base.files.atomic_write``, so an interrupted build leaves
the last complete file. Tables are built and calibrated by ``evo_nas.latency.table``.
"""
from __future__ import annotations

from dataclasses import asdict
from pathlib import Path

from ..base import hashing
from ..base.files import atomic_write
from ..base.jsonio import dumps, read_json
from ..spaces.arch import Architecture, LayerSpec, to_architecture
from .machine import DEFAULT_ALLOCATOR, machine_info
from .measure import Runtime
from .protocol import Measurement, Protocol

FORMAT = "evo-nas-latency-table"
VERSION = 2
READABLE = (1, 2)  # version 1 tables were measured with the system allocator's defaults
IDENTITY = ("runtime", "runtime_version", "threads", "batch")


def network_signature(arch: Architecture) -> dict:
    """What a table's fitted constant depends on: everything around the searched layers."""
    head = asdict(arch.head)
    head.pop("dropout")
    if head["post_bias"]:
        head.pop("post_bias")  # the default; tables written before the field existed stay valid
    return {"resolution": arch.resolution, "in_channels": arch.in_channels, "num_classes": arch.num_classes,
            "stem": asdict(arch.stem), "head": head, "act": arch.act, "se_style": arch.se_style}


def space_signature(space) -> dict:
    """The network signature of a space's networks; a space that searches the input resolution
    (``resolutions``) lists them all."""
    sig = network_signature(space.decode((0,) * space.n_genes))
    resolutions = getattr(space, "resolutions", None)
    if resolutions is not None and len(resolutions) > 1:
        sig["resolution"] = sorted(resolutions)
    return sig


class LatencyTable:
    """Header, calibration and per-layer entries (``{key: {"ms", "iqr_ms", "cv", ...}}``)."""

    def __init__(self, header: dict, entries: dict | None = None, calibration: dict | None = None,
                 path: str | Path | None = None):
        self.header = header
        self.entries: dict[str, dict] = dict(entries or {})
        self.calibration: dict = dict(calibration or {})
        self.path = Path(path) if path is not None else None

    # -- creation and files --------------------------------------------------------------------
    @classmethod
    def new(cls, space, runtime: Runtime, protocol: Protocol, path=None) -> "LatencyTable":
        device = runtime.device()
        header = {"device": device, **runtime.describe(), "batch": 1,
                  "network": space_signature(space), "space": getattr(space, "name", ""),
                  "protocol": protocol.to_dict(), "measured_elsewhere": device.get("id") != machine_info()["id"]}
        return cls(header, path=path)

    @classmethod
    def load(cls, path: str | Path) -> "LatencyTable":
        path = Path(path)
        d = read_json(path, "latency table")
        if not isinstance(d, dict) or d.get("format") != FORMAT:
            raise ValueError(f"latency table {path}: format is {d.get('format') if isinstance(d, dict) else None!r}, "
                             f"expected {FORMAT!r}")
        if d.get("version") not in READABLE:
            raise ValueError(f"latency table {path}: version {d.get('version')!r} is not supported "
                             f"(expected one of {READABLE})")
        header, entries, calib = d.get("header"), d.get("entries"), d.get("calibration", {})
        if not isinstance(header, dict) or not isinstance(entries, dict) or not isinstance(calib, dict):
            raise ValueError(f"latency table {path}: header, entries and calibration must be objects")
        for key in ("device", "network", *IDENTITY):
            if key not in header:
                raise ValueError(f"latency table {path}: header is missing {key!r}")
        for key, e in entries.items():
            ms = e.get("ms") if isinstance(e, dict) else None
            if isinstance(ms, bool) or not isinstance(ms, (int, float)) or not ms >= 0:
                raise ValueError(f"latency table {path}: entry {key!r} has no valid 'ms' (got {e!r})")
        for key in ("offset_ms", "per_layer_ms", "scale"):
            if key in calib and (isinstance(calib[key], bool) or not isinstance(calib[key], (int, float))):
                raise ValueError(f"latency table {path}: calibration {key} = {calib[key]!r} is not a number")
        return cls(header, entries, calib, path)

    def to_dict(self) -> dict:
        return {"format": FORMAT, "version": VERSION, "header": self.header, "calibration": self.calibration,
                "entries": dict(sorted(self.entries.items()))}

    def save(self, path: str | Path | None = None) -> Path:
        """Write atomically; entries already in a compatible file at ``path`` are kept (merged)."""
        if path is None and self.path is None:
            raise ValueError("latency table has no path to save to")
        path = Path(path or self.path)
        if path.is_file():
            try:
                old = LatencyTable.load(path)
                if self.same_measurement(old):
                    self.entries = {**old.entries, **self.entries}
            except ValueError:
                pass
        path.parent.mkdir(parents=True, exist_ok=True)
        atomic_write(path, dumps(self.to_dict(), nonfinite="raise", where=f"latency table {path}", indent=1) + "\n")
        self.path = path
        return path

    # -- identity ------------------------------------------------------------------------------
    def identity(self) -> dict:
        h = self.header
        return {"device": h["device"].get("id"), **{k: h[k] for k in IDENTITY}, "allocator": self.allocator,
                "network": h["network"]}

    @property
    def allocator(self) -> str:
        """How the measuring process allocated memory (``machine.allocator_policy``)."""
        return self.header.get("allocator", DEFAULT_ALLOCATOR)

    def same_measurement(self, other: "LatencyTable") -> bool:
        """True when both tables were measured alike: the same device, runtime and its version, threads,
        batch, allocator and network (``identity``)."""
        return self.identity() == other.identity()

    def measured_here(self) -> bool:
        return self.header["device"].get("id") == machine_info()["id"] and not self.header.get("measured_elsewhere")

    def mismatch(self, runtime: Runtime) -> tuple[str, object, object] | None:
        """The first setting (device id, runtime, version, threads, allocator) where ``runtime`` would time
        differently from this table's measurement, as ``(name, table's value, runtime's value)``; None if none."""
        mine = {"device": runtime.device().get("id"), **runtime.describe()}
        theirs = {"device": self.header["device"].get("id"),
                  **{k: self.header[k] for k in ("runtime", "runtime_version", "threads")}, "allocator": self.allocator}
        for k, v in theirs.items():
            if v != mine.get(k, DEFAULT_ALLOCATOR):
                return k, v, mine.get(k, DEFAULT_ALLOCATOR)
        return None

    def measured_on(self, runtime: Runtime) -> bool:
        """True when ``runtime`` times on the device and with the settings this table was measured with."""
        return self.mismatch(runtime) is None

    def content_hash(self) -> str:
        return hashing.fingerprint({"e": {k: v["ms"] for k, v in sorted(self.entries.items())}, "c": self.calibration})

    def check_network(self, arch_or_space) -> None:
        """``ValueError`` naming the field where the table's network differs from ``arch_or_space``."""
        sig = (space_signature(arch_or_space) if hasattr(arch_or_space, "decode")
               else network_signature(to_architecture(arch_or_space)))
        mine = self.header["network"]
        for k in sig:
            if k == "resolution" and isinstance(mine.get(k), list) and not isinstance(sig[k], list) \
                    and sig[k] in mine[k]:
                continue
            if mine.get(k) != sig[k]:
                where = f" {self.path}" if self.path else ""
                raise ValueError(f"latency table{where} was measured for {k} = {mine.get(k)!r}, "
                                 f"the network has {k} = {sig[k]!r}")

    # -- prediction ----------------------------------------------------------------------------
    def missing(self, arch) -> list[LayerSpec]:
        seen, out = set(), []
        for spec in to_architecture(arch).layers():
            k = spec.key()
            if k not in self.entries and k not in seen:
                seen.add(k)
                out.append(spec)
        return out

    def layer_sum(self, arch) -> float:
        total = 0.0
        for spec in to_architecture(arch).layers():
            entry = self.entries.get(spec.key())
            if entry is None:
                where = f" {self.path}" if self.path else ""
                raise ValueError(f"latency table{where} has no entry for layer {spec.key()}")
            total += entry["ms"]
        return total

    @property
    def calibrated(self) -> bool:
        return "offset_ms" in self.calibration

    def predict(self, arch) -> float:
        """Predicted latency in ms: scale x layer sum + offset + per-layer term."""
        arch = to_architecture(arch)
        if not self.calibrated:
            raise ValueError(f"latency table{' ' + str(self.path) if self.path else ''} is not calibrated "
                             f"(run `evo-nas latency build-table` or use fill = true)")
        c = self.calibration.get("by_resolution", {}).get(str(arch.resolution), self.calibration)
        return (c.get("scale", 1.0) * self.layer_sum(arch) + c["offset_ms"]
                + c.get("per_layer_ms", 0.0) * len(arch.layers()))

    def add(self, spec: LayerSpec, m: Measurement) -> None:
        entry = {"ms": round(m.median_ms, 6), "iqr_ms": round(m.iqr_ms, 6), "cv": round(m.cv, 5),
                 "attempts": m.attempts}
        if m.p90_ms is not None:
            entry.update(p90_ms=round(m.p90_ms, 6), p99_ms=round(m.p99_ms, 6))
        self.entries[spec.key()] = entry

    def unstable_reasons(self) -> list[str]:
        """The stability rules this table's measurement breaks (``evo_nas.latency.stability``); empty: stable."""
        from .stability import judge

        return judge(self.header, self.entries, self.calibration)


__all__ = ["LatencyTable", "network_signature", "space_signature", "FORMAT", "VERSION", "READABLE"]
