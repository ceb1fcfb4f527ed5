"""``[data]``: the dataset a run reads, its split and the defaults that follow from the other keys.

Without ``path`` (and ``format``) the data is the embedded dataset: ``format = "embedded"`` and
``name = "mnist-subset"`` are written in. With a ``path`` and no ``format`` the format is
derived where the data is read (``DataConfig``), from the file or folder found there, so it
stays unwritten; so does ``val_size`` (a fifth of the training images, at most 1000). The model
sits beside ``evo_nas.accuracy.data``, which checks a section with it.
"""
from __future__ import annotations

from typing import Literal

from pydantic import Field, model_validator

from ..base.config import MAX_COUNT, Section
from .datafiles import DEFAULT_EMBEDDED, EMBEDDED

FORMATS = ("embedded", "idx", "npz", "folder")


class DataSection(Section):
    """``[data]``: ``format`` defaults from ``path`` (none: the embedded dataset), ``name`` from the file."""

    name: str | None = Field(None, description="a dataset name")
    format: Literal[FORMATS] | None = Field(None, description=f"one of {', '.join(FORMATS)}")
    path: str | None = Field(None, description="a file or folder path")
    val_size: int | None = Field(None, ge=1, le=MAX_COUNT,
                                 description=f"an int in [1, {MAX_COUNT}] (images held out of training)")
    test_fraction: float = Field(0.2, gt=0, lt=1, description="a number in (0, 1)")
    split_seed: int = Field(0, ge=0, description="a non-negative int")

    @model_validator(mode="after")
    def _source(self) -> "DataSection":
        if self.format is None and self.path is None:
            self.format = "embedded"
        if self.format == "embedded":
            if self.name is None:
                self.name = DEFAULT_EMBEDDED
            elif self.name not in EMBEDDED:
                raise ValueError(f"[data] name = {self.name!r} is not an embedded dataset (expected one of "
                                 f"{', '.join(EMBEDDED)}); give a path for other data")
        elif self.format is not None and self.path is None:
            raise ValueError(f"[data] format = {self.format!r} needs a path")
        return self
