"""MnasNet's multi-objective reward ACC x (LAT/T)^w (Tan et al., 2019, arXiv 1807.11626, eq. 2).

w = alpha where LAT <= T, else beta. The soft constraint (alpha = beta = -0.07) trades about 5%
relative accuracy for a 2x latency change; the hard constraint (alpha = 0, beta = -1) only punishes
models slower than the target T. T is in milliseconds of whatever latency the run's
configuration produces (a table prediction or a measurement). Failed evaluations earn 0.
"""
from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Literal

from pydantic import Field, ValidationInfo, model_validator

from ..base.config import FiniteFloat, PositiveFloat, Section
from ..base.errors import validate

PRESETS = {"soft": (-0.07, -0.07), "hard": (0.0, -1.0)}


def mnasnet_reward(acc: float, latency_ms: float, target_ms: float, alpha: float = -0.07,
                   beta: float = -0.07) -> float:
    """ACC x (LAT/T)^w with w = alpha if LAT <= T else beta."""
    if target_ms <= 0:
        raise ValueError(f"target_ms = {target_ms!r} must be > 0")
    if latency_ms is None or not math.isfinite(latency_ms) or latency_ms <= 0:
        raise ValueError(f"latency_ms = {latency_ms!r} must be a positive finite number")
    w = alpha if latency_ms <= target_ms else beta
    return float(acc) * (latency_ms / target_ms) ** w


class RewardKeys(Section):
    """``[search.reward]``: ``target_ms`` (required), ``mode`` (``"soft"``: alpha = beta = -0.07; ``"hard"``:
    alpha 0, beta -1; ``"custom"``: both given), ``alpha``, ``beta``; a preset's exponents are
    written out, and one that contradicts its mode is an error."""

    target_ms: PositiveFloat | None = Field(None, description="a number > 0 (the latency target T in ms)")
    mode: Literal["soft", "hard", "custom"] = Field("soft", description="one of soft, hard, custom")
    alpha: FiniteFloat | None = Field(None, description="a number")
    beta: FiniteFloat | None = Field(None, description="a number")

    @model_validator(mode="after")
    def _exponents(self, info: ValidationInfo) -> "RewardKeys":
        where = (info.context or {}).get("where", "search.reward")
        if self.target_ms is None:
            raise ValueError(f"[{where}] target_ms is required (the latency target T in ms)")
        if self.mode in PRESETS:
            for key, preset in zip(("alpha", "beta"), PRESETS[self.mode]):
                if getattr(self, key) is not None and getattr(self, key) != preset:
                    raise ValueError(f"[{where}] {key} = {getattr(self, key)!r} contradicts mode = {self.mode!r} "
                                     "(use mode = \"custom\")")
                setattr(self, key, preset)
        else:
            missing = [key for key in ("alpha", "beta") if getattr(self, key) is None]
            if missing:
                raise ValueError(f"[{where}] mode = \"custom\" needs {missing[0]!r}")
        return self


@dataclass(frozen=True)
class Reward:
    """The reward of one configuration: ``reward(record)`` on an evaluation record."""

    target_ms: float
    alpha: float = -0.07
    beta: float = -0.07
    mode: str = "soft"

    @classmethod
    def from_dict(cls, d: dict | None, where: str = "reward") -> "Reward":
        """Keys (``RewardKeys``): ``target_ms`` (required), ``mode`` ("soft" | "hard" | "custom"), ``alpha``,
        ``beta``. ``ValueError`` of one line naming ``[where]``, the key and the value."""
        section = where.strip("[]")
        k = validate(RewardKeys, {} if d is None else d, section, context={"where": section})
        return cls(k.target_ms, k.alpha, k.beta, k.mode)

    def __call__(self, acc: float, latency_ms: float) -> float:
        return mnasnet_reward(acc, latency_ms, self.target_ms, self.alpha, self.beta)

    def of_record(self, record: dict, accuracy: str = "val_acc") -> float:
        """The reward of an evaluation record (``accuracy``, ``latency_ms``); 0 for a failed one."""
        if record.get("status", "ok") != "ok":
            return 0.0
        acc, lat = record.get(accuracy), record.get("latency_ms")
        if acc is None or lat is None or not math.isfinite(acc) or not math.isfinite(lat) or lat <= 0:
            return 0.0
        return self(acc, lat)

    def to_dict(self) -> dict:
        return {"target_ms": self.target_ms, "mode": self.mode, "alpha": self.alpha, "beta": self.beta}
