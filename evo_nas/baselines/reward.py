"""MnasNet's multi-objective reward ACC x (LAT/T)^w (Tan et al., 2019, arXiv 1807.11626, eq. 2).

w = alpha where LAT <= T, else beta. The soft constraint (alpha = beta = -0.07) trades about 5%
relative accuracy for a 2x latency change; the hard constraint (alpha = 0, beta = -1) only punishes
models slower than the target T. T is in milliseconds of whatever latency the run's
configuration produces (a table prediction or a measurement). Failed evaluations earn 0.
"""
from __future__ import annotations

import math
from dataclasses import dataclass

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


@dataclass(frozen=True)
class Reward:
    """The reward of one configuration: ``reward(record)`` on an evaluation record."""

    target_ms: float
    alpha: float = -0.07
    beta: float = -0.07
    mode: str = "soft"

    @classmethod
    def from_dict(cls, d: dict | None, where: str = "reward") -> "Reward":
        """Keys: ``target_ms`` (required), ``mode`` ("soft" | "hard" | "custom"), ``alpha``, ``beta``."""
        d = dict(d or {})
        unknown = set(d) - {"target_ms", "mode", "alpha", "beta"}
        if unknown:
            raise ValueError(f"{where}: unknown key {sorted(unknown)[0]!r} "
                             "(expected target_ms, mode, alpha, beta)")
        if "target_ms" not in d:
            raise ValueError(f"{where}: missing key 'target_ms' (the latency target T in ms)")
        target = d["target_ms"]
        if isinstance(target, bool) or not isinstance(target, (int, float)) or not target > 0:
            raise ValueError(f"{where}: target_ms = {target!r} must be a number > 0")
        mode = d.get("mode", "soft")
        if mode in PRESETS:
            alpha, beta = PRESETS[mode]
            for k in ("alpha", "beta"):
                if k in d and float(d[k]) != {"alpha": alpha, "beta": beta}[k]:
                    raise ValueError(f"{where}: {k} = {d[k]!r} contradicts mode = {mode!r} "
                                     "(use mode = \"custom\")")
        elif mode == "custom":
            try:
                alpha, beta = float(d["alpha"]), float(d["beta"])
            except KeyError as e:
                raise ValueError(f"{where}: mode = \"custom\" needs {e.args[0]!r}") from None
        else:
            raise ValueError(f"{where}: mode = {mode!r} (expected soft, hard or custom)")
        return cls(float(target), alpha, beta, mode)

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
