"""Issues 18 and 27: a damaged checkpoint gives way to the intact one before it, or to replay; either
way the resumed run ends as an uninterrupted one."""
import json

import pytest

from evo_nas.engine.run import CHECKPOINT, PREVIOUS_CHECKPOINT, RunDir
from evo_nas.engine.runner import run_search

CONFIG = {"seed": 8, "space": {"name": "mnasnet", "resolution": 32, "num_classes": 10},
          "problem": {"name": "synthetic"}, "search": {"pop_size": 6, "generations": 4, "cache": False},
          "objectives": {"reference": {"val_acc": 0.5, "latency_ms": 10.0}}}


@pytest.mark.parametrize("damage_previous", [False, True], ids=["previous-intact", "both-damaged"])
def test_a_damaged_checkpoint_falls_back_and_ends_as_the_uninterrupted_run(tmp_path, capsys, damage_previous):
    straight = run_search(CONFIG, tmp_path / "straight", quiet=True)
    run_search(CONFIG, tmp_path / "run", quiet=True)
    run = RunDir(tmp_path / "run")
    assert run.load_checkpoint()["generation"] == 4
    assert run.read_checkpoint(PREVIOUS_CHECKPOINT)["generation"] == 3
    (run.path / CHECKPOINT).write_bytes(b"garbage")
    if damage_previous:
        (run.path / PREVIOUS_CHECKPOINT).write_text('{"format": "evo-nas checkpoint", "version": 2}')
    resumed = run_search(CONFIG, run.path, resume=True, quiet=False)
    err = capsys.readouterr().err
    assert "corrupt checkpoint" in err and str(run.path / CHECKPOINT) in err
    assert ("no intact checkpoint is left" in err) == damage_previous
    assert [r["key"] for r in resumed.front] == [r["key"] for r in straight.front]
    assert resumed.evaluations == straight.evaluations
    assert len(run.logbook()) == 4
    assert run.load_checkpoint()["generation"] == 4  # a fresh checkpoint replaces the damaged one


def test_a_checkpoint_is_strict_json_data(tmp_path):
    run_search(CONFIG, tmp_path / "run", quiet=True)
    state = json.loads((tmp_path / "run" / CHECKPOINT).read_text())
    assert state["format"] == "evo-nas checkpoint" and state["generation"] == 4
    assert state["records_bytes"] == (tmp_path / "run" / "evaluations.jsonl").stat().st_size
    assert not list((tmp_path / "run").glob("*.pkl"))
