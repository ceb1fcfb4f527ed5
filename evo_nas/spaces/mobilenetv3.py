"""A MobileNetV3-style search space (Howard et al., 2019, arXiv 1905.02244, sections 4-5, table 1).

MnasNet-style blocks around MobileNetV3-Large's layout: per block the kernel, the expanded width
(a multiplier of the block's reference expanded channels, rounded to the channel divisor), the SE
ratio (SE width = expanded / 4 rounded to a multiple of 8, ReLU, hard-sigmoid gate) and the
activation (ReLU or h-swish). Fixed: the h-swish stem, each block's output channels, layers and
stride, and the efficient last stage (1x1 conv, pool, 1x1 conv without BN, classifier).
"""
from __future__ import annotations

from dataclasses import dataclass

from ._common import MacroSpace, check_frame
from .arch import Architecture
from .blocks import ACT_CODES, BlockSpec
from .space import SpaceError, _need, register_space_type

FACTORS = ("kernel", "expansion", "se_ratio", "act")


@dataclass(frozen=True)
class RefBlock:
    expanded: int
    filters: int
    layers: int
    stride: int
    choices: dict


def _check_choices(choices: dict, where: str) -> dict:
    out = {}
    for factor in FACTORS:
        vals = choices.get(factor)
        if not isinstance(vals, list) or not vals or len(set(map(str, vals))) != len(vals):
            raise SpaceError(f"{where}: choices.{factor} must be a non-empty list without duplicates, got {vals!r}")
        for v in vals:
            ok = {"kernel": lambda x: isinstance(x, int) and x >= 1 and x % 2 == 1,
                  "expansion": lambda x: isinstance(x, (int, float)) and x > 0,
                  "se_ratio": lambda x: isinstance(x, (int, float)) and 0 <= x <= 1,
                  "act": lambda x: x in ACT_CODES}[factor](v)
            if not ok or isinstance(v, bool):
                raise SpaceError(f"{where}: choices.{factor}: invalid value {v!r}")
        out[factor] = list(vals)
    unknown = set(choices) - set(FACTORS)
    if unknown:
        raise SpaceError(f"{where}: unknown choice {sorted(unknown)[0]!r} (expected {', '.join(FACTORS)})")
    return out


class MobileNetV3Space(MacroSpace):
    """Kernel, expanded width, SE and activation per block of a MobileNetV3-Large layout."""

    type_name = "mobilenetv3"
    scale_head_down = True

    def __init__(self, definition: dict, where: str = "space"):
        d = dict(definition)
        self._read_globals(d, where, act="hswish", se_style="mobilenetv3")
        choices = d.get("choices", {})
        if not isinstance(choices, dict):
            raise SpaceError(f"{where}: [choices] must be a table")
        self.blocks: list[RefBlock] = []
        for bw, b in self._tables(d, "blocks", where, "block"):
            ref = RefBlock(_need(b, "expanded", int, bw), _need(b, "filters", int, bw), _need(b, "layers", int, bw, 1),
                           _need(b, "stride", int, bw), _check_choices({**choices, **b.get("choices", {})}, bw))
            if ref.expanded < 1 or ref.filters < 1 or ref.layers < 1 or ref.stride not in (1, 2):
                raise SpaceError(f"{bw}: expanded/filters/layers/stride = "
                                 f"{ref.expanded}/{ref.filters}/{ref.layers}/{ref.stride} is invalid")
            self.blocks.append(ref)
        self.cardinalities = tuple(len(b.choices[f]) for b in self.blocks for f in FACTORS)
        self.block_slices = tuple(slice(i * len(FACTORS), (i + 1) * len(FACTORS)) for i in range(len(self.blocks)))
        self.gene_names = tuple(f"block {n} {f}" for n in range(1, len(self.blocks) + 1) for f in FACTORS)

    def block(self, ref: RefBlock, in_ch: int, kernel: int, expansion: float, se_ratio: float, act: str) -> BlockSpec:
        """The block that one set of decisions builds, canonical."""
        return BlockSpec("ir", ref.layers, kernel, ref.stride, in_ch, self.channels(ref.filters),
                         mid_ch=self.channels(ref.expanded * expansion), se_ratio=float(se_ratio),
                         act=act).canonical()

    def decode(self, genes) -> Architecture:
        self.validate(tuple(genes))
        blocks, in_ch = [], self.stem.out_ch
        for ref, s in zip(self.blocks, self.block_slices):
            values = [ref.choices[f][g] for f, g in zip(FACTORS, genes[s])]
            blocks.append(self.block(ref, in_ch, *values))
            in_ch = blocks[-1].out_ch
        return self.base_architecture(blocks)

    def encode(self, arch: Architecture) -> tuple[int, ...]:
        check_frame(self, arch, len(self.blocks))
        genes: list[int] = []
        for n, (ref, b) in enumerate(zip(self.blocks, arch.blocks), 1):
            b = b.canonical()
            where = f"block {n} ({b.to_string()})"
            if b.act is None:
                b = BlockSpec(**{**b.__dict__, "act": arch.act}).canonical()
            genes += self._encode_block(ref, b, where)
        return tuple(genes)

    def _encode_block(self, ref: RefBlock, b: BlockSpec, where: str) -> list[int]:
        c = ref.choices
        # expansion choices nearest to the reference first: duplicates after rounding map to one gene
        exp_order = sorted(range(len(c["expansion"])), key=lambda i: abs(c["expansion"][i] - 1.0))
        k, s, a = (c[f].index(v) if v in c[f] else None for f, v in
                   (("kernel", b.kernel), ("se_ratio", b.se_ratio), ("act", b.act)))
        if None not in (k, s, a):
            for e in exp_order:
                if self.block(ref, b.in_ch, c["kernel"][k], c["expansion"][e], c["se_ratio"][s], c["act"][a]) == b:
                    return [k, e, s, a]
        out = self.channels(ref.filters)
        mids = sorted({self.channels(ref.expanded * x) for x in c["expansion"]})
        if (b.stride, b.out_ch, b.repeats) != (ref.stride, out, ref.layers):
            problem = (f"stride/out/layers {b.stride}/{b.out_ch}/{b.repeats} differ from the space's "
                       f"{ref.stride}/{out}/{ref.layers}")
        elif b.kernel not in c["kernel"]:
            problem = f"kernel {b.kernel} is not among the choices {c['kernel']}"
        elif b.se_ratio not in c["se_ratio"]:
            problem = f"se_ratio {b.se_ratio:g} is not among the choices {c['se_ratio']}"
        elif b.act not in c["act"]:
            problem = f"activation {b.act} is not among the choices {c['act']}"
        else:
            problem = (f"expanded channels {b.mid(b.in_ch)} not reachable from reference {ref.expanded} "
                       f"(choices give {mids}), or a skip/groups setting outside the space")
        raise ValueError(f"{where}: {problem}")

    def describe_gene(self, index: int, value: int) -> str:
        block, factor = divmod(index, len(FACTORS))
        return str(self.blocks[block].choices[FACTORS[factor]][value])


register_space_type(MobileNetV3Space)
