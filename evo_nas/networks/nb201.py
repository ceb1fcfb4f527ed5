"""NAS-Bench-201's network in PyTorch (Dong & Yang, ICLR 2020, arXiv 2001.00326, section 2, figure 1).

A 3x3 conv stem (``channels`` filters) with BN; three stages of ``cells_per_stage`` copies of the
searched cell at ``channels``, x2 and x4, joined by residual reduction blocks (a basic ResNet block
of stride 2: 3x3 ReLU-conv-BN stride 2, 3x3 ReLU-conv-BN, shortcut 2x2 average pool and 1x1
conv); then BN, ReLU, global average pooling and the classifier. In a cell, node ``i`` sums one
operation on each earlier node; the convolutions are ReLU-conv-BN, ``avg_pool_3x3`` has stride 1,
padding 1 and does not count the padding, ``none`` outputs zeros. This follows the benchmark's own
``TinyNetwork``/``InferCell`` (the AutoDL-Projects code the benchmark was trained with), so the
built network has the parameter counts NAS-Bench-201 lists (a test checks them, and
``NB201Space.costs_array`` against every built network).
"""
from __future__ import annotations

import torch
from torch import nn

from ..spaces.nb201 import NB201Space


class ReLUConvBN(nn.Sequential):
    """ReLU, ``kernel`` x ``kernel`` conv without bias (same padding), BN."""

    def __init__(self, cin: int, cout: int, kernel: int, stride: int = 1):
        super().__init__(nn.ReLU(inplace=False), nn.Conv2d(cin, cout, kernel, stride, kernel // 2, bias=False),
                         nn.BatchNorm2d(cout))


class Zero(nn.Module):
    """The ``none`` operation: zeros shaped like the input."""

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return x.mul(0.0)


OPERATIONS = {
    "none": lambda c: Zero(),
    "skip_connect": lambda c: nn.Identity(),
    "nor_conv_1x1": lambda c: ReLUConvBN(c, c, 1),
    "nor_conv_3x3": lambda c: ReLUConvBN(c, c, 3),
    "avg_pool_3x3": lambda c: nn.AvgPool2d(3, stride=1, padding=1, count_include_pad=False),
}


class Cell(nn.Module):
    """One searched cell: ``edges`` are (target node, source node, operation name) triples."""

    def __init__(self, edges, channels: int, nodes: int):
        super().__init__()
        self.nodes = nodes
        self.sources = [j for _, j, _ in edges]
        self.targets = [i for i, _, _ in edges]
        self.ops = nn.ModuleList(OPERATIONS[op](channels) for _, _, op in edges)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        states = [x]
        for node in range(1, self.nodes):
            states.append(sum(op(states[j]) for op, i, j in zip(self.ops, self.targets, self.sources) if i == node))
        return states[-1]


class ResidualReduction(nn.Module):
    """The reduction block between stages: a basic ResNet block with stride 2 and a pooled 1x1 shortcut."""

    def __init__(self, cin: int, cout: int):
        super().__init__()
        self.conv_a = ReLUConvBN(cin, cout, 3, stride=2)
        self.conv_b = ReLUConvBN(cout, cout, 3)
        self.shortcut = nn.Sequential(nn.AvgPool2d(2, stride=2), nn.Conv2d(cin, cout, 1, bias=False))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.shortcut(x) + self.conv_b(self.conv_a(x))


class NB201Network(nn.Module):
    """The whole network of one cell of ``space`` (an ``NB201Space``): logits of shape (N, num_classes)."""

    def __init__(self, space: NB201Space, genes):
        super().__init__()
        genes = space.canonical_genes(genes)
        edges = [(i, j, space.operations[g]) for (i, j), g in zip(space.edges, genes)]
        c1, c2, c3 = space.stage_channels()
        self.stem = nn.Sequential(nn.Conv2d(space.in_channels, c1, 3, padding=1, bias=False), nn.BatchNorm2d(c1))
        layers: list[nn.Module] = []
        for s, c in enumerate((c1, c2, c3)):
            if s:
                layers.append(ResidualReduction(c // 2, c))
            layers += [Cell(edges, c, space.nodes) for _ in range(space.cells_per_stage)]
        self.cells = nn.Sequential(*layers)
        self.head = nn.Sequential(nn.BatchNorm2d(c3), nn.ReLU(inplace=False), nn.AdaptiveAvgPool2d(1), nn.Flatten())
        self.classifier = nn.Linear(c3, space.num_classes)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.classifier(self.head(self.cells(self.stem(x))))


def build_network(space: NB201Space, genes_or_key, generator: torch.Generator | None = None) -> NB201Network:
    """The network of a cell given by its genes or its cell string; weights from ``generator`` when given
    (``ValueError`` names a malformed cell string)."""
    genes = space.parse_genes(genes_or_key) if isinstance(genes_or_key, str) else genes_or_key
    if generator is None:
        return NB201Network(space, genes)
    with torch.random.fork_rng(devices=[]):
        torch.manual_seed(int(torch.randint(0, 2**62, (1,), generator=generator)))
        return NB201Network(space, genes)


__all__ = ["NB201Network", "Cell", "ResidualReduction", "ReLUConvBN", "Zero", "build_network"]
