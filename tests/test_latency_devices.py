"""Latency models from configuration, the real runtimes (smoke, no timing), the command device and the CLI."""
import sys
import tempfile
from pathlib import Path

import numpy as np
import pytest
import torch

from evo_nas.cli import main
from evo_nas.latency import (
    CommandLatency, MeasuredLatency, OnnxRuntime, Protocol, TableLatency, TorchRuntime, latency_model_from_config,
    make_runtime,
)
from evo_nas.latency.measure import RUNTIMES, OnnxInt8DynamicRuntime, OnnxInt8StaticRuntime
from evo_nas.latency.table import build_layer, layer_input_shape
from evo_nas.spaces.loader import load_space
from evo_nas.studies.latency_fidelity import fidelity_stats, repeatability

from conftest import TINY_TABLE_SPACE as TINY, needs_data

ROOT = Path(__file__).resolve().parent.parent
QUICK = {"warmup": 1, "repeats": 3, "rounds": 2, "max_attempts": 1}


@pytest.fixture
def small():
    return load_space("mnasnet", resolution=28, in_channels=1, num_classes=10)


@pytest.fixture
def genome(small):
    return small.sample(np.random.default_rng(0))


@pytest.mark.parametrize("section, err, match", [
    ({"mode": "phone"}, ValueError, "mode = 'phone'"),
    ({"mode": "measured", "tabel": "x"}, ValueError, "unknown key 'tabel'"),
    ({"mode": "measured", "threads": "1"}, ValueError, "threads = '1'"),
    ({"mode": "measured", "threads": 0}, ValueError, "threads = 0"),
    ({"mode": "measured", "runtime": "tflite"}, ValueError, "runtime = 'tflite'"),
    ({"mode": "measured", "repeats": 0}, ValueError, "repeats = 0"),
    ({"mode": "table", "fill": "yes"}, ValueError, "fill = 'yes'"),
    ({"mode": "table", "fill": True, "fit": "cubic"}, ValueError, "fit = 'cubic'"),
    ({"mode": "command"}, ValueError, "needs command"),
    ({"table": "/nonexistent/t.json"}, FileNotFoundError, "/nonexistent/t.json"),
])
def test_config_errors_name_the_bad_value(small, section, err, match):
    with pytest.raises(err, match=match):
        latency_model_from_config(section, small)


def test_measured_mode_is_serial_and_says_so(small):
    m = latency_model_from_config({"mode": "measured", "runtime": "onnxruntime", "threads": 2}, small)
    assert isinstance(m, MeasuredLatency) and m.safe_in_pool is False
    d = m.describe()
    assert d["source"] == "measured" and d["runtime"] == "onnxruntime" and d["threads"] == 2 and d["device"]["cpu"]
    other = latency_model_from_config({"mode": "measured", "runtime": "onnxruntime", "threads": 1}, small)
    assert m.fingerprint() != other.fingerprint()


def test_default_is_a_fill_table_for_this_machine_timing_what_export_ships(small, tmp_path, monkeypatch):
    # the deliverable is the ONNX file evo_nas.networks.onnx_export writes, so ONNX Runtime times it by default
    monkeypatch.setenv("EVO_NAS_LATENCY_DIR", str(tmp_path))
    m = latency_model_from_config({}, small)
    assert isinstance(m, TableLatency) and m.fill and m.safe_in_pool is False
    assert m.table.path.parent == tmp_path and "mnasnet-r28-c1-n10-onnxruntime-t1" in m.table.path.name
    assert m.table.header["runtime"] == "onnxruntime"
    torch_model = latency_model_from_config({"runtime": "torch"}, small)
    assert "mnasnet-r28-c1-n10-torch-t1" in torch_model.table.path.name


@pytest.mark.parametrize("runtime", [TorchRuntime, OnnxRuntime, OnnxInt8DynamicRuntime, OnnxInt8StaticRuntime])
def test_runtimes_run_the_protocol(small, genome, runtime):
    spec = genome.architecture().layers()[0]
    before = torch.get_num_threads()
    m = runtime(threads=1).measure(build_layer(spec), layer_input_shape(spec), Protocol(**QUICK))
    assert m.median_ms > 0 and m.samples == 6 and m.attempts == 1
    assert torch.get_num_threads() == before
    assert runtime(1).describe()["runtime_version"]


def test_int8_latency_is_measured_on_the_quantized_file_and_can_be_searched_on(small, genome):
    import onnx

    from evo_nas.commands.latency import RUNTIME_NAMES

    assert sorted(RUNTIME_NAMES) == sorted(RUNTIMES)
    runtime = OnnxInt8DynamicRuntime(1)
    assert runtime.version.endswith("+int8-dynamic")
    with tempfile.TemporaryDirectory() as folder:
        spec = genome.architecture().layers()[0]
        path = runtime.model_file(build_layer(spec), layer_input_shape(spec), folder)
        ops = {n.op_type for n in onnx.load(path).graph.node}
    assert ops & {"ConvInteger", "DynamicQuantizeLinear", "MatMulInteger"}, ops
    m = latency_model_from_config({"mode": "measured", "runtime": "onnxruntime-int8-dynamic", **QUICK}, small)
    assert m.latency_ms(genome) > 0 and m.describe()["runtime"] == "onnxruntime-int8-dynamic"


def test_measured_model_end_to_end(genome):
    m = MeasuredLatency(make_runtime("torch", 1), Protocol(**QUICK))
    assert m.latency_ms(genome) > 0


def test_command_device_receives_an_onnx_file(genome, tmp_path):
    script = tmp_path / "fake_phone.py"
    script.write_text("import sys, onnx\nm = onnx.load(sys.argv[2])\nassert m.graph.node\n"
                      "print('loaded', sys.argv[1]); print('latency: 12.5 ms')\n")
    m = latency_model_from_config({"mode": "command", "command": f"{sys.executable} {script} pixel1 {{model}}",
                                   "device": "pixel1"}, genome.space)
    assert isinstance(m, CommandLatency) and not m.safe_in_pool
    assert m.latency_ms(genome) == 12.5
    assert m.describe() == {"source": "measured", "device": "pixel1", "command": m.command, "format": "onnx",
                            "where": "external command, called serially (outside any worker pool)"}
    bad = CommandLatency(f"{sys.executable} -c \"import sys; sys.exit(3)\"")
    with pytest.raises(ValueError, match="exited with 3"):
        bad.latency_ms(genome)
    silent = CommandLatency(f"{sys.executable} -c \"print('done')\"")
    with pytest.raises(ValueError, match="no positive latency"):
        silent.latency_ms(genome)


def test_fidelity_figures():
    measured = np.array([1.0, 2.0, 3.0, 4.0])
    s = fidelity_stats(measured * 1.05, measured)
    assert s["within_10pct"] == 1.0 and s["mape_pct"] == pytest.approx(5.0) and s["kendall_tau"] == pytest.approx(1.0)
    s = fidelity_stats([1.0, 2.0, 4.0, 3.9], measured)
    assert s["within_10pct"] == 0.75 and s["kendall_tau"] < 1
    r = repeatability(np.array([[1.0, 2.0], [1.0, 2.2]]))
    assert r["cv_max_pct"] == pytest.approx(100 * 0.1 / 2.1)


def test_cli_genome_measures_and_reports_missing_table(capsys, tmp_path, monkeypatch):
    monkeypatch.setenv("EVO_NAS_LATENCY_DIR", str(tmp_path))
    rc = main(["latency", "mobilenetv2", "--resolution", "28", "--in-channels", "1", "--num-classes", "10",
               "--runtime", "torch", "--runtime", "onnxruntime", "--warmup", "1", "--repeats", "3", "--rounds", "2"])
    out = capsys.readouterr().out
    assert rc == 0
    assert "torch" in out and "onnxruntime" in out and out.count("measured ") == 2
    assert "predicted: no table" in out


def test_cli_build_table_then_predict(capsys, tmp_path):
    tiny = tmp_path / "tiny.toml"
    tiny.write_text(TINY)
    table = tmp_path / "tiny-table.json"
    args = ["--space", str(tiny), "--table", str(table), "--warmup", "1", "--repeats", "2", "--rounds", "2",
            "--no-progress"]
    # --allow-unstable: this test measures whatever the machine's load (the rule has tests of its own)
    assert main(["latency", "build-table", *args, "--calibration", "3", "--allow-unstable"]) == 0
    out = capsys.readouterr().out
    assert "calibration: 1.000 x layer sum + offset" in out
    assert main(["latency", "ds_r1_k3_s1_i8_o8-ir_r2_k5_s2_e3_i8_o16_se0.25", *args]) == 0
    out = capsys.readouterr().out
    assert "predicted" in out and "error" in out and "this machine" in out


def test_cli_errors_are_one_line(capsys, tmp_path):
    assert main(["latency", "ir_r1_k4_s1_i32_o16", "--no-table"]) == 2
    err = capsys.readouterr().err
    assert err.startswith("evo-nas latency: error:") and err.count("\n") == 1
    bad = tmp_path / "bad.json"
    bad.write_text("{")
    assert main(["latency", "mobilenetv2", "--table", str(bad), "--warmup", "0", "--repeats", "1",
                 "--rounds", "1"]) == 2
    assert "not valid JSON" in capsys.readouterr().err


def test_cli_reads_space_and_latency_from_a_config(capsys, tmp_path):
    tiny = tmp_path / "tiny.toml"
    tiny.write_text(TINY)
    table = tmp_path / "t.json"
    cfg = tmp_path / "exp.toml"
    cfg.write_text(f'[space]\nfile = "{tiny}"\nresolution = 24\n[latency]\nruntime = "onnxruntime"\n'
                   f'table = "{table}"\nwarmup = 0\nrepeats = 1\nrounds = 1\n')
    assert main(["latency", "build-table", "--config", str(cfg), "--limit", "2", "--no-progress",
                 "--allow-unstable"]) == 0
    from evo_nas.latency import LatencyTable

    t = LatencyTable.load(table)
    assert len(t.entries) == 2 and t.header["runtime"] == "onnxruntime"
    assert t.header["network"]["resolution"] == 24 and t.header["protocol"]["repeats"] == 1


def _phone_build(tmp_path, *extra):
    tiny = tmp_path / "tiny.toml"
    tiny.write_text(TINY)
    phone = tmp_path / "phone.py"  # a stand-in for `adb push` + a benchmark binary: 1 ms per 10 kB of model
    phone.write_text("import os, sys\nprint('ms:', round(os.path.getsize(sys.argv[1]) / 1e4, 1))\n")
    table = tmp_path / "phone.json"
    rc = main(["latency", "build-table", "--space", str(tiny), "--table", str(table), "--command",
               f"{sys.executable} {phone} {{model}}", "--device", "pixel1", "--no-progress", *extra])
    from evo_nas.latency import LatencyTable

    return rc, LatencyTable.load(table), load_space(tiny)


def test_build_a_table_for_another_device_through_a_command(tmp_path):
    rc, t, _ = _phone_build(tmp_path, "--limit", "4")
    assert rc == 0 and len(t.entries) == 4
    assert t.header["device"]["cpu"] == "pixel1" and t.header["measured_elsewhere"] and t.header["runtime"] == "command"
    assert all(e["ms"] > 0 and e["ms"] == round(e["ms"], 1) for e in t.entries.values())


@pytest.mark.slow
def test_a_complete_command_table_predicts_in_the_pool(tmp_path):
    rc, t, space = _phone_build(tmp_path, "--calibration", "3")
    assert rc == 0 and t.calibrated
    model = latency_model_from_config({"table": str(t.path)}, space)
    assert model.safe_in_pool and model.describe()["measured_elsewhere"]


def test_a_device_without_a_command_or_its_table_is_an_error(tmp_path, monkeypatch, capsys):
    from evo_nas.latency.devices import known_devices

    monkeypatch.setenv("EVO_NAS_LATENCY_DIR", str(tmp_path / "tables"))
    space = load_space("mnasnet", resolution=28, in_channels=1, num_classes=10)
    with pytest.raises(ValueError, match=r"device = 'pixel99' has no command .*known devices: none"):
        latency_model_from_config({"mode": "table", "device": "pixel99"}, space)
    assert not (tmp_path / "tables").exists()

    (tmp_path / "tables").mkdir()
    rc, t, tiny = _phone_build(tmp_path, "--limit", "1")
    assert rc == 0
    t.save(tmp_path / "tables" / "phone.json")
    assert known_devices() == {"pixel1": tmp_path / "tables" / "phone.json"}
    with pytest.raises(ValueError, match=r"device = 'pixel99' .*known devices: pixel1 \("):
        latency_model_from_config({"device": "pixel99"}, tiny)
    with pytest.raises(ValueError, match=r"device = 'pixel99', but latency table .* was measured on 'pixel1'"):
        latency_model_from_config({"device": "pixel99", "table": str(t.path)}, tiny)

    capsys.readouterr()
    assert main(["latency", "build-table", "--space", str(tmp_path / "tiny.toml"), "--device", "pixel99",
                 "--table", str(tmp_path / "x.json"), "--no-progress"]) == 2
    err = capsys.readouterr().err
    assert err.startswith("evo-nas latency: error: [latency] device = 'pixel99'") and err.count("\n") == 1
    assert not (tmp_path / "x.json").exists()


@needs_data("ofa")
def test_a_relative_latency_table_in_a_config_is_read_from_the_configs_folder(tmp_path, monkeypatch):
    from evo_nas.accuracy.evaluate import EvalConfig
    from evo_nas.problems import make_problem

    (tmp_path / "cfg").mkdir()
    (tmp_path / "elsewhere").mkdir()
    monkeypatch.chdir(tmp_path / "elsewhere")
    base = tmp_path / "cfg"
    cfg = EvalConfig.from_dict({"latency": {"table": "t.json"}}, base_dir=base)
    assert cfg.latency_section["table"] == str(base / "t.json")
    absolute = EvalConfig.from_dict({"latency": {"table": str(tmp_path / "a.json")}}, base_dir=base)
    assert absolute.latency_section["table"] == str(tmp_path / "a.json")
    with pytest.raises(FileNotFoundError, match=f"latency table not found: {base / 'missing.json'}"):
        make_problem({"problem": {"name": "ofa-mbv3", "device": "this-machine"},
                      "latency": {"table": "missing.json"}, "search": {"base_dir": str(base)}}).latency_model()


def test_a_fill_table_committed_to_git_is_refused_a_read_only_one_is_read(small):
    committed = str(ROOT / "experiments" / "compare" / "latency_table_mnasnet_mnist28.json")
    with pytest.raises(FileExistsError, match="committed to git and fill = true"):
        latency_model_from_config({"mode": "table", "table": committed, "fill": True}, small)
    m = latency_model_from_config({"mode": "table", "table": committed, "fill": False}, small)
    assert isinstance(m, TableLatency) and not m.fill
