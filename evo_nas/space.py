"""Search spaces as data, and genomes over them: the ``Space`` interface, ``Genome``, and loading spaces from files.

A space file (TOML, in ``genomes/``) declares a macro-architecture and the choices per block;
``load_space`` turns it into a ``Space`` of the file's ``type``, a subclass registered in
``SPACE_TYPES`` (``evo_nas.spaces.<type>``, imported on first use; the default type is MnasNet's
factorized hierarchical space, ``evo_nas.spaces.factorized``). A ``Genome`` is a fixed-length
tuple of integer genes, one per decision, grouped by block, each with its own cardinality.
Known architectures (``load_known``) and genome arguments of the CLI (``genome_argument``) are
read here too. Neither spaces nor genomes import torch.
"""
from __future__ import annotations

import re
import tomllib
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Callable, ClassVar

import numpy as np

from . import hashing
from .arch import Architecture, parse_blocks

def _genomes_dir() -> Path:
    """``genomes/`` of a source checkout, else the copy a wheel installs as ``evo_nas/genomes``."""
    here = Path(__file__).resolve().parent
    checkout = here.parent / "genomes"
    return checkout if (checkout / "mnasnet.toml").is_file() else here / "genomes"


GENOMES_DIR = _genomes_dir()


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
        bad = (X < 0) | (X >= np.array(self.cardinalities))
        if bad.any():
            row, col = map(int, np.argwhere(bad)[0])
            self.validate(tuple(int(v) for v in X[row]))
        return self.canonical_array(X)

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
        """A genome from its string form; ``ValueError`` names the block that is off-grid."""
        text = text.strip()
        if re.fullmatch(r"[\d,\s]+", text):
            return self.genome(int(t) for t in re.split(r"[,\s]+", text) if t)
        return Genome(self, self.encode(self.parse_architecture(text)))

    def fingerprint(self) -> str:
        """Hash of the resolved definition: part of every cache key."""
        return hashing.fingerprint(self.definition)

    def describe_gene(self, index: int, value: int) -> str:
        return str(value)


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


def existing_file(text: str | Path) -> Path | None:
    """``text`` as the path of an existing file, else None. A string too long or too odd to be a
    path (``ENAMETOOLONG``, a NUL byte) names no file: it is never an error here."""
    try:
        p = Path(text)
        return p if p.is_file() else None
    except (OSError, ValueError):
        return None


def _resolve(name_or_path: str | Path, folder: Path) -> Path:
    p = Path(name_or_path)
    if p.suffix == ".toml" or existing_file(p) is not None:
        return p
    return folder / f"{name_or_path}.toml"


def read_toml(path: Path, what: str) -> dict:
    if existing_file(path) is None:
        raise FileNotFoundError(f"{what} file not found: {str(path)[:300]}")
    try:
        with open(path, "rb") as f:
            return tomllib.load(f)
    except tomllib.TOMLDecodeError as e:
        raise SpaceError(f"{path}: not valid TOML ({e})") from None


def space_from_dict(d: dict, where: str = "space", **overrides) -> Space:
    kind = d.get("type", "factorized")
    if isinstance(kind, str) and kind not in SPACE_TYPES and re.fullmatch(r"[a-z][a-z0-9_]*", kind):
        import importlib

        try:
            importlib.import_module(f"{__package__}.spaces.{kind}")
        except ModuleNotFoundError as e:
            if e.name != f"{__package__}.spaces.{kind}":
                raise
    if kind not in SPACE_TYPES:
        from . import spaces  # noqa: F401  (the built-in types, so the error lists them)

        raise SpaceError(f"{where}: type = {kind!r} (expected one of {', '.join(SPACE_TYPES)})")
    space = SPACE_TYPES[kind](d, where)
    overrides = {k: v for k, v in overrides.items() if v is not None}
    return space.with_overrides(**overrides) if overrides else space


def load_space(name_or_path: str | Path = "mnasnet", **overrides) -> Space:
    """Load a space by name (``genomes/NAME.toml``) or path; overrides: resolution, num_classes, ..."""
    path = _resolve(name_or_path, GENOMES_DIR)
    return space_from_dict(read_toml(path, "space"), str(path), **overrides)


@dataclass(frozen=True)
class KnownArchitecture:
    """A published network: its space, architecture, reference costs and, where published, its
    top-1 (fraction) and the latency target it was specialized for (ms)."""

    name: str
    space: Space
    architecture: Architecture
    params: int | None
    macs_m: float | None
    source: str
    top1: float | None = None
    latency_target_ms: float | None = None

    def genome(self) -> Genome:
        """The genome, where the architecture lies on its space's grid (``ValueError`` otherwise)."""
        return Genome(self.space, self.space.encode(self.architecture))


def load_known(name_or_path: str | Path, **overrides) -> KnownArchitecture:
    """A known architecture from ``genomes/known/NAME.toml``: ``blocks`` (block strings) or ``genome``
    (a genome string) on a named ``space``, with optional space ``overrides`` (width, resolution)."""
    path = _resolve(name_or_path, GENOMES_DIR / "known")
    d = read_toml(path, "architecture")
    for key in ("name", "space"):
        if key not in d:
            raise SpaceError(f"{path}: missing key {key!r}")
    if ("blocks" in d) == ("genome" in d):
        raise SpaceError(f"{path}: give exactly one of 'blocks' and 'genome'")
    fixed = d.get("overrides", {})
    if not isinstance(fixed, dict) or set(fixed) - set(OVERRIDABLE):
        raise SpaceError(f"{path}: overrides = {fixed!r} may only set {', '.join(OVERRIDABLE)}")
    space = load_space(d["space"], **{**fixed, **{k: v for k, v in overrides.items() if v is not None}})
    try:
        if "genome" in d:
            arch = space.parse(d["genome"]).architecture()
        else:
            arch = space.base_architecture(parse_blocks("-".join(d["blocks"]))).canonical()
    except ValueError as e:
        raise SpaceError(f"{path}: {e}") from None
    return KnownArchitecture(d["name"], space, arch, d.get("params"), d.get("macs_m"), d.get("source", ""),
                             d.get("top1"), d.get("latency_target_ms"))


def known_names() -> list[str]:
    return sorted(p.stem for p in (GENOMES_DIR / "known").glob("*.toml"))


def space_names() -> list[str]:
    return sorted(p.stem for p in GENOMES_DIR.glob("*.toml"))


GENOME_FILE_SUFFIXES = (".txt", ".genome")


def known_file(text: str) -> Path | None:
    """The TOML file of the known architecture ``text`` names (``genomes/known/NAME.toml``, or a
    path ending in ``.toml``), else None."""
    if text.endswith(".toml"):
        return Path(text)
    if re.fullmatch(r"[A-Za-z0-9_.-]{1,128}", text):
        return existing_file(GENOMES_DIR / "known" / f"{text}.toml")
    return None


def genome_argument(text: str, parse: Callable[[str], Any]) -> Any:
    """``parse(text)`` for a genome given on the command line, or ``parse`` of a file's content.

    A string that parses is a genome, however long (FBNet's and MobileNetV3's run to 600
    characters). Otherwise, if ``text`` names an existing file (``.txt`` and ``.genome`` must),
    the file holds the genome; else the parse error stands.
    """
    if Path(text).suffix in GENOME_FILE_SUFFIXES:
        path = existing_file(text)
        if path is None:
            raise FileNotFoundError(f"genome file not found: {text}")
        return parse(path.read_text().strip())
    try:
        return parse(text)
    except ValueError:
        path = existing_file(text)
        if path is None:
            raise
    return parse(path.read_text().strip())


def load_genome_or_architecture(text: str, space: Space | None = None, **overrides) -> tuple[Space, Any]:
    """Resolve a CLI argument: a known-architecture name or file, a genome or block string, or a
    file holding one (see ``genome_argument``). Returns the space and a Genome or Architecture."""
    known = known_file(text)
    if known is not None:
        k = load_known(known, **overrides)
        return k.space, k.architecture
    space = space or load_space("mnasnet")

    def parse(s: str):
        try:
            return space.parse(s)
        except ValueError as on_grid_error:
            try:
                return space.parse_architecture(s).canonical()
            except ValueError:
                raise on_grid_error from None

    return space, genome_argument(text, parse)


def __getattr__(name: str):
    # checkpoints pickled before the factorized space moved to evo_nas.spaces.factorized name it here
    if name == "FactorizedSpace":
        from .spaces.factorized import FactorizedSpace

        return FactorizedSpace
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
