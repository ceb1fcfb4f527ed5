"""Search strategies, each a file and one line in ``registry.STRATEGIES``: NSGA-II (Deb et al. 2002)
and its surrogate-assisted form, and the baselines on the same engine: MnasNet's RL controller
(Tan et al., 2019, arXiv 1807.11626), random search, and aging evolution (Real et al., AAAI 2019).
Block-aware operators, the objectives and their constraints, and the ``[search]`` /
``[objectives]`` / ``[constraints]`` section models live here too."""
