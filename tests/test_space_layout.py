"""Where the spaces live: MnasNet's factorized space is ``evo_nas.spaces.factorized``, registered by type when the loader is imported."""
from evo_nas.spaces.factorized import FactorizedSpace
from evo_nas.spaces.loader import load_space
from evo_nas.spaces.space import SPACE_TYPES


def test_the_default_space_type_is_the_factorized_space_registered_by_its_module():
    space = load_space("mnasnet", resolution=32)
    assert type(space) is FactorizedSpace and SPACE_TYPES["factorized"] is FactorizedSpace
