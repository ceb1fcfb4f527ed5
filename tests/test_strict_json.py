"""Issue 18: every JSON file evo-nas writes is strict JSON (no NaN or Infinity tokens)."""
import json
import math
import sqlite3

import pytest

from evo_nas.base.jsonio import dumps, loads_strict
from evo_nas.engine.runner import run_search
from evo_nas.problems.synthetic import synthetic_evaluate

CONFIG = {"seed": 3, "space": {"name": "mnasnet", "resolution": 32, "num_classes": 10},
          "problem": {"name": "synthetic", "fail": 0.2}, "search": {"pop_size": 6, "generations": 2},
          "objectives": {"reference": {"val_acc": 0.0, "latency_ms": 50.0}}}


def odd_numbers(genome, cfg):
    """The synthetic evaluator plus fields a real one can produce: a NaN loss, an infinite ratio."""
    return {**synthetic_evaluate(genome, cfg), "loss": math.nan, "ratio": -math.inf}


def test_dumps_writes_null_or_names_the_bad_value():
    import numpy as np

    assert dumps({"a": math.nan, "b": [1.0, math.inf], "c": np.float32(0.5), "d": np.array([1, 2])},
                 sort_keys=True) == '{"a": null, "b": [1.0, null], "c": 0.5, "d": [1, 2]}'
    with pytest.raises(ValueError, match=r"config\.objectives\.reference\.latency_ms = inf"):
        dumps({"objectives": {"reference": {"latency_ms": math.inf}}}, nonfinite="raise", where="config")
    with pytest.raises(ValueError, match="NaN"):
        loads_strict('{"a": NaN}')
    assert json.loads('{"a": NaN}')["a"] != 0  # the lenient parser the strict one guards against


def test_every_file_of_a_finished_run_is_strict_json(tmp_path):
    run_search(CONFIG, tmp_path / "run", quiet=True, evaluator=odd_numbers)
    files = sorted(p for p in (tmp_path / "run").iterdir() if p.suffix in (".json", ".jsonl"))
    assert {p.name for p in files} == {"config.json", "evaluations.jsonl", "logbook.jsonl", "pareto.json",
                                       "run.json", "checkpoint.json", "checkpoint.prev.json"}
    for p in files:
        text = p.read_text()
        docs = [loads_strict(line) for line in text.splitlines()] if p.suffix == ".jsonl" else [loads_strict(text)]
        assert docs, p
    records = [loads_strict(line) for line in (tmp_path / "run" / "evaluations.jsonl").read_text().splitlines()]
    ok = [r for r in records if r["status"] == "ok"]
    assert ok and all(r["loss"] is None and r["ratio"] is None for r in ok)
    front = loads_strict((tmp_path / "run" / "pareto.json").read_text())["front"]
    assert front and all(r["loss"] is None for r in front)
    with sqlite3.connect(tmp_path / "evo-nas-cache.sqlite") as conn:
        blobs = [row[0] for row in conn.execute("SELECT record FROM evaluations")]
    assert blobs and all(loads_strict(b)["loss"] is None for b in blobs)


def test_a_config_with_a_nan_is_refused_before_the_run_directory_exists(tmp_path):
    from evo_nas.engine.run import RunDir

    with pytest.raises(ValueError, match=r"config\.proxy\.lr = nan"):
        RunDir.create(tmp_path / "run", {"seed": 0, "proxy": {"lr": math.nan}})
    assert not (tmp_path / "run").exists()
