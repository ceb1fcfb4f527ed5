"""The studies behind the README's measured results, as library code the scripts in ``experiments/`` call.

- ``sample_efficiency`` and ``sample_efficiency_report``: anytime hypervolume of every search
  algorithm and outside peer (pymoo, EvoX, Optuna) against the best-known Once-for-All front;
- ``proxy_fidelity``: how well each accuracy proxy ranks random genomes against a long training;
- ``proxy_tradeoff``: whether a proxy sees an accuracy/latency trade-off at all;
- ``latency_fidelity``: how far a per-layer latency table can be trusted on this machine;
- ``fewshot_latency``: a new device's latency model from a few measured networks, against HELP and
  NAS-Bench-201's measurements;
- ``anb_surrogate``: fitting and scoring the shipped Accel-NASBench surrogates;
- ``engine_bench``: the search engine's throughput, overhead and resume behaviour;
- ``faults`` and ``faults_rundir``: kill, stop, tear and corrupt small searches and compare with an
  uninterrupted run.

Each study takes its seeds and paths as arguments; ``experiments/<script>.py`` loads a config and
calls one. Optional peers (EvoX, Optuna) are imported inside the functions that run them.
"""
