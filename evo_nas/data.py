"""The ``[data]`` section: which dataset proxy training uses, loaded once per process.

A ``[data]`` config section selects one of::

    name = "mnist-subset"                      # default, embedded
    name = "mnist"   path = "DIR"              # IDX files, gzip or raw
    format = "npz"   path = "FILE.npz"         # x_train, y_train [, x_test, y_test]  or  images, labels
    format = "folder" path = "DIR"             # DIR/<class>/*.png, or DIR/train/<class> + DIR/test/<class>

with ``val_size`` (default min(1000, n_train // 5)), ``test_fraction`` (for user data without a
test split, default 0.2) and ``split_seed`` (default 0). The dataset in memory, with its seeded
validation split, is ``evo_nas.dataset``; the files are read by ``evo_nas.datafiles``; both are
re-exported here.
"""
from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path

from .datafiles import EMBEDDED, load_embedded, load_folder, load_idx, load_npz, read_idx
from .dataset import Dataset, DatasetError, to_tensor

FORMATS = ("embedded", "idx", "npz", "folder")
DATA_KEYS = {"name", "path", "format", "val_size", "test_fraction", "split_seed"}


@dataclass(frozen=True)
class DataConfig:
    """The validated ``[data]`` section."""

    name: str = "mnist-subset"
    format: str = "embedded"
    path: str | None = None
    val_size: int | None = None
    test_fraction: float = 0.2
    split_seed: int = 0

    @classmethod
    def from_dict(cls, d: dict | None, base: Path | None = None) -> "DataConfig":
        d = dict(d or {})
        unknown = set(d) - DATA_KEYS
        if unknown:
            raise ValueError(f"[data]: unknown key {sorted(unknown)[0]!r} (expected {', '.join(sorted(DATA_KEYS))})")
        for key, kind in (("name", str), ("path", str), ("format", str), ("val_size", int), ("split_seed", int)):
            if key in d and (not isinstance(d[key], kind) or isinstance(d[key], bool)):
                raise ValueError(f"[data]: {key} = {d[key]!r} must be {kind.__name__}")
        if "test_fraction" in d and not isinstance(d["test_fraction"], (int, float)):
            raise ValueError(f"[data]: test_fraction = {d['test_fraction']!r} must be a number")
        name = d.get("name")
        fmt = d.get("format")
        path = d.get("path")
        if fmt is None:
            if path is None:
                fmt = "embedded"
            elif name == "mnist":
                fmt = "idx"
            else:
                suffix = Path(path).suffix.lower()
                is_dir = Path(path).is_dir()
                fmt = ("npz" if suffix == ".npz" else "idx" if is_dir and any(Path(path).glob("train-images*"))
                       else "folder" if is_dir or not suffix else None)
                if fmt is None:
                    raise ValueError(f"[data]: cannot tell the format of path = {path!r}; set format = "
                                     f"\"idx\", \"npz\" or \"folder\"")
        if fmt not in FORMATS:
            raise ValueError(f"[data]: format = {fmt!r} (expected one of {', '.join(FORMATS)})")
        if fmt == "embedded":
            name = name or "mnist-subset"
            if name not in EMBEDDED:
                raise ValueError(f"[data]: name = {name!r} is not an embedded dataset "
                                 f"({', '.join(EMBEDDED)}); give a path for other data")
            path = None
        elif path is None:
            raise ValueError(f"[data]: format = {fmt!r} needs a path")
        elif base is not None and not Path(path).is_absolute():
            path = str(base / path)
        if "val_size" in d and d["val_size"] < 1:
            raise ValueError(f"[data]: val_size = {d['val_size']} must be >= 1")
        return cls(name=name or Path(path).stem, format=fmt, path=path, val_size=d.get("val_size"),
                   test_fraction=float(d.get("test_fraction", 0.2)), split_seed=d.get("split_seed", 0))

    def key(self) -> str:
        return json.dumps(self.__dict__, sort_keys=True)

    def load(self) -> Dataset:
        if self.format == "embedded":
            return load_embedded(self.name)
        if self.format == "idx":
            return load_idx(self.path, self.name)
        if self.format == "npz":
            return load_npz(self.path, self.name, self.test_fraction, self.split_seed)
        return load_folder(self.path, self.name, self.test_fraction, self.split_seed)

    def resolved_val_size(self, dataset: Dataset) -> int:
        return self.val_size if self.val_size is not None else max(1, min(1000, len(dataset.x_train) // 5))


_CACHE: dict[str, Dataset] = {}


def load_dataset(section: dict | DataConfig | None = None) -> Dataset:
    """The dataset a ``[data]`` section names; loaded once per process."""
    cfg = section if isinstance(section, DataConfig) else DataConfig.from_dict(section)
    key = cfg.key()
    if key not in _CACHE:
        _CACHE[key] = cfg.load()
    return _CACHE[key]


__all__ = ["Dataset", "DataConfig", "DatasetError", "load_dataset", "load_embedded", "load_idx", "load_npz",
           "load_folder", "read_idx", "to_tensor", "EMBEDDED"]
