"""Explicit architectures: stem, searched blocks and head, with the block-string format.

A block string follows timm's EfficientNet builder (``_efficientnet_builder.py``) but names
input and output channels explicitly, so any network of the family is expressible, on or off
a search space's grid, e.g. MnasNet-A1's third block ``ir_r3_k5_s2_e3_i24_o40_se0.25``.

Tokens, joined by ``_``: the op (``cn`` regular conv, ``ds`` depthwise-separable conv,
``ir`` MBConv / inverted residual, ``skip`` identity layer), ``r`` repeats, ``k`` kernel,
``s`` stride of the first layer, ``e`` expansion (``ir`` only) or ``x`` explicit expanded
channels, ``i``/``o`` channels, ``se`` squeeze-excite ratio, ``g`` groups of the 1x1 convs
(with channel shuffle), ``a`` activation (``re``, ``r6``, ``hs``), ``ke`` keep the expand conv
of an expansion-1 ``ir``, and the skip flags ``noskip`` / ``poolskip`` (default: identity
residual wherever stride is 1 and channels match). A whole architecture is its blocks joined
by ``-``.
"""
from __future__ import annotations

import re
from dataclasses import dataclass, field, replace

OPS = ("cn", "ds", "ir", "skip")
SKIPS = ("identity", "pool", "none")
ACTS = {"re": "relu", "r6": "relu6", "hs": "hswish"}
ACT_CODES = {v: k for k, v in ACTS.items()}
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


def _fmt(x: float) -> str:
    return f"{x:g}"


@dataclass(frozen=True)
class BlockSpec:
    """A group of ``repeats`` identical layers; only the first has ``stride`` and ``in_ch``."""

    op: str
    repeats: int
    kernel: int
    stride: int
    in_ch: int
    out_ch: int
    expansion: float = 1.0
    mid_ch: int | None = None
    se_ratio: float = 0.0
    skip: str = "identity"
    groups: int = 1
    act: str | None = None
    keep_expand: bool = False

    def __post_init__(self):
        errs = []
        if self.op not in OPS:
            errs.append(f"op {self.op!r} (expected one of {', '.join(OPS)})")
        if self.repeats < 1:
            errs.append(f"repeats {self.repeats} (must be >= 1)")
        if self.kernel < 1 or self.kernel % 2 == 0:
            errs.append(f"kernel {self.kernel} (must be odd and >= 1)")
        if self.stride not in (1, 2):
            errs.append(f"stride {self.stride} (must be 1 or 2)")
        if self.in_ch < 1 or self.out_ch < 1:
            errs.append(f"channels i{self.in_ch}/o{self.out_ch} (must be >= 1)")
        if self.expansion <= 0:
            errs.append(f"expansion {self.expansion} (must be > 0)")
        if not 0 <= self.se_ratio <= 1:
            errs.append(f"se ratio {self.se_ratio} (must be in [0, 1])")
        if self.skip not in SKIPS:
            errs.append(f"skip {self.skip!r} (expected one of {', '.join(SKIPS)})")
        if self.groups < 1:
            errs.append(f"groups {self.groups} (must be >= 1)")
        if self.act is not None and self.act not in ACT_CODES:
            errs.append(f"activation {self.act!r} (expected one of {', '.join(ACT_CODES)})")
        if self.op == "skip" and (self.stride != 1 or self.in_ch != self.out_ch):
            errs.append("skip layer needs stride 1 and in == out")
        if errs:
            raise ValueError("invalid block: " + "; ".join(errs))

    def layer_in(self, index: int) -> int:
        return self.in_ch if index == 0 else self.out_ch

    def layer_stride(self, index: int) -> int:
        return self.stride if index == 0 else 1

    def mid(self, in_ch: int) -> int:
        """Expanded channels of an ``ir`` layer with input ``in_ch``."""
        if self.mid_ch is not None:
            return self.mid_ch
        return int(round(in_ch * self.expansion))

    def has_expand(self, in_ch: int) -> bool:
        return self.op == "ir" and (self.mid(in_ch) != in_ch or self.keep_expand)

    def residual(self, index: int) -> str:
        """The shortcut of layer ``index``: 'identity', 'pool' or 'none'."""
        if self.skip == "none" or self.op == "skip":
            return "none"
        fits = self.layer_stride(index) == 1 and self.layer_in(index) == self.out_ch
        if fits:
            return "identity"
        return "pool" if self.skip == "pool" else "none"

    def canonical(self) -> "BlockSpec":
        """The same network with redundant fields normalized, so equal networks compare equal."""
        b = self
        if b.op == "skip":
            return BlockSpec("skip", b.repeats, 1, 1, b.in_ch, b.out_ch)
        if b.op == "ir" and b.mid_ch is not None and b.repeats == 1 and b.mid_ch == round(b.in_ch * b.expansion):
            b = replace(b, mid_ch=None)
        if b.op == "ir" and b.mid_ch is None and b.expansion == 1 and not b.keep_expand and b.groups == 1:
            b = replace(b, op="ds")
        if b.op != "ir":
            b = replace(b, expansion=1.0, mid_ch=None, keep_expand=False)
        if b.op == "ir" and b.mid_ch is not None:
            b = replace(b, expansion=1.0)
        if b.keep_expand and b.op == "ir" and all(b.mid(b.layer_in(i)) != b.layer_in(i) for i in range(b.repeats)):
            b = replace(b, keep_expand=False)
        shortcuts = [b.residual(i) for i in range(b.repeats)]
        if "pool" not in shortcuts and b.skip == "pool":
            b = replace(b, skip="identity")
        if "identity" not in shortcuts and "pool" not in shortcuts and b.skip == "identity":
            b = replace(b, skip="none")
        return b

    def to_string(self) -> str:
        b = self.canonical()
        if b.op == "skip":
            return f"skip_r{b.repeats}_i{b.in_ch}_o{b.out_ch}"
        parts = [b.op, f"r{b.repeats}", f"k{b.kernel}", f"s{b.stride}"]
        if b.op == "ir":
            parts.append(f"x{b.mid_ch}" if b.mid_ch is not None else f"e{_fmt(b.expansion)}")
        parts += [f"i{b.in_ch}", f"o{b.out_ch}"]
        if b.se_ratio:
            parts.append(f"se{_fmt(b.se_ratio)}")
        if b.groups != 1:
            parts.append(f"g{b.groups}")
        if b.keep_expand:
            parts.append("ke")
        if b.act is not None:
            parts.append(f"a{ACT_CODES[b.act]}")
        if b.skip == "none" and any(b.layer_stride(i) == 1 and b.layer_in(i) == b.out_ch for i in range(b.repeats)):
            parts.append("noskip")
        if b.skip == "pool":
            parts.append("poolskip")
        return "_".join(parts)

    @classmethod
    def from_string(cls, text: str) -> "BlockSpec":
        return parse_block(text)


_TOKEN = re.compile(r"^(se|r|k|s|e|x|i|o|g|a)(.+)$")


def parse_block(text: str) -> BlockSpec:
    """Parse one block string; raise ``ValueError`` naming the bad token."""
    tokens = text.strip().split("_")
    if not tokens or not tokens[0]:
        raise ValueError(f"empty block string {text!r}")
    kw: dict = {}
    op = tokens[0]
    rest = tokens[1:]
    if op not in OPS:
        if _TOKEN.match(op):
            op, rest = "ir", tokens
        else:
            raise ValueError(f"block {text!r}: unknown op {op!r} (expected one of {', '.join(OPS)})")
    kw["op"] = op
    skip = "identity"
    for tok in rest:
        if tok == "noskip":
            skip = "none"
            continue
        if tok == "poolskip":
            skip = "pool"
            continue
        if tok == "ke":
            kw["keep_expand"] = True
            continue
        m = _TOKEN.match(tok)
        if not m:
            raise ValueError(f"block {text!r}: unknown token {tok!r}")
        key, val = m.groups()
        try:
            if key == "a":
                if val not in ACTS:
                    raise ValueError
                kw["act"] = ACTS[val]
            elif key in ("se", "e"):
                kw[{"se": "se_ratio", "e": "expansion"}[key]] = float(val)
            else:
                name = {"r": "repeats", "k": "kernel", "s": "stride", "x": "mid_ch",
                        "i": "in_ch", "o": "out_ch", "g": "groups"}[key]
                kw[name] = int(val)
        except ValueError:
            raise ValueError(f"block {text!r}: bad value in token {tok!r}") from None
    kw["skip"] = skip
    if op == "skip":
        kw.setdefault("kernel", 1)
        kw.setdefault("stride", 1)
    kw.setdefault("repeats", 1)
    for need in ("kernel", "stride", "in_ch", "out_ch"):
        if need not in kw:
            token = {"kernel": "k", "stride": "s", "in_ch": "i", "out_ch": "o"}[need]
            raise ValueError(f"block {text!r}: missing token {token}<int> ({need})")
    try:
        return BlockSpec(**kw)
    except ValueError as e:
        raise ValueError(f"block {text!r}: {e}") from None


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


MAX_TEXT = 4096  # characters of a genome or architecture string (the longest canonical key is far shorter)


def check_text(text, what: str = "genome string") -> str:
    """``text`` when it can be a genome or architecture string: ``ValueError`` of one line (the
    value shortened) for a non-string, more than ``MAX_TEXT`` characters, or a non-ASCII
    character (``int`` would read the Arabic-Indic digit three as 3)."""
    if not isinstance(text, str):
        raise ValueError(f"{what} must be a string, got {type(text).__name__}")
    shown = repr(text if len(text) <= 60 else text[:60] + "...")
    if len(text) > MAX_TEXT:
        raise ValueError(f"{what} {shown} has {len(text)} characters (at most {MAX_TEXT})")
    if not text.isascii():
        bad = next(c for c in text if not c.isascii())
        raise ValueError(f"{what} {shown} has the non-ASCII character {bad!r} (U+{ord(bad):04X}); "
                         f"digits and names are ASCII")
    return text


def parse_blocks(text: str) -> tuple[BlockSpec, ...]:
    """Parse ``-``-joined (or whitespace/comma separated) block strings."""
    parts = [p for p in re.split(r"[\s,\-]+", check_text(text, "architecture string").strip()) if p]
    if not parts:
        raise ValueError(f"empty architecture string {text!r}")
    return tuple(parse_block(p) for p in parts)


__all__ = [
    "Architecture", "BlockSpec", "StemSpec", "HeadSpec", "LayerSpec", "make_divisible",
    "conv_out", "parse_block", "parse_blocks", "check_text", "MAX_TEXT", "to_architecture", "OPS", "SKIPS",
]
