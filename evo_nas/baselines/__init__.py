"""Baseline search strategies on the same engine as NSGA-II: MnasNet's RL controller (Tan et al.,
2019, arXiv 1807.11626), random search, and aging evolution (Real et al., AAAI 2019)."""
from .reward import Reward, mnasnet_reward

__all__ = ["Reward", "mnasnet_reward"]
