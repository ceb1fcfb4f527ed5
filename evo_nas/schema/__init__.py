"""The configuration schema: every section's defaults, types, ranges and allowed keys in one place.

``resolve(config)`` validates a configuration (a dict, as read from TOML) and returns a ``Config``
model with every default filled in; ``Config.dump()`` is what a run directory's ``config.json``
holds. Errors are ``ValueError`` of one line naming the key path, the bad value and the allowed
values, e.g. ``[search] generations = 0 must be an int >= 1``; an unknown key names the closest
valid one.

- ``evo_nas.schema.errors``: the one-line errors (imports nothing of the package, so a problem or
  another lower layer may validate its own model with ``validate``);
- ``evo_nas.schema.base``: the ``Section`` base model, shared number types and the top-level ``seed``;
- ``evo_nas.schema.protocol``: the latency measurement protocol's keys (``Protocol`` checks itself there);
- ``evo_nas.schema.space``, ``.data``, ``.proxy``, ``.latency``: those sections, each importable by the
  layer that reads it (``EvalConfig``, ``DataConfig``, ``proxy_from_config``, ``latency_model_from_config``
  check their section with it), with the models of a proxy kind's own keys and of a training recipe;
- ``evo_nas.schema.sections``: the other sections (and all of them, for ``evo_nas.schema.config``);
- ``evo_nas.schema.config``: the whole configuration, checked against the registries.

Names are imported when first used, so importing ``evo_nas.schema.errors`` loads nothing else.
"""
from __future__ import annotations

import importlib

_EXPORTS = {
    "CONFIG_SECTIONS": "config", "SECTIONS": "config", "Config": "config", "ProblemSection": "config",
    "resolve": "config", "resolved": "config", "section": "config",
    "unknown_key": "errors", "validate": "errors",
    "ENGINE_KEYS": "sections", "EXECUTION_KEYS": "sections", "CompareSection": "sections", "SuiteSection": "sections", "DataSection": "data",
    "LatencySection": "latency", "ObjectivesSection": "sections", "ProxySection": "proxy",
    "SearchSection": "sections", "Section": "sections", "SpaceSection": "space",
}

__all__ = sorted(_EXPORTS)


def __getattr__(name: str):
    if name not in _EXPORTS:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    value = getattr(importlib.import_module(f"{__name__}.{_EXPORTS[name]}"), name)
    globals()[name] = value
    return value
