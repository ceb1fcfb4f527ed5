"""The distinct layers of a space: what a per-layer latency table measures, each once."""
from __future__ import annotations

import numpy as np

from ..spaces.arch import LayerSpec


def _block_layers(space, genes: list[int], block: int) -> list[LayerSpec]:
    arch = space.decode(genes)
    start = sum(b.repeats for b in arch.blocks[:block])
    return arch.layers()[start:start + arch.blocks[block].repeats]


_LAYERS_CACHE: dict[tuple[str, str], dict[str, LayerSpec]] = {}


def space_layers(space) -> dict[str, LayerSpec]:
    """Every distinct layer any genome of ``space`` can contain, by key (computed once per space).

    A space may provide ``distinct_layers()``; otherwise the factorized layout is assumed: a
    block's layers depend on its own genes and the previous block's output width only.
    """
    key = (type(space).__name__, space.fingerprint()) if hasattr(space, "fingerprint") else None
    if key is not None and key in _LAYERS_CACHE:
        return dict(_LAYERS_CACHE[key])
    out = _enumerate_layers(space)
    if key is not None:
        _LAYERS_CACHE[key] = out
    return dict(out)


def _enumerate_layers(space) -> dict[str, LayerSpec]:
    if hasattr(space, "distinct_layers"):
        return {s.key(): s for s in space.distinct_layers()}
    if not hasattr(space, "block_slices"):
        raise ValueError(f"cannot enumerate the layers of space {getattr(space, 'name', space)!r}")
    out: dict[str, LayerSpec] = {}
    n = space.n_genes
    for b, sl in enumerate(space.block_slices):
        cards = space.cardinalities[sl]
        prev = [None]
        if b > 0:
            contexts = {}
            ps = space.block_slices[b - 1]
            for i in range(ps.start, ps.stop):
                for v in range(space.cardinalities[i]):
                    genes = [0] * n
                    genes[i] = v
                    first = _block_layers(space, genes, b)[0]
                    contexts.setdefault((first.in_ch, first.resolution), (i, v))
            prev = list(contexts.values())
        for combo in np.ndindex(*cards):
            for p in prev:
                genes = [0] * n
                genes[sl] = list(combo)
                if p is not None:
                    genes[p[0]] = p[1]
                for spec in _block_layers(space, genes, b):
                    out.setdefault(spec.key(), spec)
    return out


__all__ = ["space_layers"]
