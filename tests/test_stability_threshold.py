"""The stability-threshold study (issue 26): busy workers that always stop, the study's structure and verdicts
with a fake runtime, and the suggested limit on synthetic numbers. Nothing here times a real network
except the slow tests."""
import json
import multiprocessing
import os
import re
import subprocess
import sys
import time

import numpy as np

import pytest
from test_latency_table import TINY, FakeRuntime

from evo_nas.latency import Protocol, stability
from evo_nas.latency.measure import Measurement
from evo_nas.spaces.loader import load_space
from evo_nas.studies import stability_threshold as st
from evo_nas.studies.busy_load import BUSY_NAME, busy_load, wait_for_load

QUIET = {"load_1m": 0.4, "cpu_mhz": 2600.0, "governor": None}
BUSY = {"load_1m": 3.3, "cpu_mhz": 2600.0, "governor": None}


@pytest.fixture
def tiny_path(tmp_path):
    p = tmp_path / "tiny.toml"
    p.write_text(TINY)
    return p


def busy() -> list:
    """This process's running busy workers (other tests may leave joblib's loky workers alive)."""
    return [p for p in multiprocessing.active_children() if p.name == BUSY_NAME]


def gone(pid: int) -> bool:
    """Whether process ``pid`` has exited (reaped, or a zombie nobody reaps)."""
    try:
        with open(f"/proc/{pid}/stat") as f:
            return f.read().rsplit(")", 1)[1].split()[0] == "Z"
    except FileNotFoundError:
        return True


def cpu_s(pid: int) -> float:
    with open(f"/proc/{pid}/stat") as f:
        fields = f.read().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


@pytest.mark.parametrize("kind", ["spin", "matmul"])
def test_busy_workers_burn_cpu_and_stop_on_ctrl_c(kind):
    with pytest.raises(KeyboardInterrupt), busy_load(1, kind) as pids:
        assert len(pids) == 1 and not gone(pids[0])
        time.sleep(1.0)  # past its start-up (imports)
        first, deadline = cpu_s(pids[0]), time.monotonic() + 20
        while cpu_s(pids[0]) - first < 0.3 and time.monotonic() < deadline:
            time.sleep(0.2)
        assert cpu_s(pids[0]) - first >= 0.3  # still working after its start-up
        raise KeyboardInterrupt
    assert gone(pids[0]) and not busy()


def test_busy_workers_exit_when_their_parent_is_killed():
    code = ("import os, signal, sys\nfrom evo_nas.studies.busy_load import busy_load\n"
            "with busy_load(2, 'spin') as pids:\n    print(*pids, flush=True)\n"
            "    os.kill(os.getpid(), signal.SIGKILL)\n")
    proc = subprocess.Popen([sys.executable, "-c", code], stdout=subprocess.PIPE, text=True,
                            env={**os.environ, "PYTHONPATH": os.pathsep.join(sys.path)})
    pids = [int(p) for p in proc.stdout.readline().split()]
    assert proc.wait(timeout=60) == -9 and len(pids) == 2
    deadline = time.monotonic() + 10
    while not all(map(gone, pids)) and time.monotonic() < deadline:
        time.sleep(0.1)
    stray = [p for p in pids if not gone(p)]
    for p in stray:  # leave nothing running when the test fails
        os.kill(p, 9)
    proc.stdout.close()
    assert not stray


def test_bad_load_settings_are_one_line_errors():
    with pytest.raises(ValueError, match="load kind 'fan'"), busy_load(1, "fan"):
        pass
    with pytest.raises(ValueError, match="busy workers = 0"), busy_load(0):
        pass


def test_waiting_for_the_load_average_stops_when_it_settles_or_times_out():
    clock = iter(range(100))
    loads = iter([3.0, 2.0, 1.0, 0.5])
    w = wait_for_load(lambda load: load <= 1.0, 30, read=lambda: next(loads), sleep=lambda s: None,
                      clock=lambda: next(clock))
    assert w["settled"] and w["load_1m"] == 1.0 and w["waited_s"] == 3
    clock = iter(range(100))
    w = wait_for_load(lambda load: load <= 1.0, 5, read=lambda: 3.0, sleep=lambda s: None, clock=lambda: next(clock))
    assert not w["settled"] and w["waited_s"] == 6
    assert wait_for_load(lambda load: False, 0, read=lambda: None)["waited_s"] == 0


class LoadAwareRuntime(FakeRuntime):
    """The fake runtime, but while busy workers run its network passes alternate 1.0x / 1.6x (a loaded machine)."""

    def __init__(self, threads=1):
        super().__init__(threads)
        self.n = 0

    def measure(self, module, input_shape, protocol=None):
        m = super().measure(module, input_shape, protocol or Protocol())
        if type(module).__name__ == "Network" and busy():
            self.n += 1
            return Measurement(m.median_ms * (1.6 if self.n % 2 else 1.0), 0.0, 0.0, m.samples, 1, True)
        return m


@pytest.fixture
def machine(monkeypatch):
    """The recorded machine state follows the busy workers: BUSY while any runs, else QUIET."""
    monkeypatch.setattr(stability, "machine_state",
                        lambda: dict(BUSY if busy() else QUIET))


def test_study_alternates_conditions_and_judges_each_with_the_code_s_rules(tiny_path, machine):
    space = load_space(tiny_path)
    lines = []
    r = st.stability_study(space, LoadAwareRuntime(), Protocol(),
                           networks=3, passes=3, reps=2, layers=4, workers=1, load_kind="spin", settle_s=0,
                           log=lines.append)
    assert r["setup"]["order"] == ["quiet", "loaded", "quiet", "loaded"] and len(lines) == 4
    assert len(r["genomes"]) == 3 and r["setup"]["layers"] == 4
    for rep in r["repetitions"]:
        assert len(rep["passes_ms"]) == 3 and all(len(row) == 3 for row in rep["passes_ms"])
        assert len(rep["network_spreads"]) == 3 and len(rep["layers"]) == 4
        assert [s["phase"] for s in rep["machine_states"]] == ["layers"] + ["calibration"] * 4
        assert rep["flags"]["calibration"] == (rep["statistics"]["calibration"] > stability.MAX_PASS_SPREAD)
        assert rep["flags"]["load"] == (rep["statistics"]["load"] > r["setup"]["limits"]["load"])
    quiet, loaded = (r["summary"][c] for c in ("quiet", "loaded"))
    assert quiet["statistics"]["calibration"]["max"] == 0.0 and quiet["flagged_any"] == 0
    # passes 1.6 / 1.0 / 1.6 (or 1.0 / 1.6 / 1.0): spreads 0.6/1.6, 0.6, 0.6/1.6, read at their 90th percentile
    loaded_spread = float(np.percentile([0.6 / 1.6, 0.6, 0.6 / 1.6], 90))
    assert loaded["statistics"]["calibration"]["min"] == pytest.approx(loaded_spread, rel=1e-3)
    cores = os.cpu_count()
    assert loaded["flagged"]["calibration"] == 2 and loaded["flagged"]["load"] == (2 if 3.3 - 1 > cores - 1 else 0)
    assert r["suggestion"]["calibration"]["separate"]
    assert r["suggestion"]["calibration"]["threshold"] == pytest.approx(loaded_spread / 2, rel=1e-3)
    text = st.report(r)
    suggested = re.search(r"suggested MAX_PASS_SPREAD: ([0-9.]+)", text)
    assert suggested and float(suggested.group(1)) == pytest.approx(loaded_spread / 2, abs=6e-4)
    assert "per repetition:" in text
    json.dumps(r)  # JSON-ready


class Boom(Exception):
    pass


class FailsWhenLoaded(FakeRuntime):
    def __init__(self, threads=1):
        super().__init__(threads)
        self.seen = []

    def measure(self, module, input_shape, protocol=None):
        workers = busy()
        if workers:
            self.seen.extend(p.pid for p in workers)
            raise Boom("measurement failed under load")
        return super().measure(module, input_shape, protocol or Protocol())


def test_busy_workers_are_stopped_when_the_measurement_raises(tiny_path, machine):
    rt = FailsWhenLoaded()
    with pytest.raises(Boom):
        st.stability_study(load_space(tiny_path), rt, Protocol(), networks=2,
                           passes=2, reps=1, layers=1, workers=2, load_kind="spin", settle_s=0)
    assert len(set(rt.seen)) == 2 and all(map(gone, rt.seen)) and not busy()


def test_the_suggested_limit_on_synthetic_numbers():
    g = st.suggest_threshold([0.02, 0.055, 0.04], [0.12, 0.09])
    assert g["separate"] and g["threshold"] == pytest.approx((0.055 * 0.09) ** 0.5)
    assert 0.055 < g["threshold"] < 0.09
    g = st.suggest_threshold([0.02, 0.076], [0.06, 0.2])
    assert not g["separate"] and g["threshold"] is None and g["quiet_max"] == 0.076 and g["loaded_min"] == 0.06
    assert st.suggest_threshold([0.0, 0.0], [0.1])["threshold"] == 0.05
    assert not st.suggest_threshold([0.1], [0.1])["separate"]
    with pytest.raises(ValueError, match="quiet: 0"):
        st.suggest_threshold([], [0.1])


def test_every_reason_judge_gives_maps_to_its_rule():
    header = {"threads": 1, "device": {"cores": 2}, "protocol": {"max_cv": 0.05},
              "machine_states": [{"load_1m": 9.0, "cpu_mhz": 2600.0}, {"load_1m": 0.1, "cpu_mhz": 1000.0}]}
    entries = {f"l{i}": {"ms": 1.0, "cv": 0.5, "p90_ms": 2.0} for i in range(5)}
    reasons = stability.judge(header, entries, {"passes_ms": [[1.0, 1.0], [2.0, 2.0]]})
    assert [st.rule_of(r) for r in reasons] == list(st.RULES)
    stats = st.rule_statistics(header, entries, [[1.0, 1.0], [2.0, 2.0]])
    assert stats == {"load": 8.0, "clock": pytest.approx(1600 / 2600), "unstable_share": 1.0, "tail": 1.0,
                     "calibration": pytest.approx(1 / 1.5)}
    with pytest.raises(ValueError, match="unknown stability reason"):
        st.rule_of("weather: cloudy")


def test_bad_counts_are_refused_before_anything_is_measured(tiny_path, capsys):
    from stability_threshold import main

    with pytest.raises(SystemExit) as e:
        main(["--space", str(tiny_path), "--networks", "0", "--out", str(tiny_path.parent / "out")])
    assert e.value.code == 2
    assert capsys.readouterr().err.strip().endswith("error: networks = 0 must be an int >= 1")


@pytest.mark.slow
def test_quick_script_on_the_tiny_space_writes_its_results(tiny_path, tmp_path):
    from stability_threshold import main

    assert main(["--quick", "--space", str(tiny_path), "--out", str(tmp_path / "o")]) == 0
    r = json.loads((tmp_path / "o" / "results.json").read_text())
    assert r["quick"] and r["setup"]["order"] == ["quiet", "loaded"] and r["setup"]["runtime"] == "onnxruntime"
    assert all(len(rep["passes_ms"]) == 2 for rep in r["repetitions"])
    assert "QUICK: not a result" in (tmp_path / "o" / "results.txt").read_text()
    assert not busy()
