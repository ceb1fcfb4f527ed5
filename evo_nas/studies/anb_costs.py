"""Check: parameters and MACs of every Accel-NASBench record (Ahmad et al., 2024), counted by evo-nas,
against the record's ``model_info``.

Each record's network (``genomes/anb.toml``'s space) is counted with the analytic counters
(``evo_nas.spaces.costs.count`` per genome, and the vectorized ``BlockCosts`` the ``anb`` problem
uses); ``build`` of them, drawn with a seeded generator, are also built in PyTorch and their
modules counted. Accel-NASBench's ``model_info`` comes from thop, which adds 4 per BatchNorm
output element and (area + 1) per pooled channel to the conv and linear MACs: ``thop_macs``
counts the same. ``experiments/check_anb_costs.py`` runs it.
"""
from __future__ import annotations

import numpy as np

from ..problems.anb_data import load_records
from ..problems.anb_model import BlockCosts
from ..spaces.costs import count, thop_macs
from ..spaces.loader import load_space


def cost_check(build: int = 20, rng: np.random.Generator | None = None) -> list[str]:
    """The check's report lines: records, the largest |counted - model_info| of params and of MACs (M,
    thop's convention), the gap of conv + linear MACs to model_info, whether the vectorized counts
    equal the per-genome ones, and (``build`` > 0) the largest |built - counted| over ``build``
    records built in PyTorch (``rng`` draws them; default seed 0)."""
    space = load_space("anb")
    rec = load_records(space)
    genomes = space.genomes(rec.genes)
    counted = np.array([(c.params, c.macs, thop_macs(g)) for g in genomes for c in [count(g)]], dtype=np.int64)
    table = BlockCosts(space)(rec.genes)
    extra = rec.macs_m - counted[:, 1] / 1e6
    lines = [f"records: {len(genomes)} ({len(set(g.key for g in genomes))} distinct networks)",
             f"params:  max |counted - model_info| = {np.abs(counted[:, 0] / 1e6 - rec.params_m).max():.3g} M",
             f"MACs (thop convention): max |counted - model_info| = "
             f"{np.abs(counted[:, 2] / 1e6 - rec.macs_m).max():.3g} M",
             f"MACs (conv + linear) are {extra.min():.2f}-{extra.max():.2f} M below model_info "
             f"({(extra / rec.macs_m).min():.1%}-{(extra / rec.macs_m).max():.1%}): thop's BatchNorm and pooling counts",
             f"vectorized BlockCosts = per-genome counters: {bool((table == counted).all())}"]
    if build:
        from ..networks.builder import build_model, count_model

        rng = rng if rng is not None else np.random.default_rng(0)
        idx = rng.choice(len(genomes), build, replace=False)
        diffs = [np.subtract(count_model(build_model(genomes[i]), 224), counted[i, :2]) for i in idx]
        lines.append(f"built in PyTorch ({build} records): max |built - counted| params, MACs = "
                     f"{np.abs(diffs).max(axis=0).tolist()}")
    return lines
