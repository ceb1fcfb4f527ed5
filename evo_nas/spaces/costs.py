"""Analytic cost counters: parameters and MACs from an architecture, without building it.

Convention (shared/reference/architectures.md): parameters are every trainable tensor, BN
weight and bias included; MACs are Conv2d and Linear multiply-adds only, at batch 1.
"""
from __future__ import annotations

from dataclasses import dataclass

from .arch import Architecture, LayerSpec, conv_out, to_architecture


@dataclass(frozen=True)
class Cost:
    params: int = 0
    macs: int = 0

    def __add__(self, other: "Cost") -> "Cost":
        return Cost(self.params + other.params, self.macs + other.macs)


def conv_cost(cin: int, cout: int, kernel: int, out_res: int, groups: int = 1, bn: bool = True,
              bias: bool = False) -> Cost:
    weights = cout * (cin // groups) * kernel * kernel
    params = weights + (2 * cout if bn else 0) + (cout if bias else 0)
    return Cost(params, weights * out_res * out_res)


def se_cost(channels: int, reduced: int) -> Cost:
    return conv_cost(channels, reduced, 1, 1, bn=False, bias=True) + conv_cost(reduced, channels, 1, 1, bn=False, bias=True)


def layer_cost(s: LayerSpec) -> Cost:
    if s.op == "skip":
        return Cost()
    out_res = conv_out(s.resolution, s.kernel, s.stride)
    if s.op == "cn":
        c = conv_cost(s.in_ch, s.out_ch, s.kernel, out_res)
        se_on = s.out_ch
    elif s.op == "ds":
        c = conv_cost(s.in_ch, s.in_ch, s.kernel, out_res, groups=s.in_ch)
        c += conv_cost(s.in_ch, s.out_ch, 1, out_res, groups=s.groups)
        se_on = s.in_ch
    else:
        c = conv_cost(s.in_ch, s.mid_ch, 1, s.resolution, groups=s.groups) if s.expand else Cost()
        c += conv_cost(s.mid_ch, s.mid_ch, s.kernel, out_res, groups=s.mid_ch)
        c += conv_cost(s.mid_ch, s.out_ch, 1, out_res, groups=s.groups)
        se_on = s.mid_ch
    if s.se_ch:
        c += se_cost(se_on, s.se_ch)
    if s.shortcut == "pool" and s.in_ch != s.out_ch:
        c += conv_cost(s.in_ch, s.out_ch, 1, out_res)
    return c


def stem_cost(a: Architecture) -> Cost:
    return conv_cost(a.in_channels, a.stem.out_ch, a.stem.kernel, conv_out(a.resolution, a.stem.kernel, a.stem.stride))


def head_cost(a: Architecture) -> Cost:
    h = a.head
    c = conv_cost(a.feature_channels, h.filters, 1, a.output_resolution())
    width = h.filters
    if h.post_filters:
        c += conv_cost(h.filters, h.post_filters, 1, 1, bn=False, bias=h.post_bias)
        width = h.post_filters
    return c + Cost(width * a.num_classes + a.num_classes, width * a.num_classes)


def count(arch) -> Cost:
    """Total parameters and MACs of a ``Genome`` or ``Architecture``."""
    a = to_architecture(arch)
    total = stem_cost(a) + head_cost(a)
    for layer in a.layers():
        total += layer_cost(layer)
    return total


def thop_macs(arch) -> int:
    """MACs as thop (``thop.profile``, used by Accel-NASBench's ``model_info``) counts a network in
    training mode: ``count(arch).macs`` plus 4 per BatchNorm output element (affine, 2 x 2) and, per
    global average pool (SE and head), (pooled area + 1) per output channel. Batch 1."""
    a = to_architecture(arch)
    extra = 0
    res = conv_out(a.resolution, a.stem.kernel, a.stem.stride)
    extra += 4 * a.stem.out_ch * res * res
    for s in a.layers():
        if s.op == "skip":
            continue
        out_res = conv_out(s.resolution, s.kernel, s.stride)
        bn = s.out_ch * out_res ** 2
        if s.op == "ir":
            bn += (s.mid_ch * s.resolution ** 2 if s.expand else 0) + s.mid_ch * out_res ** 2
            se_on = s.mid_ch
        elif s.op == "ds":
            bn += s.in_ch * out_res ** 2
            se_on = s.in_ch
        else:
            se_on = s.out_ch
        if s.shortcut == "pool" and s.in_ch != s.out_ch:
            bn += s.out_ch * out_res ** 2
        extra += 4 * bn + ((out_res ** 2 + 1) * se_on if s.se_ch else 0)
    out_res = a.output_resolution()
    extra += 4 * a.head.filters * out_res ** 2 + (out_res ** 2 + 1) * a.head.filters
    return count(a).macs + extra
