"""A dataset in memory: train and test images with integer labels, their fingerprint, statistics and split.

Validation is a fixed, seeded split of the training data, as in MnasNet (Tan et al., 2019,
arXiv 1807.11626, section 5: a held-out part of the training set); the test split is never used
during search. ``to_tensor`` normalises images with the training statistics for PyTorch.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from functools import cached_property

import numpy as np

from ..base.hashing import digest


class DatasetError(ValueError):
    """A missing, malformed or inconsistent dataset; the message names the file and the problem."""


@dataclass(frozen=True, eq=False)
class Dataset:
    """Images as ``N x H x W x C`` arrays (any numeric dtype) and integer labels, train and test."""

    name: str
    x_train: np.ndarray
    y_train: np.ndarray
    x_test: np.ndarray
    y_test: np.ndarray
    source: str = ""
    classes: tuple[str, ...] = field(default=())

    def __post_init__(self):
        for split, x, y in (("train", self.x_train, self.y_train), ("test", self.x_test, self.y_test)):
            if x.ndim != 4:
                raise DatasetError(f"{self.source}: {split} images have shape {x.shape}, expected N x H x W [x C]")
            if y.shape != (len(x),):
                raise DatasetError(f"{self.source}: {len(x)} {split} images but labels of shape {y.shape}")
            if len(x) == 0:
                raise DatasetError(f"{self.source}: the {split} split is empty")
        if self.x_train.shape[1:] != self.x_test.shape[1:]:
            raise DatasetError(f"{self.source}: train images are {self.x_train.shape[1:]}, "
                               f"test images {self.x_test.shape[1:]}")
        h, w = self.x_train.shape[1:3]
        if h != w:
            raise DatasetError(f"{self.source}: images are {h}x{w}; the models need square input")
        if self.num_classes < 2:
            raise DatasetError(f"{self.source}: labels have {self.num_classes} class(es), need at least 2")

    @property
    def resolution(self) -> int:
        return int(self.x_train.shape[1])

    @property
    def in_channels(self) -> int:
        return int(self.x_train.shape[3])

    @property
    def num_classes(self) -> int:
        return int(max(self.y_train.max(), self.y_test.max())) + 1

    @cached_property
    def fingerprint(self) -> str:
        """Hash of the images and labels themselves, whatever file format they came from."""
        arrays = (self.x_train, self.y_train, self.x_test, self.y_test)
        return digest(*(chunk for a in arrays
                        for chunk in (str((a.dtype.str, a.shape)).encode(), np.ascontiguousarray(a).tobytes())))

    @cached_property
    def stats(self) -> tuple[np.ndarray, np.ndarray]:
        """Per-channel mean and std of the training images, for normalisation."""
        x = self.x_train.astype(np.float64)
        mean = x.mean(axis=(0, 1, 2))
        std = x.std(axis=(0, 1, 2))
        return mean, np.where(std > 0, std, 1.0)

    def split(self, val_size: int, seed: int) -> tuple[np.ndarray, np.ndarray]:
        """(train indices, validation indices): a fixed, seeded split of the training images."""
        n = len(self.x_train)
        if not 0 < val_size < n:
            raise DatasetError(f"{self.source}: val_size = {val_size} must be in [1, {n - 1}]")
        perm = np.random.default_rng(seed).permutation(n)
        return np.sort(perm[val_size:]), np.sort(perm[:val_size])

    def describe(self) -> dict:
        return {"name": self.name, "source": self.source, "train": len(self.x_train), "test": len(self.x_test),
                "resolution": self.resolution, "in_channels": self.in_channels,
                "num_classes": self.num_classes, "fingerprint": self.fingerprint}


def to_tensor(x: np.ndarray, stats: tuple[np.ndarray, np.ndarray], resolution: int | None = None):
    """``N x H x W x C`` images -> normalised float32 ``N x C x H x W`` tensor, optionally resized (bilinear)."""
    import torch
    import torch.nn.functional as F

    mean, std = stats
    t = torch.from_numpy(((x.astype(np.float32) - mean.astype(np.float32)) / std.astype(np.float32)))
    t = t.permute(0, 3, 1, 2).contiguous()
    if resolution is not None and resolution != t.shape[-1]:
        t = F.interpolate(t, size=(resolution, resolution), mode="bilinear", align_corners=False,
                          antialias=resolution < t.shape[-1])
    return t


__all__ = ["Dataset", "DatasetError", "to_tensor"]
