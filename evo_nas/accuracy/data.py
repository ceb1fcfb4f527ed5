"""The ``[data]`` section: which dataset proxy training uses, loaded once per process.

A ``[data]`` config section selects one of::

    name = "mnist-subset"                      # default, embedded
    name = "mnist"   path = "DIR"              # IDX files, gzip or raw
    format = "npz"   path = "FILE.npz"         # x_train, y_train [, x_test, y_test]  or  images, labels
    format = "folder" path = "DIR"             # DIR/<class>/*.png, or DIR/train/<class> + DIR/test/<class>

with ``val_size`` (default min(1000, n_train // 5)), ``test_fraction`` (for user data without a
test split, default 0.2) and ``split_seed`` (default 0). The dataset in memory, with its seeded
validation split, is ``evo_nas.accuracy.dataset``; the files are read by ``evo_nas.accuracy.datafiles``; both are
re-exported here.
"""
from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path

from ..base.errors import validate
from ..base.files import from_base
from .data_config import FORMATS, DataSection
from .datafiles import DEFAULT_EMBEDDED, EMBEDDED, load_embedded, load_folder, load_idx, load_npz, read_idx
from .dataset import Dataset, DatasetError, to_tensor


def _format_of(path: str, name: str | None) -> str:
    """The format of the data at ``path``: ``idx`` for ``mnist`` or a folder of ``train-images*`` files,
    ``npz`` for a ``.npz`` file, ``folder`` for another folder; ``ValueError`` when it cannot tell."""
    if name == "mnist":
        return "idx"
    suffix = Path(path).suffix.lower()
    is_dir = Path(path).is_dir()
    fmt = ("npz" if suffix == ".npz" else "idx" if is_dir and any(Path(path).glob("train-images*"))
           else "folder" if is_dir or not suffix else None)
    if fmt is None:
        raise ValueError(f"[data] cannot tell the format of path = {path!r}; set format = "
                         f"\"idx\", \"npz\" or \"folder\"")
    return fmt


@dataclass(frozen=True)
class DataConfig:
    """The validated ``[data]`` section (``from_dict``; its defaults are ``DataSection``, in
    ``evo_nas.accuracy.data_config``)."""

    name: str
    format: str
    path: str | None
    val_size: int | None
    test_fraction: float
    split_seed: int

    @classmethod
    def from_dict(cls, d: dict | None, base: Path | None = None) -> "DataConfig":
        """``d`` checked by the schema (``evo_nas.accuracy.data_config.DataSection``; ``ValueError`` of one line),
        ``format`` derived from ``path`` where not given, a relative ``path`` taken under ``base``."""
        s = validate(DataSection, dict(d or {}), "data")
        fmt, path = s.format or _format_of(s.path, s.name), s.path
        if fmt == "embedded":
            path = None
        else:
            path = from_base(path, base)
        return cls(name=s.name or Path(path).stem, format=fmt, path=path, val_size=s.val_size,
                   test_fraction=s.test_fraction, split_seed=s.split_seed)

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
           "load_folder", "read_idx", "to_tensor", "EMBEDDED", "DEFAULT_EMBEDDED"]
