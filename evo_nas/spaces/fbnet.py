"""FBNet's layer-wise search space (Wu et al., 2019, arXiv 1812.03443, section 3.2, table 1).

A fixed macro-architecture of stages (filters, layers, stride); every layer independently picks
one of the candidate blocks: ``kK_eE`` is an inverted residual with kernel K and expansion E (the
1x1 expand conv kept even at E = 1, as in the reference implementation), ``_g2`` makes both 1x1
convs group-2 with a channel shuffle after the expand conv, and ``skip`` is an identity layer.
Where a stage's first layer changes shape, ``skip`` is the reference implementation's projection:
1x1 conv, BN, ReLU with the stage's stride. One gene per layer; the stages are the blocks that the
engine's block-aware operators recombine. An identity layer computes nothing, so the architecture
leaves it out (its depth, as latency tables and their calibration see it, is the real one) and the
canonical genome moves identity layers to the end of their stage, where they could sit anyway.
"""
from __future__ import annotations

import re
from dataclasses import dataclass, replace

from ._common import MacroSpace, check_frame
from .arch import Architecture
from .blocks import BlockSpec
from .space import SpaceError, _need, register_space_type

CANDIDATE = re.compile(r"^k(\d+)_e(\d+(?:\.\d+)?)(?:_g(\d+))?$")


@dataclass(frozen=True)
class Candidate:
    name: str
    kernel: int = 0
    expansion: float = 0.0
    groups: int = 1

    @property
    def is_skip(self) -> bool:
        return self.name == "skip"


def parse_candidate(name) -> Candidate:
    """``k3_e6``, ``k5_e1_g2`` or ``skip``; ``ValueError`` names a malformed one."""
    if name == "skip":
        return Candidate("skip")
    m = CANDIDATE.match(str(name))
    if not m:
        raise ValueError(f"unknown candidate {name!r} (expected kK_eE, kK_eE_gG or skip)")
    k, e, g = int(m.group(1)), float(m.group(2)), int(m.group(3) or 1)
    if k % 2 == 0 or e <= 0 or g < 1:
        raise ValueError(f"candidate {name!r}: kernel must be odd, expansion > 0, groups >= 1")
    return Candidate(str(name), k, e, g)


@dataclass(frozen=True)
class Stage:
    filters: int
    layers: int
    stride: int
    candidates: tuple[Candidate, ...]


class FBNetSpace(MacroSpace):
    """FBNet's layer-wise space: one candidate block per layer of a fixed stage layout."""

    type_name = "fbnet"

    def __init__(self, definition: dict, where: str = "space"):
        d = dict(definition)
        self._read_globals(d, where)
        default = d.get("candidates")
        self.stages: list[Stage] = []
        for sw, st in self._tables(d, "stages", where, "stage"):
            names = st.get("candidates", default)
            if not isinstance(names, list) or not names or len(set(map(str, names))) != len(names):
                raise SpaceError(f"{sw}: candidates must be a non-empty list without duplicates, got {names!r}")
            try:
                cands = tuple(parse_candidate(c) for c in names)
            except ValueError as e:
                raise SpaceError(f"{sw}: {e}") from None
            stage = Stage(_need(st, "filters", int, sw), _need(st, "layers", int, sw), _need(st, "stride", int, sw), cands)
            if stage.filters < 1 or stage.layers < 1 or stage.stride not in (1, 2):
                raise SpaceError(f"{sw}: filters/layers/stride = {stage.filters}/{stage.layers}/{stage.stride} is invalid")
            for c in cands:
                if c.groups > 1 and self.channels(stage.filters) % c.groups:
                    raise SpaceError(f"{sw}: candidate {c.name} needs channels divisible by {c.groups}, "
                                     f"got {self.channels(stage.filters)}")
            self.stages.append(stage)
        self.cardinalities = tuple(len(s.candidates) for s in self.stages for _ in range(s.layers))
        slices, start = [], 0
        for s in self.stages:
            slices.append(slice(start, start + s.layers))
            start += s.layers
        self.block_slices = tuple(slices)
        self.gene_names = tuple(f"stage {n} layer {j}" for n, s in enumerate(self.stages, 1)
                                for j in range(1, s.layers + 1))
        self._pos = tuple(self._positions())

    # -- one layer --------------------------------------------------------------------------
    def layer_block(self, cand: Candidate, in_ch: int, out_ch: int, stride: int) -> BlockSpec:
        """The one-layer block that candidate ``cand`` builds at this position."""
        if cand.is_skip:
            if stride == 1 and in_ch == out_ch:
                return BlockSpec("skip", 1, 1, 1, in_ch, out_ch).canonical()
            return BlockSpec("cn", 1, 1, stride, in_ch, out_ch, skip="none").canonical()
        return BlockSpec("ir", 1, cand.kernel, stride, in_ch, out_ch, expansion=cand.expansion,
                         groups=cand.groups, keep_expand=True).canonical()

    def _positions(self):
        """(stage index, layer index, in channels, out channels, stride) of every gene."""
        in_ch = self.stem.out_ch
        for n, st in enumerate(self.stages):
            out = self.channels(st.filters)
            for j in range(st.layers):
                yield n, j, (in_ch if j == 0 else out), out, (st.stride if j == 0 else 1)
            in_ch = out

    def canonical_genes(self, genes) -> tuple[int, ...]:
        """Identity layers moved to the end of their stage: the same network, one genome."""
        self.validate(tuple(genes))
        out = []
        for st, sl in zip(self.stages, self.block_slices):
            stage = list(genes[sl])
            _, _, cin, cout, stride = self._pos[len(out)]
            fixed = [] if stride == 1 and cin == cout else stage[:1]
            rest = stage[len(fixed):]
            skip = [g for g in rest if st.candidates[g].is_skip]
            out += fixed + [g for g in rest if not st.candidates[g].is_skip] + skip
        return tuple(out)

    def decode(self, genes) -> Architecture:
        genes = self.canonical_genes(genes)
        layers = [self.layer_block(self.stages[n].candidates[g], cin, cout, s)
                  for g, (n, _, cin, cout, s) in zip(genes, self._pos)]
        return self.base_architecture(merge_layers([x for x in layers if x.op != "skip"]))

    def distinct_layers(self):
        """Every layer a genome can contain (for latency tables). Each position has fixed channels
        and stride, so one network per (position, candidate) covers them all."""
        seen = {}
        for i, card in enumerate(self.cardinalities):
            for v in range(card):
                genes = [0] * self.n_genes
                genes[i] = v
                for spec in self.decode(genes).layers():
                    seen.setdefault(spec.key(), spec)
        return list(seen.values())

    def encode(self, arch: Architecture) -> tuple[int, ...]:
        check_frame(self, arch)
        layers = split_layers(arch)
        genes, pos = [], 0
        for n, j, cin, cout, s in self._pos:
            st = self.stages[n]
            where = f"stage {n + 1} layer {j + 1}"
            here = layers[pos] if pos < len(layers) else None
            if here is not None and (here.in_ch, here.out_ch, here.stride) == (cin, cout, s):
                for i, cand in enumerate(st.candidates):
                    if self.layer_block(cand, cin, cout, s) == here:
                        genes.append(i)
                        break
                else:
                    names = ", ".join(c.name for c in st.candidates)
                    raise ValueError(f"{where} ({here.to_string()}): not one of the candidates {names}")
                pos += 1
            elif s == 1 and cin == cout and any(c.is_skip for c in st.candidates):
                genes.append(next(i for i, c in enumerate(st.candidates) if c.is_skip))
            else:
                got = here.to_string() if here is not None else "nothing"
                raise ValueError(f"{where}: expected a layer i{cin}_o{cout}_s{s}, got {got}")
        if pos < len(layers):
            raise ValueError(f"layer {layers[pos].to_string()}: beyond the last stage of space {self.name!r}")
        return tuple(genes)

    def describe_gene(self, index: int, value: int) -> str:
        n = next(k for k, sl in enumerate(self.block_slices) if sl.start <= index < sl.stop)
        return self.stages[n].candidates[value].name


def split_layers(arch: Architecture) -> list[BlockSpec]:
    """Every layer of ``arch`` as its own canonical one-layer block."""
    return [layer for b in arch.blocks for layer in block_layers(b)]


def merge_layers(layers: list[BlockSpec]) -> list[BlockSpec]:
    """Consecutive identical layers as one block with repeats (timm's stage strings)."""
    blocks: list[BlockSpec] = []
    layers = [layer.canonical() for layer in layers]
    for layer in layers:
        prev = blocks[-1] if blocks else None
        if prev is not None and layer.stride == 1 and layer.in_ch == prev.out_ch == layer.out_ch:
            grown = replace(prev, repeats=prev.repeats + 1, skip=layer.skip)
            if block_layers(grown) == block_layers(prev) + [layer]:
                blocks[-1] = grown.canonical()
                continue
        blocks.append(layer)
    return blocks


def block_layers(block: BlockSpec) -> list[BlockSpec]:
    """The layers of one block, each as a canonical one-layer block."""
    return [replace(block, repeats=1, in_ch=block.layer_in(i), stride=block.layer_stride(i)).canonical()
            for i in range(block.repeats)]


register_space_type(FBNetSpace)
