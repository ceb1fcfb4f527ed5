"""The accuracy model of surrogate-assisted search: a genome encoding from the space, scikit-learn
regressors fitted on a run's own evaluations, and the rank correlations that judge them.

NSGANetV2 (Lu et al., ECCV 2020, section 3.2) fits its accuracy predictor online on the
architectures evaluated so far and searches the predictor instead of the network. Here:

- ``Encoding``: each gene one-hot over its choices (categorical), plus one ordinal column in [0, 1]
  for a gene whose choices are ordered (``Space.ordered``: kernel 3 < 5 < 7, so neighbouring
  choices share strength); a gene that builds nothing (``Space.gene_active``: a layer slot beyond
  its stage's depth) is all zeros.
- ``fit_model``: ``"bayes_ridge"`` (scikit-learn's ``BayesianRidge``, Tipping 2001: a linear model
  whose evidence-tuned prior gives a predictive standard deviation; cheap to refit every round),
  or ``"gp"`` (``GaussianProcessRegressor`` with a linear plus RBF kernel, Rasmussen & Williams
  2006, over at most ``max_train`` of the best points). Both take ``random_state`` from the
  search's generator, so a replay refits the same model.
- ``kendall_tau`` and ``pair_tau``: Kendall's tau (scipy) over all pairs, and over the pairs whose
  latencies lie within a relative tolerance (ranking at equal latency, where a front is decided).
"""
from __future__ import annotations

import numpy as np

from ..spaces.space import Space

MODELS = ("bayes_ridge", "gp")


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
    objective's minimization units."""

    def __init__(self, estimator, mean: float, scale: float):
        self.estimator, self.mean, self.scale = estimator, mean, scale

    def predict(self, Z) -> tuple[np.ndarray, np.ndarray]:
        mu, sd = self.estimator.predict(Z, return_std=True)
        return self.mean + self.scale * mu, self.scale * sd


def fit_model(kind: str, Z, y, random_state: int, max_train: int = 1000) -> Model:
    """Fit a ``kind`` model (one of ``MODELS``) of the targets ``y`` (N,) on the encoded genomes ``Z``
    (N, n_features). ``ValueError`` names an unknown kind or fewer than 2 points."""
    Z, y = np.asarray(Z, dtype=np.float64), np.asarray(y, dtype=np.float64)
    if kind not in MODELS:
        raise ValueError(f"[search.surrogate] model = {kind!r} (expected one of {', '.join(MODELS)})")
    if len(y) < 2:
        raise ValueError(f"a surrogate model needs at least 2 successful evaluations, got {len(y)}")
    mean, scale = float(y.mean()), float(y.std()) or 1.0
    t = (y - mean) / scale
    if kind == "bayes_ridge":
        from sklearn.linear_model import BayesianRidge

        est = BayesianRidge()
    else:
        from sklearn.gaussian_process import GaussianProcessRegressor
        from sklearn.gaussian_process.kernels import RBF, ConstantKernel, DotProduct, WhiteKernel

        if len(t) > max_train:  # the best points (lowest targets) carry the front
            keep = np.sort(np.argsort(t, kind="stable")[:max_train])
            Z, t = Z[keep], t[keep]
        kernel = DotProduct(0.1) + ConstantKernel(1.0) * RBF(np.sqrt(Z.shape[1])) + WhiteKernel(1e-3)
        est = GaussianProcessRegressor(kernel, normalize_y=False, random_state=random_state)
    est.fit(Z, t)
    return Model(est, mean, scale)


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
