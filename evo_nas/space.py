"""Search spaces as data, and genomes over them.

A space file (TOML, in ``genomes/``) declares a macro-architecture and the choices per block;
``load_space`` turns it into a ``Space``. A ``Genome`` is a fixed-length tuple of integer genes,
one per decision, grouped by block, each with its own cardinality. The first space type is
MnasNet's factorized hierarchical space (Tan et al., 2019, arXiv 1807.11626, section 4):
per block a conv op, kernel, SE ratio, skip op, filter multiplier and layer-count delta around
a reference backbone (MobileNetV2). Neither spaces nor genomes import torch.
"""
from __future__ import annotations

import re
import tomllib
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable, ClassVar

import numpy as np

from . import hashing
from .arch import (ACT_CODES, SE_STYLES, SKIPS, Architecture, BlockSpec, HeadSpec, StemSpec,
                   make_divisible, parse_blocks)

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


# -- the MnasNet factorized hierarchical space ---------------------------------------------------

def parse_op(name: str) -> tuple[str, float]:
    """``conv`` -> regular conv, ``sepconv`` -> depthwise-separable, ``mbconvE`` -> MBConv, expansion E."""
    if name == "conv":
        return "cn", 1.0
    if name == "sepconv":
        return "ds", 1.0
    m = re.fullmatch(r"mbconv(\d+(?:\.\d+)?)", name)
    if m:
        return "ir", float(m.group(1))
    raise ValueError(f"unknown conv op {name!r} (expected conv, sepconv or mbconvE such as mbconv6)")


def op_name(op: str, expansion: float) -> str:
    if op == "cn":
        return "conv"
    if op == "ds":
        return "sepconv"
    return f"mbconv{expansion:g}"


FACTORS = ("op", "kernel", "se_ratio", "skip", "filters", "layers")


@dataclass(frozen=True)
class RefBlock:
    filters: int
    layers: int
    stride: int
    choices: dict = field(default_factory=dict)


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


def _check_choices(choices: dict, where: str) -> dict:
    out = {}
    for factor in FACTORS:
        vals = choices.get(factor)
        if not isinstance(vals, list) or not vals:
            raise SpaceError(f"{where}: choices.{factor} must be a non-empty list, got {vals!r}")
        if len(set(map(str, vals))) != len(vals):
            raise SpaceError(f"{where}: choices.{factor} = {vals!r} has duplicates")
        for v in vals:
            try:
                if factor == "op":
                    parse_op(v)
                elif factor == "kernel" and (not isinstance(v, int) or v < 1 or v % 2 == 0):
                    raise ValueError(f"kernel {v!r} must be an odd int")
                elif factor == "se_ratio" and not (isinstance(v, (int, float)) and 0 <= v <= 1):
                    raise ValueError(f"se ratio {v!r} must be in [0, 1]")
                elif factor == "skip" and v not in SKIPS:
                    raise ValueError(f"skip {v!r} must be one of {', '.join(SKIPS)}")
                elif factor == "filters" and not (isinstance(v, (int, float)) and v > 0):
                    raise ValueError(f"filter multiplier {v!r} must be > 0")
                elif factor == "layers" and not isinstance(v, int):
                    raise ValueError(f"layer delta {v!r} must be an int")
            except ValueError as e:
                raise SpaceError(f"{where}: choices.{factor}: {e}") from None
        out[factor] = list(vals)
    unknown = set(choices) - set(FACTORS)
    if unknown:
        raise SpaceError(f"{where}: unknown choice {sorted(unknown)[0]!r} (expected {', '.join(FACTORS)})")
    return out


class FactorizedSpace(Space):
    """MnasNet's factorized hierarchical space: six decisions per block, all layers of a block alike."""

    type_name = "factorized"

    def __init__(self, definition: dict, where: str = "space"):
        d = dict(definition)
        self.where = where
        self.name = _need(d, "name", str, where)
        self.resolution = _need(d, "resolution", int, where, 224)
        self.in_channels = _need(d, "in_channels", int, where, 3)
        self.num_classes = _need(d, "num_classes", int, where, 1000)
        self.width_multiplier = _need(d, "width_multiplier", float, where, 1.0)
        self.divisor = _need(d, "channel_divisor", int, where, 8)
        self.min_layers = _need(d, "min_layers", int, where, 1)
        self.act = _need(d, "act", str, where, "relu")
        self.se_style = _need(d, "se_style", str, where, "mnasnet")
        for key, val, ok in (("resolution", self.resolution, self.resolution >= 8),
                             ("in_channels", self.in_channels, self.in_channels >= 1),
                             ("num_classes", self.num_classes, self.num_classes >= 2),
                             ("width_multiplier", self.width_multiplier, self.width_multiplier > 0),
                             ("channel_divisor", self.divisor, self.divisor >= 1),
                             ("min_layers", self.min_layers, self.min_layers >= 1),
                             ("act", self.act, self.act in ACT_CODES),
                             ("se_style", self.se_style, self.se_style in SE_STYLES)):
            if not ok:
                raise SpaceError(f"{where}: {key} = {val!r} is invalid")
        stem = d.get("stem", {})
        head = d.get("head", {})
        if not isinstance(stem, dict) or not isinstance(head, dict):
            raise SpaceError(f"{where}: stem and head must be tables")
        self.stem = StemSpec(
            out_ch=make_divisible(_need(stem, "filters", int, f"{where} [stem]", 32) * self.width_multiplier, self.divisor),
            kernel=_need(stem, "kernel", int, f"{where} [stem]", 3),
            stride=_need(stem, "stride", int, f"{where} [stem]", 2),
        )
        head_filters = _need(head, "filters", int, f"{where} [head]", 1280)
        if self.width_multiplier > 1:
            head_filters = make_divisible(head_filters * self.width_multiplier, self.divisor)
        self.head = HeadSpec(filters=head_filters,
                             dropout=_need(head, "dropout", float, f"{where} [head]", 0.2),
                             post_filters=head.get("post_filters", 0))
        if not 0 <= self.head.dropout < 1:
            raise SpaceError(f"{where}: head.dropout = {self.head.dropout} must be in [0, 1)")
        choices = _check_choices(d.get("choices", {}), where)
        blocks = d.get("blocks")
        if not isinstance(blocks, list) or not blocks:
            raise SpaceError(f"{where}: [[blocks]] must list at least one reference block")
        self.blocks = []
        for n, b in enumerate(blocks, 1):
            bw = f"{where} block {n}"
            if not isinstance(b, dict):
                raise SpaceError(f"{bw}: must be a table")
            merged = {**choices, **b.get("choices", {})}
            ref = RefBlock(filters=_need(b, "filters", int, bw), layers=_need(b, "layers", int, bw),
                           stride=_need(b, "stride", int, bw), choices=_check_choices(merged, bw))
            if ref.filters < 1 or ref.layers < 1 or ref.stride not in (1, 2):
                raise SpaceError(f"{bw}: filters/layers/stride = {ref.filters}/{ref.layers}/{ref.stride} is invalid")
            self.blocks.append(ref)
        self.definition = {k: v for k, v in d.items()}
        self.definition.update(resolution=self.resolution, in_channels=self.in_channels,
                               num_classes=self.num_classes, width_multiplier=self.width_multiplier)
        self.cardinalities = tuple(len(b.choices[f]) for b in self.blocks for f in FACTORS)
        self.block_slices = tuple(slice(i * len(FACTORS), (i + 1) * len(FACTORS)) for i in range(len(self.blocks)))
        self.gene_names = tuple(f"block {n} {f}" for n in range(1, len(self.blocks) + 1) for f in FACTORS)

    def _out_channels(self, ref: RefBlock, mult: float) -> int:
        return make_divisible(ref.filters * mult * self.width_multiplier, self.divisor)

    def _layers(self, ref: RefBlock, delta: int) -> int:
        return max(self.min_layers, ref.layers + delta)

    def decode(self, genes) -> Architecture:
        self.validate(tuple(genes))
        blocks = []
        in_ch = self.stem.out_ch
        for ref, s in zip(self.blocks, self.block_slices):
            g = dict(zip(FACTORS, genes[s]))
            c = ref.choices
            op, exp = parse_op(c["op"][g["op"]])
            out = self._out_channels(ref, c["filters"][g["filters"]])
            blocks.append(BlockSpec(
                op=op, repeats=self._layers(ref, c["layers"][g["layers"]]), kernel=c["kernel"][g["kernel"]],
                stride=ref.stride, in_ch=in_ch, out_ch=out, expansion=exp,
                se_ratio=float(c["se_ratio"][g["se_ratio"]]), skip=c["skip"][g["skip"]],
            ).canonical())
            in_ch = out
        return self.base_architecture(blocks)

    def encode(self, arch: Architecture) -> tuple[int, ...]:
        if len(arch.blocks) != len(self.blocks):
            raise ValueError(f"architecture has {len(arch.blocks)} blocks, space {self.name!r} has {len(self.blocks)}")
        if arch.stem.out_ch != self.stem.out_ch:
            raise ValueError(f"stem has {arch.stem.out_ch} filters, space {self.name!r} has {self.stem.out_ch}")
        genes = []
        for n, (ref, b) in enumerate(zip(self.blocks, arch.blocks), 1):
            b = b.canonical()
            c = ref.choices
            where = f"block {n} ({b.to_string()})"
            if b.stride != ref.stride:
                raise ValueError(f"{where}: stride {b.stride} differs from the space's {ref.stride}")
            if b.mid_ch is not None or b.groups != 1 or b.act is not None or b.keep_expand:
                raise ValueError(f"{where}: explicit expansion channels, groups, activation or kept expand "
                                 f"are not decisions of space {self.name!r}")
            name = op_name(b.op, b.expansion)
            ops = [op_name(*parse_op(o)) for o in c["op"]]
            if name not in ops:
                raise ValueError(f"{where}: op {name} is not among the choices {ops}")
            reachable = {}
            for i, f in sorted(enumerate(c["filters"]), key=lambda t: abs(t[1] - 1.0)):
                reachable.setdefault(self._out_channels(ref, f), i)
            if b.out_ch not in reachable:
                raise ValueError(f"{where}: filters {b.out_ch} not reachable from reference {ref.filters} "
                                 f"(choices give {sorted(reachable)})")
            layers = {}
            for i, dl in sorted(enumerate(c["layers"]), key=lambda t: abs(t[1])):
                layers.setdefault(self._layers(ref, dl), i)
            if b.repeats not in layers:
                raise ValueError(f"{where}: layers {b.repeats} not reachable from reference {ref.layers} "
                                 f"(choices give {sorted(layers)})")
            for factor, val in (("kernel", b.kernel), ("se_ratio", b.se_ratio)):
                if val not in c[factor]:
                    raise ValueError(f"{where}: {factor} {val:g} is not among the choices {c[factor]}")
            skip = self._skip_gene(ref, b, c["skip"])
            if skip is None:
                raise ValueError(f"{where}: skip {b.skip} is not among the choices {c['skip']}")
            genes += [ops.index(name), c["kernel"].index(b.kernel), c["se_ratio"].index(b.se_ratio),
                      skip, reachable[b.out_ch], layers[b.repeats]]
        return tuple(genes)

    @staticmethod
    def _skip_gene(ref, block: BlockSpec, skips: list) -> int | None:
        """The first skip choice that builds ``block``'s shortcuts (identity preferred)."""
        from dataclasses import replace

        order = sorted(range(len(skips)), key=lambda i: ("identity", "none", "pool").index(skips[i]))
        for i in order:
            if replace(block, skip=skips[i]).canonical() == block:
                return i
        return None

    def describe_gene(self, index: int, value: int) -> str:
        block, factor = divmod(index, len(FACTORS))
        return str(self.blocks[block].choices[FACTORS[factor]][value])


SPACE_TYPES: dict[str, type[Space]] = {FactorizedSpace.type_name: FactorizedSpace}


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
