"""The configuration schema: defaults written out, one-line errors, registered problems' keys, config.json."""
from __future__ import annotations

import json
from typing import Literal

import pytest
from pydantic import BaseModel, ConfigDict, Field

from evo_nas.cli import main
from evo_nas.engine.run import RunDir
from evo_nas.engine.runner import run_search
from evo_nas.problems import PROBLEMS, Objective, register_problem
from evo_nas.problems.synthetic import SyntheticProblem
from evo_nas.schema.config import resolve, resolved


def synthetic(**search):
    return {"seed": 3, "problem": {"name": "synthetic"}, "space": {"name": "mnasnet", "resolution": 32, "num_classes": 10},
            "search": {"pop_size": 6, "generations": 2, "cache": False, **search}}


def train(**search):
    """``synthetic`` for the default problem, which reads [data], [proxy] and [latency]."""
    config = synthetic(**search)
    del config["problem"]
    return config


def test_the_dump_writes_every_default():
    assert resolved({"search": {"generations": 1}}) == {
        "seed": 0, "problem": {"name": "train"},
        "search": {"algorithm": "nsga2", "generations": 1, "n_jobs": 1, "backend": "loky", "threads_per_worker": 1,
                   "max_stall": 10, "pop_size": 20, "n_offsprings": 20, "crossover": "auto", "crossover_prob": 0.9,
                   "mutation": "auto", "mutation_prob": 1.0},
        "objectives": {"names": ["val_acc", "latency_ms"]}}
    full = resolved({**synthetic(), "compare": {}})
    assert full["problem"] == {"name": "synthetic", "fail": 0.0, "latency": "pool", "batch": False}
    assert full["compare"]["seeds"] == [0, 1, 2, 3, 4] and full["compare"]["cell_jobs"] == 1
    assert resolved(full) == full
    train = resolved({"search": {"generations": 1}, "data": {}})
    assert train["data"] == {"name": "mnist-subset", "format": "embedded", "test_fraction": 0.2, "split_seed": 0}
    assert resolved({"search": {"generations": 1}, "data": {"path": "x.npz"}})["data"] == {
        "path": "x.npz", "test_fraction": 0.2, "split_seed": 0}
    assert resolved(train) == train


@pytest.mark.parametrize("config, message", [
    ({"problem": {"name": "ofa-mbv3"}, "space": {"name": "mnasnet"}},
     "[space] does not apply to problem 'ofa-mbv3' (it reads [latency] only): remove it"),
    ({"problem": {"name": "ofa-mbv3"}, "proxy": {"kind": "train"}}, "[proxy] does not apply to problem 'ofa-mbv3'"),
    ({"problem": {"name": "synthetic"}, "latency": {"mode": "table"}},
     "[latency] does not apply to problem 'synthetic' (it reads [space] only)"),
])
def test_a_section_the_problem_does_not_read_is_refused(config, message):
    """It would be written into config.json and change nothing."""
    from evo_nas.engine.settings import validate_config

    with pytest.raises(ValueError) as e:
        validate_config({**config, "search": {"generations": 1}})
    assert message in str(e.value) and "\n" not in str(e.value)


@pytest.mark.parametrize("edit, message", [
    # type
    (lambda c: c["search"].update(generations="3"), "[search] generations = '3' must be an int in [1, 10000000]"),
    (lambda c: c.update(seed=True), "seed = true must be a non-negative int"),
    (lambda c: c.update(data=3), "[data] must be a table, got 3"),
    (lambda c: c["problem"].update(batch="yes"), "[problem] batch = 'yes' must be true or false"),
    # range
    (lambda c: c["search"].update(generations=0), "[search] generations = 0 must be an int in [1, 10000000]"),
    (lambda c: c["search"].update(n_jobs=-2), "[search] n_jobs = -2 must be an int in [1, 512] or -1"),
    (lambda c: c["space"].update(resolution=4), "[space] resolution = 4 must be an int in [8, 4096] (pixels)"),
    (lambda c: c["problem"].update(fail=1.5),
     "[problem] fail = 1.5 must be a number in [0, 1) (the share of genomes that fail)"),
    (lambda c: c.update(objectives={"latency_target_ms": 0}),
     "[objectives] latency_target_ms = 0 must be a positive number (ms)"),
    # unknown key, with the closest valid one
    (lambda c: c.update(sed=1), "unknown configuration key 'sed' (did you mean 'seed'?)"),
    # a misspelled [search] beside one the CLI made for its options: the misspelling, not the missing budget
    (lambda c: c.update(serch=c.pop("search"), search={"n_jobs": 1}),
     "unknown configuration key 'serch' (did you mean 'search'?)"),
    (lambda c: c["space"].update(nme="x"), "[space] unknown key 'nme' (did you mean 'name'?)"),
    (lambda c: c["search"].update(popsize=8),
     "[search] unknown key 'popsize' for algorithm 'nsga2' (did you mean 'pop_size'?)"),
    (lambda c: c["problem"].update(fial=0.1), "[problem] unknown key 'fial' for problem 'synthetic' (did you mean 'fail'?)"),
    (lambda c: c.update(latency={"mode": "command", "command": "x {model}", "threads": 2}),
     "[latency] unknown key 'threads' for mode = 'command' (expected one of command, device, mode, timeout_s)"),
    # bad choice
    (lambda c: c["search"].update(backend="mpi"), "[search] backend = 'mpi' must be one of loky, threading, sequential, dask"),
    (lambda c: c["search"].update(algorithm="annealing"),
     "[search] algorithm = 'annealing' (expected one of aging, nsga2, random, rl, surrogate)"),
    (lambda c: c["problem"].update(latency="gpu"), "[problem] latency = 'gpu' must be 'pool' or 'serial'"),
    (lambda c: c.update(data={"format": "csv", "path": "x"}),
     "[data] format = 'csv' must be one of embedded, idx, npz, folder"),
    (lambda c: c.update(data={"name": "cifar"}),
     "[data] name = 'cifar' is not an embedded dataset (expected one of mnist-subset); give a path for other data"),
    (lambda c: c.update(data={"format": "npz"}), "[data] format = 'npz' needs a path"),
    (lambda c: c.update(proxy={"kind": "synflow", "batch_size": 1}),
     "[proxy] batch_size = 1 must be an int in [2, 100000]"),
    (lambda c: c.update(proxy={"momentum": 1.0}), "[proxy] momentum = 1.0 must be a number in [0, 1)"),
    (lambda c: c.update(proxy={"kind": "synflow", "steps": 3}),
     "[proxy] unknown key 'steps' for kind = 'synflow' (expected one of batch_size, kind, max_macs_m, max_params_m, "
     "max_train_s, resolution, threads, width_multiplier)"),
    # [latency]: the ranges the measurement and the devices need, checked here and nowhere below
    (lambda c: c.update(latency={"warmup": -1}),
     "[latency] warmup = -1 must be an int in [0, 1000000] (untimed calls)"),
    (lambda c: c.update(latency={"mode": "measured", "repeats": 0}),
     "[latency] repeats = 0 must be an int in [1, 1000000] (timed calls per round)"),
    (lambda c: c.update(latency={"max_cv": 0.0}), "[latency] max_cv = 0.0 must be a number > 0"),
    (lambda c: c.update(latency={"max_attempts": 0}), "[latency] max_attempts = 0 must be an int in [1, 1000000]"),
    (lambda c: c.update(latency={"calibration": 0}),
     "[latency] calibration = 0 must be an int in [1, 100000] (networks)"),
    (lambda c: c.update(latency={"seed": -1}), "[latency] seed = -1 must be a non-negative int"),
    (lambda c: c.update(latency={"mode": "command", "command": "x {model}", "timeout_s": 0}),
     "[latency] timeout_s = 0 must be a positive number (s)"),
    (lambda c: c.update(latency={"fit": "cubic"}),
     "[latency] fit = 'cubic' must be one of auto, offset, offset+per_layer, affine"),
    (lambda c: c.update(latency={"runtime": "tflite"}), "[latency] runtime = 'tflite' (expected one of torch, onnxruntime, onnxruntime-int8-dynamic, onnxruntime-int8-static)"),
    (lambda c: c.update(latency={"mode": "command"}), "[latency] mode = 'command' needs command = \"program {model}\""),
])
def test_a_bad_value_is_one_line_naming_key_value_and_allowed_values(edit, message):
    config = synthetic()
    edit(config)
    with pytest.raises(ValueError) as e:
        resolve(config)
    assert str(e.value) == message


def test_the_proxy_recipe_a_run_uses_is_written_out():
    recipe = resolved({**train(), "proxy": {"epochs": 2, "lr": 0.1}})["proxy"]
    assert recipe == {"kind": "train", "threads": 1, "epochs": 2, "batch_size": 32, "optimizer": "sgd", "lr": 0.1,
                      "momentum": 0.9, "weight_decay": 4e-05, "schedule": "cosine", "warmup_steps": 0,
                      "label_smoothing": 0.0, "eval_batch_size": 500, "bn_calibration": 500}
    assert resolved({**train(), "proxy": recipe})["proxy"] == recipe
    assert resolved({**train(), "proxy": {}})["proxy"]["steps"] == 100
    assert resolved({**train(), "proxy": {"kind": "synflow"}})["proxy"] == {"kind": "synflow", "threads": 1,
                                                                               "batch_size": 64}


def test_the_latency_defaults_a_mode_reads_are_written_out():
    protocol = {"warmup": 10, "repeats": 20, "rounds": 5, "max_cv": 0.05, "max_attempts": 3}
    here = {"runtime": "onnxruntime", "threads": 1, **protocol}
    assert resolved({**train(), "latency": {}})["latency"] == {
        "mode": "table", **here, "fill": True, "seed": 0, "fit": "auto"}
    assert resolved({**train(), "latency": {"table": "t.json"}})["latency"] == {
        "mode": "table", **here, "table": "t.json", "fill": False, "seed": 0, "fit": "auto"}
    assert resolved({**train(), "latency": {"command": "x {model}"}})["latency"] == {
        "mode": "table", **protocol, "command": "x {model}", "timeout_s": 600.0, "fill": True, "seed": 0, "fit": "auto"}
    assert resolved({**train(), "latency": {"mode": "measured", "threads": 2}})["latency"] == {
        "mode": "measured", **here, "threads": 2}
    assert resolved({**train(), "latency": {"mode": "command", "command": "x"}})["latency"] == {
        "mode": "command", "command": "x", "timeout_s": 600.0}
    lat = resolved({**train(), "latency": {"fill": False, "repeats": 7}})
    assert resolved(lat) == lat and lat["latency"]["repeats"] == 7 and lat["latency"]["fill"] is False


def test_a_run_whose_config_json_predates_the_latency_data_and_proxy_defaults_resumes(tmp_path):
    config = {**synthetic(generations=2), "latency": {"mode": "measured", "threads": 2}, "data": {"split_seed": 0},
              "proxy": {"steps": 3}}
    run_search(synthetic(generations=1), tmp_path / "old", quiet=True)
    # as an older version wrote it: the sections as given, before their defaults were declared (and
    # before a section the problem does not read was refused)
    (tmp_path / "old" / "config.json").write_text(json.dumps(config))
    for f in (tmp_path / "old").glob("checkpoint*"):  # written for the other config: a resume would refuse it
        f.unlink()
    assert run_search(config, tmp_path / "old", resume=True, quiet=True).generations == 2
    assert run_search(resolved(config), tmp_path / "old", resume=True, quiet=True).generations == 2
    with pytest.raises(ValueError, match=r"differs in \[latency\]"):
        run_search({**config, "latency": {"mode": "measured", "threads": 2, "repeats": 9}}, tmp_path / "old",
                   resume=True, quiet=True)


def test_the_cli_prints_the_schema_error_as_one_line_and_writes_nothing(tmp_path, capsys):
    path = tmp_path / "bad.toml"
    path.write_text('[problem]\nname = "synthetic"\n[search]\ngenerations = 0\n')
    assert main(["search", str(path), "--run-dir", str(tmp_path / "run"), "--quiet"]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert err == ["evo-nas search: error: [search] generations = 0 must be an int in [1, 10000000]"]
    assert not (tmp_path / "run").exists()


class Dial(SyntheticProblem):
    """A problem registered from outside the package, with its own typed keys."""

    class Keys(BaseModel):
        model_config = ConfigDict(strict=True, extra="forbid")
        knob: Literal["low", "high"] = Field("low", description="'low' or 'high'")
        turns: int = Field(1, ge=1, description="an int >= 1")

    objectives = SyntheticProblem.objectives + (Objective("turns", "min", ""),)
    config_keys = ("knob", "turns")
    config_model = Keys

    @classmethod
    def from_config(cls, config):
        return SyntheticProblem.from_config({**config, "problem": {"name": "synthetic"}})


class Untyped(Dial):
    config_model = None


@pytest.fixture
def outside():
    register_problem("dial")(Dial)
    register_problem("untyped-dial")(Untyped)
    yield
    PROBLEMS.pop("dial")
    PROBLEMS.pop("untyped-dial")


def test_a_registered_problems_keys_are_checked_typed_and_defaulted(outside):
    config = synthetic()
    config["problem"] = {"name": "dial", "turns": 3}
    assert resolved(config)["problem"] == {"name": "dial", "knob": "low", "turns": 3}
    config["problem"] = {"name": "dial", "turns": 0}
    with pytest.raises(ValueError, match=r"^\[problem\] turns = 0 must be an int >= 1$"):
        resolve(config)
    config["problem"] = {"name": "dial", "knb": "high"}
    with pytest.raises(ValueError, match="unknown key 'knb' for problem 'dial' \\(did you mean 'knob'\\?\\)"):
        resolve(config)
    # a problem without a model keeps its declared keys as given
    config["problem"] = {"name": "untyped-dial", "turns": "many"}
    assert resolved(config)["problem"] == {"name": "untyped-dial", "turns": "many"}
    config["objectives"] = {"names": ["val_acc", "turns"]}
    assert resolved(config)["objectives"]["names"] == ["val_acc", "turns"]


def test_config_json_is_the_dump_and_runs_like_the_input(tmp_path):
    config = synthetic()
    r = run_search(config, tmp_path / "run", quiet=True)
    stored = json.loads((tmp_path / "run" / "config.json").read_text())
    assert stored == json.loads(json.dumps(resolved(config)))
    assert stored["search"]["max_stall"] == 10 and stored["problem"]["fail"] == 0.0
    again = run_search(stored, tmp_path / "again", quiet=True)
    assert [m["key"] for m in again.front] == [m["key"] for m in r.front]


def test_a_run_whose_config_json_predates_the_schema_resumes(tmp_path):
    config = synthetic(generations=2)
    full = run_search(config, tmp_path / "full", quiet=True)
    with pytest.raises(KeyboardInterrupt):
        run_search(config, tmp_path / "old", quiet=True, evaluator=_interrupt_after(9))
    # as written before defaults were filled in: the input as given
    (tmp_path / "old" / "config.json").write_text(json.dumps(config))
    resumed = run_search(config, tmp_path / "old", resume=True, quiet=True)
    assert [m["key"] for m in resumed.front] == [m["key"] for m in full.front]
    assert json.loads((tmp_path / "old" / "config.json").read_text()) == config
    # resolved values are compared: a default written out is no change, another seed is
    assert run_search({**config, "search": {**config["search"], "max_stall": 10, "n_jobs": 2}}, tmp_path / "old",
                      resume=True, quiet=True).generations == 2
    with pytest.raises(ValueError, match=r"differs in \[seed\]"):
        run_search({**config, "seed": 4}, tmp_path / "old", resume=True, quiet=True)
    assert RunDir(tmp_path / "old").config == config


def _interrupt_after(n):
    from evo_nas.problems.synthetic import synthetic_evaluate

    done = []

    def evaluate(genome, cfg):
        if len(done) == n:
            raise KeyboardInterrupt
        done.append(genome.key)
        return synthetic_evaluate(genome, cfg)

    return evaluate


@pytest.mark.parametrize("algorithm, given, written", [
    ("aging", {"reward": {"target_ms": 7}},
     {"aging": {"population": 100, "sample": 25, "batch_size": 8},
      "reward": {"target_ms": 7.0, "mode": "soft", "alpha": -0.07, "beta": -0.07}}),
    ("random", {}, {"random": {"batch_size": 8}}),
    ("rl", {"reward": {"target_ms": 7, "mode": "hard"}, "rl": {"hidden": 50}},
     {"rl": {"method": "ppo", "batch_size": 8, "hidden": 50, "lr": 0.00035, "baseline_decay": 0.95,
             "entropy_weight": 0.0001, "clip": 0.2, "ppo_epochs": 4, "temperature": 1.0},
      "reward": {"target_ms": 7.0, "mode": "hard", "alpha": 0.0, "beta": -1.0}}),
    ("nsga2", {"mutation": "ordinal", "pop_size": 6},
     {"pop_size": 6, "n_offsprings": 6, "crossover": "auto", "crossover_prob": 0.9, "mutation": "ordinal",
      "mutation_prob": 1.0}),
])
def test_an_algorithms_defaults_are_written_out(algorithm, given, written):
    search = resolved({"search": {"generations": 1, "algorithm": algorithm, **given}})["search"]
    engine = {"algorithm": algorithm, "generations": 1, "n_jobs": 1, "backend": "loky", "threads_per_worker": 1,
              "max_stall": 10}
    assert search == {**engine, **written}
    assert resolved({"search": search})["search"] == search


@pytest.mark.parametrize("search, message", [
    ({"algorithm": "aging", "aging": 5}, "[search.aging] must be a table, got 5"),
    ({"algorithm": "aging", "aging": {"population": 10}},
     "[search.aging] population (10) must be >= the default sample (25)"),
    ({"algorithm": "rl", "rl": {"clip": 0}}, "[search.rl] clip = 0 must be a positive number"),
    ({"algorithm": "rl", "reward": {"target_ms": 7, "beta": -1.0}},
     "[search.reward] beta = -1.0 contradicts mode = 'soft' (use mode = \"custom\")"),
    ({"algorithm": "random", "random": {"batch_size": True}},
     "[search.random] batch_size = true must be an int in [1, 100000] (genomes per ask)"),
])
def test_an_algorithms_tables_give_one_line(search, message):
    with pytest.raises(ValueError) as e:
        resolved({"search": {"generations": 1, **search}})
    assert str(e.value) == message
