"""Benchmark data files, found in a folder a config gives or in the offline mirror ``$EVO_NAS_DATA``.

A stand-in with the data layer's interface (``data_file``, ``DataMissing``): no download, no hash check.
"""
from __future__ import annotations

import os
from pathlib import Path

ENV_MIRROR = "EVO_NAS_DATA"


class DataMissing(FileNotFoundError):
    """A benchmark file that is in no folder searched."""


def data_file(bench: str, name: str, root: str | Path | None = None, *, download: bool | None = None) -> Path:
    """The local path of file ``name`` of benchmark ``bench``: ``root/bench/name``, else
    ``$EVO_NAS_DATA/bench/name``; ``DataMissing`` (one line) when neither exists."""
    where = [Path(root).expanduser() / bench / name] if root is not None else []
    if os.environ.get(ENV_MIRROR):
        where.append(Path(os.environ[ENV_MIRROR]).expanduser() / bench / name)
    for p in where:
        if p.is_file():
            return p
    looked = ", ".join(map(str, where)) or f"${ENV_MIRROR} is not set"
    raise DataMissing(f"benchmark file {bench}/{name} not found ({looked}): set {ENV_MIRROR} to a folder "
                      f"holding {bench}/{name}")
