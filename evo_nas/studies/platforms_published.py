"""Same search, two published platforms: Samsung Note10 against the Intel i7-8700K on Once-for-All's space
(MnasNet, Tan et al., 2019, arXiv 1807.11626, section 6.2; Once-for-All, Cai et al., ICLR 2020; NSGANetV2,
Lu et al., ECCV 2020, for the i7-8700K table).

``platforms_study(config, workdir)`` runs the config's seeded NSGA-II search once per platform
(run directories in ``workdir``) and scores: the rank agreement of the two latencies (Kendall
tau) over both searches' evaluations, seeded random subnets and the two Pareto sets; the choices
each Pareto set makes; each set on each platform (hypervolume, members the other set's front
dominates, lowest latency reaching a top-1); Once-for-All's specialized networks on both.
``write_results`` writes results.txt/json, pareto_sets.csv, specialized.csv and fronts.png.
Both latencies are published per-layer tables, so the result does not depend on this machine.
``experiments/platforms_published.py`` runs it.
"""
from __future__ import annotations

import copy
import csv
import io
import json
from pathlib import Path

import numpy as np

from ..analysis.pareto import hypervolume, non_dominated
from ..base.jsonio import dumps
from ..engine.run import RunDir
from ..engine.runner import run_search
from ..problems import make_problem
from ..spaces.loader import known_names, load_known, load_space

PLATFORMS = ("note10", "i7-8700k")
LABEL = {"note10": "Note10", "i7-8700k": "i7-8700K"}
TOP1_TARGETS = (0.76, 0.78, 0.80, 0.82)
RANDOM_SUBNETS = 1000


def kendall(a, b) -> float:
    from scipy.stats import kendalltau

    return float(kendalltau(a, b).statistic)


def choices(space, keys) -> dict:
    """What a set of architectures chooses: resolution counts; per stage the mean depth and the mean
    kernel and expansion of its active layers; kernel and expansion shares over all active layers."""
    ofa = [space.to_ofa(space.parse(k).genes) for k in keys]
    n_stages, slots = len(space.stages), len(ofa[0]["ks"]) // len(space.stages)

    def per_stage(field):
        return [float(np.mean([v for o in ofa for v in o[field][s * slots:(s + 1) * slots] if v]))
                for s in range(n_stages)]
    ks = [k for o in ofa for k in o["ks"] if k]
    es = [e for o in ofa for e in o["e"] if e]
    return {"n": len(ofa), "resolution": {r: sum(o["r"] == r for o in ofa) for r in space.resolutions},
            "depth": [float(np.mean([o["d"][s] for o in ofa])) for s in range(n_stages)],
            "kernel": per_stage("ks"), "expansion": per_stage("e"),
            "layers_mean": float(np.mean([sum(o["d"]) for o in ofa])),
            "kernel_share": {k: ks.count(k) / len(ks) for k in space.kernels},
            "expansion_share": {e: es.count(e) / len(es) for e in space.expansions}}


def score(problems: dict, space, keys: list[str]) -> dict:
    """key -> {"top1", "<platform>_ms" for each platform}, from each platform's problem."""
    genomes = [space.parse(k) for k in keys]
    out = {k: {} for k in keys}
    for d, p in problems.items():
        for k, rec in zip(keys, p.evaluate(genomes)):
            out[k].update(top1=float(rec["top1"]), **{f"{d}_ms": float(rec["latency_ms"])})
    return out


def dominated_by(front_pts: np.ndarray, p: np.ndarray) -> bool:
    return bool(np.any(np.all(front_pts <= p, 1) & np.any(front_pts < p, 1)))


def set_stats(sets: dict, column: str) -> dict:
    """Per set on one platform's latency: hypervolume (top-1 x ms from (0.70, 1.1 x the largest ms of
    both sets)), members the other set's front dominates, lowest ms reaching each top-1 target."""
    ref = 1.1 * max(r[column] for rows in sets.values() for r in rows)
    pts = {d: np.array([[-r["top1"], r[column]] for r in rows]) for d, rows in sets.items()}
    out = {"ref_ms": ref}
    for d in PLATFORMS:
        other = pts[[o for o in PLATFORMS if o != d][0]]
        front = other[non_dominated(other)]
        F = pts[d]
        out[d] = {"hypervolume": hypervolume(F[non_dominated(F)], [-0.70, ref]),
                  "dominated_by_other": int(sum(dominated_by(front, p) for p in F)),
                  "best_ms": {f"{t:.2f}": (float(F[-F[:, 0] >= t, 1].min()) if (-F[:, 0] >= t).any() else None)
                              for t in TOP1_TARGETS}}
    return out


def specialized(problems: dict, space, sets: dict) -> tuple[list[dict], list[str]]:
    """The known Once-for-All networks whose resolution is on the space's grid, scored on both platforms
    (genes of the width-1.2 space the predictor and tables describe), and the names off the grid."""
    rows, off = [], []
    for name in (n for n in known_names() if n.startswith("ofa_")):
        k = load_known(name)
        if k.space.resolution not in space.resolutions:
            off.append(name)
            continue
        key = space.parse(k.genome().key).key
        s = score(problems, space, [key])[key]
        row = {"name": name, "target": f"{k.flops_target_m:g}M FLOPs" if k.flops_target_m else
               f"{k.latency_target_ms:g} ms on {k.device}", "width": k.space.width_multiplier,
               "resolution": k.space.resolution, "published_top1": k.top1, "predicted_top1": s["top1"]}
        for d in PLATFORMS:
            row[f"{d}_ms"] = s[f"{d}_ms"]
            for searched in PLATFORMS:
                F = np.array([[-r["top1"], r[f"{d}_ms"]] for r in sets[searched]])
                row[f"on_{d}_dominated_by_{searched}_set"] = dominated_by(F[non_dominated(F)],
                                                                          np.array([-s["top1"], s[f"{d}_ms"]]))
        rows.append(row)
    return rows, off


def plot(sets: dict, spec: list[dict], path: Path) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, axes = plt.subplots(1, 2, figsize=(10.4, 4.2))
    style = {"note10": ("tab:blue", "o"), "i7-8700k": ("tab:orange", "s")}
    for ax, d in zip(axes, PLATFORMS):
        for name, rows in sets.items():
            color, marker = style[name]
            pts = np.array(sorted((r[f"{d}_ms"], r["top1"]) for r in rows))
            nd = pts[non_dominated(np.stack([pts[:, 0], -pts[:, 1]], 1))]
            ax.scatter(pts[:, 0], pts[:, 1] * 100, s=10, color=color, marker=marker, alpha=0.45,
                       label=f"searched on {LABEL[name]} ({len(rows)})")
            ax.step(nd[:, 0], nd[:, 1] * 100, where="post", color=color, lw=1.2)
        mine = [r for r in spec if r["target"].endswith("note10")]
        ax.scatter([r[f"{d}_ms"] for r in mine], [r["predicted_top1"] * 100 for r in mine], marker="*", s=70,
                   color="black", label="OFA's Note10-specialized nets (predicted top-1)")
        ax.set_xlabel(f"{LABEL[d]} latency (ms), published per-layer table")
        ax.set_ylabel("ImageNet top-1 (%), predicted")
        ax.grid(alpha=0.3)
        ax.legend(fontsize=7, loc="lower right")
    fig.suptitle("Same NSGA-II search on two published platforms: each Pareto set scored on both", fontsize=10)
    fig.tight_layout()
    fig.savefig(path, dpi=130)
    plt.close(fig)


def _f(v, digits=2) -> str:
    return "-" if v is None else f"{v:.{digits}f}"


def report(r: dict) -> str:
    out = io.StringIO()
    w = out.write
    s, a, p = r["search"], r["agreement"], r["pareto"]
    w(f"search  : NSGA-II, seed {s['seed']}, {s['evaluations']['note10']} and {s['evaluations']['i7-8700k']} "
      f"evaluations (Note10, i7-8700K latency); top-1 from Once-for-All's predictor on both\n")
    w("\n1. Rank agreement of Note10 and i7-8700K latency, Kendall tau\n")
    w(f"   over the union of both searches' evaluations ({a['union']} subnets) : {a['tau_union']:.3f}\n")
    w(f"   over {a['random']} seeded random subnets                         : {a['tau_random']:.3f}\n")
    w(f"   within the union of the two Pareto sets ({a['pareto_union']})          : {a['tau_pareto']:.3f}\n")
    w(f"   latency of the random subnets: Note10 {a['ms']['note10'][0]:.1f}-{a['ms']['note10'][1]:.1f} ms, "
      f"i7-8700K {a['ms']['i7-8700k'][0]:.1f}-{a['ms']['i7-8700k'][1]:.1f} ms\n")
    w(f"\n2. Pareto sets: {p['size']['note10']} searched on Note10, {p['size']['i7-8700k']} on i7-8700K; "
      f"{p['shared']} in both (Jaccard {p['jaccard']:.3f})\n")
    c = p["choices"]
    w(f"   {'choice':<34}{'Note10 set':>12}{'i7-8700K set':>14}\n")
    for res in c["note10"]["resolution"]:
        w(f"   {'resolution ' + str(res):<34}{c['note10']['resolution'][res]:>12}{c['i7-8700k']['resolution'][res]:>14}\n")
    for field, what in (("depth", "depth"), ("kernel", "mean kernel"), ("expansion", "mean expansion")):
        for i in range(len(c["note10"][field])):
            w(f"   {what + ', stage ' + str(i + 1):<34}{c['note10'][field][i]:>12.2f}{c['i7-8700k'][field][i]:>14.2f}\n")
    w(f"   {'mean layers':<34}{c['note10']['layers_mean']:>12.2f}{c['i7-8700k']['layers_mean']:>14.2f}\n")
    for name, share in (("kernel", "kernel_share"), ("expansion", "expansion_share")):
        for v in c["note10"][share]:
            w(f"   {name + ' ' + str(v) + ' (share of layers)':<34}{c['note10'][share][v]:>12.3f}"
              f"{c['i7-8700k'][share][v]:>14.3f}\n")
    w("\n3. Each set scored on each platform (HV of top-1 x ms from (0.70, reference ms); members the other\n"
      "   set's front dominates; lowest ms reaching a top-1)\n")
    for d in PLATFORMS:
        st = r["scored"][d]
        w(f"   on {LABEL[d]} latency (reference {st['ref_ms']:.1f} ms)\n")
        w(f"     {'set':<24}{'HV':>8}{'dominated':>11}" + "".join(f"{'top1>=' + f'{t:.2f}':>13}" for t in TOP1_TARGETS) + "\n")
        for name in PLATFORMS:
            x = st[name]
            w(f"     {'searched on ' + LABEL[name]:<24}{x['hypervolume']:>8.3f}{x['dominated_by_other']:>11}"
              + "".join(f"{_f(x['best_ms'][f'{t:.2f}']):>13}" for t in TOP1_TARGETS) + "\n")
    w("\n4. Once-for-All's specialized networks on the space's resolutions, scored on both platforms (genes in the\n"
      "   width-1.2 space of the predictor and tables; published top-1 is after fine-tuning, width as published).\n"
      "   D: dominated by the front searched on (n) Note10 / (i) i7-8700K, on that platform's latency\n")
    w(f"   {'network':<20}{'target':>20}{'w':>5}{'px':>5}{'published':>10}{'predicted':>10}{'Note10 ms':>10}"
      f"{'i7 ms':>8}  {'D on Note10':>11}  {'D on i7':>8}\n")
    for x in r["specialized"]:
        def dom(d):
            return "".join(t for t, s_ in (("n", "note10"), ("i", "i7-8700k")) if x[f"on_{d}_dominated_by_{s_}_set"]) or "-"
        w(f"   {x['name']:<20}{x['target']:>20}{x['width']:>5.1f}{x['resolution']:>5}{x['published_top1'] * 100:>10.1f}"
          f"{x['predicted_top1'] * 100:>10.1f}{x['note10_ms']:>10.2f}{x['i7-8700k_ms']:>8.2f}  {dom('note10'):>11}  "
          f"{dom('i7-8700k'):>8}\n")
    sp = r["specialized"]
    w(f"   predicted vs published top-1 over these {len(sp)}: Kendall tau "
      f"{kendall([x['predicted_top1'] for x in sp], [x['published_top1'] for x in sp]):.3f}, predicted higher by "
      f"{min(x['predicted_top1'] - x['published_top1'] for x in sp) * 100:.1f}-"
      f"{max(x['predicted_top1'] - x['published_top1'] for x in sp) * 100:.1f} points\n")
    w(f"   off the resolution grid (not scored): {', '.join(r['specialized_off_grid'])}\n")
    w("   Once-for-All published no network specialized for the i7-8700K (its CPU networks are ProxylessNAS-based).\n")
    return out.getvalue()


def platforms_study(cfg: dict, workdir: Path) -> tuple[dict, dict]:
    """The study's result (JSON-ready) and each platform's Pareto set scored on both platforms
    (``{platform: [{"key", "top1", "note10_ms", "i7-8700k_ms"}]}``); ``cfg``'s ``[problem] device``
    is set per platform, the two run directories go in ``workdir``."""
    space = load_space((cfg.get("problem") or {}).get("space", "ofa-mbv3"))
    configs = {d: {**copy.deepcopy(cfg), "problem": {**cfg.get("problem", {}), "device": d}} for d in PLATFORMS}
    problems = {d: make_problem(c) for d, c in configs.items()}
    evaluated, pareto = {}, {}
    for d in PLATFORMS:
        run_search(configs[d], workdir / d, quiet=True)
        evaluated[d] = [r["key"] for r in RunDir(workdir / d).evaluations()]
        pareto[d] = [r["key"] for r in json.loads((workdir / d / "pareto.json").read_text())["front"]]
    union = sorted(set(evaluated["note10"]) | set(evaluated["i7-8700k"]))
    scores = score(problems, space, union)
    rng = np.random.default_rng(int(cfg.get("seed", 0)) + 1)
    random_keys = sorted({space.sample(rng).key for _ in range(RANDOM_SUBNETS)})
    rs = score(problems, space, random_keys)
    sets = {d: [{"key": k, **scores[k]} for k in pareto[d]] for d in PLATFORMS}
    pu = sorted(set(pareto["note10"]) | set(pareto["i7-8700k"]))
    result = {"config": cfg, "search": {"seed": cfg.get("seed", 0),
                                        "evaluations": {d: len(evaluated[d]) for d in PLATFORMS}}}
    result["agreement"] = {
        "union": len(union), "tau_union": kendall(*[[scores[k][f"{d}_ms"] for k in union] for d in PLATFORMS]),
        "random": len(random_keys), "tau_random": kendall(*[[rs[k][f"{d}_ms"] for k in random_keys] for d in PLATFORMS]),
        "pareto_union": len(pu), "tau_pareto": kendall(*[[scores[k][f"{d}_ms"] for k in pu] for d in PLATFORMS]),
        "ms": {d: [min(rs[k][f"{d}_ms"] for k in random_keys), max(rs[k][f"{d}_ms"] for k in random_keys)]
               for d in PLATFORMS}}
    shared = set(pareto["note10"]) & set(pareto["i7-8700k"])
    result["pareto"] = {"size": {d: len(pareto[d]) for d in PLATFORMS}, "shared": len(shared),
                        "jaccard": len(shared) / len(pu), "choices": {d: choices(space, pareto[d]) for d in PLATFORMS}}
    result["scored"] = {d: set_stats(sets, f"{d}_ms") for d in PLATFORMS}
    result["specialized"], result["specialized_off_grid"] = specialized(problems, space, sets)
    return result, sets


def write_results(result: dict, sets: dict, out: Path, command: str) -> list[Path]:
    """Write the study's files into ``out`` (created); ``command`` heads results.txt. Returns the paths."""
    out.mkdir(parents=True, exist_ok=True)
    (out / "results.txt").write_text(f"# {command}\n" + report(result))
    (out / "results.json").write_text(dumps(result, indent=1) + "\n")
    with open(out / "pareto_sets.csv", "w", newline="") as f:
        w = csv.DictWriter(f, fieldnames=["searched_on", "key", "top1", "note10_ms", "i7-8700k_ms"])
        w.writeheader()
        for d in PLATFORMS:
            for r in sorted(sets[d], key=lambda r: r["top1"]):
                w.writerow({"searched_on": d, **r})
    with open(out / "specialized.csv", "w", newline="") as f:
        w = csv.DictWriter(f, fieldnames=list(result["specialized"][0]))
        w.writeheader()
        w.writerows(result["specialized"])
    plot(sets, result["specialized"], out / "fronts.png")
    return [out / f for f in ("results.txt", "results.json", "pareto_sets.csv", "specialized.csv", "fronts.png")]
