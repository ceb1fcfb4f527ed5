"""The latency fidelity study (experiments/studies/latency_fidelity.py) on a fake device whose
whole-network latency its table predicts exactly: every figure at its ideal, a report and a scatter."""
import numpy as np
import pytest

from evo_nas.latency.measure import Protocol

from test_latency_table import FakeRuntime
from test_latency_ofa import slice_space


def test_the_fidelity_study_reports_an_exact_table_as_exact(tmp_path):
    from studies.latency_fidelity import format_report, run_fidelity, scatter

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
