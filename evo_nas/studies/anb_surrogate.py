"""Fit, score and export evo-nas's Accel-NASBench surrogates (one gradient-boosted tree model per objective).

Accel-NASBench (Ahmad et al., 2024, arXiv 2404.08005, section 4) fits XGBoost surrogates on its
records; evo-nas fits scikit-learn's ``HistGradientBoostingRegressor`` on the encoding of
``evo_nas.problems.anb_model.features``, the same way:

1. per target, null entries dropped; latency and throughput fitted in log space, top-1 in %;
2. hyper-parameters chosen on the published val split (Kendall tau) among ``GRID``;
3. the chosen model refitted on train + val, scored on the published 512-network test split
   (Kendall tau, R^2 in natural units), and exported to ONNX (skl2onnx; gzip, 5x smaller) with a manifest.

Everything is seeded (``random_state``) and has no early stopping, so a rerun gives the same models.
"""
from __future__ import annotations

import gzip
import hashlib
import json
from pathlib import Path

import numpy as np

from ..problems.anb_data import METRICS, SPLITS, load_records, split_names
from ..problems.anb_model import TARGETS, BlockCosts, features
from ..spaces.loader import load_space

#: (learning rate, iterations, leaves per tree)
GRID = ((0.1, 300, 31), (0.05, 1000, 15))
LOG_TARGETS = tuple(t for t in TARGETS if not t.startswith("val_"))
SOURCE = "https://github.com/afzalxo/Accel-NASBench/tree/42603572d530310e6bac7191d00cf45625a6b197"


def model(params, seed: int):
    from sklearn.ensemble import HistGradientBoostingRegressor

    lr, iters, leaves = params
    return HistGradientBoostingRegressor(learning_rate=lr, max_iter=iters, max_leaf_nodes=leaves,
                                         early_stopping=False, random_state=seed)


def scores(pred, true) -> tuple[float, float]:
    """(Kendall tau, R^2) of predictions against measurements, natural units."""
    from scipy.stats import kendalltau
    from sklearn.metrics import r2_score

    return float(kendalltau(pred, true)[0]), float(r2_score(true, pred))


def dataset(root=None, seed: int = 0):
    """Space, features of every record, the records and the split positions."""
    space = load_space("anb")
    rec = load_records(space, root)
    F = features(space, rec.genes, BlockCosts(space))
    split = {s: rec.index(split_names(s, root)) for s in SPLITS}
    return space, F, rec, split


def fit_target(target: str, F, rec, split, seed: int = 0, params=None):
    """(final model, chosen params, val tau per grid point, test (tau, R^2)) for one target."""
    y = rec.values[target]
    z = np.log(y) if target in LOG_TARGETS else y
    tr, va, te = (split[s][~np.isnan(y[split[s]])] for s in SPLITS)
    val = {}
    if params is None:
        for p in GRID:
            pred = model(p, seed).fit(F[tr], z[tr]).predict(F[va])
            val[p] = scores(pred, z[va])[0]
        params = max(GRID, key=lambda p: (val[p], -GRID.index(p)))
    both = np.concatenate([tr, va])
    final = model(params, seed).fit(F[both], z[both])
    pred = final.predict(F[te])
    pred = np.exp(pred) if target in LOG_TARGETS else pred
    return final, params, val, scores(pred, y[te]), len(tr), len(va), len(te)


def to_onnx(m, n_features: int) -> bytes:
    from unittest import mock

    import skl2onnx.common.tree_ensemble as te
    from skl2onnx import convert_sklearn
    from skl2onnx.common.data_types import FloatTensorType

    add_node = te.add_node

    def int_flags(*args, nodes_missing_value_tracks_true=0, **kw):
        # skl2onnx 1.20 gives leaves a Python bool here, which onnx >= 1.17 refuses in an ints attribute
        return add_node(*args, nodes_missing_value_tracks_true=int(nodes_missing_value_tracks_true), **kw)

    with mock.patch.object(te, "add_node", int_flags):
        onx = convert_sklearn(m, initial_types=[("features", FloatTensorType([None, n_features]))],
                              target_opset={"": 17, "ai.onnx.ml": 3})
    onx.producer_version = "skl2onnx"       # no version string: the same models give the same bytes
    return onx.SerializeToString()


def fixed_genomes(space, n: int = 7, seed: int = 0):
    """EfficientNet-B0 and ``n`` seeded random genomes: the networks the expected vector holds."""
    rng = np.random.default_rng(seed)
    b0 = space.parse("e1k3l1se-e6k3l2se-e6k5l2se-e6k3l3se-e6k5l3se-e6k5l4se-e6k3l1se")
    return [b0] + [space.sample(rng) for _ in range(n)]


def build(out: Path, expected: Path, root=None, seed: int = 0) -> list[dict]:
    """Fit every target, write the ONNX files, manifest.json and SHA256SUMS into ``out`` and the
    expected predictions of ``fixed_genomes`` into ``expected``; returns the fidelity rows."""
    space, F, rec, split = dataset(root, seed)
    out.mkdir(parents=True, exist_ok=True)
    costs = BlockCosts(space)
    fixed = fixed_genomes(space)
    Ff = features(space, np.array([g.genes for g in fixed]), costs)
    rows, models, exp = [], {}, {"genomes": [g.key for g in fixed], "predictions": {}}
    for target in TARGETS:
        final, params, val, (tau, r2), ntr, nva, nte = fit_target(target, F, rec, split, seed)
        name = f"{target}.onnx.gz"
        (out / name).write_bytes(gzip.compress(to_onnx(final, F.shape[1]), mtime=0))
        transform = "log" if target in LOG_TARGETS else "identity"
        models[target] = {"file": name, "transform": transform, "unit": METRICS[target][2],
                          "learning_rate": params[0], "max_iter": params[1], "max_leaf_nodes": params[2],
                          "test_kendall_tau": round(tau, 4), "test_r2": round(r2, 4)}
        pf = final.predict(Ff)
        exp["predictions"][target] = (np.exp(pf) if transform == "log" else pf).tolist()
        rows.append({"target": target, "unit": METRICS[target][2], "train": ntr, "val": nva, "test": nte,
                     "params": params, "val_tau": val[params], "test_tau": tau, "test_r2": r2})
    manifest = {"benchmark": "Accel-NASBench", "source": SOURCE, "space": "anb", "seed": seed,
                "n_features": int(F.shape[1]), "features": "evo_nas.problems.anb_model.features",
                "model": "sklearn HistGradientBoostingRegressor, exported by skl2onnx", "models": models}
    (out / "manifest.json").write_text(json.dumps(manifest, indent=1) + "\n")
    files = ["manifest.json"] + [m["file"] for m in models.values()]
    sums = "".join(f"{hashlib.sha256((out / f).read_bytes()).hexdigest()}  {f}\n" for f in files)
    (out / "SHA256SUMS").write_text(sums)
    expected.write_text(json.dumps(exp, indent=1) + "\n")
    return rows


def table(rows) -> str:
    lines = ["| objective | unit | train / val / test | lr, iterations, leaves | val tau | test tau | test R^2 |",
             "|---|---|---|---|---|---|---|"]
    for r in rows:
        unit = "fraction (fit in %)" if r["target"] == "val_top1" else r["unit"]
        lines.append(f"| {r['target']} | {unit} | {r['train']} / {r['val']} / {r['test']} | "
                     f"{r['params'][0]}, {r['params'][1]}, {r['params'][2]} | {r['val_tau']:.4f} | "
                     f"{r['test_tau']:.4f} | {r['test_r2']:.4f} |")
    return "\n".join(lines)
