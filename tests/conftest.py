"""Test set-up: one torch thread, and ``experiments/`` importable (the studies in ``experiments/studies``)."""
import os
import sys
from pathlib import Path

import pytest
import torch

torch.set_num_threads(1)
os.environ.setdefault("OMP_NUM_THREADS", "1")
EXPERIMENTS = str(Path(__file__).resolve().parent.parent / "experiments")
if EXPERIMENTS not in sys.path:
    sys.path.insert(0, EXPERIMENTS)


@pytest.fixture
def mnasnet():
    from evo_nas.spacefiles import load_space

    return load_space("mnasnet")


@pytest.fixture
def ofa_space():
    from evo_nas.spacefiles import load_space

    return load_space("ofa-mbv3")
