"""NAS-Bench-201's cell space (Dong & Yang, ICLR 2020, arXiv 2001.00326, section 2): one operation per edge of a 4-node cell.

The cell is a directed acyclic graph of ``nodes`` nodes (4 in the paper): node 0 is the cell's
input, every later node sums one operation applied to each earlier node, and the last node is
the output. Each of the 6 edges takes one of the 5 operations ``none``, ``skip_connect``,
``nor_conv_1x1``, ``nor_conv_3x3``, ``avg_pool_3x3``: 5^6 = 15,625 cells, every one a distinct
architecture of the benchmark (each was trained and measured on its own, so no two genomes are
merged: the canonical genes are the genes). Every gene is categorical.

The genome is one gene per edge, in the order of NAS-Bench-201's cell string
``|op~0|+|op~0|op~1|+|op~0|op~1|op~2|`` (node 1's input, node 2's two, node 3's three), the
value an index into ``operations``. That string is the canonical key; it is parsed back exactly,
and a malformed one is a ``ValueError`` naming the edge and the value. A block of the
block-aware operators is a node's incoming edges (1, 2 and 3 genes): they decide together what
the node computes, so crossover exchanges whole nodes and a block resample redraws one node.

The network around the cell (stem, three stages of ``cells_per_stage`` cells at ``channels``,
x2 and x4, residual reduction blocks, classifier) is built in ``evo_nas.networks.nb201``;
``costs_array`` counts its parameters and MACs analytically, vectorized over genomes.
"""
from __future__ import annotations

import re

import numpy as np

from .costs import Cost, conv_cost
from .space import Space, SpaceError, _need, register_space_type

OPERATIONS = ("none", "skip_connect", "nor_conv_1x1", "nor_conv_3x3", "avg_pool_3x3")
#: the convolution kernel of each operation that has one (the others have no parameters or MACs)
CONV_KERNEL = {"nor_conv_1x1": 1, "nor_conv_3x3": 3}
_DIGITS = re.compile(r"[\d,\s]+")


class NB201Space(Space):
    """NAS-Bench-201's cell: one of ``operations`` on every edge ``j -> i`` (``j < i``) of ``nodes`` nodes."""

    type_name = "nb201"

    def __init__(self, definition: dict, where: str = "space"):
        d = dict(definition)
        self.where = where
        self.name = _need(d, "name", str, where)
        ops = d.get("operations", list(OPERATIONS))
        if not isinstance(ops, list) or len(ops) < 2 or len(set(ops)) != len(ops) or \
                any(op not in OPERATIONS for op in ops):
            raise SpaceError(f"{where}: operations = {ops!r} must be at least two distinct names of "
                             f"{', '.join(OPERATIONS)}")
        self.operations = tuple(ops)
        self.nodes = _need(d, "nodes", int, where, 4)
        self.channels = _need(d, "channels", int, where, 16)
        self.cells_per_stage = _need(d, "cells_per_stage", int, where, 5)
        self.resolution = _need(d, "resolution", int, where, 32)
        self.in_channels = _need(d, "in_channels", int, where, 3)
        self.num_classes = _need(d, "num_classes", int, where, 10)
        width = d.get("width_multiplier", 1.0)
        for key, value, ok in (("nodes", self.nodes, self.nodes >= 2), ("channels", self.channels, self.channels >= 1),
                               ("cells_per_stage", self.cells_per_stage, self.cells_per_stage >= 1),
                               ("resolution", self.resolution, self.resolution >= 4 and self.resolution % 4 == 0),
                               ("in_channels", self.in_channels, self.in_channels >= 1),
                               ("num_classes", self.num_classes, self.num_classes >= 2),
                               ("width_multiplier", width, width == 1)):
            if not ok:
                raise SpaceError(f"{where}: {key} = {value!r} is invalid")
        #: (target node, source node) of every edge, in the genome's order
        self.edges = tuple((i, j) for i in range(1, self.nodes) for j in range(i))
        self.cardinalities = (len(self.operations),) * len(self.edges)
        self.gene_names = tuple(f"edge {j}->{i}" for i, j in self.edges)
        starts = [i * (i - 1) // 2 for i in range(1, self.nodes + 1)]
        self.block_slices = tuple(slice(a, b) for a, b in zip(starts[:-1], starts[1:]))
        self.definition = {**d, "operations": list(self.operations), "nodes": self.nodes, "channels": self.channels,
                           "cells_per_stage": self.cells_per_stage, "resolution": self.resolution,
                           "in_channels": self.in_channels, "num_classes": self.num_classes}
        self.definition.pop("width_multiplier", None)
        # a node's incoming edges as one mixed-radix number -> its part of the string, for ``keys``
        n_ops = len(self.operations)
        self._radix = [n_ops ** np.arange(s.stop - s.start - 1, -1, -1) for s in self.block_slices]
        self._node_text = [self._node_strings(s.stop - s.start) for s in self.block_slices]

    def _node_strings(self, n_in: int) -> list[str]:
        ops = self.operations
        codes = np.arange(len(ops) ** n_in)
        digits = [(codes // len(ops) ** (n_in - 1 - j)) % len(ops) for j in range(n_in)]
        return ["|".join(f"{ops[digits[j][c]]}~{j}" for j in range(n_in)) for c in codes.tolist()]

    # -- genes and keys --------------------------------------------------------------------
    @property
    def ordered(self) -> tuple[bool, ...]:
        """No gene's choices are ordered: the operations are categories."""
        return (False,) * self.n_genes

    def canonical_genes(self, genes) -> tuple[int, ...]:
        g = tuple(int(x) for x in genes)
        self.validate(g)
        return g

    def canonical_array(self, X) -> np.ndarray:
        return np.array(X, dtype=np.int64, copy=True)

    def key(self, genes) -> str:
        return self.keys(np.asarray([genes], dtype=np.int64))[0]

    def keys(self, C) -> list[str]:
        """NAS-Bench-201's cell string of every row of the gene array ``C`` (N, 6)."""
        C = np.asarray(C, dtype=np.int64).reshape(-1, self.n_genes)
        parts = [[text[c] for c in (C[:, s] @ radix).tolist()]
                 for s, radix, text in zip(self.block_slices, self._radix, self._node_text)]
        return ["|" + "|+|".join(p) + "|" for p in zip(*parts)]

    def parse(self, text: str):
        """A genome from NAS-Bench-201's cell string, or from its genes as integers (``3,3,3,3,3,3``).
        ``ValueError`` names the node or edge that is malformed and the bad value."""
        text = text.strip()
        if _DIGITS.fullmatch(text):
            return self.genome(int(t) for t in re.split(r"[,\s]+", text) if t)
        return self.genome(self.parse_genes(text))

    def parse_genes(self, text: str) -> tuple[int, ...]:
        """The genes of NAS-Bench-201's cell string ``text`` (see ``parse``)."""
        where = f"genome {text[:120]!r}"
        if not (text.startswith("|") and text.endswith("|")):
            raise ValueError(f"{where}: not a cell string |op~0|+|op~0|op~1|+... (it must start and end with '|')")
        nodes = text[1:-1].split("|+|")
        if len(nodes) != self.nodes - 1:
            raise ValueError(f"{where}: {len(nodes)} nodes separated by '|+|', the space has {self.nodes - 1}")
        genes = []
        for i, node in enumerate(nodes, 1):
            inputs = node.split("|")
            if len(inputs) != i:
                raise ValueError(f"{where}: node {i} has {len(inputs)} inputs ({node!r}), expected {i}")
            for j, item in enumerate(inputs):
                op, sep, source = item.rpartition("~")
                if not sep or source != str(j):
                    raise ValueError(f"{where}: edge {j}->{i}: {item!r} is not <operation>~{j}")
                if op not in self.operations:
                    raise ValueError(f"{where}: edge {j}->{i}: operation {op!r} is not one of "
                                     f"{', '.join(self.operations)}")
                genes.append(self.operations.index(op))
        return tuple(genes)

    def describe_gene(self, index: int, value: int) -> str:
        return self.operations[value]

    def decode(self, genes):
        raise ValueError(f"space {self.name!r}: a NAS-Bench-201 cell is not a chain of blocks; build it with "
                         f"evo_nas.networks.nb201.build_network")

    def encode(self, arch):
        raise ValueError(f"space {self.name!r}: a NAS-Bench-201 cell is not a chain of blocks (give its cell string)")

    def cell_table(self, genes) -> str:
        """The cell as text: one line per edge with its operation, then the network's parameters and
        MACs at the space's resolution and class count (what ``evo-nas show`` prints)."""
        genes = self.canonical_genes(genes)
        lines = [self.key(genes), "", "edge   operation"]
        lines += [f"{j}->{i}   {self.operations[g]}" for (i, j), g in zip(self.edges, genes)]
        params, macs = self.costs_array([genes])
        lines += ["", f"network: {int(params[0]):,} parameters, {macs[0] / 1e6:.2f}M MACs at "
                      f"{self.resolution}x{self.resolution}, {self.num_classes} classes "
                      f"(stages of {self.cells_per_stage} cells at {', '.join(map(str, self.stage_channels()))} channels)"]
        return "\n".join(lines)

    # -- costs -----------------------------------------------------------------------------
    def stage_channels(self) -> tuple[int, int, int]:
        return self.channels, 2 * self.channels, 4 * self.channels

    def stage_resolutions(self) -> tuple[int, int, int]:
        return self.resolution, self.resolution // 2, self.resolution // 4

    def frame_cost(self) -> Cost:
        """Parameters and MACs of everything but the cells' edges: the stem (3x3 conv, BN), the two
        residual reduction blocks (3x3 ReLU-conv-BN stride 2, 3x3 ReLU-conv-BN, shortcut 2x2
        average pool and 1x1 conv), the last BN and the classifier (with bias)."""
        (c1, c2, c3), (r1, r2, r3) = self.stage_channels(), self.stage_resolutions()
        cost = conv_cost(self.in_channels, c1, 3, r1)
        for cin, cout, res in ((c1, c2, r2), (c2, c3, r3)):
            cost = cost + conv_cost(cin, cout, 3, res) + conv_cost(cout, cout, 3, res) + \
                conv_cost(cin, cout, 1, res, bn=False)
        return cost + Cost(2 * c3, 0) + conv_cost(c3, self.num_classes, 1, 1, bn=False, bias=True)

    def edge_costs(self) -> list[Cost]:
        """Per operation, its parameters and MACs summed over one edge of every cell of the network."""
        out = []
        for op in self.operations:
            k = CONV_KERNEL.get(op)
            cost = Cost()
            if k is not None:
                for c, res in zip(self.stage_channels(), self.stage_resolutions()):
                    one = conv_cost(c, c, k, res)
                    cost = cost + Cost(one.params * self.cells_per_stage, one.macs * self.cells_per_stage)
            out.append(cost)
        return out

    def costs_array(self, X) -> tuple[np.ndarray, np.ndarray]:
        """Parameters and MACs (each (N,) int64) of the networks of the gene array ``X`` (N, n_genes),
        in the project's convention (``evo_nas.spaces.costs``: BN included in parameters; Conv2d and
        Linear multiply-adds only, at batch 1 and the space's resolution)."""
        X = np.asarray(X, dtype=np.int64).reshape(-1, self.n_genes)
        frame, edges = self.frame_cost(), self.edge_costs()
        per_params = np.array([c.params for c in edges], dtype=np.int64)
        per_macs = np.array([c.macs for c in edges], dtype=np.int64)
        return frame.params + per_params[X].sum(axis=1), frame.macs + per_macs[X].sum(axis=1)


register_space_type(NB201Space)
