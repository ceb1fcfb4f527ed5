"""Accel-NASBench's surrogates as evo-nas ships them: exact costs, the feature encoding and the ONNX models.

Accel-NASBench (Ahmad et al., 2024, arXiv 2404.08005, section 4) answers networks it did not
measure with gradient-boosted trees fitted on its 5,138 records; its own XGBoost files are not
obtainable here, so evo-nas fits its own (``experiments/train_anb_surrogate.py``: scikit-learn's
``HistGradientBoostingRegressor``, one per objective) and ships them as ONNX in
``evo_nas/assets/anb/`` (no pickle; NOTICE.md there has the provenance and the fidelity).

- ``BlockCosts``: parameters and MACs of every genome of an ``mbconv`` space, exact (the analytic
  counters of ``evo_nas.spaces.costs``, summed per block from tables built once), vectorized over (N, 28).
- ``features(space, X, costs)``: per block its expansion, kernel, layers and SE as ordered values;
  per layer slot of a block (up to the block's largest layer count) expansion, kernel and SE, zero
  where the slot is beyond the block's layers (inactive layers masked); then params (M) and MACs (M).
- ``Surrogates``: the shipped ONNX models, scored for a whole generation in one call each.
"""
from __future__ import annotations

import gzip
import json
from pathlib import Path

import numpy as np

from ..spaces.costs import count, layer_cost, thop_macs

ASSETS = Path(__file__).resolve().parent.parent / "assets" / "anb"
#: target name of the records -> file name of its shipped model; each model predicts the target's log
#: (latency, throughput) or the target itself (top-1 in %), as ``manifest.json`` says
TARGETS = ("val_top1", "latency_zcu102", "latency_vck190", "throughput_a100", "throughput_3090",
           "throughput_tpuv2", "throughput_tpuv3")


class BlockCosts:
    """Exact parameters, MACs and thop-counted MACs of genomes of ``space``, vectorized."""

    def __init__(self, space):
        self.space = space
        base = np.zeros(space.n_genes, dtype=np.int64)
        self.tables = []          # per block: (combinations, 3) int64 of params, MACs, thop MACs
        per_block = []
        for b, s in enumerate(space.block_slices):
            card = space.cardinalities[s]
            rows = []
            for combo in np.ndindex(*card):
                genes = base.copy()
                genes[s] = combo
                rows.append(self._block_cost(genes, b))
            self.tables.append(np.array(rows, dtype=np.int64))
            per_block.append(self.tables[-1][0])
        arch = space.decode(tuple(base))
        total = np.array([count(arch).params, count(arch).macs, thop_macs(arch)], dtype=np.int64)
        self.fixed = total - np.sum(per_block, axis=0)
        self._strides = [np.cumprod((1,) + space.cardinalities[s][:0:-1])[::-1] for s in space.block_slices]

    def _block_cost(self, genes, b: int) -> tuple[int, int, int]:
        arch = self.space.decode(tuple(genes))
        start = sum(blk.repeats for blk in arch.blocks[:b])
        layers = arch.layers()[start:start + arch.blocks[b].repeats]
        params = sum(layer_cost(x).params for x in layers)
        macs = sum(layer_cost(x).macs for x in layers)
        # thop's extras of this block: the difference it makes to the whole network's count
        return params, macs, thop_macs(arch) - count(arch).macs + macs

    def __call__(self, X) -> np.ndarray:
        """(N, 3) int64: parameters, MACs (conv and linear) and MACs as thop counts them."""
        X = np.asarray(X, dtype=np.int64).reshape(-1, self.space.n_genes)
        total = np.tile(self.fixed, (len(X), 1))
        for table, s, stride in zip(self.tables, self.space.block_slices, self._strides):
            total += table[X[:, s] @ stride]
        return total


def features(space, X, costs) -> np.ndarray:
    """The (N, F) float32 encoding of the gene array ``X`` (N, n_genes) that the surrogates read;
    ``costs`` is a ``BlockCosts`` or its (N, 3) result for ``X``."""
    X = np.asarray(X, dtype=np.int64).reshape(-1, space.n_genes)
    cols = []
    slots = []
    for ref, s in zip(space.blocks, space.block_slices):
        e, k, n, se = (np.asarray(ref.choices[f], dtype=np.float64)[X[:, s.start + j]]
                       for j, f in enumerate(("expansion", "kernel", "layers", "se")))
        cols += [e, k, n, se]
        for j in range(max(ref.choices["layers"])):
            on = n > j
            slots += [e * on, k * on, se * on]
    c = costs(X) if callable(costs) else np.asarray(costs)
    return np.stack(cols + slots + [c[:, 0] / 1e6, c[:, 1] / 1e6], axis=1).astype(np.float32)


class Surrogates:
    """The ONNX models of ``folder`` (``manifest.json`` lists each target's file, plain or gzipped, and transform);
    ``predict(F)`` gives each target in its natural unit. ``FileNotFoundError`` names a missing file,
    ``ValueError`` a file that does not load."""

    def __init__(self, folder: str | Path = ASSETS):
        import onnxruntime as ort

        self.folder = Path(folder)
        manifest = self.folder / "manifest.json"
        if not manifest.is_file():
            raise FileNotFoundError(f"Accel-NASBench surrogate manifest not found: {manifest}")
        self.manifest = json.loads(manifest.read_text())
        self.sessions = {}
        opts = ort.SessionOptions()
        opts.intra_op_num_threads = 1
        opts.inter_op_num_threads = 1
        for target, entry in self.manifest["models"].items():
            path = self.folder / entry["file"]
            if not path.is_file():
                raise FileNotFoundError(f"Accel-NASBench surrogate not found: {path}")
            try:
                data = path.read_bytes()
                data = gzip.decompress(data) if path.suffix == ".gz" else data
                self.sessions[target] = ort.InferenceSession(data, opts, providers=["CPUExecutionProvider"])
            except Exception as e:  # noqa: BLE001  (any unreadable file is the same user error)
                raise ValueError(f"{path}: not an ONNX model ({type(e).__name__})") from None

    @property
    def files(self) -> list[Path]:
        return [self.folder / "manifest.json"] + [self.folder / e["file"] for e in self.manifest["models"].values()]

    def predict(self, F, targets=None) -> dict[str, np.ndarray]:
        """Each target (default: all) of the feature rows ``F`` (N, F), float64 in natural units
        (top-1 in %, latency in ms, throughput in images/s)."""
        F = np.ascontiguousarray(F, dtype=np.float32)
        out = {}
        for t in targets or self.sessions:
            sess = self.sessions[t]
            y = sess.run(None, {sess.get_inputs()[0].name: F})[0].reshape(-1).astype(np.float64)
            out[t] = np.exp(y) if self.manifest["models"][t]["transform"] == "log" else y
        return out
