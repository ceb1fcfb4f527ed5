"""Latency models and the device registry: where a network's latency comes from.

Following MnasNet (Tan et al., 2019, arXiv 1807.11626), latency is measured on the target
device; following FBNet (Wu et al., 2019, arXiv 1812.03443) it may be predicted from a per-layer
table measured on that device. Every model states which (``describe()["source"]`` is
``"measured"`` or ``"predicted"``) and whether it may run inside a worker pool
(``safe_in_pool``): only a lookup that times nothing is; a model that times a network must run
serially, outside any pool, so that no worker competes for the cores being measured.

Devices (``[latency] mode``): ``table`` (predicted from a table file; with ``fill = true`` a
missing layer is measured when first needed, here or, with ``command``, on the user's device),
``measured`` (the whole network timed here, end to end), ``command`` (a user's program receives
an exported ONNX file and prints a latency in ms: a phone over adb, a remote board).
``register_device`` adds another.
"""
from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Callable

from ..base.hashing import fingerprint as _hash
from ..base.outputs import tracked_files
from ..spaces.arch import to_architecture
from .lookup import VERSION as TABLE_VERSION, LatencyTable
from .machine import machine_info
from .measure import CommandRuntime, Runtime, make_runtime
from .protocol import Measurement, Protocol
from .protocol_keys import PROTOCOL_KEYS as _PROTOCOL_KEYS
from .table import (
    FIT_DEFAULT, build_network, calibrate, calibration_genomes, check_fit, default_calibration, measure_layers,
    network_input_shape, space_layers,
)


class LatencyModel:
    """``latency_ms(arch)``, ``safe_in_pool``, ``fingerprint()``, ``describe()``."""

    safe_in_pool: bool = False

    def latency_ms(self, arch) -> float:
        raise NotImplementedError

    def fingerprint(self) -> str:
        raise NotImplementedError

    def describe(self) -> dict:
        raise NotImplementedError


class MeasuredLatency(LatencyModel):
    """The whole network timed here, end to end, under the protocol: run it serially."""

    safe_in_pool = False

    def __init__(self, runtime: Runtime, protocol: Protocol = Protocol()):
        self.runtime = runtime
        self.protocol = protocol

    def measure(self, arch) -> Measurement:
        arch = to_architecture(arch)
        return self.runtime.measure(build_network(arch), network_input_shape(arch), self.protocol)

    def latency_ms(self, arch) -> float:
        return self.measure(arch).median_ms

    def fingerprint(self) -> str:
        return _hash({"source": "measured", "device": machine_info()["id"], **self.runtime.describe(),
                      "protocol": self.protocol.to_dict()})

    def describe(self) -> dict:
        return {"source": "measured", "device": machine_info(), **self.runtime.describe(), "batch": 1,
                "protocol": self.protocol.to_dict(), "where": "this machine, serially (outside any worker pool)"}


class TableLatency(LatencyModel):
    """Predicted from a per-layer table; with ``fill`` a missing layer is measured here on first use.

    A fill-mode model times layers, so it reports ``safe_in_pool = False`` unless its table
    already covers every layer of the space; a read-only table always reports True.
    """

    def __init__(self, table: LatencyTable, space=None, *, fill: bool = False, runtime: Runtime | None = None,
                 protocol: Protocol = Protocol(), calibration: int | None = None, seed: int = 0,
                 fit: str = FIT_DEFAULT):
        self.table = table
        self.space = space
        self.fill = fill
        self.runtime = runtime
        self.protocol = protocol
        self.calibration = calibration
        self.seed = seed
        self.fit = check_fit(fit)
        if space is not None:
            table.check_network(space)
        if fill:
            if runtime is None or space is None:
                raise ValueError("a fill-mode latency table needs a runtime and a space")
            if table.header["device"].get("id") != runtime.device().get("id"):
                raise ValueError(f"latency table {table.path} was measured on another device "
                                 f"({table.header['device'].get('cpu')}); it cannot be filled here (fill = false)")
            differs = table.mismatch(runtime)
            if differs is not None:
                k, theirs, mine = differs
                raise ValueError(f"latency table {table.path} has {k} = {theirs!r}, the configured runtime has {mine!r}")
        elif not table.calibrated:
            raise ValueError(f"latency table {table.path} is not calibrated; rebuild it with "
                             f"`evo-nas latency build-table` or use fill = true")
        self.safe_in_pool = not fill or self._complete()
        if table.calibrated:
            self._warn_unstable()

    def _warn_unstable(self) -> None:
        """Warn (once per model) when the table's measurement broke a stability rule (``stability.judge``)."""
        import warnings

        reasons = self.table.unstable_reasons()
        self.table.header["unstable"] = reasons
        if reasons:
            warnings.warn(f"latency table {self.table.path} was measured while the machine was not quiet "
                          f"({reasons[0]}); its predictions may be far off: `evo-nas latency check`, then "
                          f"`evo-nas latency build-table --rebuild` on a quiet machine", stacklevel=3)

    def missing_layers(self, archs) -> int:
        """How many distinct layers of ``archs`` a fill-mode table would measure first (0 otherwise)."""
        if not self.fill:
            return 0
        return len({spec.key() for a in archs for spec in self.table.missing(to_architecture(a))})

    def _complete(self) -> bool:
        return self.table.calibrated and all(k in self.table.entries for k in space_layers(self.space))

    def latency_ms(self, arch) -> float:
        arch = to_architecture(arch)
        if self.fill:
            changed = measure_layers(self.table, self.table.missing(arch), self.runtime, self.protocol)
            if not self.table.calibrated:
                n = self.calibration if self.calibration is not None else default_calibration(self.space)
                calibrate(self.table, calibration_genomes(self.space, n, self.seed),
                          self.runtime, self.protocol, self.fit, self.seed)
                self._warn_unstable()
                changed = True
            if changed and self.table.path is not None:
                self.table.save()
        return self.table.predict(arch)

    def fingerprint(self) -> str:
        ident = self.table.identity()
        # A table that fills itself here keeps its identity as it grows; a fixed table is its content.
        return _hash({"source": "predicted", **ident, "fill": self.fill,
                      "content": None if self.fill else self.table.content_hash()})

    def describe(self) -> dict:
        h = self.table.header
        return {"source": "predicted", "table": str(self.table.path) if self.table.path else None,
                "device": h["device"], "measured_elsewhere": not self.table.measured_here(),
                "runtime": h["runtime"], "runtime_version": h["runtime_version"], "threads": h["threads"],
                "batch": h["batch"], "entries": len(self.table.entries), "fill": self.fill,
                "calibration": {k: self.table.calibration.get(k) for k in ("offset_ms", "per_layer_ms", "scale",
                                                                           "fit", "n", "mape_pct")},
                "where": ("table lookup, in the worker pool" if self.safe_in_pool
                          else "table lookup; missing layers measured serially, outside the pool")}


class CommandLatency(LatencyModel):
    """A user's device: ``command`` gets the exported ONNX network (``{model}``, else appended) and
    prints a latency in ms as the last number on its standard output."""

    safe_in_pool = False

    def __init__(self, command: str, device: str = "", timeout_s: float = 600.0):
        self.runtime = CommandRuntime(command, device, timeout_s)
        self.command = command
        self.device = self.runtime.label

    def latency_ms(self, arch) -> float:
        arch = to_architecture(arch)
        return self.runtime.measure(build_network(arch), network_input_shape(arch)).median_ms

    def fingerprint(self) -> str:
        return _hash({"source": "measured", "command": self.command, "device": self.device})

    def describe(self) -> dict:
        return {"source": "measured", "device": self.device, "command": self.command, "format": "onnx",
                "where": "external command, called serially (outside any worker pool)"}


# -- configuration ---------------------------------------------------------------------------------

COMMON_KEYS = {"mode"}
PROTOCOL_KEYS = set(_PROTOCOL_KEYS)
RUNTIME_KEYS = {"runtime", "threads"}
DEVICES: dict[str, tuple[Callable, set[str]]] = {}


def register_device(name: str, keys: set[str] = frozenset()):
    """Register ``factory(section, space) -> LatencyModel`` under ``[latency] mode = name``; ``keys``: the
    ``[latency]`` keys it takes besides ``mode``. ``section`` is the schema-checked section as a dict
    (``evo_nas.latency.config.LatencySection``): its typed keys are checked, the others as given."""
    def wrap(factory):
        DEVICES[name] = (factory, set(keys))
        return factory
    return wrap


def _runtime(section: dict) -> Runtime:
    if "command" in section:
        return CommandRuntime(section["command"], section.get("device", ""), section["timeout_s"])
    return make_runtime(section["runtime"], section["threads"])


def table_dir() -> Path:
    return Path(os.environ.get("EVO_NAS_LATENCY_DIR", Path.home() / ".cache" / "evo-nas" / "latency"))


def default_table_path(space, runtime: Runtime) -> Path:
    """``<dir>/<space>-r<res>-c<in>-n<classes>-<runtime>-t<threads>-<device id>-v<table version>.json``
    (``r<min>-<max>`` for a space that searches the resolution)."""
    a = space.decode((0,) * space.n_genes)
    res = getattr(space, "resolutions", None) or [a.resolution]
    res = f"{min(res)}-{max(res)}" if len(res) > 1 else f"{a.resolution}"
    name = (f"{getattr(space, 'name', 'space')}-r{res}-c{a.in_channels}-n{a.num_classes}-"
            f"{runtime.name}-t{runtime.threads}-{runtime.device()['id']}-v{TABLE_VERSION}.json")
    return table_dir() / name


def known_devices() -> dict[str, Path]:
    """Devices other than this machine that have a latency table in ``table_dir()``: name -> table.

    The name is the ``device`` a table was built for through a command (``evo-nas latency
    build-table --command ... --device NAME``); unreadable files are skipped."""
    found: dict[str, Path] = {}
    folder = table_dir()
    for path in sorted(folder.glob("*.json")) if folder.is_dir() else ():
        try:
            device = json.loads(path.read_text())["header"]["device"]
        except (OSError, ValueError, KeyError, TypeError):
            continue
        if isinstance(device, dict) and device.get("command") and isinstance(device.get("cpu"), str):
            found.setdefault(device["cpu"], path)
    return found


def check_device(section: dict, table: LatencyTable | None = None) -> None:
    """``[latency] device`` names where latency comes from: the device a ``command`` runs on, or the
    one ``table`` was measured on. ``ValueError`` naming the device (and the known ones) otherwise:
    without a command or a table of that device, latency would silently be this machine's."""
    if "device" not in section or "command" in section:
        return
    name = section["device"]
    if table is not None:
        measured_on = table.header["device"].get("cpu")
        if measured_on != name:
            raise ValueError(f"[latency] device = {name!r}, but latency table {table.path} was measured on "
                             f"{measured_on!r}")
        return
    known = known_devices()
    listed = ", ".join(f"{k} ({p})" for k, p in known.items()) or f"none with a table in {table_dir()}"
    raise ValueError(f"[latency] device = {name!r} has no command and no table measured on it, so latency would "
                     f"be this machine's: add command = \"...\" to measure on {name!r}, or table = FILE built there "
                     f"(known devices: {listed}); leave device out to measure here")


@register_device("table", RUNTIME_KEYS | PROTOCOL_KEYS | {"table", "fill", "calibration", "seed", "fit", "command",
                                                           "device", "timeout_s"})
def _table_device(section: dict, space) -> LatencyModel:
    if "table" not in section:
        check_device(section)
    runtime = _runtime(section)
    protocol = Protocol.from_dict(section)
    path = Path(section["table"]) if "table" in section else default_table_path(space, runtime)
    if section["fill"] and "table" in section and tracked_files(path):
        raise FileExistsError(f"[latency] table = {str(path)!r} is committed to git and fill = true would write "
                              f"measured layers into it: set fill = false, or copy the table and name the copy")
    if path.is_file():
        table = LatencyTable.load(path)
        check_device(section, table)
    elif section["fill"]:
        table = LatencyTable.new(space, runtime, protocol, path)
    else:
        raise FileNotFoundError(f"latency table not found: {path} (build it with `evo-nas latency build-table` "
                                f"or set fill = true)")
    return TableLatency(table, space, fill=section["fill"], runtime=runtime, protocol=protocol,
                        calibration=section.get("calibration"), seed=section["seed"], fit=section["fit"])


@register_device("measured", RUNTIME_KEYS | PROTOCOL_KEYS)
def _measured_device(section: dict, space) -> LatencyModel:
    return MeasuredLatency(_runtime(section), Protocol.from_dict(section))


@register_device("command", {"command", "device", "timeout_s"})
def _command_device(section: dict, space) -> LatencyModel:
    return CommandLatency(section["command"], section.get("device", ""), section["timeout_s"])


__all__ = ["LatencyModel", "MeasuredLatency", "TableLatency", "CommandLatency", "DEVICES", "register_device",
           "default_table_path", "table_dir", "known_devices", "check_device"]
