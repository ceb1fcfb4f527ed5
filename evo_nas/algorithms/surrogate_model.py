"""The accuracy model of surrogate-assisted search: a genome encoding from the space, scikit-learn
regressors fitted on a run's own evaluations, and the rank correlations that judge them.

NSGANetV2 (Lu et al., ECCV 2020, section 3.2) fits its accuracy predictor online on the
architectures evaluated so far and searches the predictor instead of the network. Here:

- ``Encoding``: each gene one-hot over its choices (categorical), plus one ordinal column in [0, 1]
  for a gene whose choices are ordered (``Space.ordered``: kernel 3 < 5 < 7, so neighbouring
  choices share strength); a gene that builds nothing (``Space.gene_active``: a layer slot beyond
  its stage's depth) is all zeros.
- ``fit_model``: ``"bayes_ridge"`` (scikit-learn's ``BayesianRidge``, Tipping 2001: a linear model
  whose evidence-tuned prior gives a predictive standard deviation; cheap to refit every round);
  ``"gp"`` (``GaussianProcessRegressor`` with a linear plus RBF kernel and fitted hyperparameters,
  Rasmussen & Williams 2006, over at most ``max_train`` of the best points); ``"kernel_ridge"``
  (kernel ridge regression with a fixed RBF kernel, exp(-|z - z'|^2 / n_features), ridge 0.01: the
  mean of a GP with that kernel, whose posterior gives the standard deviation, Rasmussen & Williams
  2006, section 6.2); ``"mlp"`` (an ensemble of ``MEMBERS`` ``MLPRegressor``s, one hidden layer of
  64, L2 0.01, L-BFGS for at most 300 iterations, each with its own seed: the members' mean and
  standard deviation, Lakshminarayanan et al., NeurIPS 2017); ``"gbm"`` (``MEMBERS`` gradient-boosted
  tree ensembles on 80% subsamples, Friedman 2002); ``"adaptive"`` (NSGANetV2's adaptive switching,
  Lu et al., ECCV 2020, section 3.2: each fit picks, among ``ADAPTIVE``, the model with the best
  5-fold cross-validated Kendall tau on the data so far). Every model takes ``random_state`` from
  the search's generator, so a replay refits the same model.
- ``kendall_tau`` and ``pair_tau``: Kendall's tau (scipy) over all pairs, and over the pairs whose
  latencies lie within a relative tolerance (ranking at equal latency, where a front is decided).
"""
from __future__ import annotations

import warnings

import numpy as np

from ..spaces.space import Space
from .objectives import FAILED_PENALTY

MODELS = ("bayes_ridge", "gp", "mlp", "gbm", "kernel_ridge", "adaptive")
MEMBERS = 5  # members of an ensemble model (mlp, gbm)


class Encoding:
    """The (N, n_features) float encoding of canonical gene arrays of ``space``; see the module docstring."""

    def __init__(self, space: Space):
        self.space = space
        self.cards = np.asarray(space.cardinalities, dtype=np.int64)
        self.ordered = np.asarray(space.ordered, dtype=bool) & (self.cards > 1)
        self.onehot = self.cards > 1
        # column of choice 0 of each gene's one-hot block, and of each ordered gene's ordinal column
        widths = np.where(self.onehot, self.cards, 0) + self.ordered
        self.start = np.concatenate([[0], np.cumsum(widths)[:-1]])
        self.n_features = int(widths.sum())

    def __call__(self, X) -> np.ndarray:
        X = np.asarray(X, dtype=np.int64).reshape(-1, len(self.cards))
        n = len(X)
        active = self.space.gene_active(X)
        Z = np.zeros((n, self.n_features), dtype=np.float64)
        rows, genes = np.nonzero(active & self.onehot[None, :])
        Z[rows, self.start[genes] + X[rows, genes]] = 1.0
        rows, genes = np.nonzero(active & self.ordered[None, :])
        Z[rows, self.start[genes] + self.cards[genes]] = X[rows, genes] / (self.cards[genes] - 1)
        return Z


class Model:
    """A fitted regressor of one objective: ``predict(Z) -> (mean, std)``, both shape (N,), in the
    objective's minimization units. ``estimators`` is one estimator with ``return_std`` or an
    ensemble whose members' mean and standard deviation are the prediction."""

    def __init__(self, estimators: list, mean: float, scale: float, kind: str = ""):
        self.estimators, self.mean, self.scale, self.kind = estimators, mean, scale, kind

    @property
    def theta(self) -> np.ndarray | None:
        """A ``gp`` model's fitted log-hyperparameters (scikit-learn's ``kernel_.theta``); None otherwise."""
        kernel = getattr(self.estimators[0], "kernel_", None) if self.kind == "gp" else None
        return None if kernel is None else kernel.theta.copy()

    def predict(self, Z) -> tuple[np.ndarray, np.ndarray]:
        if len(self.estimators) == 1:
            mu, sd = self.estimators[0].predict(Z, return_std=True)
        else:
            P = np.stack([e.predict(Z) for e in self.estimators])
            mu, sd = P.mean(axis=0), P.std(axis=0)
        return self.mean + self.scale * mu, self.scale * sd


def _members(kind: str, Z, t, random_state: int, max_train: int, theta=None) -> list:
    """The fitted estimators of one model on standardized targets ``t``; ``theta``: a gp's kernel
    log-hyperparameters, kept (no optimization)."""
    from sklearn.exceptions import ConvergenceWarning

    if kind == "bayes_ridge":
        from sklearn.linear_model import BayesianRidge

        return [BayesianRidge().fit(Z, t)]
    if kind == "gp":
        from sklearn.gaussian_process import GaussianProcessRegressor
        from sklearn.gaussian_process.kernels import RBF, ConstantKernel, DotProduct, WhiteKernel

        if len(t) > max_train:  # the best points (lowest targets) carry the front
            keep = np.sort(np.argsort(t, kind="stable")[:max_train])
            Z, t = Z[keep], t[keep]
        kernel = DotProduct(0.1) + ConstantKernel(1.0) * RBF(np.sqrt(Z.shape[1])) + WhiteKernel(1e-3)
        if theta is not None:
            kernel = kernel.clone_with_theta(np.asarray(theta, dtype=float))
        gp = GaussianProcessRegressor(kernel, normalize_y=False, random_state=random_state,
                                      optimizer=None if theta is not None else "fmin_l_bfgs_b")
        with warnings.catch_warnings():  # a noise level at its bound: a deterministic benchmark, not a failure
            warnings.simplefilter("ignore", ConvergenceWarning)
            return [gp.fit(Z, t)]
    if kind == "kernel_ridge":  # kernel ridge regression = a GP's mean with the kernel fixed; the GP gives the std
        from sklearn.gaussian_process import GaussianProcessRegressor
        from sklearn.gaussian_process.kernels import RBF

        kernel = RBF(np.sqrt(Z.shape[1] / 2), length_scale_bounds="fixed")
        return [GaussianProcessRegressor(kernel, alpha=1e-2, optimizer=None, random_state=random_state).fit(Z, t)]
    seeds = np.random.default_rng(random_state).integers(2 ** 31 - 1, size=MEMBERS)
    if kind == "mlp":  # lbfgs stopped at max_iter: the iteration cap is part of the regularization
        from sklearn.neural_network import MLPRegressor

        with warnings.catch_warnings():
            warnings.simplefilter("ignore", ConvergenceWarning)
            return [MLPRegressor(hidden_layer_sizes=(64,), alpha=1e-2, solver="lbfgs", max_iter=300,
                                 random_state=int(s)).fit(Z, t) for s in seeds]
    from sklearn.ensemble import GradientBoostingRegressor

    return [GradientBoostingRegressor(n_estimators=200, max_depth=3, learning_rate=0.05, subsample=0.8,
                                      random_state=int(s)).fit(Z, t) for s in seeds]


def fit_model(kind: str, Z, y, random_state: int, max_train: int = 1000, theta=None) -> Model:
    """Fit a ``kind`` model (one of ``MODELS``) of the targets ``y`` (N,) on the encoded genomes ``Z``
    (N, n_features); for ``gp``, ``theta`` (an earlier fit's ``Model.theta``) fixes the kernel's
    hyperparameters instead of maximizing the marginal likelihood again (one Cholesky instead of
    an L-BFGS run: 0.3 s instead of 8-11 s at 1,000 points on ofa-mbv3). ``ValueError`` names an
    unknown kind or fewer than 2 points."""
    Z, y = np.asarray(Z, dtype=np.float64), np.asarray(y, dtype=np.float64)
    if kind not in MODELS:
        raise ValueError(f"[search.surrogate] model = {kind!r} (expected one of {', '.join(MODELS)})")
    if len(y) < 2:
        raise ValueError(f"a surrogate model needs at least 2 successful evaluations, got {len(y)}")
    mean, scale = float(y.mean()), float(y.std()) or 1.0
    t = (y - mean) / scale
    if kind == "adaptive":
        kind = select_model(Z, t, random_state, max_train)
    return Model(_members(kind, Z, t, random_state, max_train, theta), mean, scale, kind)


ADAPTIVE = ("bayes_ridge", "mlp", "gbm", "kernel_ridge")


def select_model(Z, t, random_state: int, max_train: int = 1000, folds: int = 5) -> str:
    """NSGANetV2's adaptive switching (Lu et al., ECCV 2020, section 3.2): the model of ``ADAPTIVE``
    with the best mean Kendall tau over ``folds`` cross-validation folds (scikit-learn's ``KFold``,
    shuffled by ``random_state``) of the data so far; ties go to the earlier name."""
    from sklearn.model_selection import KFold

    folds = min(folds, len(t))
    if folds < 2:
        return ADAPTIVE[0]
    splits = list(KFold(folds, shuffle=True, random_state=random_state).split(Z))
    best, best_tau = ADAPTIVE[0], -np.inf
    for kind in ADAPTIVE:
        taus = []
        for train, test in splits:
            m = Model(_members(kind, Z[train], t[train], random_state, max_train), 0.0, 1.0)
            taus.append(kendall_tau(m.predict(Z[test])[0], t[test]) or 0.0)
        if np.mean(taus) > best_tau:
            best, best_tau = kind, float(np.mean(taus))
    return best


def kendall_tau(pred, true) -> float | None:
    """Kendall's tau-b between predicted and true values (scipy); None under 3 points or when constant."""
    from scipy.stats import kendalltau

    pred, true = np.asarray(pred, float), np.asarray(true, float)
    if len(pred) < 3 or np.ptp(pred) == 0 or np.ptp(true) == 0:
        return None
    tau = kendalltau(pred, true).statistic
    return None if not np.isfinite(tau) else float(tau)


def pair_tau(pred, true, latency, tol: float = 0.05) -> tuple[float | None, int]:
    """Kendall's tau-a over the pairs whose ``latency`` values lie within ``tol`` of each other
    (relative to the larger): (concordant - discordant) / pairs, and the number of pairs; None
    without a pair."""
    pred, true, lat = (np.asarray(a, float) for a in (pred, true, latency))
    i, j = np.triu_indices(len(pred), 1)
    close = np.abs(lat[i] - lat[j]) <= tol * np.maximum(np.abs(lat[i]), np.abs(lat[j]))
    i, j = i[close], j[close]
    if not len(i):
        return None, 0
    s = np.sign(pred[i] - pred[j]) * np.sign(true[i] - true[j])
    return float(s.sum() / len(i)), int(len(i))


def judge_round(objectives, modelled: list[int], index: int, trained_on: int, F_before: np.ndarray,
                predicted: np.ndarray, F: np.ndarray) -> dict:
    """One model round's line of ``surrogate.jsonl``: Kendall's tau of the minimization vectors
    ``predicted`` (N, n_obj) made before evaluation against the measured ``F`` (N, n_obj) for each
    modelled objective, and for an accuracy objective beside ``latency_ms`` the values, the tau over
    pairs within 5% latency and over the networks within 1 point of the measured front
    (``F_before``: every vector told before the round)."""
    ok = F[:, 0] < FAILED_PENALTY
    line = {"round": index, "trained_on": trained_on, "candidates": int(len(F)), "failed": int((~ok).sum())}
    names = objectives.names
    acc = objectives.accuracy
    for j in modelled:
        line[f"tau_{names[j]}" if len(modelled) > 1 else "tau"] = kendall_tau(predicted[ok, j], F[ok, j])
    if acc is not None and "latency_ms" in names and names.index(acc) in modelled:
        a, lj = names.index(acc), names.index("latency_ms")
        p, t, lat = predicted[ok, a], F[ok, a], F[ok, lj]
        sign = -1.0 if acc in objectives.maximize else 1.0
        line["predicted"] = [round(sign * v, 6) for v in p.tolist()]
        line["measured"] = [round(sign * v, 6) for v in t.tolist()]
        line["latency_ms"] = [round(v, 4) for v in lat.tolist()]
        line["tau_equal_latency"], line["equal_latency_pairs"] = pair_tau(p, t, lat)
        near = near_front(np.concatenate([F_before, F[ok]]), t, lat, a, lj)
        line["near_front"] = int(near.sum())
        line["tau_near_front"] = kendall_tau(p[near], t[near])
    return line


def near_front(F_all, acc, lat, a: int, lj: int, gap: float = 0.01) -> np.ndarray:
    """Which points (minimized accuracy ``acc``, latency ``lat``, both (N,)) lie within ``gap`` of the
    best accuracy measured at their latency or below among the rows of ``F_all`` that did not fail."""
    good = F_all[F_all[:, 0] < FAILED_PENALTY]
    order = np.argsort(good[:, lj], kind="stable")
    lats, best = good[order, lj], np.minimum.accumulate(good[order, a])
    idx = np.searchsorted(lats, lat, side="right") - 1
    return acc <= best[np.maximum(idx, 0)] + gap
