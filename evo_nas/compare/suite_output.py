"""A suite's outputs: the summary across problems and the per-problem table (markdown, CSV, JSON)."""
from __future__ import annotations

from pathlib import Path

from ..base.files import atomic_write
from ..base.jsonio import dumps
from .output import _csv, _fmt, _p
from .suite import Suite


def suite_markdown(suite: Suite) -> str:
    """The summary per budget (one row per algorithm), then per problem at each budget."""
    n = len(suite.problems)
    lines = [f"Suite: {n} problem{'s' * (n != 1)}, {len(suite.algorithms)} algorithms x {len(suite.seeds)} seeds"
             + (f"; {len(suite.skipped)} skipped" if suite.skipped else "") + ".", ""]
    head = ["algorithm", "median rank", "mean rank", "first on", f"wins / losses (p < {suite.alpha:g})",
            "share of reference front (median)", "share of true front (median)"]
    true_n = sum(1 for c in suite.problems.values() if c.true_front is not None)
    summary = suite.summary_rows()
    for b in suite.budgets():
        lines += [f"Budget {b:,} unique evaluations:", "", "| " + " | ".join(head) + " |", "|" + "---|" * len(head)]
        for r in (r for r in summary if r["budget"] == b):
            lines.append("| " + " | ".join([
                r["algorithm"], _fmt(r["median_rank"], 1), _fmt(r["mean_rank"], 2), f"{r['first_on']} of {r['problems']}",
                f"{r['wins']} / {r['losses']}", _fmt(r["front_share_median"], 3),
                _fmt(r["true_front_share_median"], 3) + (f" ({true_n} problem{'s' * (true_n != 1)})" if true_n else "")]) + " |")
        lines.append("")
    true_names = [n for n, c in suite.problems.items() if c.true_front is not None]
    for b in suite.budgets():
        rows = suite.problem_rows(b)
        lines += [f"Per problem at {b:,} evaluations: median HV (rank) / median share of the reference front"
                  + (" / median IGD to the exact front" if true_names else "") + ":", "",
                  "| problem | front | " + " | ".join(suite.algorithms) + " |", "|" + "---|" * (len(suite.algorithms) + 2)]
        for name in suite.problems:
            mine = {r["algorithm"]: r for r in rows if r["problem"] == name}
            first = next(iter(mine.values()))
            lines.append(f"| {name} | {first['front']} ({first['front_size']}) | " + " | ".join(
                f"{_fmt(mine[a]['hv_median'])} ({_fmt(mine[a]['rank'], 1)}) / {_fmt(mine[a]['front_share_median'], 3)}"
                + (f" / {_fmt(mine[a]['igd_median'])}" if name in true_names else "")
                for a in suite.algorithms) + " |")
        lines.append("")
        lead, others = suite.algorithms[0], suite.algorithms[1:]
        if others:
            lines += [f"{lead} against each other algorithm at {b:,} evaluations: Mann-Whitney p / A12 on HV "
                      f"(A12 > 0.5 favours {lead}):", "",
                      "| problem | " + " | ".join(others) + " |", "|" + "---|" * (len(others) + 1)]
            for name in suite.problems:
                mine = {r["algorithm"]: r for r in rows if r["problem"] == name}
                lines.append(f"| {name} | " + " | ".join(
                    f"{_p(mine[a]['p_hv_first_vs'])} / {_fmt(mine[a]['a12_hv_first_vs'], 2)}" for a in others) + " |")
            lines.append("")
    lines.append("Rank: of the median normalized hypervolume among the algorithms on a problem (1 best, ties "
                 "averaged). Wins: pairs (problem, other algorithm) where the Mann-Whitney U test gives "
                 f"p < {suite.alpha:g} and A12 > 0.5. Reference front: the exact Pareto front where the problem "
                 "knows it, else the non-dominated set of all the problem's evaluations (best known). IGD: of a "
                 "cell's Pareto set to the exact front, each objective scaled to [0, 1] by the front's ideal "
                 "and nadir (lower is better). A budget of N: each cell's first N unique evaluations.")
    for name, error in suite.skipped.items():
        lines.append(f"\nskipped {name}: {error}")
    return "\n".join(lines) + "\n"


def write_suite(suite: Suite, out: str | Path) -> list[Path]:
    """``suite.md``, ``suite.csv`` (summary rows), ``suite_problems.csv`` and ``suite.json`` in ``out``."""
    out = Path(out)
    out.mkdir(parents=True, exist_ok=True)
    per = [r for b in suite.budgets() for r in suite.problem_rows(b)]
    files = {"suite.md": suite_markdown(suite), "suite.csv": _csv(suite.summary_rows()),
             "suite_problems.csv": _csv(per),
             "suite.json": dumps({"algorithms": list(suite.algorithms), "seeds": list(suite.seeds),
                                  "alpha": suite.alpha, "budgets": list(suite.budgets()),
                                  "problems": {n: {"fronts": Suite.reference_front(c)[0],
                                                   "outputs": f"problems/{n}"} for n, c in suite.problems.items()},
                                  "skipped": suite.skipped}, indent=2, sort_keys=True) + "\n"}
    paths = []
    for name, text in files.items():
        atomic_write(out / name, text.encode())
        paths.append(out / name)
    return paths


__all__ = ["suite_markdown", "write_suite"]
