"""A finished run resumed with a larger budget goes on to exactly the run that budget gives from the start."""
import json

import pytest

import evo_nas
from evo_nas.cli import main
from evo_nas.engine.checkpoint import config_hash
from evo_nas.engine.jsonl import read_jsonl
from evo_nas.engine.run import RunDir
from evo_nas.schema.config import resolved

TIMINGS = ("eval_s", "train_s", "latency_s", "wall_s")
STRATEGY = {
    "nsga2": {"pop_size": 6},
    "random": {"random": {"batch_size": 5}},
    "aging": {"aging": {"population": 6, "sample": 3, "batch_size": 5}, "reward": {"target_ms": 3.0}},
    "rl": {"rl": {"batch_size": 5, "hidden": 8, "lr": 0.05}, "reward": {"target_ms": 3.0}},
    "surrogate": {"surrogate": {"initial": 8, "batch": 4, "inner_pop": 8, "inner_generations": 2}},
}


def config(algorithm="nsga2", **budget) -> dict:
    return {"seed": 3, "space": {"name": "mnasnet", "resolution": 32, "num_classes": 10},
            "problem": {"name": "synthetic"},
            "search": {"algorithm": algorithm, "cache": False, "backend": "sequential", "max_stall": 1000,
                       **STRATEGY[algorithm], **budget},
            "objectives": {"reference": {"val_acc": 0.5, "latency_ms": 10.0}}}


def lines(path, name):
    """The JSON lines of ``path/name`` without their timings, as sorted JSON text."""
    out = []
    for r in read_jsonl(path / name):
        out.append(json.dumps({k: v for k, v in r.items() if k not in TIMINGS}, sort_keys=True))
    return out


def assert_same_run(extended, straight):
    a, b = extended.run_dir, straight.run_dir
    assert lines(a, "evaluations.jsonl") == lines(b, "evaluations.jsonl")
    assert lines(a, "logbook.jsonl") == lines(b, "logbook.jsonl")
    assert [m["key"] for m in extended.pareto] == [m["key"] for m in straight.pareto]
    assert extended.hypervolume == straight.hypervolume and extended.hypervolume is not None
    assert extended.summary["stopped"] == straight.summary["stopped"]
    assert RunDir(a).config == RunDir(b).config
    report = f"{RunDir(a).config['search']['algorithm']}.jsonl"  # a strategy's own report (surrogate.jsonl)
    assert (a / report).exists() == (b / report).exists()
    if (a / report).exists():
        assert lines(a, report) == lines(b, report)
    ca, cb = RunDir(a).load_checkpoint(), RunDir(b).load_checkpoint()
    same = ("generation", "logbook", "evaluations", "records_bytes", "config_hash", "stall")
    assert [ca[k] for k in same[:3] + same[4:]] == [cb[k] for k in same[:3] + same[4:]]


@pytest.mark.parametrize("algorithm", ["nsga2", "random", "aging", "rl", "surrogate"])
def test_more_generations_give_the_run_of_that_many_from_the_start(tmp_path, algorithm):
    straight = evo_nas.search(config(algorithm, generations=7), tmp_path / "straight")
    short = evo_nas.search(config(algorithm, generations=4), tmp_path / "run")
    assert short.generations == 4 and short.stopped == "generations"
    extended = evo_nas.resume(tmp_path / "run", search={"generations": 7})
    assert extended.generations == 7 == straight.generations and extended.status == "done"
    assert_same_run(extended, straight)
    # the grown budget is the run's own now: a plain resume finds it finished
    assert RunDir(tmp_path / "run").config["search"]["generations"] == 7
    assert evo_nas.resume(tmp_path / "run").generations == 7


@pytest.mark.parametrize("algorithm", ["nsga2", "aging"])
def test_more_evaluations_play_the_generation_the_budget_cut_short_in_full(tmp_path, algorithm):
    straight = evo_nas.search(config(algorithm, max_evaluations=40), tmp_path / "straight")
    short = evo_nas.search(config(algorithm, max_evaluations=23), tmp_path / "run")
    assert short.n_evaluations == 23 and short.history[-1].get("partial")
    extended = evo_nas.resume(tmp_path / "run", search={"max_evaluations": 40})
    assert extended.n_evaluations == 40 == straight.n_evaluations
    assert not any(e.get("partial") for e in extended.history[:-1])
    assert_same_run(extended, straight)


def test_extended_twice_and_interrupted_on_the_way_still_gives_the_straight_run(tmp_path, monkeypatch):
    from evo_nas.engine import loop

    straight = evo_nas.search(config(generations=9), tmp_path / "straight")
    evo_nas.search(config(generations=3), tmp_path / "run")
    evo_nas.resume(tmp_path / "run", search={"generations": 5})
    step = loop.Engine.step
    for stop_at, budget in ((2, 5), (7, 9)):
        def interrupted(self):
            if self.generation == stop_at:
                raise KeyboardInterrupt
            return step(self)

        monkeypatch.setattr(loop.Engine, "step", interrupted)
        with pytest.raises(KeyboardInterrupt):
            evo_nas.resume(tmp_path / "run", search={"generations": 9})
        # stopped in the replay, the run keeps its budget; past it, config.json holds the grown one
        assert RunDir(tmp_path / "run").config["search"]["generations"] == budget
    monkeypatch.setattr(loop.Engine, "step", step)
    assert_same_run(evo_nas.resume(tmp_path / "run"), straight)


@pytest.mark.parametrize("search, message", [
    ({"generations": 3}, r"\[search\] generations = 3 is lower than the run's budget \(it was given 4\); "
                         r"a budget may only grow on resume"),
    ({"max_evaluations": 500}, r"\[search\] max_evaluations = 500 would bound a run that had no max_evaluations; "
                               r"a budget may only grow on resume"),
    ({"generations": 6, "pop_size": 7}, r"differs in \[search\] \(search.pop_size: 6 in the run, 7 given;"),
])
def test_a_budget_that_does_not_grow_is_refused_and_the_run_is_untouched(tmp_path, search, message):
    evo_nas.search(config(generations=4), tmp_path / "run")
    before = {p.name: p.read_bytes() for p in (tmp_path / "run").iterdir()}
    with pytest.raises(ValueError, match=message):
        evo_nas.resume(tmp_path / "run", search=search)
    assert {p.name: p.read_bytes() for p in (tmp_path / "run").iterdir()} == before


def test_the_budget_is_no_part_of_the_run_hash_and_a_version_2_checkpoint_still_resumes(tmp_path):
    a, b = resolved(config(generations=4)), resolved(config(generations=40, max_evaluations=9))
    assert config_hash(a) == config_hash(b) and config_hash(a, budget=True) != config_hash(b, budget=True)
    evo_nas.search(config(generations=3), tmp_path / "run")
    path = tmp_path / "run" / "checkpoint.json"
    state = json.loads(path.read_text())
    # as evo-nas wrote it before budgets could grow: version 2, the budget hashed in
    state.update(version=2, config_hash=config_hash(resolved(RunDir(tmp_path / "run").config), budget=True))
    path.write_text(json.dumps(state))
    assert evo_nas.resume(tmp_path / "run", search={"generations": 5}).generations == 5
    assert json.loads(path.read_text())["version"] == 3


def test_the_resume_command_extends_a_run_and_refuses_bad_input_in_one_line(tmp_path, capsys):
    straight = evo_nas.search(config(generations=5), tmp_path / "straight")
    evo_nas.search(config(generations=3), tmp_path / "run")
    run = tmp_path / "run"
    assert main(["resume", str(run), "--generations", "5", "--n-jobs", "1", "--no-plot"]) == 0
    out = capsys.readouterr().out
    assert f"run: {run}  generations: 5" in out and "hypervolume" in out
    assert_same_run(evo_nas.load_run(run), straight)

    before = {p.name: p.read_bytes() for p in run.iterdir()}
    for argv, message in [
        ([str(run), "--generations", "4"], "generations = 4 is lower than the run's budget (it was given 5)"),
        ([str(tmp_path / "nothing")], f"run directory not found: {tmp_path / 'nothing'}"),
        ([str(tmp_path)], f"{tmp_path} is not a run directory (no config.json)"),
        ([str(run), "--max-evaluations", "0"], "[search] max_evaluations = 0 must be an int in [1, 10000000]"),
    ]:
        assert main(["resume", *argv]) == 2
        err = capsys.readouterr().err.strip().splitlines()
        assert len(err) == 1 and err[0].startswith("evo-nas resume: error: ") and message in err[0], err
        assert {p.name: p.read_bytes() for p in run.iterdir()} == before

    records = run / "evaluations.jsonl"
    records.write_bytes(records.read_bytes().replace(b'"val_acc": 0.', b'"val_acc": 1.', 1))
    before = {p.name: p.read_bytes() for p in run.iterdir()}
    assert main(["resume", str(run), "--generations", "6"]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and "records were replaced or changed" in err[0], err
    assert {p.name: p.read_bytes() for p in run.iterdir()} == before
    records.write_bytes(records.read_bytes().replace(b'"val_acc": 1.', b'"val_acc": 0.', 1))

    (run / "checkpoint.json").write_text(json.dumps({**json.loads((run / "checkpoint.json").read_text()),
                                                     "config_hash": "0" * 16}))
    (run / "checkpoint.prev.json").unlink()
    before = {p.name: p.read_bytes() for p in run.iterdir()}
    assert main(["resume", str(run), "--generations", "6"]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and "belongs to another run" in err[0]
    assert {p.name: p.read_bytes() for p in run.iterdir()} == before
