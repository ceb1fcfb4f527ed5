"""``[proxy]``: the keys every proxy kind takes, each kind's own keys, and the training recipe's ranges.

``ProxySection`` checks the common keys and hands the rest to the kind's class (``PROXIES``),
which checks them with its model here (``TrainKeys``, ``ZeroCostKeys``); the resolved section
is the built proxy's ``settings()``, so ``config.json`` shows the recipe a run used (``steps``,
``lr``, ... for ``kind = "train"``). ``TrainSettings.from_dict`` checks a recipe with
``TrainKeys`` too. The models sit beside the proxies, which use them.
"""
from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, model_validator

from .base import MAX_BATCH, MAX_STEPS, MAX_THREADS, PositiveFloat, Section
from .errors import unknown_key, validate

# the training recipe's choices (``evo_nas.train`` runs them); here so that checking a
# configuration never imports torch
OPTIMIZERS = ("sgd", "adamw")
SCHEDULES = ("cosine", "constant")


class ProxySection(Section):
    """``[proxy]``: the keys every kind takes; a kind's own keys are checked by its class (``PROXIES``)."""

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
        from ..proxies import PROXIES

        if self.kind not in PROXIES:
            raise ValueError(f"[proxy] kind = {self.kind!r} (expected one of {', '.join(PROXIES)})")
        proxy = PROXIES[self.kind].from_dict(self.kind_keys(), self.common())
        self.__pydantic_extra__ = {k: v for k, v in proxy.settings().items() if k not in type(self).model_fields}
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
