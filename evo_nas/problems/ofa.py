"""The Once-for-All ImageNet benchmark: predicted top-1 and Samsung Note10 latency over ``ofa-mbv3``.

Once-for-All (Cai et al., ICLR 2020, arXiv 1908.09791, section 3.3) searches its trained
MobileNetV3 supernet with an accuracy predictor (an MLP over a one-hot architecture encoding)
and a per-layer latency lookup table measured on the device; EvoXBench's IN-1K problems use
the same kind of predictor and the same tables. Both are shipped in ``evo_nas/assets/ofa/``
(MIT, see its NOTICE.md) and both score a whole generation at once:

- ``AccuracyPredictor.predict(X)``: predicted ImageNet top-1 (fraction, weights inherited from
  the supernet, before fine-tuning) of N canonical genomes in one forward pass;
- ``SpaceLatency.predict(X)``: Note10 latency in ms, the sum of the layers' measured means.

Agreement with 210 vectors computed by Once-for-All's own code is a test (to 1e-6). ``[problem]``::

    name = "ofa-mbv3"
    space = "ofa-mbv3"          # a genome file of type ofa_mbv3 (name or path)
    predictor = "PATH.pth"      # default: the shipped predictor
    device = "note10"           # or "this-machine": latency from [latency] (default: this machine's
                                # per-layer table at the space's resolutions, filled on demand)
    latency_tables = "DIR"      # note10 only; default: the shipped tables ({R}_lookup_table.yaml)
"""
from __future__ import annotations

from pathlib import Path
from typing import Literal

import numpy as np
from pydantic import BaseModel, ConfigDict, Field

from .. import hashing
from ..files import from_base
from ..hashing import file_fingerprint as _file_hash
from ..latency.ofa_table import ASSETS, NOTE10_DIR, OFALatencyTable
from ..schema.errors import error_text, validate
from ..spacefiles import load_space
from . import register_problem
from .base import Objective, Problem

PREDICTOR = ASSETS / "acc_predictor.pth"
KERNEL_SLOTS = {3: 0, 5: 1, 7: 2}
EXPANSION_SLOTS = {3: 0, 4: 1, 6: 2}
N_FEATURES = 128


class AccuracyPredictor:
    """Once-for-All's top-1 predictor: Linear(128, 400), ReLU, 2 x (Linear(400, 400), ReLU), Linear(400, 1).

    Input: 60 kernel entries (3 per layer slot: kernel 3, 5, 7), 60 expansion entries (3 per slot:
    3, 4, 6), both all zero for an inactive slot, and 8 resolution entries (index (r - 112) // 16).
    ``FileNotFoundError`` names a missing file, ``ValueError`` a file that is not this model."""

    def __init__(self, space, path: str | Path = PREDICTOR):
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


class OFAKeys(BaseModel):
    """The ``[problem]`` keys of ``ofa-mbv3``; relative paths resolve against ``[search] base_dir``."""

    model_config = ConfigDict(strict=True, extra="forbid")

    space: str = Field("ofa-mbv3", description="a space name or file")
    predictor: str | None = Field(None, description="the path of an accuracy predictor (default: the packaged one)")
    device: Literal["note10", "this-machine"] = Field("note10", description="one of note10, this-machine")
    latency_tables: str | None = Field(None, description="a folder of Note10 latency tables (default: the packaged one)")


@register_problem("ofa-mbv3")
class OFAProblem(Problem):
    """Predicted ImageNet top-1 and Note10 latency of Once-for-All MobileNetV3 subnets, per generation."""

    objectives = (Objective("top1", "max", "fraction",
                            "ImageNet top-1 predicted by Once-for-All's accuracy predictor"),
                  Objective("latency_ms", "min", "ms",
                            "Samsung Note10 latency predicted from measured per-layer means"))
    default_objectives = ("top1", "latency_ms")
    config_keys = tuple(OFAKeys.model_fields)
    config_model = OFAKeys
    config_sections = ("latency",)
    batch = True
    DEVICES = ("note10", "this-machine")

    def __init__(self, space="ofa-mbv3", predictor: str | Path = PREDICTOR, latency_tables: str | Path = NOTE10_DIR,
                 device: str = "note10", latency_section: dict | None = None):
        self.space = load_space(space) if isinstance(space, (str, Path)) else space
        if getattr(self.space, "type_name", "") != "ofa_mbv3":
            raise ValueError(f"[problem] space = {self.space.name!r} is not an ofa_mbv3 space")
        if device not in self.DEVICES:
            raise ValueError(f"[problem] device = {device!r} (expected one of {', '.join(self.DEVICES)})")
        self.device = device
        self.predictor = AccuracyPredictor(self.space, predictor)
        self.table = self.latency = self.machine = None
        if device == "note10":
            self.table = OFALatencyTable(latency_tables, "note10")
            self.latency = self.table.for_space(self.space)
        else:
            from ..latency import latency_model_from_config

            self.machine = latency_model_from_config(dict(latency_section or {"mode": "table"}), self.space)
            source = self.machine.describe().get("source", "measured")
            how = "measured end to end" if source == "measured" else "predicted from a per-layer table measured here"
            self.objectives = (self.objectives[0],
                               Objective("latency_ms", "min", "ms", f"this machine's latency, {how}"))

    @classmethod
    def from_config(cls, config: dict) -> "OFAProblem":
        section = config.get("problem")
        keys = validate(OFAKeys, {k: v for k, v in section.items() if k != "name"}
                        if isinstance(section, dict) else {}, "problem")
        base = Path((config.get("search") or {}).get("base_dir") or ".")

        def path(v, default):
            return default if v is None else Path(from_base(v, base))

        space, device = keys.space, keys.device
        if space.endswith(".toml"):
            space = from_base(space, base)
        latency = config.get("latency")
        if latency is not None and device != "this-machine":
            raise ValueError(f"[latency] is set but [problem] device = {device!r} takes its latency from the "
                             f"Note10 tables: set device = \"this-machine\" to measure here")
        if latency is not None and not isinstance(latency, dict):
            raise ValueError(f"[latency] must be a table, got {latency!r}")
        if latency is not None and "table" in latency:
            latency = {**latency, "table": from_base(latency["table"], base)}
        return cls(space, path(keys.predictor, PREDICTOR), path(keys.latency_tables, NOTE10_DIR), device, latency)

    @property
    def cheap_objectives(self) -> tuple[str, ...]:
        """Note10 latency is a table lookup: cheap. Latency measured on this machine is not."""
        return ("latency_ms",) if self.latency is not None else ()

    def evaluate_cheap(self, X) -> dict:
        """``{"latency_ms": (N,) Note10 ms}`` of the gene array ``X`` (N, 46), from the tables alone."""
        if self.latency is None:
            raise ValueError("[problem] device = \"this-machine\" measures latency: ofa-mbv3 has no cheap objective")
        X = self.space.canonical_array(np.asarray(X, dtype=np.int64).reshape(-1, self.space.n_genes))
        return {"latency_ms": np.asarray(self.latency.predict(X), dtype=float)}

    def evaluate_array(self, X) -> np.ndarray:
        """(N, 2) array of predicted top-1 (fraction) and Note10 latency (ms) of the genes ``X`` (N, 46)."""
        if self.latency is None:
            raise ValueError("evaluate_array needs the Note10 latency ([problem] device = \"note10\")")
        X = self.space.canonical_array(np.asarray(X, dtype=np.int64).reshape(-1, self.space.n_genes))
        return np.stack([self.predictor.predict(X), self.latency.predict(X)], axis=1)

    def evaluate_columns(self, X) -> dict | None:
        if self.machine is not None:
            return None
        F = self.evaluate_array(X)
        return {"top1": F[:, 0], "latency_ms": F[:, 1]}

    def evaluate(self, genomes) -> list[dict]:
        if not len(genomes):
            return []
        X = np.array([g.genes for g in genomes], dtype=np.int64)
        if self.machine is None:
            F = self.evaluate_array(X)
            return [{"top1": float(a), "latency_ms": float(t), "status": "ok", "error": None} for a, t in F]
        top1 = self.predictor.predict(self.space.canonical_array(X))
        source = self.machine.describe().get("source")
        out = []
        for g, a in zip(genomes, top1):
            rec = {"top1": float(a), "latency_ms": None, "latency_source": source, "status": "ok", "error": None}
            if self.machine.safe_in_pool:
                # a complete table is a lookup; otherwise the engine measures serially, workers idle
                try:
                    rec["latency_ms"] = float(self.machine.latency_ms(g.architecture()))
                except Exception as e:  # noqa: BLE001  (a bad candidate fails with its reason)
                    rec.update(status="failed", error=f"latency: {type(e).__name__}: {e}")
            out.append(rec)
        return out

    def latency_model(self):
        return self.machine

    def fingerprint(self) -> str:
        blob = {"problem": self.name, "space": self.space.fingerprint(), "predictor": self.predictor.fingerprint()}
        if self.machine is None:
            blob["tables"] = {r: _file_hash(f) for r, f in self.table.files.items()}
        else:
            blob["latency"] = self.machine.fingerprint()
        return hashing.fingerprint(blob)

    def describe(self) -> dict:
        return {"problem": self.name, "space": self.space.name,
                "accuracy": {"source": "predicted", "model": "Once-for-All accuracy predictor (ImageNet top-1)",
                             "file": str(self.predictor.path)},
                "latency": (self.table or self.machine).describe()}
