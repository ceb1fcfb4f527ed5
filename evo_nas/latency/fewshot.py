"""A latency model for a new device from a few networks measured on it: a known device's table, recalibrated.

HELP (Lee et al., NeurIPS 2021, arXiv 2106.08630) predicts a new device's latency from about 10
networks measured on it by leaning on devices already known; nn-Meter (Zhang et al., MobiSys
2021) predicts from per-kernel models. This module does the simple, transparent version of the
first: features come from a *known* per-layer table (Once-for-All's Note10 table, NSGANetV2's
i7-8700K table, or another device's measurements), and a non-negative linear model

    latency_ms = sum_j w_j x feature_j + b,     w_j >= 0

is fitted on N networks measured end to end on the new device (non-negative least squares on
the relative error, ``scipy.optimize.nnls`` with rows weighted by 1 / measured; the intercept
``b`` may take either sign). Several feature sets are
candidates (``CANDIDATES``: the known device's sum alone, with the layer count, or per stage);
``choose = "auto"`` keeps the one with the lowest cross-validated MAPE on those N networks
(leave-one-out up to 20 networks, 10 folds above), the one with fewer features unless a richer
one is better by more than ``TIE_PCT`` points. Nothing but the N measured networks is used.

A fitted model is a small JSON file (``FewShotModel.save``): the features, weights, intercept,
cross-validated errors and the N networks with their measurements, so it can be refitted.
"""
from __future__ import annotations

from dataclasses import asdict, dataclass, field
from pathlib import Path

import numpy as np
from scipy.optimize import nnls

FORMAT = "evo-nas-fewshot-latency"
VERSION = 1
TIE_PCT = 0.25
# feature sets over a per-layer table: its whole-network sum; with the layer count (a per-call cost the
# known device does not pay alike); per stage (stem and head, each stage's layer sum) with the layer count
CANDIDATES: dict[str, tuple[str, ...]] = {
    "scale": ("base_ms",),
    "scale+layers": ("base_ms", "n_layers"),
    "stages": ("const_ms", "stage1_ms", "stage2_ms", "stage3_ms", "stage4_ms", "stage5_ms", "n_layers"),
}


def _design(features: dict[str, np.ndarray], names) -> np.ndarray:
    cols = [np.asarray(features[n], dtype=float) for n in names]
    one = np.ones(len(cols[0]))
    return np.column_stack(cols + [one, -one])  # the intercept as two non-negative columns: either sign


def _solve(A: np.ndarray, y: np.ndarray) -> np.ndarray:
    # relative squared error (rows weighted by 1 / measured); columns scaled so nnls is well conditioned
    r = 1.0 / y
    s = np.maximum(np.abs(A).max(axis=0), 1e-12)
    w, _ = nnls(A * r[:, None] / s, y * r)
    return w / s


def folds(n: int) -> list[np.ndarray]:
    """Leave-one-out up to 20 networks, else 10 folds by position (the networks are a seeded sample)."""
    k = n if n <= 20 else 10
    return [np.arange(i, n, k) for i in range(k)]


def cv_mape(A: np.ndarray, y: np.ndarray) -> float:
    """Cross-validated MAPE (%) of the non-negative fit on the rows of ``A`` (see ``folds``)."""
    errs = np.empty(len(y))
    for test in folds(len(y)):
        keep = np.ones(len(y), bool)
        keep[test] = False
        errs[test] = np.abs(A[test] @ _solve(A[keep], y[keep]) - y[test]) / y[test]
    return float(errs.mean() * 100)


@dataclass
class FewShotModel:
    """``latency_ms = features @ weights + intercept``; ``predict(features)`` takes a dict name -> (N,) array."""

    features: tuple[str, ...]
    weights: tuple[float, ...]
    intercept: float
    model: str
    n: int
    fit_mape_pct: float
    cv_mape_pct: dict = field(default_factory=dict)
    base: str = ""
    space: str = ""
    device: str = ""
    networks: list = field(default_factory=list)

    def predict(self, features: dict[str, np.ndarray]) -> np.ndarray:
        """Predicted latency (ms), shape (N,). ``KeyError`` naming a missing feature."""
        missing = [f for f in self.features if f not in features]
        if missing:
            raise KeyError(f"few-shot latency model needs feature {missing[0]!r} (has {sorted(features)})")
        X = np.column_stack([np.asarray(features[f], float) for f in self.features])
        return X @ np.asarray(self.weights) + self.intercept

    def to_dict(self) -> dict:
        return {"format": FORMAT, "version": VERSION, **asdict(self)}

    def save(self, path: str | Path) -> Path:
        from ..base.files import atomic_write
        from ..base.jsonio import dumps

        path = Path(path)
        path.parent.mkdir(parents=True, exist_ok=True)
        atomic_write(path, dumps(self.to_dict(), nonfinite="raise", where=f"latency model {path}", indent=1) + "\n")
        return path

    @classmethod
    def load(cls, path: str | Path) -> "FewShotModel":
        """``FileNotFoundError`` for a missing file, ``ValueError`` of one line for one that is not a model."""
        from ..base.jsonio import read_json

        path = Path(path)
        d = read_json(path, "latency model")
        if not isinstance(d, dict) or d.get("format") != FORMAT or d.get("version") != VERSION:
            raise ValueError(f"latency model {path}: expected format {FORMAT!r} version {VERSION} "
                             f"(`evo-nas latency fit` writes one)")
        fields = {k: d[k] for k in cls.__dataclass_fields__ if k in d}
        try:
            m = cls(**fields)
        except TypeError as e:
            raise ValueError(f"latency model {path}: {e}") from None
        if len(m.features) != len(m.weights) or not all(np.isfinite([*m.weights, m.intercept])):
            raise ValueError(f"latency model {path}: features and weights do not match")
        m.features, m.weights = tuple(m.features), tuple(float(w) for w in m.weights)
        return m


def fit(features: dict[str, np.ndarray], measured_ms, candidates: dict[str, tuple[str, ...]] | None = None,
        choose: str = "auto") -> FewShotModel:
    """Fit the non-negative linear model on N measured networks.

    ``features``: name -> (N,) array over the measured networks; ``measured_ms``: (N,) latencies
    (ms, > 0); ``candidates``: model name -> feature names (default ``CANDIDATES``, those whose
    features are all given); ``choose``: a candidate's name or ``"auto"`` (lowest cross-validated
    MAPE, ``TIE_PCT``). ``ValueError`` for fewer than 3 networks, a non-positive latency or an
    unknown model.
    """
    y = np.asarray(measured_ms, dtype=float)
    if y.ndim != 1 or len(y) < 3:
        raise ValueError(f"a few-shot latency fit needs at least 3 measured networks, got {y.size}")
    if not np.all(np.isfinite(y)) or np.any(y <= 0):
        raise ValueError(f"measured latencies must be positive numbers (got {y[~(np.isfinite(y) & (y > 0))][0]!r})")
    cands = {k: v for k, v in (candidates or CANDIDATES).items() if all(f in features for f in v)}
    if choose != "auto" and choose not in cands:
        raise ValueError(f"latency model {choose!r} (expected auto or one of {', '.join(cands)})")
    cv = {}
    if choose == "auto":
        # a candidate needs more networks than unknowns to be judged
        judged = {k: v for k, v in cands.items() if len(v) + 2 < len(y)} or dict(list(cands.items())[:1])
        cv = {k: cv_mape(_design(features, v), y) for k, v in judged.items()}
        best = min(cv.values())
        choose = min((k for k in cv if cv[k] <= best + TIE_PCT), key=lambda k: (len(cands[k]), cv[k]))
    names = cands[choose]
    w = _solve(_design(features, names), y)
    pred = _design(features, names) @ w
    return FewShotModel(features=tuple(names), weights=tuple(float(v) for v in w[:-2]),
                        intercept=float(w[-2] - w[-1]), model=choose, n=len(y),
                        fit_mape_pct=float(np.mean(np.abs(pred - y) / y) * 100),
                        cv_mape_pct={k: round(v, 4) for k, v in cv.items()})


def scores(predicted, measured) -> dict:
    """Kendall tau, Spearman rho, MAPE (%), share within +-10% (%) and max error (%) of ``predicted`` against
    ``measured``."""
    import warnings

    from scipy.stats import kendalltau, spearmanr

    p, m = np.asarray(predicted, float), np.asarray(measured, float)
    err = np.abs(p - m) / m
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # a constant prediction ranks nothing: nan, scored 0
        tau, rho = kendalltau(p, m)[0], spearmanr(p, m)[0]
    return {"kendall_tau": 0.0 if np.isnan(tau) else float(tau), "spearman_rho": 0.0 if np.isnan(rho) else float(rho),
            "mape_pct": float(err.mean() * 100),
            "within_10_pct": float((err <= 0.10).mean() * 100), "max_err_pct": float(err.max() * 100)}


def ofa_features(latency, X) -> dict[str, np.ndarray]:
    """The features of ``CANDIDATES`` for canonical ``ofa_mbv3`` genes ``X`` (N, n_genes), from a known table
    laid over the space (``evo_nas.latency.ofa_table.SpaceLatency``): sums in the table's ms."""
    sp = latency.space
    X = np.asarray(X, dtype=np.int64)
    res = X[:, sp._res_idx]
    active = sp.active_mask(X)
    later = (np.arange(sp.slots) > 0).astype(np.int64)
    per = latency.layer[res[:, None, None], np.arange(len(sp.stages))[None, :, None], later[None, None, :],
                        X[:, sp._kernel_idx], X[:, sp._exp_idx]]
    stages = (per * active).sum(axis=2)
    out = {"const_ms": latency.const[res], "base_ms": latency.const[res] + stages.sum(axis=1),
           "n_layers": active.sum(axis=(1, 2)).astype(float)}
    out.update({f"stage{i + 1}_ms": stages[:, i] for i in range(stages.shape[1])})
    return out


class FittedLatency:
    """A ``FewShotModel`` over an ``ofa_mbv3`` space: ``predict(X)`` of canonical genes (N, n_genes) in ms,
    from the features of the known table it was fitted on (``SpaceLatency`` of ``model.base``)."""

    def __init__(self, model: FewShotModel, base_latency, path: str | Path | None = None):
        self.model = model
        self.base = base_latency
        self.path = Path(path) if path is not None else None

    def predict(self, X) -> np.ndarray:
        return self.model.predict(ofa_features(self.base, X))

    def describe(self) -> dict:
        m = self.model
        return {"source": "predicted", "model": f"few-shot fit ({m.model}) of the {m.base} table on {m.n} networks "
                f"measured on the device", "device": m.device or "fitted", "base": m.base, "file": str(self.path),
                "fit_mape_pct": m.fit_mape_pct, "cv_mape_pct": m.cv_mape_pct}


def sample_genomes(space, n: int, rng: np.random.Generator) -> list:
    """``n`` distinct seeded random genomes of ``space`` (by canonical key): the networks to measure."""
    out, seen = [], set()
    for _ in range(50 * n):
        g = space.sample(rng)
        if g.key not in seen:
            seen.add(g.key)
            out.append(g)
            if len(out) == n:
                return out
    raise ValueError(f"space {space.name!r} has fewer than {n} distinct networks to sample")


def read_measurements(path: str | Path, space) -> tuple[list, np.ndarray]:
    """A CSV with a header ``key,latency_ms`` (the genome's canonical key, its measured latency in ms):
    (genomes, latencies). ``ValueError`` of one line naming the file, row and bad value."""
    import csv

    path = Path(path)
    if not path.is_file():
        raise FileNotFoundError(f"measurements file not found: {path}")
    with open(path, newline="") as f:
        reader = csv.DictReader(f)
        if not reader.fieldnames or not {"key", "latency_ms"} <= set(reader.fieldnames):
            raise ValueError(f"{path}: expected a header with columns key,latency_ms (got {reader.fieldnames})")
        genomes, ms = [], []
        for i, row in enumerate(reader, start=2):
            if not (row["latency_ms"] or "").strip():
                raise ValueError(f"{path} row {i}: no latency_ms: measure {row['key']} on the device and fill it in")
            try:
                genomes.append(space.parse(row["key"].strip()))
                v = float(row["latency_ms"])
            except (ValueError, TypeError) as e:
                raise ValueError(f"{path} row {i}: {e}") from None
            if not np.isfinite(v) or v <= 0:
                raise ValueError(f"{path} row {i}: latency_ms = {row['latency_ms']!r} is not a positive number")
            ms.append(v)
    return genomes, np.asarray(ms)


__all__ = ["FewShotModel", "FittedLatency", "CANDIDATES", "TIE_PCT", "fit", "scores", "cv_mape", "folds", "ofa_features",
           "sample_genomes", "read_measurements", "FORMAT", "VERSION"]
