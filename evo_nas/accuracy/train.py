"""Seeded, deterministic training of one network: the loop behind the short-training proxy and full training.

MnasNet (Tan et al., 2019, arXiv 1807.11626, section 5) ranks candidates by the accuracy of a
short training run (5 epochs on ImageNet) on a held-out split; ``train_model`` runs such a
budget (steps or epochs, SGD/AdamW, cosine or constant schedule) with a dedicated
``torch.Generator`` for data order, a forked global RNG for dropout, deterministic algorithms
and an explicit thread count, so the same seed gives bit-for-bit the same weights.
"""
from __future__ import annotations

import math
import time
from contextlib import contextmanager
from dataclasses import dataclass

import torch
import torch.nn.functional as F

from .proxy_config import TrainSettings


class TrainingFailed(RuntimeError):
    """Training stopped: a non-finite loss or the time budget ran out. The message says which."""


@dataclass(frozen=True)
class TrainOutcome:
    steps: int
    train_s: float
    final_loss: float


@contextmanager
def deterministic(threads: int, seed: int):
    """Explicit threads, deterministic kernels and a seeded global RNG (for dropout), restored on exit."""
    old_threads = torch.get_num_threads()
    old_det = torch.are_deterministic_algorithms_enabled()
    torch.set_num_threads(threads)
    torch.use_deterministic_algorithms(True)
    try:
        with torch.random.fork_rng(devices=[]):
            torch.manual_seed(seed)
            yield
    finally:
        torch.use_deterministic_algorithms(old_det)
        torch.set_num_threads(old_threads)


def lr_at(settings: TrainSettings, step: int, total: int) -> float:
    if step < settings.warmup_steps:
        return settings.lr * (step + 1) / settings.warmup_steps
    if settings.schedule == "constant":
        return settings.lr
    t = (step - settings.warmup_steps) / max(1, total - settings.warmup_steps)
    return 0.5 * settings.lr * (1 + math.cos(math.pi * t))


def make_optimizer(model: torch.nn.Module, s: TrainSettings) -> torch.optim.Optimizer:
    decay = [p for p in model.parameters() if p.ndim > 1]
    no_decay = [p for p in model.parameters() if p.ndim <= 1]
    groups = [{"params": decay, "weight_decay": s.weight_decay}, {"params": no_decay, "weight_decay": 0.0}]
    if s.optimizer == "sgd":
        return torch.optim.SGD(groups, lr=s.lr, momentum=s.momentum, nesterov=s.momentum > 0)
    return torch.optim.AdamW(groups, lr=s.lr)


def train_model(model: torch.nn.Module, x: torch.Tensor, y: torch.Tensor, settings: TrainSettings,
                generator: torch.Generator, max_train_s: float | None = None) -> TrainOutcome:
    """Train in place for ``settings.total_steps(len(x))`` steps; raises ``TrainingFailed``."""
    total = settings.total_steps(len(x))
    bs = min(settings.batch_size, len(x))
    opt = make_optimizer(model, settings)
    model.train()
    start = time.perf_counter()
    order = torch.randperm(len(x), generator=generator)
    pos = 0
    loss_value = float("nan")
    for step in range(total):
        if pos + bs > len(x):
            order, pos = torch.randperm(len(x), generator=generator), 0
        idx = order[pos:pos + bs]
        pos += bs
        for group in opt.param_groups:
            group["lr"] = lr_at(settings, step, total)
        opt.zero_grad(set_to_none=True)
        loss = F.cross_entropy(model(x[idx]), y[idx], label_smoothing=settings.label_smoothing)
        loss_value = float(loss.detach())
        if not math.isfinite(loss_value):
            raise TrainingFailed(f"loss became {loss_value} at step {step + 1} of {total}")
        loss.backward()
        opt.step()
        if max_train_s is not None and time.perf_counter() - start > max_train_s:
            raise TrainingFailed(f"training exceeded max_train_s = {max_train_s:g} s at step {step + 1} of {total}")
    return TrainOutcome(total, time.perf_counter() - start, loss_value)


@torch.no_grad()
def recalibrate_bn(model: torch.nn.Module, x: torch.Tensor, images: int = 500, batch_size: int = 250) -> None:
    """Reset BatchNorm statistics to the exact average over the first ``images`` training images.

    After a few hundred steps the running averages lag far behind the weights, and eval-mode
    accuracy collapses to chance; once-for-all (Cai et al., 2020, arXiv 1908.09791,
    ``set_running_statistics``) re-estimates them on a training subset before evaluating.
    """
    bns = [m for m in model.modules() if isinstance(m, torch.nn.modules.batchnorm._BatchNorm)]
    if not bns or images <= 0:
        return
    momenta = [m.momentum for m in bns]
    for m in bns:
        m.reset_running_stats()
        m.momentum = None
    model.train()
    try:
        for i in range(0, min(images, len(x)), batch_size):
            model(x[i:min(i + batch_size, images)])
    finally:
        for m, mom in zip(bns, momenta):
            m.momentum = mom
    model.eval()


@torch.no_grad()
def accuracy(model: torch.nn.Module, x: torch.Tensor, y: torch.Tensor, batch_size: int = 500) -> float:
    model.eval()
    correct = 0
    for i in range(0, len(x), batch_size):
        correct += int((model(x[i:i + batch_size]).argmax(1) == y[i:i + batch_size]).sum())
    return correct / len(x)


__all__ = ["TrainSettings", "TrainOutcome", "TrainingFailed", "train_model", "accuracy", "recalibrate_bn", "deterministic", "lr_at"]
