"""NetAdapt refinement (Yang et al., 2018, arXiv 1804.03230) as MobileNetV3 used it (arXiv 1905.02244, 4.2).

Starting from a found model, each step asks every block for one proposal that shrinks it: the
single-gene change of that block that cuts latency by at least the step's reduction target
with the smallest cut (NetAdapt picks the fewest filters to remove that meet the target; if no
change of a block meets it, the block offers its largest cut). Every proposal is evaluated,
and the step keeps the one with the best accuracy change per latency change, as MobileNetV3
did, until the latency target is met. Proposals are genomes of the same space, so they are
ordinary evaluations: the run's proxy scores them (a short training from a seeded
initialisation, not a fine-tune of inherited weights), its cache serves repeats, and refined
models join the run's evaluations and Pareto set. The search space decides what shrinking
means: fewer filters, layers or expanded channels, a cheaper op, a smaller kernel, no SE.
"""
from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Callable, Sequence

from ..spaces.space import Genome

EvaluateFn = Callable[[Sequence[Genome]], list[dict]]
LatencyFn = Callable[[Genome], float]


@dataclass(frozen=True)
class Proposal:
    block: int
    genome: Genome
    latency_ms: float
    change: str


@dataclass
class NetAdaptStep:
    step: int
    need_ms: float
    proposals: list[dict]
    chosen: dict | None


@dataclass
class NetAdaptResult:
    start: Genome
    final: Genome
    start_record: dict
    final_record: dict
    target_ms: float
    steps: list[NetAdaptStep] = field(default_factory=list)
    records: list[dict] = field(default_factory=list)

    final_ms: float | None = None

    @property
    def reached(self) -> bool:
        return self.final_ms is not None and self.final_ms <= self.target_ms

    def path(self) -> list[str]:
        return [self.start.key] + [s.chosen["key"] for s in self.steps if s.chosen]


def block_proposal(genome: Genome, block: int, latency_fn: LatencyFn, current_ms: float,
                   need_ms: float) -> Proposal | None:
    """The change of one gene of ``block`` that cuts latency by at least ``need_ms`` with the
    smallest cut; failing that, the largest cut; None if no change of the block cuts latency."""
    space = genome.space
    sl = space.block_slices[block]
    seen = {genome.key}
    meeting: list[Proposal] = []
    cutting: list[Proposal] = []
    for i in range(sl.start, sl.stop):
        for v in range(space.cardinalities[i]):
            if v == genome.genes[i]:
                continue
            g = Genome(space, genome.genes[:i] + (v,) + genome.genes[i + 1:]).canonical()
            if g.key in seen:
                continue
            seen.add(g.key)
            lat = float(latency_fn(g))
            if not math.isfinite(lat) or lat >= current_ms:
                continue
            change = f"{space.gene_names[i]}: {space.describe_gene(i, genome.genes[i])} -> {space.describe_gene(i, v)}"
            p = Proposal(block, g, lat, change)
            (meeting if current_ms - lat >= need_ms else cutting).append(p)
    if meeting:
        return max(meeting, key=lambda p: (p.latency_ms, p.genome.key))
    if cutting:
        return min(cutting, key=lambda p: (p.latency_ms, p.genome.key))
    return None


def netadapt(genome: Genome, evaluate_fn: EvaluateFn, latency_fn: LatencyFn, target_ms: float, *,
             step_fraction: float = 0.1, step_ms: float | None = None, max_steps: int = 20,
             metric: str = "val_acc") -> NetAdaptResult:
    """Shrink ``genome`` step by step toward ``target_ms``.

    ``evaluate_fn(genomes) -> records`` (each with ``status``, ``latency_ms`` and ``metric``);
    ``latency_fn(genome) -> ms`` ranks proposals before they are evaluated. The step's reduction
    target is ``step_ms`` or ``step_fraction`` x the current latency, never more than what is left
    to the target. Stops at the target, after ``max_steps``, or when no block can shrink.
    """
    if not target_ms > 0:
        raise ValueError(f"target_ms = {target_ms!r} must be > 0")
    if not 0 < step_fraction < 1:
        raise ValueError(f"step_fraction = {step_fraction!r} must be in (0, 1)")
    if step_ms is not None and not step_ms > 0:
        raise ValueError(f"step_ms = {step_ms!r} must be > 0")
    if max_steps < 1:
        raise ValueError(f"max_steps = {max_steps!r} must be >= 1")
    genome = genome.canonical()
    start = evaluate_fn([genome])[0]
    if start.get("status") != "ok" or start.get(metric) is None or start.get("latency_ms") is None:
        raise ValueError(f"cannot refine {genome.key}: its evaluation has no {metric} and latency_ms "
                         f"(status {start.get('status')!r}, error {start.get('error')!r})")
    result = NetAdaptResult(genome, genome, start, start, float(target_ms), records=[start])
    current, rec = genome, start
    for step in range(1, max_steps + 1):
        cur_ms = float(latency_fn(current))
        if cur_ms <= target_ms:
            break
        need = min(step_ms if step_ms is not None else step_fraction * cur_ms, max(cur_ms - target_ms, 0.0))
        proposals = [p for b in range(current.space.n_blocks)
                     if (p := block_proposal(current, b, latency_fn, cur_ms, need)) is not None]
        if not proposals:
            break
        records = evaluate_fn([p.genome for p in proposals])
        result.records += records
        rows = []
        for p, r in zip(proposals, records):
            row = {"block": p.block + 1, "change": p.change, "key": p.genome.key, "predicted_ms": p.latency_ms,
                   "latency_ms": r.get("latency_ms"), metric: r.get(metric), "status": r.get("status")}
            ok = r.get("status") == "ok" and r.get(metric) is not None and r.get("latency_ms") is not None
            saved = cur_ms - p.latency_ms
            row["ratio"] = (r[metric] - rec[metric]) / saved if ok and saved > 0 else None
            rows.append(row)
        ranked = [(row, p, r) for row, p, r in zip(rows, proposals, records) if row["ratio"] is not None]
        if not ranked:
            result.steps.append(NetAdaptStep(step, need, rows, None))
            break
        row, p, r = max(ranked, key=lambda t: (t[0]["ratio"], -t[1].latency_ms, t[1].genome.key))
        result.steps.append(NetAdaptStep(step, need, rows, row))
        current, rec = p.genome, r
    result.final, result.final_record = current, rec
    result.final_ms = float(latency_fn(current))
    return result


__all__ = ["netadapt", "block_proposal", "NetAdaptResult", "NetAdaptStep", "Proposal"]


# -- refining a run's Pareto members ------------------------------------------------------------

class RunEvaluator:
    """Evaluates genomes through the run's evaluation service and appends them to the run.

    The same ``EvaluationService`` as the run's search engine: the run's problem and objectives,
    the persistent cache under the run's fingerprint, ``parallel_map`` for the evaluations (one
    call for a batch problem), and latency measured serially here (pool idle) when the run's
    latency model times networks. The run's evaluations are the memo: a genome the run already
    evaluated is not evaluated again. Records are marked ``origin = "netadapt"`` and
    ``refined_from`` (the key of the member being refined).
    """

    def __init__(self, run, n_jobs: int = 1, backend: str = "loky", cache=None):
        from ..problems.service import EvaluationService

        self.run = run
        self.problem = run.problem()
        self.memo = {r["key"]: r for r in run.evaluations()}
        if self.problem.latency_model() is None and "latency_ms" not in {o.name for o in self.problem.objectives}:
            raise ValueError(f"{run.path}: the run has no [latency] model; refine needs one to rank proposals")
        threads = run.resolved_config().search.threads_per_worker
        self.service = EvaluationService(self.problem, run.objectives().names, write=run.append_evaluations,
                                         account=self._account, cache=cache, n_jobs=n_jobs, backend=backend,
                                         threads=threads)
        self.evaluated = 0

    def latency(self, genome: Genome) -> float:
        """Predicted or measured by the run's latency model, or the problem's own latency without one
        (NaN for a genome whose evaluation fails: it is never proposed)."""
        return self.service.latency_ms(genome)

    def __call__(self, genomes: Sequence[Genome], parent: str | None = None) -> list[dict]:
        todo = list({g.key: g for g in genomes if g.key not in self.memo}.values())
        found = self.service.lookup([g.key for g in todo])
        self.service.commit([self.service.record(g.key, list(g.genes), {**found[g.key], "eval_s": 0.0}, None, True,
                                                 origin="netadapt", refined_from=parent)
                             for g in todo if g.key in found], store=False)
        new = [g for g in todo if g.key not in found]
        self.service.evaluate(new, None, origin="netadapt", refined_from=parent)
        self.evaluated += len(new)
        return [self.memo[g.key] for g in genomes]

    def _account(self, records: list[dict]) -> None:
        for rec in records:
            self.memo[rec["key"]] = rec


def refine_run(run_dir, target_ms: float, *, members: int | None = None, step_fraction: float = 0.1,
               max_steps: int = 20, n_jobs: int = 1, backend: str = "loky", cache_path=None) -> list[NetAdaptResult]:
    """NetAdapt on a run's Pareto members slower than ``target_ms`` (the fastest ``members`` of them);
    every evaluation is appended to the run and its Pareto files are rewritten. ``cache_path``:
    the persistent evaluation cache (default: the run's own ``[search] cache`` setting)."""
    from ..engine.cache import EvalCache
    from ..engine.run import RunDir

    run = RunDir(run_dir)
    if cache_path is None:   # the run's own cache setting, as the engine reads it
        setting = run.resolved_config().search.cache
        cache_path = None if setting is False else (setting or run.path.parent / "evo-nas-cache.sqlite")
    cache = EvalCache(cache_path) if cache_path is not None else None
    ev = RunEvaluator(run, n_jobs=n_jobs, backend=backend, cache=cache)
    space = ev.problem.space
    front = [r for r in run.pareto() if r.get("latency_ms") is not None and r["latency_ms"] > target_ms]
    if not run.pareto():
        raise ValueError(f"{run.path}: the run has no feasible Pareto members to refine")
    front.sort(key=lambda r: (r["latency_ms"], r["key"]))
    if members is not None:
        front = front[:members]
    results = []
    for rec in front:
        genome = space.parse(rec["key"])
        results.append(netadapt(genome, lambda gs, k=genome.key: ev(gs, parent=k), ev.latency, target_ms,
                                step_fraction=step_fraction, max_steps=max_steps))
    run.write_pareto()
    return results


__all__ += ["RunEvaluator", "refine_run"]
