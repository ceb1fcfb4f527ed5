"""evaluate() and EvalConfig: the record contract, seeding by (seed, key), fingerprints, latency, the train command."""
import json
import pickle

import numpy as np
import pytest

from evo_nas.accuracy.evaluate import EvalConfig, derive_seed, evaluate
from evo_nas.cli import main

CONTRACT = {"key", "val_acc", "latency_ms", "params_m", "macs_m", "train_s", "status", "error", "proxy"}


@pytest.fixture(scope="module")
def tiny(tmp_path_factory):
    rng = np.random.default_rng(0)
    y = np.arange(60) % 3
    x = rng.integers(0, 256, (60, 12, 12, 2), dtype=np.uint8)
    path = tmp_path_factory.mktemp("tiny") / "tiny.npz"
    np.savez(path, x_train=x[:48], y_train=y[:48], x_test=x[48:], y_test=y[48:])
    return path


def cfg_for(tiny, seed=0, proxy=None, **data):
    return EvalConfig.from_dict({"seed": seed, "data": {"path": str(tiny), "val_size": 12, **data},
                                 "proxy": proxy or {"steps": 2, "batch_size": 8, "width_multiplier": 0.35}})


class FakeLatency:
    def __init__(self, safe):
        self.safe_in_pool = safe

    def latency_ms(self, arch):
        return 1.5 * len(arch.layers())

    def fingerprint(self):
        return f"fake-{self.safe_in_pool}"

    def describe(self):
        return {"source": "predicted" if self.safe_in_pool else "measured"}


def test_space_takes_resolution_channels_and_classes_from_the_dataset(tiny):
    cfg = cfg_for(tiny)
    space = cfg.space()
    assert (space.resolution, space.in_channels, space.num_classes) == (12, 2, 3)
    assert cfg.proxy_space().width_multiplier == 0.35 and cfg.proxy_space().resolution == 12
    default = EvalConfig.from_dict({})
    assert (default.space().resolution, default.space().in_channels, default.space().num_classes) == (28, 1, 10)


def test_space_resolution_may_differ_from_the_images(tiny):
    cfg = EvalConfig.from_dict({"space": {"resolution": 24}, "data": {"path": str(tiny), "val_size": 12},
                                "proxy": {"steps": 2, "batch_size": 8, "resolution": 12}})
    assert cfg.space().resolution == 24 and cfg.proxy_space().resolution == 12
    assert tuple(cfg.proxy_data().x_train.shape[1:]) == (2, 12, 12)
    assert cfg.fingerprint() != cfg_for(tiny, proxy={"steps": 2, "batch_size": 8, "resolution": 12}).fingerprint()
    rec = evaluate(cfg.space().sample(np.random.default_rng(0)), cfg)
    assert rec["status"] == "ok", rec["error"]


def test_record_contract_and_order_independence(tiny):
    cfg = cfg_for(tiny)
    g1, g2 = (cfg.space().sample(np.random.default_rng(i)) for i in range(2))
    a1, a2 = evaluate(g1, cfg), evaluate(g2, cfg)
    b2, b1 = evaluate(g2, cfg_for(tiny)), evaluate(g1, pickle.loads(pickle.dumps(cfg)))
    for rec in (a1, a2):
        assert CONTRACT <= set(rec) and rec["status"] == "ok" and rec["error"] is None
        assert 0 <= rec["val_acc"] <= 1 and rec["latency_ms"] is None and rec["proxy"] == "train"
        assert rec["params_m"] > 0 and rec["macs_m"] > 0
        json.dumps(rec)
    assert a1["key"] == g1.key and a2["key"] == g2.key
    assert a1["val_acc"] == b1["val_acc"] and a2["val_acc"] == b2["val_acc"]
    assert derive_seed(0, g1.key) != derive_seed(1, g1.key) != derive_seed(0, g2.key)


def test_params_and_macs_are_of_the_target_model_not_the_proxy(tiny):
    from evo_nas.spaces.costs import count

    cfg = cfg_for(tiny)
    g = cfg.space().sample(np.random.default_rng(5))
    rec = evaluate(g, cfg)
    assert rec["params_m"] == count(cfg.space().decode(g.genes)).params / 1e6


def test_latency_from_a_safe_model_and_none_from_a_measuring_one(tiny):
    g = cfg_for(tiny).space().sample(np.random.default_rng(0))
    prints = set()
    for safe in (True, False):
        cfg = EvalConfig.from_dict({"data": {"path": str(tiny), "val_size": 12}, "latency": {"mode": "fake"},
                                    "proxy": {"kind": "synflow"}})
        cfg._memo["latency"] = FakeLatency(safe)
        rec = evaluate(g, cfg)
        assert rec["status"] == "ok", rec["error"]
        assert rec["latency_source"] == ("predicted" if safe else "measured")
        assert rec["latency_ms"] == (1.5 * len(g.architecture().layers()) if safe else None)
        assert cfg.describe()["latency"]["source"] == rec["latency_source"]
        prints.add(cfg.fingerprint())
    assert len(prints) == 2  # the latency model's fingerprint is part of the evaluation's


def test_fingerprint_tracks_what_changes_results(tiny):
    base = cfg_for(tiny).fingerprint()
    assert base == cfg_for(tiny).fingerprint()
    assert base != cfg_for(tiny, seed=1).fingerprint()
    assert base != cfg_for(tiny, proxy={"steps": 3, "batch_size": 8, "width_multiplier": 0.35}).fingerprint()
    assert base != cfg_for(tiny, val_size=10).fingerprint()
    assert base != cfg_for(tiny, split_seed=1).fingerprint()


@pytest.mark.parametrize("config,message", [
    ({"seed": -1}, "seed = -1"),
    ({"seed": "0"}, "seed = '0'"),
    ({"space": {"nme": "mnasnet"}}, "unknown key 'nme'"),
    ({"space": {"name": "a", "file": "b.toml"}}, "name or file"),
    ({"space": {"width_multiplier": 0}}, "width_multiplier = 0"),
    ({"space": {"resolution": 4}}, "resolution = 4"),
    ({"proxy": {"kind": "bogus"}}, "kind = 'bogus'"),
    ({"data": {"format": "tfrecord", "path": "x"}}, "format = 'tfrecord'"),
    ({"data": 3}, r"\[data\] must be a table"),
])
def test_bad_configs_name_the_value(config, message):
    with pytest.raises(ValueError, match=message):
        EvalConfig.from_dict(config)


def test_unknown_space_name_is_an_error_on_first_use():
    cfg = EvalConfig.from_dict({"space": {"name": "no-such-space"}})
    with pytest.raises(FileNotFoundError, match="no-such-space"):
        cfg.space()


def test_train_command_reports_test_accuracy(tiny, tmp_path, capsys):
    out = tmp_path / "rec.json"
    g = cfg_for(tiny).space().sample(np.random.default_rng(3))
    rc = main(["train", ",".join(map(str, g.genes)), "--data", str(tiny), "--steps", "2", "--batch-size", "8",
               "--out", str(out)])
    assert rc == 0
    line = capsys.readouterr().out.splitlines()[0]
    rec = json.loads(line)
    assert rec == json.loads(out.read_text())
    assert rec["key"] == g.key and 0 <= rec["test_acc"] <= 1 and rec["test_images"] == 12
    assert rec["train_images"] == 48 - 9  # default val_size = min(1000, n // 5) and rec["steps"] == 2


def test_train_command_errors_are_one_line(tiny, capsys):
    assert main(["train", "mobilenetv2", "--data", str(tiny) + ".nope", "--format", "npz", "--steps", "1"]) == 2
    err = capsys.readouterr().err.strip()
    assert err.startswith("evo-nas train: error:") and "nope" in err and len(err.splitlines()) == 1
    assert main(["train", "ir_r9_k3", "--data", str(tiny), "--steps", "1"]) == 2
    assert "error" in capsys.readouterr().err
