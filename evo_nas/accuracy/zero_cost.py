"""Zero-cost proxies: one mini-batch, no training, seconds per network.

- synflow: synaptic flow, sum |theta * dR/dtheta| of the linearised network on an all-ones input
  (Tanaka et al., 2020, arXiv 2006.05467; used as a NAS proxy by Abdelfattah et al., 2021,
  arXiv 2101.08134). BatchNorm runs in eval mode with fresh statistics (near identity) and the
  network in float64, as in Abdelfattah et al.'s ``synflow`` measure; the score is its natural log.
- naswot: log-determinant of the kernel of binary activation codes over a mini-batch
  (Mellor et al., 2021, arXiv 2006.04647, "NAS without training").
- grad_norm: sum over parameters of the L2 norm of the cross-entropy gradient (Abdelfattah et al., 2021).
"""
from __future__ import annotations

import copy
import math
import time

import torch
import torch.nn as nn
import torch.nn.functional as F

from .proxy_base import Proxy, ProxyData
from .proxy_config import kind_settings

ACTIVATIONS = (nn.ReLU, nn.ReLU6, nn.Hardswish)


def synflow(model: nn.Module, input_shape: tuple[int, ...], inplace: bool = False) -> float:
    """log of the synflow score of ``model`` for inputs of shape ``C x H x W``.

    The model is left unchanged unless ``inplace`` (then its weights become their absolute values
    in float64), which saves a copy when the model is thrown away afterwards."""
    net = (model if inplace else copy.deepcopy(model)).double().eval()
    with torch.no_grad():
        for p in net.parameters():
            p.abs_()
    net.zero_grad(set_to_none=True)
    net(torch.ones((1, *input_shape), dtype=torch.float64)).sum().backward()
    with torch.no_grad():
        total = sum(float((p * p.grad).abs().sum()) for p in net.parameters() if p.grad is not None)
    return math.log(total) if total > 0 else float("-inf")


def _train_without_dropout(model: nn.Module) -> nn.Module:
    """A copy in training mode (batch statistics) with dropout off, so the score needs no global RNG."""
    net = copy.deepcopy(model).train()
    for m in net.modules():
        if isinstance(m, nn.modules.dropout._DropoutNd):
            m.eval()
    return net


def naswot(model: nn.Module, x: torch.Tensor) -> float:
    """log|K| where K[i, j] counts the activation units on which inputs i and j agree (Mellor et al., 2021)."""
    net = _train_without_dropout(model)
    codes = []
    hooks = [m.register_forward_hook(lambda m, i, o: codes.append((o.detach() > 0).flatten(1).double()))
             for m in net.modules() if isinstance(m, ACTIVATIONS)]
    try:
        with torch.no_grad():
            net(x)
    finally:
        for h in hooks:
            h.remove()
    if not codes:
        raise ValueError("naswot: the network has no ReLU/ReLU6/Hardswish activations to read codes from")
    c = torch.cat(codes, 1)
    k = c @ c.T + (1 - c) @ (1 - c).T
    return float(torch.linalg.slogdet(k)[1])


def grad_norm(model: nn.Module, x: torch.Tensor, y: torch.Tensor) -> float:
    """Sum of per-parameter gradient L2 norms of the cross-entropy loss on one mini-batch."""
    net = _train_without_dropout(model)
    net.zero_grad(set_to_none=True)
    F.cross_entropy(net(x), y).backward()
    return float(sum(p.grad.norm() for p in net.parameters() if p.grad is not None))


class _ZeroCost(Proxy):
    def __init__(self, common: dict, batch_size: int):
        super().__init__(common)
        self.batch_size = batch_size

    @classmethod
    def from_dict(cls, d: dict, common: dict):
        return cls(common, kind_settings(cls.name, d)["batch_size"])

    def settings(self) -> dict:
        return {**super().settings(), "batch_size": self.batch_size}

    def batch(self, data: ProxyData, generator: torch.Generator):
        idx = torch.randperm(len(data.x_train), generator=generator)[:self.batch_size]
        return data.x_train[idx], data.y_train[idx]

    def run(self, model, data, generator) -> dict:
        start = time.perf_counter()
        score = self.score(model, data, generator)
        if not math.isfinite(score):
            raise FloatingPointError(f"{self.name} score is {score}")
        return {"score": score, "val_acc": None, "train_s": time.perf_counter() - start}

    def score(self, model, data, generator) -> float:
        raise NotImplementedError


class SynflowProxy(_ZeroCost):
    name = "synflow"

    def score(self, model, data, generator):
        return synflow(model, tuple(data.x_train.shape[1:]), inplace=True)


class NaswotProxy(_ZeroCost):
    name = "naswot"

    def score(self, model, data, generator):
        return naswot(model, self.batch(data, generator)[0])


class GradNormProxy(_ZeroCost):
    name = "gradnorm"

    def score(self, model, data, generator):
        return grad_norm(model, *self.batch(data, generator))
