"""Accel-NASBench: its space, exact costs against the records, the shipped surrogates, the problem and its options."""
import hashlib
import json
from pathlib import Path

import numpy as np
import pytest

from evo_nas.cli import main
from evo_nas.problems import make_problem
from evo_nas.problems.anb_model import ASSETS, BlockCosts, Surrogates, features
from evo_nas.spaces.costs import count, thop_macs
from evo_nas.spaces.loader import load_space

from conftest import needs_data

HERE = Path(__file__).parent
EXPECTED = json.loads((HERE / "data" / "anb_surrogate_expected.json").read_text())
B0 = "e1k3l1se-e6k3l2se-e6k5l2se-e6k3l3se-e6k5l3se-e6k5l4se-e6k3l1se"


def records():
    """Accel-NASBench's records, read through the data layer."""
    from evo_nas.problems.anb_data import load_records

    return load_records(load_space("anb"))


@pytest.fixture(scope="module")
def space():
    return load_space("anb")


@pytest.fixture(scope="module")
def problem():
    return make_problem({"problem": {"name": "anb"}})


def test_the_space_has_28_genes_and_about_1e11_networks(space):
    assert space.n_genes == 28 and space.n_blocks == 7
    assert [b.filters for b in space.blocks] == [16, 24, 40, 80, 112, 192, 320]
    assert [b.stride for b in space.blocks] == [1, 2, 2, 2, 1, 2, 1]
    assert [len(b.choices["layers"]) for b in space.blocks] == [3, 3, 3, 3, 3, 4, 3]
    assert int(np.prod(space.cardinalities)) == 36 ** 6 * 48


def test_the_genome_string_round_trips_and_every_genome_is_its_own_network(space):
    rng = np.random.default_rng(0)
    X = np.array([space.sample(rng).genes for _ in range(300)])
    keys = space.keys(X)
    assert len(set(keys)) == len({tuple(x) for x in X})
    for x, k in zip(X[:50], keys):
        g = space.parse(k)
        assert g.genes == tuple(x) and g.key == k == space.genome(x).key
        assert space.parse(g.architecture().to_string()) == g          # block strings encode back
    assert space.parse(B0).architecture().to_string().startswith("ds_r1_k3_s1_i32_o16_se0.25-ir_r2_k3_s2_e6")


@pytest.mark.parametrize("bad, message", [
    ("e1k3l1se-e6k3l2se", "has 2 blocks, space 'anb' has 7"),
    (B0.replace("e1k3l1se", "e1k7l1se"), r"block 1: kernel 7 is not among the choices \[3, 5\]"),
    (B0.replace("e6k5l3se", "e6k5l4se"), r"block 5: layers 4 is not among the choices \[1, 2, 3\]"),
    (B0.replace("e6k5l4se", "e6k5l5se"), r"block 6: layers 5 is not among the choices \[1, 2, 3, 4\]"),
    (B0.replace("e6k3l2se", "e3k3l2se"), r"block 2: expansion 3 is not among the choices \[1, 4, 6\]"),
    (B0.replace("e6k3l3se", "e6k3l3sx"), "block 4: 'e6k3l3sx' is not of the form"),
])
def test_a_malformed_genome_string_names_the_block_and_value(space, bad, message):
    with pytest.raises(ValueError, match=message):
        space.parse(bad)


def test_a_bad_genome_on_the_command_line_is_one_line_and_exit_2(capsys):
    assert main(["show", B0.replace("e1k3l1se", "e1k7l1se"), "--space", "anb"]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and "block 1: kernel 7" in err[0]


def test_efficientnet_b0_has_torchvisions_parameter_count(space):
    assert count(space.parse(B0)).params == 5_288_548


def test_the_vectorized_costs_are_the_analytic_counters(space):
    rng = np.random.default_rng(1)
    genomes = [space.sample(rng) for _ in range(40)]
    got = BlockCosts(space)(np.array([g.genes for g in genomes]))
    want = [(count(g).params, count(g).macs, thop_macs(g)) for g in genomes]
    assert got.tolist() == [list(w) for w in want]


def test_built_networks_have_the_counted_params_and_macs_and_hard_sigmoid_se_gates(space):
    import torch

    from evo_nas.networks.builder import build_model, count_model

    rng = np.random.default_rng(2)
    for g in [space.parse(B0), space.sample(rng)]:
        model = build_model(g, generator=torch.Generator().manual_seed(0))
        c = count(g)
        assert count_model(model, 224) == (c.params, c.macs)
        assert any(isinstance(m, torch.nn.Hardsigmoid) for m in model.modules())
        assert not any(isinstance(m, torch.nn.Sigmoid) for m in model.modules())


@needs_data("anb")
def test_params_and_thop_macs_equal_the_records_model_info():
    rec = records()
    space = load_space("anb")
    idx = np.random.default_rng(0).choice(len(rec.names), 300, replace=False)
    genomes = space.genomes(rec.genes[idx])
    assert [count(g).params / 1e6 for g in genomes] == pytest.approx(rec.params_m[idx], abs=1e-9)
    assert [thop_macs(g) / 1e6 for g in genomes] == pytest.approx(rec.macs_m[idx], abs=1e-9)
    c = BlockCosts(space)(rec.genes)          # and every record, vectorized
    assert np.abs(c[:, 0] / 1e6 - rec.params_m).max() < 1e-9 and np.abs(c[:, 2] / 1e6 - rec.macs_m).max() < 1e-9


def test_the_surrogate_files_match_their_sha256sums():
    lines = (ASSETS / "SHA256SUMS").read_text().split("\n")
    sums = dict(reversed(line.split("  ")) for line in lines if line)
    manifest = json.loads((ASSETS / "manifest.json").read_text())
    assert set(sums) == {"manifest.json"} | {m["file"] for m in manifest["models"].values()}
    for name, digest in sums.items():
        assert hashlib.sha256((ASSETS / name).read_bytes()).hexdigest() == digest, name
    assert sum((ASSETS / n).stat().st_size for n in sums) < 3 * 2 ** 20


def test_the_shipped_onnx_models_predict_what_the_training_script_fitted(space):
    X = np.array([space.parse(k).genes for k in EXPECTED["genomes"]])
    got = Surrogates().predict(features(space, X, BlockCosts(space)))
    assert set(got) == set(EXPECTED["predictions"])
    for target, want in EXPECTED["predictions"].items():
        np.testing.assert_allclose(got[target], want, rtol=2e-5, err_msg=target)


@needs_data("anb")
def test_refitting_a_surrogate_from_the_records_gives_the_expected_predictions(space):
    pytest.importorskip("sklearn")
    from evo_nas.studies.anb_surrogate import dataset, fit_target

    manifest = json.loads((ASSETS / "manifest.json").read_text())
    _, F, rec, split = dataset()
    m = manifest["models"]["latency_zcu102"]
    final = fit_target("latency_zcu102", F, rec, split, manifest["seed"],
                       (m["learning_rate"], m["max_iter"], m["max_leaf_nodes"]))[0]
    X = np.array([space.parse(k).genes for k in EXPECTED["genomes"]])
    pred = np.exp(final.predict(features(space, X, BlockCosts(space))))
    np.testing.assert_allclose(pred, EXPECTED["predictions"]["latency_zcu102"], rtol=1e-12)


def test_the_problem_scores_a_generation_offline_from_the_shipped_models(problem, monkeypatch, tmp_path):
    monkeypatch.setenv("EVO_NAS_DATA", str(tmp_path))            # no data anywhere: the default needs none
    p = make_problem({"problem": {"name": "anb"}})
    rng = np.random.default_rng(3)
    genomes = [p.space.sample(rng) for _ in range(64)]
    cols = p.evaluate_columns(np.array([g.genes for g in genomes]))
    assert set(cols) == {o.name for o in p.objectives} | {"source"}
    assert (cols["source"] == "surrogate").all()
    assert ((0.3 < cols["top1"]) & (cols["top1"] < 0.8)).all() and (cols["latency_ms"] > 0).all()
    recs = p.evaluate(genomes)
    assert [r["latency_ms"] for r in recs] == pytest.approx(cols["latency_ms"].tolist(), rel=1e-12)
    assert recs[0]["source"] == "surrogate" and recs[0]["status"] == "ok"
    assert p.fingerprint() == problem.fingerprint()
    vck = make_problem({"problem": {"name": "anb", "device": "vck190"}})
    assert vck.fingerprint() != p.fingerprint()
    assert not np.allclose(vck.evaluate_columns(np.array([g.genes for g in genomes]))["latency_ms"], cols["latency_ms"])


@pytest.mark.parametrize("section, message", [
    ({"device": "u250"}, "device"),
    ({"measured": "yes"}, "measured"),
    ({"latency_table": "x"}, "latency_table"),
    ({"data_dir": "somewhere"}, "data_dir is set but measured = false"),
])
def test_bad_problem_keys_are_one_line_errors(section, message):
    with pytest.raises(ValueError, match=message) as e:
        make_problem({"problem": {"name": "anb", **section}})
    assert "\n" not in str(e.value)


def test_measured_without_the_records_is_one_line_naming_the_file(monkeypatch, tmp_path):
    monkeypatch.setenv("EVO_NAS_DATA", str(tmp_path))
    monkeypatch.setenv("EVO_NAS_OFFLINE", "1")
    with pytest.raises(FileNotFoundError, match="anb_dataset_jsons.tar.gz") as e:
        make_problem({"problem": {"name": "anb", "measured": True}})
    assert "\n" not in str(e.value)


@needs_data("anb")
def test_measured_networks_get_their_records_and_the_others_the_surrogate():
    rec = records()
    p = make_problem({"problem": {"name": "anb", "measured": True}})
    complete = np.flatnonzero(~np.isnan(np.stack(list(rec.values.values()), 1)).any(1))[:20]
    null_tpu = np.flatnonzero(np.isnan(rec.values["throughput_tpuv3"]))[:3]
    unmeasured = p.space.parse(B0).genes                   # EfficientNet-B0 is not among the records
    assert not (rec.genes == unmeasured).all(1).any()
    X = np.vstack([rec.genes[complete], rec.genes[null_tpu], [unmeasured]])
    cols = p.evaluate_columns(X)
    n = len(complete)
    assert (cols["source"][:n] == "measured").all()
    assert (cols["source"][n:-1] == "measured+surrogate").all() and cols["source"][-1] == "surrogate"
    single = [i for i in complete if (rec.genes == rec.genes[i]).all(1).sum() == 1]
    at = [list(complete).index(i) for i in single]
    np.testing.assert_allclose(cols["top1"][at], rec.values["val_top1"][single] / 100, rtol=1e-12)
    np.testing.assert_allclose(cols["latency_ms"][at], rec.values["latency_zcu102"][single], rtol=1e-12)
    assert np.isfinite(cols["throughput_tpuv3"]).all()
    assert p.fingerprint() != make_problem({"problem": {"name": "anb"}}).fingerprint()


def test_a_tiny_search_ends_with_a_front_and_records_that_say_their_source(tmp_path):
    import evo_nas

    config = {"seed": 0, "problem": {"name": "anb"},
              "search": {"algorithm": "nsga2", "pop_size": 16, "generations": 3, "cache": False},
              "objectives": {"names": ["top1", "latency_ms"], "reference": {"top1": 0.4, "latency_ms": 25.0}}}
    r = evo_nas.search(config, tmp_path / "run")
    assert r.status == "done" and len(r.pareto) >= 2
    lines = (tmp_path / "run" / "evaluations.jsonl").read_text().splitlines()
    recs = [json.loads(x) for x in lines]
    assert len(recs) == r.n_evaluations and all(x["source"] == "surrogate" for x in recs)
    assert all(load_space("anb").parse(x["key"]).key == x["key"] for x in recs)


def test_the_quickstart_finds_a_large_front_spanning_the_latencies(tmp_path):
    from evo_nas.api import config_path
    from evo_nas.engine.runner import run_search
    from evo_nas.spaces.loader import read_toml

    config = read_toml(config_path("quickstart"), "config")
    assert config["problem"]["name"] == "anb" and config["search"]["pop_size"] == 100
    config["search"].update(generations=12, cache=False)
    r = run_search(config, tmp_path / "run", quiet=True)
    lat = [m["latency_ms"] for m in r.front]
    assert len(r.front) >= 20 and max(lat) >= 2 * min(lat)
