"""This machine as a latency device for the Once-for-All space: the table's layers at every
resolution, filled on demand, a fit per resolution, and the device chosen by name."""
import itertools

import numpy as np
import pytest
from test_latency_table import FakeRuntime
from test_problems_ofa import small_space

from evo_nas.latency.devices import TableLatency
from evo_nas.latency.measure import RUNTIMES, Protocol
from evo_nas.latency.table import LatencyTable, build_network, space_layers
from evo_nas.problems import make_problem
from evo_nas.spaces.loader import load_space

from conftest import needs_data


def slice_space():
    return small_space(resolutions=(64, 96))


def test_the_tables_layers_are_every_layer_of_every_genome():
    space = slice_space()
    seen = set()
    for genes in itertools.product(*(range(c) for c in space.cardinalities)):
        seen |= {s.key() for s in space.decode(genes).layers()}
    assert set(space_layers(space)) == seen
    assert len(space_layers(load_space("ofa-mbv3"))) == 437


def test_a_table_fills_on_demand_and_fits_each_resolution(tmp_path):
    space = slice_space()
    rt = FakeRuntime()
    model = TableLatency(LatencyTable.new(space, rt, Protocol(), tmp_path / "t.json"), space, fill=True,
                         runtime=rt, protocol=Protocol(), calibration=8)
    assert model.safe_in_pool is False
    rng = np.random.default_rng(0)
    genomes = [space.sample(rng) for _ in range(6)]
    preds = [model.latency_ms(g) for g in genomes]
    calib = model.table.calibration
    assert set(calib["by_resolution"]) == {"64", "96"}
    truth = [rt.measure(build_network(g.architecture()), (1,)).median_ms for g in genomes]
    np.testing.assert_allclose(preds, truth, rtol=1e-6)
    assert all(k in model.table.entries for g in genomes for k in (s.key() for s in g.architecture().layers()))


@pytest.fixture
def fake_runtime(monkeypatch):
    monkeypatch.setitem(RUNTIMES, "fake", FakeRuntime)


@needs_data("ofa")
def test_the_problem_chooses_note10_or_this_machine_by_name(tmp_path, fake_runtime):
    from evo_nas.engine.runner import run_search

    note10 = make_problem({"problem": {"name": "ofa-mbv3"}})
    here = make_problem({"problem": {"name": "ofa-mbv3", "device": "this-machine"},
                         "latency": {"mode": "table", "runtime": "fake", "fill": True, "table": str(tmp_path / "here.json")}})
    assert note10.latency_model() is None and here.latency_model() is not None
    assert note10.fingerprint() != here.fingerprint()
    assert here.describe()["latency"]["source"] == "predicted" and "note10" in str(note10.describe()["latency"])
    with pytest.raises(ValueError, match="device = 'pixel1'"):
        make_problem({"problem": {"name": "ofa-mbv3", "device": "pixel1"}})
    with pytest.raises(ValueError, match="device = \"this-machine\""):
        make_problem({"problem": {"name": "ofa-mbv3"}, "latency": {"mode": "table"}})
    config = {"seed": 1, "problem": {"name": "ofa-mbv3", "device": "this-machine"},
              "latency": {"mode": "table", "runtime": "fake", "fill": True, "table": str(tmp_path / "run.json"),
                          "calibration": 10},
              "search": {"pop_size": 4, "generations": 2},
              "objectives": {"reference": {"top1": 0.70, "latency_ms": 1000.0}}}
    r = run_search(config, tmp_path / "run", quiet=True)
    assert r.evaluations == 8 and r.failures == 0 and r.front
    assert all(m["latency_source"] == "predicted" and m["latency_ms"] > 0 for m in r.front)
    assert LatencyTable.load(tmp_path / "run.json").calibration["by_resolution"]


def test_a_refit_refits_the_offset_of_each_resolution(tmp_path):
    from evo_nas.latency.table import calibrate, calibration_genomes, refit

    space = slice_space()
    rt = FakeRuntime()
    table = LatencyTable.new(space, rt, Protocol(), tmp_path / "t.json")
    calibrate(table, calibration_genomes(space, 8, 0), rt, Protocol(), "offset+per_layer")
    other = refit(table.calibration, "offset")
    assert other["per_layer_ms"] == 0.0 and set(other["by_resolution"]) == {"64", "96"}
    assert all(c["per_layer_ms"] == 0.0 for c in other["by_resolution"].values())
    assert other["by_resolution"] != table.calibration["by_resolution"]


def test_the_default_calibration_gives_each_resolution_eight_networks():
    from evo_nas.latency.table import default_calibration

    assert default_calibration(load_space("ofa-mbv3")) == 40
    assert default_calibration(slice_space()) == 20
