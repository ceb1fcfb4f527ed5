"""Tables that know when they are wrong: the machine's state recorded while a table is built, the stability
rule, ``evo-nas latency check`` (drift against the table) and a ``--rebuild`` that rebuilds."""
import json

import numpy as np
import pytest
from test_latency_table import TINY, FakeRuntime

from evo_nas.cli import main
from evo_nas.latency import LatencyTable, Protocol, TableLatency, build_table, stability
from evo_nas.latency.check import check_table
from evo_nas.latency.measure import Measurement
from evo_nas.latency.protocol import measure, summarize_tails
from evo_nas.latency.table import rebuild_path
from evo_nas.spaces.loader import load_space

QUIET = {"load_1m": 0.9, "cpu_mhz": 2600.0, "governor": None}
BUSY = {"load_1m": 7.5, "cpu_mhz": 2600.0, "governor": None}


@pytest.fixture
def tiny(tmp_path):
    p = tmp_path / "tiny.toml"
    p.write_text(TINY)
    return load_space(p)


@pytest.fixture
def machine(monkeypatch):
    """Set the machine state the build records: ``machine["state"] = BUSY``."""
    box = {"state": QUIET}
    monkeypatch.setattr(stability, "machine_state", lambda: dict(box["state"]))
    return box


def header(states, threads=1, cores=2, runtime="onnxruntime"):
    return {"threads": threads, "runtime": runtime, "device": {"cores": cores}, "protocol": {"max_cv": 0.05},
            "machine_states": [{"phase": "layers", **s} for s in states]}


def entries(n=20, cv=0.01, tail=0.05):
    return {f"l{i}": {"ms": 1.0, "cv": cv, "p90_ms": 1.0 + tail} for i in range(n)}


def test_the_rule_passes_a_quiet_build_and_names_each_broken_rule():
    assert stability.judge(header([QUIET, QUIET]), entries()) == []
    load = stability.judge(header([QUIET, BUSY]), entries())
    assert len(load) == 1 and load[0].startswith("load:") and "7.50 on 2 cores" in load[0]
    # a load of 2.5 on 4 cores with one measuring thread leaves the other cores free enough
    assert stability.judge(header([{**QUIET, "load_1m": 2.5}], cores=4), entries()) == []
    clock = stability.judge(header([QUIET, {**QUIET, "cpu_mhz": 1800.0}]), entries())
    assert clock and clock[0].startswith("clock:")
    spread = stability.judge(header([QUIET]), entries(cv=0.2))
    assert spread and spread[0].startswith("spread:") and "100% of 20 layers" in spread[0]
    tail = stability.judge(header([QUIET]), entries(tail=0.5))
    assert tail and "p90" in tail[0]
    calib = stability.judge(header([QUIET]), entries(), {"passes_ms": [[1.0, 2.0], [1.5, 3.0], [1.0, 2.0]]})
    assert calib and calib[0].startswith("calibration:")
    # a competing process hits some networks and spares others: 2 of 10 disturbed by 60% are caught,
    # though the median network saw no spread at all; 10% everywhere is quiet-machine noise
    hit = np.ones((3, 10))
    hit[1, :2] = 1.6
    assert stability.pass_spread(hit) > stability.MAX_PASS_SPREAD and np.median(stability.network_spreads(hit)) == 0
    assert stability.judge(header([QUIET]), entries(), {"passes_ms": hit.tolist()})[0].startswith("calibration:")
    assert stability.judge(header([QUIET]), entries(), {"passes_ms": (hit * 0 + [[1.0], [1.1], [1.0]]).tolist()}) == []
    # a table measured on another device through a command: this machine's load says nothing about it
    assert stability.judge(header([BUSY], runtime="command"), entries()) == []


def test_measurements_keep_p90_and_p99_beside_the_median():
    med, iqr, cv, p90, p99, p10 = summarize_tails([[1.0] * 9 + [3.0], [1.0] * 9 + [5.0]])
    assert med == 1.0 and p10 == 1.0 and p90 == pytest.approx(1.2) and 3.0 < p99 < 5.0
    t = iter(np.cumsum([0.0] + [0.001, 0.0] * 200))
    m = measure(lambda: None, Protocol(warmup=0, repeats=5, rounds=2), clock=lambda: next(t))
    assert m.p90_ms == pytest.approx(1.0) and m.p99_ms == pytest.approx(1.0) and m.median_ms == pytest.approx(1.0)


def test_a_build_records_the_machine_and_flags_a_busy_one(tiny, tmp_path, machine):
    t = build_table(tiny, FakeRuntime(), Protocol(), tmp_path / "q.json", progress=False, calibration=4)
    assert t.header["unstable"] == [] and {s["phase"] for s in t.header["machine_states"]} == {"layers",
                                                                                               "calibration"}
    assert len(t.calibration["passes_ms"]) == 3 and len(t.calibration["passes_ms"][0]) == 4
    machine["state"] = BUSY
    busy = build_table(tiny, FakeRuntime(), Protocol(), tmp_path / "b.json", progress=False, calibration=4)
    assert busy.header["unstable"] and busy.header["unstable"][0].startswith("load:")
    saved = json.loads((tmp_path / "b.json").read_text())["header"]
    assert saved["unstable"] == busy.header["unstable"] and saved["machine_states"][0]["load_1m"] == 7.5
    with pytest.warns(UserWarning, match="not quiet"):
        TableLatency(LatencyTable.load(tmp_path / "b.json"), tiny)


def _cli_args(tiny_file, table):
    return ["--space", str(tiny_file), "--table", str(table), "--runtime", "onnxruntime", "--warmup", "0",
            "--repeats", "1", "--rounds", "1", "--calibration", "3", "--no-progress"]


def test_build_table_on_a_busy_machine_warns_and_exits_3(tmp_path, machine, capsys):
    (tmp_path / "tiny.toml").write_text(TINY)
    machine["state"] = BUSY
    args = _cli_args(tmp_path / "tiny.toml", tmp_path / "t.json")
    assert main(["latency", "build-table", *args]) == 3
    err = capsys.readouterr().err
    assert "WARNING: latency table" in err and "load average reached 7.50" in err and "--rebuild" in err
    assert main(["latency", "build-table", *args, "--allow-unstable"]) == 0


def test_rebuild_measures_again_and_replaces_the_table_only_when_complete(tiny, tmp_path, machine):
    path = tmp_path / "t.json"
    build_table(tiny, FakeRuntime(), Protocol(), path, progress=False, calibration=4)
    d = json.loads(path.read_text())
    for e in d["entries"].values():
        e["ms"] = 999.0
    d["calibration"]["offset_ms"] = 1000.0
    path.write_text(json.dumps(d))
    # without --rebuild a complete table is left as it is (what made rebuilding look like a no-op)
    rt = FakeRuntime()
    same = build_table(tiny, rt, Protocol(), path, progress=False, calibration=4)
    assert rt.calls == [] and same.calibration["offset_ms"] == 1000.0
    recal = build_table(tiny, FakeRuntime(), Protocol(), path, progress=False, calibration=4, recalibrate=True)
    assert all(e["ms"] == 999.0 for e in recal.entries.values()) and recal.calibration["offset_ms"] != 1000.0
    rt = FakeRuntime()
    new = build_table(tiny, rt, Protocol(), path, progress=False, calibration=4, rebuild=True)
    assert "Layer" in rt.calls and "Network" in rt.calls and new.path == path
    fresh = LatencyTable.load(path)
    assert all(e["ms"] < 999.0 for e in fresh.entries.values()) and abs(fresh.calibration["offset_ms"]) < 1.0
    assert not rebuild_path(path).exists()


def test_an_interrupted_rebuild_leaves_the_old_table(tiny, tmp_path, machine):
    path = tmp_path / "t.json"
    build_table(tiny, FakeRuntime(), Protocol(), path, progress=False, calibration=4)
    before = path.read_text()
    build_table(tiny, FakeRuntime(), Protocol(), path, progress=False, calibration=4, rebuild=True, limit=3)
    assert path.read_text() == before and rebuild_path(path).exists()


class DriftedRuntime(FakeRuntime):
    """The fake device, every network now ``extra_ms`` slower (another load, another version...)."""

    def __init__(self, extra_ms):
        super().__init__()
        self.extra_ms = extra_ms

    def measure(self, module, input_shape, protocol=Protocol()):
        m = super().measure(module, input_shape, protocol)
        return Measurement(m.median_ms + self.extra_ms, 0.0, 0.0, m.samples, 1, True)


def test_check_reports_predicted_against_measured_and_the_drift(tiny, tmp_path, machine):
    t = build_table(tiny, FakeRuntime(), Protocol(), tmp_path / "t.json", progress=False, calibration=4)
    ok = check_table(t, tiny, FakeRuntime(), Protocol(), n=4, seed=1, passes=2, progress=False)
    assert ok["ok"] and abs(ok["drift_pct"]) < 1e-6 and len(ok["networks"]) == 4
    assert all(r["low_ms"] <= r["measured_ms"] <= r["high_ms"] for r in ok["networks"])
    again = check_table(t, tiny, FakeRuntime(), Protocol(), n=4, seed=1, passes=2, progress=False)
    assert [r["key"] for r in again["networks"]] == [r["key"] for r in ok["networks"]]
    slow = check_table(t, tiny, DriftedRuntime(5.0), Protocol(), n=4, seed=1, passes=2, progress=False)
    assert not slow["ok"] and slow["drift_pct"] < -50 and all(r["error_pct"] < 0 for r in slow["networks"])


def test_cli_check_prints_each_network_and_exits_3_on_drift(tmp_path, machine, capsys):
    (tmp_path / "tiny.toml").write_text(TINY)
    args = _cli_args(tmp_path / "tiny.toml", tmp_path / "t.json")
    assert main(["latency", "build-table", *args, "--allow-unstable"]) == 0
    capsys.readouterr()
    rc = main(["latency", "check", *args, "--networks", "3", "--passes", "1"])
    out, err = capsys.readouterr()
    assert rc in (0, 3) and out.count(" ms") + out.count("ms ") >= 3 and "Kendall tau" in out
    d = json.loads((tmp_path / "t.json").read_text())
    d["calibration"]["offset_ms"] += 1000.0
    for c in d["calibration"].get("by_resolution", {}).values():
        c["offset_ms"] += 1000.0
    (tmp_path / "t.json").write_text(json.dumps(d))
    assert main(["latency", "check", *args, "--networks", "3", "--passes", "1"]) == 3
    err = capsys.readouterr().err
    assert "DRIFT" in err and "--recalibrate" in err and "--rebuild" in err
