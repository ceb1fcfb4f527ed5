"""Same search, two platforms (issue 16; MnasNet, Tan et al., 2019, arXiv 1807.11626, section 6.2).

MnasNet's thesis is that the best architectures differ from platform to platform, so latency
must come from the target. This runs the same seeded NSGA-II search on Once-for-All's space
twice, with Samsung Note10 latency (Once-for-All's per-layer tables, measured on the phone) and
with this machine's (its own per-layer table, torch, one thread), and reports:

1. this machine's table: distinct layers, build time (built first, serially, when missing);
2. rank agreement of the two platforms over seeded random subnets (Kendall tau): Note10 vs this
   machine measured end to end, and vs this machine's table;
3. the two Pareto sets: members shared, the choices they make (resolution, depth, kernel,
   expansion), each set re-scored on the other platform (this machine: predicted by the table
   and measured end to end), hypervolume and the lowest latency reaching a top-1 in each
   platform's objective space, and one figure with both fronts on both platforms.

Top-1 is Once-for-All's predictor on both platforms; only latency changes. ``platforms_study``
measures (run it on a quiet machine; ``measure=False`` skips the end-to-end measurements);
``write_results`` writes ``results.txt``, ``results.json``, ``pareto_sets.csv`` and ``fronts.png``.
``experiments/platforms.py`` runs it.
"""
from __future__ import annotations

import copy
import csv
import io
import json
import time
from pathlib import Path

import numpy as np

from ..analysis.pareto import hypervolume, non_dominated
from ..base.errors import validate
from ..base.jsonio import dumps
from ..engine.run import RunDir
from ..engine.runner import run_search
from ..latency import Protocol, make_runtime
from ..latency.devices import MeasuredLatency, default_table_path
from ..latency.lookup import LatencyTable
from ..latency.machine import machine_info
from ..latency.ofa_table import OFALatencyTable
from ..latency.table import build_table, calibration_genomes, space_layers
from ..problems.ofa import note10_files
from ..spaces.loader import load_space
from .latency_fidelity import PlatformsBenchKeys

PLATFORMS = ("note10", "this-machine")
LABEL = {"note10": "Note10", "this-machine": "this machine"}
TOP1_TARGETS = (0.76, 0.78, 0.80, 0.82)
TABLE_KEYS = ("runtime", "threads", "calibration", "seed", "warmup", "repeats", "rounds", "max_cv", "max_attempts")


def search_config(cfg: dict, device: str, table: Path) -> dict:
    """The configuration of one platform's search: the shared search, the platform's latency."""
    out = {k: copy.deepcopy(cfg[k]) for k in ("seed", "problem", "search", "objectives") if k in cfg}
    out["problem"] = {**out.get("problem", {}), "device": device}
    if device == "this-machine":
        lat = {k: v for k, v in cfg.get("latency", {}).items() if k in TABLE_KEYS}
        out["latency"] = {**lat, "mode": "table", "table": str(table), "fill": False}
    return out


def kendall(a, b) -> float:
    from scipy.stats import kendalltau

    return float(kendalltau(a, b).statistic)


def choices(space, keys: list[str]) -> dict:
    """What a set of architectures chooses: resolution counts, mean depth per stage, kernel and
    expansion shares over the active layers."""
    ofa = [space.to_ofa(space.parse(k).genes) for k in keys]
    ks = [k for o in ofa for k in o["ks"] if k]
    es = [e for o in ofa for e in o["e"] if e]
    return {"n": len(keys),
            "resolution": {r: sum(o["r"] == r for o in ofa) for r in space.resolutions},
            "depth_per_stage": [float(np.mean([o["d"][s] for o in ofa])) for s in range(len(space.stages))],
            "layers_mean": float(np.mean([sum(o["d"]) for o in ofa])),
            "kernel_share": {k: ks.count(k) / len(ks) for k in space.kernels},
            "expansion_share": {e: es.count(e) / len(es) for e in space.expansions}}


def best_latency(top1, lat, target: float) -> float | None:
    ok = np.asarray(top1) >= target
    return float(np.min(np.asarray(lat)[ok])) if ok.any() else None


def front_stats(sets: dict, column: str, ref_ms: float) -> dict:
    """Hypervolume (top-1 x ms, reference (0.70, ref_ms)) and lowest latency per top-1 target of each set."""
    out = {}
    for name, rows in sets.items():
        top1 = np.array([r["top1"] for r in rows])
        lat = np.array([r[column] for r in rows])
        F = np.stack([-top1, lat], 1)
        out[name] = {"hypervolume": hypervolume(F[non_dominated(F)], [-0.70, ref_ms]),
                     "dominated_by_other": None,
                     "best_ms": {f"{t:.2f}": best_latency(top1, lat, t) for t in TOP1_TARGETS}}
    a, b = PLATFORMS
    for me, other in ((a, b), (b, a)):
        mine = np.array([[-r["top1"], r[column]] for r in sets[me]])
        theirs = np.array([[-r["top1"], r[column]] for r in sets[other]])
        front = theirs[non_dominated(theirs)]
        dominated = [bool(np.any(np.all(front <= p, 1) & np.any(front < p, 1))) for p in mine]
        out[me]["dominated_by_other"] = int(sum(dominated))
    return out


def plot(sets: dict, columns: list[tuple[str, str]], path: Path) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, axes = plt.subplots(1, len(columns), figsize=(5.2 * len(columns), 4.2))
    style = {"note10": ("tab:blue", "o"), "this-machine": ("tab:orange", "s")}
    for ax, (column, title) in zip(np.atleast_1d(axes), columns):
        for name, rows in sets.items():
            color, marker = style[name]
            pts = np.array(sorted((r[column], r["top1"]) for r in rows))
            F = np.stack([pts[:, 0], -pts[:, 1]], 1)
            nd = pts[non_dominated(F)]
            ax.scatter(pts[:, 0], pts[:, 1] * 100, s=10, color=color, marker=marker, alpha=0.45,
                       label=f"searched on {LABEL[name]} ({len(rows)})")
            ax.step(nd[:, 0], nd[:, 1] * 100, where="post", color=color, lw=1.2)
        ax.set_xlabel(title)
        ax.set_ylabel("ImageNet top-1 (%), predicted")
        ax.grid(alpha=0.3)
        ax.legend(fontsize=8, loc="lower right")
    fig.suptitle("Same NSGA-II search, two platforms: each Pareto set scored on both", fontsize=10)
    fig.tight_layout()
    fig.savefig(path, dpi=130)
    plt.close(fig)


def _fmt(v, digits=2) -> str:
    return "-" if v is None else f"{v:.{digits}f}"


def report(r: dict) -> str:
    out = io.StringIO()
    w = out.write
    t = r["table"]
    w(f"machine : {r['machine']['cpu']} ({r['machine']['cores']} cores, {r['machine']['system']}, "
      f"id {r['machine']['id']})\n")
    w(f"runtime : {t['runtime']} {t['runtime_version']}, threads={t['threads']}, batch 1, allocator: {t['allocator']}\n")
    w(f"table   : {t['path']} ({t['entries']} of {t['distinct_layers']} distinct layers; "
      f"{'built in ' + format(t['build_s'], '.1f') + ' s this run' if t['built_here'] else 'already built'}; "
      f"fit {t['fit']} on {t['calibration_networks']} calibration networks)\n")
    s = r["search"]
    w(f"search  : NSGA-II, seed {s['seed']}, {s['evaluations']} evaluations on each platform "
      f"(wall {s['wall_s']['note10']:.1f} s on Note10 latency, {s['wall_s']['this-machine']:.1f} s on this machine's)\n")
    a = r["agreement"]
    w(f"\n1. Rank agreement over {a['genomes']} seeded random subnets (160-224 px), Kendall tau\n")
    w(f"   Note10 (table)        vs this machine, measured end to end : {_fmt(a.get('tau_note10_measured'), 3)}\n")
    w(f"   Note10 (table)        vs this machine, predicted by table  : {a['tau_note10_predicted']:.3f}\n")
    w(f"   this machine, table   vs this machine, measured           : {_fmt(a.get('tau_predicted_measured'), 3)}\n")
    w(f"   latency range: Note10 {a['note10_ms'][0]:.1f}-{a['note10_ms'][1]:.1f} ms, this machine "
      f"{a['here_ms'][0]:.1f}-{a['here_ms'][1]:.1f} ms ({a['here_source']})\n")
    p = r["pareto"]
    w(f"\n2. Pareto sets: {p['size']['note10']} searched on Note10, {p['size']['this-machine']} on this machine; "
      f"{p['shared']} architectures in both (Jaccard {p['jaccard']:.3f})\n")
    w(f"   {'choice':<30}{'Note10 set':>14}{'this-machine set':>20}\n")
    c = p["choices"]
    for res in c["note10"]["resolution"]:
        w(f"   {'resolution ' + str(res):<30}{c['note10']['resolution'][res]:>14}{c['this-machine']['resolution'][res]:>20}\n")
    for s_ in range(len(c["note10"]["depth_per_stage"])):
        w(f"   {'mean depth, stage ' + str(s_ + 1):<30}{c['note10']['depth_per_stage'][s_]:>14.2f}"
          f"{c['this-machine']['depth_per_stage'][s_]:>20.2f}\n")
    w(f"   {'mean layers':<30}{c['note10']['layers_mean']:>14.2f}{c['this-machine']['layers_mean']:>20.2f}\n")
    for k in c["note10"]["kernel_share"]:
        w(f"   {'kernel ' + str(k) + ' (share of layers)':<30}{c['note10']['kernel_share'][k]:>14.3f}"
          f"{c['this-machine']['kernel_share'][k]:>20.3f}\n")
    for e in c["note10"]["expansion_share"]:
        w(f"   {'expansion ' + str(e) + ' (share of layers)':<30}{c['note10']['expansion_share'][e]:>14.3f}"
          f"{c['this-machine']['expansion_share'][e]:>20.3f}\n")
    w("\n3. Each set scored on each platform (hypervolume of top-1 x ms from (0.70, reference ms); lowest ms\n"
      "   reaching a top-1; members dominated by the other set's front)\n")
    for column, stats in r["scored"].items():
        w(f"   on {stats['title']} (reference {stats['ref_ms']:.1f} ms)\n")
        w(f"     {'set':<26}{'HV':>9}{'dominated':>11}" + "".join(f"{'top1>=' + k:>13}" for k in TOP1_TARGETS_S) + "\n")
        for name in PLATFORMS:
            st = stats["sets"][name]
            w(f"     {'searched on ' + LABEL[name]:<26}{st['hypervolume']:>9.3f}{st['dominated_by_other']:>11}"
              + "".join(f"{_fmt(st['best_ms'][k]):>13}" for k in TOP1_TARGETS_S) + "\n")
    return out.getvalue()


TOP1_TARGETS_S = [f"{t:.2f}" for t in TOP1_TARGETS]


def platforms_study(cfg: dict, runs_root: Path, measure: bool = True,
                    keep_runs: bool = False) -> tuple[dict, dict, list[tuple[str, str]]]:
    """Build (or reuse) this machine's table, run the search of ``cfg`` on both platforms (run
    directories ``runs_root/<platform>``; recorded in the result when ``keep_runs``), score both
    Pareto sets on both. Returns the JSON-ready result, the sets
    (``{platform: [{"key", "top1", "note10_ms", "here_predicted_ms"[, "here_measured_ms"]}]}``) and the
    latency columns scored (name, title). ``measure=False``: no end-to-end measurement. A bad
    ``[bench]`` section is a ``ValueError`` before anything runs."""
    bench = validate(PlatformsBenchKeys, dict(cfg.get("bench") or {}), "bench")
    lat = cfg.get("latency", {})
    space = load_space((cfg.get("problem") or {}).get("space", "ofa-mbv3"))
    runtime = make_runtime(lat.get("runtime", "torch"), lat.get("threads", 1))
    protocol = Protocol.from_dict(lat)
    table_path = Path(bench.table or default_table_path(space, runtime))

    # 1. this machine's table, built before anything else runs
    built_here = not table_path.is_file() or not LatencyTable.load(table_path).calibrated
    table = build_table(space, runtime, protocol, table_path, calibration=lat.get("calibration"),
                        seed=lat.get("seed", 0), progress=built_here)
    result = {"machine": machine_info(), "config": cfg,
              "table": {"path": str(table_path), **runtime.describe(), "entries": len(table.entries),
                        "distinct_layers": len(space_layers(space)), "build_s": table.header.get("build_s"),
                        "built_here": built_here, "fit": table.calibration.get("fit"),
                        "calibration_networks": table.calibration.get("n")}}

    # 2. the same search on both platforms
    pareto, wall = {}, {}
    for device in PLATFORMS:
        t0 = time.perf_counter()
        run_search(search_config(cfg, device, table_path), runs_root / device, quiet=True)
        wall[device] = time.perf_counter() - t0
        pareto[device] = json.loads((runs_root / device / "pareto.json").read_text())["front"]
    run = RunDir(runs_root / "note10")
    result["search"] = {"seed": cfg.get("seed", 0),
                        "evaluations": run.summary().get("evaluations", len(run.evaluations())),
                        "wall_s": wall, "runs": str(runs_root) if keep_runs else None}

    note10 = OFALatencyTable(note10_files()).for_space(space)
    measured_model = MeasuredLatency(runtime, protocol)
    passes = bench.passes if measure else 0

    def measured(genomes) -> np.ndarray:
        return np.median([[measured_model.latency_ms(g.architecture()) for g in genomes] for _ in range(passes)], 0)

    # 3. rank agreement over random subnets
    sample = calibration_genomes(space, bench.genomes, int(cfg.get("seed", 0)) + 1)
    X = space.canonical_array(np.array([g.genes for g in sample]))
    n10 = note10.predict(X)
    pred = np.array([table.predict(g.architecture()) for g in sample])
    agreement = {"genomes": len(sample), "tau_note10_predicted": kendall(n10, pred),
                 "note10_ms": [float(n10.min()), float(n10.max())]}
    if passes:
        meas = measured(sample)
        agreement.update(tau_note10_measured=kendall(n10, meas), tau_predicted_measured=kendall(pred, meas),
                         here_ms=[float(meas.min()), float(meas.max())], here_source="measured")
    else:
        agreement.update(here_ms=[float(pred.min()), float(pred.max())], here_source="predicted")
    result["agreement"] = agreement

    # 4. the Pareto sets, each scored on both platforms
    sets = {}
    for device in PLATFORMS:
        rows = []
        for rec in pareto[device]:
            g = space.parse(rec["key"])
            rows.append({"key": rec["key"], "top1": rec["top1"],
                         "note10_ms": float(note10.predict(space.canonical_array(np.array([g.genes])))[0]),
                         "here_predicted_ms": float(table.predict(g.architecture()))})
        sets[device] = rows
    if passes:
        union = {r["key"]: space.parse(r["key"]) for rows in sets.values() for r in rows}
        ms = dict(zip(union, measured(list(union.values()))))
        for rows in sets.values():
            for r in rows:
                r["here_measured_ms"] = float(ms[r["key"]])
    keys = {d: {r["key"] for r in sets[d]} for d in PLATFORMS}
    shared = keys["note10"] & keys["this-machine"]
    result["pareto"] = {"size": {d: len(sets[d]) for d in PLATFORMS}, "shared": len(shared),
                        "jaccard": len(shared) / len(keys["note10"] | keys["this-machine"]),
                        "choices": {d: choices(space, sorted(keys[d])) for d in PLATFORMS}}
    columns = [("note10_ms", "Note10 latency (ms), per-layer table of phone measurements"),
               ("here_predicted_ms", "this machine's latency (ms), predicted by its table")]
    if passes:
        columns.append(("here_measured_ms", "this machine's latency (ms), measured end to end"))
    result["scored"] = {}
    for column, title in columns:
        ref = 1.1 * max(r[column] for rows in sets.values() for r in rows)
        result["scored"][column] = {"title": title, "ref_ms": ref, "sets": front_stats(sets, column, ref)}
    return result, sets, columns


def write_results(result: dict, sets: dict, columns: list[tuple[str, str]], out: Path, command: str) -> list[Path]:
    """Write the study's files into ``out`` (created); ``command`` heads results.txt. Returns the paths."""
    out.mkdir(parents=True, exist_ok=True)
    (out / "results.txt").write_text(f"# {command}\n" + report(result))
    (out / "results.json").write_text(dumps(result, indent=1) + "\n")
    with open(out / "pareto_sets.csv", "w", newline="") as f:
        fields = ["searched_on", "key", "top1", "note10_ms", "here_predicted_ms"] + [c for c, _ in columns[2:]]
        w = csv.DictWriter(f, fieldnames=fields)
        w.writeheader()
        for device in PLATFORMS:
            for r in sorted(sets[device], key=lambda r: r["top1"]):
                w.writerow({"searched_on": device, **r})
    plot(sets, columns, out / "fronts.png")
    return [out / f for f in ("results.txt", "results.json", "pareto_sets.csv", "fronts.png")]
