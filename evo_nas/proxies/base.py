"""The proxy interface: settings shared by every proxy, and the data a proxy sees."""
from __future__ import annotations

from dataclasses import dataclass
from typing import ClassVar

import torch

# Keys every [proxy] section may hold, whatever its kind; evaluate() applies them.
PROXY_COMMON_KEYS = {"threads": int, "width_multiplier": float, "resolution": int,
                     "max_params_m": float, "max_macs_m": float, "max_train_s": float}


@dataclass(frozen=True)
class ProxyData:
    """Normalised ``N x C x H x W`` tensors of the training and validation splits, at the proxy's resolution."""

    x_train: torch.Tensor
    y_train: torch.Tensor
    x_val: torch.Tensor
    y_val: torch.Tensor


def check_common(d: dict, where: str = "[proxy]") -> dict:
    """Validated common settings (``threads`` defaults to 1)."""
    out = {"threads": 1}
    for key, kind in PROXY_COMMON_KEYS.items():
        if key not in d:
            continue
        v = d[key]
        if isinstance(v, bool) or not isinstance(v, (int, float) if kind is float else int) or v <= 0:
            raise ValueError(f"{where}: {key} = {v!r} must be a positive {kind.__name__}")
        out[key] = kind(v)
    return out


class Proxy:
    """Scores one network; subclasses set ``name`` and implement ``run`` and ``from_dict``."""

    name: ClassVar[str] = ""
    needs_training: ClassVar[bool] = False

    def __init__(self, common: dict):
        self.common = common

    @classmethod
    def from_dict(cls, d: dict) -> "Proxy":
        raise NotImplementedError

    def settings(self) -> dict:
        """Everything that changes the score: part of the evaluation fingerprint."""
        return {"kind": self.name, **self.common}

    def run(self, model: torch.nn.Module, data: ProxyData, generator: torch.Generator) -> dict:
        """``{"score": float, "val_acc": float | None, "train_s": float, ...}``; may raise."""
        raise NotImplementedError


def reject_unknown(d: dict, allowed: set, kind: str) -> None:
    unknown = set(d) - allowed - set(PROXY_COMMON_KEYS)
    if unknown:
        raise ValueError(f"[proxy]: unknown key {sorted(unknown)[0]!r} for kind = {kind!r} "
                         f"(expected {', '.join(sorted(allowed | set(PROXY_COMMON_KEYS)))})")
