"""MnasNet's expensive problem: proxy accuracy from a short training run, and latency on this machine.

Each candidate is trained briefly on a held-out split of a dataset (Tan et al., 2019, arXiv
1807.11626, section 5) or scored by a zero-cost proxy, and its latency is measured or predicted
by ``[latency]``. One genome per worker task (``evo_nas.accuracy.evaluate.evaluate``); latency models
that time networks run serially in the engine's process. Reads ``[space]``, ``[data]``,
``[proxy]`` and ``[latency]``; ``[problem]`` takes no other key.

Training sets process-wide torch state (the RNG, thread count, deterministic mode), so this
problem is not thread-safe: a ``threading`` backend with more than one job is refused.
"""
from __future__ import annotations

from ..accuracy.evaluate import EvalConfig, evaluate
from . import register_problem
from .base import Objective, Problem


@register_problem("train")
class TrainProblem(Problem):
    """Proxy accuracy (or a zero-cost score), costs and latency of a genome, one per worker task."""

    objectives = (Objective("val_acc", "max", "fraction", "validation accuracy after the proxy's short training"),
                  Objective("score", "max", "", "a zero-cost proxy's score"),
                  Objective("latency_ms", "min", "ms", "latency, measured or predicted by [latency]"),
                  Objective("params_m", "min", "M", "parameters"),
                  Objective("macs_m", "min", "M", "multiply-accumulates at batch 1"))
    default_objectives = ("val_acc", "latency_ms")
    config_sections = ("space", "data", "proxy", "latency")
    thread_safe = False

    def __init__(self, eval_cfg: EvalConfig):
        self.eval_cfg = eval_cfg
        self.space = eval_cfg.space()

    @classmethod
    def from_config(cls, config: dict) -> "TrainProblem":
        return cls(EvalConfig.from_dict(config, base_dir=(config.get("search") or {}).get("base_dir")))

    def task(self):
        return evaluate, self.eval_cfg

    def fingerprint(self) -> str:
        return self.eval_cfg.fingerprint()

    def describe(self) -> dict:
        return {"problem": self.name, **self.eval_cfg.describe()}

    def latency_model(self):
        return self.eval_cfg.latency_model()

    def check(self, objectives, algorithm: str, scored_as_accuracy: bool = False, *,
              rewards_accuracy: bool = False) -> None:
        ds = self.eval_cfg.dataset()
        val, n = self.eval_cfg.val_size(), len(ds.x_train)
        if not 0 < val < n:
            raise ValueError(f"[data] val_size = {val} must be in [1, {n - 1}] ({ds.name} has {n} training images)")
        if "latency_ms" in objectives.names and self.eval_cfg.latency_model() is None:
            raise ValueError("[objectives] names include latency_ms but the config has no [latency] "
                             "section: add [latency] (mode = \"table\" measures layers here and predicts) or leave "
                             "latency_ms out of [objectives] names")
        if self.eval_cfg.proxy.needs_training or scored_as_accuracy:
            return
        # a zero-cost proxy gives a score and no accuracy: every candidate would look failed
        kind = self.eval_cfg.proxy.name
        if "val_acc" in objectives.names:
            raise ValueError(f"[objectives] val_acc needs a training proxy; [proxy] kind = {kind!r} gives a score: "
                             f"use names = [\"score\", ...]")
        if rewards_accuracy:
            raise ValueError(f"[search] algorithm = {algorithm!r} rewards accuracy, which [proxy] kind = "
                             f"{kind!r} does not give (use kind = \"train\")")
