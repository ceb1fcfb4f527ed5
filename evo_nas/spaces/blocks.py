"""Blocks, the searched unit of a network, and the block-string format that names them.

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
from dataclasses import dataclass, replace

OPS = ("cn", "ds", "ir", "skip")
SKIPS = ("identity", "pool", "none")
ACTS = {"re": "relu", "r6": "relu6", "hs": "hswish"}
ACT_CODES = {v: k for k, v in ACTS.items()}


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


__all__ = ["BlockSpec", "parse_block", "parse_blocks", "check_text", "MAX_TEXT", "OPS", "SKIPS"]
