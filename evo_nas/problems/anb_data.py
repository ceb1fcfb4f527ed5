"""Accel-NASBench's records: genes, measured metrics and the published split, read through the data layer.

Accel-NASBench (Ahmad et al., 2024, arXiv 2404.08005; GitHub afzalxo/Accel-NASBench, Apache-2.0)
publishes 5,138 records ``result_N.json`` (5,125 distinct networks of its MnasNet / EfficientNet-B0
space) in ``anb_dataset_jsons.tar.gz``, and a train / val / test split of 4,100 / 512 / 512 file
names (``splits/{train,val,test}_paths.json``). The files are read where ``evo_nas.problems.benchdata``
finds them (``[problem] data_dir``, ``$EVO_NAS_DATA``, ...); none ships with the package. Null
entries are missing values (NaN here).
"""
from __future__ import annotations

import json
import tarfile
from dataclasses import dataclass
from pathlib import Path, PurePosixPath

import numpy as np

from .benchdata import data_file

ARCHIVE = "anb_dataset_jsons.tar.gz"
SPLITS = ("train", "val", "test")
#: the measured metrics: name -> (section, entry, unit)
METRICS = {
    "val_top1": ("metrics", None, "%"),
    "latency_zcu102": ("platform_perf", "latency_mean", "ms"),
    "latency_vck190": ("platform_perf", "latency_mean", "ms"),
    "throughput_a100": ("platform_perf", "throughput_mean", "images/s"),
    "throughput_3090": ("platform_perf", "throughput_mean", "images/s"),
    "throughput_tpuv2": ("platform_perf", "throughput_mean", "images/s"),
    "throughput_tpuv3": ("platform_perf", "throughput_mean", "images/s"),
}


@dataclass(frozen=True)
class Records:
    """The records, in archive order: ``names`` (``result_N.json``), ``genes`` (N, 28) of the space,
    ``values`` (metric -> (N,) floats, NaN where missing), ``params_m`` and ``macs_m`` (``model_info``,
    millions; MACs as thop counts them)."""

    names: tuple[str, ...]
    genes: np.ndarray
    values: dict[str, np.ndarray]
    params_m: np.ndarray
    macs_m: np.ndarray

    def index(self, names) -> np.ndarray:
        """Positions of the records named ``names`` (file names or paths); ``ValueError`` names an unknown one."""
        where = {n: i for i, n in enumerate(self.names)}
        out = []
        for n in names:
            base = PurePosixPath(n).name
            if base not in where:
                raise ValueError(f"Accel-NASBench record {n!r} is not in the archive")
            out.append(where[base])
        return np.array(out, dtype=np.int64)


def _value(record: dict, metric: str) -> float:
    section, entry, _ = METRICS[metric]
    v = record[section].get(metric)
    if entry is not None and v is not None:
        v = v.get(entry)
    return np.nan if v is None else float(v)


def record_genes(space, architecture: dict) -> tuple[int, ...]:
    """The genes of an Accel-NASBench ``architecture`` dict (``block{b}_e``, ``_k``, ``_l``, ``_se``,
    b = 0..6); ``ValueError`` names the block and value off the space's grid."""
    genes: list[int] = []
    for n, ref in enumerate(space.blocks, 1):
        b = n - 1
        values = {"expansion": architecture[f"block{b}_e"], "kernel": architecture[f"block{b}_k"],
                  "layers": architecture[f"block{b}_l"], "se": bool(architecture[f"block{b}_se"])}
        genes += space._block_genes(n, ref, values)
    return tuple(genes)


def load_records(space, root: str | Path | None = None) -> Records:
    """Every record of the archive, with its genes in ``space`` (an ``mbconv`` space shaped like
    Accel-NASBench's). ``DataMissing`` (a ``FileNotFoundError``) when the archive is not found."""
    path = data_file("anb", ARCHIVE, root)
    names, genes, params, macs = [], [], [], []
    values: dict[str, list[float]] = {m: [] for m in METRICS}
    with tarfile.open(path, "r:gz") as tar:
        members = sorted((m for m in tar.getmembers() if m.isfile() and m.name.endswith(".json")),
                         key=lambda m: int(PurePosixPath(m.name).stem.split("_")[-1]))
        for m in members:
            rec = json.load(tar.extractfile(m))
            names.append(PurePosixPath(m.name).name)
            genes.append(record_genes(space, rec["architecture"]))
            params.append(float(rec["model_info"]["params"]))
            macs.append(float(rec["model_info"]["macs"]))
            for metric in METRICS:
                values[metric].append(_value(rec, metric))
    return Records(tuple(names), np.array(genes, dtype=np.int64),
                   {k: np.array(v, dtype=np.float64) for k, v in values.items()},
                   np.array(params), np.array(macs))


def split_names(which: str, root: str | Path | None = None) -> list[str]:
    """The file names of the published split ``which`` (train, val or test)."""
    if which not in SPLITS:
        raise ValueError(f"split {which!r} (expected one of {', '.join(SPLITS)})")
    with open(data_file("anb", f"splits/{which}_paths.json", root)) as f:
        return [PurePosixPath(p).name for p in json.load(f)]
