"""Issue 27: a run directory that cannot lie. Nothing in it is unpickled, a checkpoint is bound to its
run, and records missing from what the checkpoint and logbook account for stop a resume (and
``evo-nas pareto``) with one line naming them."""
import json
import pickle
import re
import shutil

import pytest

from evo_nas.cli import main
from evo_nas.engine.run import RunDir
from evo_nas.engine.runner import run_search


class Killed(BaseException):
    """Stands for a kill: not an ``Exception``, so the engine does not record a failed evaluation."""


def config(seed=5, **search):
    search = {"pop_size": 8, "generations": 8, "cache": False, **search}
    if search["algorithm" if "algorithm" in search else "cache"] in ("random", "aging", "rl"):
        search.pop("pop_size")
    return {"seed": seed, "problem": {"name": "synthetic"},
            "space": {"name": "mnasnet", "resolution": 32, "num_classes": 10},
            "search": {k: v for k, v in search.items() if v is not None},
            "objectives": {"reference": {"val_acc": 0.5, "latency_ms": 10.0}}}


def dying(after):
    from evo_nas.problems.synthetic import synthetic_evaluate

    done = []

    def evaluate(genome, cfg):
        if len(done) == after:
            raise Killed
        done.append(genome.key)
        return synthetic_evaluate(genome, cfg)

    return evaluate


def killed_run(path, after=37, cfg=None):
    with pytest.raises(Killed):
        run_search(cfg or config(), path, quiet=True, evaluator=dying(after))
    return RunDir(path)


def keys(records):
    return [r["key"] for r in records]


class Plant:
    """A pickle that creates ``marker`` when it is loaded: what a run copied from someone may carry."""

    def __init__(self, marker):
        self.marker = str(marker)

    def __reduce__(self):
        return open, (self.marker, "w")


# -- 1. no code from data files -------------------------------------------------------------------

@pytest.mark.parametrize("names", [("checkpoint.pkl",), ("checkpoint.pkl", "checkpoint.prev.pkl")],
                         ids=["checkpoint", "previous-after-a-damaged-one"])
def test_a_planted_pickle_is_never_loaded(tmp_path, names):
    straight = run_search(config(), tmp_path / "straight", quiet=True)
    run = killed_run(tmp_path / "run")
    for f in run.path.glob("checkpoint*"):
        f.unlink()
    marker = tmp_path / "code-ran"
    (run.path / names[0]).write_bytes(pickle.dumps(Plant(marker)) if len(names) == 1 else b"damaged")
    for name in names[1:]:
        (run.path / name).write_bytes(pickle.dumps(Plant(marker)))
    with pytest.raises(ValueError) as e:
        run_search(None, run.path, resume=True, quiet=True)
    assert not marker.exists()
    assert re.search(r"checkpoint\.pkl is a checkpoint of an older evo-nas, which is no longer read .*--rebuild",
                     str(e.value))
    resumed = run_search(None, run.path, resume=True, quiet=True, rebuild=True)  # the documented opt-in
    assert not marker.exists()
    assert keys(resumed.front) == keys(straight.front) and resumed.evaluations == straight.evaluations


def test_the_cli_rebuild_option_resumes_an_old_run(tmp_path, capsys):
    run = killed_run(tmp_path / "run")
    for f in run.path.glob("checkpoint*"):
        f.unlink()
    (run.path / "checkpoint.pkl").write_bytes(pickle.dumps({"version": 1}))
    assert main(["search", "--resume", str(run.path), "--quiet"]) == 2
    err = capsys.readouterr().err.strip()
    assert err.count("\n") == 0 and "--rebuild" in err
    assert main(["search", "--resume", str(run.path), "--quiet", "--rebuild"]) == 0
    assert run.summary()["status"] == "done"


# -- 2. a checkpoint is bound to its run ----------------------------------------------------------

# the budget is no part of a run's identity (a resume may raise it): the checkpoint of the same search
# with a larger budget is refused for the records it follows, which this run does not hold
@pytest.mark.parametrize("other, why", [(config(seed=6), "checkpoint\\.json belongs to another run"),
                                        (config(generations=12), "records are missing")],
                         ids=["another-seed", "another-budget"])
def test_a_foreign_checkpoint_is_refused(tmp_path, other, why):
    run_search(other, tmp_path / "other", quiet=True)
    run = killed_run(tmp_path / "run")
    evaluations = (run.path / "evaluations.jsonl").read_bytes()
    for f in run.path.glob("checkpoint*"):
        f.unlink()
    for f in (tmp_path / "other").glob("checkpoint*"):
        shutil.copy(f, run.path / f.name)
    with pytest.raises(ValueError, match=why + r".*--rebuild"):
        run_search(None, run.path, resume=True, quiet=True)
    assert (run.path / "evaluations.jsonl").read_bytes() == evaluations
    assert run.summary().get("status") != "done"


def test_a_checkpoint_of_another_seed_is_refused_on_a_benchmark_problem(tmp_path):
    # ofa-mbv3's evaluation fingerprint does not depend on the seed: only the configuration hash tells
    ofa = {"problem": {"name": "ofa-mbv3"}, "search": {"pop_size": 10, "generations": 3, "cache": False},
           "objectives": {"reference": {"top1": 0.70, "latency_ms": 100.0}}}
    try:
        from evo_nas.problems import make_problem

        make_problem(ofa)
    except (FileNotFoundError, ValueError) as e:  # the benchmark's files are read from a data mirror
        pytest.skip(f"ofa-mbv3 not available: {e}")
    run_search({**ofa, "seed": 1, "search": {**ofa["search"], "generations": 5}}, tmp_path / "other", quiet=True)
    first = run_search({**ofa, "seed": 0}, tmp_path / "run", quiet=True)
    for f in (tmp_path / "other").glob("checkpoint*"):
        shutil.copy(f, tmp_path / "run" / f.name)
    with pytest.raises(ValueError, match=r"checkpoint\.json belongs to another run"):
        run_search(None, tmp_path / "run", resume=True, quiet=True)
    assert RunDir(tmp_path / "run").summary()["evaluations"] == first.evaluations
    assert len(RunDir(tmp_path / "run").evaluations()) == first.evaluations


# -- 3. records checked against what the run knows -----------------------------------------------

def finished(tmp_path):
    straight = run_search(config(), tmp_path / "run", quiet=True)
    return straight, RunDir(straight.run_dir)


@pytest.mark.parametrize("damage", ["deleted", "older-copy", "changed"])
def test_missing_or_other_records_stop_a_resume_and_pareto(tmp_path, capsys, damage):
    older = killed_run(tmp_path / "older", after=30).path / "evaluations.jsonl"
    straight, run = finished(tmp_path)
    path = run.path / "evaluations.jsonl"
    if damage == "deleted":
        path.unlink()
    elif damage == "older-copy":
        shutil.copy(older, path)
    else:
        lines = path.read_text().splitlines(keepends=True)
        rec = json.loads(lines[3])
        rec["val_acc"] = 0.99
        lines[3] = json.dumps(rec, sort_keys=True) + "\n"
        path.write_text("".join(lines))
    want = "records were replaced or changed" if damage == "changed" else "records are missing"
    with pytest.raises(ValueError, match=want):
        run_search(None, run.path, resume=True, quiet=True)
    assert main(["pareto", str(run.path), "--no-plot"]) == 2
    err = capsys.readouterr().err
    assert want in err and err.strip().count("\n") == 0
    assert run.summary()["evaluations"] == straight.evaluations


def test_missing_records_are_named_from_the_logbook_without_a_checkpoint(tmp_path):
    straight, run = finished(tmp_path)
    for f in run.path.glob("checkpoint*"):
        f.unlink()
    path = run.path / "evaluations.jsonl"
    lines = path.read_text().splitlines(keepends=True)
    path.write_text("".join(lines[:20] + lines[21:]))  # one record of generation 2 gone
    gone = json.loads(lines[20])
    with pytest.raises(ValueError, match=rf"by generation {gone['generation']}, .*1 missing"):
        run_search(None, run.path, resume=True, quiet=True)


def test_a_replay_that_departs_from_the_logbook_is_refused(tmp_path):
    straight, run = finished(tmp_path)
    path = run.path / "logbook.jsonl"
    book = [json.loads(line) for line in path.read_text().splitlines()]
    book[2]["front_size"] += 1
    path.write_text("".join(json.dumps(e) + "\n" for e in book))
    with pytest.raises(ValueError, match=r"replaying generation 2 gives front_size = .*logbook\.jsonl says"):
        run_search(None, run.path, resume=True, quiet=True)


def test_a_deleted_logbook_is_rebuilt_when_the_records_check_out(tmp_path, capsys):
    run = killed_run(tmp_path / "run")
    (run.path / "logbook.jsonl").unlink()
    straight = run_search(config(), tmp_path / "straight", quiet=True)
    resumed = run_search(None, run.path, resume=True, quiet=False)
    assert "rebuilt by replay" in capsys.readouterr().err
    assert keys(resumed.front) == keys(straight.front)
    assert [e["hypervolume"] for e in run.logbook()] == [e["hypervolume"] for e in straight.logbook]


def test_a_resume_keeps_the_recorded_logbook_and_reevaluates_nothing(tmp_path):
    run = killed_run(tmp_path / "run", after=45)
    before = (run.path / "logbook.jsonl").read_bytes()
    calls = []
    from evo_nas.problems.synthetic import synthetic_evaluate

    resumed = run_search(None, run.path, resume=True, quiet=True,
                         evaluator=lambda g, c: calls.append(g.key) or synthetic_evaluate(g, c))
    assert (run.path / "logbook.jsonl").read_bytes().startswith(before)  # timings of the first run kept
    assert len(calls) == resumed.evaluations - 45


@pytest.mark.parametrize("algorithm, keys", [
    ("nsga2", {}), ("random", {}), ("aging", {"aging": {"population": 12, "sample": 4}, "reward": {"target_ms": 5.0}}),
    ("rl", {"reward": {"target_ms": 5.0}}),
])
def test_every_strategy_resumes_by_replay_to_the_uninterrupted_run(tmp_path, algorithm, keys):
    # what a strategy must provide under data-only checkpoints: asks that its seeded generator and the
    # results it was told determine; no state of it is written
    cfg = config(algorithm=algorithm, generations=None, max_evaluations=40, **keys)
    straight = run_search(cfg, tmp_path / "straight", quiet=True)
    killed_run(tmp_path / "run", after=23, cfg=cfg)
    resumed = run_search(None, tmp_path / "run", resume=True, quiet=True)
    assert keys_of(resumed.front) == keys_of(straight.front)
    assert resumed.evaluations == straight.evaluations == 40
    assert sorted(r["key"] for r in RunDir(tmp_path / "run").evaluations()) == \
        sorted(r["key"] for r in RunDir(tmp_path / "straight").evaluations())


def keys_of(records):
    return [r["key"] for r in records]
