"""Does a proxy see an accuracy/latency trade-off? A check to run before trusting a Pareto set.

A search can only return a large accuracy/latency front if accuracy rises with latency somewhere
in the space. This study scores seeded random genomes with each proxy (at one or more proxy
seeds) and reports, against the latency model of the config's ``[latency]`` section:

- Kendall's tau between proxy accuracy and latency (negative: the fast networks are also the
  accurate ones, and the true front is small);
- the size of the non-dominated set of the random sample itself;
- seed-to-seed tau, the proxy's own noise (a noisy proxy makes a front of lucky draws);
- for each search decision and choice, tau of the number of blocks taking it with accuracy and
  with latency: the choices that buy accuracy, and what they cost.

Latencies are computed in this process before any worker starts (workers only train), so a
table filled on demand is measured serially, never beside the pool.
"""
from __future__ import annotations

import statistics
import time
from typing import Annotated

import numpy as np
from pydantic import Field, field_validator, model_validator
from scipy.stats import kendalltau

from ..base.errors import validate
from .proxy_fidelity import ProxyTables, StudyKeys, _Job, _label, _run_job, sample_distinct


class TradeoffKeys(StudyKeys):
    """``[tradeoff]``: each key's type, range and default; ``proxies`` has none (the study scores the
    proxies it is given, each a short training, since it needs their validation accuracy)."""

    genomes: int = Field(40, ge=4, description="an int >= 4")
    seeds: list[Annotated[int, Field(ge=0)]] = Field(
        [0], min_length=1, description="a non-empty list of distinct non-negative ints (proxy seeds)")
    proxies: ProxyTables = Field(min_length=1, description="a non-empty list of proxy tables")
    top: int = Field(6, ge=0, description="a non-negative int (choices listed)")

    @field_validator("seeds")
    @classmethod
    def _distinct(cls, v: list[int]) -> list[int]:
        if len(set(v)) != len(v):
            raise ValueError("seeds")
        return v

    @model_validator(mode="after")
    def _proxies_train(self) -> "TradeoffKeys":
        for p in self.proxies:
            kind = p.get("kind", "train")
            if kind != "train":
                raise ValueError(f"[tradeoff] proxies: kind = {kind!r} must be 'train' (the study needs val_acc)")
        return self


def _tau(a, b) -> float:
    a, b = np.asarray(a, dtype=float), np.asarray(b, dtype=float)
    if len(a) < 2 or np.ptp(a) == 0 or np.ptp(b) == 0:
        return float("nan")
    return float(kendalltau(a, b).statistic)


def front_size(acc, latency) -> int:
    """Size of the non-dominated set (maximize ``acc``, minimize ``latency``); equal points count once."""
    from ..analysis.pareto import non_dominated

    pts = np.unique(np.column_stack([-np.asarray(acc, float), np.asarray(latency, float)]), axis=0)
    return int(non_dominated(pts).sum()) if len(pts) else 0


def tradeoff_study(config: dict) -> dict:
    """Score ``[tradeoff] genomes`` seeded random genomes with every proxy at every seed; latency from ``[latency]``."""
    from ..accuracy.evaluate import EvalConfig
    from ..base.parallel import parallel_map

    s = validate(TradeoffKeys, dict(config.get("tradeoff") or {}), "tradeoff")
    if config.get("latency") is None:
        raise ValueError("[latency] is required: the study compares accuracy with latency")
    base = {k: config[k] for k in ("space", "data") if k in config}
    labelled = [(_label(p), p) for p in s.proxies]
    for _, p in labelled:
        EvalConfig.from_dict({**base, "proxy": p})
    cfg = EvalConfig.from_dict({**base, "latency": config["latency"]})
    space = cfg.space()
    genomes = sample_distinct(space, s.genomes, np.random.default_rng(s.sample_seed))
    lm = cfg.latency_model()
    latency = {g.key: float(lm.latency_ms(space.decode(g.genes))) for g in genomes}
    jobs = [_Job(g.genes, name, {**base, "seed": seed, "proxy": p})
            for name, p in labelled for seed in s.seeds for g in genomes]
    start = time.perf_counter()
    records = parallel_map(_run_job, jobs, n_jobs=s.n_jobs, backend=s.backend)
    return {"genomes": [g.key for g in genomes], "genes": [list(g.genes) for g in genomes], "latency_ms": latency,
            "latency": lm.describe(), "names": [name for name, _ in labelled], "seeds": s.seeds,
            "records": records, "wall_s": time.perf_counter() - start, "n_jobs": s.n_jobs,
            "top": s.top, "space": space.name}


def _choice_counts(space, genes: list[list[int]]) -> dict[str, np.ndarray]:
    """For every decision and choice (``"skip = pool"``): in how many blocks of each genome it is taken.

    A decision is a gene's name without its block prefix (``"block 3 skip"`` -> ``"skip"``), so
    blocks of any length are grouped correctly; a choice is the space's description of the value.
    """
    names = getattr(space, "gene_names", None)
    if not names:
        return {}
    g = np.asarray(genes)
    out: dict[str, np.ndarray] = {}
    for i, name in enumerate(names):
        factor = name.split(" ", 2)[-1]
        for value in np.unique(g[:, i]).tolist():
            label = f"{factor} = {space.describe_gene(i, value)}"
            out[label] = out.get(label, 0) + (g[:, i] == value)
    return out


def summarize(study: dict, space=None) -> dict:
    """Per proxy: accuracy range, tau with latency, random-sample front size, seed-to-seed tau, seconds per evaluation;
    and, for the first proxy, the choices most tied to accuracy."""
    keys = study["genomes"]
    lat = np.array([study["latency_ms"][k] for k in keys])
    rows, first = [], None
    for name in study["names"]:
        per_seed = {}
        secs = []
        for s in study["seeds"]:
            recs = {r["key"]: r for r in study["records"] if r["name"] == name and r["seed"] == s}
            per_seed[s] = np.array([recs[k]["val_acc"] if recs.get(k, {}).get("status") == "ok" else np.nan for k in keys])
            secs += [recs[k]["eval_s"] for k in keys if k in recs]
        ok = np.all([~np.isnan(a) for a in per_seed.values()], axis=0)
        seeds = list(per_seed)
        mean = np.mean([per_seed[s][ok] for s in seeds], axis=0)
        rows.append({
            "proxy": name, "failed": int((~ok).sum()),
            "acc_median": float(np.median(mean)) if ok.any() else float("nan"),
            "acc_min": float(mean.min()) if ok.any() else float("nan"),
            "acc_max": float(mean.max()) if ok.any() else float("nan"),
            "tau_acc_latency": {s: _tau(per_seed[s][ok], lat[ok]) for s in seeds},
            "front_random": {s: front_size(per_seed[s][ok], lat[ok]) for s in seeds},
            "seed_to_seed_tau": _tau(per_seed[seeds[0]][ok], per_seed[seeds[1]][ok]) if len(seeds) > 1 else None,
            "s_per_eval": statistics.median(secs) if secs else float("nan")})
        if first is None:
            first = (mean, ok)
    drivers = []
    if space is not None and first is not None:
        mean, ok = first
        for label, c in _choice_counts(space, study["genes"]).items():
            drivers.append({"choice": label, "tau_acc": _tau(mean, c[ok]), "tau_latency": _tau(lat[ok], c[ok])})
        drivers.sort(key=lambda d: -abs(d["tau_acc"]) if np.isfinite(d["tau_acc"]) else 0.0)
        drivers = drivers[:study["top"]]
    return {"rows": rows, "drivers": drivers,
            "latency_range_ms": [float(lat.min()), float(np.median(lat)), float(lat.max())]}


def format_report(study: dict, summary: dict) -> str:
    lo, med, hi = summary["latency_range_ms"]
    src = study["latency"].get("source", "?")
    lines = [f"{len(study['genomes'])} random {study['space']} genomes; latency ({src}) {lo:.2f} / {med:.2f} / "
             f"{hi:.2f} ms (min / median / max); proxy seeds {study['seeds']}",
             f"wall {study['wall_s']:.0f} s with n_jobs = {study['n_jobs']}; s/eval is per evaluation in one worker (threads = 1)"]
    rows = summary["rows"]
    w = max([len(r["proxy"]) for r in rows] + [5])
    lines.append(f"{'proxy':<{w}} {'acc median [min, max]':>22} {'tau(acc, lat) per seed':>24} "
                 f"{'random front':>13} {'seed tau':>9} {'s/eval':>7} {'failed':>6}")
    for r in rows:
        taus = " ".join(f"{t:+.3f}" for t in r["tau_acc_latency"].values())
        fronts = " ".join(str(v) for v in r["front_random"].values())
        st = f"{r['seed_to_seed_tau']:.3f}" if r["seed_to_seed_tau"] is not None else "-"
        lines.append(f"{r['proxy']:<{w}} {r['acc_median']:>8.3f} [{r['acc_min']:.3f}, {r['acc_max']:.3f}] {taus:>24} "
                     f"{fronts:>13} {st:>9} {r['s_per_eval']:>7.2f} {r['failed']:>6d}")
    if summary["drivers"]:
        lines.append(f"choices most tied to accuracy ({rows[0]['proxy']}; tau of the number of blocks taking the choice):")
        for d in summary["drivers"]:
            lines.append(f"  {d['choice']:<22} tau(acc) {d['tau_acc']:+.3f}   tau(latency) {d['tau_latency']:+.3f}")
    return "\n".join(lines)
