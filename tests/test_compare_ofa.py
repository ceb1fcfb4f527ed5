"""experiments/compare_ofa.toml at a small budget: every algorithm and ablation variant runs through
``evo-nas compare``, and a cell's run at a smaller budget is the prefix of its run at a larger one."""
import copy
from pathlib import Path

import numpy as np
import pytest

from evo_nas.compare import CompareConfig, cell_dir, load_comparison, run_cells, table_markdown, write_outputs
from evo_nas.engine.run import RunDir
from evo_nas.spaces.loader import read_toml

from conftest import needs_data

CONFIG = Path(__file__).resolve().parents[1] / "experiments" / "compare_ofa.toml"
ALGORITHMS = ["nsga2", "rl", "aging", "random", "nsga2-gene-xm", "nsga2-ordinal"]


def small(evaluations: int, budgets: list[int]) -> dict:
    """The comparison's config with its algorithms and variants, 2 seeds and a small budget."""
    config = read_toml(CONFIG, "config")
    config["search"].update(max_evaluations=evaluations, generations=100, base_dir=str(CONFIG.parent))
    cmp = config["compare"]
    cmp.update(algorithms=ALGORITHMS, seeds=[0, 1], cell_jobs=1, budgets=budgets,
               ablation=[a for a in cmp["ablation"] if a in ALGORITHMS])
    cmp["overrides"] = {k: v for k, v in cmp["overrides"].items() if k in ALGORITHMS}
    return config


def keys(path: Path) -> list[str]:
    return [r["key"] for r in RunDir(path).evaluations()]


def test_the_committed_config_is_valid():
    config = read_toml(CONFIG, "config")
    cmp = CompareConfig.from_dict(config)
    assert cmp.budgets == (2000, 10000) and cmp.baseline == "rl" and len(cmp.seeds) == 10
    assert cmp.latency_targets_ms == (15, 20, 25, 30, 40)
    assert {cmp.strategy(a) for a in cmp.ablation} == {"nsga2"}
    assert config["search"]["reward"] == {"target_ms": 30.0, "mode": "soft"}


@needs_data("ofa")
def test_small_comparison_runs_and_a_smaller_budget_is_a_prefix(tmp_path):
    config = small(240, [100, 240])
    run_cells(config, tmp_path / "runs")
    comparison = load_comparison(config, tmp_path / "runs")
    table = table_markdown(comparison)
    assert "Budget 100 unique evaluations" in table and "| nsga2-gene-xm | 240 |" in table
    names = {p.name for p in write_outputs(comparison, tmp_path / "out")}
    assert {"table.md", "reach.md", "targets.md", "hv_curve.png", "hv_curve_ablation.png", "fronts.png",
            "fronts_ablation.png", "summary.json"} <= names
    assert all(c["stopped"] == "max_evaluations" for c in comparison.cells.values())
    reach = {(r["budget"], r["algorithm"]): r for r in comparison.reach_rows()}
    assert (240, "rl") not in reach and reach[(240, "nsga2")]["baseline_final_hv_median"] == pytest.approx(
        float(np.median(comparison.finals("rl", 240))))
    # the engine stops exactly at max_evaluations and every cell is seeded: the first 100 unique
    # evaluations of a 240-evaluation run are the 100-evaluation run
    run_cells(small(100, [100]), tmp_path / "short")
    for a in ALGORITHMS:
        for s in (0, 1):
            short = keys(cell_dir(tmp_path / "short", a, s))
            assert len(short) == 100 and short == keys(cell_dir(tmp_path / "runs", a, s))[:100], (a, s)


@needs_data("ofa")
def test_an_override_must_name_a_compared_algorithm():
    config = small(100, [100])
    config["compare"]["overrides"]["nsga2-typo"] = {"algorithm": "nsga2"}
    with pytest.raises(ValueError, match="nsga2-typo"):
        CompareConfig.from_dict(config)
    config = copy.deepcopy(small(100, [100]))
    config["compare"]["overrides"]["nsga2-gene-xm"]["mutation"] = "bitflip"
    with pytest.raises(ValueError, match="nsga2-gene-xm.*'bitflip'"):
        run_cells(config, "/nonexistent/never-written")
