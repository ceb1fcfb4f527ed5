"""``[proxy]``: the keys every proxy kind takes, each kind's own keys, and the training recipe's ranges.

``ProxySection`` checks the common keys and the kind's own keys with the kind's model here
(``TrainKeys``, ``ZeroCostKeys``); the resolved section holds the kind's settings with their
defaults (``kind_settings``), so ``config.json`` shows the recipe a run used (``steps``, ``lr``, ...
for ``kind = "train"``). ``TrainSettings`` (the recipe ``evo_nas.accuracy.train`` runs) checks
itself with ``TrainKeys``. Nothing here imports torch.
"""
from __future__ import annotations

import math
from dataclasses import asdict, dataclass, fields
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, model_validator

from ..base.config import MAX_BATCH, MAX_STEPS, MAX_THREADS, PositiveFloat, Section
from ..base.errors import unknown_key, validate

# the training recipe's choices (``evo_nas.accuracy.train`` runs them); here so that checking a
# configuration never imports torch
OPTIMIZERS = ("sgd", "adamw")
SCHEDULES = ("cosine", "constant")


# the proxy kinds (``evo_nas.accuracy.proxies.PROXIES`` holds their classes, one per name)
KINDS = ("train", "synflow", "naswot", "gradnorm")
# the short-training proxy's recipe where [proxy] does not set it
TRAIN_DEFAULTS = {"steps": 100, "batch_size": 32, "lr": 0.02}


class ProxySection(Section):
    """``[proxy]``: the keys every kind takes, and the kind's own (``kind_settings``)."""

    model_config = ConfigDict(extra="allow")

    kind: str = Field("train", description="a registered proxy kind")
    threads: int = Field(1, ge=1, le=MAX_THREADS, description=f"an int in [1, {MAX_THREADS}]")
    width_multiplier: PositiveFloat | None = Field(None, description="a positive number")
    resolution: int | None = Field(None, ge=1, description="a positive int (pixels)")
    max_params_m: PositiveFloat | None = Field(None, description="a positive number (millions)")
    max_macs_m: PositiveFloat | None = Field(None, description="a positive number (millions)")
    max_train_s: PositiveFloat | None = Field(None, description="a positive number (s)")

    @model_validator(mode="after")
    def _kind_keys(self) -> "ProxySection":
        if self.kind not in KINDS:
            raise ValueError(f"[proxy] kind = {self.kind!r} (expected one of {', '.join(KINDS)})")
        self.__pydantic_extra__ = kind_settings(self.kind, self.kind_keys())
        return self

    def common(self) -> dict:
        """The keys every kind takes, as given (``threads`` defaults to 1)."""
        return {k: v for k, v in self.model_dump(exclude_none=True).items()
                if k in type(self).model_fields and k != "kind"}

    def kind_keys(self) -> dict:
        """The kind's own keys, as given."""
        return dict(self.model_extra or {})


def kind_keys(model: type[BaseModel], d: dict, kind: str) -> BaseModel:
    """``d``, a proxy kind's own ``[proxy]`` keys, checked with ``model``; ``ValueError`` of one line
    (an unknown key names the kind and the keys it takes)."""
    unknown = sorted(set(d) - set(model.model_fields))
    if unknown:
        raise unknown_key("[proxy]", unknown[0], set(model.model_fields) | set(ProxySection.model_fields),
                          f" for kind = {kind!r}")
    return validate(model, d, "proxy")


class ZeroCostKeys(Section):
    """A zero-cost proxy's own key: the mini-batch it scores."""

    batch_size: int = Field(64, ge=2, le=MAX_BATCH, description=f"an int in [2, {MAX_BATCH}]")


class TrainKeys(Section):
    """A training recipe (``TrainSettings``): each key's type and range; ``None``: not given.
    A recipe needs ``steps`` or ``epochs`` (``steps`` wins when both are given)."""

    steps: int | None = Field(None, ge=1, le=MAX_STEPS, description=f"an int in [1, {MAX_STEPS}]")
    epochs: PositiveFloat | None = Field(None, description="a positive number")
    batch_size: int | None = Field(None, ge=2, le=MAX_BATCH, description=f"an int in [2, {MAX_BATCH}]")
    optimizer: Literal[OPTIMIZERS] | None = Field(None, description=f"one of {', '.join(OPTIMIZERS)}")
    lr: PositiveFloat | None = Field(None, description="a positive number")
    momentum: float | None = Field(None, ge=0, lt=1, description="a number in [0, 1)")
    weight_decay: float | None = Field(None, ge=0, allow_inf_nan=False, description="a number >= 0")
    schedule: Literal[SCHEDULES] | None = Field(None, description=f"one of {', '.join(SCHEDULES)}")
    warmup_steps: int | None = Field(None, ge=0, le=MAX_STEPS, description=f"an int in [0, {MAX_STEPS}]")
    label_smoothing: float | None = Field(None, ge=0, lt=1, description="a number in [0, 1)")
    eval_batch_size: int | None = Field(None, ge=1, le=MAX_BATCH, description=f"an int in [1, {MAX_BATCH}]")
    bn_calibration: int | None = Field(None, ge=0, le=MAX_BATCH, description=f"an int in [0, {MAX_BATCH}] (images)")


def check_recipe(d: dict, section: str) -> None:
    """``d`` (a whole recipe, defaults merged in) checked with ``TrainKeys``; ``ValueError`` of one line
    naming ``[section]``, the key and the value."""
    validate(TrainKeys, d, section)
    if d.get("steps") is None and d.get("epochs") is None:
        raise ValueError(f"[{section}] give steps or epochs")


@dataclass(frozen=True)
class TrainSettings:
    """A training budget and recipe. ``steps`` wins over ``epochs`` when both are given."""

    steps: int | None = None
    epochs: float | None = None
    batch_size: int = 32
    optimizer: str = "sgd"
    lr: float = 0.05
    momentum: float = 0.9
    weight_decay: float = 4e-5
    schedule: str = "cosine"
    warmup_steps: int = 0
    label_smoothing: float = 0.0
    eval_batch_size: int = 500
    bn_calibration: int = 500

    @classmethod
    def from_dict(cls, d: dict, section: str = "proxy") -> "TrainSettings":
        """The recipe ``d`` gives over the defaults (other keys and ``None`` values are left out), checked by
        the schema (``evo_nas.accuracy.proxy_config.TrainKeys``): ``ValueError`` of one line naming ``[section]``,
        the key and the value."""
        names = {f.name for f in fields(cls)}
        kw = {k: v for k, v in d.items() if k in names and v is not None}
        check_recipe(kw, section)
        return cls(**kw)

    def total_steps(self, n_train: int) -> int:
        if self.steps is not None:
            return self.steps
        return max(1, math.ceil(self.epochs * n_train / self.batch_size))

    def to_dict(self) -> dict:
        return {k: v for k, v in asdict(self).items() if v is not None}


def kind_settings(kind: str, d: dict) -> dict:
    """A proxy kind's own ``[proxy]`` keys ``d`` (as given) checked, with their defaults: the recipe
    for ``train`` (``TRAIN_DEFAULTS`` under ``d``; ``epochs`` alone replaces the default ``steps``),
    the scored mini-batch for a zero-cost kind. ``ValueError`` of one line."""
    if kind == "train":
        kind_keys(TrainKeys, d, kind)
        merged = {**TRAIN_DEFAULTS, **d}
        if "epochs" in d and "steps" not in d:
            merged.pop("steps")
        return TrainSettings.from_dict(merged).to_dict()
    return {"batch_size": kind_keys(ZeroCostKeys, d, kind).batch_size}
