"""Issue 18: a damaged checkpoint names the intact one of the generation before, and resuming from it
ends as an uninterrupted run."""
import pytest

from evo_nas.search.engine import run_search
from evo_nas.search.run import CHECKPOINT, PREVIOUS_CHECKPOINT, RunDir

CONFIG = {"seed": 8, "space": {"name": "mnasnet", "resolution": 32, "num_classes": 10},
          "problem": {"name": "synthetic"}, "search": {"pop_size": 6, "generations": 4, "cache": False},
          "objectives": {"reference": {"val_acc": 0.5, "latency_ms": 10.0}}}


def test_a_damaged_checkpoint_points_to_the_previous_one(tmp_path):
    straight = run_search(CONFIG, tmp_path / "straight", quiet=True)
    run_search(CONFIG, tmp_path / "run", quiet=True)
    run = RunDir(tmp_path / "run")
    assert run.load_checkpoint()["generation"] == 4
    assert RunDir._read_checkpoint(run.path / PREVIOUS_CHECKPOINT)["generation"] == 3
    (run.path / CHECKPOINT).write_bytes(b"garbage")
    with pytest.raises(ValueError, match=rf"corrupt checkpoint .*generation 3 is intact: resume from it with "
                                         rf"`mv .*{PREVIOUS_CHECKPOINT} .*{CHECKPOINT}`"):
        run_search(CONFIG, run.path, resume=True, quiet=True)
    (run.path / PREVIOUS_CHECKPOINT).replace(run.path / CHECKPOINT)
    resumed = run_search(CONFIG, run.path, resume=True, quiet=True)
    assert [r["key"] for r in resumed.front] == [r["key"] for r in straight.front]
    assert resumed.evaluations == straight.evaluations
    assert len(run.logbook()) == 4


def test_without_a_previous_checkpoint_the_error_stays_plain(tmp_path):
    run = RunDir.create(tmp_path / "run", {"seed": 0})
    run.save_checkpoint({"generation": 0})
    assert not (run.path / PREVIOUS_CHECKPOINT).exists()
    (run.path / CHECKPOINT).write_bytes(b"garbage")
    with pytest.raises(ValueError, match="corrupt checkpoint") as e:
        run.load_checkpoint()
    assert "intact" not in str(e.value)
