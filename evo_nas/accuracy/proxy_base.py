"""The proxy interface: a proxy built from its checked ``[proxy]`` keys, and the data a proxy sees."""
from __future__ import annotations

from dataclasses import dataclass
from typing import ClassVar

import torch


@dataclass(frozen=True)
class ProxyData:
    """Normalised ``N x C x H x W`` tensors of the training and validation splits, at the proxy's resolution."""

    x_train: torch.Tensor
    y_train: torch.Tensor
    x_val: torch.Tensor
    y_val: torch.Tensor


class Proxy:
    """Scores one network; subclasses set ``name`` and implement ``run`` and ``from_dict``."""

    name: ClassVar[str] = ""
    needs_training: ClassVar[bool] = False

    def __init__(self, common: dict):
        self.common = common

    @classmethod
    def from_dict(cls, d: dict, common: dict) -> "Proxy":
        """The proxy from its kind's own ``[proxy]`` keys ``d`` (as given) and ``common``, the keys every
        kind takes, already checked (``evo_nas.accuracy.proxy_config.ProxySection``); ``ValueError`` of one line."""
        raise NotImplementedError

    def settings(self) -> dict:
        """Everything that changes the score: part of the evaluation fingerprint."""
        return {"kind": self.name, **self.common}

    def run(self, model: torch.nn.Module, data: ProxyData, generator: torch.Generator) -> dict:
        """``{"score": float, "val_acc": float | None, "train_s": float, ...}``; may raise."""
        raise NotImplementedError
