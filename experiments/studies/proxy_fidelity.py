"""Proxy fidelity: how well each proxy ranks random genomes against a much longer reference training.

Kendall's tau and top-k overlap against the reference accuracy, as in the zero-cost proxy study
of Abdelfattah et al. (2021, arXiv 2101.08134), for MnasNet's short-training proxy (Tan et al.,
2019, arXiv 1807.11626) and the zero-cost scores of ``zero_cost``.
"""
from __future__ import annotations

import statistics
import time
from dataclasses import dataclass

import numpy as np
from scipy.stats import kendalltau

FIDELITY_KEYS = {"genomes", "sample_seed", "n_jobs", "backend", "top_k", "proxies", "reference"}


@dataclass(frozen=True)
class _Job:
    genes: tuple
    name: str
    config: dict


def _run_job(job: _Job) -> dict:
    import torch

    from evo_nas.evaluate import EvalConfig, evaluate

    torch.set_num_threads(1)
    cfg = EvalConfig.from_dict(job.config)
    return {"name": job.name, **evaluate(cfg.space().genome(job.genes), cfg)}


def sample_distinct(space, n: int, rng: np.random.Generator) -> list:
    """``n`` genomes drawn from ``space`` with ``rng``, skipping canonical duplicates."""
    genomes, seen = [], set()
    while len(genomes) < n:
        g = space.sample(rng)
        if g.key not in seen:
            seen.add(g.key)
            genomes.append(g)
    return genomes


def _label(proxy: dict) -> str:
    rest = ",".join(f"{k}={v}" for k, v in sorted(proxy.items()) if k != "kind")
    return proxy.get("kind", "train") + (f"({rest})" if rest else "")


def fidelity_study(config: dict) -> dict:
    """Run every proxy and the reference on ``[fidelity] genomes`` seeded random genomes; return all records."""
    from evo_nas.evaluate import EvalConfig
    from evo_nas.parallel import parallel_map

    f = dict(config.get("fidelity", {}))
    unknown = set(f) - FIDELITY_KEYS
    if unknown:
        raise ValueError(f"[fidelity]: unknown key {sorted(unknown)[0]!r} (expected {', '.join(sorted(FIDELITY_KEYS))})")
    n = f.get("genomes", 20)
    proxies = f.get("proxies", [{"kind": "train"}, {"kind": "synflow"}, {"kind": "naswot"}, {"kind": "gradnorm"}])
    reference = f.get("reference", {"kind": "train", "steps": 500})
    if not isinstance(n, int) or n < 5:
        raise ValueError(f"[fidelity]: genomes = {n!r} must be an int >= 5")
    if reference.get("kind", "train") != "train":
        raise ValueError(f"[fidelity]: reference kind = {reference.get('kind')!r} must be 'train'")
    base = {k: config[k] for k in ("seed", "space", "data") if k in config}
    space = EvalConfig.from_dict({**base, "proxy": reference}).space()
    genomes = sample_distinct(space, n, np.random.default_rng(f.get("sample_seed", 0)))
    named = [("reference", reference)] + [(_label(p), p) for p in proxies]
    for name, p in named:
        EvalConfig.from_dict({**base, "proxy": p})  # fail fast on a bad proxy table
    jobs = [_Job(g.genes, name, {**base, "proxy": p}) for name, p in named for g in genomes]
    start = time.perf_counter()
    records = parallel_map(_run_job, jobs, n_jobs=f.get("n_jobs", 1), backend=f.get("backend", "loky"))
    return {"genomes": [g.key for g in genomes], "names": [name for name, _ in named], "records": records,
            "wall_s": time.perf_counter() - start, "top_k": f.get("top_k", 5), "n_jobs": f.get("n_jobs", 1),
            "reference": reference}


def summarize(study: dict) -> list[dict]:
    """Per proxy: Kendall tau against the reference, top-k overlap, median seconds per evaluation, cost ratio."""
    k = study["top_k"]
    by = {name: {} for name in study["names"]}
    for r in study["records"]:
        by[r["name"]][r["key"]] = r
    ref = by["reference"]
    ok = [key for key in study["genomes"] if all(by[nm].get(key, {}).get("status") == "ok" for nm in by)]
    ref_acc = np.array([ref[key]["val_acc"] for key in ok])
    ref_s = statistics.mean(ref[key]["eval_s"] for key in ok) if ok else float("nan")
    top_ref = set(np.argsort(-ref_acc, kind="stable")[:k]) if ok else set()
    rows = []
    scores = [(nm, [by[nm][key]["score"] for key in ok], [by[nm][key]["eval_s"] for key in ok]) for nm in study["names"]]
    scores.append(("params_m (baseline)", [ref[key]["params_m"] for key in ok], [0.0] * len(ok)))
    for nm, s, secs in scores:
        s = np.array(s, dtype=float)
        tau = float(kendalltau(s, ref_acc).statistic) if len(ok) > 1 else float("nan")
        top = set(np.argsort(-s, kind="stable")[:k])
        rows.append({"proxy": nm, "kendall_tau": tau, f"top{k}_overlap": len(top & top_ref) / k if ok else float("nan"),
                     "s_per_eval": statistics.median(secs) if secs else float("nan"),
                     "cost_vs_reference": (statistics.mean(secs) / ref_s) if ok else float("nan"),
                     "failed": sum(by[nm].get(key, {}).get("status") != "ok" for key in study["genomes"])
                     if nm in by else 0})
    return rows


def format_report(study: dict, rows: list[dict]) -> str:
    k = study["top_k"]
    w = max(len(r["proxy"]) for r in rows)
    accs = [r["val_acc"] for r in study["records"] if r["name"] == "reference" and r["status"] == "ok"]
    lines = [f"{len(study['genomes'])} random genomes; reference = {_label(study['reference'])}, "
             f"val acc {min(accs):.3f}..{max(accs):.3f}" if accs else "no reference accuracies",
             f"wall {study['wall_s']:.0f} s with n_jobs = {study['n_jobs']}; seconds are per evaluation in one worker "
             f"(threads = 1), eval_s = build + proxy + validation",
             f"{'proxy':<{w}} {'tau':>7} {f'top{k}':>6} {'s/eval':>8} {'cost/ref':>9} {'failed':>6}"]
    for r in rows:
        lines.append(f"{r['proxy']:<{w}} {r['kendall_tau']:>7.3f} {r[f'top{k}_overlap']:>6.2f} "
                     f"{r['s_per_eval']:>8.2f} {r['cost_vs_reference']:>9.3f} {r['failed']:>6d}")
    return "\n".join(lines)
