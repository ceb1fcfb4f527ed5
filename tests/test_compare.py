"""``evo-nas compare``: hypervolume curves (checked against pymoo), the table, and the outputs."""
import csv

import numpy as np
import pytest

from evo_nas.algorithms.objectives import Objectives
from evo_nas.algorithms.reward import Reward
from evo_nas.analysis.pareto import hypervolume_2d, non_dominated
from evo_nas.compare import (
    Comparison, a12, a12_magnitude, best_under, evals_to_reach, hv_curve, hv_curve_points, ideal_point, mann_whitney,
    median_interval, t_interval, table_markdown, unique_in_order, write_outputs,
)

OBJ = Objectives.from_dict({"names": ["val_acc", "latency_ms"], "reference": {"val_acc": 0.0, "latency_ms": 50.0}})


def records(rng, n, shift=0.0):
    acc = rng.uniform(0.1, 0.9, n)
    lat = 5 + 40 * acc ** 2 * rng.uniform(0.5, 1.5, n) - shift
    return [{"key": f"k{i}-{a:.6f}", "status": "ok", "val_acc": float(a), "latency_ms": float(l)}
            for i, (a, l) in enumerate(zip(acc, lat))]


def test_hv_curve_agrees_with_pymoo():
    from pymoo.indicators.hv import HV

    rng = np.random.default_rng(0)
    recs = records(rng, 60)
    recs[5] = dict(recs[5], status="failed", val_acc=None, latency_ms=None)
    recs.insert(10, dict(recs[3]))  # a repeat does not count as an evaluation
    curve = hv_curve(recs, OBJ, OBJ.reference_vector())
    assert len(curve) == 60
    ref = OBJ.reference_vector()
    hv = HV(ref_point=ref)
    uniq = unique_in_order(recs)
    for n in (1, 7, 30, 60):
        pts = np.array([OBJ.vector(r) for r in uniq[:n]])
        pts = pts[np.all(pts < ref, axis=1)]
        expect = hv(pts) / (1.0 * 50.0) if len(pts) else 0.0
        assert curve[n - 1] == pytest.approx(expect, rel=1e-9, abs=1e-12)
    assert np.all(np.diff(curve) >= 0)


def test_statistics_helpers():
    assert evals_to_reach(np.array([0.1, 0.5, 0.9, 0.95]), 0.9) == 3
    assert evals_to_reach(np.array([0.1, 0.5]), 0.9) is None
    mean, lo, hi = t_interval(np.array([[1.0, 2.0], [3.0, 2.0]]))
    assert mean.tolist() == [2.0, 2.0]
    assert lo[0] == pytest.approx(2 - 12.706 * np.sqrt(2) / np.sqrt(2), rel=1e-3) and lo[1] == hi[1] == 2.0
    assert mann_whitney([1, 2, 3, 4, 5], [6, 7, 8, 9, 10]) == pytest.approx(0.0079, abs=1e-4)
    assert np.isnan(mann_whitney([1, 1], [1, 1]))


def test_comparison_outputs(tmp_path):
    rng = np.random.default_rng(1)
    runs = {(a, s): records(rng, 40, shift=(2.0 if a == "good" else 0.0)) for a in ("good", "plain") for s in range(3)}
    c = Comparison(("good", "plain"), (0, 1, 2), runs, OBJ, Reward.from_dict({"target_ms": 20.0}))
    rows = c.table_rows()
    assert [r["algorithm"] for r in rows] == ["good", "plain"]
    assert rows[0]["final_hv_mean"] > rows[1]["final_hv_mean"]
    assert rows[0]["evaluations"] == "40"
    reward = Reward.from_dict({"target_ms": 20.0})
    best = [max(reward.of_record(r) for r in runs[("plain", s)]) for s in range(3)]
    assert rows[1]["best_reward_mean"] == pytest.approx(np.mean(best))
    assert rows[1]["best_reward_sd"] == pytest.approx(np.std(best, ddof=1))
    for t in (10.0, 20.0, 1.0):
        got = c.best_under("plain", 1, 30, t)
        want = best_under(unique_in_order(runs[("plain", 1)])[:30], "val_acc", t)
        assert got == want or np.isnan(got) and np.isnan(want)
    assert np.isnan(rows[0]["p_hv_vs_first"]) and 0 < rows[1]["p_hv_vs_first"] <= 1
    md = table_markdown(c)
    assert "| good | 40 |" in md and "T = 20 ms" in md
    files = write_outputs(c, tmp_path)
    assert {f.name for f in files} == {"hv_curve.csv", "hv_curve.png", "fronts.png", "table.md", "table.csv",
                                       "summary.json"}
    with open(tmp_path / "hv_curve.csv") as f:
        curve = list(csv.DictReader(f))
    assert len(curve) == 2 * 40
    assert all(float(r["hv_lo"]) <= float(r["hv_median"]) <= float(r["hv_hi"]) for r in curve)
    assert (tmp_path / "hv_curve.png").read_bytes()[:4] == b"\x89PNG"


def hv_curve_reference(records, objectives, ref):
    """The per-record implementation ``hv_curve`` replaced: vstack, non_dominated and a full 2-D
    hypervolume after every new front member."""
    ref = np.asarray(ref, float)
    scale = float(np.prod(ref - ideal_point(objectives)))
    f = np.array([objectives.vector(r) for r in unique_in_order(records)], dtype=float).reshape(-1, 2)
    out, front, hv = np.zeros(len(f)), np.zeros((0, 2)), 0.0
    for i, p in enumerate(f):
        if np.all(p < ref) and not np.any(np.all(front <= p, axis=1)):
            front = np.vstack([front, p])
            front = front[non_dominated(front)]
            hv = hypervolume_2d(front, ref) / scale
        out[i] = hv
    return out


@pytest.mark.parametrize("seed", range(6))
def test_fast_hv_curve_matches_the_per_record_implementation(seed):
    """Random fronts with ties in either objective, repeated points, failures and points beyond the reference."""
    rng = np.random.default_rng(seed)
    n = 400
    acc = np.round(rng.uniform(0.0, 1.0, n), 2 if seed % 2 else 6)  # coarse grid: many equal values
    lat = np.round(5 + 45 * acc ** (1 + seed % 3) * rng.uniform(0.6, 1.4, n), 1 if seed % 2 else 6)
    recs = [{"key": f"k{i}", "status": "ok", "val_acc": float(a), "latency_ms": float(t)}
            for i, (a, t) in enumerate(zip(acc, lat))]
    for i in rng.choice(n, 20, replace=False):
        recs[i] = dict(recs[i], status="failed", val_acc=None, latency_ms=None)
    for i in rng.choice(n, 20, replace=False):  # the same objective values under another key
        recs[i] = dict(recs[int(rng.integers(n))], key=f"dup{i}")
    fast = hv_curve(recs, OBJ, OBJ.reference_vector())
    slow = hv_curve_reference(recs, OBJ, OBJ.reference_vector())
    np.testing.assert_allclose(fast, slow, rtol=1e-10, atol=1e-12)
    assert (fast > 0).any() and np.all(np.diff(fast) >= -1e-12)


def test_fast_hv_curve_is_fast_and_exact_at_the_end():
    import time

    rng = np.random.default_rng(3)
    F = np.stack([-rng.uniform(0.6, 0.85, 20000), rng.uniform(10, 80, 20000)], 1)
    F[:, 1] += 300 * (F[:, 0] + 0.85) ** 2  # a trade-off, so the front has many members
    t0 = time.perf_counter()
    curve = hv_curve_points(F, np.array([-0.7, 100.0]))
    assert time.perf_counter() - t0 < 1.0
    inside = F[np.all(F < [-0.7, 100.0], axis=1)]
    assert curve[-1] == pytest.approx(hypervolume_2d(inside, np.array([-0.7, 100.0])), rel=1e-10)
    assert curve[999] == pytest.approx(hypervolume_2d(F[:1000][np.all(F[:1000] < [-0.7, 100.0], axis=1)],
                                                      np.array([-0.7, 100.0])), rel=1e-10)


def test_median_interval_a12_and_exact_mann_whitney():
    v = np.arange(10.0)[::-1]
    med, lo, hi, cov = median_interval(v)
    assert (med, lo, hi) == (4.5, 1.0, 8.0) and cov == pytest.approx(1 - 2 * 11 / 1024)  # 2nd and 9th of 10
    m, lo, hi, cov = median_interval(np.array([[1.0, 5.0], [3.0, 2.0], [2.0, 9.0]]))
    assert m.tolist() == [2.0, 5.0] and lo.tolist() == [1.0, 2.0] and hi.tolist() == [3.0, 9.0] and cov == 0.75
    assert a12([3, 4], [1, 2]) == 1.0 and a12([1, 2], [3, 4]) == 0.0 and a12([1, 2], [2, 1]) == 0.5
    assert a12([2, 2], [2, 1]) == 0.75 and np.isnan(a12([], [1]))
    assert [a12_magnitude(x) for x in (0.52, 0.4, 0.69, 0.05)] == ["negligible", "small", "medium", "large"]
    from math import comb

    assert mann_whitney(range(10), range(10, 20)) == pytest.approx(2 / comb(20, 10))  # exact without ties
    assert 0 < mann_whitney([1, 1, 2, 3], [3, 4, 4, 5]) < 0.1  # ties: the normal approximation
