"""Accel-NASBench: ImageNet top-1, FPGA latency and accelerator throughput over MnasNet's own space.

Accel-NASBench (Ahmad et al., 2024, arXiv 2404.08005) trained 5,138 networks of the EfficientNet-B0
/ MnasNet space (``genomes/anb.toml``) on ImageNet with a proxy recipe and measured them on two
FPGAs (Xilinx ZCU102, VCK190: latency) and four accelerators (A100, RTX 3090, TPUv2, TPUv3:
throughput). evo-nas answers any network of the space with its own surrogates, fitted on those
records and shipped as ONNX (``evo_nas/assets/anb/``, see NOTICE.md for their fidelity), for a whole
generation at once; parameters and MACs are counted exactly. ``[problem]``::

    name = "anb"
    device = "zcu102"       # latency_ms on the ZCU102 (default) or the VCK190
    measured = false        # true: networks Accel-NASBench measured get their measured values
    data_dir = "DIR"        # measured only: a folder holding anb/ (else $EVO_NAS_DATA, the cache)
    surrogates = "DIR"      # default: the shipped models

By default every network is answered by the surrogates, so measured and unmeasured ones are scored
alike, and no data file is needed. With ``measured = true`` the records are read through
``evo_nas.problems.benchdata``; each record of a run says where its values came from (``source``:
``surrogate``, ``measured``, or ``measured+surrogate`` when a measurement is null).
"""
from __future__ import annotations

from pathlib import Path
from typing import Literal

import numpy as np
from pydantic import BaseModel, ConfigDict, Field

from ..base import hashing
from ..base.errors import validate
from ..base.files import from_base
from ..base.hashing import file_fingerprint as _file_hash
from ..spaces.loader import load_space
from . import register_problem
from .anb_model import ASSETS, BlockCosts, Surrogates, features
from .base import Objective, Problem

DEVICES = ("zcu102", "vck190")
THROUGHPUT = ("a100", "3090", "tpuv2", "tpuv3")


class ANBKeys(BaseModel):
    """The ``[problem]`` keys of ``anb``; relative paths resolve against ``[search] base_dir``."""

    model_config = ConfigDict(strict=True, extra="forbid")

    device: Literal["zcu102", "vck190"] = Field("zcu102", description="the FPGA of latency_ms: zcu102 or vck190")
    measured: bool = Field(False, description="true: measured values for the networks Accel-NASBench measured")
    data_dir: str | None = Field(None, description="a folder holding anb/ (measured only; default: the data layer's)")
    surrogates: str | None = Field(None, description="a folder of surrogate models (default: the packaged one)")


@register_problem("anb")
class ANBProblem(Problem):
    """Accel-NASBench's objectives of networks of its space, per generation, from surrogates or records."""

    objectives = (
        Objective("top1", "max", "fraction", "ImageNet top-1 after Accel-NASBench's proxy training (surrogate)"),
        Objective("latency_ms", "min", "ms", "FPGA latency (surrogate of Accel-NASBench's measurements)"),
        *(Objective(f"throughput_{d}", "max", "images/s", f"{d.upper()} inference throughput (surrogate)")
          for d in THROUGHPUT),
        Objective("params_m", "min", "M", "parameters (counted exactly)"),
        Objective("macs_m", "min", "M", "conv and linear multiply-adds at 224 px (counted exactly)"),
    )
    default_objectives = ("top1", "latency_ms")
    config_keys = tuple(ANBKeys.model_fields)
    config_model = ANBKeys
    config_sections = ()
    batch = True

    def __init__(self, device: str = "zcu102", measured: bool = False, data_dir: str | Path | None = None,
                 surrogates: str | Path = ASSETS):
        if device not in DEVICES:
            raise ValueError(f"[problem] device = {device!r} (expected one of {', '.join(DEVICES)})")
        self.space = load_space("anb")
        self.device = device
        self.surrogates = Surrogates(surrogates)
        self.costs = BlockCosts(self.space)
        self.targets = {"top1": "val_top1", "latency_ms": f"latency_{device}",
                        **{f"throughput_{d}": f"throughput_{d}" for d in THROUGHPUT}}
        self.objectives = tuple(
            Objective(o.name, o.direction, o.unit, o.description.replace("FPGA", f"Xilinx {device.upper()}"))
            for o in type(self).objectives)
        self.measured = measured
        self.archive = None
        if measured:
            from .anb_data import ARCHIVE, load_records
            from .benchdata import data_file

            self.archive = data_file("anb", ARCHIVE, data_dir)
            rec = load_records(self.space, data_dir)
            self._lookup = self._measurements(rec)

    def _measurements(self, rec) -> tuple[dict, np.ndarray]:
        """Genes -> row of the table of measured values per objective (mean over repeated records)."""
        rows: dict[tuple, list[int]] = {}
        for i, g in enumerate(map(tuple, rec.genes.tolist())):
            rows.setdefault(g, []).append(i)
        table = np.full((len(rows), len(self.targets)), np.nan)
        index = {}
        for r, (g, idx) in enumerate(rows.items()):
            index[g] = r
            for j, target in enumerate(self.targets.values()):
                vals = rec.values[target][idx]
                if not np.isnan(vals).all():
                    table[r, j] = np.nanmean(vals)
        table[:, 0] /= 100.0
        return index, table

    @classmethod
    def from_config(cls, config: dict) -> "ANBProblem":
        section = config.get("problem")
        keys = validate(ANBKeys, {k: v for k, v in section.items() if k != "name"}
                        if isinstance(section, dict) else {}, "problem")
        base = Path((config.get("search") or {}).get("base_dir") or ".")
        if keys.data_dir is not None and not keys.measured:
            raise ValueError("[problem] data_dir is set but measured = false: the surrogates need no data")
        data_dir = None if keys.data_dir is None else from_base(keys.data_dir, base)
        surrogates = ASSETS if keys.surrogates is None else from_base(keys.surrogates, base)
        return cls(keys.device, keys.measured, data_dir, surrogates)

    def evaluate_columns(self, X) -> dict:
        """Every objective of the rows of the gene array ``X`` (N, 28), as arrays in natural units,
        and ``source`` per row."""
        X = np.asarray(X, dtype=np.int64).reshape(-1, self.space.n_genes)
        cost = self.costs(X)
        pred = self.surrogates.predict(features(self.space, X, cost),
                                       list(self.targets.values()))
        values = np.stack([pred[t] for t in self.targets.values()], axis=1)
        values[:, 0] /= 100.0
        source = np.full(len(X), "surrogate", dtype="<U18")
        if self.measured:
            index, table = self._lookup
            rows = np.array([index.get(tuple(g), -1) for g in X.tolist()], dtype=np.int64)
            hit = rows >= 0
            if hit.any():
                m = table[rows[hit]]
                have = ~np.isnan(m)
                values[hit] = np.where(have, m, values[hit])
                source[hit] = np.where(have.all(axis=1), "measured", "measured+surrogate")
        out = {name: values[:, j] for j, name in enumerate(self.targets)}
        out["params_m"] = cost[:, 0] / 1e6
        out["macs_m"] = cost[:, 1] / 1e6
        out["source"] = source
        return out

    def evaluate(self, genomes) -> list[dict]:
        if not len(genomes):
            return []
        cols = self.evaluate_columns(np.array([g.genes for g in genomes], dtype=np.int64))
        names = list(cols)
        return [{**{k: (v if k == "source" else float(v)) for k, v in zip(names, row)}, "status": "ok", "error": None}
                for row in zip(*(cols[k].tolist() for k in names))]

    def fingerprint(self) -> str:
        blob = {"problem": self.name, "space": self.space.fingerprint(), "device": self.device,
                "surrogates": {p.name: _file_hash(p) for p in self.surrogates.files}, "measured": self.measured}
        if self.archive is not None:
            blob["archive"] = _file_hash(self.archive)
        return hashing.fingerprint(blob)

    def describe(self) -> dict:
        models = self.surrogates.manifest["models"]
        return {"problem": self.name, "space": self.space.name, "device": self.device,
                "source": "measured where Accel-NASBench measured, else surrogate" if self.measured else "surrogate",
                "surrogates": {"folder": str(self.surrogates.folder), "model": self.surrogates.manifest["model"],
                               "test_kendall_tau": {t: models[t]["test_kendall_tau"] for t in self.targets.values()}},
                "data": str(self.archive) if self.archive else None,
                "costs": "params and MACs counted exactly (conv and linear MACs)"}
