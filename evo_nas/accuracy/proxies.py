"""Accuracy proxies: short training (MnasNet, Tan et al. 2019, arXiv 1807.11626) and zero-cost scores.

A ``[proxy]`` section names one kind; ``proxy_from_config`` validates it and returns a
``Proxy`` whose ``run(model, batch)`` scores one built network (higher is better).
"""
from __future__ import annotations

from .proxy_base import Proxy, ProxyData
from .short_train import ShortTrainProxy
from .zero_cost import GradNormProxy, NaswotProxy, SynflowProxy, grad_norm, naswot, synflow

PROXIES: dict[str, type[Proxy]] = {p.name: p for p in (ShortTrainProxy, SynflowProxy, NaswotProxy, GradNormProxy)}


def proxy_from_config(section: dict | None) -> Proxy:
    """The proxy a ``[proxy]`` section names (default: ``kind = "train"``), checked by the schema
    (``evo_nas.accuracy.proxy_config.ProxySection``): ``ValueError`` of one line naming a bad key or value."""
    from ..base.errors import validate
    from .proxy_config import ProxySection

    s = validate(ProxySection, dict(section or {}), "proxy")
    return PROXIES[s.kind].from_dict(s.kind_keys(), s.common())


__all__ = ["PROXIES", "Proxy", "ProxyData", "proxy_from_config", "ShortTrainProxy", "SynflowProxy",
           "NaswotProxy", "GradNormProxy", "synflow", "naswot", "grad_norm"]
