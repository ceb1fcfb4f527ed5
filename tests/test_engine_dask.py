"""The same search on a dask.distributed LocalCluster gives the same result as a serial run."""
import pytest

from evo_nas.engine.run import RunDir
from evo_nas.engine.runner import run_search

distributed = pytest.importorskip("distributed")


def config(**search):
    return {"seed": 2, "space": {"name": "mnasnet", "resolution": 32, "num_classes": 10},
            "problem": {"name": "synthetic"}, "search": {"pop_size": 6, "generations": 2, "cache": False, **search},
            "objectives": {"reference": {"val_acc": 0.5, "latency_ms": 10.0}}}


def test_dask_backend_on_a_local_cluster(tmp_path):
    with distributed.LocalCluster(n_workers=2, threads_per_worker=1, processes=True,
                                  dashboard_address=None) as cluster:
        on_dask = run_search(config(backend="dask", n_jobs=2, scheduler=cluster.scheduler_address),
                             tmp_path / "dask", quiet=True)
    serial = run_search(config(), tmp_path / "serial", quiet=True)
    key = lambda run: sorted((r["generation"], r["key"], r["val_acc"]) for r in RunDir(run).evaluations())
    assert on_dask.evaluations == serial.evaluations == 12
    assert key(on_dask.run_dir) == key(serial.run_dir)
    assert [r["key"] for r in on_dask.front] == [r["key"] for r in serial.front]


def test_dask_without_a_cluster_is_a_clear_error(tmp_path):
    with pytest.raises(ValueError, match="dask.distributed Client"):
        run_search(config(backend="dask", n_jobs=2), tmp_path / "run", quiet=True)
    assert not (tmp_path / "run").exists()
