"""Issue 18: `evo-nas pareto` never rewrites a Pareto file from fewer records than it was made from,
and says when the hypervolume reference leaves front members out."""
import json

import numpy as np
import pytest

from evo_nas.analysis.pareto import hypervolume, reference_warning
from evo_nas.cli import main
from evo_nas.engine.runner import run_search

CONFIG = {"seed": 2, "space": {"name": "mnasnet", "resolution": 32, "num_classes": 10},
          "problem": {"name": "synthetic"}, "search": {"pop_size": 8, "generations": 3, "cache": False},
          "objectives": {"reference": {"val_acc": 0.0, "latency_ms": 50.0}}}


@pytest.fixture(scope="module")
def finished(tmp_path_factory):
    r = run_search(CONFIG, tmp_path_factory.mktemp("pareto") / "run", quiet=True)
    return r.run_dir


def _results(run_dir):
    return {n: (run_dir / n).read_bytes() for n in ("pareto.json", "pareto.csv")}


def test_pareto_json_records_how_many_evaluations_it_was_made_from(finished):
    lines = (finished / "evaluations.jsonl").read_text().splitlines()
    assert json.loads((finished / "pareto.json").read_text())["records"] == len(lines) > 8


@pytest.mark.parametrize("keep", [0, 5])
def test_fewer_records_than_the_pareto_file_was_made_from_is_refused(finished, tmp_path, capsys, keep):
    import shutil

    run = tmp_path / "run"
    shutil.copytree(finished, run)
    log = run / "evaluations.jsonl"
    n = len(log.read_text().splitlines())
    log.write_text("".join(line + "\n" for line in log.read_text().splitlines()[:keep]))
    before = _results(run)
    capsys.readouterr()
    assert main(["pareto", str(run), "--no-plot"]) == 2
    err = capsys.readouterr().err.strip()
    assert err.startswith("evo-nas pareto: error:") and "\n" not in err and str(log) in err
    # the checkpoint accounts for n records (issue 27): the shortfall is named before pareto.json's count
    assert f"holds {keep} records, the checkpoint of generation" in err and f"follows {n}: records are missing" in err
    assert _results(run) == before


def test_an_old_pareto_file_without_a_count_is_guarded_by_its_size(finished, tmp_path, capsys):
    import shutil

    run = tmp_path / "run"
    shutil.copytree(finished, run)
    old = json.loads((run / "pareto.json").read_text())
    del old["records"]
    (run / "pareto.json").write_text(json.dumps(old))
    log = run / "evaluations.jsonl"
    log.write_text(log.read_text().splitlines()[0] + "\n")
    for f in [*run.glob("checkpoint*"), run / "logbook.jsonl"]:  # nothing else accounts for the records
        f.unlink()
    assert old["size"] > 1
    assert main(["pareto", str(run), "--no-plot"]) == 2
    assert f"made from {old['size']} evaluation records" in capsys.readouterr().err


def test_the_same_records_rewrite_the_same_result(finished, tmp_path):
    import shutil

    run = tmp_path / "run"
    shutil.copytree(finished, run)
    before = json.loads((run / "pareto.json").read_text())
    assert main(["pareto", str(run), "--no-plot"]) == 0
    assert json.loads((run / "pareto.json").read_text()) == before


def test_reference_warning_says_which_members_the_reference_leaves_out():
    front = np.array([[-0.9, 5.0], [-0.8, 3.0], [-0.6, 2.0]])
    assert reference_warning(front, [0.0, 10.0]) is None
    assert reference_warning(np.zeros((0, 2)), [0.0, 10.0]) is None
    every = reference_warning(front, [-0.95, 10.0], names=["val_acc", "latency_ms"])
    assert hypervolume(front, [-0.95, 10.0]) == 0.0
    assert every.startswith("hypervolume is 0") and "val_acc" in every and "3 of 3" in every
    some = reference_warning(front, [0.0, 4.0], names=["val_acc", "latency_ms"])
    assert "1 of 3" in some and "latency_ms" in some and not some.startswith("hypervolume is 0")


def test_pareto_prints_the_reference_warning(finished, tmp_path, capsys):
    import shutil

    run = tmp_path / "run"
    shutil.copytree(finished, run)
    config = json.loads((run / "config.json").read_text())
    config["objectives"]["reference"] = {"val_acc": 0.999, "latency_ms": 50.0}
    (run / "config.json").write_text(json.dumps(config))
    assert main(["pareto", str(run), "--no-plot"]) == 0
    out = capsys.readouterr().out
    assert "hypervolume: 0" in out and "warning: hypervolume is 0" in out and "val_acc" in out
