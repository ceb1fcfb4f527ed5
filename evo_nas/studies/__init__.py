"""The studies behind the README's measured results, as library code the scripts in ``experiments/`` call.

- ``sample_efficiency`` and ``sample_efficiency_report``: anytime hypervolume of every search
  algorithm and outside peer (pymoo, EvoX, Optuna) against the best-known Once-for-All front;
- ``proxy_fidelity``: how well each accuracy proxy ranks random genomes against a long training;
- ``proxy_tradeoff``: whether a proxy sees an accuracy/latency trade-off at all;
- ``latency_fidelity``: how far a per-layer latency table can be trusted on this machine;
- ``fewshot_latency``: a new device's latency model from a few measured networks, against HELP and
  NAS-Bench-201's measurements; ``fewshot_sources``: the same from several known devices, HELP's own
  NAS-Bench-201 split, and NAS-Bench-201's measurement noise;
- ``anb_surrogate``: fitting and scoring the shipped Accel-NASBench surrogates;
- ``ofa_bench`` and ``ofa_bench_scale``: search quality and engine cost on Once-for-All's benchmark
  beside pymoo's and EvoX's NSGA-II; ``best_known``: the best-known front those are measured against;
- ``platforms`` and ``platforms_published``: the same search on two platforms (this machine or the
  i7-8700K against the Note10);
- ``latency_trust``: a table built, judged and checked on this machine, beside a few-shot model;
- ``stability_threshold``: what the stability rules of a table's build see on a quiet machine and under a
  known load (``busy_load``: busy worker processes started and always stopped), to set their limits;
- ``front_budget``: front size and hypervolume per search budget;
- ``anb_costs``: evo-nas's parameter and MAC counts against Accel-NASBench's records;
- ``replay_cost``: what a resume's replay costs against the search;
- ``engine_bench``: the search engine's throughput, overhead and resume behaviour;
- ``faults``, ``faults_harness`` and ``faults_rundir``: kill, stop, tear and corrupt small searches and
  compare with an uninterrupted run.

Each study takes its seeds and paths as arguments and writes nowhere it is not told to;
``experiments/<script>.py`` parses options, loads a config, calls one and writes its results under
``runs/<script>`` (or ``--out``; committed results are replaced only with ``--overwrite``).
Optional peers (EvoX, Optuna) are imported inside the functions that run them.
"""
