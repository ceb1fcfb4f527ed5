"""Once-for-All's MobileNetV3 space (Cai et al., ICLR 2020, arXiv 1908.09791, section 3.1).

Five stages of MBConv layers behind a fixed stem and first block; per stage a depth, per layer
slot a kernel and an expansion ratio, and one input resolution for the whole network. The
genome is 9 genes per stage (depth, then kernel and expansion of each of the 4 slots) plus
the resolution gene: 46 integers, each stage one block of the block-aware operators, the
resolution a sixth. Genes of slots beyond a stage's depth build nothing, so the canonical
genes set them to 0: one canonical genome per distinct network.

Gene-level work (canonical genes, keys) is vectorized over integer arrays and never builds an
``Architecture``. The genome strings (``r192-k3e6.k7e4-...``) and Once-for-All's own description
are ``evo_nas.spaces.ofa_mbv3_text``.
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from ._common import MacroSpace, check_frame
from .arch import Architecture
from .blocks import ACT_CODES, BlockSpec
from .ofa_mbv3_text import OFAGenomeText
from .space import SpaceError, _need, register_space_type


@dataclass(frozen=True)
class Stage:
    filters: int
    stride: int
    act: str
    se: bool


class OFAMobileNetV3Space(OFAGenomeText, MacroSpace):
    """Depth per stage, kernel and expansion per layer, and resolution (Once-for-All MobileNetV3)."""

    type_name = "ofa_mbv3"
    scale_head_down = True

    def __init__(self, definition: dict, where: str = "space"):
        d = dict(definition)
        self._read_globals(d, where, act="hswish", se_style="mobilenetv3")
        res = d.get("resolutions", [self.resolution])
        if not isinstance(res, list) or not res or any(isinstance(r, bool) or not isinstance(r, int) or r < 32
                                                          for r in res) or len(set(res)) != len(res):
            raise SpaceError(f"{where}: resolutions = {res!r} must be a list of distinct ints >= 32")
        self.resolutions = tuple(res)
        choices = d.get("choices", {})
        if not isinstance(choices, dict) or set(choices) != {"depth", "kernel", "expansion"}:
            raise SpaceError(f"{where}: [choices] must give exactly depth, kernel and expansion, got {choices!r}")
        for key, ok in (("depth", lambda v: isinstance(v, int) and v >= 1),
                        ("kernel", lambda v: isinstance(v, int) and v >= 1 and v % 2 == 1),
                        ("expansion", lambda v: isinstance(v, (int, float)) and v >= 1)):
            vals = choices[key]
            if not isinstance(vals, list) or not vals or len(set(vals)) != len(vals) \
                    or not all(ok(v) and not isinstance(v, bool) for v in vals):
                raise SpaceError(f"{where}: choices.{key} = {vals!r} is invalid")
        self.depths = tuple(choices["depth"])
        self.kernels = tuple(choices["kernel"])
        self.expansions = tuple(choices["expansion"])
        self.slots = max(self.depths)
        first = d.get("first_block", {})
        if not isinstance(first, dict):
            raise SpaceError(f"{where}: [first_block] must be a table")
        self.first_channels = self.channels(_need(first, "filters", int, f"{where} [first_block]"))
        self.first_kernel = _need(first, "kernel", int, f"{where} [first_block]", 3)
        self.first_act = _need(first, "act", str, f"{where} [first_block]", "relu")
        if self.first_act not in ACT_CODES:
            raise SpaceError(f"{where} [first_block]: act = {self.first_act!r} is invalid")
        self.stages: list[Stage] = []
        for sw, st in self._tables(d, "stages", where, "stage"):
            stage = Stage(self.channels(_need(st, "filters", int, sw)), _need(st, "stride", int, sw),
                          _need(st, "act", str, sw), st.get("se", False))
            if stage.stride not in (1, 2) or stage.act not in ACT_CODES or not isinstance(stage.se, bool):
                raise SpaceError(f"{sw}: stride/act/se = {stage.stride}/{stage.act!r}/{stage.se!r} is invalid")
            self.stages.append(stage)
        per_stage = 1 + 2 * self.slots
        cards = []
        names = []
        for n in range(1, len(self.stages) + 1):
            cards.append(len(self.depths))
            names.append(f"stage {n} depth")
            for j in range(1, self.slots + 1):
                cards += [len(self.kernels), len(self.expansions)]
                names += [f"stage {n} layer {j} kernel", f"stage {n} layer {j} expansion"]
        cards.append(len(self.resolutions))
        names.append("resolution")
        self.cardinalities = tuple(cards)
        self.gene_names = tuple(names)
        n_stages = len(self.stages)
        self.block_slices = tuple(slice(s * per_stage, (s + 1) * per_stage) for s in range(n_stages)) + (
            slice(n_stages * per_stage, n_stages * per_stage + 1),)
        self.definition["resolutions"] = list(self.resolutions)
        # gene-index tables for the vectorized paths: (stages,) depth genes, (stages, slots) kernel genes
        base = np.arange(n_stages) * per_stage
        self._depth_idx = base
        self._kernel_idx = base[:, None] + 1 + 2 * np.arange(self.slots)[None, :]
        self._exp_idx = self._kernel_idx + 1
        self._res_idx = n_stages * per_stage
        self._depth_values = np.array(self.depths)
        # a stage's genes as one mixed-radix number, for ``keys``
        stage_cards = np.array(cards[:per_stage], dtype=np.int64)
        self._stage_radix = np.concatenate([np.cumprod(stage_cards[::-1])[::-1][1:], [1]])
        self._res_text = tuple(f"r{r}" for r in self.resolutions)
        self._stage_text: dict[tuple, str] = {}
        self._code_text: dict[int, str] = {}

    def __getstate__(self):
        state = dict(self.__dict__)
        state["_stage_text"] = {}
        state["_code_text"] = {}
        return state

    # -- overrides ---------------------------------------------------------------------------
    def with_overrides(self, **kw):
        """A fixed ``resolution`` override leaves one choice for the resolution gene."""
        res = kw.get("resolution")
        if res is not None:
            d = dict(self.definition)
            d.update({k: v for k, v in kw.items() if v is not None})
            d["resolutions"] = [res]
            return type(self)(d, self.where)
        return super().with_overrides(**kw)

    # -- gene level, vectorized --------------------------------------------------------------
    def active_mask(self, X: np.ndarray) -> np.ndarray:
        """(N, stages, slots) bool: which layer slots the genomes ``X`` (N, n_genes) build."""
        depth = self._depth_values[X[:, self._depth_idx]]
        return np.arange(self.slots)[None, None, :] < depth[:, :, None]

    @property
    def ordered(self) -> tuple[bool, ...]:
        """Every decision is ordered when its choices are listed in increasing order (depth, kernel,
        expansion, resolution), as in the shipped space file."""
        inc = {name: all(a < b for a, b in zip(v, v[1:])) for name, v in
               (("depth", self.depths), ("kernel", self.kernels), ("expansion", self.expansions),
                ("resolution", self.resolutions))}
        return tuple(inc[n.rsplit(" ", 1)[-1]] for n in self.gene_names)

    def gene_active(self, X) -> np.ndarray:
        """(N, n_genes) bool: depth and resolution genes always; kernel and expansion genes of the
        slots within their stage's depth."""
        X = np.asarray(X, dtype=np.int64).reshape(-1, self.n_genes)
        out = np.ones(X.shape, dtype=bool)
        slots = self.active_mask(X).reshape(len(X), -1)
        out[:, self._kernel_idx.ravel()] = slots
        out[:, self._exp_idx.ravel()] = slots
        return out

    def canonical_array(self, X) -> np.ndarray:
        """Canonical genes of each row of ``X`` (N, n_genes): inactive slots' genes set to 0."""
        X = np.array(X, dtype=np.int64, copy=True)
        if X.ndim == 1:
            return self.canonical_array(X[None, :])[0]
        inactive = ~self.active_mask(X)
        n = len(X)
        rows = np.broadcast_to(np.arange(n)[:, None, None], inactive.shape)
        X[rows[inactive], np.broadcast_to(self._kernel_idx, inactive.shape)[inactive]] = 0
        X[rows[inactive], np.broadcast_to(self._exp_idx, inactive.shape)[inactive]] = 0
        return X

    def canonical_genes(self, genes) -> tuple[int, ...]:
        g = [int(x) for x in genes]
        self.validate(g)
        per_stage = 1 + 2 * self.slots
        for s in range(len(self.stages)):
            base = s * per_stage
            depth = self.depths[g[base]]
            g[base + 1 + 2 * depth:base + per_stage] = [0] * (2 * (self.slots - depth))
        return tuple(g)

    # -- architectures -----------------------------------------------------------------------
    def decode(self, genes) -> Architecture:
        g = self.canonical_genes(genes)
        in_ch = self.first_channels
        blocks = [BlockSpec("ds", 1, self.first_kernel, 1, self.stem.out_ch, in_ch, act=self.first_act)]
        for s, stage in enumerate(self.stages):
            for j in range(self.depths[g[self._depth_idx[s]]]):
                blocks.append(BlockSpec(
                    "ir", 1, self.kernels[g[self._kernel_idx[s, j]]], stage.stride if j == 0 else 1, in_ch,
                    stage.filters, expansion=float(self.expansions[g[self._exp_idx[s, j]]]),
                    se_ratio=0.25 if stage.se else 0.0, act=stage.act).canonical())
                in_ch = stage.filters
        return Architecture(blocks=tuple(blocks), stem=self.stem, head=self.head,
                            resolution=self.resolutions[g[self._res_idx]], in_channels=self.in_channels,
                            num_classes=self.num_classes, act=self.act, se_style=self.se_style)

    def encode(self, arch: Architecture) -> tuple[int, ...]:
        check_frame(self, arch)
        layers = [(b, i) for b in arch.blocks for i in range(b.repeats)]
        first, rest = layers[0][0], layers[1:]
        if first.op != "ds" or first.out_ch != self.first_channels or first.kernel != self.first_kernel:
            raise ValueError(f"first block {first.to_string()} is not the space's fixed "
                             f"ds_r1_k{self.first_kernel}_s1_i{self.stem.out_ch}_o{self.first_channels}")
        stage_layers: list[list[tuple]] = []
        pos = 0
        for s, stage in enumerate(self.stages, 1):
            found = []
            while pos < len(rest) and rest[pos][0].out_ch == stage.filters:
                b, i = rest[pos]
                where = f"stage {s} layer {len(found) + 1} ({b.to_string()})"
                if b.op != "ir" or b.layer_stride(i) != (stage.stride if not found else 1):
                    raise ValueError(f"{where}: expected an MBConv with stride {stage.stride if not found else 1}")
                if (b.se_ratio > 0) != stage.se or (b.act or arch.act) != stage.act:
                    raise ValueError(f"{where}: SE and activation are fixed by the stage "
                                     f"(se {stage.se}, {stage.act})")
                cin = b.layer_in(i)
                e = b.mid(cin) / cin
                found.append((b.kernel, int(e) if float(e).is_integer() else e))
                pos += 1
            stage_layers.append(found)
        if pos != len(rest):
            raise ValueError(f"layer {rest[pos][0].to_string()} does not fit the stages' widths "
                             f"{[st.filters for st in self.stages]}")
        return self._genes(arch.resolution, stage_layers)

    @property
    def resolution_gene(self) -> int:
        """Index of the resolution gene."""
        return self._res_idx

    def distinct_layers(self) -> list:
        """Every distinct searched layer (``LayerSpec``) of the space, at every resolution.

        A stage's first layer depends on the resolution, its kernel and expansion (its input width
        and stride are fixed); its later layers likewise. So the networks whose slots all share one
        (kernel, expansion), at full depth and each resolution, hold every layer of the space."""
        out = {}
        genes = np.zeros(self.n_genes, dtype=np.int64)
        genes[self._depth_idx] = self.depths.index(self.slots)
        for ri in range(len(self.resolutions)):
            genes[self._res_idx] = ri
            for ki in range(len(self.kernels)):
                for ei in range(len(self.expansions)):
                    genes[self._kernel_idx] = ki
                    genes[self._exp_idx] = ei
                    for spec in self.decode(genes).layers():
                        out.setdefault(spec.key(), spec)
        return list(out.values())

    def n_distinct(self) -> int:
        """Distinct networks: per stage the sum over depths of (kernels x expansions)^depth."""
        per_stage = sum((len(self.kernels) * len(self.expansions)) ** d for d in self.depths)
        return per_stage ** len(self.stages) * len(self.resolutions)


register_space_type(OFAMobileNetV3Space)
