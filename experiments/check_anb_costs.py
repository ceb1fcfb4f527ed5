"""Check: parameters and MACs of every Accel-NASBench record, counted by evo-nas, against the record's ``model_info``.

    EVO_NAS_DATA=/work/shared/data python experiments/check_anb_costs.py [--build 20]

For each of the 5,138 records (``anb_dataset_jsons.tar.gz``, read through ``evo_nas.problems.benchdata``)
the network of ``genomes/anb.toml`` is counted with the analytic counters (``evo_nas.spaces.costs.count``
per genome, and the vectorized ``BlockCosts`` the ``anb`` problem uses); ``--build N`` also builds
N of them in PyTorch and counts the modules. Accel-NASBench's ``model_info`` comes from thop, which
adds 4 per BatchNorm output element and (area + 1) per pooled channel to the conv and linear MACs:
``thop_macs`` counts the same. Prints the largest absolute differences (M).
The check is ``evo_nas/studies/anb_costs.py``.
"""
from __future__ import annotations

import argparse

from evo_nas.studies.anb_costs import cost_check


def main(argv=None) -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--build", type=int, default=20, help="records also built in PyTorch (default 20)")
    args = ap.parse_args(argv)
    print("\n".join(cost_check(args.build)))


if __name__ == "__main__":
    main()
