"""Surrogate-assisted NSGA-II: a model of the expensive objectives fitted online, searched instead of the networks.

NSGANetV2 (Lu et al., ECCV 2020, arXiv 2007.10396, algorithm 1): evaluate an initial sample; then,
every round, fit an accuracy predictor on every evaluation so far, run NSGA-II (Deb et al., 2002)
on the predictor and the cheap objectives, and send a few of the networks it finds to real
evaluation. Here, per round:

1. one model (``evo_nas.algorithms.surrogate_model``) per expensive objective, fitted on the run's own
   successful evaluations; the problem's ``cheap_objectives`` (a latency table, counts) are exact
   and cost no budget;
2. an inner NSGA-II over the model's optimistic prediction (mean - ``kappa`` x standard deviation,
   for a minimized objective) and the cheap objectives, started from the best evaluated networks
   (non-dominated sorting on the measured objectives) and run for ``inner_generations``; its
   networks, and with ``front_neighbours`` every network one gene away from the measured front
   (``acquisition.front_neighbours``: where the model was fitted), are the candidates;
3. ``batch`` networks (more as the run grows: ``round_size``), none evaluated before, picked
   greedily by predicted hypervolume improvement: each pick adds the most hypervolume to the
   measured front plus the picks so far (Emmerich et al., 2006, hypervolume-based infill). A
   candidate predicted to add nothing is ranked by how far it lies behind the front (additive
   epsilon), so a batch is always full. Why this criterion: only accuracy is uncertain here
   (latency is a table), so a candidate's worth is exactly the front area its accuracy would
   add, and greedy picks spread along the front without a separate diversity rule.
4. ``local_share`` of the batch: 1-2 gene mutants of the ``local_parents`` networks best on each
   modelled objective, whatever the model says (``acquisition.corner_mutants``): after 300
   evaluations every model here predicts the best-known 40-60 ms networks 1.7-2.1 points below
   their top-1, so greedy infill alone never proposes them.

Defaults measured on ``ofa-mbv3`` (share of the best-known HV after N distinct networks, median
of 10 seeds; experiments/surrogate_variants/report-gp.md): ``inner_pop`` 300 and ``kappa`` 0.5
(with a perfect model an inner population of 100 stalls at 97.2%); ``local_share`` 0.3 (Bayesian
ridge: 93.8% / 96.8% at 300 / 1,000); ``front_neighbours`` with the GP: 94.3% / 98.4% (p 0.0011
at 1,000); ``early_until`` 150: 88.6% at 100 networks against 86.1% (p 0.00073), level later.

Every random choice (initial sample, each inner search's seed, each model's ``random_state``) is
drawn from the strategy's generator in a fixed order, so the same seed and the same results in
the same order give the same asks: a resume replays exactly, with or without ``state_dict``.
``report()`` gives one line per round with the model's rank correlation on that round's new
networks, predicted before they were evaluated (the engine writes it to ``surrogate.jsonl``).
"""
from __future__ import annotations

import copy
from typing import Literal

import numpy as np
from pydantic import Field

from ..base.config import Section
from ..base.errors import validate
from ..spaces.space import Genome, Space
from .acquisition import corner_mutants, front_neighbours, greedy_hvi, model_search, nondominated_rank
from .mating import new_rows, row_bytes
from .objectives import FAILED_PENALTY, Objectives
from .surrogate_model import MODELS, Encoding, fit_model, judge_round

REFIT_GROWTH = 1.25  # a gp's hyperparameters: refitted at 1.25x the points of their last fit


class SurrogateKeys(Section):
    """``[search.surrogate]``: the initial sample, the batch per round, the model and the inner search."""

    initial: int = Field(50, ge=2, description="an int >= 2 (random networks evaluated before the first model)")
    batch: int = Field(10, ge=1, description="an int >= 1 (networks evaluated per round; a multiple of n_jobs)")
    model: Literal[MODELS] = Field("gp", description=f"one of {', '.join(MODELS)} (the accuracy model)")
    kappa: float = Field(0.5, ge=0, le=10, allow_inf_nan=False,
                         description="a number in [0, 10] (standard deviations of optimism: mean - kappa x std)")
    batch_growth: float = Field(0.02, ge=0, le=1, allow_inf_nan=False,
                                description="a number in [0, 1] (a round's batch grows to this share of the "
                                            "evaluations so far, in multiples of batch)")
    inner_pop: int = Field(300, ge=4, description="an int >= 4 (the inner NSGA-II's population: room for the front)")
    inner_generations: int = Field(30, ge=1, description="an int >= 1 (the inner NSGA-II's generations per round)")
    max_train: int = Field(1000, ge=10, description="an int >= 10 (most points a gp model is fitted on)")
    early_model: Literal[MODELS] = Field("bayes_ridge", description=f"one of {', '.join(MODELS)} (the model "
                                                                     "fitted below early_until evaluations)")
    early_until: int = Field(150, ge=0, description="an int >= 0 (successful evaluations below which early_model "
                                                  "is fitted instead of model)")
    local_share: float = Field(0.3, ge=0, lt=1, allow_inf_nan=False,
                               description="a number in [0, 1) (share of each round's batch spent on 1-2 gene "
                                           "mutants of the networks best on a modelled objective, whatever "
                                           "the model predicts)")
    front_neighbours: bool = Field(True, description="true or false (every network one gene away from the "
                                                     "measured Pareto front is a candidate too)")
    local_parents: int = Field(3, ge=0, description="an int >= 0 (the networks best on each modelled objective "
                                                    "whose mutants local_share evaluates; 0: every front member)")


class SurrogateSearchKeys(Section):
    """The surrogate strategy's ``[search]`` table: ``[search.surrogate]``."""

    surrogate: SurrogateKeys = Field(default_factory=SurrogateKeys)


class SurrogateStrategy:
    """Surrogate-assisted NSGA-II as an ask/tell ``Strategy`` (see the module docstring); ``problem``
    gives the cheap objectives (without it, every objective is modelled)."""

    name = "surrogate"
    config_model = SurrogateSearchKeys
    search_keys = tuple(SurrogateSearchKeys.model_fields)
    takes_problem = True

    def __init__(self, space: Space, search: dict, objectives: Objectives, rng: np.random.Generator,
                 problem=None):
        if rng is None:
            raise ValueError("SurrogateStrategy needs an explicit numpy Generator (rng)")
        keys = validate(SurrogateKeys, search.get("surrogate") or {}, "search.surrogate")
        jobs = search.get("n_jobs") or 1
        if jobs > 1 and keys.batch % jobs:
            raise ValueError(f"[search.surrogate] batch ({keys.batch}) must be a multiple of [search] n_jobs "
                             f"({jobs}), so that no worker idles in a round")
        self.keys = keys
        self.space, self.objectives, self.rng, self.problem = space, objectives, rng, problem
        cheap = set(getattr(problem, "cheap_objectives", ()) or ()) if problem is not None else set()
        self.cheap = [i for i, n in enumerate(objectives.names) if n in cheap]
        self.modelled = [i for i, n in enumerate(objectives.names) if n not in cheap]
        self.encode = Encoding(space)
        self.X = np.zeros((0, space.n_genes), dtype=np.int64)  # every told network, canonical genes
        self.F = np.zeros((0, objectives.n_obj))               # their minimization vectors
        self.seen: set[bytes] = set()
        self.rounds: list[dict] = []
        self._pending: np.ndarray | None = None
        self._predicted: np.ndarray | None = None
        self._theta: dict[int, tuple] = {}  # objective -> (points at the last hyperparameter fit, theta)

    # -- the protocol -------------------------------------------------------------------
    def ask(self) -> list[Genome]:
        return self.space.genomes(self.ask_array())

    def tell(self, genomes: list[Genome], results: list[dict]) -> None:
        self.tell_array(results)

    def ask_array(self) -> np.ndarray:
        """The next networks to evaluate, canonical genes (N, n_genes): the initial sample first, then
        ``batch`` per round."""
        ok = self.F[:, 0] < FAILED_PENALTY
        if ok.sum() < 2:  # nothing to fit a model on yet: the initial sample, or more of it
            X = self._random(self.keys.initial if not len(self.X) else self.keys.batch)
            self._pending, self._predicted = X, None
            return X
        X, predicted = self._round(ok)
        self._pending, self._predicted = X, predicted
        return X

    def tell_array(self, results: list[dict]) -> None:
        X = self._pending
        if X is None or len(results) != len(X):
            raise ValueError(f"tell got {len(results)} results for {0 if X is None else len(X)} asked")
        F, _ = self.objectives.matrix(results)
        if self._predicted is not None:
            self.rounds.append(self._judge(self._predicted, F))
        self.X = np.concatenate([self.X, X])
        self.F = np.concatenate([self.F, F])
        self.seen.update(row_bytes(X))
        self._pending = self._predicted = None

    def state_dict(self) -> dict:
        return {"rng": copy.deepcopy(self.rng.bit_generator.state), "X": self.X.copy(), "F": self.F.copy(),
                "rounds": copy.deepcopy(self.rounds), "pending": self._pending, "predicted": self._predicted,
                "theta": copy.deepcopy(self._theta)}

    def load_state_dict(self, d: dict) -> None:
        self.rng.bit_generator.state = d["rng"]
        self.X, self.F = np.asarray(d["X"], dtype=np.int64), np.asarray(d["F"], dtype=float)
        self.rounds = list(d["rounds"])
        self._pending, self._predicted = d["pending"], d["predicted"]
        self._theta = copy.deepcopy(d.get("theta", {}))
        self.seen = set(row_bytes(self.X))

    def report(self) -> list[dict]:
        """One line per model round: networks trained on, and Kendall's tau of the prediction made
        before evaluation against the measured value, over the round's new networks (``tau``),
        over those within 1 point of the measured front (``tau_near_front``, for an accuracy and a
        latency objective) and over pairs within 5% latency (``tau_equal_latency``)."""
        return copy.deepcopy(self.rounds)

    # -- one round ----------------------------------------------------------------------
    def _random(self, n: int) -> np.ndarray:
        """``n`` distinct canonical networks not seen before, drawn uniformly gene by gene."""
        card = np.asarray(self.space.cardinalities)
        out, keys = [], set()
        for _ in range(50):
            X = self.space.canonical_array((self.rng.random((n, len(card))) * card).astype(np.int64))
            for row, k in zip(X, row_bytes(X)):
                if k not in self.seen and k not in keys and len(out) < n:
                    keys.add(k)
                    out.append(row)
            if len(out) == n:
                break
        return np.array(out, dtype=np.int64).reshape(-1, len(card))

    def round_size(self) -> int:
        """Networks a model round sends to evaluation: ``batch``, grown to ``batch_growth`` of the
        networks evaluated so far in multiples of ``batch`` (each refit then buys more evaluations
        as a model's marginal information shrinks). It depends on the run's past only, never on
        its budget, so a short run is the start of a longer one."""
        k = self.keys
        return k.batch * max(1, int(np.ceil(k.batch_growth * len(self.X) / k.batch)))

    def _fit(self, ok: np.ndarray) -> list:
        """One model per modelled objective. A gp's kernel hyperparameters are refitted when the
        successful evaluations have grown by ``REFIT_GROWTH`` since their last fit, and kept between."""
        Z, n, models = self.encode(self.X[ok]), int(ok.sum()), []
        kind = self.keys.early_model if n < self.keys.early_until else self.keys.model
        for j in self.modelled:
            n_fit, theta = self._theta.get(j, (0, None))
            keep = theta is not None and n < REFIT_GROWTH * n_fit
            m = fit_model(kind, Z, self.F[ok, j], int(self.rng.integers(2 ** 31 - 1)),
                          self.keys.max_train, theta if keep else None)
            if not keep and m.theta is not None:
                self._theta[j] = (n, m.theta)
            models.append(m)
        return models

    def _predict(self, models, X) -> tuple[np.ndarray, np.ndarray]:
        """Minimization vectors of ``X``: (mean, optimistic), each (N, n_obj); cheap objectives exact."""
        mean = np.zeros((len(X), self.objectives.n_obj))
        if self.cheap:
            values = self.problem.evaluate_cheap(X)
            for j in self.cheap:
                name = self.objectives.names[j]
                mean[:, j] = -np.asarray(values[name]) if name in self.objectives.maximize else values[name]
        optimistic = mean.copy()
        if models:
            Z = self.encode(X)
            for j, m in zip(self.modelled, models):
                mu, sd = m.predict(Z)
                mean[:, j] = mu
                optimistic[:, j] = mu - self.keys.kappa * sd
        return mean, optimistic

    def _round(self, ok: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        models = self._fit(ok)
        pool = self._inner_search(models, ok)
        pool = pool[new_rows(pool, self.seen)]
        if self.keys.front_neighbours:
            near = front_neighbours(self.space, self.X[ok], self.F[ok], self.seen | set(row_bytes(pool)))
            pool = np.concatenate([pool, near])
        size = self.round_size()
        if len(pool) < size:
            pool = np.concatenate([pool, self._random(size - len(pool))])
        mean, optimistic = self._predict(models, pool)
        if self.objectives.latency_target_ms is not None and "latency_ms" in self.objectives.names:
            lat = mean[:, self.objectives.names.index("latency_ms")]
            optimistic[lat > self.objectives.latency_target_ms] += FAILED_PENALTY / 2
        front = self.F[ok][nondominated_rank(self.F[ok]) == 0]
        ref = self._reference(ok)
        pick = pool[greedy_hvi(front, optimistic, size, ref)]
        n_local = int(round(self.keys.local_share * size))
        if n_local:
            keep = pick[:size - n_local]
            local = self._local(ok, n_local, ref, self.seen | set(row_bytes(keep)))
            pick = np.concatenate([keep, local, pick[size - n_local:][:n_local - len(local)]])
        return pick, self._predict(models, pick)[0]

    def _local(self, ok: np.ndarray, n: int, ref: np.ndarray, seen: set) -> np.ndarray:
        """``n`` mutants of the networks best on the modelled objectives, in turn, or of the front
        (``local_parents`` 0; ``corner_mutants``)."""
        out = np.zeros((0, self.space.n_genes), dtype=np.int64)
        for i, j in enumerate(self.modelled):
            share = n // len(self.modelled) + (i < n % len(self.modelled))
            objective = j if self.keys.local_parents else None
            new = corner_mutants(self.space, self.X[ok], self.F[ok], objective, ref, share, self.rng,
                                 seen | set(row_bytes(out)), self.keys.local_parents)
            out = np.concatenate([out, new])
        return out

    def _reference(self, ok: np.ndarray) -> np.ndarray:
        ref = self.objectives.reference_vector()
        if ref is not None:
            return ref
        F = self.F[ok]
        return F.max(axis=0) + 0.1 * (np.ptp(F, axis=0) + 1e-12)

    def _inner_search(self, models, ok: np.ndarray) -> np.ndarray:
        """Every distinct network the inner NSGA-II scores on the model, canonical genes (M, n_genes)."""
        k = self.keys
        card = np.asarray(self.space.cardinalities)
        # the start: the best evaluated networks by non-dominated rank (ties: order of evaluation)
        Xok = self.X[ok]
        order = np.lexsort((np.arange(len(Xok)), nondominated_rank(self.F[ok])))
        start = Xok[order[:k.inner_pop]]
        if len(start) < k.inner_pop:
            extra = (self.rng.random((k.inner_pop - len(start), len(card))) * card).astype(np.int64)
            start = np.concatenate([start, self.space.canonical_array(extra)])
        return model_search(self.space, start, self.objectives.n_obj, lambda X: self._predict(models, X)[1],
                            k.inner_generations, int(self.rng.integers(2 ** 31 - 1)))

    def _judge(self, predicted: np.ndarray, F: np.ndarray) -> dict:
        """The round's rank correlations: the prediction made before evaluation against the measure."""
        return judge_round(self.objectives, self.modelled, len(self.rounds),
                           int((self.F[:, 0] < FAILED_PENALTY).sum()), self.F, predicted, F)
