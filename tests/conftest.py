"""Test set-up: one torch thread, ``experiments/`` importable (its scripts; the studies are ``evo_nas.studies``),
and benchmark data only from the mirror.

Tests never download: ``EVO_NAS_OFFLINE=1`` and a private, empty download cache are set for the
session (the data layer's own download tests serve files from a local HTTP server). Tests that need
a benchmark's files use ``needs_data("ofa")``; they read the mirror named by ``EVO_NAS_DATA``
(``.ci/run`` points it at ``../shared/data`` where that exists) and skip, saying why, without it.
"""
import functools
import http.server
import os
import sys
import tempfile
import threading
from pathlib import Path

import pytest
import torch

torch.set_num_threads(1)
os.environ.setdefault("OMP_NUM_THREADS", "1")
os.environ["EVO_NAS_OFFLINE"] = "1"
os.environ["EVO_NAS_CACHE"] = tempfile.mkdtemp(prefix="evo-nas-test-cache-")
EXPERIMENTS = str(Path(__file__).resolve().parent.parent / "experiments")
if EXPERIMENTS not in sys.path:
    sys.path.insert(0, EXPERIMENTS)


def have_data(bench: str) -> bool:
    """Whether every file of benchmark ``bench`` is in the mirror (or the session's cache)."""
    from evo_nas.problems import benchdata

    return all(benchdata.locate(bench, f.name) is not None for f in benchdata.benchmark(bench).files)


def needs_data(bench: str):
    """A skip marker for tests that read benchmark ``bench``'s third-party files."""
    return pytest.mark.skipif(not have_data(bench), reason=f"benchmark data '{bench}' not available: set "
                              f"EVO_NAS_DATA to a mirror folder (../shared/data on development and CI machines)")


@pytest.fixture
def mnasnet():
    from evo_nas.spaces.loader import load_space

    return load_space("mnasnet")


@pytest.fixture
def ofa_space():
    from evo_nas.spaces.loader import load_space

    return load_space("ofa-mbv3")


@pytest.fixture
def server(tmp_path):
    """A local HTTP server on 127.0.0.1 serving ``tmp_path/www``; yields (base URL, folder)."""
    www = tmp_path / "www"
    www.mkdir()
    handler = functools.partial(http.server.SimpleHTTPRequestHandler, directory=str(www))
    handler.log_message = lambda *a, **k: None
    httpd = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    t = threading.Thread(target=httpd.serve_forever, daemon=True)
    t.start()
    yield f"http://127.0.0.1:{httpd.server_address[1]}", www
    httpd.shutdown()
    httpd.server_close()


class Killed(BaseException):
    """Stands for a kill: not an ``Exception``, so the engine does not turn it into a failed evaluation."""


def dying_after(n):
    """A synthetic evaluator that raises ``Killed`` on its ``n+1``-th call (a search killed part way)."""
    from evo_nas.problems.synthetic import synthetic_evaluate

    calls = []

    def evaluate(genome, cfg):
        if len(calls) == n:
            raise Killed
        calls.append(genome.key)
        return synthetic_evaluate(genome, cfg)
    return evaluate


def tiny_space_toml(header: str, se_ratio: str = "[0.0]") -> str:
    """A 2-block factorized space (8 and 16 filters, two choices per decision) after ``header``
    (its name and any frame settings), as the text of a space file."""
    return header.strip() + f"""
[stem]
filters = 8
[head]
filters = 32
[choices]
op = ["sepconv", "mbconv3"]
kernel = [3, 5]
se_ratio = {se_ratio}
skip = ["identity", "none"]
filters = [0.5, 1.0]
layers = [0, 1]
[[blocks]]
filters = 8
layers = 1
stride = 1
[[blocks]]
filters = 16
layers = 1
stride = 2
"""


# the latency-table tests' space: 16 px, 1 channel, 4 classes, two SE choices
TINY_TABLE_SPACE = tiny_space_toml('name = "tiny"\nresolution = 16\nin_channels = 1\nnum_classes = 4',
                                   se_ratio="[0.0, 0.25]")
