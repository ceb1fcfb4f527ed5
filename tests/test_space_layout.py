"""Where the spaces live: MnasNet's factorized space is ``evo_nas.spaces.factorized``, found by type on first use."""
import pickle

import numpy as np

from evo_nas.space import SPACE_TYPES
from evo_nas.spacefiles import load_space
from evo_nas.spaces.factorized import FactorizedSpace


def test_the_default_space_type_is_the_factorized_space_registered_by_its_module():
    space = load_space("mnasnet", resolution=32)
    assert type(space) is FactorizedSpace and SPACE_TYPES["factorized"] is FactorizedSpace


def test_a_genome_pickled_under_the_old_module_path_still_loads():
    g = load_space("mnasnet", resolution=32).sample(np.random.default_rng(0))
    blob = pickle.dumps(g, protocol=0)
    assert b"cevo_nas.spaces.factorized\nFactorizedSpace\n" in blob
    old = blob.replace(b"cevo_nas.spaces.factorized\nFactorizedSpace\n", b"cevo_nas.space\nFactorizedSpace\n")
    assert pickle.loads(old) == g and pickle.loads(old).key == g.key
