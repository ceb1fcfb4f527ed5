"""Few-shot latency from several known devices (``evo_nas.latency.multisource``) beside one (``fewshot``), and the
noise that bounds both.

Settings (ground truth and draws as in ``fewshot_latency``: the same seeded N networks per draw):
- HELP's GPU latencies of 1,013 Once-for-All subnets: sources are the other 11 columns and the
  Note10 table's sums; ``strict`` leaves out the same GPU at other batch sizes;
- NAS-Bench-201's 27 devices: sources are the other 26 columns and the operation counts;
  ``strict`` leaves out the same hardware at other batch sizes (for 1080ti_1: 1080ti_32 and
  1080ti_256). The single-source method of ``fewshot_latency`` is run in both settings too;
- HELP's own split of NAS-Bench-201 (github HayeonLee/HELP, ``script/run_meta_test_nasbench201.sh``):
  the 6 meta-test devices, the 13 meta-train and meta-validation devices as the only sources;
  HELP's Table 3 reports Spearman's rho with 10 networks of the device (plus its hardware
  embedding: the device's latencies of 10 fixed reference cells), mean 0.932.

Noise: in NAS-Bench-201, a cell whose edge 1->2 is ``none`` computes exactly what the cell with
nodes 1 and 2 swapped computes (1,500 such pairs with different strings, each measured on its
own): their two latencies differ by measurement noise only. ``noise_ceiling`` turns the pairs'
spread into the Kendall tau and within-10% share that a perfect predictor would score against
one noisy measurement.
"""
from __future__ import annotations

import csv
import re

import numpy as np

from ..latency import multisource
from ..problems import benchdata
from .fewshot_latency import NB201_OPS, evaluate, help_data, nb201_candidates, nb201_data, summary

HELP_SOURCES = ("1080ti_1", "1080ti_32", "1080ti_256", "silver_4114", "silver_4210r", "samsung_a50", "pixel3",
                "essential_ph_1", "samsung_s7", "titanx_1", "titanx_32", "titanx_256", "gold_6240")
HELP_TESTS = ("titan_rtx_256", "gold_6226", "fpga", "pixel2", "raspi4", "eyeriss")
HELP_SPEARMAN = {"titan_rtx_256": 0.987, "gold_6226": 0.989, "pixel2": 0.802, "raspi4": 0.890, "eyeriss": 0.940,
                 "fpga": 0.985}
TABLE_FEATURES = ("base_ms", "n_layers", "const_ms", "stage1_ms", "stage2_ms", "stage3_ms", "stage4_ms", "stage5_ms")


def forward(pool):
    """A ``fitter`` for ``fewshot_latency.evaluate``: forward selection over ``pool``."""
    return lambda f, y: multisource.fit(f, y, pool=pool)


def twin_pairs(arch: list[str]) -> np.ndarray:
    """(P, 2) indices of NAS-Bench-201 cells that compute the same function: edge 1->2 is ``none`` and nodes
    1 and 2 are swapped (edges 0->1 with 0->2, 1->3 with 2->3), different strings only."""
    pos = {a: i for i, a in enumerate(arch)}
    pairs = []
    for i, a in enumerate(arch):
        e = re.findall(r"([a-z_0-9]+)~\d", a)  # 0->1 | 0->2 1->2 | 0->3 1->3 2->3
        if e[2] == "none":
            j = pos[f"|{e[1]}~0|+|{e[0]}~0|none~1|+|{e[3]}~0|{e[5]}~1|{e[4]}~2|"]
            if j > i:
                pairs.append((i, j))
    return np.array(pairs, dtype=np.int64)


def noise_ceiling(y: np.ndarray, pairs: np.ndarray, rng: np.random.Generator) -> dict:
    """Measurement noise of one device from its twin pairs ``(P, 2)``, and what it allows: {"median_diff_pct":
    median |a - b| / mean (%), "retest_tau": Kendall tau of a against b, "kendall_tau", "within_10_pct": of a
    perfect predictor scored against measurements y x exp(d / sqrt 2), d resampled from the pairs' log(a / b)
    with a random sign (the noise of one measurement when both twins carry their own)}."""
    from scipy.stats import kendalltau

    a, b = y[pairs[:, 0]], y[pairs[:, 1]]
    d = rng.choice(np.log(a) - np.log(b), len(y)) * rng.choice([-1.0, 1.0], len(y)) / np.sqrt(2)
    noisy = y * np.exp(d)
    return {"median_diff_pct": float(np.median(np.abs(a - b) / ((a + b) / 2)) * 100),
            "retest_tau": float(kendalltau(a, b)[0]), "kendall_tau": float(kendalltau(y, noisy)[0]),
            "within_10_pct": float((np.abs(y / noisy - 1) <= 0.10).mean() * 100)}


def run(ns=(10, 20, 50, 100), draws: int = 10, seed: int = 0, data_dir=None, progress: bool = True) -> dict:
    """{"help": {setting: {column: {N: result}}}, "nb201": {method/setting: {device: {N: result}}},
    "help_split": {method: {device: {N: result}}}, "ceiling": {...}, "noise": {device: noise_ceiling}}."""
    from tqdm import tqdm

    out: dict = {"ns": list(ns), "draws": draws, "seed": seed, "help": {}, "nb201": {}, "help_split": {},
                 "ceiling": {}, "noise": {}}
    feats, columns = help_data("note10", data_dir)
    for strict in (False, True):
        setting = "forward, strict" if strict else "forward"
        out["help"][setting] = {}
        for c, y in tqdm(columns.items(), desc=f"HELP / {setting}", disable=not progress):
            refs = {f"ref:{d}": columns[d] for d in multisource.sources(c, columns, strict)}
            f = {**feats, **refs}
            out["help"][setting][c] = {n: evaluate(f, y, n, draws, seed, fitter=forward([*refs, *TABLE_FEATURES]))
                                       for n in ns}
    n_ceil = int(0.8 * len(next(iter(columns.values()))))
    out["ceiling"]["help"] = {"n": n_ceil, **{c: evaluate({**feats, **{f"ref:{d}": columns[d] for d in columns
                                                                       if d != c}}, y, n_ceil, 3, seed,
                                                          fitter=lambda f, t: multisource.fit(f, t))
                                              for c, y in columns.items()}}
    ops, columns = nb201_data(data_dir)
    for strict in (False, True):
        tag = "strict" if strict else "any"
        new = out["nb201"].setdefault(f"forward, {tag}", {})
        old = out["nb201"].setdefault("single, strict", {}) if strict else {}
        for dev, y in tqdm(columns.items(), desc=f"NAS-Bench-201 / {tag}", disable=not progress):
            allowed = multisource.sources(dev, columns, strict)
            refs, cands = nb201_candidates(dev, columns, allowed)
            f = {**ops, **refs}
            if strict:
                old[dev] = {n: evaluate(f, y, n, draws, seed, cands) for n in ns}
            new[dev] = {n: evaluate(f, y, n, draws, seed, fitter=forward([*refs, *NB201_OPS])) for n in ns}
    out["ceiling"]["nb201"] = {"n": 2000, **{dev: evaluate({**ops, **nb201_candidates(dev, columns)[0]}, y, 2000, 3,
                                                           seed, fitter=lambda f, t: multisource.fit(f, t))
                                            for dev, y in columns.items()}}
    for method in ("single", "forward"):
        out["help_split"][method] = {}
        for dev in HELP_TESTS:
            refs, cands = nb201_candidates(dev, columns, HELP_SOURCES)
            fitter = forward([*refs, *NB201_OPS]) if method == "forward" else None
            out["help_split"][method][dev] = {n: evaluate({**ops, **refs}, columns[dev], n, draws, seed, cands, fitter)
                                              for n in (10, 20)}
    with open(benchdata.data_file("nb201", "nb201.csv", data_dir), newline="") as fh:
        pairs = twin_pairs([r["arch"] for r in csv.DictReader(fh)])
    out["noise"] = {"pairs": len(pairs), **{dev: noise_ceiling(y, pairs, np.random.default_rng([seed, i]))
                                            for i, (dev, y) in enumerate(columns.items())}}
    return out


def _med(by_dev: dict, n: int, key: str) -> np.ndarray:
    return np.array([summary(r[n][key])[0] for r in by_dev.values()])


def summary_line(name: str, by_dev: dict, ns, targets) -> str:
    """Mean over devices of the median tau and within-10%, median MAPE; devices meeting each target."""
    cells = []
    for n in ns:
        t, w, m = (_med(by_dev, n, k) for k in ("kendall_tau", "within_10_pct", "mape_pct"))
        cells.append(f"{t.mean():.3f} {w.mean():5.1f}% {np.median(m):4.1f}% {(t >= targets[0]).sum():>2}/"
                     f"{(w >= targets[1]).sum():<2}")
    return f"{name:<34}" + " | ".join(cells)


def format_report(results: dict, old: dict, targets) -> str:
    """The summary (old and new methods side by side), the new method's per-device rows, ceilings and noise.
    ``old``: ``fewshot_latency.run``'s results (the single-source method, the same draws)."""
    from .fewshot_latency import _row

    ns = results["ns"]
    head = f"{'':<34}" + " | ".join(f"N={n}: tau   in10%  MAPE  #t/#w" for n in ns)
    nb = {"single, any": old["nb201"], **results["nb201"]}
    lines = ["Old (one known table or device, chosen by CV) and new (forward selection of several devices) side by "
             "side: mean over devices of the median tau and within-10%, median MAPE over devices, and how many "
             f"devices meet tau >= {targets[0]} (#t) and within 10% >= {targets[1]:.0f}% (#w).", head,
             summary_line("HELP GPUs: old, Note10 table", old["help"]["note10"], ns, targets)]
    lines += [summary_line(f"HELP GPUs: new, {k}", v, ns, targets) for k, v in results["help"].items()]
    lines += [summary_line(f"NAS-Bench-201: {k.replace('single', 'old').replace('forward', 'new')}", nb[k], ns,
                           targets) for k in ("single, any", "forward, any", "single, strict", "forward, strict")]
    lines.append("")
    ph = f"{'device':<18}" + " | ".join(f"N={n}: tau (range)    MAPE  in10%" for n in ns)
    for title, by_dev in (("HELP GPUs, new (forward, any other column)", results["help"]["forward"]),
                          ("NAS-Bench-201, new (forward, any other device)", nb["forward, any"]),
                          ("NAS-Bench-201, new (forward, strict: no same hardware)", nb["forward, strict"])):
        lines += [title, ph] + [_row(d, r, ns) for d, r in by_dev.items()] + [""]
    lines.append("HELP's NAS-Bench-201 split (sources: its 13 meta-train/validation devices only); HELP's Table 3: "
                 "Spearman rho, 10 networks + 10 reference cells of the device")
    lines.append(f"{'device':<15}" + "".join(f"{m + ' N=' + str(n) + ' tau/rho':>24}" for m in ("old", "new")
                                             for n in (10, 20)) + "   HELP rho")
    split = results["help_split"]
    for dev in HELP_TESTS:
        lines.append(f"{dev:<15}" + "".join(
            f"{summary(split[m][dev][n]['kendall_tau'])[0]:>17.3f}/{summary(split[m][dev][n]['spearman_rho'])[0]:.3f}"
            for m in ("single", "forward") for n in (10, 20)) + f"{HELP_SPEARMAN[dev]:>11.3f}")
    lines.append(f"{'mean':<15}" + "".join(
        f"{np.mean(_med(split[m], n, 'kendall_tau')):>17.3f}/{np.mean(_med(split[m], n, 'spearman_rho')):.3f}"
        for m in ("single", "forward") for n in (10, 20)) + f"{np.mean(list(HELP_SPEARMAN.values())):>11.3f}")
    lines.append("")
    for key, what in (("help", "HELP GPUs, forward selection on {n} subnets (80%)"),
                      ("nb201", "NAS-Bench-201, forward selection on {n} cells")):
        c = results["ceiling"][key]
        cells = [f"{d} {summary(r['kendall_tau'])[0]:.3f} / {summary(r['within_10_pct'])[0]:.0f}%"
                 for d, r in c.items() if d != "n"]
        lines.append(f"Ceiling of the new method: {what.format(n=c['n'])}, median of 3 draws: tau / within 10%")
        lines += ["  " + ", ".join(cells[i:i + 6]) for i in range(0, len(cells), 6)]
    noise = results["noise"]
    lines += ["", f"Measurement noise of NAS-Bench-201 from its {noise['pairs']} twin pairs (identical cells measured "
              "separately): median |difference|, tau of one twin against the other, and the tau / within 10% of a "
              "perfect predictor against one noisy measurement; beside it the new method at N=20 (any source)"]
    for dev, z in noise.items():
        if dev != "pairs":
            r = nb["forward, any"][dev][20]
            lines.append(f"  {dev:<15} {z['median_diff_pct']:5.2f}%  retest tau {z['retest_tau']:.3f}  ceiling tau "
                         f"{z['kendall_tau']:.3f} / {z['within_10_pct']:5.1f}%   new: {summary(r['kendall_tau'])[0]:.3f}"
                         f" / {summary(r['within_10_pct'])[0]:5.1f}%")
    return "\n".join(lines)


__all__ = ["run", "format_report", "twin_pairs", "noise_ceiling", "forward", "summary_line", "HELP_SOURCES",
           "HELP_TESTS", "HELP_SPEARMAN"]
