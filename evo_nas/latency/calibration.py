"""Calibration fits of a per-layer latency table: what the layer sum misses, fitted on whole networks.

A network's latency is predicted as ``scale x layer sum + offset + per_layer x n_layers``
(FBNet, Wu et al., 2019, arXiv 1812.03443, section 3.2, adds the constant; the per-layer term
and the scale are ours), with one offset per input resolution when the networks run at several.
The terms are fitted by least squares on networks measured end to end (``fit_calibration``);
``auto`` chooses the fit by leave-one-out error, ``refit`` fits stored networks another way.
"""
from __future__ import annotations

import numpy as np

FIT_DEFAULT = "auto"
FITS = ("offset", "offset+per_layer", "affine")
FIT_CHOICES = ("auto",) + FITS


def check_fit(fit: str) -> str:
    if fit not in FIT_CHOICES:
        raise ValueError(f"[latency] fit = {fit!r} (expected one of {', '.join(FIT_CHOICES)})")
    return fit


_PARAMS = {"offset": 0, "offset+per_layer": 1, "affine": 2}  # terms beside the offsets
LOO_TIE_PCT = 0.05  # auto keeps the simpler fit unless a richer one predicts better by more than this


def _design(s, n, res, fit: str, levels) -> np.ndarray:
    cols = [(res == r).astype(float) for r in levels] if levels is not None else [np.ones_like(s)]
    if fit in ("offset+per_layer", "affine"):
        cols.append(n)
    if fit == "affine":
        cols.append(s)
    return np.stack(cols, 1)


def _solve(s, n, m, res, fit: str, levels) -> np.ndarray:
    target = m if fit == "affine" else m - s
    return np.linalg.lstsq(_design(s, n, res, fit, levels), target, rcond=None)[0]


def _predict(coef, s, n, res, fit: str, levels) -> np.ndarray:
    return _design(s, n, res, fit, levels) @ coef + (0.0 if fit == "affine" else s)


def _loo_mape(s, n, m, res, fit: str, levels) -> float | None:
    """Leave-one-out MAPE (%) of ``fit`` on the calibration networks; None where too few to tell."""
    params = (len(levels) if levels is not None else 1) + _PARAMS[fit]
    if len(s) < params + 2:
        return None
    errs = []
    for i in range(len(s)):
        keep = np.arange(len(s)) != i
        if levels is not None and not np.any(res[keep] == res[i]):
            return None
        if fit != "offset" and len(set(n[keep].tolist())) < 2:
            return None
        coef = _solve(s[keep], n[keep], m[keep], res[keep], fit, levels)
        errs.append(abs(_predict(coef, s[i:i + 1], n[i:i + 1], res[i:i + 1], fit, levels)[0] - m[i]) / m[i])
    return float(np.mean(errs) * 100)


def fit_calibration(layer_sums: list[float], n_layers: list[int], measured: list[float], fit: str,
                    resolutions: list[int] | None = None) -> dict:
    """Least squares on whole networks: ``measured = scale x layer_sum + offset + per_layer x n_layers``.

    ``offset`` fits the constant only (FBNet's sum plus stem and head), ``offset+per_layer`` adds
    the per-call overhead that isolated layers pay and a whole network does not, ``affine`` also
    fits ``scale`` (cache effects of a whole network's weights). With ``resolutions`` (the input
    resolution of each network) holding several values, the offset is one per resolution (the stem
    and head cost more at a larger input), fitted jointly with the other terms; ``by_resolution``
    then holds each resolution's terms and ``offset_ms`` their mean.

    ``auto`` picks the fit with the lowest leave-one-out MAPE on these networks (``loo_mape_pct``),
    the simpler one unless a richer one is better by more than ``LOO_TIE_PCT`` points; with too
    few networks to tell, ``offset+per_layer`` where depths differ and ``offset`` where they
    cannot. The returned ``fit`` names the one used. ``ValueError`` for an unknown fit, or a
    per-layer term on networks of one depth.
    """
    check_fit(fit)
    s, n, m = (np.asarray(v, float) for v in (layer_sums, n_layers, measured))
    res = np.asarray(resolutions if resolutions is not None else [0] * len(s), int)
    levels = sorted(set(res.tolist()))
    levels = levels if len(levels) > 1 else None
    loo = None
    if fit == "auto":
        candidates = [f for f in FITS if f == "offset" or len(set(n_layers)) > 1]
        loo = {f: _loo_mape(s, n, m, res, f, levels) for f in candidates}
        scored = {f: v for f, v in loo.items() if v is not None}
        if any(loo[f] is None for f in candidates[:2]):
            fit = "offset+per_layer" if len(candidates) > 1 else "offset"
        else:
            best = min(scored.values())
            fit = next(f for f in candidates if f in scored and scored[f] <= best + LOO_TIE_PCT)
    if fit != "offset" and len(set(n_layers)) < 2:
        raise ValueError(f"calibration fit {fit!r} needs networks of at least two different depths")
    coef = _solve(s, n, m, res, fit, levels)
    k = len(levels) if levels is not None else 1
    offsets = coef[:k]
    per_layer = float(coef[k]) if fit != "offset" else 0.0
    scale = float(coef[k + 1]) if fit == "affine" else 1.0
    err = (_predict(coef, s, n, res, fit, levels) - m) / m
    out = {"offset_ms": float(np.mean(offsets)), "per_layer_ms": per_layer, "scale": scale, "fit": fit,
           "n": len(s), "mape_pct": float(np.mean(np.abs(err)) * 100)}
    if loo is not None:
        out["loo_mape_pct"] = loo
    if levels is not None:
        out["fit"] = fit + ", offset per resolution"
        out["by_resolution"] = {
            str(r): {"offset_ms": float(o), "per_layer_ms": per_layer, "scale": scale, "fit": out["fit"],
                     "n": int(np.sum(res == r)), "mape_pct": float(np.mean(np.abs(err[res == r])) * 100)}
            for r, o in zip(levels, offsets)}
    return out


def refit(calibration: dict, fit: str) -> dict:
    """The same calibration networks fitted another way (no new measurement)."""
    for k in ("layer_sums", "n_layers", "measured_ms"):
        if k not in calibration:
            raise ValueError(f"calibration has no {k!r}: rebuild the table to refit")
    if "by_resolution" in calibration and "resolutions" not in calibration:
        raise ValueError("calibration has no 'resolutions': rebuild the table to refit it per resolution")
    out = {k: v for k, v in calibration.items() if k not in ("by_resolution", "loo_mape_pct")}
    return {**out, **fit_calibration(calibration["layer_sums"], calibration["n_layers"], calibration["measured_ms"],
                                     fit, calibration.get("resolutions"))}


__all__ = ["FITS", "FIT_CHOICES", "FIT_DEFAULT", "LOO_TIE_PCT", "check_fit", "fit_calibration", "refit"]
