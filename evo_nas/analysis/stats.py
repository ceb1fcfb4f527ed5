"""Statistics over seeds: intervals of the mean and median, the Mann-Whitney U test and the A12 effect size."""
from __future__ import annotations

import math

import numpy as np


def t_interval(values: np.ndarray, axis: int = 0, level: float = 0.95):
    """Mean and the t-distribution confidence interval of the mean along ``axis``."""
    from scipy import stats

    values = np.asarray(values, float)
    n = values.shape[axis]
    mean = values.mean(axis)
    if n < 2:
        return mean, mean.copy(), mean.copy()
    half = stats.t.ppf(0.5 + level / 2, n - 1) * values.std(axis, ddof=1) / math.sqrt(n)
    return mean, mean - half, mean + half


def median_interval(values, axis: int = 0, level: float = 0.95):
    """Median and the distribution-free confidence interval of the median along ``axis``.

    The interval is [x_(k), x_(n+1-k)] of the sorted sample with the largest k whose binomial
    coverage 1 - 2 P(Bin(n, 1/2) < k) is at least ``level`` (Conover, Practical Nonparametric
    Statistics, 3rd ed., section 3.2); for 10 seeds that is the 2nd and 9th value, coverage 97.9%.
    No k reaches ``level`` below 6 samples: the interval is then the whole range, whose coverage
    is smaller. Returns (median, lo, hi, coverage)."""
    from scipy import stats

    v = np.sort(np.asarray(values, float), axis=axis)
    n = v.shape[axis]
    med = np.median(v, axis=axis)
    k = 1
    while k + 1 <= n // 2 and 1 - 2 * stats.binom.cdf(k, n, 0.5) >= level:
        k += 1
    coverage = float(1 - 2 * stats.binom.cdf(k - 1, n, 0.5))
    return med, np.take(v, k - 1, axis=axis), np.take(v, n - k, axis=axis), coverage


def mann_whitney(a, b) -> float:
    """Two-sided Mann-Whitney U p-value: the exact distribution when the pooled values have no ties,
    else the normal approximation with continuity correction (NaN when both samples are constant
    and equal, or one is empty)."""
    from scipy import stats

    a, b = np.asarray(a, float), np.asarray(b, float)
    if len(a) == 0 or len(b) == 0:
        return float("nan")
    if np.all(a == a[0]) and np.all(b == a[0]):
        return float("nan")
    pooled = np.concatenate([a, b])
    method = "exact" if len(np.unique(pooled)) == len(pooled) else "asymptotic"
    return float(stats.mannwhitneyu(a, b, alternative="two-sided", method=method).pvalue)


def a12(a, b) -> float:
    """Vargha and Delaney's A12 (J. Educ. Behav. Stat. 25(2), 2000): P(X > Y) + P(X = Y) / 2 for X
    drawn from ``a`` and Y from ``b``; 0.5 is no effect, 1 is ``a`` always larger. It is the
    Mann-Whitney U statistic of ``a`` divided by ``len(a) * len(b)``; NaN when either is empty."""
    from scipy import stats

    a, b = np.asarray(a, float), np.asarray(b, float)
    if len(a) == 0 or len(b) == 0:
        return float("nan")
    return float(stats.mannwhitneyu(a, b, alternative="two-sided", method="asymptotic").statistic) / (len(a) * len(b))


def a12_magnitude(value: float) -> str:
    """Vargha and Delaney's labels: |A12 - 0.5| below 0.06 negligible, 0.14 small, 0.21 medium, else large."""
    if math.isnan(value):
        return "n/a"
    d = abs(value - 0.5)
    return "negligible" if d < 0.06 else "small" if d < 0.14 else "medium" if d < 0.21 else "large"


__all__ = ["t_interval", "median_interval", "mann_whitney", "a12", "a12_magnitude"]
