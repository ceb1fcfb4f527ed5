"""The configuration schema: every section's defaults, types, ranges and allowed keys in one place.

``resolve(config)`` validates a configuration (a dict, as read from TOML) and returns a ``Config``
model with every default filled in; ``Config.dump()`` is what a run directory's ``config.json``
holds. Errors are ``ValueError`` of one line naming the key path, the bad value and the allowed
values, e.g. ``[search] generations = 0 must be an int >= 1``; an unknown key names the closest
valid one.
"""
from __future__ import annotations

from .config import CONFIG_SECTIONS, SECTIONS, Config, ProblemSection, resolve, resolved, section
from .errors import unknown_key, validate
from .sections import (ENGINE_KEYS, EXECUTION_KEYS, CompareSection, DataSection, LatencySection, ObjectivesSection,
                       ProxySection, SearchSection, Section, SpaceSection)

__all__ = ["CONFIG_SECTIONS", "ENGINE_KEYS", "EXECUTION_KEYS", "SECTIONS", "CompareSection", "Config", "DataSection",
           "LatencySection", "ObjectivesSection", "ProblemSection", "ProxySection", "SearchSection", "Section",
           "SpaceSection", "resolve", "resolved", "section", "unknown_key", "validate"]
