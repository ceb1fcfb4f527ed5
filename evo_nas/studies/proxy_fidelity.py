"""Proxy fidelity: how well each proxy ranks random genomes against a much longer reference training.

Kendall's tau and top-k overlap against the reference accuracy, as in the zero-cost proxy study
of Abdelfattah et al. (2021, arXiv 2101.08134), for MnasNet's short-training proxy (Tan et al.,
2019, arXiv 1807.11626) and the zero-cost scores of ``zero_cost``.
"""
from __future__ import annotations

import statistics
import time
from dataclasses import dataclass
from typing import Any, Literal

import numpy as np
from pydantic import Field, model_validator
from scipy.stats import kendalltau

from ..base.config import MAX_JOBS, NJobs, Section
from ..base.errors import validate
from ..base.parallel import BACKENDS

ProxyTables = list[dict[str, Any]]


class StudyKeys(Section):
    """The keys a proxy study shares: how its random genomes are drawn and how its evaluations run."""

    sample_seed: int = Field(0, ge=0, description="a non-negative int (the seed of the random genomes)")
    n_jobs: NJobs = Field(1, description=f"an int in [1, {MAX_JOBS}] or -1")
    backend: Literal[BACKENDS] = Field("loky", description=f"one of {', '.join(BACKENDS)}")


class FidelityKeys(StudyKeys):
    """``[fidelity]``: each key's type, range and default."""

    genomes: int = Field(20, ge=5, description="an int >= 5")
    top_k: int = Field(5, ge=1, description="an int >= 1 (the size of the top sets compared)")
    proxies: ProxyTables = Field(
        [{"kind": "train"}, {"kind": "synflow"}, {"kind": "naswot"}, {"kind": "gradnorm"}], min_length=1,
        description="a non-empty list of proxy tables")
    reference: dict[str, Any] = Field({"kind": "train", "steps": 500}, description="a proxy table")

    @model_validator(mode="after")
    def _reference_and_top_k(self) -> "FidelityKeys":
        kind = self.reference.get("kind", "train")
        if kind != "train":
            raise ValueError(f"[fidelity] reference kind = {kind!r} must be 'train' (the reference is a long training)")
        if self.top_k > self.genomes:
            raise ValueError(f"[fidelity] top_k = {self.top_k} must be at most genomes = {self.genomes}")
        return self


@dataclass(frozen=True)
class _Job:
    genes: tuple
    name: str
    config: dict


def _run_job(job: _Job) -> dict:
    import torch

    from ..accuracy.evaluate import EvalConfig, evaluate

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
    from ..accuracy.evaluate import EvalConfig
    from ..base.parallel import parallel_map

    f = validate(FidelityKeys, dict(config.get("fidelity") or {}), "fidelity")
    reference = f.reference
    base = {k: config[k] for k in ("seed", "space", "data") if k in config}
    space = EvalConfig.from_dict({**base, "proxy": reference}).space()
    genomes = sample_distinct(space, f.genomes, np.random.default_rng(f.sample_seed))
    named = [("reference", reference)] + [(_label(p), p) for p in f.proxies]
    for name, p in named:
        EvalConfig.from_dict({**base, "proxy": p})  # fail fast on a bad proxy table
    jobs = [_Job(g.genes, name, {**base, "proxy": p}) for name, p in named for g in genomes]
    start = time.perf_counter()
    records = parallel_map(_run_job, jobs, n_jobs=f.n_jobs, backend=f.backend)
    return {"genomes": [g.key for g in genomes], "names": [name for name, _ in named], "records": records,
            "wall_s": time.perf_counter() - start, "top_k": f.top_k, "n_jobs": f.n_jobs,
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
