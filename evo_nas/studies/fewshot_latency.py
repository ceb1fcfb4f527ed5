"""How well a new device's latency is predicted from N networks measured on it (``evo_nas.latency.fewshot``).

Ground truth is published end-to-end measurement, read through the data layer:
- HELP's GPU latencies of Once-for-All subnets (Lee et al., NeurIPS 2021; benchmark ``ofa``,
  ``help_gpu/ofa_gpu_latency.csv``): the 1,013 subnets on the ``ofa-mbv3`` grid (160-224 px),
  12 columns (4 GPUs x batch 1, 32, 64), each taken as a new device; the known table is
  Once-for-All's Note10 table (or NSGANetV2's i7-8700K table);
- NAS-Bench-201's 15,625 cells on 27 devices (benchmark ``nb201``): each device taken as a new
  one, the known table being another device's column, chosen among the other 26 by the
  cross-validated error on the same N networks (nothing else of the new device is used), with
  the cell's operation counts as per-layer-type features.

For each N, ``draws`` seeded samples of N networks are fitted; the scores are on all the other
networks. Reported: the median over draws and its range (min-max).
"""
from __future__ import annotations

import csv

import numpy as np

from ..latency import fewshot
from ..problems import benchdata

NB201_OPS = ("nor_conv_3x3", "nor_conv_1x1", "avg_pool_3x3", "skip_connect")
SCORES = ("kendall_tau", "mape_pct", "within_10_pct")
NB201_CEILING_N = 2000


def help_data(base: str = "note10", data_dir=None) -> tuple[dict[str, np.ndarray], dict[str, np.ndarray]]:
    """(features from ``base``'s table, {column: latency ms}) of HELP's subnets on the ofa-mbv3 grid."""
    from ..latency.ofa_table import OFALatencyTable
    from ..problems.ofa import TABLE_DEVICES
    from ..spaces.loader import load_space

    space = load_space("ofa-mbv3")
    path = benchdata.data_file("ofa", "help_gpu/ofa_gpu_latency.csv", data_dir)
    with open(path, newline="") as f:
        rows = [r for r in csv.DictReader(f) if int(r["r"]) in space.resolutions]
    X = space.canonical_array(np.array([space.from_ofa([int(r[f"ks{i}"]) for i in range(20)],
                                                       [int(r[f"e{i}"]) for i in range(20)],
                                                       [int(r[f"d{i}"]) for i in range(5)], int(r["r"]))
                                        for r in rows]))
    table = OFALatencyTable(TABLE_DEVICES[base][0](data_dir), base).for_space(space)
    columns = {c[4:]: np.array([float(r[c]) for r in rows]) for c in rows[0] if c.startswith("lat_")}
    return fewshot.ofa_features(table, X), columns


def measured_here(files: dict, base: str = "note10", data_dir=None) -> tuple[dict, dict]:
    """(features from ``base``'s table, {runtime: latency ms}) of the 100 subnets the latency fidelity study
    measured on this project's machine (``files``: {runtime: its JSON}, the median of 3 passes)."""
    import json

    from ..latency.ofa_table import OFALatencyTable
    from ..problems.ofa import TABLE_DEVICES
    from ..spaces.loader import load_space

    space = load_space("ofa-mbv3")
    runs = {rt: json.loads(open(f).read())[0] for rt, f in files.items()}
    keys = next(iter(runs.values()))["keys"]
    if any(r["keys"] != keys for r in runs.values()):
        raise ValueError("the runtimes' fidelity files measured different networks")
    X = space.canonical_array(np.array([space.parse(k).genes for k in keys]))
    table = OFALatencyTable(TABLE_DEVICES[base][0](data_dir), base).for_space(space)
    return fewshot.ofa_features(table, X), {rt: np.asarray(r["measured"], float) for rt, r in runs.items()}


def nb201_data(data_dir=None) -> tuple[dict[str, np.ndarray], dict[str, np.ndarray]]:
    """({operation: count per cell}, {device: latency ms}) of NAS-Bench-201's 15,625 cells."""
    path = benchdata.data_file("nb201", "nb201.csv", data_dir)
    with open(path, newline="") as f:
        rows = list(csv.DictReader(f))
    ops = {o: np.array([float(r["arch"].count(o + "~")) for r in rows]) for o in NB201_OPS}
    columns = {c[4:]: np.array([float(r[c]) for r in rows]) for c in rows[0] if c.startswith("lat_")}
    return ops, columns


def nb201_candidates(target: str, columns: dict, allowed=None) -> tuple[dict, dict]:
    """Features and candidate models for NAS-Bench-201 device ``target``: every other device (or those of
    ``allowed``) as the known table (alone, or with the operation counts), and the operation counts alone."""
    feats, cands = {}, {"ops": NB201_OPS}
    for dev, col in columns.items():
        if dev != target and (allowed is None or dev in allowed):
            feats[f"ref:{dev}"] = col
            cands[dev] = (f"ref:{dev}",)
            cands[f"{dev}+ops"] = (f"ref:{dev}", *NB201_OPS)
    return feats, cands


def evaluate(features: dict, y: np.ndarray, n: int, draws: int, seed: int, candidates=None, fitter=None) -> dict:
    """Scores over ``draws`` seeded samples of ``n`` training networks, on the rest: {score: [per draw]},
    and the model chosen in each draw (``models``). ``fitter(features, y) -> FewShotModel`` replaces
    ``fewshot.fit`` with ``candidates`` (the same draws whatever the fitter)."""
    fitter = fitter or (lambda f, t: fewshot.fit(f, t, candidates))
    out = {k: [] for k in (*SCORES, "spearman_rho")}
    out["models"] = []
    for d in range(draws):
        rng = np.random.default_rng([seed, n, d])
        idx = rng.permutation(len(y))
        train, test = idx[:n], idx[n:]
        m = fitter({k: v[train] for k, v in features.items()}, y[train])
        s = fewshot.scores(m.predict({k: v[test] for k, v in features.items()}), y[test])
        for k in out:
            if k != "models":
                out[k].append(s[k])
        out["models"].append(m.model if m.model != "forward" else "+".join(m.features))
    return out


def summary(values) -> tuple[float, float, float]:
    v = np.asarray(values, float)
    return float(np.median(v)), float(v.min()), float(v.max())


def run(ns=(10, 20, 50, 100), draws: int = 10, seed: int = 0, data_dir=None, progress: bool = True,
        here: dict | None = None) -> dict:
    """Every device of both benchmarks at every N: {"help": {base: {column: {N: result}}}, "nb201": {...}};
    with ``here`` ({runtime: fidelity JSON}), this machine's measured subnets too (N up to half of them)."""
    from tqdm import tqdm

    results: dict = {"help": {}, "nb201": {}, "ns": list(ns), "draws": draws, "seed": seed, "ceiling": {},
                     "here": {}}
    for base in ("note10", "i7-8700k") if here else ():
        feats, columns = measured_here(here, base, data_dir)
        results["here"][base] = {rt: {n: evaluate(feats, y, n, draws, seed) for n in ns if n <= len(y) // 2}
                                 for rt, y in columns.items()}
    for base in ("note10", "i7-8700k"):
        feats, columns = help_data(base, data_dir)
        results["help"][base] = {c: {n: evaluate(feats, y, n, draws, seed) for n in ns}
                                 for c, y in tqdm(columns.items(), desc=f"HELP / {base}", disable=not progress)}
        if base == "note10":
            # the same models fitted on 80% of the subnets: what the features can explain at all
            n = int(0.8 * len(next(iter(columns.values()))))
            results["ceiling"] = {"n": n, **{c: evaluate(feats, y, n, 3, seed) for c, y in columns.items()}}
    ops, columns = nb201_data(data_dir)
    results["nb201_ceiling"] = {"n": NB201_CEILING_N}
    for dev, y in tqdm(columns.items(), desc="NAS-Bench-201", disable=not progress):
        refs, cands = nb201_candidates(dev, columns)
        results["nb201"][dev] = {n: evaluate({**ops, **refs}, y, n, draws, seed, cands) for n in ns}
        results["nb201_ceiling"][dev] = evaluate({**ops, **refs}, y, NB201_CEILING_N, 3, seed, cands)
    return results


def _row(name: str, by_n: dict, ns) -> str:
    cells = []
    for n in ns:
        r = by_n[n]
        t, m, w = (summary(r[k]) for k in SCORES)
        cells.append(f"{t[0]:.3f} ({t[1]:.2f}-{t[2]:.2f}) {m[0]:5.1f}% {w[0]:5.1f}%")
    return f"{name:<18}" + " | ".join(cells)


def _mean_row(name: str, by_dev: dict, ns) -> str:
    cells = []
    for n in ns:
        med = {k: np.mean([summary(by_dev[d][n][k])[0] for d in by_dev]) for k in SCORES}
        cells.append(f"{med['kendall_tau']:.3f}             {med['mape_pct']:5.1f}% {med['within_10_pct']:5.1f}%")
    return f"{name:<18}" + " | ".join(cells)


def _met(by_dev: dict, targets: tuple[float, float], n: int = 20) -> str:
    """How many devices meet each target at ``n`` networks (medians over draws)."""
    if not all(n in r for r in by_dev.values()):
        return ""
    tau = sum(summary(r[n]["kendall_tau"])[0] >= targets[0] for r in by_dev.values())
    within = sum(summary(r[n]["within_10_pct"])[0] >= targets[1] for r in by_dev.values())
    return (f"at N={n}: tau >= {targets[0]} on {tau} of {len(by_dev)} devices, within 10% >= {targets[1]:.0f}% on "
            f"{within} of {len(by_dev)}")


def _ceiling(ceiling: dict | None, what: str) -> list[str]:
    """What the features can explain at all: the models fitted on many networks (median of 3 draws)."""
    if not ceiling:
        return []
    cells = [f"{c} {summary(r['kendall_tau'])[0]:.3f} / {summary(r['within_10_pct'])[0]:.0f}%"
             for c, r in ceiling.items() if c != "n"]
    lines = [f"Ceiling: {what.format(n=ceiling['n'])}, median of 3 draws, scored on the rest: tau / within 10%"]
    lines += ["  " + ", ".join(cells[i:i + 6]) for i in range(0, len(cells), 6)]
    return lines + [""]


def format_report(results: dict, help_published: str, targets: tuple[float, float]) -> str:
    ns = results["ns"]
    head = f"{'device':<18}" + " | ".join(f"N={n}: tau (range)    MAPE  in10%" for n in ns)
    lines = [f"Few-shot latency models: median over {results['draws']} seeded draws of N networks (seed "
             f"{results['seed']}), scored on every other network; tau = Kendall tau, MAPE, in10% = share within "
             f"+-10%.", f"Targets (N = 20): tau >= {targets[0]}, within 10% >= {targets[1]}%.", ""]
    for base, by_rt in results.get("here", {}).items():
        lines += [f"This project's machine (2-core AMD EPYC, 1 thread, batch 1), 100 subnets measured by "
                  f"experiments/bench_latency_fidelity.py; known table: {base}", head]
        lines += [_row(rt, r, [n for n in ns if n in r]) for rt, r in by_rt.items()]
        lines.append("")
    for base, by_col in results["help"].items():
        lines += [f"HELP GPU latencies of 1,013 Once-for-All subnets (160-224 px); known table: {base}", head]
        lines += [_row(c, by_col[c], ns) for c in by_col]
        lines += [_mean_row("mean of devices", by_col, ns), _met(by_col, targets), ""]
    lines += _ceiling(results.get("ceiling"), "the same models (note10 features) fitted on {n} subnets (80%)")
    by_dev = results["nb201"]
    lines += ["NAS-Bench-201, 15,625 cells x 27 devices; known table: another device (chosen on the N networks) "
              "and/or operation counts", head]
    lines += [_row(d, by_dev[d], ns) for d in by_dev]
    lines += [_mean_row("mean of devices", by_dev, ns), _met(by_dev, targets), f"published: {help_published}", ""]
    lines += _ceiling(results.get("nb201_ceiling"), "the same candidates fitted on {n} cells")
    lines.append("Most chosen model at N=20 (NAS-Bench-201): " + ", ".join(
        f"{d}: {max(set(r[20]['models']), key=r[20]['models'].count)}" for d, r in by_dev.items()
        if 20 in r))
    return "\n".join(lines)


__all__ = ["help_data", "nb201_data", "nb201_candidates", "evaluate", "run", "format_report", "summary"]
