"""The Once-for-All ImageNet benchmark: predicted top-1 and Samsung Note10 (or i7-8700K) latency over ``ofa-mbv3``.

Once-for-All (Cai et al., ICLR 2020, arXiv 1908.09791, section 3.3) searches its trained
MobileNetV3 supernet with an accuracy predictor (an MLP over a one-hot architecture encoding)
and a per-layer latency lookup table measured on the device; EvoXBench's IN-1K problems use
the same kind of predictor and the same tables. Their authors state no licence, so they are not
shipped: benchmark ``ofa`` of ``evo_nas.problems.benchdata`` fetches them from Once-for-All's own location
on first use (checked by SHA-256) or reads them from a mirror (``$EVO_NAS_DATA`` or
``[problem] data_dir``). Both score a whole generation at once:

- ``AccuracyPredictor.predict(X)`` (``evo_nas.problems.ofa_predictor``): predicted ImageNet top-1
  (fraction, weights inherited from the supernet, before fine-tuning) of N canonical genomes in
  one forward pass;
- ``SpaceLatency.predict(X)``: Note10 latency in ms, the sum of the layers' measured means.

Agreement with 210 vectors computed by Once-for-All's own code is a test (to 1e-6). ``[problem]``::

    name = "ofa-mbv3"
    space = "ofa-mbv3"          # a genome file of type ofa_mbv3 (name or path)
    predictor = "PATH.pth"      # default: the benchmark's predictor (evo_nas.problems.benchdata)
    device = "note10"           # "i7-8700k": NSGANetV2's Intel i7-8700K table (Lu et al., ECCV 2020);
                                # or "this-machine": latency from [latency] (default: this machine's
                                # per-layer table at the space's resolutions, filled on demand)
    latency_tables = "DIR"      # note10 only; default: the benchmark's tables ({R}_lookup_table.yaml)
    data_dir = "DIR"            # a mirror folder holding ofa/..., searched before $EVO_NAS_DATA
    latency_model = "m.json"    # with device = "fitted": a known table recalibrated on networks measured on
                                # your device (``evo-nas latency fit``, ``evo_nas.latency.fewshot``)
"""
from __future__ import annotations

from pathlib import Path
from typing import Literal

import numpy as np
from pydantic import BaseModel, ConfigDict, Field

from ..base import hashing
from ..base.errors import validate
from ..base.files import from_base
from ..base.hashing import file_fingerprint as _file_hash
from ..latency.ofa_table import NOTE10_RESOLUTIONS, OFALatencyTable
from ..spaces.loader import load_space
from . import benchdata, register_problem
from .base import Objective, Problem
from .ofa_predictor import AccuracyPredictor


class OFAKeys(BaseModel):
    """The ``[problem]`` keys of ``ofa-mbv3``; relative paths resolve against ``[search] base_dir``."""

    model_config = ConfigDict(strict=True, extra="forbid")

    space: str = Field("ofa-mbv3", description="a space name or file")
    predictor: str | None = Field(None, description="the path of an accuracy predictor (default: the benchmark's)")
    device: Literal["note10", "i7-8700k", "this-machine", "fitted"] = Field(
        "note10", description="one of note10, i7-8700k (NSGANetV2's table), this-machine, fitted (latency_model)")
    latency_model: str | None = Field(None, description="with device = \"fitted\": a latency model file written by "
                                                        "`evo-nas latency fit`")
    latency_tables: str | None = Field(None, description="a folder of Note10 latency tables (default: the benchmark's)")
    data_dir: str | None = Field(None, description="a mirror folder holding ofa/ (searched before $EVO_NAS_DATA)")


def predictor_file(data_dir: str | Path | None = None) -> Path:
    """Once-for-All's accuracy predictor, from the data layer (``benchdata.DataMissing`` if unavailable)."""
    return benchdata.data_file("ofa", "acc_predictor.pth", data_dir)


def note10_files(data_dir: str | Path | None = None) -> dict[int, Path]:
    """Once-for-All's Note10 tables, {resolution: file}, from the data layer."""
    return {r: benchdata.data_file("ofa", f"note10/{r}_lookup_table.yaml", data_dir) for r in NOTE10_RESOLUTIONS}


def i7_files(data_dir: str | Path | None = None) -> dict[int, Path]:
    """NSGANetV2's i7-8700K table (one file for every resolution), {resolution: file}, from the data layer."""
    path = benchdata.data_file("ofa", "i7-8700K/i7-8700K_lut.yaml", data_dir)
    return {r: path for r in NOTE10_RESOLUTIONS}


TABLE_DEVICES = {"note10": (note10_files, "Samsung Note10"), "i7-8700k": (i7_files, "Intel i7-8700K CPU")}


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
    DEVICES = (*TABLE_DEVICES, "this-machine", "fitted")

    def __init__(self, space="ofa-mbv3", predictor: str | Path | None = None,
                 latency_tables: str | Path | dict | None = None, device: str = "note10",
                 latency_section: dict | None = None, data_dir: str | Path | None = None,
                 latency_model: str | Path | None = None):
        self.space = load_space(space) if isinstance(space, (str, Path)) else space
        if getattr(self.space, "type_name", "") != "ofa_mbv3":
            raise ValueError(f"[problem] space = {self.space.name!r} is not an ofa_mbv3 space")
        if device not in self.DEVICES:
            raise ValueError(f"[problem] device = {device!r} (expected one of {', '.join(self.DEVICES)})")
        self.device = device
        self.predictor = AccuracyPredictor(self.space, predictor_file(data_dir) if predictor is None else predictor)
        self.table = self.latency = self.machine = self.model_file = None
        if (latency_model is None) != (device != "fitted"):
            raise ValueError("[problem] latency_model = FILE goes with device = \"fitted\" (a model written by "
                             "`evo-nas latency fit`), and device = \"fitted\" needs it")
        if device == "fitted":
            self._fitted(Path(latency_model), data_dir)
        elif device in TABLE_DEVICES:
            files, label = TABLE_DEVICES[device]
            if latency_tables is not None and device != "note10":
                raise ValueError(f"[problem] latency_tables is a folder of Note10 tables; device = {device!r} "
                                 f"reads its own table")
            self.table = OFALatencyTable(files(data_dir) if latency_tables is None else latency_tables, device)
            self.latency = self.table.for_space(self.space)
            if device != "note10":
                self.objectives = (self.objectives[0], Objective(
                    "latency_ms", "min", "ms", f"{label} latency predicted from measured per-layer means"))
        else:
            from ..latency import latency_model_from_config

            self.machine = latency_model_from_config(dict(latency_section or {"mode": "table"}), self.space)
            source = self.machine.describe().get("source", "measured")
            how = "measured end to end" if source == "measured" else "predicted from a per-layer table measured here"
            self.objectives = (self.objectives[0],
                               Objective("latency_ms", "min", "ms", f"this machine's latency, {how}"))

    def _fitted(self, path: Path, data_dir) -> None:
        from ..latency.fewshot import FewShotModel, FittedLatency

        model = FewShotModel.load(path)
        if model.base not in TABLE_DEVICES:
            raise ValueError(f"latency model {path}: base {model.base!r} is not one of {', '.join(TABLE_DEVICES)}")
        self.model_file = path
        self.table = OFALatencyTable(TABLE_DEVICES[model.base][0](data_dir), model.base)
        self.latency = FittedLatency(model, self.table.for_space(self.space), path)
        self.objectives = (self.objectives[0], Objective(
            "latency_ms", "min", "ms", f"{model.device or 'fitted device'} latency: the {model.base} table "
                                       f"recalibrated on {model.n} networks measured there"))

    @classmethod
    def from_config(cls, config: dict) -> "OFAProblem":
        section = config.get("problem")
        keys = validate(OFAKeys, {k: v for k, v in section.items() if k != "name"}
                        if isinstance(section, dict) else {}, "problem")
        base = Path((config.get("search") or {}).get("base_dir") or ".")

        def path(v):
            return None if v is None else Path(from_base(v, base))

        space, device = keys.space, keys.device
        if space.endswith(".toml"):
            space = from_base(space, base)
        latency = config.get("latency")
        if latency is not None and device != "this-machine":
            raise ValueError(f"[latency] is set but [problem] device = {device!r} takes its latency from its "
                             f"published table: set device = \"this-machine\" to measure here")
        if latency is not None and not isinstance(latency, dict):
            raise ValueError(f"[latency] must be a table, got {latency!r}")
        if latency is not None and "table" in latency:
            latency = {**latency, "table": from_base(latency["table"], base)}
        return cls(space, path(keys.predictor), path(keys.latency_tables), device, latency, path(keys.data_dir),
                   path(keys.latency_model))

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
        """(N, 2) array of predicted top-1 (fraction) and table latency (ms) of the genes ``X`` (N, 46)."""
        if self.latency is None:
            raise ValueError("evaluate_array needs a published latency table ([problem] device = \"note10\" "
                             "or \"i7-8700k\")")
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
            if self.model_file is not None:
                blob["latency_model"] = _file_hash(self.model_file)
        else:
            blob["latency"] = self.machine.fingerprint()
        return hashing.fingerprint(blob)

    def describe(self) -> dict:
        return {"problem": self.name, "space": self.space.name,
                "accuracy": {"source": "predicted", "model": "Once-for-All accuracy predictor (ImageNet top-1)",
                             "file": str(self.predictor.path)},
                "latency": (self.latency if self.model_file else self.table or self.machine).describe()}
