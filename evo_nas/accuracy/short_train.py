"""The short-training proxy of MnasNet (Tan et al., 2019, arXiv 1807.11626, section 5): validation accuracy after a small budget."""
from __future__ import annotations

import torch

from .proxy_base import Proxy, ProxyData
from .proxy_config import TrainSettings, kind_settings
from .train import accuracy, recalibrate_bn, train_model


class ShortTrainProxy(Proxy):
    """Train for ``steps`` (or ``epochs``) on the training split, score = accuracy on the validation split."""

    name = "train"
    needs_training = True

    def __init__(self, common: dict, train: TrainSettings):
        super().__init__(common)
        self.train = train

    @classmethod
    def from_dict(cls, d: dict, common: dict) -> "ShortTrainProxy":
        return cls(common, TrainSettings.from_dict(kind_settings(cls.name, d)))

    def settings(self) -> dict:
        return {**super().settings(), **self.train.to_dict()}

    def run(self, model: torch.nn.Module, data: ProxyData, generator: torch.Generator) -> dict:
        out = train_model(model, data.x_train, data.y_train, self.train, generator, self.common.get("max_train_s"))
        recalibrate_bn(model, data.x_train, self.train.bn_calibration)
        acc = accuracy(model, data.x_val, data.y_val, self.train.eval_batch_size)
        return {"score": acc, "val_acc": acc, "train_s": out.train_s, "steps": out.steps, "final_loss": out.final_loss}
