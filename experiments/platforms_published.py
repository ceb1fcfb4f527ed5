"""Same search, two published platforms: Samsung Note10 against the Intel i7-8700K on Once-for-All's space
(MnasNet, Tan et al., 2019, arXiv 1807.11626, section 6.2; Once-for-All, Cai et al., ICLR 2020; NSGANetV2,
Lu et al., ECCV 2020, for the i7-8700K table).

    python experiments/platforms_published.py [--config experiments/platforms_published.toml]
                                              [--out runs/platforms_published]
    python experiments/platforms_published.py --out experiments/platforms_published --overwrite  # the committed copy

The seeded NSGA-II search of ``experiments/platforms.py`` runs twice, with Note10 latency
(Once-for-All's per-layer tables) and with i7-8700K latency (NSGANetV2's per-layer table). Both are
published measurements: the output is deterministic and independent of this machine and its load
(``experiments/platforms.py`` compares Note10 with this machine, and needs a quiet machine). Reports:

1. rank agreement of the two platforms' latencies (Kendall tau) over the union of both searches'
   evaluations and over seeded random subnets;
2. the two Pareto sets: members shared, and the choices they make (resolution; per stage depth,
   kernel and expansion);
3. each set re-scored on the other platform: hypervolume, members the other set's front dominates,
   lowest latency reaching a top-1;
4. the networks Once-for-All specialized (``genomes/known/ofa_*``) placed on both fronts: predicted
   top-1 against published top-1, latency on both platforms, and whether a searched front dominates them.

Top-1 is Once-for-All's predictor on both platforms; only latency changes. Writes ``results.txt``,
``results.json``, ``pareto_sets.csv``, ``specialized.csv`` and ``fronts.png`` to ``--out``.
The study is ``evo_nas/studies/platforms_published.py``.
"""
from __future__ import annotations

import argparse
import sys
import tempfile
from pathlib import Path

from evo_nas.base.outputs import add_out_arguments, default_out, out_or_exit
from evo_nas.spaces.loader import read_toml
from evo_nas.studies.platforms_published import platforms_study, report, write_results

HERE = Path(__file__).resolve().parent


def main(argv=None) -> int:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--config", default=str(HERE / "platforms_published.toml"))
    add_out_arguments(p, default_out("platforms_published"))
    args = p.parse_args(argv)
    out = out_or_exit(p, args.out, args.overwrite)
    cfg = read_toml(Path(args.config), "config")
    with tempfile.TemporaryDirectory(prefix="evo-nas-platforms-") as tmp:
        result, sets = platforms_study(cfg, Path(tmp))
    print(report(result))
    files = write_results(result, sets, out, "python experiments/platforms_published.py")
    print(f"wrote {', '.join(str(f) for f in files)}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
