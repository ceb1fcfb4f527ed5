"""``evo-nas refine``: NetAdapt on a run's Pareto members toward a latency target (MobileNetV3, arXiv 1905.02244)."""
from __future__ import annotations


def register(sub):
    p = sub.add_parser("refine", help="shrink Pareto members toward a latency target (NetAdapt)",
                       description="NetAdapt refinement: each step shrinks the block whose proposal has the best "
                                   "accuracy change per latency change, until the latency target is met. Every "
                                   "evaluation is appended to RUN, so refined models join its Pareto set.")
    p.add_argument("run_dir", metavar="RUN", help="run directory written by evo-nas search")
    p.add_argument("--target-ms", type=float, required=True, help="latency target in ms")
    p.add_argument("--members", type=int, help="refine only the N fastest Pareto members above the target")
    p.add_argument("--step-fraction", type=float, default=0.1,
                   help="latency cut asked of each step, as a fraction of the current latency (default 0.1)")
    p.add_argument("--max-steps", type=int, default=20, help="steps per member (default 20)")
    p.add_argument("--n-jobs", type=int, default=1, help="evaluation workers (default 1)")
    p.add_argument("--backend", default="loky", help="joblib backend (default loky)")
    p.add_argument("--cache", help="persistent evaluation cache (SQLite; default: the run's [search] cache setting)")
    p.set_defaults(func=run)


def run(args) -> int:
    from ..analysis.report import _table
    from ..deploy.netadapt import refine_run
    from ..engine.run import RunDir

    if args.members is not None and args.members < 1:
        raise ValueError(f"--members {args.members} must be >= 1")
    with RunDir(args.run_dir).lock():
        results = refine_run(args.run_dir, args.target_ms, members=args.members, step_fraction=args.step_fraction,
                             max_steps=args.max_steps, n_jobs=args.n_jobs, backend=args.backend,
                             cache_path=args.cache)
    if not results:
        from ..api import load_run

        lat = [r["latency_ms"] for r in load_run(args.run_dir).pareto if r.get("latency_ms") is not None]
        span = f" (its latencies span {min(lat):.3g}-{max(lat):.3g} ms on the run's latency model)" if lat else ""
        hint = f"; a --target-ms below {max(lat):.3g} shrinks the slower members" if lat else ""
        print(f"every Pareto member already meets {args.target_ms:g} ms{span}; nothing to refine{hint}")
        return 0
    for n, r in enumerate(results, 1):
        rows = [["start", "-", f"{r.start_record['latency_ms']:.3f}", f"{r.start_record['val_acc']:.4f}", "-"]]
        for s in r.steps:
            if s.chosen:
                rows.append([str(s.step), s.chosen["change"], f"{s.chosen['latency_ms']:.3f}",
                             f"{s.chosen['val_acc']:.4f}", f"{s.chosen['ratio']:.4g}"])
        print(f"member {n}: {r.start.key}")
        print(_table(rows, ["step", "kept proposal", "latency_ms", "val_acc", "dacc/dlat"]))
        status = "reached" if r.reached else "not reached"
        print(f"target {r.target_ms:g} ms {status}: {r.final_ms:.3f} ms, {r.final.key}\n")
    print(f"refined models appended to {args.run_dir}/evaluations.jsonl; Pareto files rewritten")
    return 0
