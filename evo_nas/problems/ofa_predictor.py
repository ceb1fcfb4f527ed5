"""Once-for-All's accuracy predictor (Cai et al., ICLR 2020, arXiv 1908.09791, section 3.3): an MLP over a
one-hot encoding of an ``ofa-mbv3`` genome, scoring a whole generation in one forward pass."""
from __future__ import annotations

from pathlib import Path

import numpy as np

from ..base.errors import error_text
from ..base.hashing import file_fingerprint as _file_hash

KERNEL_SLOTS = {3: 0, 5: 1, 7: 2}
EXPANSION_SLOTS = {3: 0, 4: 1, 6: 2}
N_FEATURES = 128


class AccuracyPredictor:
    """Once-for-All's top-1 predictor: Linear(128, 400), ReLU, 2 x (Linear(400, 400), ReLU), Linear(400, 1).

    Input: 60 kernel entries (3 per layer slot: kernel 3, 5, 7), 60 expansion entries (3 per slot:
    3, 4, 6), both all zero for an inactive slot, and 8 resolution entries (index (r - 112) // 16).
    ``FileNotFoundError`` names a missing file, ``ValueError`` a file that is not this model."""

    def __init__(self, space, path: str | Path):
        import torch
        from torch import nn

        self.path = Path(path)
        if not self.path.is_file():
            raise FileNotFoundError(f"accuracy predictor not found: {self.path}")
        try:
            state = torch.load(self.path, map_location="cpu", weights_only=True)
            self.model = nn.Sequential(nn.Linear(N_FEATURES, 400), nn.ReLU(), nn.Linear(400, 400), nn.ReLU(),
                                       nn.Linear(400, 400), nn.ReLU(), nn.Linear(400, 1))
            self.model.load_state_dict(state)
        except Exception as e:  # noqa: BLE001  (any unreadable or mismatched file is the same user error)
            raise ValueError(f"{self.path}: not Once-for-All's accuracy predictor ({error_text(e)})") from None
        self.model.eval()
        self.space = space
        self._check_space(space)
        slots = space.slots
        # feature position of each gene value, per layer slot: (stages, slots, choices)
        slot = (np.arange(len(space.stages))[:, None] * slots + np.arange(slots)[None, :])[:, :, None]
        self._kpos = slot * 3 + np.array([KERNEL_SLOTS[k] for k in space.kernels])[None, None, :]
        self._epos = 60 + slot * 3 + np.array([EXPANSION_SLOTS[e] for e in space.expansions])[None, None, :]
        self._rpos = 120 + (np.array(space.resolutions) - 112) // 16

    @staticmethod
    def _check_space(space) -> None:
        bad = []
        if len(space.stages) != 5 or space.slots != 4:
            bad.append(f"{len(space.stages)} stages of {space.slots} slots (expected 5 of 4)")
        bad += [f"kernel {k}" for k in space.kernels if k not in KERNEL_SLOTS]
        bad += [f"expansion {e}" for e in space.expansions if e not in EXPANSION_SLOTS]
        bad += [f"resolution {r}" for r in space.resolutions if r < 112 or r >= 240 or (r - 112) % 16]
        if bad:
            raise ValueError(f"space {space.name!r} does not fit Once-for-All's accuracy predictor: {bad[0]}")

    def features(self, X) -> np.ndarray:
        """The (N, 128) one-hot encoding of the canonical gene array ``X`` (N, n_genes)."""
        sp = self.space
        X = np.asarray(X, dtype=np.int64)
        n = len(X)
        F = np.zeros((n, N_FEATURES), dtype=np.float32)
        active = sp.active_mask(X)
        stage, slot = np.nonzero(np.ones(active.shape[1:], dtype=bool))
        rows = np.repeat(np.arange(n), len(stage))
        st, sl = np.tile(stage, n), np.tile(slot, n)
        on = active.reshape(-1)
        kgene = X[:, sp._kernel_idx].reshape(-1)
        egene = X[:, sp._exp_idx].reshape(-1)
        F[rows[on], self._kpos[st, sl, kgene][on]] = 1.0
        F[rows[on], self._epos[st, sl, egene][on]] = 1.0
        F[np.arange(n), self._rpos[X[:, sp._res_idx]]] = 1.0
        return F

    def predict(self, X) -> np.ndarray:
        """Predicted top-1 (fraction) of each row of the canonical gene array ``X``, shape (N,)."""
        import torch

        with torch.no_grad():
            out = self.model(torch.from_numpy(self.features(X)))
        return out[:, 0].double().numpy()

    def fingerprint(self) -> str:
        return _file_hash(self.path)


__all__ = ["AccuracyPredictor", "KERNEL_SLOTS", "EXPANSION_SLOTS", "N_FEATURES"]
