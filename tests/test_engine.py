"""The search engine end to end on the synthetic problem: run files, budgets, caching, failures, resume, config errors, the CLI."""
import json
from pathlib import Path

import numpy as np
import pytest

from evo_nas.algorithms.objectives import Objectives
from evo_nas.algorithms.strategy import STRATEGIES, Strategy, make_strategy
from evo_nas.cli import main
from evo_nas.engine.run import RunDir
from evo_nas.engine.runner import run_search

from conftest import needs_data


def config(**search):
    problem = {"name": "synthetic"}
    for key in ("fail", "latency", "batch"):
        if f"synthetic_{key}" in search:
            problem[key] = search.pop(f"synthetic_{key}")
    s = {"pop_size": 8, "generations": 4, "cache": False, **search}
    return {"seed": 5, "problem": problem, "space": {"name": "mnasnet", "resolution": 32, "num_classes": 10}, "search": s,
            "objectives": {"reference": {"val_acc": 0.5, "latency_ms": 10.0}}}


def outcome(result):
    run = RunDir(result.run_dir)
    return (sorted((r["generation"], r["key"], r["val_acc"], r["latency_ms"]) for r in run.evaluations()),
            [r["key"] for r in result.front], result.hypervolume)


def test_nsga2_is_a_registered_strategy(mnasnet):
    assert "nsga2" in STRATEGIES
    s = make_strategy("nsga2", mnasnet, {"pop_size": 4}, Objectives(), np.random.default_rng(0))
    assert isinstance(s, Strategy)
    assert len(s.ask()) == 4


def test_search_writes_a_complete_run(tmp_path):
    r = run_search(config(), tmp_path / "run", quiet=True)
    run = RunDir(r.run_dir)
    evals = run.evaluations()
    assert r.generations == 4 and r.stopped == "generations"
    assert len(evals) == r.evaluations == len({e["key"] for e in evals})
    assert {e["generation"] for e in evals} == {0, 1, 2, 3}
    assert len(run.logbook()) == 4
    assert [e["hypervolume"] for e in run.logbook()] == sorted(e["hypervolume"] for e in run.logbook())
    pareto = json.loads((run.path / "pareto.json").read_text())
    assert pareto["size"] == len(r.front) >= 3
    assert pareto["objectives"]["reference"] == {"val_acc": 0.5, "latency_ms": 10.0}
    assert (run.path / "pareto.csv").read_text().count("\n") == len(r.front) + 1
    assert run.summary()["status"] == "done"
    # the front is non-dominated over every evaluation, not only the last population
    keys = {f["key"] for f in r.front}
    for e in evals:
        if e["key"] in keys:
            continue
        assert any(f["val_acc"] >= e["val_acc"] and f["latency_ms"] <= e["latency_ms"] for f in r.front)


def test_serial_and_parallel_runs_are_identical(tmp_path):
    serial = run_search(config(n_jobs=1), tmp_path / "serial", quiet=True)
    threads = run_search(config(n_jobs=2, backend="threading"), tmp_path / "threads", quiet=True)
    procs = run_search(config(n_jobs=2, backend="loky", generations=2), tmp_path / "loky", quiet=True)
    assert outcome(serial) == outcome(threads)
    two = run_search(config(n_jobs=1, generations=2), tmp_path / "serial2", quiet=True)
    assert outcome(two) == outcome(procs)


def test_budget_counts_unique_evaluations(tmp_path):
    r = run_search(config(generations=None, max_evaluations=19), tmp_path / "run", quiet=True)
    assert r.evaluations == 19 and r.stopped == "max_evaluations"
    assert len(RunDir(r.run_dir).evaluations()) == 19


def test_cache_serves_a_rerun_and_a_changed_config_misses(tmp_path):
    cache = str(tmp_path / "cache.sqlite")
    first = run_search(config(cache=cache), tmp_path / "a", quiet=True)
    again = run_search(config(cache=cache), tmp_path / "b", quiet=True)
    assert again.computed == 0 and again.evaluations == again.cache_hits == first.evaluations == first.computed
    assert all(r["cached"] for r in RunDir(again.run_dir).evaluations())
    summary = RunDir(again.run_dir).summary()
    assert (summary["computed"], summary["cache_hits"]) == (0, first.evaluations)
    assert outcome(first)[1:] == outcome(again)[1:]
    changed = config(cache=cache)
    changed["space"]["num_classes"] = 100
    other = run_search(changed, tmp_path / "c", quiet=True)
    assert other.evaluations == len(RunDir(other.run_dir).evaluations()) > 0


def test_failures_are_recorded_and_never_on_the_front(tmp_path):
    r = run_search(config(synthetic_fail=0.3), tmp_path / "run", quiet=True)
    evals = RunDir(r.run_dir).evaluations()
    failed = [e for e in evals if e["status"] == "failed"]
    assert failed and all(e["error"] for e in failed)
    assert r.failures == len(failed)
    assert not {e["key"] for e in failed} & {f["key"] for f in r.front}


def test_evaluator_exceptions_become_failed_records(tmp_path):
    from evo_nas.problems.synthetic import synthetic_evaluate

    def flaky(genome, cfg):
        if genome.genes[0] == 0:
            raise RuntimeError("boom")
        return synthetic_evaluate(genome, cfg)

    r = run_search(config(), tmp_path / "run", quiet=True, evaluator=flaky)
    errors = [e["error"] for e in RunDir(r.run_dir).evaluations() if e["status"] == "failed"]
    assert errors and all("RuntimeError: boom" in e for e in errors)


def test_latency_target_is_a_constraint(tmp_path):
    cfg = config()
    cfg["objectives"]["latency_target_ms"] = 2.0
    r = run_search(cfg, tmp_path / "run", quiet=True)
    assert r.front and all(f["latency_ms"] <= 2.0 for f in r.front)


def test_resume_of_a_finished_run_changes_nothing(tmp_path):
    r = run_search(config(), tmp_path / "run", quiet=True)
    before = (tmp_path / "run" / "evaluations.jsonl").read_text()
    again = run_search(None, tmp_path / "run", resume=True, quiet=True)
    assert (tmp_path / "run" / "evaluations.jsonl").read_text() == before
    assert outcome(again)[1:] == outcome(r)[1:]


def test_refuses_to_overwrite_a_run(tmp_path):
    run_search(config(), tmp_path / "run", quiet=True)
    with pytest.raises(FileExistsError, match="--resume"):
        run_search(config(), tmp_path / "run", quiet=True)


def test_resume_rejects_a_changed_config(tmp_path):
    run_search(config(), tmp_path / "run", quiet=True)
    changed = config()
    changed["seed"] = 6
    with pytest.raises(ValueError, match=r"differs in \[seed\] \(seed: 5 in the run, 6 given;"):
        run_search(changed, tmp_path / "run", resume=True, quiet=True)
    with pytest.raises(ValueError, match=r"\[search\] \(search.pop_size: 8 in the run, 10 given;"):
        run_search(config(pop_size=10), tmp_path / "run", resume=True, quiet=True)


@pytest.mark.parametrize("search, message", [
    ({"pop_size": 1}, "[search] pop_size = 1 must be an int in [2, 100000]"),
    ({"crossover_prob": 1.5}, "[search] crossover_prob = 1.5 must be a number in [0, 1]"),
    ({"gene_mutation_rate": 0.1}, "[search] gene_mutation_rate = 0.1 does not apply to mutation = 'auto' "
                                  "(on space 'mnasnet', block mutation)"),
    ({"gene_mutation_rate": 0.1, "mutation": "block"},
     "[search] gene_mutation_rate = 0.1 does not apply to mutation = 'block'"),
    ({"mutation": "ordinal", "decision_rate": 0.5}, "decision_rate = 0.5 does not apply to mutation = 'ordinal'"),
    ({"algorithm": "aging", "pop_size": None, "aging": {"sample": 0}},
     "[search.aging] sample = 0 must be an int in [1, 100000]"),
    ({"algorithm": "random", "pop_size": None, "random": {"batch": 4}}, "[search.random] unknown key 'batch' (did you mean"),
    ({"generations": 0}, "generations = 0"),
    ({"algorithm": "simulated_annealing"}, "'simulated_annealing'"),
    ({"backend": "mpi"}, "backend = 'mpi'"),
    ({"n_jobs": 0}, "n_jobs = 0"),
    ({"crossover": "three_point"}, "'three_point'"),
    ({"popsize": 8}, "unknown key 'popsize'"),
    ({"generations": None}, "needs a budget"),
])
def test_bad_configs_give_one_clear_line(tmp_path, capsys, search, message):
    cfg = config(**search)
    cfg["search"] = {k: v for k, v in cfg["search"].items() if v is not None}
    lines = ["seed = 5", "[problem]", 'name = "synthetic"', "[space]", 'name = "mnasnet"', "resolution = 32",
             "num_classes = 10", "[search]"]
    lines += [f"{k} = " + ("{" + ", ".join(f"{a} = {json.dumps(b)}" for a, b in v.items()) + "}"
                           if isinstance(v, dict) else json.dumps(v)) for k, v in cfg["search"].items()]
    path = tmp_path / "bad.toml"
    path.write_text("\n".join(lines) + "\n")
    assert main(["search", str(path), "--run-dir", str(tmp_path / "run"), "--quiet"]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and err[0].startswith("evo-nas search: error:") and message in err[0]
    assert not (tmp_path / "run").exists()


def test_bad_objectives_are_rejected(tmp_path):
    cfg = config()
    cfg["objectives"] = {"names": ["val_acc", "latency"]}
    with pytest.raises(ValueError, match=r"\[objectives\] names: 'latency' is not an objective of problem"):
        run_search(cfg, tmp_path / "run", quiet=True)
    cfg["objectives"] = {"reference": {"val_acc": 0.5}}
    with pytest.raises(ValueError, match=r"\[objectives\] reference: 'latency_ms' is missing"):
        run_search(cfg, tmp_path / "run", quiet=True)
    cfg["objectives"] = {"reference": {"val_acc": 0.5, "latency_ms": 10.0, "top1": 0.7}}
    with pytest.raises(ValueError, match=r"\[objectives\] reference: 'top1' is not one of the objectives"):
        run_search(cfg, tmp_path / "run", quiet=True)
    assert not (tmp_path / "run").exists()


def test_cli_search_and_pareto(tmp_path, capsys, monkeypatch):
    monkeypatch.chdir(tmp_path)
    path = tmp_path / "exp.toml"
    path.write_text('seed = 1\n[space]\nname = "mnasnet"\nresolution = 32\nnum_classes = 10\n'
                    '[problem]\nname = "synthetic"\n[search]\npop_size = 6\ngenerations = 2\ncache = false\n'
                    '[objectives]\nreference = { val_acc = 0.5, latency_ms = 10.0 }\n')
    assert main(["search", str(path), "--quiet"]) == 0
    assert capsys.readouterr().out.strip() == "runs/exp"
    assert main(["search", str(path), "--quiet"]) == 0
    assert capsys.readouterr().out.strip() == "runs/exp-1"
    assert main(["pareto", "runs/exp"]) == 0
    out = capsys.readouterr().out
    assert "hypervolume" in out and "reference" in out
    assert (tmp_path / "runs/exp/pareto.png").stat().st_size > 1000
    assert main(["pareto", "runs/nope"]) == 2


def test_latency_unsafe_in_a_pool_is_measured_serially_in_the_main_process(tmp_path, monkeypatch):
    import os

    from evo_nas.problems import synthetic

    calls = []
    original = synthetic.SerialSyntheticLatency.latency_ms

    def spy(self, arch):
        calls.append(os.getpid())
        return original(self, arch)

    monkeypatch.setattr(synthetic.SerialSyntheticLatency, "latency_ms", spy)
    serial = run_search(config(synthetic_latency="serial", n_jobs=2, backend="loky", generations=2),
                        tmp_path / "serial", quiet=True)
    pooled = run_search(config(generations=2), tmp_path / "pooled", quiet=True)
    assert calls and set(calls) == {os.getpid()} and len(calls) == serial.evaluations
    strip = lambda o: (o[0], o[1])
    assert strip(outcome(serial)) == strip(outcome(pooled))
    assert all("latency_s" in r and not r.get("latency_pending") for r in RunDir(serial.run_dir).evaluations())


def test_a_pending_latency_left_by_a_kill_is_measured_on_resume(tmp_path):
    from evo_nas.engine.jsonl import append_jsonl

    r = run_search(config(synthetic_latency="serial", generations=2), tmp_path / "run", quiet=True)
    run = RunDir(r.run_dir)
    last = run.evaluations()[-1]
    append_jsonl(run.path / "evaluations.jsonl", [{**last, "latency_ms": None, "latency_pending": True}])
    assert run.evaluations()[-1]["latency_ms"] is None
    run_search(None, r.run_dir, resume=True, quiet=True)
    again = RunDir(r.run_dir).evaluations()[-1]
    assert again["key"] == last["key"] and again["latency_ms"] == last["latency_ms"]
    assert not again.get("latency_pending")


def test_experiment_configs_are_valid():
    from pathlib import Path

    from evo_nas.api import config_path
    from evo_nas.engine.runner import validate_config
    from evo_nas.spaces.loader import read_toml

    root = Path(__file__).resolve().parent.parent / "experiments"
    paths = [config_path("quickstart")] + [root / n for n in ("bench_engine.toml", "search_fbnet.toml",
                                                               "search_mobilenetv3.toml")]
    for path in paths:
        cfg = read_toml(path, "config")
        validate_config(cfg)
        assert cfg["objectives"]["reference"]


@needs_data("ofa")
def test_the_shipped_ofa_config_is_valid():
    from evo_nas.api import config_path
    from evo_nas.engine.runner import validate_config
    from evo_nas.spaces.loader import read_toml

    validate_config(read_toml(config_path("ofa"), "config"))


@pytest.mark.parametrize("name", ["compare_cheap.toml", "compare_train.toml"])
def test_comparison_configs_are_valid_for_every_cell(name, monkeypatch):
    from pathlib import Path

    from evo_nas.compare import CompareConfig, cell_config
    from evo_nas.engine.runner import validate_config
    from evo_nas.spaces.loader import read_toml

    root = Path(__file__).resolve().parent.parent
    monkeypatch.chdir(root)
    cfg = read_toml(root / "experiments" / name, "config")
    cfg["search"]["base_dir"] = str(root / "experiments")
    cmp = CompareConfig.from_dict(cfg)
    assert {"nsga2", "rl", "aging", "random"} <= set(cmp.algorithms) and len(cmp.seeds) >= 5
    assert cfg["search"]["max_evaluations"] == 500
    for algorithm in cmp.algorithms:
        validate_config(cell_config(cfg, algorithm, cmp.seeds[0]))


def test_cli_resume_accepts_execution_overrides_and_rejects_a_changed_config(tmp_path, capsys):
    path = tmp_path / "exp.toml"
    path.write_text('seed = 1\n[space]\nname = "mnasnet"\nresolution = 32\nnum_classes = 10\n'
                    '[problem]\nname = "synthetic"\n[search]\npop_size = 6\ngenerations = 2\ncache = false\n')
    run = tmp_path / "run"
    assert main(["search", str(path), "--run-dir", str(run), "--quiet"]) == 0
    before = (run / "evaluations.jsonl").read_text()
    assert main(["search", "--resume", str(run), "--n-jobs", "2", "--backend", "threading", "--quiet"]) == 0
    assert (run / "evaluations.jsonl").read_text() == before
    capsys.readouterr()
    path.write_text(path.read_text().replace("seed = 1", "seed = 2"))
    assert main(["search", str(path), "--resume", str(run), "--quiet"]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and "[seed]" in err[0]
    assert main(["search", "--resume", str(run), "--run-dir", str(run)]) == 2
    assert main(["search"]) == 2


def zero_cost_config(**over):
    cfg = {"seed": 1, "space": {"name": "mnasnet"}, "data": {"name": "mnist-subset"},
           "proxy": {"kind": "synflow", "batch_size": 8},
           "search": {"pop_size": 4, "generations": 2, "cache": False},
           "objectives": {"names": ["score", "params_m"], "reference": {"score": 0.0, "params_m": 10.0}}}
    for k, v in over.items():
        cfg[k] = {**cfg[k], **v}
    return cfg


def test_a_zero_cost_score_is_a_maximized_objective(tmp_path):
    r = run_search(zero_cost_config(), tmp_path / "run", quiet=True)
    evals = RunDir(r.run_dir).evaluations()
    assert r.evaluations == len(evals) >= 5 and all(e["status"] == "ok" for e in evals)
    assert all(e["score"] is not None and e["val_acc"] is None for e in evals)
    assert RunDir(r.run_dir).logbook()[-1]["best_score"] == max(e["score"] for e in evals)
    for e in evals:
        assert any(f["score"] >= e["score"] and f["params_m"] <= e["params_m"] for f in r.front)
    assert r.hypervolume > 0
    assert main(["pareto", str(r.run_dir), "--no-plot"]) == 0


@pytest.mark.parametrize("over, message", [
    ({"objectives": {"names": ["val_acc", "params_m"], "reference": {"val_acc": 0.0, "params_m": 10.0}}},
     "val_acc needs a training proxy; [proxy] kind = 'synflow'"),
    ({"search": {"algorithm": "aging", "reward": {"target_ms": 5.0}}}, "algorithm = 'aging' rewards accuracy"),
])
def test_a_zero_cost_proxy_cannot_stand_for_accuracy(tmp_path, over, message):
    from evo_nas.engine.runner import validate_config

    cfg = zero_cost_config(**over)
    if "algorithm" in over.get("search", {}):
        del cfg["search"]["pop_size"]
    with pytest.raises(ValueError, match=message.replace("[", r"\[").replace("]", r"\]")):
        validate_config(cfg)


@needs_data("ofa")
def test_a_problem_scored_in_columns_writes_what_its_per_genome_evaluation_writes(tmp_path, monkeypatch):
    """OFA's columnar path (records and JSON lines built column by column, genes kept outside the
    records in memory) and its per-genome path give the same run, line for line (timings aside)."""
    from evo_nas.base.jsonio import dumps
    from evo_nas.problems.ofa import OFAProblem

    config = {"seed": 3, "problem": {"name": "ofa-mbv3"}, "search": {"pop_size": 30, "max_evaluations": 400},
              "objectives": {"reference": {"top1": 0.70, "latency_ms": 100.0}, "latency_target_ms": 30.0}}
    columns = run_search(config, tmp_path / "columns", quiet=True)
    monkeypatch.setattr(OFAProblem, "evaluate_columns", lambda self, X: None)
    genomes = run_search(config, tmp_path / "genomes", quiet=True)

    def lines(run):
        out = []
        for line in (run / "evaluations.jsonl").read_text().splitlines():
            rec = json.loads(line)
            assert dumps(rec, sort_keys=True) == line
            out.append({k: v for k, v in rec.items() if k != "eval_s"})
        return out

    assert len(lines(tmp_path / "columns")) == 400
    assert lines(tmp_path / "columns") == lines(tmp_path / "genomes")
    drop = ("eval_s", "wall_s")
    assert [{k: v for k, v in e.items() if k not in drop} for e in columns.logbook] == \
           [{k: v for k, v in e.items() if k not in drop} for e in genomes.logbook]
    on_disk = {r["key"]: r for r in RunDir(tmp_path / "columns").evaluations()}
    assert columns.front and all(m == on_disk[m["key"]] for m in columns.front)
    assert [m["key"] for m in columns.front] == [m["key"] for m in genomes.front]


def test_json_lines_and_gene_rows_are_what_dumps_writes():
    from evo_nas.base.jsonio import dumps
    from evo_nas.engine.columns import rows_json
    from evo_nas.engine.jsonl import json_lines

    records = [{"a": 1.5, "b": "x{0}\"y", "c": [1, 2], "d": None}, {"a": -2e-9, "b": "x{0}\"y", "c": [3, 40], "d": None}]
    text = json_lines({"d": "null", "b": json.dumps("x{0}\"y"), "a": ["1.5", "-2e-09"], "c": ["[1, 2]", "[3, 40]"]}, 2)
    assert text == "".join(dumps(r, sort_keys=True) + "\n" for r in records)
    rng = np.random.default_rng(0)
    for X in (rng.integers(0, 10, (50, 46)), rng.integers(0, 10, (1, 1)), rng.integers(0, 300, (4, 7)),
              np.zeros((2, 0), dtype=np.int64)):
        assert rows_json(X) == [json.dumps(row) for row in X.tolist()]


def test_a_relative_cache_path_resolves_from_base_dir_and_an_empty_one_is_refused(tmp_path, monkeypatch):
    (tmp_path / "cfg").mkdir()
    (tmp_path / "elsewhere").mkdir()
    monkeypatch.chdir(tmp_path / "elsewhere")
    run_search(config(cache="c.sqlite", base_dir=str(tmp_path / "cfg")), tmp_path / "run", quiet=True)
    assert (tmp_path / "cfg" / "c.sqlite").is_file() and not (tmp_path / "elsewhere" / "c.sqlite").exists()
    with pytest.raises(ValueError, match=r"\[search\] cache = '' must be a file path"):
        run_search(config(cache=""), tmp_path / "run2", quiet=True)
    assert not (tmp_path / "run2").exists()


def test_the_default_cache_is_beside_the_run_directory_wherever_the_config_is(tmp_path, monkeypatch):
    (tmp_path / "cfg").mkdir()
    (tmp_path / "elsewhere").mkdir()
    monkeypatch.chdir(tmp_path / "elsewhere")
    cfg = config(base_dir=str(tmp_path / "cfg"), generations=1)
    del cfg["search"]["cache"]
    run_search(cfg, Path("runs") / "run", quiet=True)
    assert (tmp_path / "elsewhere" / "runs" / "evo-nas-cache.sqlite").is_file()
    assert not (tmp_path / "cfg" / "runs").exists()


@needs_data("ofa")
def test_running_out_of_memory_is_one_line_and_leaves_no_run(tmp_path, capsys, monkeypatch):
    from evo_nas.algorithms.nsga2 import GenomeSampling

    def too_big(self, problem, n_samples, *args, **kwargs):
        raise MemoryError(f"Unable to allocate 34.3 GiB for an array with shape ({n_samples}, 46)")

    monkeypatch.setattr(GenomeSampling, "_do", too_big)
    path = tmp_path / "c.toml"
    path.write_text('[problem]\nname = "ofa-mbv3"\n[search]\ngenerations = 2\npop_size = 100000\n')
    assert main(["search", str(path), "--run-dir", str(tmp_path / "run"), "--quiet", "--no-plot"]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and err[0].startswith("evo-nas search: error: out of memory (Unable to allocate 34.3 GiB")
    assert not (tmp_path / "run").exists()
