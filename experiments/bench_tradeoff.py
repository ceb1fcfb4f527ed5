"""Benchmark: does a proxy see an accuracy/latency trade-off, and how large a front does the search find?

    python experiments/bench_tradeoff.py [experiments/tradeoff.toml] [--out results.json]
    python experiments/bench_tradeoff.py --searches experiments/mnist_train.toml --seeds 0 1 2 --budgets 16x10 22x13

The first form scores random genomes with each proxy of ``[tradeoff]`` (see
``evo_nas/studies/proxy_tradeoff.py``). The second runs the given search config once per seed and budget
(population x generations), in a fresh directory with the cache off, and prints the final front
size, the front size per generation, hypervolume and wall time.
"""
from __future__ import annotations

import argparse
import tempfile
from pathlib import Path

from evo_nas.base.files import atomic_write
from evo_nas.base.jsonio import dumps
from evo_nas.base.outputs import add_overwrite_argument, out_or_exit
from evo_nas.spaces.loader import read_toml


def _budget(text: str) -> tuple[int, int]:
    try:
        pop, gens = (int(x) for x in text.lower().split("x"))
    except ValueError:
        raise argparse.ArgumentTypeError(f"budget {text!r} must look like 16x10 (population x generations)") from None
    return pop, gens


def _write(path: Path, payload: dict) -> None:
    atomic_write(path, dumps(payload, indent=1, default=str).encode())


def study(config_path: Path, out: Path | None) -> None:
    from evo_nas.accuracy.evaluate import EvalConfig
    from evo_nas.studies.proxy_tradeoff import format_report, summarize, tradeoff_study

    config = read_toml(config_path, "config")
    result = tradeoff_study(config)
    space = EvalConfig.from_dict({k: config[k] for k in ("space", "data") if k in config}).space()
    summary = summarize(result, space)
    print(format_report(result, summary))
    if out:
        _write(out, {"study": result, "summary": summary})


def searches(config_path: Path, seeds: list[int], budgets: list[tuple[int, int]], out: Path | None) -> None:
    from evo_nas.studies.front_budget import budget_searches

    with tempfile.TemporaryDirectory(prefix="evo-nas-fronts-") as tmp:
        rows = budget_searches(read_toml(config_path, "config"), seeds, budgets, Path(tmp),
                               log=lambda line: print(line, flush=True))
    if out:
        _write(out, {"config": str(config_path), "runs": rows})


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("config", nargs="?", type=Path, default=Path(__file__).with_name("tradeoff.toml"))
    ap.add_argument("--searches", type=Path, metavar="SEARCH_CONFIG", help="run this search config per seed and budget")
    ap.add_argument("--seeds", type=int, nargs="+", default=[0, 1, 2])
    ap.add_argument("--budgets", type=_budget, nargs="+", default=None, help="population x generations, e.g. 16x10")
    ap.add_argument("--out", type=Path, help="write every record and the summary as JSON")
    add_overwrite_argument(ap)
    args = ap.parse_args()
    out_or_exit(ap, args.out, args.overwrite)
    if args.searches:
        budgets = args.budgets
        if budgets is None:
            s = read_toml(args.searches, "config").get("search", {})
            budgets = [(s.get("pop_size", 16), s.get("generations", 10))]
        searches(args.searches, args.seeds, budgets, args.out)
    else:
        study(args.config, args.out)


if __name__ == "__main__":
    main()
