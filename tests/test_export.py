"""Issue 7: ONNX export checked in ONNX Runtime, and the JSON cards of a run's Pareto set."""
import json
import shlex
import sys
from pathlib import Path

import numpy as np
import onnxruntime as ort
import pytest
import torch

from evo_nas.cli import main
from evo_nas.deploy.pareto_export import ExportError, export_onnx, export_pareto
from evo_nas.engine.runner import run_search
from evo_nas.latency.devices import MeasuredLatency
from evo_nas.latency.measure import CommandRuntime, OnnxRuntime, Protocol
from evo_nas.networks.builder import build_model
from evo_nas.spaces.loader import load_known, load_space


@pytest.mark.parametrize("name, genes", [("fbnet", [1, 5, 8, 1, 2] + [4] * 17),   # g2 shuffles, skip, projection
                                         ("mobilenetv3", None), ("mnasnet", None)])
def test_exported_onnx_runs_in_onnxruntime_like_pytorch(tmp_path, name, genes):
    space = load_space(name, resolution=32, num_classes=10)
    g = space.genome(genes) if genes else space.sample(np.random.default_rng(7))
    model = build_model(g, generator=torch.Generator().manual_seed(3)).eval()
    check = export_onnx(g, tmp_path / "m.onnx", model=model)
    assert check.max_abs_diff <= 1e-4 * check.output_scale
    session = ort.InferenceSession(str(tmp_path / "m.onnx"), providers=["CPUExecutionProvider"])
    x = torch.randn(3, 3, 32, 32, generator=torch.Generator().manual_seed(0))   # another batch size
    with torch.no_grad():
        want = model(x).numpy()
    got = session.run(None, {"input": x.numpy()})[0]
    assert got.shape == (3, 10)
    assert np.abs(got - want).max() <= 1e-4 * np.abs(want).max()
    assert [p for p in tmp_path.iterdir()] == [tmp_path / "m.onnx"]


def test_known_mobilenetv3_large_exports_with_hard_swish_and_hard_sigmoid(tmp_path):
    k = load_known("mobilenetv3_large", resolution=64, num_classes=10)
    check = export_onnx(k.architecture, tmp_path / "mbv3.onnx", seed=1)
    import onnx

    ops = {n.op_type for n in onnx.load(str(tmp_path / "mbv3.onnx")).graph.node}
    assert {"HardSwish", "HardSigmoid"} <= ops
    assert check.input_shape == (2, 3, 64, 64)


def test_a_mismatching_runtime_output_is_an_error_and_leaves_no_file(tmp_path, monkeypatch):
    real_run = ort.InferenceSession.run

    def perturbed(self, names, feeds):
        out = real_run(self, names, feeds)
        return [out[0] * 1.01]

    monkeypatch.setattr(ort.InferenceSession, "run", perturbed)
    g = load_space("mnasnet", resolution=32, num_classes=10).sample(np.random.default_rng(0))
    with pytest.raises(ExportError, match="ONNX Runtime output differs from PyTorch"):
        export_onnx(g, tmp_path / "m.onnx")
    assert list(tmp_path.iterdir()) == []


FAST = Protocol(warmup=0, repeats=1, rounds=1, max_attempts=1)


def timed_files(monkeypatch) -> list[bytes]:
    """The bytes of every ONNX file ONNX Runtime loads from now on, read when the session opens."""
    loaded = []
    real = ort.InferenceSession

    def session(path, *args, **kwargs):
        loaded.append(Path(path).read_bytes())
        return real(path, *args, **kwargs)

    monkeypatch.setattr(ort, "InferenceSession", session)
    return loaded


@pytest.mark.parametrize("name", ["fbnet", "mobilenetv3"])
def test_the_file_the_latency_runtimes_time_is_the_file_export_writes(tmp_path, monkeypatch, name):
    space = load_space(name, resolution=32, num_classes=10)
    g = space.sample(np.random.default_rng(5))
    model = build_model(g, generator=torch.Generator().manual_seed(3))
    export_onnx(g, tmp_path / "shipped.onnx", model=model)
    shipped = (tmp_path / "shipped.onnx").read_bytes()

    loaded = timed_files(monkeypatch)
    OnnxRuntime().measure(model, (1, 3, 32, 32), FAST)
    assert loaded == [shipped]

    copy = tmp_path / "received.onnx"
    script = f"import shutil, sys; shutil.copy(sys.argv[1], {str(copy)!r}); print(1.5)"
    cmd = CommandRuntime(f"{sys.executable} -c {shlex.quote(script)} {{model}}")
    assert cmd.measure(model, (1, 3, 32, 32), FAST).median_ms == 1.5
    assert copy.read_bytes() == shipped


def without_weights(data: bytes):
    """The ONNX model in ``data`` with every initializer's values removed (names, shapes and types kept)."""
    import onnx

    m = onnx.load_from_string(data)
    for init in m.graph.initializer:
        for field in ("raw_data", "float_data", "int64_data", "int32_data", "double_data"):
            init.ClearField(field)
    return m.SerializeToString()


def test_a_runs_measured_latency_times_the_graph_its_export_ships(tmp_path, monkeypatch):
    r = synthetic_run(tmp_path, space="mnasnet")
    cards = export_pareto(r.run_dir, tmp_path / "out")
    space = load_space("mnasnet", resolution=32, num_classes=10)
    loaded = timed_files(monkeypatch)
    measured = MeasuredLatency(OnnxRuntime(), FAST)
    for c in cards:
        measured.measure(space.parse(c["genome"]))
        shipped = (tmp_path / "out" / c["onnx"]["file"]).read_bytes()
        assert without_weights(loaded.pop()) == without_weights(shipped)
    assert len(cards) >= 1 and not loaded


def synthetic_run(tmp_path, space="fbnet"):
    cfg = {"seed": 3, "space": {"name": space, "resolution": 32, "num_classes": 10},
           "problem": {"name": "synthetic"}, "search": {"pop_size": 6, "generations": 2, "cache": False}}
    return run_search(cfg, tmp_path / "run", quiet=True)


def test_export_pareto_writes_onnx_and_cards(tmp_path, capsys):
    r = synthetic_run(tmp_path)
    assert main([ "export", str(r.run_dir), "--pareto", "--out", str(tmp_path / "out")]) == 0
    cards = sorted((tmp_path / "out").glob("*.json"))
    assert len(cards) == len(r.front) == len(list((tmp_path / "out").glob("*.onnx")))
    front = {f["key"]: f for f in r.front}
    for path in cards:
        c = json.loads(path.read_text())
        assert c["genome"] in front and c["space"] == "fbnet" and c["seed"] == 3
        assert c["objectives"]["val_acc"] == front[c["genome"]]["val_acc"]
        assert c["objectives"]["latency_ms"] == front[c["genome"]]["latency_ms"]
        assert c["latency"]["source"] and "untrained" in c["weights"]
        assert (tmp_path / "out" / c["onnx"]["file"]).is_file()
        assert load_space("fbnet").parse(c["genome"]).key == c["genome"]
    assert "models written" in capsys.readouterr().out


def test_export_errors_are_one_line(tmp_path, capsys):
    assert main(["export", str(tmp_path / "missing"), "--pareto"]) == 2
    err = capsys.readouterr().err.strip()
    assert err.startswith("evo-nas export: error:") and "missing" in err and "\n" not in err


def test_export_refuses_a_used_directory_unless_overwrite(tmp_path, capsys):
    r = synthetic_run(tmp_path, space="mnasnet")
    out = tmp_path / "out"
    out.mkdir()
    (out / "notes.txt").write_text("mine")
    (out / "pareto07_acc0.900_1.00ms.onnx").write_bytes(b"another run's model")
    (out / "pareto07_acc0.900_1.00ms.json").write_text("{}")
    before = {p.name: p.read_bytes() for p in out.iterdir()}
    assert main(["export", str(r.run_dir), "--pareto", "--out", str(out)]) == 2
    err = capsys.readouterr().err.strip()
    assert err.startswith("evo-nas export: error: export directory") and str(out) in err and "--overwrite" in err
    assert "\n" not in err and {p.name: p.read_bytes() for p in out.iterdir()} == before

    assert main(["export", str(r.run_dir), "--pareto", "--out", str(out), "--overwrite"]) == 0
    names = sorted(p.name for p in out.iterdir())
    assert "notes.txt" in names and "pareto07_acc0.900_1.00ms.onnx" not in names
    assert len([n for n in names if n.endswith(".onnx")]) == len(r.front)
    assert len([n for n in names if n.endswith(".json")]) == len(r.front)
    assert not [p for p in tmp_path.iterdir() if "export-tmp" in p.name]
