"""The built-in search spaces and the space registry: MnasNet's factorized hierarchical space (Tan et al.,
2019, arXiv 1807.11626), FBNet's layer-wise space (Wu et al., 2019, arXiv 1812.03443), a MobileNetV3-style
space (Howard et al., 2019, arXiv 1905.02244), Once-for-All's, the block-wise MBConv space of
Accel-NASBench (Ahmad et al., 2024, arXiv 2404.08005) and NAS-Bench-201's cell space (Dong & Yang,
2020, arXiv 2001.00326).

Each module registers its ``Space`` subclass in ``SPACE_TYPES`` (``evo_nas.spaces.space``) under its
own ``type_name``; ``spaces.loader`` imports every built-in type, so ``space_from_dict`` finds them.
``load_space(name)`` loads a shipped space (``space_names()``) or a TOML file;
``@register_space_type`` adds a type.
"""
from .factorized import FactorizedSpace
from .fbnet import FBNetSpace
from .loader import load_space, space_names
from .mbconv import MBConvSpace
from .mobilenetv3 import MobileNetV3Space
from .nb201 import NB201Space
from .ofa_mbv3 import OFAMobileNetV3Space
from .space import SPACE_TYPES, Genome, Space, register_space_type

__all__ = ["FactorizedSpace", "FBNetSpace", "MBConvSpace", "MobileNetV3Space", "NB201Space", "OFAMobileNetV3Space",
           "SPACE_TYPES", "Space", "Genome", "load_space", "register_space_type",
           "space_names"]
