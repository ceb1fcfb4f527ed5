"""``[latency]``: the keys of the built-in latency devices, their types, ranges and the defaults each mode reads.

The model sits beside the layer it describes (it reads the device registry, the runtimes and
the protocol's defaults) so that ``latency_model_from_config`` can check a section with it;
``evo_nas.schema.config`` takes it into the configuration like any other section.
"""
from __future__ import annotations

from typing import Literal

from pydantic import ConfigDict, Field, model_validator

from ..base.config import MAX_BATCH, MAX_THREADS, PositiveFloat
from ..base.errors import unknown_key, validate
from .calibration import FIT_CHOICES, FIT_DEFAULT
from .devices import COMMON_KEYS, DEVICES, LatencyModel
from .measure import RUNTIMES, Protocol
from .protocol_keys import ProtocolKeys

# the built-in devices' fixed defaults; the protocol's are ``Protocol``'s, ``fit``'s ``FIT_DEFAULT``
LATENCY_DEFAULTS = {"runtime": "onnxruntime", "threads": 1, "seed": 0, "timeout_s": 600.0}
BUILTIN_DEVICES = ("table", "measured", "command")


class LatencySection(ProtocolKeys):
    """``[latency]``: typed keys of the built-in devices; which keys apply is the ``mode``'s (``register_device``).

    For a built-in mode every key it reads gets its default written in: the protocol keys for
    ``table`` and ``measured``; ``runtime`` and ``threads`` where a network is timed on this machine
    (no ``command``), ``timeout_s`` where a ``command`` times it; and for ``table`` also ``seed``,
    ``fit`` and ``fill`` (true without a ``table`` file, false with one). Left out: ``calibration`` (its default depends on the space, ``default_calibration``),
    ``table`` (the path derives from the space and runtime) and ``device``."""

    model_config = ConfigDict(extra="allow")

    mode: str = Field("table", description="a registered latency device")
    runtime: str | None = Field(None, description="a registered runtime name (torch, onnxruntime, onnxruntime-int8-dynamic, onnxruntime-int8-static)")
    threads: int | None = Field(None, ge=1, le=MAX_THREADS, description=f"an int in [1, {MAX_THREADS}]")
    table: str | None = Field(None, description="a path string")
    fill: bool | None = Field(None, description="true or false")
    calibration: int | None = Field(None, ge=1, le=MAX_BATCH, description=f"an int in [1, {MAX_BATCH}] (networks)")
    seed: int | None = Field(None, ge=0, description="a non-negative int")
    fit: Literal[FIT_CHOICES] | None = Field(None, description=f"one of {', '.join(FIT_CHOICES)}")
    command: str | None = Field(None, description="a command line, such as \"program {model}\"")
    device: str | None = Field(None, description="a device name")
    timeout_s: PositiveFloat | None = Field(None, description="a positive number (s)")

    @model_validator(mode="after")
    def _mode_keys(self) -> "LatencySection":
        if self.mode not in DEVICES:
            raise ValueError(f"[latency] mode = {self.mode!r} (expected one of {', '.join(DEVICES)})")
        keys = DEVICES[self.mode][1] | COMMON_KEYS
        unknown = sorted(self.given() - keys)
        if unknown:
            raise unknown_key("[latency]", unknown[0], keys, f" for mode = {self.mode!r}")
        if self.runtime is not None and self.runtime not in RUNTIMES:
            raise ValueError(f"[latency] runtime = {self.runtime!r} (expected one of {', '.join(RUNTIMES)})")
        if self.mode == "command" and self.command is None:
            raise ValueError("[latency] mode = 'command' needs command = \"program {model}\"")
        if self.mode in BUILTIN_DEVICES:
            self._fill_defaults(keys)
        return self

    def _fill_defaults(self, keys: set[str]) -> None:
        here = self.command is None  # a network is timed on this machine, not by a command
        defaults = {**LATENCY_DEFAULTS, **Protocol().to_dict(), "fit": FIT_DEFAULT, "fill": self.table is None}
        for key, value in defaults.items():
            if key not in keys or getattr(self, key) is not None:
                continue
            if key in ("runtime", "threads") and not here or key == "timeout_s" and here:
                continue
            setattr(self, key, value)


def latency_model_from_config(section: dict | None, space) -> LatencyModel:
    """The ``[latency]`` section as a model; default: a table for this machine, filled on demand.

    ``section`` is checked and its defaults filled by the schema (``LatencySection``); a factory
    receives it as a plain dict of those values (``ValueError`` of one line for a bad key or value)."""
    section = validate(LatencySection, dict(section or {}), "latency").model_dump(exclude_none=True)
    return DEVICES[section["mode"]][0](section, space)
