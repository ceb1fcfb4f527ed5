import os

import pytest
import torch

torch.set_num_threads(1)
os.environ.setdefault("OMP_NUM_THREADS", "1")


@pytest.fixture
def mnasnet():
    from evo_nas.space import load_space

    return load_space("mnasnet")
