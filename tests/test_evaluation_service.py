"""The evaluation service (``evo_nas.problems.service``): search and refine score genomes the same way."""
import math
import shutil

import pytest

from evo_nas.deploy.netadapt import RunEvaluator, refine_run
from evo_nas.engine.cache import EvalCache
from evo_nas.engine.run import RunDir
from evo_nas.engine.runner import run_search
from evo_nas.problems.service import EvaluationService

TIMING = ("eval_s", "latency_s")


def what(rec: dict) -> dict:
    """A record without how long it took or when and how it was obtained."""
    return {k: v for k, v in rec.items() if k not in (*TIMING, "generation", "cached", "origin", "refined_from")}


def synthetic_run(tmp_path, **problem):
    cfg = {"seed": 4, "space": {"name": "mobilenetv3"}, "problem": {"name": "synthetic", **problem},
           "search": {"pop_size": 8, "generations": 2, "cache": False}}
    return run_search(cfg, tmp_path / "run", quiet=True)


@pytest.mark.parametrize("problem", [{}, {"latency": "serial", "fail": 0.2}, {"batch": True, "fail": 0.2}],
                         ids=["pool", "serial-latency", "batch"])
def test_the_service_gives_the_records_the_search_engine_wrote(tmp_path, problem):
    r = synthetic_run(tmp_path, **problem)
    run = RunDir(r.run_dir)
    searched = run.evaluations()
    assert any(e["status"] != "ok" for e in searched) == bool(problem.get("fail"))
    written = []
    service = EvaluationService(run.problem(), run.objectives().names, write=written.extend)
    space = run.problem().space
    service.evaluate([space.genome(e["genes"]) for e in searched], generation=7)
    final = {}
    for rec in written:   # a pending record, then its completed one: the last wins, as in a run
        final[rec["key"]] = rec
    assert [what(final[e["key"]]) for e in searched] == [what(e) for e in searched]
    assert all(rec["generation"] == 7 and rec["cached"] is False for rec in final.values())


def test_refine_serves_a_cached_evaluation_with_the_same_record(tmp_path):
    r = synthetic_run(tmp_path, latency="serial")
    copy = tmp_path / "copy"
    shutil.copytree(r.run_dir, copy)
    target = 0.9 * min(f["latency_ms"] for f in r.front)
    first = refine_run(r.run_dir, target, members=1, cache_path=tmp_path / "cache.sqlite")
    again = refine_run(copy, target, members=1, cache_path=tmp_path / "cache.sqlite")
    assert [x.path() for x in again] == [x.path() for x in first]
    fresh = {e["key"]: e for e in RunDir(r.run_dir).evaluations() if e.get("origin") == "netadapt"}
    served = {e["key"]: e for e in RunDir(copy).evaluations() if e.get("origin") == "netadapt"}
    assert fresh and served.keys() == fresh.keys()
    assert all(e["cached"] for e in served.values()) and not any(e["cached"] for e in fresh.values())
    assert {k: what(e) for k, e in served.items()} == {k: what(e) for k, e in fresh.items()}


def test_refine_ranks_past_a_failing_proposal(tmp_path):
    # without a latency model, a proposal's latency comes from evaluating it; a failed one has none
    r = synthetic_run(tmp_path, fail=0.3)
    results = refine_run(r.run_dir, 0.9 * min(f["latency_ms"] for f in r.front), members=1, max_steps=3)
    assert results and results[0].steps
    ev = RunEvaluator(RunDir(r.run_dir))
    failed = next(e for e in RunDir(r.run_dir).evaluations() if e["status"] != "ok")
    assert math.isnan(ev.latency(ev.problem.space.genome(failed["genes"])))


def test_a_cache_written_by_the_service_holds_no_bookkeeping(tmp_path):
    r = synthetic_run(tmp_path)
    run = RunDir(r.run_dir)
    cache = EvalCache(tmp_path / "c.sqlite")
    service = EvaluationService(run.problem(), run.objectives().names, write=lambda recs: None, cache=cache)
    g = run.problem().space.genome(run.evaluations()[0]["genes"])
    service.evaluate([g], generation=3, origin="netadapt", refined_from="k")
    got = service.lookup([g.key])[g.key]
    assert got["key"] == g.key and not {"generation", "cached", "genes", "origin", "refined_from"} & set(got)
    cache.close()


@pytest.mark.parametrize("batch", [False, True], ids=["pool", "batch"])
def test_a_record_waiting_for_its_latency_is_cached_only_once_complete(tmp_path, batch):
    r = synthetic_run(tmp_path, latency="serial", batch=batch)
    run = RunDir(r.run_dir)
    stored = []

    class Cache:
        def put_many(self, items, fingerprint):
            stored.extend(items)

    written = []
    service = EvaluationService(run.problem(), run.objectives().names, write=written.extend, cache=Cache())
    service.evaluate([run.problem().space.genome(e["genes"]) for e in run.evaluations()[:6]], generation=0)
    assert any(rec.get("latency_pending") for rec in written)
    assert len(stored) == 6
    assert all(v["latency_ms"] is not None and "latency_pending" not in v for _, v in stored)
