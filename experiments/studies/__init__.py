"""Studies and benchmarks the experiment scripts run: importable modules, kept out of the ``evo_nas`` library.

- ``proxy_fidelity``: how well each accuracy proxy ranks random genomes against a long training;
- ``proxy_tradeoff``: whether a proxy sees an accuracy/latency trade-off at all;
- ``latency_fidelity``: how far a per-layer latency table can be trusted on this machine;
- ``engine_bench``: the search engine's throughput, overhead and resume behaviour;
- ``faults``: kill, stop, tear and corrupt small searches and compare with an uninterrupted run.

``python experiments/<script>.py`` finds this package beside the script; the tests put
``experiments/`` on ``sys.path`` (``tests/conftest.py``).
"""
