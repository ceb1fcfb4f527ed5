"""Space files and known architectures: ``genomes/*.toml`` loaded as spaces, published networks, genome arguments.

``load_space`` reads a space file (TOML, in ``genomes/``) and builds the ``Space`` subclass its
``type`` names (registered in ``evo_nas.spaces.space.SPACE_TYPES`` by the type's module; the
built-in types are imported here). ``load_known`` reads a published network (``genomes/known/NAME.toml``) on its
space; ``genome_argument`` and ``load_genome_or_architecture`` resolve a genome given on the
command line, literally or in a file. Nothing here imports torch.
"""
from __future__ import annotations

import difflib
import re
import tomllib
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Callable

from ..base.errors import MissingFile
from . import factorized, fbnet, mbconv, mobilenetv3, nb201, ofa_mbv3  # noqa: F401  (the built-in types)
from .arch import Architecture
from .blocks import parse_blocks
from .space import OVERRIDABLE, SPACE_TYPES, Genome, Space, SpaceError


def _genomes_dir() -> Path:
    """``genomes/`` of a source checkout, else the copy a wheel installs as ``evo_nas/genomes``."""
    here = Path(__file__).resolve().parent.parent
    checkout = here.parent / "genomes"
    return checkout if (checkout / "mnasnet.toml").is_file() else here / "genomes"


GENOMES_DIR = _genomes_dir()


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
        if Path(path).is_dir():
            raise IsADirectoryError(f"{what} file is a directory: {str(path)[:300]} (give the .toml file in it)")
        raise MissingFile(f"{what} file not found: {str(path)[:300]}")
    try:
        with open(path, "rb") as f:
            return tomllib.load(f)
    except tomllib.TOMLDecodeError as e:
        raise SpaceError(f"{path}: not valid TOML ({e}){_quoted_line(path, str(e))}") from None


def _quoted_line(path: Path, message: str) -> str:
    """``: line N is `text``` for the line a TOML error names (a duplicate key's error names only
    its position), or ""."""
    m = re.search(r"at line (\d+), column \d+\)", message)
    if m is None:
        return ""
    lines = path.read_text(errors="replace").splitlines()
    n = int(m.group(1))
    text = lines[n - 1].strip() if 0 < n <= len(lines) else ""
    return f": line {n} is `{text[:120]}`" if text else ""


def space_from_dict(d: dict, where: str = "space", **overrides) -> Space:
    kind = d.get("type", "factorized")
    if not isinstance(kind, str) or kind not in SPACE_TYPES:
        raise SpaceError(f"{where}: type = {kind!r} (expected one of {', '.join(SPACE_TYPES)})")
    space = SPACE_TYPES[kind](d, where)
    overrides = {k: v for k, v in overrides.items() if v is not None}
    return space.with_overrides(**overrides) if overrides else space


def load_space(name_or_path: str | Path = "mnasnet", **overrides) -> Space:
    """Load a space by name (``genomes/NAME.toml``) or path; overrides: resolution, num_classes, ..."""
    path = _resolve(name_or_path, GENOMES_DIR)
    if existing_file(path) is None and Path(name_or_path).suffix != ".toml" and not Path(path).is_dir():
        raise MissingFile(f"space {str(name_or_path)[:100]!r} is neither a file nor a space of "
                                f"{GENOMES_DIR} (known spaces: {', '.join(space_names())})")
    return space_from_dict(read_toml(path, "space"), str(path), **overrides)


@dataclass(frozen=True)
class KnownArchitecture:
    """A published network: its space, architecture, reference costs and, where published, its
    top-1 (fraction) and the target it was specialized for: a latency (ms) on ``device``, or a
    FLOPs budget (millions of multiply-adds, ``flops_target_m``)."""

    name: str
    space: Space
    architecture: Architecture
    params: int | None
    macs_m: float | None
    source: str
    top1: float | None = None
    latency_target_ms: float | None = None
    device: str | None = None
    flops_target_m: float | None = None

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
                             d.get("top1"), d.get("latency_target_ms"), d.get("device"), d.get("flops_target_m"))


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
            raise MissingFile(f"genome file not found: {text}")
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
                close = difflib.get_close_matches(s, known_names(), n=1) if "-" not in s else []
                if close:  # a bare word close to a known architecture's name
                    raise ValueError(f"{s!r} is not a known architecture (did you mean {close[0]!r}?) nor a "
                                     f"genome or block string") from None
                raise on_grid_error from None

    return space, genome_argument(text, parse)
