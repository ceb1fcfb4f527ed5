"""PyTorch builder: ``build_model(genome_or_architecture) -> nn.Module``.

Blocks follow the reference implementations of MobileNetV2 (Sandler et al., 2018), MnasNet
(Tan et al., 2019; tensorflow/tpu ``models/official/mnasnet``) and MobileNetV3 (Howard et al.,
2019): small typed modules in which an absent part is ``nn.Identity`` so every ``forward``
reads top to bottom.
"""
from __future__ import annotations

import torch
from torch import nn

from ..spaces.arch import Architecture, LayerSpec, conv_out, to_architecture

_ACTS = {"relu": nn.ReLU, "relu6": nn.ReLU6, "hswish": nn.Hardswish}


def make_act(name: str) -> nn.Module:
    return _ACTS[name](inplace=True)


class ConvBnAct(nn.Sequential):
    def __init__(self, cin: int, cout: int, kernel: int = 1, stride: int = 1, groups: int = 1,
                 act: str | None = "relu", bn: bool = True, bias: bool | None = None):
        super().__init__(
            nn.Conv2d(cin, cout, kernel, stride, kernel // 2, groups=groups, bias=not bn if bias is None else bias),
            nn.BatchNorm2d(cout) if bn else nn.Identity(),
            make_act(act) if act else nn.Identity(),
        )


class SqueezeExcite(nn.Module):
    """SE gate: MnasNet style (ReLU, sigmoid) or MobileNetV3 and Accel-NASBench style (ReLU, hard-sigmoid)."""

    def __init__(self, channels: int, reduced: int, gate: str = "sigmoid"):
        super().__init__()
        self.reduce = nn.Conv2d(channels, reduced, 1, bias=True)
        self.act = nn.ReLU(inplace=True)
        self.expand = nn.Conv2d(reduced, channels, 1, bias=True)
        self.gate = nn.Hardsigmoid() if gate == "hsigmoid" else nn.Sigmoid()

    def forward(self, x):
        s = x.mean((2, 3), keepdim=True)
        return x * self.gate(self.expand(self.act(self.reduce(s))))


class ChannelShuffle(nn.Module):
    def __init__(self, groups: int):
        super().__init__()
        self.groups = groups

    def forward(self, x):
        n, c, h, w = x.shape
        return x.view(n, self.groups, c // self.groups, h, w).transpose(1, 2).reshape(n, c, h, w)


class Shortcut(nn.Module):
    """Identity, or the pooling skip: average pool by the stride, then 1x1 conv + BN if channels change."""

    def __init__(self, cin: int, cout: int, stride: int, kind: str):
        super().__init__()
        self.pool = nn.AvgPool2d(stride, stride, ceil_mode=True) if kind == "pool" and stride > 1 else nn.Identity()
        self.proj = ConvBnAct(cin, cout, 1, act=None) if kind == "pool" and cin != cout else nn.Identity()

    def forward(self, x):
        return self.proj(self.pool(x))


class Layer(nn.Module):
    """One searched layer (regular conv, depthwise-separable, MBConv or skip) with its shortcut."""

    def __init__(self, spec: LayerSpec):
        super().__init__()
        s = spec
        gate = "hsigmoid" if s.se_style in ("mobilenetv3", "anb") else "sigmoid"
        self.residual = s.shortcut != "none"
        self.shortcut = Shortcut(s.in_ch, s.out_ch, s.stride, s.shortcut) if self.residual else nn.Identity()
        if s.op == "skip":
            self.body = nn.Identity()
        elif s.op == "cn":
            self.body = nn.Sequential(
                ConvBnAct(s.in_ch, s.out_ch, s.kernel, s.stride, act=s.act),
                SqueezeExcite(s.out_ch, s.se_ch, gate) if s.se_ch else nn.Identity(),
            )
        elif s.op == "ds":
            self.body = nn.Sequential(
                ConvBnAct(s.in_ch, s.in_ch, s.kernel, s.stride, groups=s.in_ch, act=s.act),
                SqueezeExcite(s.in_ch, s.se_ch, gate) if s.se_ch else nn.Identity(),
                ConvBnAct(s.in_ch, s.out_ch, 1, groups=s.groups, act=None),
            )
        else:
            shuffle = s.groups > 1 and s.expand
            self.body = nn.Sequential(
                ConvBnAct(s.in_ch, s.mid_ch, 1, groups=s.groups, act=s.act) if s.expand else nn.Identity(),
                ChannelShuffle(s.groups) if shuffle else nn.Identity(),
                ConvBnAct(s.mid_ch, s.mid_ch, s.kernel, s.stride, groups=s.mid_ch, act=s.act),
                SqueezeExcite(s.mid_ch, s.se_ch, gate) if s.se_ch else nn.Identity(),
                ConvBnAct(s.mid_ch, s.out_ch, 1, groups=s.groups, act=None),
            )

    def forward(self, x):
        y = self.body(x)
        return y + self.shortcut(x) if self.residual else y


class Head(nn.Module):
    def __init__(self, arch: Architecture):
        super().__init__()
        h = arch.head
        act = h.act or arch.act
        self.conv = ConvBnAct(arch.feature_channels, h.filters, 1, act=act)
        self.pool = nn.AdaptiveAvgPool2d(1)
        width = h.post_filters or h.filters
        self.post = ConvBnAct(h.filters, h.post_filters, 1, act=act, bn=False, bias=h.post_bias) if h.post_filters else nn.Identity()
        self.flatten = nn.Flatten(1)
        self.dropout = nn.Dropout(h.dropout) if h.dropout else nn.Identity()
        self.classifier = nn.Linear(width, arch.num_classes)

    def forward(self, x):
        return self.classifier(self.dropout(self.flatten(self.post(self.pool(self.conv(x))))))


class Network(nn.Module):
    def __init__(self, arch: Architecture):
        super().__init__()
        st = arch.stem
        self.arch = arch
        self.stem = ConvBnAct(arch.in_channels, st.out_ch, st.kernel, st.stride, act=st.act or arch.act)
        self.layers = nn.Sequential(*(Layer(spec) for spec in arch.layers()))
        self.head = Head(arch)
        self._init_weights()

    def _init_weights(self):
        for m in self.modules():
            if isinstance(m, nn.Conv2d):
                nn.init.kaiming_normal_(m.weight, mode="fan_out")
                if m.bias is not None:
                    nn.init.zeros_(m.bias)
            elif isinstance(m, nn.BatchNorm2d):
                nn.init.ones_(m.weight)
                nn.init.zeros_(m.bias)
            elif isinstance(m, nn.Linear):
                nn.init.normal_(m.weight, 0, 0.01)
                nn.init.zeros_(m.bias)

    def forward(self, x):
        return self.head(self.layers(self.stem(x)))


def build_model(genome_or_arch, generator: torch.Generator | None = None) -> Network:
    """Build the network; weights are initialised from ``generator`` when one is given."""
    arch = to_architecture(genome_or_arch)
    if generator is None:
        return Network(arch)
    with torch.random.fork_rng(devices=[]):
        torch.manual_seed(int(torch.randint(0, 2**62, (1,), generator=generator)))
        return Network(arch)


def count_model(model: nn.Module, resolution: int, in_channels: int = 3) -> tuple[int, int]:
    """(parameters, MACs) of a built model, MACs from Conv2d and Linear hooks at batch 1."""
    macs = 0

    def conv_hook(m, inp, out):
        nonlocal macs
        macs += out.numel() * (m.in_channels // m.groups) * m.kernel_size[0] * m.kernel_size[1]

    def linear_hook(m, inp, out):
        nonlocal macs
        macs += m.in_features * m.out_features

    hooks = [m.register_forward_hook(conv_hook) for m in model.modules() if isinstance(m, nn.Conv2d)]
    hooks += [m.register_forward_hook(linear_hook) for m in model.modules() if isinstance(m, nn.Linear)]
    was_training = model.training
    model.eval()
    try:
        with torch.no_grad():
            model(torch.zeros(1, in_channels, resolution, resolution))
    finally:
        for h in hooks:
            h.remove()
        model.train(was_training)
    params = sum(p.numel() for p in model.parameters() if p.requires_grad)
    return params, macs


__all__ = ["build_model", "count_model", "Network", "Layer", "to_architecture", "conv_out"]
