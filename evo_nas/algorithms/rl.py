"""MnasNet's RL controller (Tan et al., 2019, arXiv 1807.11626, sec. 3-4; Zoph et al., 2018):
an LSTM policy that samples a genome one decision at a time, trained with PPO or REINFORCE.

The policy is a one-layer LSTM (100 hidden units by default). At step i its input is the embedding of
the choice made at step i-1 (a learned start vector at step 0) and a per-decision linear head gives
the softmax over decision i's choices. One ``ask()`` samples a batch of models; ``tell()`` turns
their evaluations into MnasNet rewards ACC x (LAT/T)^w and takes a policy-gradient update with an
exponential moving-average reward baseline and an entropy bonus: PPO's clipped surrogate
(Schulman et al., 2017) over a few epochs of the batch, or a single REINFORCE step.
Every random draw comes from an explicit ``torch.Generator`` seeded from the run's numpy generator.
"""
from __future__ import annotations

import collections
import copy
from dataclasses import asdict, dataclass
from typing import Literal

import numpy as np
import torch
from pydantic import Field
from torch import nn

from ..base.config import MAX_BATCH, MAX_STEPS, MAX_WIDTH, PositiveFloat, Section
from ..base.errors import error_text, validate
from ..spaces.space import Genome, Space
from .reward import Reward, RewardKeys


class Controller(nn.Module):
    """LSTM policy over a sequence of categorical decisions with the given cardinalities.

    Decision i has its own embedding rows (one table, offset by decision) and its own linear head;
    the heads are stored padded to the largest cardinality, the padding masked out of every softmax.
    Sampling runs the LSTM one decision at a time; scoring given actions runs it over the whole
    sequence at once and all heads in one batched product, so a policy update is one short graph."""

    def __init__(self, cardinalities, hidden: int = 100, temperature: float = 1.0,
                 tanh_constant: float | None = None, generator: torch.Generator | None = None,
                 init_range: float = 0.1):
        super().__init__()
        self.cardinalities = tuple(int(c) for c in cardinalities)
        if not self.cardinalities or min(self.cardinalities) < 1:
            raise ValueError(f"cardinalities = {cardinalities!r} must be a non-empty sequence of ints >= 1")
        n_dec, widest = len(self.cardinalities), max(self.cardinalities)
        self.hidden = hidden
        self.temperature = temperature
        self.tanh_constant = tanh_constant
        self.start = nn.Parameter(torch.zeros(1, hidden))
        self.lstm = nn.LSTM(hidden, hidden)
        self.embedding = nn.Embedding(sum(self.cardinalities), hidden)
        self.head_weight = nn.Parameter(torch.zeros(n_dec, widest, hidden))
        self.head_bias = nn.Parameter(torch.zeros(n_dec, widest))
        cards = torch.tensor(self.cardinalities)
        self.register_buffer("offsets", torch.cumsum(cards, 0) - cards, persistent=False)
        self.register_buffer("padding", torch.arange(widest)[None, :] >= cards[:, None], persistent=False)
        with torch.no_grad():
            for p in self.parameters():
                p.uniform_(-init_range, init_range, generator=generator)

    def _log_probs(self, h: torch.Tensor, decisions: slice) -> torch.Tensor:
        """Log-softmax over each decision's own choices: ``h`` (D', n, hidden) -> (D', n, widest)."""
        logits = torch.baddbmm(self.head_bias[decisions].unsqueeze(1), h,
                               self.head_weight[decisions].transpose(1, 2)) / self.temperature
        if self.tanh_constant:
            logits = self.tanh_constant * torch.tanh(logits)
        logits = logits.masked_fill(self.padding[decisions].unsqueeze(1), float("-inf"))
        return torch.log_softmax(logits, dim=-1)

    def _totals(self, logp_all: torch.Tensor, actions: torch.Tensor):
        """Sums over decisions of the taken actions' log-probability and of the entropy, each (n,)."""
        logp = logp_all.gather(2, actions.t().unsqueeze(2)).squeeze(2).sum(0)
        plogp = logp_all.exp() * logp_all.masked_fill(self.padding.unsqueeze(1), 0.0)
        return logp, -plogp.sum((0, 2))

    def forward(self, n: int | None = None, actions: torch.Tensor | None = None,
                generator: torch.Generator | None = None):
        """Sample ``n`` sequences (``actions`` None) or score given ``actions`` of shape (n, D).

        Returns (actions, log_prob (n,), entropy (n,)), sums over the decisions.
        """
        n_dec = len(self.cardinalities)
        if actions is not None:
            n = actions.shape[0]
            prev = self.embedding(self.offsets[:-1] + actions[:, :-1]).transpose(0, 1)
            x = torch.cat([self.start.expand(1, n, -1), prev], 0)
            out, _ = self.lstm(x)
            return actions, *self._totals(self._log_probs(out, slice(None)), actions)
        lstm = self.lstm
        # the LSTM's own equations, one step at a time (PyTorch gate order: input, forget, cell, output)
        w_ih, w_hh, bias = lstm.weight_ih_l0.t(), lstm.weight_hh_l0.t(), lstm.bias_ih_l0 + lstm.bias_hh_l0
        x = self.start.expand(n, -1)
        h = c = torch.zeros(n, self.hidden)
        taken, steps = [], []
        for i in range(n_dec):
            gates = torch.addmm(torch.addmm(bias, x, w_ih), h, w_hh)
            gi, gf, gg, go = gates.chunk(4, 1)
            c = torch.sigmoid(gf) * c + torch.sigmoid(gi) * torch.tanh(gg)
            h = torch.sigmoid(go) * torch.tanh(c)
            logp_i = self._log_probs(h.unsqueeze(0), slice(i, i + 1))
            a = torch.multinomial(logp_i[0].exp(), 1, generator=generator).squeeze(1)
            taken.append(a)
            steps.append(logp_i)
            x = self.embedding(self.offsets[i] + a)
        actions = torch.stack(taken, 1)
        return actions, *self._totals(torch.cat(steps, 0), actions)


@dataclass(frozen=True)
class RLConfig:
    """Hyperparameters of the controller and its update (``[search.rl]`` in a config)."""

    method: str = "ppo"          # "ppo" or "reinforce"
    batch_size: int = 8          # sampled models per update
    hidden: int = 100
    lr: float = 0.00035
    baseline_decay: float = 0.95
    entropy_weight: float = 0.0001
    clip: float = 0.2            # PPO ratio clip
    ppo_epochs: int = 4          # gradient steps per batch (PPO)
    temperature: float = 1.0
    tanh_constant: float | None = None
    grad_clip: float | None = None

    @classmethod
    def from_dict(cls, d: dict | None, where: str = "search.rl") -> "RLConfig":
        """``[search.rl]`` over the defaults, checked with ``RLKeys``: ``ValueError`` of one line naming the
        key, the value and the allowed values. The values are kept as given."""
        d = {} if d is None else d
        validate(RLKeys, d, where.strip("[]"))
        return cls(**d)


_RL = RLConfig()


class RLKeys(Section):
    """``[search.rl]``: each key's type, range and default (``RLConfig``'s)."""

    method: Literal["ppo", "reinforce"] = Field(_RL.method, description="one of ppo, reinforce")
    batch_size: int = Field(_RL.batch_size, ge=1, le=MAX_BATCH,
                            description=f"an int in [1, {MAX_BATCH}] (sampled models per update)")
    hidden: int = Field(_RL.hidden, ge=1, le=MAX_WIDTH, description=f"an int in [1, {MAX_WIDTH}]")
    lr: PositiveFloat = Field(_RL.lr, description="a positive number")
    baseline_decay: float = Field(_RL.baseline_decay, ge=0, lt=1, description="a number in [0, 1)")
    entropy_weight: float = Field(_RL.entropy_weight, ge=0, allow_inf_nan=False, description="a number >= 0")
    clip: PositiveFloat = Field(_RL.clip, description="a positive number")
    ppo_epochs: int = Field(_RL.ppo_epochs, ge=1, le=MAX_STEPS, description=f"an int in [1, {MAX_STEPS}]")
    temperature: PositiveFloat = Field(_RL.temperature, description="a positive number")
    tanh_constant: PositiveFloat | None = Field(_RL.tanh_constant, description="a positive number")
    grad_clip: PositiveFloat | None = Field(_RL.grad_clip, description="a positive number")


class RLSearchKeys(Section):
    """The controller's ``[search]`` tables: ``[search.rl]`` and ``[search.reward]`` (required)."""

    rl: RLKeys = Field(default_factory=RLKeys)
    reward: RewardKeys | None = None


def surrogate(logp: torch.Tensor, old_logp: torch.Tensor, adv: torch.Tensor, method: str = "ppo",
              clip: float = 0.2) -> torch.Tensor:
    """Per-sample objective to maximize: PPO's clipped min(r A, clip(r, 1-e, 1+e) A), r = p/p_old,
    or REINFORCE's log p A."""
    if method == "reinforce":
        return logp * adv
    ratio = torch.exp(logp - old_logp)
    return torch.min(ratio * adv, torch.clamp(ratio, 1 - clip, 1 + clip) * adv)


class PolicyGradient:
    """The controller, its optimizer and baseline: sample, then update on rewards."""

    def __init__(self, cardinalities, cfg: RLConfig, seed: int):
        self.cfg = cfg
        self.generator = torch.Generator().manual_seed(int(seed))
        self.controller = Controller(cardinalities, cfg.hidden, cfg.temperature, cfg.tanh_constant,
                                     generator=self.generator)
        self.optimizer = torch.optim.Adam(self.controller.parameters(), lr=cfg.lr)
        self.baseline: float | None = None
        self.updates = 0

    @torch.no_grad()
    def sample(self, n: int) -> tuple[np.ndarray, np.ndarray]:
        actions, logp, _ = self.controller(n, generator=self.generator)
        return actions.numpy().astype(np.int64), logp.numpy().astype(np.float64)

    def update(self, actions, old_logp, rewards) -> dict:
        """One update on a batch; returns diagnostics (mean reward, baseline, loss, entropy)."""
        actions = torch.as_tensor(np.asarray(actions), dtype=torch.long)
        old_logp = torch.as_tensor(np.asarray(old_logp), dtype=torch.float32)
        rewards = np.asarray(rewards, dtype=np.float64)
        if self.baseline is None:
            self.baseline = float(rewards.mean())
        adv = torch.as_tensor(rewards - self.baseline, dtype=torch.float32)
        cfg = self.cfg
        steps = cfg.ppo_epochs if cfg.method == "ppo" else 1
        for _ in range(steps):
            _, logp, ent = self.controller(actions=actions)
            loss = -surrogate(logp, old_logp, adv, cfg.method, cfg.clip).mean() - cfg.entropy_weight * ent.mean()
            self.optimizer.zero_grad()
            loss.backward()
            if cfg.grad_clip:
                nn.utils.clip_grad_norm_(self.controller.parameters(), cfg.grad_clip)
            self.optimizer.step()
        self.baseline = cfg.baseline_decay * self.baseline + (1 - cfg.baseline_decay) * float(rewards.mean())
        self.updates += 1
        return {"reward_mean": float(rewards.mean()), "baseline": self.baseline,
                "loss": float(loss.detach()), "entropy": float(ent.detach().mean())}

    def state_dict(self) -> dict:
        return {"controller": copy.deepcopy(self.controller.state_dict()),
                "optimizer": copy.deepcopy(self.optimizer.state_dict()),
                "baseline": self.baseline, "updates": self.updates,
                "generator": self.generator.get_state().clone()}

    def load_state_dict(self, d: dict) -> None:
        try:
            self.controller.load_state_dict(d["controller"])
        except RuntimeError as e:
            raise ValueError(f"RL checkpoint does not fit this controller (written by another layout or space): "
                             f"{error_text(e)}") from None
        self.optimizer.load_state_dict(d["optimizer"])
        self.baseline = d["baseline"]
        self.updates = d["updates"]
        self.generator.set_state(d["generator"])


HISTORY = 100


class RLStrategy:
    """MnasNet's controller as an ask/tell ``Strategy``: ``ask()`` samples ``batch_size`` genomes,
    ``tell()`` rewards them (failed evaluations earn 0) and updates the policy.

    ``search["rl"]`` holds ``RLConfig`` keys, ``search["reward"]`` the reward (``target_ms``, ``mode``).
    ``history`` keeps the diagnostics of the last ``HISTORY`` updates, so a checkpoint stays the same
    size however long the controller trains.
    """

    name = "rl"
    config_model = RLSearchKeys
    search_keys = tuple(RLSearchKeys.model_fields)  # [search] tables this strategy reads

    def __init__(self, space: Space, search: dict, objectives=None, rng: np.random.Generator | None = None):
        if rng is None:
            raise ValueError("RLStrategy needs an explicit numpy Generator (rng)")
        self.space = space
        self.cfg = RLConfig.from_dict(search.get("rl"))
        if search.get("reward") is None and objectives is not None and objectives.n_obj == 1:
            raise ValueError(f"[search] algorithm = 'rl' with one objective ({objectives.names[0]}) still needs "
                             f"[search.reward] target_ms: its reward is MnasNet's ACC x (LAT/T)^w of accuracy and "
                             f"latency_ms (nsga2, aging, random and surrogate search one objective alone)")
        self.reward = Reward.from_dict(search.get("reward"), "search.reward")
        self.accuracy = (objectives.accuracy if objectives is not None else None) or "val_acc"
        self.rng = rng
        self.pg = PolicyGradient(space.cardinalities, self.cfg, seed=int(rng.integers(2**63 - 1)))
        self.pending: list[tuple[tuple[int, ...], float]] = []
        self.history: collections.deque[dict] = collections.deque(maxlen=HISTORY)

    def ask(self) -> list[Genome]:
        actions, logp = self.pg.sample(self.cfg.batch_size)
        batch = [(tuple(int(g) for g in a), float(lp)) for a, lp in zip(actions, logp)]
        self.pending.extend(batch)
        return [self.space.genome(genes) for genes, _ in batch]

    def tell(self, genomes: list[Genome], results: list[dict]) -> None:
        if len(genomes) != len(results):
            raise ValueError(f"tell got {len(genomes)} genomes and {len(results)} results")
        actions, old_logp, rewards = [], [], []
        for genome, result in zip(genomes, results):
            idx = next((i for i, (genes, _) in enumerate(self.pending) if genes == genome.genes), None)
            if idx is None:
                raise ValueError(f"tell: genome {genome.key} was not asked by this controller")
            genes, lp = self.pending.pop(idx)
            actions.append(genes)
            old_logp.append(lp)
            rewards.append(self.reward.of_record(result, self.accuracy))
        if actions:
            stats = self.pg.update(actions, old_logp, rewards)
            self.history.append(stats)

    def state_dict(self) -> dict:
        return {"pg": self.pg.state_dict(), "pending": list(self.pending), "history": list(self.history),
                "rng": copy.deepcopy(self.rng.bit_generator.state), "config": asdict(self.cfg)}

    def load_state_dict(self, d: dict) -> None:
        if d.get("config") != asdict(self.cfg):
            raise ValueError(f"RL checkpoint was made with config {d.get('config')}, this run has {asdict(self.cfg)}")
        self.pg.load_state_dict(d["pg"])
        self.pending = [tuple(p) for p in d["pending"]]
        self.pending = [(tuple(g), float(lp)) for g, lp in self.pending]
        self.history = collections.deque(d["history"], maxlen=HISTORY)
        self.rng.bit_generator.state = d["rng"]
