"""Issue 26: from a Pareto set to a device: choose one member, train it and keep its weights, export one ONNX
file (and INT8) with a card, re-measure it against its prediction and the run's limits."""
import json

import numpy as np
import pytest
import torch

from evo_nas.algorithms.objectives import Objectives
from evo_nas.cli import main
from evo_nas.deploy.choose import choose, knee_index, parse_limits
from evo_nas.deploy.trained import deploy_space, load_trained, transfer_genes
from evo_nas.deploy.verify import comparable, report_text, verify
from evo_nas.engine.run import RunDir
from evo_nas.engine.runner import run_search
from evo_nas.latency.machine import machine_info
from evo_nas.latency.protocol import Protocol
from evo_nas.spaces.loader import load_space

FAST = Protocol(warmup=1, repeats=3, rounds=2, max_attempts=1)
TRAIN = ["--steps", "2", "--batch-size", "8"]


def test_the_knee_is_the_corner_of_an_l_shaped_front():
    F = np.array([[0.0, 10.0], [0.5, 2.0], [1.0, 1.0], [4.0, 0.5], [10.0, 0.0]])
    i, d = knee_index(F)
    assert i == 2 and d > 0
    # scaling an objective does not move the knee (objectives are normalized)
    assert knee_index(F * np.array([1000.0, 0.001]))[0] == 2
    # a straight front has no knee below the line: the member nearest the ideal point
    assert knee_index(np.array([[0.0, 1.0], [0.5, 0.5], [1.0, 0.0]]))[1] == 0.0
    assert knee_index(np.array([[0.0, 1.0], [1.0, 0.0]]))[0] in (0, 1)
    # three objectives: the member far below the plane through the three extremes
    F3 = np.array([[0, 1, 1], [1, 0, 1], [1, 1, 0], [0.2, 0.2, 0.2], [0.6, 0.5, 0.5]], dtype=float)
    assert knee_index(F3)[0] == 3


def _records():
    rows = [(0.50, 1.0, 1.0), (0.60, 2.0, 3.0), (0.70, 3.0, 2.0), (0.72, 8.0, 6.0)]
    return [{"key": f"g{i}", "status": "ok", "top1": a, "latency_ms": lat, "params_m": p}
            for i, (a, lat, p) in enumerate(rows)]


def test_choose_best_under_limits_key_and_errors():
    obj = Objectives(("top1", "latency_ms"), maximize=frozenset({"top1"}))
    front = _records()
    assert choose(front, obj, best="top1", limits=parse_limits(["latency_ms=3"], "max")).record["key"] == "g2"
    both = parse_limits(["latency_ms=3", "params_m=2.5"], "max")
    assert choose(front, obj, best="top1", limits=both).record["key"] == "g2"
    assert choose(front, obj, best="top1", limits=parse_limits(["params_m=2.5"], "max")).record["key"] == "g2"
    assert choose(front, obj, best="latency_ms", limits=parse_limits(["top1=0.65"], "min")).record["key"] == "g2"
    assert choose(front, obj, key="g3").record["key"] == "g3"
    assert choose(front, obj, knee=True).how == "knee"
    with pytest.raises(ValueError, match=r"no Pareto member meets latency_ms <= 0.5 \(the set reaches latency_ms "
                                         r"lowest 1\)"):
        choose(front, obj, best="top1", limits=parse_limits(["latency_ms=0.5"], "max"))
    with pytest.raises(ValueError, match="exactly one of"):
        choose(front, obj, knee=True, best="top1")
    with pytest.raises(ValueError, match="'nope' is not an objective"):
        choose(front, obj, best="nope")
    with pytest.raises(ValueError, match="not among the run's evaluations"):
        choose(front, obj, key="g9", records=front)
    with pytest.raises(ValueError, match=r"--under 'latency_ms<20'"):
        parse_limits(["latency_ms<20"], "max")


@pytest.fixture(scope="module")
def anb_run(tmp_path_factory):
    """A small search of the quickstart's problem (Accel-NASBench's space: genomes such as e1k3l1-e6k3l2-...)."""
    cfg = {"seed": 0, "problem": {"name": "anb"}, "search": {"pop_size": 12, "generations": 2},
           "objectives": {"names": ["top1", "latency_ms"]}, "constraints": {"latency_ms": {"max": 6.0}}}
    path = tmp_path_factory.mktemp("anb") / "run"
    run_search(cfg, path, quiet=True)
    return RunDir(path)


def test_constraints_keep_the_pareto_set_feasible_and_reach_nsga2(anb_run):
    front = anb_run.pareto()
    assert front and all(r["latency_ms"] <= 6.0 for r in front)
    assert any(r["latency_ms"] > 6.0 for r in anb_run.evaluations() if r["status"] == "ok")
    obj = anb_run.objectives()
    assert obj.limits == (("latency_ms", "max", 6.0),) and obj.n_constr == 1
    assert obj.constraints({"status": "ok", "latency_ms": 7.5}).tolist() == [1.5]


def test_bad_constraints_are_one_line_errors(tmp_path, capsys):
    base = "seed = 0\n[problem]\nname = \"anb\"\n[search]\npop_size = 4\ngenerations = 1\n"
    for text, want in [("[constraints]\nlatency_ms = { max = 2.0, min = 3.0 }\n", "min = 3 is above max = 2"),
                       ("[constraints]\nlatncy_ms = { max = 2.0 }\n", "'latncy_ms' is not an objective"),
                       ("[constraints]\nlatency_ms = { below = 2.0 }\n", "below")]:
        cfg = tmp_path / "c.toml"
        cfg.write_text(base + text)
        assert main(["search", str(cfg), "--run-dir", str(tmp_path / "r"), "--quiet"]) == 2
        err = capsys.readouterr().err.strip()
        assert err.startswith("evo-nas search: error:") and want in err and "\n" not in err
        assert not (tmp_path / "r").exists()


def test_train_a_chosen_member_of_an_anb_run_and_keep_its_weights(anb_run, tmp_path, capsys):
    assert main(["train", str(anb_run.path), "--knee", *TRAIN, "--out", str(tmp_path / "w")]) == 0
    out = capsys.readouterr().out
    assert "chosen: knee" in out and "resolution 224 -> 28" in out
    t = load_trained(tmp_path / "w")
    assert t.record["network"]["resolution"] == 28 and t.record["network"]["num_classes"] == 10
    assert 0 <= t.record["test_acc"] <= 1 and t.record["training"]["steps"] == 2
    x = torch.randn(2, 1, 28, 28, generator=torch.Generator().manual_seed(0))
    with torch.no_grad():
        a = t.model(x)
        b = load_trained(tmp_path / "w").model(x)
    assert torch.equal(a, b)
    (tmp_path / "w" / "model.safetensors").write_bytes(b"x" + (tmp_path / "w" / "model.safetensors").read_bytes()[1:])
    with pytest.raises(ValueError, match="sha256 differs"):
        load_trained(tmp_path / "w")


def test_train_choosing_from_a_missing_or_non_run_directory_names_it(tmp_path, capsys):
    (tmp_path / "empty").mkdir()
    for where, want in [(tmp_path / "nope", f"run directory not found: {tmp_path / 'nope'} (--key, --knee"),
                        (tmp_path / "empty", f"{tmp_path / 'empty'} is not a run directory (no config.json)")]:
        assert main(["train", str(where), "--knee", *TRAIN]) == 2
        err = capsys.readouterr().err.strip()
        assert err.startswith("evo-nas train: error:") and want in err and "\n" not in err
    assert not (tmp_path / "nope").exists() and not any((tmp_path / "empty").iterdir())


def test_train_takes_the_quickstart_genomes_without_space(capsys):
    key = "e1k3l1-e6k3l2-e6k5l3se-e6k5l3-e6k3l3se-e6k5l4se-e6k5l3"
    assert main(["train", key, *TRAIN]) == 0
    captured = capsys.readouterr()
    assert json.loads(captured.out.splitlines()[0])["key"] == key and "space: anb" in captured.err


def test_spaces_built_for_the_data():
    from evo_nas.accuracy.data import load_dataset

    ds = load_dataset(None)
    ofa = load_space("ofa-mbv3")
    g = ofa.sample(np.random.default_rng(1))
    small, notes = deploy_space(ofa, ds)
    assert small.resolutions == (32,) and "resized from 28 to 32" in notes[0]
    genes = transfer_genes(g.genes, ofa, small)
    assert small.decode(genes).resolution == 32
    with pytest.raises(ValueError, match="space 'nb201'"):
        deploy_space(load_space("nb201"), ds)


def test_export_one_trained_network_with_int8_and_verify(anb_run, tmp_path, capsys):
    run = str(anb_run.path)
    assert main(["train", run, "--best", "top1", "--under", "latency_ms=5", *TRAIN]) == 0
    out = tmp_path / "export"
    assert main(["export", run, "--best", "top1", "--under", "latency_ms=5", "--int8", "dynamic", "--int8", "static",
                 "--out", str(out)]) == 0
    captured = capsys.readouterr()
    assert "RANDOM" not in captured.err
    names = sorted(p.name for p in out.iterdir())
    assert len([n for n in names if n.endswith(".onnx")]) == 3 and len([n for n in names if n.endswith(".json")]) == 1
    assert not [n for n in names if "acc" in n or "ms" in n]
    card = json.loads((out / [n for n in names if n.endswith(".json")][0]).read_text())
    assert card["weights"]["kind"] == "trained" and card["weights"]["steps"] == 2
    assert card["predicted"]["latency_ms"] <= 5 and card["chosen"]["how"] == "best"
    assert [f["precision"] for f in card["files"]] == ["fp32", "int8-dynamic", "int8-static"]
    assert all(0 <= f["test_acc"] <= 1 for f in card["files"])
    assert card["files"][0]["test_acc"] == card["weights"]["test_acc"]
    assert card["limits"] == [["latency_ms", "max", 6.0]]

    report = verify(out, protocol=FAST)
    net = report["networks"][0]
    assert not net["comparable"] and "zcu102" in net["why"]
    rows = net["rows"]
    assert [r["precision"] for r in rows] == ["fp32", "int8-dynamic", "int8-static"]
    assert all(r["measured_ms"] > 0 and r["iqr_ms"] >= 0 for r in rows) and "int8_flag" in rows[1]
    # the latency limit is checked on the prediction (another device), and says so
    assert rows[0]["limits"][0]["status"] == "met" and "predicted" in rows[0]["limits"][0]["source"]
    assert (out / "verify.json").is_file()
    # a limit broken: exit status 1, named
    assert main(["verify", str(out), "--max", "params_m=0.001", "--repeats", "2", "--rounds", "1", "--warmup", "1"]) == 1
    assert "BROKEN  params_m <= 0.001" in capsys.readouterr().out


def test_export_without_training_says_random_init_loudly(tmp_path, capsys):
    cfg = {"seed": 3, "space": {"name": "mnasnet", "resolution": 32, "num_classes": 10},
           "problem": {"name": "synthetic"}, "search": {"pop_size": 6, "generations": 2, "cache": False}}
    r = run_search(cfg, tmp_path / "run", quiet=True)
    assert main(["export", str(r.run_dir), "--knee"]) == 0
    assert "RANDOM INITIALISATION, NOT TRAINED" in capsys.readouterr().err
    cards = list((tmp_path / "run" / "export").glob("net-*.json"))
    assert len(cards) == 1 and len(list((tmp_path / "run" / "export").glob("*.onnx"))) == 1
    card = json.loads(cards[0].read_text())
    assert card["weights"]["kind"] == "random-init" and "NOT TRAINED" in card["weights"]["warning"]
    assert main(["export", str(r.run_dir), "--knee", "--int8", "static", "--overwrite"]) == 2
    assert "needs calibration images" in capsys.readouterr().err
    assert main(["export", str(r.run_dir), "--knee", "--int8", "dynamic", "--overwrite"]) == 0
    card = json.loads(cards[0].read_text())
    assert main(["export", str(r.run_dir)]) == 2
    assert "exactly one of" in capsys.readouterr().err

    # a prediction of the same network, runtime and machine is compared with the measurement
    card["latency_prediction"].update(same_network=True, runtime="onnxruntime", threads=1,
                                      device_id=machine_info()["id"])
    assert comparable(card, 1) == (True, "")
    card["predicted"]["latency_ms"] = 1e-6
    cards[0].write_text(json.dumps(card))
    report = verify(tmp_path / "run" / "export", protocol=FAST, extra_limits=[["latency_ms", "max", 1e-6]])
    row, int8 = report["networks"][0]["rows"]
    assert row["predicted_ms"] == 1e-6 and row["error_pct"] < -99
    # error bars from the repeated runs: the prediction lies outside the measured p10-p90
    assert row["p10_ms"] <= row["measured_ms"] <= row["p90_ms"] and row["predicted_in_p10_p90"] is False
    text = report_text(report)
    assert f"p10-p90 {row['p10_ms']:.3f}-{row['p90_ms']:.3f}" in text and "(outside p10-p90)" in text
    assert row["limits"][0]["status"] == "BROKEN" and row["limits"][0]["source"] == "measured here"
    # the INT8 file is held to the limit on its own measurement, not on the FP32 prediction
    assert int8["limits"][0]["source"] == "measured here" and int8["limits"][0]["value"] == int8["measured_ms"]
    assert "predicted_ms" not in int8 and int8["speedup_vs_fp32"] > 0
    assert len(report["broken"]) == 2


@pytest.mark.parametrize("algorithm", ["nsga2", "random", "aging"])
def test_every_strategy_reports_feasible_members_only(tmp_path, algorithm):
    import evo_nas

    search = {"algorithm": algorithm, "max_evaluations": 40, "cache": False}
    if algorithm == "nsga2":
        search = {"algorithm": "nsga2", "pop_size": 10, "generations": 4, "cache": False}
    if algorithm == "aging":
        search["aging"] = {"population": 10, "sample": 5}
        search["reward"] = {"target_ms": 3.0}
    cfg = {"seed": 1, "space": {"name": "mnasnet", "resolution": 32, "num_classes": 10},
           "problem": {"name": "synthetic"}, "search": search}
    free = evo_nas.search(cfg, tmp_path / "free")
    cap = sorted(r["params_m"] for r in free.pareto)[len(free.pareto) // 2]
    limited = evo_nas.search(cfg, tmp_path / "limited", constraints={"params_m": {"max": cap}})
    assert limited.pareto and all(r["params_m"] <= cap for r in limited.pareto)
    assert any(r["params_m"] > cap for r in free.pareto)
    assert json.loads((tmp_path / "limited" / "config.json").read_text())["constraints"] == {"params_m": {"max": cap}}
