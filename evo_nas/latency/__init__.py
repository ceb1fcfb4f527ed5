"""Latency of architectures: on-device measurement (MnasNet, arXiv 1807.11626) and per-layer
lookup tables (FBNet, arXiv 1812.03443), behind one ``LatencyModel`` interface.

``latency_model_from_config(section, space)`` turns an experiment's ``[latency]`` section into a
model with ``latency_ms(arch)``, ``safe_in_pool``, ``fingerprint()`` and ``describe()``.
``stability`` judges whether a table was measured on a quiet machine, ``check`` re-measures a
table's networks, ``fewshot`` fits a new device's model from a few networks measured on it, and
``multisource`` fits it from several known devices chosen by forward selection.
"""
from .config import latency_model_from_config
from .devices import (
    DEVICES, CommandLatency, LatencyModel, MeasuredLatency, TableLatency, default_table_path, register_device,
)
from .lookup import LatencyTable
from .machine import machine_info
from .measure import RUNTIMES, OnnxRuntime, Runtime, TorchRuntime, make_runtime
from .protocol import Measurement, Protocol, measure
from .table import build_table, calibrate, space_layers

__all__ = ["latency_model_from_config", "LatencyModel", "MeasuredLatency", "TableLatency", "CommandLatency",
           "DEVICES", "register_device", "default_table_path", "Protocol", "Measurement", "measure", "Runtime",
           "TorchRuntime", "OnnxRuntime", "RUNTIMES", "make_runtime", "machine_info", "LatencyTable",
           "build_table", "calibrate", "space_layers"]
