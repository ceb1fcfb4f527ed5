"""The engine's defects pinned down: warm caches, resumes, missing checkpoints, exhausted and failed runs.

Each test states the exact outcome of a correct engine: a warm run and a resumed run end as a
cold, uninterrupted run does (counters, logbook, Pareto set); a run that cannot go on says why;
nothing non-finite reaches a file or a front. Kills are simulated by a ``BaseException`` raised
from inside an evaluation, which the engine does not turn into a failed candidate.
"""
import copy
import json
import math
import re

import numpy as np
import pytest

from evo_nas.engine import loop
from evo_nas.engine.front import front_hypervolume, pareto_front
from evo_nas.engine.run import RunDir
from evo_nas.engine.runner import run_search, validate_config
from evo_nas.problems import PROBLEMS, make_problem, register_problem
from evo_nas.problems.ofa import OFAProblem
from evo_nas.problems.synthetic import SerialSyntheticLatency, SyntheticProblem, synthetic_evaluate

from conftest import have_data, needs_data

# the [problem] of the synthetic runs: failures, latency left to a serial model, scored per generation
BATCH_SERIAL = {"fail": 0.3, "latency": "serial", "batch": True}
PER_GENOME = {"fail": 0.3, "latency": "serial"}
TIMINGS = ("wall_s", "eval_s")
# counters that say where a result came from (computed or served), not what the search did
SOURCE = ("evaluated", "cache_hits", "cache_hits_total")


class Killed(BaseException):
    """Stands for a kill: not an ``Exception``, so the engine does not record a failed evaluation."""


def synthetic(problem=None, objectives=None, **search):
    return {"seed": 5, "problem": {"name": "synthetic", **(problem or {})},
            "space": {"name": "mnasnet", "resolution": 32, "num_classes": 10},
            "search": {"pop_size": 8, "generations": 8, "cache": False, **search},
            "objectives": objectives or {"reference": {"val_acc": 0.5, "latency_ms": 10.0}}}


def ofa_config(**search):
    return {"problem": {"name": "ofa-mbv3"}, "search": {"pop_size": 20, "generations": 5, "cache": False, **search},
            "objectives": {"reference": {"top1": 0.70, "latency_ms": 100.0}}}


@pytest.fixture(scope="module")
def ofa():
    if not have_data("ofa"):
        pytest.skip("benchmark data 'ofa' not available: set EVO_NAS_DATA to a mirror folder")
    return make_problem(ofa_config())


def counting(calls, die_after=None):
    """A per-genome evaluator giving the synthetic result; raises ``Killed`` once ``die_after`` succeeded."""

    def evaluate(genome, cfg):
        if die_after is not None and len(calls) == die_after:
            raise Killed
        calls.append(genome.key)
        return synthetic_evaluate(genome, cfg)

    return evaluate


@pytest.fixture
def ofa_kill(monkeypatch):
    """``OFAProblem.evaluate_array`` (what scores the genes, called by ``evaluate`` and ``evaluate_columns``)
    counting the genomes it scores and raising ``Killed`` on call ``die_at``."""
    state = {"calls": 0, "genomes": 0, "die_at": None}
    original = OFAProblem.evaluate_array

    def evaluate_array(self, X):
        state["calls"] += 1
        if state["die_at"] is not None and state["calls"] == state["die_at"]:
            raise Killed
        state["genomes"] += len(X)
        return original(self, X)

    monkeypatch.setattr(OFAProblem, "evaluate_array", evaluate_array)
    return state


def strip(logbook, drop=TIMINGS):
    return [{k: v for k, v in e.items() if k not in drop} for e in logbook]


def keys(records):
    return [r["key"] for r in records]


def evaluations(path):
    return sorted((r["generation"], r["key"], r["status"], r.get("val_acc", r.get("top1")), r["latency_ms"])
                  for r in RunDir(path).evaluations())


def assert_same_run(resumed, straight):
    """A resumed run ends with the counters, logbook, records and Pareto set of an uninterrupted one."""
    assert resumed.stopped == straight.stopped
    assert (resumed.evaluations, resumed.computed, resumed.cache_hits, resumed.failures, resumed.generations) == \
           (straight.evaluations, straight.computed, straight.cache_hits, straight.failures, straight.generations)
    assert resumed.failure_reasons == straight.failure_reasons
    assert strip(resumed.logbook) == strip(straight.logbook)
    assert strip(RunDir(resumed.run_dir).logbook()) == strip(straight.logbook)
    assert evaluations(resumed.run_dir) == evaluations(straight.run_dir)
    assert keys(resumed.front) == keys(straight.front)
    assert keys(RunDir(resumed.run_dir).pareto()) == keys(straight.front)
    assert resumed.hypervolume == straight.hypervolume


ALL_FAILED_BUG = ("loop.Engine.step flags all_failed when every genome *computed* in a generation failed "
                  "(evaluated >= 2 and failures == evaluated), ignoring the candidates the cache served: "
                  "failures are not cached, so a warm run recomputes only its failed genomes and stops 'all_failed'")
PENDING_BUG = ("engine.run_search calls finish_pending() right after restore(): records a kill left with "
               "latency_pending are committed and counted at once, in the first replayed generation's logbook "
               "entry instead of their own generation's")
BATCH_LATENCY_BUG = ("loop.Engine.evaluate: a batch problem whose latency model is unsafe in a pool (synthetic "
                     "latency='serial', batch=true) never gets latency_ms: the batch path skips measure_pending, "
                     "records are 'ok' with latency_ms None and no candidate is ever feasible")


# -- 1. a warm cache follows the cold path --------------------------------------------------------

@pytest.mark.parametrize("problem", [
    pytest.param({"latency": "serial"}, id="no-failures"),
    pytest.param(PER_GENOME, id="failures"),
    pytest.param(BATCH_SERIAL, id="issue-config"),
])
def test_a_warm_cache_follows_the_cold_path(tmp_path, problem):
    cache = str(tmp_path / "c.sqlite")
    ten = run_search(synthetic(problem, generations=10, cache=cache), tmp_path / "ten", quiet=True)
    warm = run_search(synthetic(problem, generations=20, cache=cache), tmp_path / "warm", quiet=True)
    cold = run_search(synthetic(problem, generations=20), tmp_path / "cold", quiet=True)
    assert cold.stopped == "generations" and cold.generations == 20
    assert warm.stopped == "generations" and warm.generations == 20
    cold_keys = set(keys(RunDir(cold.run_dir).evaluations()))
    # only successful results are cached: the ten-generation run's failures are computed again
    served = {r["key"] for r in RunDir(ten.run_dir).evaluations() if r["status"] == "ok"}
    assert served <= cold_keys
    assert set(keys(RunDir(warm.run_dir).evaluations())) == cold_keys
    assert warm.computed == len(cold_keys - served)
    assert warm.evaluations == cold.evaluations and warm.failures == cold.failures
    assert keys(warm.front) == keys(cold.front) and warm.hypervolume == cold.hypervolume
    assert strip(warm.logbook, TIMINGS + SOURCE) == strip(cold.logbook, TIMINGS + SOURCE)


def test_a_warm_cache_follows_the_cold_path_on_ofa(tmp_path, ofa, ofa_kill):
    cache = str(tmp_path / "c.sqlite")
    five = run_search(ofa_config(generations=5, cache=cache), tmp_path / "five", quiet=True, problem=ofa)
    ofa_kill["genomes"] = 0
    warm = run_search(ofa_config(generations=10, cache=cache), tmp_path / "warm", quiet=True, problem=ofa)
    computed = ofa_kill["genomes"]
    cold = run_search(ofa_config(generations=10), tmp_path / "cold", quiet=True, problem=ofa)
    assert warm.stopped == cold.stopped == "generations" and warm.generations == 10
    cold_keys = set(keys(RunDir(cold.run_dir).evaluations()))
    served = set(keys(RunDir(five.run_dir).evaluations()))
    assert warm.computed == computed == len(cold_keys - served)
    assert set(keys(RunDir(warm.run_dir).evaluations())) == cold_keys
    assert keys(warm.front) == keys(cold.front) and warm.hypervolume == cold.hypervolume
    assert strip(warm.logbook, TIMINGS + SOURCE) == strip(cold.logbook, TIMINGS + SOURCE)


def test_a_batch_problem_gets_its_serial_latency(tmp_path):
    batch = run_search(synthetic(BATCH_SERIAL, generations=3), tmp_path / "batch", quiet=True)
    per_genome = run_search(synthetic(PER_GENOME, generations=3), tmp_path / "per-genome", quiet=True)
    ok = [r for r in RunDir(batch.run_dir).evaluations() if r["status"] == "ok"]
    assert ok and all(r["latency_ms"] is not None and math.isfinite(r["latency_ms"]) for r in ok)
    assert evaluations(batch.run_dir) == evaluations(per_genome.run_dir)
    assert batch.front and keys(batch.front) == keys(per_genome.front)


# -- 2. a resumed run counts as an uninterrupted one ----------------------------------------------

@pytest.mark.parametrize("die_after", [5, 13, 37])
def test_resume_after_a_kill_counts_as_an_uninterrupted_run(tmp_path, die_after):
    straight = run_search(synthetic(PER_GENOME), tmp_path / "straight", quiet=True)
    with pytest.raises(Killed):
        run_search(synthetic(PER_GENOME), tmp_path / "killed", quiet=True, evaluator=counting([], die_after))
    before = (tmp_path / "killed" / "evaluations.jsonl").read_bytes()
    calls = []
    resumed = run_search(None, tmp_path / "killed", resume=True, quiet=True, evaluator=counting(calls))
    assert (tmp_path / "killed" / "evaluations.jsonl").read_bytes().startswith(before)
    assert len(calls) == straight.computed - die_after
    assert_same_run(resumed, straight)


@pytest.mark.parametrize("problem, die_after", [
    pytest.param({"fail": 0.3, "batch": True}, 37, id="replayed-generations"),
    pytest.param(BATCH_SERIAL, 37, id="pending-latency"),
])
def test_resume_replays_the_generations_after_an_old_checkpoint(tmp_path, monkeypatch, problem, die_after):
    # a batch problem checkpoints at most once per CHECKPOINT_S: here only before generation 0
    monkeypatch.setattr(loop, "CHECKPOINT_S", 1e9)
    straight = run_search(synthetic(problem), tmp_path / "straight", quiet=True, evaluator=counting([]))
    with pytest.raises(Killed):
        run_search(synthetic(problem), tmp_path / "killed", quiet=True, evaluator=counting([], die_after))
    assert RunDir(tmp_path / "killed").load_checkpoint()["generation"] == 0
    calls = []
    resumed = run_search(None, tmp_path / "killed", resume=True, quiet=True, evaluator=counting(calls))
    assert len(calls) == straight.computed - die_after
    assert_same_run(resumed, straight)


def test_resume_with_a_warm_cache_counts_its_cache_hits(tmp_path):
    for name in ("c1", "c2"):  # two caches in the same state
        run_search(synthetic({"latency": "serial"}, generations=3, cache=str(tmp_path / f"{name}.sqlite")),
                   tmp_path / f"fill-{name}", quiet=True)
    straight = run_search(synthetic({"latency": "serial"}, cache=str(tmp_path / "c1.sqlite")),
                          tmp_path / "straight", quiet=True)
    with pytest.raises(Killed):
        run_search(synthetic({"latency": "serial"}, cache=str(tmp_path / "c2.sqlite")), tmp_path / "killed",
                   quiet=True, evaluator=counting([], 20))
    resumed = run_search(None, tmp_path / "killed", resume=True, quiet=True)
    assert straight.cache_hits >= straight.evaluations - straight.computed > 0
    assert_same_run(resumed, straight)


@pytest.mark.parametrize("checkpoint_s", [1e9, 0.0], ids=["first-checkpoint-only", "every-generation"])
def test_an_ofa_run_killed_mid_search_resumes_to_the_uninterrupted_run(tmp_path, monkeypatch, ofa, ofa_kill,
                                                                       checkpoint_s):
    monkeypatch.setattr(loop, "CHECKPOINT_S", checkpoint_s)
    straight = run_search(ofa_config(generations=8), tmp_path / "straight", quiet=True, problem=ofa)
    ofa_kill.update(calls=0, genomes=0, die_at=6)
    with pytest.raises(Killed):
        run_search(ofa_config(generations=8), tmp_path / "killed", quiet=True, problem=ofa)
    done = len(RunDir(tmp_path / "killed").evaluations())
    assert RunDir(tmp_path / "killed").load_checkpoint()["generation"] == (0 if checkpoint_s else 5)
    ofa_kill.update(genomes=0, die_at=None)
    resumed = run_search(None, tmp_path / "killed", resume=True, quiet=True, problem=ofa)
    assert ofa_kill["genomes"] == straight.computed - done  # nothing recorded is scored again
    assert_same_run(resumed, straight)


# -- 3. a missing checkpoint ---------------------------------------------------------------------

@pytest.mark.parametrize("problem, die_after", [
    pytest.param({"fail": 0.3}, 37, id="per-genome"),
    pytest.param(PER_GENOME, 13, id="pending-latency"),
])
def test_a_missing_checkpoint_replays_the_seeded_search_over_the_records(tmp_path, problem, die_after):
    straight = run_search(synthetic(problem), tmp_path / "straight", quiet=True)
    with pytest.raises(Killed):
        run_search(synthetic(problem), tmp_path / "killed", quiet=True, evaluator=counting([], die_after))
    (tmp_path / "killed" / "checkpoint.json").unlink()
    before = (tmp_path / "killed" / "evaluations.jsonl").read_bytes()
    calls = []
    resumed = run_search(None, tmp_path / "killed", resume=True, quiet=True, evaluator=counting(calls))
    assert (tmp_path / "killed" / "evaluations.jsonl").read_bytes().startswith(before)
    assert len(calls) == straight.computed - die_after  # no recorded genome is evaluated again
    assert not set(calls) & {r["key"] for r in map(json.loads, before.splitlines())}
    assert_same_run(resumed, straight)


def test_a_missing_checkpoint_of_an_ofa_run(tmp_path, ofa, ofa_kill):
    straight = run_search(ofa_config(generations=8), tmp_path / "straight", quiet=True, problem=ofa)
    ofa_kill.update(calls=0, genomes=0, die_at=6)
    with pytest.raises(Killed):
        run_search(ofa_config(generations=8), tmp_path / "killed", quiet=True, problem=ofa)
    done = len(RunDir(tmp_path / "killed").evaluations())
    (tmp_path / "killed" / "checkpoint.json").unlink()
    ofa_kill.update(genomes=0, die_at=None)
    resumed = run_search(None, tmp_path / "killed", resume=True, quiet=True, problem=ofa)
    assert ofa_kill["genomes"] == straight.computed - done
    assert_same_run(resumed, straight)


# -- 4. an exhausted search ----------------------------------------------------------------------

def exhausted_config():
    return synthetic(BATCH_SERIAL, generations=5, crossover_prob=0.0, mutation_prob=0.0)


def test_an_exhausted_search_ends_cleanly_and_resumes(tmp_path, capsys):
    from evo_nas.cli import main

    r = run_search(exhausted_config(), tmp_path / "run", quiet=True)
    # no crossover and no mutation: every offspring copies a parent, and duplicates are eliminated
    assert r.stopped == "exhausted" and r.generations == 1 and r.evaluations == 8
    run = RunDir(r.run_dir)
    assert json.loads((run.path / "pareto.json").read_text())["size"] == len(r.front)
    assert run.summary()["status"] == "done" and run.summary()["stopped"] == "exhausted"
    before = (run.path / "evaluations.jsonl").read_bytes()
    assert main(["search", "--resume", str(run.path), "--quiet", "--no-plot"]) == 0
    assert capsys.readouterr().out.strip() == str(run.path)
    assert (run.path / "evaluations.jsonl").read_bytes() == before
    assert run.summary()["status"] == "done" and run.summary()["stopped"] == "exhausted"


def test_resuming_an_exhausted_run_changes_nothing(tmp_path):
    r = run_search(exhausted_config(), tmp_path / "run", quiet=True)
    logbook = strip(RunDir(r.run_dir).logbook())
    again = run_search(None, r.run_dir, resume=True, quiet=True)
    assert strip(RunDir(r.run_dir).logbook()) == logbook
    assert [e["generation"] for e in logbook] == sorted(set(e["generation"] for e in logbook))
    assert again.stopped == "exhausted" and again.generations == r.generations


# -- 5. threads refused for a problem that is not thread-safe -------------------------------------

def train_config(**search):
    return {"seed": 0, "space": {"name": "mnasnet"}, "data": {"name": "mnist-subset"},
            "proxy": {"kind": "train", "steps": 2},
            "search": {"pop_size": 4, "generations": 1, "cache": False, **search},
            "objectives": {"names": ["val_acc", "params_m"]}}


def test_latency_as_an_objective_without_a_latency_section_says_how_to_fix_it(tmp_path):
    config = train_config()
    del config["objectives"]
    with pytest.raises(ValueError, match=r"no \[latency\] section: add \[latency\] .* or leave latency_ms out"):
        run_search(config, tmp_path / "run", quiet=True)
    assert not (tmp_path / "run").exists()


@pytest.mark.parametrize("section", [None, {"name": "train"}], ids=["default-problem", "train"])
def test_threads_are_refused_for_the_train_problem(section):
    cfg = train_config(backend="threading", n_jobs=2)
    if section is not None:
        cfg["problem"] = section
    with pytest.raises(ValueError, match=r"backend = 'threading' with n_jobs = 2: problem 'train' is not thread-safe"):
        validate_config(cfg)
    assert validate_config(train_config(backend="threading", n_jobs=1)).name == "train"
    assert validate_config(train_config(backend="loky", n_jobs=2)).name == "train"
    assert validate_config(synthetic(backend="threading", n_jobs=2)).name == "synthetic"


@pytest.fixture
def unsafe():
    @register_problem("unsafe-synthetic")
    class Unsafe(SyntheticProblem):
        thread_safe = False

    yield Unsafe
    PROBLEMS.pop("unsafe-synthetic")


def test_threads_are_refused_on_resume_too(tmp_path, unsafe):
    cfg = synthetic({"name": "unsafe-synthetic"})
    with pytest.raises(Killed):
        run_search(cfg, tmp_path / "run", quiet=True, evaluator=counting([], 10))
    threaded = copy.deepcopy(cfg)
    threaded["search"].update(backend="threading", n_jobs=2)
    with pytest.raises(ValueError, match="thread-safe"):
        validate_config(threaded)
    with pytest.raises(ValueError, match="thread-safe"):
        run_search(threaded, tmp_path / "run", resume=True, quiet=True)


# -- 6. every candidate failed ---------------------------------------------------------------------

def boom(genome, cfg):
    return {"status": "failed", "error": f"boom {sum(genome.genes)} after 0.{len(genome.key)}s"}


def test_a_run_where_everything_fails_stops_after_its_first_generation(tmp_path):
    r = run_search(synthetic(BATCH_SERIAL), tmp_path / "run", quiet=True, evaluator=boom)
    assert r.stopped == "all_failed" and r.generations == 1
    assert r.evaluations == r.failures == 8 and r.front == [] and r.hypervolume == 0.0
    assert r.failure_reasons == {"boom N after Ns": 8}
    assert len(r.notes) == 1 and "every candidate" in r.notes[0] and r.notes[0].endswith("boom N after Ns")
    assert [e.get("all_failed") for e in r.logbook] == [True]
    summary = RunDir(r.run_dir).summary()
    assert summary["status"] == "done" and summary["stopped"] == "all_failed"
    assert summary["failure_reasons"] == {"boom N after Ns": 8} and summary["notes"] == r.notes


def test_the_all_failed_note_names_the_generation_that_failed(tmp_path):
    r = run_search(synthetic(BATCH_SERIAL), tmp_path / "run", quiet=True, evaluator=boom)
    assert r.logbook[-1]["generation"] == 0
    assert r.notes[0].startswith("every candidate of generation 0 failed")


class Scripted:
    """A strategy asking fixed generations: 4 genomes; the same 4 and 2 new; 2 new ones."""

    search_keys = ()

    def __init__(self, space, search, objectives, rng):
        card = np.array(space.cardinalities)
        pool = space.genomes((np.random.default_rng(0).random((8, space.n_genes)) * card).astype(np.int64))
        assert len({g.key for g in pool}) == 8
        self.script = [pool[:4], pool[:6], pool[6:]]
        self.asked = 0

    def ask(self):
        return list(self.script[self.asked]) if self.asked < len(self.script) else []

    def tell(self, genomes, results):
        self.asked += 1

    def state_dict(self):
        return {"asked": self.asked}

    def load_state_dict(self, d):
        self.asked = d["asked"]


def test_a_generation_with_successful_candidates_is_not_all_failed(tmp_path, monkeypatch):
    from evo_nas.algorithms.strategy import STRATEGIES

    monkeypatch.setitem(STRATEGIES, "scripted", f"{__name__}:Scripted")
    cfg = synthetic(algorithm="scripted", generations=3)
    del cfg["search"]["pop_size"]
    space = make_problem(cfg).space
    failing = {g.key for g in Scripted(space, {}, None, None).script[1][4:]}

    def evaluate(genome, c):
        return {"status": "failed", "error": "boom"} if genome.key in failing else synthetic_evaluate(genome, c)

    r = run_search(cfg, tmp_path / "run", quiet=True, evaluator=evaluate)
    assert [e["asked"] for e in r.logbook][:2] == [4, 6]
    assert r.logbook[1]["failures"] == 2 and r.logbook[1]["cache_hits"] == 4
    assert r.stopped == "generations" and r.generations == 3 and r.evaluations == 8 and r.notes == []


def test_a_val_size_beyond_the_data_is_a_config_error_before_the_run(tmp_path, capsys):
    from evo_nas.cli import main

    path = tmp_path / "fails.toml"
    path.write_text('seed = 0\n[space]\nname = "mnasnet"\nresolution = 32\n'
                    '[data]\nname = "mnist-subset"\nval_size = 100000\n[proxy]\nkind = "train"\nsteps = 2\n'
                    '[search]\npop_size = 4\ngenerations = 3\ncache = false\n'
                    '[objectives]\nnames = ["val_acc", "params_m"]\n')
    assert main(["search", str(path), "--run-dir", str(tmp_path / "run"), "--quiet", "--no-plot"]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and "val_size = 100000 must be in [1, 5999]" in err[0]
    assert not (tmp_path / "run").exists()


def test_cli_exits_3_when_every_candidate_fails(tmp_path, capsys):
    from evo_nas.cli import main

    path = tmp_path / "fails.toml"
    path.write_text('seed = 0\n[space]\nname = "mnasnet"\nresolution = 32\n'
                    '[data]\nname = "mnist-subset"\n[proxy]\nkind = "train"\nsteps = 2\nmax_params_m = 0.001\n'
                    '[search]\npop_size = 4\ngenerations = 3\ncache = false\n'
                    '[objectives]\nnames = ["val_acc", "params_m"]\n')
    assert main(["search", str(path), "--run-dir", str(tmp_path / "run"), "--quiet", "--no-plot"]) == 3
    err = capsys.readouterr().err
    assert "every candidate" in err and "exceeds max_params_m" in err
    summary = RunDir(tmp_path / "run").summary()
    assert summary["stopped"] == "all_failed" and summary["evaluations"] == summary["failures"] == 4


# -- 7. an infeasible latency target ---------------------------------------------------------------

@pytest.mark.parametrize("problem", [
    pytest.param(PER_GENOME, id="per-genome"),
    pytest.param(BATCH_SERIAL, id="issue-config"),
])
def test_an_infeasible_latency_target_says_the_lowest_latency_reached(tmp_path, problem):
    cfg = synthetic(problem, generations=3)
    cfg["objectives"]["latency_target_ms"] = 0.001
    r = run_search(cfg, tmp_path / "run", quiet=True)
    assert r.front == [] and r.hypervolume == 0.0 and r.stopped == "generations"
    assert json.loads((r.run_dir / "pareto.json").read_text())["size"] == 0
    ok = [e for e in RunDir(r.run_dir).evaluations() if e["status"] == "ok"]
    assert ok and all(e["latency_ms"] is not None for e in ok)
    low = min(e["latency_ms"] for e in ok)
    note = [n for n in r.notes if "no candidate met latency_target_ms = 0.001" in n]
    assert len(note) == 1
    m = re.search(r"lowest latency reached was ([0-9.e+-]+) ms", note[0])
    assert m and float(m.group(1)) == pytest.approx(low, rel=5e-4)
    assert RunDir(r.run_dir).summary()["notes"] == r.notes


# -- 8. non-finite objectives ----------------------------------------------------------------------

def strict(text):
    return json.loads(text, parse_constant=lambda c: (_ for _ in ()).throw(ValueError(c)))


def nonfinite(genome, cfg):
    r = synthetic_evaluate(genome, cfg)
    if r["status"] == "ok":
        kind = sum(genome.genes) % 3
        if kind == 0:
            r["val_acc"] = float("nan")
        elif kind == 1 and r["latency_ms"] is not None:
            r["latency_ms"] = np.float64("inf")
    return r


def assert_strict_files(run_dir):
    for name in ("evaluations.jsonl", "logbook.jsonl"):
        for line in (run_dir / name).read_text().splitlines():
            strict(line)
    for name in ("pareto.json", "run.json", "config.json"):
        strict((run_dir / name).read_text())


@pytest.mark.parametrize("problem", [{"fail": 0.3}, PER_GENOME], ids=["pool-latency", "serial-latency"])
def test_non_finite_objectives_fail_their_candidate(tmp_path, monkeypatch, problem):
    original = SerialSyntheticLatency.latency_ms
    monkeypatch.setattr(SerialSyntheticLatency, "latency_ms",
                        lambda self, arch: float("inf") if len(arch.layers()) % 2 else original(self, arch))
    r = run_search(synthetic(problem, generations=4), tmp_path / "run", quiet=True, evaluator=nonfinite)
    evals = RunDir(r.run_dir).evaluations()
    bad = [e for e in evals if e["error"] and "non-finite" in e["error"]]
    assert {e["error"].split("non-finite objective: ")[1] for e in bad} == {"val_acc = nan", "latency_ms = inf"}
    assert all(e["status"] == "failed" for e in bad)
    assert all(e["status"] == "failed" for e in evals if not all(
        isinstance(e[k], float) and math.isfinite(e[k]) for k in ("val_acc", "latency_ms")))
    assert r.front and not {e["key"] for e in bad} & set(keys(r.front))
    assert all(math.isfinite(f["val_acc"]) and math.isfinite(f["latency_ms"]) for f in r.front)
    assert all(math.isfinite(e["best_latency_ms"]) and math.isfinite(e["best_val_acc"]) for e in r.logbook)
    assert r.failures == sum(e["status"] == "failed" for e in evals)
    assert_strict_files(r.run_dir)


def test_non_finite_extra_fields_keep_every_run_file_strict_json(tmp_path):
    def odd(genome, cfg):
        return {**synthetic_evaluate(genome, cfg), "macs_m": float("nan"), "extra": -math.inf}

    r = run_search(synthetic({"fail": 0.3}, generations=2), tmp_path / "run", quiet=True, evaluator=odd)
    assert r.front
    assert_strict_files(r.run_dir)


def test_the_persistent_cache_holds_strict_json(tmp_path):
    import sqlite3

    def odd(genome, cfg):
        return {**synthetic_evaluate(genome, cfg), "macs_m": float("nan"), "extra": -math.inf}

    cache = tmp_path / "c.sqlite"
    run_search(synthetic({"fail": 0.3}, generations=2, cache=str(cache)), tmp_path / "run", quiet=True, evaluator=odd)
    with sqlite3.connect(cache) as conn:
        rows = [row[0] for row in conn.execute("SELECT record FROM evaluations")]
    assert rows
    for row in rows:
        strict(row)


# -- 9. unknown configuration keys -----------------------------------------------------------------

@pytest.mark.parametrize("edit, bad, hint", [
    (lambda c: c.update(sed=5), "'sed'", "'seed'"),
    (lambda c: c.update(objective=c.pop("objectives")), "'objective'", "'objectives'"),
    (lambda c: c["search"].update(popsize=8), "'popsize'", "'pop_size'"),
])
def test_unknown_keys_name_the_closest_valid_one(edit, bad, hint):
    cfg = synthetic()
    edit(cfg)
    with pytest.raises(ValueError, match=f"{bad}.*did you mean {hint}"):
        validate_config(cfg)
    validate_config(synthetic())


# -- 12. the incremental archive equals the front recomputed from the records ----------------------

@pytest.mark.parametrize("cfg", [
    pytest.param(synthetic(PER_GENOME, generations=6), id="failures"),
    pytest.param(synthetic({"fail": 0.3}, {"latency_target_ms": 2.0,
                                           "reference": {"val_acc": 0.5, "latency_ms": 10.0}}, generations=6),
                 id="latency-target"),
    pytest.param(synthetic({"fail": 0.3}, {"names": ["val_acc", "latency_ms", "params_m"],
                                           "reference": {"val_acc": 0.5, "latency_ms": 10.0, "params_m": 5.0}},
                           generations=6), id="three-objectives"),
    pytest.param(synthetic({"fail": 0.3}, generations=None, max_evaluations=37), id="partial-generation"),
    pytest.param(ofa_config(), id="ofa"),
])
def test_the_archive_equals_the_front_of_the_records(tmp_path, ofa, cfg):
    r = run_search(cfg, tmp_path / "run", quiet=True, problem=ofa if cfg["problem"]["name"] == "ofa-mbv3" else None)
    run = RunDir(r.run_dir)
    records, objectives = run.evaluations(), run.objectives()
    front = pareto_front(records, objectives)
    assert front and keys(r.front) == keys(front)
    assert r.hypervolume == pytest.approx(front_hypervolume(front, objectives), rel=1e-12)
    for entry in run.logbook():
        upto = pareto_front([e for e in records if e["generation"] <= entry["generation"]], objectives)
        assert entry["front_size"] == len(upto)
        assert entry["hypervolume"] == pytest.approx(front_hypervolume(upto, objectives), rel=1e-12)


def test_a_reference_every_member_misses_is_a_note_and_a_negative_seed_names_seed(tmp_path):
    cfg = synthetic(PER_GENOME, generations=2)
    cfg["objectives"]["reference"] = {"val_acc": 0.999, "latency_ms": 0.001}
    r = run_search(cfg, tmp_path / "run", quiet=True)
    assert r.hypervolume == 0.0 and any(n.startswith("hypervolume is 0") for n in r.notes)
    cfg = synthetic(PER_GENOME, generations=2)
    cfg["seed"] = -3
    with pytest.raises(ValueError, match="seed = -3 must be a non-negative int"):
        run_search(cfg, tmp_path / "neg", quiet=True)


# -- a run that stopped by max_evaluations in a partial generation ------------------------------------

@pytest.mark.parametrize("problem", [pytest.param({"fail": 0.2, "batch": True}, id="batch"),
                                     pytest.param(PER_GENOME, id="per-genome")])
def test_resuming_a_run_stopped_by_max_evaluations_changes_nothing(tmp_path, problem):
    config = synthetic(problem)
    config["search"].update(generations=None, max_evaluations=21)
    r = run_search(config, tmp_path / "run", quiet=True)
    assert r.stopped == "max_evaluations" and r.logbook[-1].get("partial")
    logbook = strip(RunDir(r.run_dir).logbook())
    for _ in range(2):
        again = run_search(None, r.run_dir, resume=True, quiet=True)
        assert again.stopped == "max_evaluations" and again.evaluations == r.evaluations
        assert [m["key"] for m in again.front] == [m["key"] for m in r.front]
        assert strip(RunDir(r.run_dir).logbook()) == logbook
