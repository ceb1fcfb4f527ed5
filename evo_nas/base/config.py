"""The base of every configuration section model: strict types, no unknown keys; shared number types.

Imports nothing of the package beyond pydantic, so a section model may live beside the layer
that reads it (``evo_nas.latency.config``) and still be one of the schema's.
"""
from __future__ import annotations

from typing import Annotated

from pydantic import AfterValidator, BaseModel, ConfigDict, Field

#: upper bounds of the sizes a configuration sets, so that a typo cannot exhaust the machine
MAX_BATCH = 100_000          # genomes in a population, an offspring batch or a sample; images in a batch
MAX_COUNT = 10_000_000       # generations, evaluations (memory grows about 6 KiB per evaluation), images
MAX_STEPS = 1_000_000        # training steps, timing repeats and rounds
MAX_WIDTH = 4096             # pixels, channels, hidden units
MAX_THREADS = 256            # threads in one process
MAX_JOBS = 512               # parallel workers (a search starts no more than it has genomes to evaluate)

PositiveFloat = Annotated[float, Field(gt=0, allow_inf_nan=False)]
FiniteFloat = Annotated[float, Field(allow_inf_nan=False)]


def _n_jobs(v: int) -> int:
    if v == 0 or v < -1 or v > MAX_JOBS:
        raise ValueError(f"n_jobs must be an int in [1, {MAX_JOBS}] or -1")
    return v


#: a worker count as joblib takes it: an int in [1, MAX_JOBS], or -1 for every core
NJobs = Annotated[int, AfterValidator(_n_jobs)]


class Section(BaseModel):
    """A table of the configuration: strict types (no ``"3"`` for 3, no ``true`` for 1), no unknown keys."""

    model_config = ConfigDict(strict=True, extra="forbid", validate_default=False)

    def given(self) -> set[str]:
        """The keys the configuration set, its own and a registry's."""
        return set(self.model_fields_set) | set(self.model_extra or {})


class Seeded(Section):
    """A configuration's top-level ``seed`` (``Config`` declares it here); other keys are not this
    model's, so a layer that takes a whole configuration checks its seed with ``validate(Seeded, config)``."""

    model_config = ConfigDict(extra="ignore")

    seed: int = Field(0, ge=0, description="a non-negative int")
