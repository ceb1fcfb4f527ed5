"""More search spaces beyond MnasNet's: FBNet's layer-wise space (Wu et al., 2019, arXiv 1812.03443)
and a MobileNetV3-style space (Howard et al., 2019, arXiv 1905.02244).

Each module registers its ``Space`` subclass in ``evo_nas.space.SPACE_TYPES`` under its own
``type_name``; ``evo_nas.space.space_from_dict`` imports ``evo_nas.spaces.<type>`` on first use.
"""
from .fbnet import FBNetSpace
from .mobilenetv3 import MobileNetV3Space

__all__ = ["FBNetSpace", "MobileNetV3Space"]
