"""Explicit architectures: a stem, the searched blocks and a head, expanded into concrete layers.

An ``Architecture`` is what ``evo_nas.networks.builder.build_model`` builds and the cost counters
count; its blocks are ``BlockSpec``s (``evo_nas.spaces.blocks``, with the block-string format) and
its string is theirs joined by ``-``.
"""
from __future__ import annotations

from dataclasses import dataclass, field, replace

from .blocks import ACT_CODES, BlockSpec

#: SE width and gate: "mnasnet" int(layer input x ratio), ReLU, sigmoid (MnasNet); "mobilenetv3" expanded x ratio
#: rounded to 8, ReLU, hard-sigmoid (MobileNetV3); "anb" MnasNet's width with a hard-sigmoid gate
#: (torchvision's EfficientNet MBConv with ReLU, as Accel-NASBench trains its networks)
SE_STYLES = ("mnasnet", "mobilenetv3", "anb")


def make_divisible(value: float, divisor: int = 8, min_value: int | None = None) -> int:
    """Round channels to a multiple of ``divisor``, never below 90% of ``value`` (MobileNetV2)."""
    min_value = min_value or divisor
    new = max(min_value, int(value + divisor / 2) // divisor * divisor)
    if new < 0.9 * value:
        new += divisor
    return new


def conv_out(size: int, kernel: int, stride: int) -> int:
    """Spatial size after a conv with 'same' padding ``kernel // 2``."""
    return (size + 2 * (kernel // 2) - kernel) // stride + 1


@dataclass(frozen=True)
class StemSpec:
    out_ch: int = 32
    kernel: int = 3
    stride: int = 2
    act: str | None = None


@dataclass(frozen=True)
class HeadSpec:
    """1x1 conv to ``filters`` (BN, act), global pool, optional 1x1 ``post_filters`` (no BN, with a bias
    unless ``post_bias`` is false, as in Once-for-All's feature-mix layer), FC."""

    filters: int = 1280
    dropout: float = 0.2
    act: str | None = None
    post_filters: int = 0
    post_bias: bool = True


@dataclass(frozen=True)
class LayerSpec:
    """One concrete layer with its input resolution: the unit of cost counting and latency tables."""

    op: str
    kernel: int
    stride: int
    in_ch: int
    out_ch: int
    mid_ch: int
    expand: bool
    se_ch: int
    se_style: str
    shortcut: str
    groups: int
    act: str
    resolution: int

    def key(self) -> str:
        return (f"{self.op}_k{self.kernel}_s{self.stride}_i{self.in_ch}_o{self.out_ch}_m{self.mid_ch}"
                f"{'_x' if self.expand else ''}_se{self.se_ch}{self.se_style[0] if self.se_ch else ''}"
                f"_{self.shortcut}_g{self.groups}_{self.act}_r{self.resolution}")


@dataclass(frozen=True)
class Architecture:
    """A complete network: what ``build_model`` builds and the cost counters count."""

    blocks: tuple[BlockSpec, ...]
    stem: StemSpec = field(default_factory=StemSpec)
    head: HeadSpec = field(default_factory=HeadSpec)
    resolution: int = 224
    in_channels: int = 3
    num_classes: int = 1000
    act: str = "relu"
    se_style: str = "mnasnet"

    def __post_init__(self):
        if not self.blocks:
            raise ValueError("an architecture needs at least one block")
        if self.act not in ACT_CODES:
            raise ValueError(f"activation {self.act!r} (expected one of {', '.join(ACT_CODES)})")
        if self.se_style not in SE_STYLES:
            raise ValueError(f"se_style {self.se_style!r} (expected one of {', '.join(SE_STYLES)})")
        prev = self.stem.out_ch
        for n, b in enumerate(self.blocks, 1):
            if b.in_ch != prev:
                raise ValueError(f"block {n} ({b.to_string()}): input channels {b.in_ch} "
                                 f"do not match the previous output {prev}")
            prev = b.out_ch

    def to_string(self) -> str:
        return "-".join(b.to_string() for b in self.blocks)

    def canonical(self) -> "Architecture":
        return replace(self, blocks=tuple(b.canonical() for b in self.blocks))

    @property
    def feature_channels(self) -> int:
        return self.blocks[-1].out_ch

    def block_act(self, block: BlockSpec) -> str:
        return block.act or self.act

    def se_channels(self, block: BlockSpec, in_ch: int, mid_ch: int) -> int:
        if not block.se_ratio:
            return 0
        if self.se_style == "mobilenetv3":
            return make_divisible(mid_ch * block.se_ratio, 8)
        return max(1, int(in_ch * block.se_ratio))

    def layers(self) -> list[LayerSpec]:
        """Every searched layer, expanded from the blocks, with its input resolution."""
        out = []
        res = conv_out(self.resolution, self.stem.kernel, self.stem.stride)
        for b in self.blocks:
            for i in range(b.repeats):
                cin, s = b.layer_in(i), b.layer_stride(i)
                mid = b.mid(cin) if b.op == "ir" else cin
                se_base = b.out_ch if b.op == "cn" else mid
                out.append(LayerSpec(
                    op=b.op, kernel=b.kernel, stride=s, in_ch=cin, out_ch=b.out_ch,
                    mid_ch=mid if b.op == "ir" else 0, expand=b.has_expand(cin),
                    se_ch=self.se_channels(b, cin, se_base) if b.op != "skip" else 0,
                    se_style=self.se_style, shortcut=b.residual(i), groups=b.groups,
                    act=self.block_act(b), resolution=res,
                ))
                res = conv_out(res, b.kernel, s) if b.op != "skip" else res
        return out

    def output_resolution(self) -> int:
        layers = self.layers()
        last = layers[-1]
        return conv_out(last.resolution, last.kernel, last.stride) if last.op != "skip" else last.resolution


def to_architecture(obj) -> Architecture:
    """Accept an ``Architecture`` or a ``Genome`` (anything with ``.architecture()``)."""
    if isinstance(obj, Architecture):
        return obj
    if hasattr(obj, "architecture"):
        return obj.architecture()
    raise TypeError(f"expected a Genome or Architecture, got {type(obj).__name__}")


__all__ = ["Architecture", "StemSpec", "HeadSpec", "LayerSpec", "make_divisible", "conv_out", "to_architecture"]
