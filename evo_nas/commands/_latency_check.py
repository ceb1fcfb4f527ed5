"""``evo-nas latency check``: re-measure a seeded sample of networks and report the table's drift.

Prints, per network, the table's prediction beside the median of ``--passes`` end-to-end
measurements and their range (the error bar), then Kendall tau, MAPE, the share within +-10%
and the drift (median signed error), the table's build state (``evo_nas.latency.stability``)
and how to rebuild or recalibrate it. Exit 0 when the table holds, 3 when it has drifted.
"""
from __future__ import annotations

import sys
from pathlib import Path


def check(args, space, lat, runtime, protocol, default_table_path) -> int:
    from ..latency import LatencyTable
    from ..latency.check import MAX_DRIFT_PCT, MIN_WITHIN_10_PCT, check_table
    from ..latency.stability import summary

    path = Path(lat["table"]) if "table" in lat else default_table_path(space, runtime)
    table = LatencyTable.load(path)
    table.check_network(space)
    differs = table.mismatch(runtime)
    if differs is not None:
        k, theirs, mine = differs
        raise ValueError(f"latency table {path} has {k} = {theirs!r}, this check would measure with {mine!r} "
                         f"(--runtime, --threads)")
    n = 10 if args.networks is None else args.networks
    seed = args.seed if args.seed is not None else 1
    st = summary(table.header)
    print(f"table   : {path}\n  built at load average {st['load_1m_median']} (median), {st['load_1m_max']} (max); "
          f"{len(table.entries)} layers; calibration {table.calibration.get('fit')}")
    for r in table.header.get("unstable") or table.unstable_reasons():
        print(f"  UNSTABLE BUILD: {r}")
    res = check_table(table, space, runtime, protocol, n=n, seed=seed, passes=args.passes,
                      progress=not args.no_progress)
    print(f"machine now: load average {res['state_before']['load_1m']} -> {res['state_after']['load_1m']}, "
          f"CPU clock {res['state_before']['cpu_mhz']} MHz")
    print(f"{'network':<60} {'predicted':>10} {'measured':>10} {'range (passes)':>18} {'error':>8}")
    for r in res["networks"]:
        key = r["key"] if len(r["key"]) <= 60 else r["key"][:57] + "..."
        print(f"{key:<60} {r['predicted_ms']:>8.3f}ms {r['measured_ms']:>8.3f}ms "
              f"{r['low_ms']:>8.3f}-{r['high_ms']:<8.3f} {r['error_pct']:>+7.1f}%")
    s = res["scores"]
    print(f"{n} networks (seed {seed}, {args.passes} passes): Kendall tau {s['kendall_tau']:.3f}, MAPE "
          f"{s['mape_pct']:.1f}%, within 10% {s['within_10_pct']:.0f}%, drift {res['drift_pct']:+.1f}% (median)")
    if res["ok"]:
        print("the table holds on this machine now")
        return 0
    print(f"DRIFT: the table no longer describes this machine (allowed: drift within +-{MAX_DRIFT_PCT:.0f}%, "
          f"at least {MIN_WITHIN_10_PCT:.0f}% within 10%). On a quiet machine, re-measure the calibration networks "
          f"with `evo-nas latency build-table --recalibrate`, or everything with `--rebuild` (same --space/--config "
          f"and --runtime as the table: {table.header['runtime']}, threads {table.header['threads']}).",
          file=sys.stderr)
    return 3
