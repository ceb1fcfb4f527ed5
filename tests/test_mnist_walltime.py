"""The MNIST wall-time study: cell configs, time to a target on synthetic logbooks, one tiny real run."""
import json

import numpy as np
import pytest

from conftest import tiny_space_toml
from evo_nas.studies import mnist_walltime as mw
from evo_nas.studies.mnist_walltime_report import analyze, curve, time_to, write_report


def entry(wall, evals, hv, eval_s=None):
    return {"wall_s": wall, "eval_s": wall * 0.9 if eval_s is None else eval_s, "evaluations": evals,
            "hypervolume": hv}


def cell(logbook, algorithm, seed, n_jobs=2):
    return {"curve": curve(logbook), "worker_s": 1.0,
            "marker": {"algorithm": algorithm, "seed": seed, "n_jobs": n_jobs, "outer_wall_s": 1.0, "resumed": False,
                       "failures": 0, "load_1m_before": 0.1, "load_1m_after": 0.2}}


def test_time_to_target_is_the_end_of_the_first_entry_that_reaches_it():
    c = curve([entry(10.0, 16, 0.5), entry(5.0, 32, 0.8), entry(20.0, 48, 0.8), entry(1.0, 64, 0.9)])
    assert c["wall_s"] == [10.0, 15.0, 35.0, 36.0]
    assert time_to(c, 0.8) == {"wall_s": 15.0, "evaluations": 32, "entry": 1}
    assert time_to(c, 0.5) == {"wall_s": 10.0, "evaluations": 16, "entry": 0}
    assert time_to(c, 0.9)["wall_s"] == 36.0
    assert time_to(c, 0.91) is None
    assert curve([{"wall_s": 1.0, "eval_s": 1.0, "evaluations": 2, "hypervolume": None}])["hypervolume"] == [0.0]
    with pytest.raises(ValueError, match="empty logbook"):
        curve([])


def test_analysis_targets_never_reached_overhead_and_tests():
    cells = {("nsga2", 0): cell([entry(10.0, 16, 0.5), entry(10.0, 32, 0.8)], "nsga2", 0),
             ("nsga2", 1): cell([entry(10.0, 16, 0.6), entry(10.0, 32, 1.0)], "nsga2", 1),
             ("nsga2", 2): cell([entry(10.0, 16, 0.7), entry(10.0, 32, 0.9)], "nsga2", 2),
             # reaches 0.9 at 12 s; the overhead is 4 s of its 12 (eval 8 s)
             ("surrogate", 0): cell([entry(6.0, 40, 0.86, 4.0), entry(6.0, 50, 0.95, 4.0)], "surrogate", 0),
             ("surrogate", 1): cell([entry(6.0, 40, 0.5, 5.0), entry(6.0, 50, 0.6, 5.0)], "surrogate", 1)}
    r = analyze(cells, 0.95)
    t1, t2 = r["targets"]
    assert r["targets"][t1] == pytest.approx(0.9) and r["targets"][t2] == pytest.approx(0.855)
    sur, nsga = r["algorithms"]["surrogate"], r["algorithms"]["nsga2"]
    assert sur["targets"][t1]["reached"] == 1 and sur["targets"][t1]["of"] == 2
    assert sur["targets"][t1]["wall_s"]["median"] == 12.0 and sur["targets"][t1]["evaluations"]["median"] == 50
    assert sur["targets"][t2]["wall_s"]["median"] == 6.0  # 0.86 >= 0.855 at the first round
    assert nsga["targets"][t1]["reached"] == 2 and nsga["targets"][t1]["wall_s"]["max"] == 20.0
    assert r["cells"]["surrogate-seed1"]["reached"][t1] is None
    assert r["cells"]["surrogate-seed0"]["overhead_s"] == pytest.approx(4.0)
    assert sur["overhead_share"]["max"] == pytest.approx(4.0 / 12.0)
    assert r["cells"]["nsga2-seed0"]["pool_use"] == pytest.approx(1.0 / (2 * 18.0))
    assert nsga["final_hv"]["median"] == pytest.approx(0.9)
    # a cell that never reaches a target ranks behind every one that does
    # wall s to t1: surrogate [12, never], NSGA-II [never, 20, 20]: P(S > N) + P(S = N) / 2 = 2.5 / 6
    assert r["tests"][f"wall_s to {t1}"]["a12"] == pytest.approx(2.5 / 6)
    assert r["tests"]["final_hv"]["a12"] == pytest.approx(2 / 6)  # [0.95, 0.6] against [0.8, 1.0, 0.9]
    assert 0 < r["tests"]["final_hv"]["p"] <= 1


def test_the_targets_need_a_finished_nsga2_cell():
    with pytest.raises(ValueError, match="no finished nsga2 cell"):
        analyze({("surrogate", 0): cell([entry(1.0, 4, 0.5)], "surrogate", 0)})


def test_cell_configs_keep_each_algorithms_own_keys_and_the_budget_alone_stops():
    base = mw.base_config()
    assert base["search"]["generations"] == 10 and base["search"]["base_dir"].endswith("experiments")
    n = mw.cell_config(base, "nsga2", 3, 200)
    s = mw.cell_config(base, "surrogate", 3, 200, {"batch": 4})
    for cfg in (n, s):
        assert cfg["seed"] == 3 and "generations" not in cfg["search"]
        assert cfg["search"]["max_evaluations"] == 200 and cfg["search"]["n_jobs"] == 2
        assert cfg["search"]["cache"] is False and cfg["problem"] == base["problem"]
    assert n["search"]["pop_size"] == 16 and n["search"]["crossover"] == "uniform"
    assert "pop_size" not in s["search"] and s["search"]["surrogate"] == {"initial": 40, "batch": 4}
    assert base["search"]["generations"] == 10  # the base is not changed
    with pytest.raises(ValueError, match="algorithm = 'aging'"):
        mw.cell_config(base, "aging", 0)
    with pytest.raises(ValueError, match="budget = 0"):
        mw.cell_config(base, "nsga2", 0, 0)


def test_only_a_table_filled_on_demand_is_filled_before_the_cells(tmp_path):
    base = mw.base_config()
    base["latency"] = {"mode": "measured"}
    info = mw.fill_latency_table(base, tmp_path, progress=False)
    assert info["filled"] is False and "not a table filled on demand" in info["why"]
    assert json.loads((tmp_path / "latency_fill.json").read_text()) == [info]


TINY = tiny_space_toml('name = "tiny-mnist"')


@pytest.mark.filterwarnings("ignore:latency table .* was measured while the machine was not quiet")
def test_a_tiny_study_end_to_end(tmp_path):
    """The real pipeline at a tiny size: a 2-block space on the embedded MNIST subset, 2 training steps,
    a table of 32 layers filled before the cells, budget 24 with 2 workers; then a rerun continues."""
    (tmp_path / "tiny.toml").write_text(TINY)
    base = mw.base_config()
    base["space"] = {"file": str(tmp_path / "tiny.toml")}
    base["data"]["val_size"] = 100
    base["proxy"].update(steps=2, batch_size=8, bn_calibration=16, eval_batch_size=100)
    base["latency"] = {"mode": "table", "table": str(tmp_path / "table.json"), "fill": True, "warmup": 1,
                       "repeats": 2, "rounds": 2, "calibration": 3}
    surrogate = {"initial": 12, "batch": 4, "inner_pop": 20, "inner_generations": 3}
    out = tmp_path / "out"
    mw.run_cells(out, [0], 24, config=base, surrogate=surrogate, progress=False)
    fill = json.loads((out / "latency_fill.json").read_text())
    assert fill[0]["measured"] == fill[0]["layers"] == 32 and fill[0]["calibrated_now"]
    for a in mw.ALGORITHMS:
        log = [json.loads(line) for line in (mw.cell_dir(out, a, 0) / "logbook.jsonl").read_text().splitlines()]
        assert log[-1]["evaluations"] == 24
        assert all(e["failures"] == 0 for e in log)
    sur = [json.loads(line) for line in (mw.cell_dir(out, "surrogate", 0) / "logbook.jsonl").read_text().splitlines()]
    assert [e["evaluations"] for e in sur] == [12, 16, 20, 24]  # the initial sample, then rounds of batch 4
    r = write_report(out, [0], mw.describe(base, [0]))
    assert set(r["algorithms"]) == {"surrogate", "nsga2"} and r["config"] == "a dict" and r["budget"] == [24]
    assert {k: r["surrogate"][k] for k in surrogate} == surrogate and r["surrogate"]["kappa"] == 0.5
    assert r["targets"]["median NSGA-II final"] == r["cells"]["nsga2-seed0"]["final_hv"] > 0
    text = (out / "results.md").read_text()
    assert "wall-clock" in text and "32 of 32 layers" in text and "| nsga2-seed0 | 24 |" in text
    assert (out / "hv_vs_wall.png").read_bytes()[:4] == b"\x89PNG"
    # a rerun fills nothing and runs nothing; a cell without its marker is resumed, not started again
    mw.marker(out, "nsga2", 0).unlink()
    before = (mw.cell_dir(out, "nsga2", 0) / "evaluations.jsonl").read_text()
    mw.run_cells(out, [0], 24, config=base, surrogate=surrogate, progress=False)
    assert json.loads((out / "latency_fill.json").read_text())[1]["measured"] == 0
    assert json.loads(mw.marker(out, "nsga2", 0).read_text())["resumed"] is True
    assert (mw.cell_dir(out, "nsga2", 0) / "evaluations.jsonl").read_text() == before
    with pytest.raises(ValueError, match="run with budget 24, not 30"):
        mw.run_cells(out, [0], 30, config=base, surrogate=surrogate, progress=False)
    assert np.isfinite(r["cells"]["surrogate-seed0"]["overhead_s"])
