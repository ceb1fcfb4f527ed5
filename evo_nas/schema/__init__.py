"""The whole configuration, assembled from the sections each domain owns.

``resolve(config)`` validates a configuration (a dict, as read from TOML) and returns a ``Config``
model with every default filled in; ``Config.dump()`` is what a run directory's ``config.json``
holds. Errors are ``ValueError`` of one line naming the key path, the bad value and the allowed
values, e.g. ``[search] generations = 0 must be an int >= 1``; an unknown key names the closest
valid one.

Each section's model lives with the code that reads it:

=================  ==============================================
``[problem]``      ``evo_nas.problems.config.ProblemSection``
``[search]``       ``evo_nas.algorithms.config.SearchSection``
``[objectives]``   ``evo_nas.algorithms.config.ObjectivesSection``
``[constraints]``  ``evo_nas.algorithms.constraints_config``
``[space]``        ``evo_nas.spaces.config.SpaceSection``
``[data]``         ``evo_nas.accuracy.data_config.DataSection``
``[proxy]``        ``evo_nas.accuracy.proxy_config.ProxySection``
``[latency]``      ``evo_nas.latency.config.LatencySection``
``[compare]``      ``evo_nas.analysis.config.CompareSection``
``[suite]``        ``evo_nas.analysis.config.SuiteSection``
=================  ==============================================

The one-line errors are ``evo_nas.base.errors``; the ``Section`` base model and shared number types
``evo_nas.base.config``. ``evo_nas.schema.config`` only assembles them.
"""
from .config import CONFIG_SECTIONS, SECTIONS, Config, resolve, resolved, section

__all__ = ["CONFIG_SECTIONS", "SECTIONS", "Config", "resolve", "resolved", "section"]
