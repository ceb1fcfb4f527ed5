"""A block-wise MBConv space: expansion, kernel, layers and squeeze-excite per block of a fixed macro-architecture.

The space of Accel-NASBench (Ahmad et al., 2024, arXiv 2404.08005, appendix B): EfficientNet-B0's
layout (Tan & Le, 2019, arXiv 1905.11946, table 1), which is MnasNet's (Tan et al., 2019, arXiv
1807.11626), with four decisions per block, all layers of a block alike: the expansion ratio, the
depthwise kernel, the number of layers and whether the layers have an SE module. Only a block's
first layer has its stride and input channels; an identity shortcut joins every layer with stride 1
and equal channels; an expansion-1 layer has no expand conv.

``[space] type = "mbconv"``; ``genomes/anb.toml`` is Accel-NASBench's instance. A genome is 4
genes per block (in that order); every genome builds a different network, so every genome is
canonical. Its string is one token per block joined by ``-``, ``e<expansion>k<kernel>l<layers>``
with ``se`` appended when the block has SE, e.g. EfficientNet-B0 is
``e1k3l1se-e6k3l2se-e6k5l2se-e6k3l3se-e6k5l3se-e6k5l4se-e6k3l1se``. Imports no torch.
"""
from __future__ import annotations

import re
from dataclasses import dataclass

import numpy as np

from ._common import MacroSpace, check_frame
from .arch import Architecture
from .blocks import BlockSpec
from .space import SpaceError, _need, register_space_type

FACTORS = ("expansion", "kernel", "layers", "se")
_TOKEN = re.compile(r"e(\d+(?:\.\d+)?)k(\d+)l(\d+)(se)?")


@dataclass(frozen=True)
class RefBlock:
    filters: int
    stride: int
    choices: dict


def _check_choices(choices: dict, where: str) -> dict:
    ok = {"expansion": lambda x: isinstance(x, (int, float)) and x >= 1,
          "kernel": lambda x: isinstance(x, int) and x >= 1 and x % 2 == 1,
          "layers": lambda x: isinstance(x, int) and x >= 1,
          "se": lambda x: isinstance(x, bool)}
    out = {}
    for factor in FACTORS:
        vals = choices.get(factor)
        if not isinstance(vals, list) or not vals or len(set(map(str, vals))) != len(vals):
            raise SpaceError(f"{where}: choices.{factor} must be a non-empty list without duplicates, got {vals!r}")
        for v in vals:
            if not ok[factor](v) or (factor != "se" and isinstance(v, bool)):
                raise SpaceError(f"{where}: choices.{factor}: invalid value {v!r}")
        out[factor] = list(vals)
    unknown = set(choices) - set(FACTORS)
    if unknown:
        raise SpaceError(f"{where}: unknown choice {sorted(unknown)[0]!r} (expected {', '.join(FACTORS)})")
    return out


def _fmt(x) -> str:
    return f"{x:g}"


class MBConvSpace(MacroSpace):
    """Expansion, kernel, layers and SE per block of an EfficientNet-B0 / MnasNet layout (Accel-NASBench)."""

    type_name = "mbconv"

    def __init__(self, definition: dict, where: str = "space"):
        d = dict(definition)
        self._read_globals(d, where, act="relu", se_style="anb")
        self.se_ratio = _need(d, "se_ratio", float, where, 0.25)
        if not 0 < self.se_ratio <= 1:
            raise SpaceError(f"{where}: se_ratio = {self.se_ratio!r} must be in (0, 1]")
        choices = d.get("choices", {})
        if not isinstance(choices, dict):
            raise SpaceError(f"{where}: [choices] must be a table")
        self.blocks: list[RefBlock] = []
        for bw, b in self._tables(d, "blocks", where, "block"):
            extra = b.get("choices", {})
            if not isinstance(extra, dict):
                raise SpaceError(f"{bw}: choices must be a table")
            ref = RefBlock(_need(b, "filters", int, bw), _need(b, "stride", int, bw),
                           _check_choices({**choices, **extra}, bw))
            if ref.filters < 1 or ref.stride not in (1, 2):
                raise SpaceError(f"{bw}: filters/stride = {ref.filters}/{ref.stride} is invalid")
            self.blocks.append(ref)
        nf = len(FACTORS)
        self.cardinalities = tuple(len(b.choices[f]) for b in self.blocks for f in FACTORS)
        self.block_slices = tuple(slice(i * nf, (i + 1) * nf) for i in range(len(self.blocks)))
        self.gene_names = tuple(f"block {n} {f}" for n in range(1, len(self.blocks) + 1) for f in FACTORS)
        # the key token of every (block, choice index) per factor, for vectorized keys
        self._tokens = [[[self._token(f, v) for v in b.choices[f]] for f in FACTORS] for b in self.blocks]

    @staticmethod
    def _token(factor: str, value) -> str:
        if factor == "se":
            return "se" if value else ""
        return {"expansion": "e", "kernel": "k", "layers": "l"}[factor] + _fmt(value)

    def values(self, genes) -> list[dict]:
        """The decisions of each block of ``genes``: ``{"expansion", "kernel", "layers", "se"}``."""
        self.validate(tuple(genes))
        return [{f: ref.choices[f][g] for f, g in zip(FACTORS, genes[s])}
                for ref, s in zip(self.blocks, self.block_slices)]

    def decode(self, genes) -> Architecture:
        blocks, in_ch = [], self.stem.out_ch
        for ref, v in zip(self.blocks, self.values(genes)):
            blocks.append(BlockSpec("ir", v["layers"], v["kernel"], ref.stride, in_ch, self.channels(ref.filters),
                                    expansion=float(v["expansion"]),
                                    se_ratio=self.se_ratio if v["se"] else 0.0).canonical())
            in_ch = blocks[-1].out_ch
        return self.base_architecture(blocks)

    def encode(self, arch: Architecture) -> tuple[int, ...]:
        check_frame(self, arch, len(self.blocks))
        genes: list[int] = []
        for n, (ref, b) in enumerate(zip(self.blocks, arch.blocks), 1):
            b = b.canonical()
            where = f"block {n} ({b.to_string()})"
            out = self.channels(ref.filters)
            if (b.op not in ("ir", "ds") or b.stride != ref.stride or b.out_ch != out or b.mid_ch is not None
                    or b.groups != 1 or b.act is not None or b.keep_expand or b.skip == "pool"
                    or (b.skip == "none" and any(b.residual(i) != "none" for i in range(b.repeats)))):
                raise ValueError(f"{where}: not an MBConv block of space {self.name!r} "
                                 f"(stride {ref.stride}, {out} output channels, identity shortcuts)")
            if b.se_ratio not in (0.0, self.se_ratio):
                raise ValueError(f"{where}: se ratio {b.se_ratio:g} (the space's is {self.se_ratio:g})")
            genes += self._block_genes(n, ref, {"expansion": b.expansion, "kernel": b.kernel,
                                                "layers": b.repeats, "se": bool(b.se_ratio)})
        return tuple(genes)

    def _block_genes(self, n: int, ref: RefBlock, values: dict) -> list[int]:
        genes = []
        for f in FACTORS:
            c = ref.choices[f]
            v = values[f]
            if v not in c:
                shown = _fmt(v) if not isinstance(v, bool) else str(v).lower()
                raise ValueError(f"block {n}: {f} {shown} is not among the choices {c}")
            genes.append(c.index(v))
        return genes

    def canonical_genes(self, genes) -> tuple[int, ...]:
        self.validate(tuple(genes))
        return tuple(int(g) for g in genes)

    def canonical_array(self, X) -> np.ndarray:
        return np.asarray(X, dtype=np.int64).copy()

    def key(self, genes) -> str:
        return self.keys(np.asarray(genes, dtype=np.int64).reshape(1, -1))[0]

    def keys(self, C) -> list[str]:
        C = np.asarray(C, dtype=np.int64).reshape(-1, self.n_genes)
        cols = []
        for b, s in enumerate(self.block_slices):
            part = None
            for j, tokens in enumerate(self._tokens[b]):
                col = np.asarray(tokens, dtype=object)[C[:, s.start + j]]
                part = col if part is None else part + col
            cols.append(part)
        return ["-".join(row) for row in zip(*cols)] if len(C) else []

    def parse(self, text: str):
        """A genome from its string (``e6k3l2se-...``), its genes (``0,1,2,...``) or block strings;
        ``ValueError`` names the block and the bad value."""
        text = text.strip()
        if not re.match(r"e\d", text):
            return super().parse(text)
        tokens = text.split("-")
        if len(tokens) != len(self.blocks):
            raise ValueError(f"genome {text[:200]!r} has {len(tokens)} blocks, space {self.name!r} has "
                             f"{len(self.blocks)}")
        genes: list[int] = []
        for n, (ref, tok) in enumerate(zip(self.blocks, tokens), 1):
            m = _TOKEN.fullmatch(tok)
            if m is None:
                raise ValueError(f"block {n}: {tok[:60]!r} is not of the form e<expansion>k<kernel>l<layers> "
                                 f"with an optional se")
            e = float(m.group(1))
            values = {"expansion": int(e) if e.is_integer() else e, "kernel": int(m.group(2)),
                      "layers": int(m.group(3)), "se": m.group(4) is not None}
            genes += self._block_genes(n, ref, values)
        return self.genome(genes)

    def describe_gene(self, index: int, value: int) -> str:
        block, factor = divmod(index, len(FACTORS))
        v = self.blocks[block].choices[FACTORS[factor]][value]
        return str(v).lower() if isinstance(v, bool) else _fmt(v)


register_space_type(MBConvSpace)

__all__ = ["MBConvSpace", "FACTORS", "RefBlock"]
