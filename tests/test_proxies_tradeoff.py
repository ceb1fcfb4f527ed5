"""The trade-off study: tau with latency, the random sample's front, seed noise, the choices behind accuracy."""
import numpy as np
import pytest

from evo_nas.latency.devices import DEVICES, register_device
from evo_nas.spaces.loader import read_toml
from evo_nas.studies.proxy_tradeoff import front_size, summarize, tradeoff_study


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


@pytest.mark.parametrize("section, line", [
    ({"genomes": 3}, "[tradeoff] genomes = 3 must be an int >= 4"),
    ({"genomes": 4.0}, "[tradeoff] genomes = 4.0 must be an int >= 4"),
    ({"seeds": [1, 1]}, "[tradeoff] seeds = [1, 1] must be a non-empty list of distinct non-negative ints (proxy seeds)"),
    ({"seeds": [-1]}, "[tradeoff] seeds = [-1] must be a non-empty list of distinct non-negative ints (proxy seeds)"),
    ({"seeds": []}, "[tradeoff] seeds = [] must be a non-empty list of distinct non-negative ints (proxy seeds)"),
    ({"sample_seed": -1}, "[tradeoff] sample_seed = -1 must be a non-negative int (the seed of the random genomes)"),
    ({"n_jobs": -2}, "[tradeoff] n_jobs = -2 must be an int in [1, 512] or -1"),
    ({"backend": "mpi"}, "[tradeoff] backend = 'mpi' must be one of loky, threading, sequential, dask"),
    ({"top": -1}, "[tradeoff] top = -1 must be a non-negative int (choices listed)"),
    ({"proxies": []}, "[tradeoff] proxies = [] must be a non-empty list of proxy tables"),
    ({"proxies": None}, "[tradeoff] proxies = None must be a non-empty list of proxy tables"),
    ({"proxies": [{"kind": "synflow"}]}, "[tradeoff] proxies: kind = 'synflow' must be 'train' (the study needs val_acc)"),
    ({"genomez": 8}, "[tradeoff] unknown key 'genomez' (did you mean 'genomes'?)"),
])
def test_a_bad_tradeoff_section_is_one_line_naming_key_and_value(section, line):
    config = {"data": {"name": "mnist-subset"}, "latency": {"mode": "table"},
              "tradeoff": {"proxies": [{"steps": 2}], **section}}
    with pytest.raises(ValueError) as e:
        tradeoff_study(config)
    assert str(e.value) == line


def test_proxies_are_required():
    with pytest.raises(ValueError) as e:
        tradeoff_study({"data": {"name": "mnist-subset"}, "latency": {"mode": "table"}, "tradeoff": {}})
    assert str(e.value) == "[tradeoff] proxies = None must be a non-empty list of proxy tables"


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

    from evo_nas.accuracy.evaluate import EvalConfig
    from evo_nas.base.errors import validate
    from evo_nas.studies.proxy_tradeoff import TradeoffKeys

    config = read_toml(Path(__file__).parents[1] / "experiments" / "tradeoff.toml", "config")
    keys = validate(TradeoffKeys, config["tradeoff"], "tradeoff")
    assert (keys.genomes, keys.sample_seed, keys.seeds, keys.n_jobs, keys.top) == (40, 123, [0, 1], 2, 6)
    for p in keys.proxies:
        EvalConfig.from_dict({"data": config["data"], "proxy": p})


def test_the_tradeoff_defaults():
    from evo_nas.base.errors import validate
    from evo_nas.studies.proxy_tradeoff import TradeoffKeys

    keys = validate(TradeoffKeys, {"proxies": [{"steps": 2}]}, "tradeoff")
    assert keys.model_dump() == {"genomes": 40, "sample_seed": 0, "seeds": [0], "n_jobs": 1, "backend": "loky",
                                 "top": 6, "proxies": [{"steps": 2}]}
