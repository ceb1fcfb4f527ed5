"""Search spaces as data, and genomes over them: the ``Space`` interface, ``Genome`` and the registry of space types.

A space file (TOML, in ``genomes/``; loaded by ``evo_nas.spaces.loader.load_space``) declares a
macro-architecture and the choices per block; its ``type`` names a ``Space`` subclass registered
in ``SPACE_TYPES`` (``evo_nas.spaces.<type>``, imported by the loader; the default type is
MnasNet's factorized hierarchical space, ``evo_nas.spaces.factorized``). A ``Genome`` is a
fixed-length tuple of integer genes, one per decision, grouped by block, each with its own
cardinality. Neither spaces nor genomes import torch.
"""
from __future__ import annotations

import re
from dataclasses import dataclass
from typing import ClassVar

import numpy as np

from ..base import hashing
from .arch import Architecture
from .blocks import check_text, parse_blocks

OVERRIDABLE = ("resolution", "in_channels", "num_classes", "width_multiplier")


class SpaceError(ValueError):
    """An invalid space definition; the message names the file and the bad value."""


@dataclass(frozen=True, eq=False)
class Genome:
    """An immutable point of a space: ``genes[i]`` is in ``range(space.cardinalities[i])``."""

    space: "Space"
    genes: tuple[int, ...]

    def __post_init__(self):
        object.__setattr__(self, "genes", tuple(int(g) for g in self.genes))
        self.space.validate(self.genes)

    def __eq__(self, other):
        return isinstance(other, Genome) and self.genes == other.genes and self.space.name == other.space.name

    def __hash__(self):
        return hash((self.space.name, self.genes))

    def __repr__(self):
        return f"Genome({self.space.name}, {self.key})"

    def __str__(self):
        return self.key

    @classmethod
    def _from_canonical(cls, space: "Space", genes: tuple[int, ...], key: str | None = None) -> "Genome":
        """A genome of genes already validated and canonical (``Space.genomes``): no checks, and its
        key (when not given) needs no canonicalization."""
        g = object.__new__(cls)
        g.__dict__.update(space=space, genes=genes, _canonical=True)
        if key is not None:
            g.__dict__["_key"] = key
        return g

    def architecture(self) -> Architecture:
        return self.space.decode(self.genes)

    def canonical(self) -> "Genome":
        return Genome(self.space, self.space.canonical_genes(self.genes))

    @property
    def key(self) -> str:
        """The canonical string: equal for every genome that builds the same network."""
        key = self.__dict__.get("_key")
        if key is None:
            genes = self.genes if self.__dict__.get("_canonical") else self.space.canonical_genes(self.genes)
            key = self.space.key(genes)
            object.__setattr__(self, "_key", key)
        return key

    @property
    def blocks(self) -> tuple[tuple[int, ...], ...]:
        return tuple(self.genes[s] for s in self.space.block_slices)


class Space:
    """Base class: a space is data; subclasses decode genes into an ``Architecture``."""

    type_name: ClassVar[str] = ""

    name: str
    definition: dict
    cardinalities: tuple[int, ...]
    block_slices: tuple[slice, ...]
    gene_names: tuple[str, ...]

    def decode(self, genes) -> Architecture:
        raise NotImplementedError

    def encode(self, arch: Architecture) -> tuple[int, ...]:
        raise NotImplementedError

    def base_architecture(self, blocks) -> Architecture:
        """An architecture with this space's stem, head and conventions around ``blocks``."""
        return Architecture(blocks=tuple(blocks), stem=self.stem, head=self.head, resolution=self.resolution,
                            in_channels=self.in_channels, num_classes=self.num_classes, act=self.act,
                            se_style=self.se_style)

    def with_overrides(self, **kw) -> "Space":
        """The same space at another resolution, input channels, class count or width."""
        bad = set(kw) - set(OVERRIDABLE)
        if bad:
            raise SpaceError(f"{self.where}: cannot override {sorted(bad)[0]!r}")
        d = dict(self.definition)
        d.update({k: v for k, v in kw.items() if v is not None})
        return type(self)(d, self.where)

    # -- shared behaviour -------------------------------------------------------------------
    @property
    def n_genes(self) -> int:
        return len(self.cardinalities)

    @property
    def n_blocks(self) -> int:
        return len(self.block_slices)

    def validate(self, genes) -> None:
        if len(genes) != self.n_genes:
            raise ValueError(f"genome has {len(genes)} genes, space {self.name!r} needs {self.n_genes}")
        for i, (g, c) in enumerate(zip(genes, self.cardinalities)):
            if not 0 <= g < c:
                raise ValueError(f"{self.gene_names[i]} = {g} is out of range [0, {c - 1}] "
                                 f"in space {self.name!r}")

    def genome(self, genes) -> Genome:
        return Genome(self, tuple(genes))

    def genomes(self, X) -> list[Genome]:
        """Genomes of the rows of the integer array ``X`` (N, n_genes), canonicalized in one
        vectorized pass; ``ValueError`` names the first gene out of range."""
        return [Genome._from_canonical(self, tuple(row)) for row in self.canonical_rows(X).tolist()]

    def canonical_rows(self, X) -> np.ndarray:
        """The canonical genes of the rows of the integer array ``X`` (N, n_genes), after checking
        every gene's range (``ValueError`` names the first gene out of range)."""
        X = np.asarray(X, dtype=np.int64).reshape(-1, self.n_genes)
        self.check_ranges(X)
        return self.canonical_array(X)

    def check_ranges(self, X) -> None:
        """``ValueError`` (``validate``'s message) naming the first gene of the integer array ``X``
        (N, n_genes) outside its range."""
        bad = (X < 0) | (X >= np.array(self.cardinalities))
        if bad.any():
            self.validate(tuple(int(v) for v in X[int(np.argwhere(bad)[0][0])]))

    def keys(self, C) -> list[str]:
        """``key`` of every row of the canonical gene array ``C`` (N, n_genes)."""
        return [self.key(tuple(row)) for row in np.asarray(C).tolist()]

    def canonical_genes(self, genes) -> tuple[int, ...]:
        return self.encode(self.decode(genes))

    def canonical_array(self, X) -> np.ndarray:
        """Canonical genes of every row of the integer array ``X`` (N, n_genes)."""
        X = np.asarray(X, dtype=np.int64)
        if X.ndim == 1:
            return np.array(self.canonical_genes(X), dtype=np.int64)
        return np.array([self.canonical_genes(x) for x in X], dtype=np.int64).reshape(X.shape)

    def key(self, genes) -> str:
        """The canonical string of canonical ``genes``: by default the architecture's block strings."""
        return self.decode(genes).to_string()

    def sample(self, rng: np.random.Generator) -> Genome:
        return Genome(self, tuple(int(rng.integers(c)) for c in self.cardinalities))

    def parse_architecture(self, text: str) -> Architecture:
        """Block strings around this space's stem and head; may lie off the space's grid."""
        return self.base_architecture(parse_blocks(text))

    def parse(self, text: str) -> Genome:
        """A genome from its string form; ``ValueError`` names the block that is off-grid (or the text,
        shortened, when it is too long or not ASCII: ``check_text``)."""
        text = check_text(text).strip()
        if re.fullmatch(r"[\d,\s]+", text):
            return self.genome(int(t) for t in re.split(r"[,\s]+", text) if t)
        return Genome(self, self.encode(self.parse_architecture(text)))

    def fingerprint(self) -> str:
        """Hash of the resolved definition: part of every cache key."""
        return hashing.fingerprint(self.definition)

    def describe_gene(self, index: int, value: int) -> str:
        return str(value)

    @property
    def ordered(self) -> tuple[bool, ...]:
        """Per gene, whether its choices are ordered (kernel 3 < 5 < 7): a step to the next choice is
        then a small change, and an encoding may give the gene one ordinal column. Default: none."""
        return (False,) * self.n_genes

    def gene_active(self, X) -> np.ndarray:
        """(N, n_genes) bool: which genes of the canonical gene array ``X`` (N, n_genes) change the
        network built (a layer slot beyond a stage's depth builds nothing). Default: every gene."""
        return np.ones(np.shape(X), dtype=bool)


def _need(d: dict, key: str, kind, where: str, default=None):
    if key not in d:
        if default is not None:
            return default
        raise SpaceError(f"{where}: missing key {key!r}")
    v = d[key]
    if kind is float and isinstance(v, int) and not isinstance(v, bool):
        v = float(v)
    if not isinstance(v, kind) or isinstance(v, bool):
        raise SpaceError(f"{where}: {key} = {v!r} must be {kind.__name__}")
    return v


# type name -> Space subclass; a built-in type registers itself when ``evo_nas.spaces.<type>`` is imported
SPACE_TYPES: dict[str, type[Space]] = {}


def register_space_type(cls: type[Space]) -> type[Space]:
    SPACE_TYPES[cls.type_name] = cls
    return cls
