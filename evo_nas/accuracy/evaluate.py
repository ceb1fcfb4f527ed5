"""The one evaluation entry point: ``evaluate(genome, cfg) -> dict`` of proxy accuracy, costs and latency.

MnasNet (Tan et al., 2019, arXiv 1807.11626) scores each sampled model by the accuracy of a
short training on a held-out split plus its latency; ``evaluate`` does the same for one genome
from an ``EvalConfig`` (``seed``, ``[space]``, ``[data]``, ``[proxy]``, ``[latency]``). Its
randomness derives from ``(cfg.seed, genome.key)`` only, so results never depend on worker
count or order, and it never raises for a bad candidate: failures come back as
``status = "failed"`` with the reason.
"""
from __future__ import annotations

import time
from dataclasses import dataclass, field
from pathlib import Path

from ..base import hashing
from ..base.config import Seeded
from ..base.errors import unknown_key, validate
from ..base.files import from_base
from ..base.hashing import derive_seed
from ..spaces.config import SpaceSection
from ..spaces.loader import load_space
from ..spaces.space import Genome, Space
from .data import DataConfig, load_dataset
from .dataset import Dataset, to_tensor
from .proxies import Proxy, ProxyData, proxy_from_config

SPACE_KEYS = {"name", "file", "width_multiplier", "resolution"}


_PROXY_DATA: dict[tuple, ProxyData] = {}


@dataclass(frozen=True, eq=False)
class EvalConfig:
    """What ``evaluate`` needs; picklable, loads its dataset lazily once per process."""

    seed: int = 0
    space_section: dict = field(default_factory=dict)
    data: DataConfig = field(default_factory=DataConfig)
    proxy: Proxy = field(default_factory=lambda: proxy_from_config({}))
    latency_section: dict | None = None
    _memo: dict = field(default_factory=dict, repr=False, compare=False)

    @classmethod
    def from_dict(cls, config: dict, base_dir: str | Path | None = None) -> "EvalConfig":
        """Reads ``seed``, ``[space]``, ``[data]``, ``[proxy]``, ``[latency]``; other sections are ignored."""
        if not isinstance(config, dict):
            raise ValueError(f"config must be a table, got {type(config).__name__}")
        seed = validate(Seeded, config).seed
        sections = {}
        for name in ("space", "data", "proxy", "latency"):
            v = config.get(name)
            if v is not None and not isinstance(v, dict):
                raise ValueError(f"[{name}] must be a table, got {v!r}")
            sections[name] = dict(v) if v is not None else None
        space = sections["space"] or {}
        validate(SpaceSection, space, "space")
        unknown = sorted(set(space) - SPACE_KEYS)
        if unknown:
            raise unknown_key("[space]", unknown[0], SPACE_KEYS, " (the dataset sets the others)")
        base = Path(base_dir) if base_dir is not None else None
        if "file" in space:
            space["file"] = from_base(space["file"], base)
        latency = sections["latency"]
        if latency is not None and "table" in latency:
            latency["table"] = from_base(latency["table"], base)
        return cls(seed=seed, space_section=space, data=DataConfig.from_dict(sections["data"], base),
                   proxy=proxy_from_config(sections["proxy"]), latency_section=latency)

    def __getstate__(self):
        state = dict(self.__dict__)
        state["_memo"] = {}
        return state

    # -- resolved pieces, memoised per process ------------------------------------------------
    def dataset(self) -> Dataset:
        return load_dataset(self.data)

    def space(self) -> Space:
        """The search space with input channels and classes taken from the dataset, and its resolution
        unless ``[space] resolution`` sets another (images are then resized)."""
        if "space" not in self._memo:
            ds = self.dataset()
            wm = self.space_section.get("width_multiplier")
            res = self.space_section.get("resolution", ds.resolution)
            self._memo["space"] = load_space(self.space_section.get("file") or self.space_section.get("name", "mnasnet"),
                                             resolution=res, in_channels=ds.in_channels,
                                             num_classes=ds.num_classes,
                                             width_multiplier=float(wm) if wm is not None else None)
        return self._memo["space"]

    def proxy_space(self) -> Space:
        """The space the proxy builds: ``space()`` at the proxy's width multiplier and resolution, if set."""
        if "proxy_space" not in self._memo:
            over = {k: self.proxy.common[k] for k in ("width_multiplier", "resolution") if k in self.proxy.common}
            space = self.space()
            if over and not hasattr(space, "with_overrides"):
                raise ValueError(f"[proxy]: space {space.name!r} cannot be rescaled ({', '.join(over)})")
            self._memo["proxy_space"] = space.with_overrides(**over) if over else space
        return self._memo["proxy_space"]

    def val_size(self) -> int:
        return self.data.resolved_val_size(self.dataset())

    def proxy_data(self) -> ProxyData:
        """Training and validation tensors at the proxy's resolution (the test split is never touched)."""
        ds = self.dataset()
        res = self.proxy_space().resolution
        key = (self.data.key(), ds.fingerprint, res, self.val_size())
        if key not in _PROXY_DATA:
            import torch

            tr, va = ds.split(self.val_size(), self.data.split_seed)
            _PROXY_DATA[key] = ProxyData(to_tensor(ds.x_train[tr], ds.stats, res), torch.from_numpy(ds.y_train[tr]),
                                         to_tensor(ds.x_train[va], ds.stats, res), torch.from_numpy(ds.y_train[va]))
        return _PROXY_DATA[key]

    def latency_model(self):
        """The ``[latency]`` section's model, or None when the section is absent."""
        if self.latency_section is None:
            return None
        if "latency" not in self._memo:
            try:
                from ..latency import latency_model_from_config
            except ImportError as e:
                raise ValueError(f"[latency] is set but the latency module is unavailable ({e})") from None
            self._memo["latency"] = latency_model_from_config(self.latency_section, self.space())
        return self._memo["latency"]

    def fingerprint(self) -> str:
        """Hash of everything that changes a result: space, dataset and split, proxy, latency model, seed."""
        lm = self.latency_model()
        blob = {"seed": self.seed, "space": self.space().fingerprint(), "proxy_space": self.proxy_space().fingerprint(),
                "data": {"fingerprint": self.dataset().fingerprint, "val_size": self.val_size(),
                         "split_seed": self.data.split_seed},
                "proxy": self.proxy.settings(), "latency": lm.fingerprint() if lm is not None else None}
        return hashing.fingerprint(blob)

    def describe(self) -> dict:
        lm = self.latency_model()
        return {"seed": self.seed, "space": self.space().name, "dataset": self.dataset().describe(),
                "val_size": self.val_size(), "proxy": self.proxy.settings(),
                "latency": lm.describe() if lm is not None else None, "fingerprint": self.fingerprint()}


def _check_budget(params_m: float, macs_m: float, common: dict) -> str | None:
    for key, value in (("params_m", params_m), ("macs_m", macs_m)):
        limit = common.get(f"max_{key}")
        if limit is not None and value > limit:
            return f"{key} = {value:.4g} exceeds max_{key} = {limit:g}"
    return None


def evaluate(genome: Genome | str, cfg: EvalConfig) -> dict:
    """Score one genome: proxy accuracy (or zero-cost score), params, MACs, latency; never raises."""
    from ..spaces.costs import count

    start = time.perf_counter()
    rec = {"key": None, "proxy": cfg.proxy.name, "val_acc": None, "score": None, "latency_ms": None,
           "latency_source": None, "params_m": None, "macs_m": None, "train_s": None, "eval_s": None,
           "status": "failed", "error": None, "seed": cfg.seed}
    try:
        space = cfg.space()
        if isinstance(genome, str):
            genome = space.parse(genome)
        rec["key"] = genome.key
        arch = space.decode(genome.genes)
        cost = count(arch)
        rec["params_m"], rec["macs_m"] = cost.params / 1e6, cost.macs / 1e6
        over = _check_budget(rec["params_m"], rec["macs_m"], cfg.proxy.common)
        if over:
            rec["error"] = over
            return rec
        lm = cfg.latency_model()
        if lm is not None:
            rec["latency_source"] = lm.describe().get("source")
            if lm.safe_in_pool:
                rec["latency_ms"] = float(lm.latency_ms(arch))
        rec.update(run_proxy(genome, cfg))
        rec["status"] = "ok"
    except Exception as e:  # noqa: BLE001  (a bad candidate is a failed record, never a crash)
        rec["error"] = f"{type(e).__name__}: {e}"
    finally:
        rec["eval_s"] = time.perf_counter() - start
    return rec


def run_proxy(genome: Genome, cfg: EvalConfig) -> dict:
    """The proxy's output for ``genome``: seeded from (cfg.seed, genome.key), at the proxy's width/resolution."""
    import torch

    from ..networks.builder import build_model
    from .train import deterministic

    key = genome.key
    parch = cfg.proxy_space().decode(genome.genes)
    data = cfg.proxy_data()
    gen = torch.Generator().manual_seed(derive_seed(cfg.seed, key, "init+data"))
    with deterministic(cfg.proxy.common["threads"], derive_seed(cfg.seed, key, "dropout")):
        model = build_model(parch, generator=gen)
        out = cfg.proxy.run(model, data, gen)
    return {k: out[k] for k in ("score", "val_acc", "train_s")}


def train_full(genome: Genome | str, cfg: EvalConfig, settings, threads: int = 1) -> dict:
    """Train the target model (``cfg.space()``, full width and resolution) and report validation and test accuracy."""
    space = cfg.space()
    if isinstance(genome, str):
        genome = space.parse(genome)
    return train_network(space.decode(genome.genes), genome.key, cfg.dataset(), cfg.data, cfg.seed, settings,
                         threads)[1]


def train_network(arch, key: str, ds: Dataset, data: DataConfig, seed: int, settings, threads: int = 1):
    """Train ``arch`` (an ``Architecture``) on ``ds``'s training split, the validation split of ``data`` held
    out, images resized to ``arch.resolution``; returns ``(model, record)``: the trained ``nn.Module``
    (eval mode, BatchNorm statistics recalibrated) and the record ``train_full`` reports. Seeded from
    ``(seed, key)``."""
    import torch

    from ..networks.builder import build_model
    from ..spaces.costs import count
    from .train import accuracy, deterministic, recalibrate_bn, train_model

    tr, va = ds.split(data.resolved_val_size(ds), data.split_seed)
    res = arch.resolution
    x_tr, y_tr = to_tensor(ds.x_train[tr], ds.stats, res), torch.from_numpy(ds.y_train[tr])
    x_va, y_va = to_tensor(ds.x_train[va], ds.stats, res), torch.from_numpy(ds.y_train[va])
    x_te, y_te = to_tensor(ds.x_test, ds.stats, res), torch.from_numpy(ds.y_test)
    cost = count(arch)
    gen = torch.Generator().manual_seed(derive_seed(seed, key, "full-train"))
    with deterministic(threads, derive_seed(seed, key, "full-train-dropout")):
        model = build_model(arch, generator=gen)
        out = train_model(model, x_tr, y_tr, settings, gen)
        recalibrate_bn(model, x_tr, settings.bn_calibration)
        val_acc = accuracy(model, x_va, y_va, settings.eval_batch_size)
        test_acc = accuracy(model, x_te, y_te, settings.eval_batch_size)
    return model.eval(), {"key": key, "val_acc": val_acc, "test_acc": test_acc, "params_m": cost.params / 1e6,
                          "macs_m": cost.macs / 1e6, "train_s": out.train_s, "steps": out.steps,
                          "final_loss": out.final_loss, "dataset": ds.name, "train_images": len(tr),
                          "test_images": len(ds.x_test), "seed": seed, "settings": settings.to_dict(),
                          "threads": threads}


__all__ = ["EvalConfig", "evaluate", "run_proxy", "train_full", "train_network", "derive_seed"]
