"""Accuracy proxies: short training (MnasNet, Tan et al. 2019, arXiv 1807.11626) and zero-cost scores.

A ``[proxy]`` section names one kind; ``proxy_from_config`` validates it and returns a
``Proxy`` whose ``run(model, batch)`` scores one built network (higher is better).
"""
from __future__ import annotations

from .base import PROXY_COMMON_KEYS, Proxy, ProxyData
from .short_train import ShortTrainProxy
from .zero_cost import GradNormProxy, NaswotProxy, SynflowProxy, grad_norm, naswot, synflow

PROXIES: dict[str, type[Proxy]] = {p.name: p for p in (ShortTrainProxy, SynflowProxy, NaswotProxy, GradNormProxy)}


def proxy_from_config(section: dict | None) -> Proxy:
    """The proxy a ``[proxy]`` section names (default: ``kind = "train"``); ``ValueError`` names a bad key."""
    d = dict(section or {})
    kind = d.pop("kind", "train")
    if kind not in PROXIES:
        raise ValueError(f"[proxy]: kind = {kind!r} (expected one of {', '.join(PROXIES)})")
    return PROXIES[kind].from_dict(d)


__all__ = ["PROXIES", "Proxy", "ProxyData", "proxy_from_config", "ShortTrainProxy", "SynflowProxy",
           "NaswotProxy", "GradNormProxy", "synflow", "naswot", "grad_norm", "PROXY_COMMON_KEYS"]
