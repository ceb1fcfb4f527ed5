"""Benchmark data declarations: a file (name, SHA-256, download URL or build) and a benchmark (files, licence, citation).

``evo_nas.problems.benchdata`` declares every benchmark with these and finds, downloads or builds
their files.
"""
from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path


@dataclass(frozen=True)
class DataFile:
    """One file: ``name`` is its path inside the benchmark's folder; ``url`` None means the file
    has no download of its own (it was converted from the authors' files) and is read from a
    mirror or imported (``evo-nas data import``), or built: ``build(source, out)`` writes it to
    ``out`` from the files of benchmark ``built_from``, ``source(name)`` giving each one's checked path."""

    name: str
    sha256: str
    url: str | None = None
    built_from: str | None = None
    build: Callable[[Callable[[str], Path], Path], object] | None = None


@dataclass(frozen=True)
class Benchmark:
    """A benchmark's files with their provenance: ``licence`` as its authors state it."""

    name: str
    title: str
    licence: str
    citation: str
    source: str
    files: tuple[DataFile, ...] = field(default_factory=tuple)

    def file(self, name: str) -> DataFile:
        for f in self.files:
            if f.name == name:
                return f
        raise ValueError(f"benchmark {self.name!r} has no file {name!r} "
                         f"(its files: {', '.join(f.name for f in self.files)})")
