"""``evo-nas compare``: hypervolume curves (checked against pymoo), the table, and the outputs."""
import csv

import numpy as np
import pytest

from evo_nas.baselines.reward import Reward
from evo_nas.compare import (Comparison, evals_to_reach, hv_curve, mann_whitney, t_interval, table_markdown,
                             unique_in_order, write_outputs)
from evo_nas.search.objectives import Objectives

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
    assert np.isnan(rows[0]["p_hv_vs_first"]) and 0 < rows[1]["p_hv_vs_first"] <= 1
    md = table_markdown(c)
    assert "| good | 40 |" in md and "T = 20 ms" in md
    files = write_outputs(c, tmp_path)
    assert {f.name for f in files} == {"hv_curve.csv", "hv_curve.png", "fronts.png", "table.md", "table.csv",
                                       "summary.json"}
    with open(tmp_path / "hv_curve.csv") as f:
        curve = list(csv.DictReader(f))
    assert len(curve) == 2 * 40
    assert all(float(r["hv_lo"]) <= float(r["hv_mean"]) <= float(r["hv_hi"]) for r in curve)
    assert (tmp_path / "hv_curve.png").read_bytes()[:4] == b"\x89PNG"
