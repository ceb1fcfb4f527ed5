"""MnasNet's factorized hierarchical space (Tan et al., 2019, arXiv 1807.11626, section 4).

Per block a conv op, kernel, SE ratio, skip op, filter multiplier and layer-count delta around a
reference backbone (MobileNetV2); every layer of a block is alike. ``[space] type = "factorized"``
(the default of a space file); ``genomes/mnasnet.toml`` is the shipped instance. Imports no torch.
"""
from __future__ import annotations

import re
from dataclasses import dataclass, field

import numpy as np

from ._common import SETTINGS, check_frame, read_settings
from .arch import Architecture, HeadSpec, StemSpec, make_divisible
from .blocks import SKIPS, BlockSpec
from .space import Space, SpaceError, _need, register_space_type


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

# the shared global settings, with the least number of layers a block may shrink to
_SETTINGS = SETTINGS[:6] + (("min_layers", "min_layers", int, 1, lambda v: v >= 1),) + SETTINGS[6:]


@dataclass(frozen=True)
class RefBlock:
    filters: int
    layers: int
    stride: int
    choices: dict = field(default_factory=dict)


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


@register_space_type
class FactorizedSpace(Space):
    """MnasNet's factorized hierarchical space: six decisions per block, all layers of a block alike."""

    type_name = "factorized"

    def __init__(self, definition: dict, where: str = "space"):
        d = dict(definition)
        read_settings(self, d, where, _SETTINGS)
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

    def _block(self, ref: RefBlock, g: dict, in_ch: int) -> BlockSpec:
        """The canonical block of the decisions ``g`` (factor -> choice index) after ``in_ch`` channels."""
        c = ref.choices
        op, exp = parse_op(c["op"][g["op"]])
        return BlockSpec(
            op=op, repeats=self._layers(ref, c["layers"][g["layers"]]), kernel=c["kernel"][g["kernel"]],
            stride=ref.stride, in_ch=in_ch, out_ch=self._out_channels(ref, c["filters"][g["filters"]]),
            expansion=exp, se_ratio=float(c["se_ratio"][g["se_ratio"]]), skip=c["skip"][g["skip"]],
        ).canonical()

    def decode(self, genes) -> Architecture:
        self.validate(tuple(genes))
        blocks = []
        in_ch = self.stem.out_ch
        for ref, s in zip(self.blocks, self.block_slices):
            blocks.append(self._block(ref, dict(zip(FACTORS, genes[s])), in_ch))
            in_ch = blocks[-1].out_ch
        return self.base_architecture(blocks)

    def encode(self, arch: Architecture) -> tuple[int, ...]:
        check_frame(self, arch, len(self.blocks))
        genes = []
        for n, (ref, b) in enumerate(zip(self.blocks, arch.blocks), 1):
            genes += self._block_genes(n, ref, b.canonical())
        return tuple(genes)

    def canonical_array(self, X) -> np.ndarray:
        """Canonical genes of every row of ``X`` (N, n_genes), block by block: a block's canonical
        genes depend only on its own decisions and its input channels, so each (block, input
        channels, decisions) is decoded and encoded once per space object (the same genes as
        ``encode(decode(row))``, at a dictionary lookup a block)."""
        X = np.asarray(X, dtype=np.int64)
        if X.ndim == 1:
            return np.array(self.canonical_genes(X), dtype=np.int64)
        self.check_ranges(X)
        memo = self.__dict__.setdefault("_canonical_blocks", {})
        out = np.empty_like(X)
        for i, row in enumerate(X.tolist()):
            in_ch = self.stem.out_ch
            for n, (ref, s) in enumerate(zip(self.blocks, self.block_slices), 1):
                key = (n, in_ch, tuple(row[s]))
                hit = memo.get(key)
                if hit is None:
                    b = self._block(ref, dict(zip(FACTORS, row[s])), in_ch)
                    hit = memo[key] = (self._block_genes(n, ref, b), b.out_ch)
                out[i, s], in_ch = hit
        return out

    def _block_genes(self, n: int, ref: RefBlock, b: BlockSpec) -> list[int]:
        """The choice indices of the canonical block ``b`` at position ``n`` (from 1); ``ValueError``
        names a block the space cannot build."""
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
        return [ops.index(name), c["kernel"].index(b.kernel), c["se_ratio"].index(b.se_ratio),
                skip, reachable[b.out_ch], layers[b.repeats]]

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


__all__ = ["FactorizedSpace", "parse_op", "op_name", "FACTORS", "RefBlock"]
