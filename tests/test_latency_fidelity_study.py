"""The latency fidelity study (evo_nas/studies/latency_fidelity.py) on a fake device whose
whole-network latency its table predicts exactly: every figure at its ideal, a report and a scatter."""
import numpy as np
import pytest
from test_latency_ofa import slice_space
from test_latency_table import FakeRuntime

from evo_nas.latency.measure import Protocol


def test_the_fidelity_study_reports_an_exact_table_as_exact(tmp_path):
    from evo_nas.studies.latency_fidelity import format_report, run_fidelity, scatter

    r = run_fidelity(slice_space(), FakeRuntime(), Protocol(), tmp_path / "t.json", genomes=8, passes=2,
                     calibration=8, progress=False)
    assert r["fit"]["within_5pct"] == r["fit"]["within_10pct"] == 1.0
    assert r["fit"]["rmse_ms"] == pytest.approx(0.0, abs=1e-9) and r["fit"]["kendall_tau"] == pytest.approx(1.0)
    assert np.shape(r["passes_ms"]) == (2, 8) and sorted(set(r["resolutions"])) == [64, 96]
    assert r["repeatability"]["tau_between_passes"] == pytest.approx(1.0)
    text = format_report(r, (99.0, 0.95))
    assert ">= 99%" in text and ">= 0.95" in text and "allocator" in text
    png = scatter(r, tmp_path / "s.png")
    assert png.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"


BENCH_LINES = [
    ({"genomes": 1}, "[bench] genomes = 1 must be an int >= 2 (random genomes measured end to end)"),
    ({"genomes": "100"}, "[bench] genomes = '100' must be an int >= 2 (random genomes measured end to end)"),
    ({"table": False}, "[bench] table = false must be a file path, or \"\" for {table}"),
    ({"passe": 3}, "[bench] unknown key 'passe' (did you mean 'passes'?)"),
]


@pytest.mark.parametrize("section, line", BENCH_LINES + [
    ({"passes": 0}, "[bench] passes = 0 must be an int >= 1 (interleaved measurements of each genome)")])
def test_a_bad_bench_section_of_the_fidelity_benchmark_is_one_line(section, line, tmp_path):
    from bench_latency_fidelity import main

    config = _config(tmp_path, section)
    with pytest.raises(ValueError) as e:
        main(["--config", str(config)])
    assert str(e.value) == line.format(table="a fresh table in a temporary directory")


@pytest.mark.parametrize("section, line", BENCH_LINES + [
    ({"passes": -1}, "[bench] passes = -1 must be a non-negative int (end-to-end measurements of each subnet; 0: none)")])
def test_a_bad_bench_section_of_the_platforms_experiment_is_one_line(section, line, tmp_path):
    from platforms import main

    config = _config(tmp_path, section)
    with pytest.raises(ValueError) as e:
        main(["--config", str(config), "--out", str(tmp_path / "out")])
    assert str(e.value) == line.format(table="this machine's default table")
    assert not (tmp_path / "out").exists()


def _config(tmp_path, bench: dict):
    from evo_nas.spaces.loader import read_toml

    def toml(v):
        return ("true" if v else "false") if isinstance(v, bool) else f'"{v}"' if isinstance(v, str) else str(v)

    path = tmp_path / "bench.toml"
    path.write_text("[bench]\n" + "".join(f"{k} = {toml(v)}\n" for k, v in bench.items()))
    assert read_toml(path, "config")["bench"] == bench
    return path


def test_the_bench_defaults_and_the_shipped_configs():
    from pathlib import Path

    from evo_nas.base.errors import validate
    from evo_nas.spaces.loader import read_toml
    from evo_nas.studies.latency_fidelity import BenchKeys, PlatformsBenchKeys

    assert validate(BenchKeys, {}, "bench").model_dump() == {"genomes": 100, "passes": 5, "table": ""}
    assert validate(PlatformsBenchKeys, {}, "bench").model_dump() == {"genomes": 100, "passes": 1, "table": ""}
    root = Path(__file__).resolve().parents[1] / "experiments"
    shipped = {"bench_latency_fidelity.toml": (BenchKeys, 5), "bench_latency_fidelity_ofa.toml": (BenchKeys, 3),
               "platforms.toml": (PlatformsBenchKeys, 1)}
    for name, (model, passes) in shipped.items():
        keys = validate(model, read_toml(root / name, "config")["bench"], "bench")
        assert (keys.genomes, keys.passes, keys.table) == (100, passes, "")
