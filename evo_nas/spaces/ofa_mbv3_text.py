"""The genome strings of Once-for-All's MobileNetV3 space, and Once-for-All's own ``ks``/``e``/``d``/``r``.

A genome's canonical string names the resolution and each stage's active layers, for example
``r192-k3e6.k7e4-k5e6.k5e6.k5e4-k3e3.k5e3.k7e4.k7e4-k5e4.k5e4-k3e6.k5e3.k7e3``: it is parsed
back exactly, and an illegal kernel, expansion, depth or resolution is a ``ValueError`` naming
the stage, layer and value. ``keys`` writes the strings of a whole gene array at once, each
stage's text looked up by its genes, without building an ``Architecture``.
"""
from __future__ import annotations

import re

import numpy as np

from .blocks import check_text

_LAYER = re.compile(r"k(\d+)e(\d+(?:\.\d+)?)")


def _fmt(x) -> str:
    return f"{x:g}"


class OFAGenomeText:
    """The text side of ``OFAMobileNetV3Space`` (``evo_nas.spaces.ofa_mbv3``), which it is mixed into: it
    reads the space's choices (``stages``, ``slots``, ``depths``, ``kernels``, ``expansions``,
    ``resolutions``), gene indices and text caches, all set by ``OFAMobileNetV3Space.__init__``."""

    def key(self, genes) -> str:
        g = genes if type(genes) is tuple else tuple(int(x) for x in genes)
        per_stage = 1 + 2 * self.slots
        parts = [f"r{self.resolutions[g[self._res_idx]]}"]
        for s in range(len(self.stages)):
            parts.append(self._stage_string(g[s * per_stage:(s + 1) * per_stage]))
        return "-".join(parts)

    def keys(self, C) -> list[str]:
        """``key`` of every row of the canonical gene array ``C`` (N, n_genes): each stage's text
        looked up by its genes' mixed-radix number."""
        C = np.asarray(C, dtype=np.int64)
        if len(C) == 0:
            return []
        per_stage = len(self._stage_radix)
        stages = C[:, :self._res_idx].reshape(len(C), len(self.stages), per_stage)
        codes = (stages @ self._stage_radix).tolist()
        text, res = self._code_text, self._res_text
        get = text.__getitem__
        out = []
        for n, (r, row) in enumerate(zip(C[:, self._res_idx].tolist(), codes)):
            try:
                out.append("-".join((res[r], *map(get, row))))
            except KeyError:
                for code, genes in zip(row, stages[n].tolist()):
                    if code not in text:
                        text[code] = self._stage_string(tuple(genes))
                out.append("-".join((res[r], *map(get, row))))
        return out

    def _stage_string(self, stage: tuple) -> str:
        text = self._stage_text.get(stage)
        if text is None:
            text = ".".join(f"k{self.kernels[stage[1 + 2 * j]]}e{_fmt(self.expansions[stage[2 + 2 * j]])}"
                            for j in range(self.depths[stage[0]]))
            self._stage_text[stage] = text
        return text

    def to_ofa(self, genes) -> dict:
        """Once-for-All's own description: ``ks`` and ``e`` for all slots (0 where inactive), ``d``, ``r``."""
        g = self.canonical_genes(genes)
        ks, e, d = [], [], []
        for s in range(len(self.stages)):
            depth = self.depths[g[self._depth_idx[s]]]
            d.append(depth)
            for j in range(self.slots):
                active = j < depth
                ks.append(self.kernels[g[self._kernel_idx[s, j]]] if active else 0)
                e.append(self.expansions[g[self._exp_idx[s, j]]] if active else 0)
        return {"ks": ks, "e": e, "d": d, "r": self.resolutions[g[self._res_idx]]}

    def from_ofa(self, ks, e, d, r) -> tuple[int, ...]:
        """Genes from Once-for-All's description (``ks``/``e`` over all slots; inactive ones ignored)."""
        n = len(self.stages)
        if len(d) != n or len(ks) != n * self.slots or len(e) != n * self.slots:
            raise ValueError(f"expected d of {n} and ks/e of {n * self.slots} values, "
                             f"got {len(d)}/{len(ks)}/{len(e)}")
        layers = [[(ks[s * self.slots + j], e[s * self.slots + j]) for j in range(d[s])] for s in range(n)]
        return self._genes(r, layers)

    def _genes(self, resolution, layers) -> tuple[int, ...]:
        if resolution not in self.resolutions:
            raise ValueError(f"resolution {resolution} is not among the choices {list(self.resolutions)}")
        genes = [0] * self.n_genes
        genes[self._res_idx] = self.resolutions.index(resolution)
        for s, stage_layers in enumerate(layers):
            if len(stage_layers) not in self.depths:
                raise ValueError(f"stage {s + 1}: depth {len(stage_layers)} is not among the choices {list(self.depths)}")
            genes[self._depth_idx[s]] = self.depths.index(len(stage_layers))
            for j, (k, e) in enumerate(stage_layers):
                if k not in self.kernels:
                    raise ValueError(f"stage {s + 1} layer {j + 1}: kernel {k} is not among the choices "
                                     f"{list(self.kernels)}")
                if e not in self.expansions:
                    raise ValueError(f"stage {s + 1} layer {j + 1}: expansion {_fmt(e)} is not among the choices "
                                     f"{list(self.expansions)}")
                genes[self._kernel_idx[s, j]] = self.kernels.index(k)
                genes[self._exp_idx[s, j]] = self.expansions.index(e)
        return tuple(genes)

    def parse(self, text: str):
        """Also reads the canonical string (``r192-k3e6.k7e4-...``); see the module docstring."""
        text = check_text(text).strip()
        if not re.fullmatch(r"r\d+(-[^-_\s]*)*", text):
            return super().parse(text)
        parts = text.split("-")
        if len(parts) != len(self.stages) + 1:
            raise ValueError(f"genome {text!r}: expected a resolution and {len(self.stages)} stages separated "
                             f"by '-', got {len(parts) - 1} stages")
        layers = []
        for s, part in enumerate(parts[1:], 1):
            stage = []
            for j, tok in enumerate(part.split(".") if part else [], 1):
                m = _LAYER.fullmatch(tok)
                if not m:
                    raise ValueError(f"genome {text!r}: stage {s} layer {j}: {tok!r} is not k<kernel>e<expansion>")
                e = float(m.group(2))
                stage.append((int(m.group(1)), int(e) if e.is_integer() else e))
            layers.append(stage)
        try:
            return self.genome(self._genes(int(parts[0][1:]), layers))
        except ValueError as err:
            raise ValueError(f"genome {text!r}: {err}") from None

    def describe_gene(self, index: int, value: int) -> str:
        name = self.gene_names[index]
        table = (self.resolutions if name == "resolution" else self.depths if name.endswith("depth")
                 else self.kernels if name.endswith("kernel") else self.expansions)
        return _fmt(table[value])


__all__ = ["OFAGenomeText"]
