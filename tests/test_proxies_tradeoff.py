"""The trade-off study: tau with latency, the random sample's front, seed noise, the choices behind accuracy."""
import numpy as np
import pytest

from evo_nas.latency.devices import DEVICES, register_device
from evo_nas.spacefiles import read_toml
from studies.proxy_tradeoff import front_size, summarize, tradeoff_study


def test_front_size_counts_non_dominated_points_once():
    assert front_size([0.9, 0.8, 0.7], [3.0, 2.0, 1.0]) == 3          # a clean trade-off: all on the front
    assert front_size([0.9, 0.8, 0.7], [1.0, 2.0, 3.0]) == 1          # the fastest is also the best
    assert front_size([0.9, 0.9, 0.5], [1.0, 1.0, 0.5]) == 2          # equal points count once
    assert front_size([], []) == 0


def _study(keys, genes, latency, accs_by_seed):
    records = [{"name": "p", "seed": s, "key": k, "val_acc": a, "eval_s": 1.0, "status": "ok"}
               for s, accs in accs_by_seed.items() for k, a in zip(keys, accs)]
    return {"genomes": keys, "genes": genes, "latency_ms": dict(zip(keys, latency)), "latency": {"source": "predicted"},
            "names": ["p"], "seeds": list(accs_by_seed), "records": records, "wall_s": 1.0, "n_jobs": 1, "top": 3,
            "space": "mnasnet"}


def test_summary_reports_sign_front_and_seed_noise(mnasnet):
    rng = np.random.default_rng(0)
    genomes = [mnasnet.sample(rng) for _ in range(8)]
    keys, genes = [g.key for g in genomes], [list(g.genes) for g in genomes]
    lat = np.arange(1.0, 9.0)
    rising = {0: list(lat / 10), 1: list(lat / 10 + 0.01)}
    row = summarize(_study(keys, genes, lat, rising), mnasnet)["rows"][0]
    assert row["tau_acc_latency"] == {0: pytest.approx(1.0), 1: pytest.approx(1.0)}
    assert row["front_random"] == {0: 8, 1: 8} and row["seed_to_seed_tau"] == pytest.approx(1.0)
    falling = {0: list(-lat / 10)}
    summary = summarize(_study(keys, genes, lat, falling), mnasnet)
    row = summary["rows"][0]
    assert row["tau_acc_latency"][0] == pytest.approx(-1.0) and row["front_random"] == {0: 1}
    assert row["seed_to_seed_tau"] is None
    assert 0 < len(summary["drivers"]) <= 3
    assert all(d["choice"].split(" = ")[0] in {"op", "kernel", "se_ratio", "skip", "filters", "layers"}
               for d in summary["drivers"])


@pytest.mark.parametrize("section, message", [
    ({"genomes": 3}, "genomes = 3"),
    ({"seeds": [1, 1]}, "seeds = [1, 1]"),
    ({"proxies": []}, "proxies = []"),
    ({"proxies": [{"kind": "synflow"}]}, "kind = 'synflow'"),
    ({"genomez": 8}, "unknown key 'genomez'"),
])
def test_bad_study_config_names_the_value(section, message):
    config = {"data": {"name": "mnist-subset"}, "latency": {"mode": "table"},
              "tradeoff": {"proxies": [{"steps": 2}], **section}}
    with pytest.raises(ValueError, match=message.replace("[", r"\[").replace("]", r"\]")):
        tradeoff_study(config)


def test_the_study_needs_a_latency_model():
    with pytest.raises(ValueError, match=r"\[latency\] is required"):
        tradeoff_study({"data": {"name": "mnist-subset"}, "tradeoff": {"proxies": [{"steps": 2}]}})


class _LayerCount:
    safe_in_pool = True

    def latency_ms(self, arch):
        return 0.1 * len(arch.layers())

    def fingerprint(self):
        return "layer-count"

    def describe(self):
        return {"source": "predicted"}


@pytest.fixture
def layer_count_device():
    register_device("test-layer-count")(lambda section, space: _LayerCount())
    yield
    DEVICES.pop("test-layer-count")


def test_a_real_study_is_the_same_on_one_or_two_workers(layer_count_device):
    def config(n_jobs):
        return {"data": {"name": "mnist-subset", "val_size": 100}, "latency": {"mode": "test-layer-count"},
                "tradeoff": {"genomes": 5, "seeds": [0, 1], "n_jobs": n_jobs,
                             "proxies": [{"steps": 2, "batch_size": 8, "width_multiplier": 0.25, "bn_calibration": 16}]}}

    one, two = tradeoff_study(config(1)), tradeoff_study(config(2))
    assert one["genomes"] == two["genomes"] and one["latency_ms"] == two["latency_ms"]
    strip = [{k: r[k] for k in ("name", "seed", "key", "val_acc", "status")} for r in one["records"]]
    assert strip == [{k: r[k] for k in ("name", "seed", "key", "val_acc", "status")} for r in two["records"]]
    assert all(r["status"] == "ok" for r in one["records"]) and len(one["records"]) == 10
    row = summarize(one)["rows"][0]
    assert set(row["front_random"]) == {0, 1} and row["failed"] == 0


def test_the_shipped_study_config_is_valid():
    from pathlib import Path

    from evo_nas.evaluate import EvalConfig
    from studies.proxy_tradeoff import _settings

    config = read_toml(Path(__file__).parents[1] / "experiments" / "tradeoff.toml", "config")
    _settings(config["tradeoff"])
    for p in config["tradeoff"]["proxies"]:
        EvalConfig.from_dict({"data": config["data"], "proxy": p})
