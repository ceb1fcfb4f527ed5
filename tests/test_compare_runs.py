"""``evo-nas compare`` end to end on the synthetic evaluator: cells resume after ``kill -9``."""
import os
import signal
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import numpy as np
import pytest

from evo_nas.cli import main
from evo_nas.compare import cell_config, load_comparison, run_cells, table_markdown
from evo_nas.engine.run import RunDir

TABLE = Path(__file__).resolve().parents[1] / "experiments" / "compare" / "latency_table_mnasnet_mnist28.json"

CONFIG = """
seed = 0
[space]
name = "mnasnet"
resolution = 32
num_classes = 10
[objectives]
names = ["val_acc", "latency_ms"]
reference = { val_acc = 0.0, latency_ms = 6.0 }
[problem]
name = "synthetic"
[search]
max_evaluations = 24
max_stall = 1000
pop_size = 8
[search.reward]
target_ms = 3.0
[search.rl]
batch_size = 6
hidden = 16
lr = 0.05
ppo_epochs = 2
[search.aging]
population = 8
sample = 3
batch_size = 6
[search.random]
batch_size = 6
[compare]
algorithms = ["nsga2", "aging", "rl", "random"]
seeds = [0, 1]
"""


def load(tmp_path):
    from evo_nas.spaces.loader import read_toml

    (tmp_path / "cmp.toml").write_text(CONFIG)
    return read_toml(tmp_path / "cmp.toml", "config")


def keys(path):
    return [r["key"] for r in RunDir(path).evaluations()]


def test_cell_configs_keep_only_what_each_algorithm_reads(tmp_path):
    config = load(tmp_path)
    nsga2 = cell_config(config, "nsga2", 3)
    rl = cell_config(config, "rl", 3)
    assert nsga2["seed"] == rl["seed"] == 3
    assert "pop_size" in nsga2["search"] and "rl" not in nsga2["search"] and "reward" not in nsga2["search"]
    assert rl["search"]["rl"]["batch_size"] == 6 and "pop_size" not in rl["search"]
    assert nsga2["search"]["cache"] is False and rl["search"]["algorithm"] == "rl"
    assert "compare" not in rl and config["search"].get("algorithm") is None


def test_cells_resume_after_kill(tmp_path):
    (tmp_path / "cmp.toml").write_text(CONFIG.replace('algorithms = ["nsga2", "aging", "rl", "random"]',
                                                      'algorithms = ["nsga2", "rl"]'))
    from evo_nas.spaces.loader import read_toml

    config = read_toml(tmp_path / "cmp.toml", "config")
    run_cells(config, tmp_path / "clean")
    script = tmp_path / "slow.py"
    script.write_text(textwrap.dedent(f"""
        import time
        from evo_nas.compare import run_cells
        from evo_nas.spaces.loader import read_toml
        from evo_nas.problems.synthetic import synthetic_evaluate

        def slow(genome, cfg):
            time.sleep(0.02)
            return synthetic_evaluate(genome, cfg)

        run_cells(read_toml(__import__("pathlib").Path({str(tmp_path / "cmp.toml")!r}), "config"),
                  {str(tmp_path / "killed")!r}, evaluator=slow)
    """))
    proc = subprocess.Popen([sys.executable, str(script)], env={**os.environ, "OMP_NUM_THREADS": "1"})
    target = tmp_path / "killed" / "rl-seed0" / "evaluations.jsonl"
    deadline = time.time() + 120
    try:
        while time.time() < deadline and proc.poll() is None:
            if target.exists() and len(target.read_text().splitlines()) >= 8:
                break
            time.sleep(0.01)
    finally:
        proc.send_signal(signal.SIGKILL)
        proc.wait()
    assert proc.returncode == -signal.SIGKILL, "the cell finished before it could be killed"
    n = len(keys(tmp_path / "killed" / "rl-seed0"))
    assert 8 <= n < 24
    assert not (tmp_path / "killed" / "rl-seed1").exists()
    run_cells(config, tmp_path / "killed")
    for algorithm in ("nsga2", "rl"):
        for seed in (0, 1):
            cell = f"{algorithm}-seed{seed}"
            assert keys(tmp_path / "killed" / cell) == keys(tmp_path / "clean" / cell), cell
            assert len(keys(tmp_path / "clean" / cell)) == 24
    assert table_markdown(load_comparison(config, tmp_path / "killed")) == \
        table_markdown(load_comparison(config, tmp_path / "clean"))


def test_cli_writes_outputs_and_reports_bad_config(tmp_path, capsys):
    load(tmp_path)
    assert main(["compare", str(tmp_path / "cmp.toml"), "--out", str(tmp_path / "out"), "--quiet"]) == 0
    table = capsys.readouterr().out
    assert table.startswith("| algorithm |") and "| rl | 24 |" in table
    assert sorted(p.name for p in (tmp_path / "out").iterdir()) == [
        "fronts.png", "hv_curve.csv", "hv_curve.png", "runs", "summary.json", "table.csv", "table.md"]
    # a second call resumes every finished cell and writes the same table
    assert main(["compare", str(tmp_path / "cmp.toml"), "--out", str(tmp_path / "out"), "--quiet"]) == 0
    assert capsys.readouterr().out == table
    bad = tmp_path / "bad.toml"
    bad.write_text(CONFIG.replace('seeds = [0, 1]', 'seeds = [0, 1]\nrepeats = 3'))
    assert main(["compare", str(bad)]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert err == ["evo-nas compare: error: [compare] unknown key 'repeats' (expected one of ablation, algorithms, "
                   "baseline, budgets, cell_jobs, latency_targets_ms, overrides, score_as_accuracy, seeds)"]
    bad.write_text(CONFIG.replace('"random"]', '"ppo"]'))
    assert main(["compare", str(bad)]) == 2
    assert "algorithm 'ppo' is unknown" in capsys.readouterr().err


def test_score_as_accuracy_scales_a_zero_cost_score():
    from evo_nas.accuracy.evaluate import EvalConfig, evaluate
    from evo_nas.compare import CompareConfig, ScoreAsAccuracy

    cfg = EvalConfig.from_dict({"seed": 0, "data": {"name": "mnist-subset"}, "proxy": {"kind": "synflow"},
                                "latency": {"mode": "table", "fill": False,
                                            "table": str(TABLE)}})
    genome = cfg.space().sample(np.random.default_rng(0))
    plain = evaluate(genome, cfg)
    scaled = ScoreAsAccuracy(100.0)(genome, cfg)
    assert plain["status"] == scaled["status"] == "ok" and plain["val_acc"] is None
    assert scaled["val_acc"] == pytest.approx(plain["score"] / 100.0)
    assert scaled["latency_ms"] == plain["latency_ms"] and scaled["accuracy_source"] == "synflow score / 100"
    with pytest.raises(ValueError, match="score_as_accuracy = 0"):
        CompareConfig.from_dict({"compare": {"score_as_accuracy": 0}})


@pytest.mark.slow
def test_cells_in_parallel_give_the_same_runs(tmp_path):
    config = load(tmp_path)
    config["compare"].update(algorithms=["aging", "random"], seeds=[0])
    run_cells(config, tmp_path / "serial")
    config["compare"]["cell_jobs"] = 2
    run_cells(config, tmp_path / "parallel")
    for cell in ("aging-seed0", "random-seed0"):
        assert keys(tmp_path / "parallel" / cell) == keys(tmp_path / "serial" / cell)
        assert len(keys(tmp_path / "serial" / cell)) == 24
