"""Check: parameters and MACs of every Accel-NASBench record, counted by evo-nas, against the record's ``model_info``.

    EVO_NAS_DATA=/work/shared/data python experiments/check_anb_costs.py [--build 20]

For each of the 5,138 records (``anb_dataset_jsons.tar.gz``, read through ``evo_nas.problems.benchdata``)
the network of ``genomes/anb.toml`` is counted with the analytic counters (``evo_nas.spaces.costs.count``
per genome, and the vectorized ``BlockCosts`` the ``anb`` problem uses); ``--build N`` also builds
N of them in PyTorch and counts the modules. Accel-NASBench's ``model_info`` comes from thop, which
adds 4 per BatchNorm output element and (area + 1) per pooled channel to the conv and linear MACs:
``thop_macs`` counts the same. Prints the largest absolute differences (M).
"""
from __future__ import annotations

import argparse

import numpy as np

from evo_nas.spaces.costs import count, thop_macs
from evo_nas.problems.anb_data import load_records
from evo_nas.problems.anb_model import BlockCosts
from evo_nas.spaces.loader import load_space


def main(argv=None) -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--build", type=int, default=20, help="records also built in PyTorch (default 20)")
    args = ap.parse_args(argv)
    space = load_space("anb")
    rec = load_records(space)
    genomes = space.genomes(rec.genes)
    counted = np.array([(c.params, c.macs, thop_macs(g)) for g in genomes for c in [count(g)]], dtype=np.int64)
    table = BlockCosts(space)(rec.genes)
    print(f"records: {len(genomes)} ({len(set(g.key for g in genomes))} distinct networks)")
    print(f"params:  max |counted - model_info| = {np.abs(counted[:, 0] / 1e6 - rec.params_m).max():.3g} M")
    print(f"MACs (thop convention): max |counted - model_info| = {np.abs(counted[:, 2] / 1e6 - rec.macs_m).max():.3g} M")
    extra = rec.macs_m - counted[:, 1] / 1e6
    print(f"MACs (conv + linear) are {extra.min():.2f}-{extra.max():.2f} M below model_info "
          f"({(extra / rec.macs_m).min():.1%}-{(extra / rec.macs_m).max():.1%}): thop's BatchNorm and pooling counts")
    print(f"vectorized BlockCosts = per-genome counters: {bool((table == counted).all())}")
    if args.build:
        from evo_nas.networks.builder import build_model, count_model

        idx = np.random.default_rng(0).choice(len(genomes), args.build, replace=False)
        diffs = [np.subtract(count_model(build_model(genomes[i]), 224), counted[i, :2]) for i in idx]
        print(f"built in PyTorch ({args.build} records): max |built - counted| params, MACs = "
              f"{np.abs(diffs).max(axis=0).tolist()}")


if __name__ == "__main__":
    main()
