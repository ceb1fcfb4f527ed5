"""Surrogate-assisted NSGA-II: encoding, acquisition, cheap objectives, budget, report, workers, kill -9 and replay."""
import json
import os
import signal
import subprocess
import sys
import time

import numpy as np
import pytest

from evo_nas.analysis.pareto import hypervolume
from evo_nas.problems import make_problem
from evo_nas.algorithms.acquisition import greedy_hvi, hvi_2d, nondominated_rank
from evo_nas.engine.runner import run_search
from evo_nas.engine.jsonl import read_jsonl
from evo_nas.engine.run import RunDir
from evo_nas.algorithms.surrogate_model import Encoding, fit_model, kendall_tau, pair_tau
from conftest import have_data, needs_data

SMALL = {"initial": 20, "batch": 10, "inner_pop": 20, "inner_generations": 5, "early_until": 40}
OFA = {"seed": 3, "problem": {"name": "ofa-mbv3"},
       "search": {"algorithm": "surrogate", "max_evaluations": 80, "max_stall": 1000, "surrogate": SMALL},
       "objectives": {"reference": {"top1": 0.70, "latency_ms": 100.0}}}


@pytest.fixture(scope="module")
def ofa():
    if not have_data("ofa"):
        pytest.skip("benchmark data 'ofa' not available: set EVO_NAS_DATA to a mirror folder")
    return make_problem({"problem": {"name": "ofa-mbv3"}})


@pytest.fixture(scope="module")
def ofa_space():
    from evo_nas.spaces.loader import load_space

    return load_space("ofa-mbv3")


def test_encoding_is_one_hot_plus_ordinal_with_inactive_genes_masked(ofa_space):
    sp = ofa_space
    enc = Encoding(sp)
    # 46 genes of 3 or 5 choices, all ordered: one-hot plus one ordinal column each
    assert enc.n_features == sum(sp.cardinalities) + sp.n_genes
    rng = np.random.default_rng(0)
    X = sp.canonical_array((rng.random((50, sp.n_genes)) * np.array(sp.cardinalities)).astype(int))
    Z = enc(X)
    active = sp.gene_active(X)
    for g in range(sp.n_genes):
        block = Z[:, enc.start[g]:enc.start[g] + sp.cardinalities[g]]
        assert np.array_equal(block.sum(axis=1), active[:, g].astype(float))
        assert np.array_equal(block[active[:, g]].argmax(axis=1), X[active[:, g], g])
    # an inactive slot's genes do not change the encoding: the same network, the same features
    Y = X.copy()
    inactive = ~active
    Y[inactive] = (Y[inactive] + 1) % 3
    assert np.array_equal(enc(Y), Z)


def test_space_declares_ordered_choices(ofa_space, mnasnet):
    assert all(ofa_space.ordered)
    assert not any(mnasnet.ordered)
    assert mnasnet.gene_active(np.zeros((2, mnasnet.n_genes), dtype=int)).all()


def test_hvi_2d_is_the_hypervolume_difference():
    rng = np.random.default_rng(1)
    ref = np.array([1.0, 1.0])
    front = rng.random((12, 2))
    C = rng.random((40, 2)) * 1.2 - 0.1
    base = hypervolume(front, ref)
    brute = [hypervolume(np.vstack([front, c]), ref) - base for c in C]
    assert np.allclose(hvi_2d(front, C, ref), brute, atol=1e-12)
    assert np.allclose(hvi_2d(np.zeros((0, 2)), C, ref), [hypervolume(c[None], ref) for c in C])


def test_greedy_hvi_picks_the_best_first_and_fills_the_batch():
    front = np.array([[0.5, 0.5]])
    C = np.array([[0.6, 0.6], [0.1, 0.9], [0.2, 0.2], [0.9, 0.1], [0.7, 0.8]])
    pick = greedy_hvi(front, C, 5, np.array([1.0, 1.0]))
    assert pick[0] == 2 and sorted(pick.tolist()) == [0, 1, 2, 3, 4]
    # dominated candidates come last, the nearest to the front first
    assert pick.tolist()[-2:] == [0, 4]
    with pytest.raises(ValueError, match="at least 6 candidates"):
        greedy_hvi(front, C, 6, np.array([1.0, 1.0]))


def test_rank_helpers():
    assert nondominated_rank(np.array([[0, 1], [1, 0], [1, 1], [2, 2]])).tolist() == [0, 0, 1, 2]
    assert kendall_tau([1, 2, 3, 4], [2, 4, 6, 8]) == pytest.approx(1.0)
    assert kendall_tau([1, 1, 1], [1, 2, 3]) is None
    tau, pairs = pair_tau([1, 2, 3], [3, 2, 1], [10.0, 10.2, 30.0])
    assert (tau, pairs) == (-1.0, 1)


def test_the_model_ranks_fresh_ofa_networks(ofa):
    sp = ofa.space
    rng = np.random.default_rng(2)
    card = np.array(sp.cardinalities)
    X = sp.canonical_array((rng.random((400, sp.n_genes)) * card).astype(int))
    y = ofa.evaluate_array(X)[:, 0]
    model = fit_model("bayes_ridge", Encoding(sp)(X[:200]), y[:200], random_state=0)
    mean, std = model.predict(Encoding(sp)(X[200:]))
    assert kendall_tau(mean, y[200:]) > 0.8 and (std > 0).all()
    with pytest.raises(ValueError, match="model = 'forest'"):
        fit_model("forest", X, y, 0)


def test_cheap_objectives_are_the_evaluated_ones(ofa):
    assert ofa.cheap_objectives == ("latency_ms",)
    X = ofa.space.canonical_array(np.zeros((3, ofa.space.n_genes), dtype=int))
    assert np.allclose(ofa.evaluate_cheap(X)["latency_ms"], ofa.evaluate_array(X)[:, 1])
    synth = make_problem({"space": {"name": "mnasnet", "resolution": 32, "num_classes": 10},
                          "problem": {"name": "synthetic"}})
    genomes = [synth.space.sample(np.random.default_rng(i)) for i in range(3)]
    cheap = synth.evaluate_cheap(np.array([g.genes for g in genomes]))
    recs = synth.evaluate(genomes)
    for name in synth.cheap_objectives:
        assert np.allclose(cheap[name], [r[name] for r in recs])


def test_a_surrogate_run_spends_exactly_its_budget_and_reports_each_round(tmp_path, ofa):
    r = run_search(OFA, tmp_path / "run", quiet=True, problem=ofa)
    evals = RunDir(tmp_path / "run").evaluations()
    assert r.evaluations == 80 and len(evals) == 80 and len({e["key"] for e in evals}) == 80
    report = read_jsonl(tmp_path / "run" / "surrogate.jsonl")
    assert [line["round"] for line in report] == list(range(6))  # 20 initial, then 6 rounds of 10
    assert [line["trained_on"] for line in report] == [20, 30, 40, 50, 60, 70]
    assert all(len(line["predicted"]) == 10 and line["tau"] is not None for line in report)
    # a model round's networks were predicted before their evaluation: measured values are the records'
    by_gen = [e["top1"] for e in evals[20:30]]
    assert report[0]["measured"] == [round(v, 6) for v in by_gen]


@needs_data("ofa")
def test_config_errors_name_the_value(tmp_path):
    bad = json.loads(json.dumps(OFA))
    bad["search"]["n_jobs"] = 3
    with pytest.raises(ValueError, match=r"batch \(10\) must be a multiple of \[search\] n_jobs \(3\)"):
        run_search(bad, tmp_path / "a", quiet=True)
    bad["search"].update(n_jobs=1, surrogate={"model": "forest"})
    with pytest.raises(ValueError, match="model"):
        run_search(bad, tmp_path / "b", quiet=True)
    assert not (tmp_path / "a").exists() and not (tmp_path / "b").exists()


def test_one_or_two_workers_give_the_same_search(tmp_path):
    config = {"seed": 5, "space": {"name": "mnasnet", "resolution": 32, "num_classes": 10},
              "problem": {"name": "synthetic", "latency": "serial"},
              "search": {"algorithm": "surrogate", "max_evaluations": 24, "cache": False, "max_stall": 100,
                         "surrogate": {"initial": 8, "batch": 4, "inner_pop": 8, "inner_generations": 3}},
              "objectives": {"reference": {"val_acc": 0.5, "latency_ms": 10.0}}}
    one = run_search(config, tmp_path / "one", quiet=True)
    config["search"].update(n_jobs=2, backend="loky")
    two = run_search(config, tmp_path / "two", quiet=True)
    # workers append as they finish: the same networks in the same generations, in any order
    keys = lambda p: sorted((r["generation"], r["key"]) for r in RunDir(p).evaluations())  # noqa: E731
    assert keys(tmp_path / "one") == keys(tmp_path / "two") and len(keys(tmp_path / "one")) == 24
    assert [m["key"] for m in one.front] == [m["key"] for m in two.front]
    assert read_jsonl(tmp_path / "one" / "surrogate.jsonl") == read_jsonl(tmp_path / "two" / "surrogate.jsonl")


CHILD = """
import json, sys, time
from evo_nas.problems.ofa import OFAProblem
from evo_nas.engine import loop
from evo_nas.engine.runner import run_search

loop.CHECKPOINT_S = 0.0
fast = OFAProblem.evaluate_array

def slow(self, X):
    time.sleep(0.05)
    return fast(self, X)

OFAProblem.evaluate_array = slow
run_search(json.loads(sys.argv[1]), sys.argv[2], quiet=True)
"""


def test_killed_with_sigkill_then_resumed_or_replayed_gives_the_same_pareto_set(tmp_path, ofa):
    straight = run_search(OFA, tmp_path / "straight", quiet=True, problem=ofa)
    report = read_jsonl(tmp_path / "straight" / "surrogate.jsonl")
    for kill_at in (2, 4):
        run_dir = tmp_path / f"killed-{kill_at}"
        child = subprocess.Popen([sys.executable, "-c", CHILD, json.dumps(OFA), str(run_dir)],
                                 stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
        evaluations = run_dir / "evaluations.jsonl"
        deadline = time.time() + 120
        while time.time() < deadline and child.poll() is None:
            records = read_jsonl(evaluations)
            if records and records[-1]["generation"] >= kill_at:
                break
            time.sleep(0.005)
        assert child.poll() is None, child.stderr.read().decode()
        os.kill(child.pid, signal.SIGKILL)
        child.wait()
        before = RunDir(run_dir).evaluations()
        assert 20 <= len(before) < 80
        if kill_at == 4:  # no checkpoint at all: the state is rebuilt by the seeded replay
            for name in ("checkpoint.pkl", "checkpoint.prev.pkl"):
                (run_dir / name).unlink(missing_ok=True)
        resumed = run_search(None, run_dir, resume=True, quiet=True, problem=ofa)
        after = RunDir(run_dir).evaluations()
        assert after[:len(before)] == before
        assert [r["key"] for r in after] == [r["key"] for r in RunDir(tmp_path / "straight").evaluations()]
        assert [m["key"] for m in resumed.front] == [m["key"] for m in straight.front]
        assert resumed.hypervolume == straight.hypervolume
        assert read_jsonl(run_dir / "surrogate.jsonl") == report


def test_corner_mutants_are_fresh_one_or_two_gene_changes_of_the_best_parents(ofa_space):
    from evo_nas.algorithms.acquisition import corner_mutants

    sp = ofa_space
    rng = np.random.default_rng(5)
    card = np.array(sp.cardinalities)
    X = sp.canonical_array((rng.random((40, sp.n_genes)) * card).astype(int))
    F = np.stack([-np.linspace(0.70, 0.80, 40), np.linspace(10, 200, 40)], axis=1)  # the best inside 100 ms: row 19
    inside = np.flatnonzero(F[:, 1] < 100.0)
    parents = inside[np.argsort(F[inside, 0])[:3]]
    seen = {r.tobytes() for r in X}
    M = corner_mutants(sp, X, F, 0, np.array([-0.70, 100.0]), 12, np.random.default_rng(1), seen)
    assert len(M) == 12 and len({r.tobytes() for r in M}) == 12
    assert not {r.tobytes() for r in M} & seen
    active = sp.gene_active(M)
    for m, a in zip(M, active):
        # one parent but for at most 2 genes among those active in both (an inactive gene builds nothing)
        assert min(int(((m != X[p]) & a & sp.gene_active(X[p][None])[0]).sum()) for p in parents) <= 2
        assert min(int((m != X[p]).sum()) for p in range(len(X))) >= 1
    again = corner_mutants(sp, X, F, 0, np.array([-0.70, 100.0]), 12, np.random.default_rng(1), seen)
    assert np.array_equal(M, again)  # the generator alone decides


def test_local_share_is_validated_with_its_name():
    from evo_nas.algorithms.surrogate import SurrogateKeys
    from evo_nas.base.errors import validate

    with pytest.raises(ValueError, match="local_share"):
        validate(SurrogateKeys, {"local_share": 1.0}, "search.surrogate")
    assert validate(SurrogateKeys, {"local_share": 0.0}, "search.surrogate").local_share == 0.0


def test_front_mutants_come_from_any_front_member(ofa_space):
    from evo_nas.algorithms.acquisition import corner_mutants
    from evo_nas.analysis.pareto import non_dominated

    sp = ofa_space
    rng = np.random.default_rng(6)
    X = sp.canonical_array((rng.random((60, sp.n_genes)) * np.array(sp.cardinalities)).astype(int))
    F = np.stack([-np.linspace(0.71, 0.80, 60), np.linspace(10, 90, 60)], axis=1)
    F[1::2, 0] += 0.02  # every other network falls behind its neighbour: the front is the even rows
    front = np.flatnonzero(non_dominated(F))
    assert np.array_equal(front, np.arange(0, 60, 2))
    M = corner_mutants(sp, X, F, None, np.array([-0.70, 100.0]), 40, np.random.default_rng(2), set())
    near = [min(range(len(X)), key=lambda p: int((m != X[p]).sum())) for m in M]
    assert set(near) <= set(front.tolist()) and len(set(near)) > 3  # parents: the front, several of them


def test_the_diagnosis_judges_every_model_on_the_best_known_front(ofa):
    from evo_nas.studies.surrogate_diagnosis import BANDS_MS, diagnose, report

    r = diagnose(ofa, seed=1, budget=60, models=("bayes_ridge",), surrogate={"inner_pop": 20, "inner_generations": 3})
    m = r["models"]["bayes_ridge"]
    assert r["budget"] == 60 and r["surrogate"]["local_share"] == 0.0
    assert sum(b["networks"] for b in m["bands"]) == r["best_known_networks"]  # every network in a band
    assert all(list(b["ms"]) in [list(x) for x in BANDS_MS] and b["std"] > 0 for b in m["bands"])
    assert 0.0 <= m["predicted_above_run_best"] <= 1.0 and 0.7 < r["best_known_max"]["top1"] < 0.9
    assert "bayes_ridge" in report(r)


def test_front_neighbours_are_every_fresh_one_gene_change_of_the_front(ofa_space):
    from evo_nas.algorithms.acquisition import front_neighbours

    sp = ofa_space
    rng = np.random.default_rng(7)
    card = np.array(sp.cardinalities)
    X = sp.canonical_array((rng.random((30, sp.n_genes)) * card).astype(int))
    F = np.stack([np.full(30, -0.70), np.linspace(10, 90, 30)], axis=1)
    F[0, 0], F[29, 0] = -0.71, -0.80  # only rows 0 and 29 are non-dominated
    seen = {r.tobytes() for r in X}
    N = front_neighbours(sp, X, F, seen)
    keys = {r.tobytes() for r in N}
    assert len(keys) == len(N) and not keys & seen
    # brute force: each (gene, choice) change of a front row, made canonical
    expected = set()
    for p in (0, 29):
        for g, c in enumerate(card):
            for v in range(c):
                if v != X[p, g]:
                    y = X[p].copy()
                    y[g] = v
                    expected.add(sp.canonical_array(y[None])[0].tobytes())
    assert keys == expected - seen
    assert not len(front_neighbours(sp, X, F, seen | keys))


def test_front_neighbours_join_the_candidates_only_when_asked(ofa):
    from evo_nas.algorithms.acquisition import front_neighbours
    from evo_nas.algorithms.objectives import Objectives
    from evo_nas.algorithms.surrogate import SurrogateStrategy

    obj = Objectives.from_dict({"names": ["top1", "latency_ms"],
                                "reference": {"top1": 0.70, "latency_ms": 100.0}}, ofa)
    distance = {}
    for flag in (True, False):
        st = SurrogateStrategy(ofa.space, {"surrogate": {**SMALL, "front_neighbours": flag, "local_share": 0.0}},
                               obj, np.random.default_rng(0), ofa)
        st._inner_search = lambda models, ok: np.zeros((0, ofa.space.n_genes), dtype=np.int64)
        X = st.ask_array()
        F = ofa.evaluate_array(X)
        st.tell_array([{"status": "ok", "top1": float(f[0]), "latency_ms": float(f[1])} for f in F])
        near = {r.tobytes() for r in front_neighbours(ofa.space, st.X, st.F, set())}
        pick = st.ask_array()  # candidates: the front's neighbours, or only random networks
        distance[flag] = [r.tobytes() in near for r in pick]
    assert all(distance[True]) and len(distance[True]) == SMALL["batch"]
    assert not any(distance[False])


def test_gp_keeps_its_hyperparameters_until_the_data_grow():
    rng = np.random.default_rng(4)
    Z = (rng.random((60, 12)) < 0.5).astype(float)
    y = Z @ rng.normal(size=12) + 0.3 * np.sin(3 * Z[:, 0] * Z[:, 1]) + 0.01 * rng.normal(size=60)
    first = fit_model("gp", Z[:30], y[:30], 0)
    assert first.theta is not None and fit_model("bayes_ridge", Z, y, 0).theta is None
    kept = fit_model("gp", Z, y, 0, theta=first.theta)
    assert np.array_equal(kept.theta, first.theta)  # fixed: no marginal-likelihood fit
    refitted = fit_model("gp", Z, y, 0)
    assert not np.allclose(refitted.theta, first.theta)
    assert kendall_tau(kept.predict(Z[30:])[0], y[30:]) > 0.5


def test_surrogate_refits_gp_hyperparameters_at_a_quarter_more_points(ofa):
    from evo_nas.algorithms.objectives import Objectives
    from evo_nas.algorithms.surrogate import REFIT_GROWTH, SurrogateStrategy

    obj = Objectives.from_dict({"names": ["top1", "latency_ms"],
                                "reference": {"top1": 0.70, "latency_ms": 100.0}}, ofa)
    st = SurrogateStrategy(ofa.space, {"surrogate": {**SMALL, "model": "gp", "early_until": 0}}, obj,
                           np.random.default_rng(1), ofa)
    fits = []
    for _ in range(7):
        X = st.ask_array()
        F = ofa.evaluate_array(X)
        st.tell_array([{"status": "ok", "top1": float(f[0]), "latency_ms": float(f[1])} for f in F])
        if 0 in st._theta:
            fits.append(st._theta[0][0])
    # a model round after 20, 30, ..., 70 evaluations: hyperparameters fitted at 20, 30, 40, 50, 70
    assert fits == [20, 30, 40, 50, 50, 70]
    for a, b in zip(fits, fits[1:]):
        assert b == a or b >= REFIT_GROWTH * a


def test_early_model_is_fitted_below_early_until(ofa):
    from evo_nas.algorithms.objectives import Objectives
    from evo_nas.algorithms.surrogate import SurrogateStrategy

    obj = Objectives.from_dict({"names": ["top1", "latency_ms"],
                                "reference": {"top1": 0.70, "latency_ms": 100.0}}, ofa)
    st = SurrogateStrategy(ofa.space, {"surrogate": {**SMALL, "model": "gp", "early_until": 40}}, obj,
                           np.random.default_rng(2), ofa)
    kinds, fit = [], st._fit

    def spy(ok):
        models = fit(ok)
        kinds.append((int(ok.sum()), [m.kind for m in models]))
        return models

    st._fit = spy
    for _ in range(4):
        X = st.ask_array()
        F = ofa.evaluate_array(X)
        st.tell_array([{"status": "ok", "top1": float(f[0]), "latency_ms": float(f[1])} for f in F])
    assert kinds == [(20, ["bayes_ridge"]), (30, ["bayes_ridge"]), (40, ["gp"])]
