"""Once-for-All's per-layer latency lookup tables (Cai et al., ICLR 2020, arXiv 1908.09791, section 3.3).

One YAML file per input resolution, ``{R}_lookup_table.yaml``, maps a layer's description to its
latency measured on the device (``mean`` in milliseconds, with ``count`` and ``std``); a
network's latency is the sum of its layers' means (FBNet's lookup-table model, Wu et al., 2019).
Once-for-All published its Samsung Galaxy Note10 measurements of its MobileNetV3 w1.2 space
(benchmark ``ofa`` of ``evo_nas.problems.benchdata``: fetched on first use or read from a mirror, never
shipped). Layer keys, with H x W x C shapes::

    Conv-input:RxRx3-output:SxSx24                                        stem
    expanded_conv-input:HxWxC-output:H'xW'xC'-expand:M-kernel:K-stride:S-idskip:I-se:E-hs:A
    Conv_1-input:HxWx192-output:HxWx1152, AvgPool2D-..., Conv_2-..., Logits-...      head

A key the table lacks is a ``KeyError`` naming the key and the file.
"""
from __future__ import annotations

from pathlib import Path

import numpy as np

from ..base.errors import error_text
from ..spaces.arch import Architecture, conv_out, to_architecture

NOTE10_RESOLUTIONS = (160, 176, 192, 208, 224)


def _shape(h: int, c: int) -> str:
    return f"{h}x{h}x{c}"


def _walk(arch: Architecture):
    """``arch``'s layers with their sizes, as every table names them: the stem's input and output
    size, each layer with its output size, and the size the head works at."""
    a = to_architecture(arch)
    stem = conv_out(a.resolution, a.stem.kernel, a.stem.stride)
    layers, h = [], stem
    for spec in a.layers():
        h = conv_out(spec.resolution, spec.kernel, spec.stride)
        layers.append((spec, h))
    return a, stem, layers, h


def _head_widths(a: Architecture) -> tuple[int, int | None, int]:
    """The head's expand width, its optional second 1x1 width, and the classifier's input width."""
    head = a.head
    return head.filters, head.post_filters or None, head.post_filters or head.filters


def network_keys(arch: Architecture) -> list[str]:
    """The table key of every layer of ``arch``, stem to classifier, in order."""
    a, stem, layers, h = _walk(arch)
    keys = [f"Conv-input:{_shape(a.resolution, a.in_channels)}-output:{_shape(stem, a.stem.out_ch)}"]
    for spec, out in layers:
        mid = spec.mid_ch if spec.op == "ir" else spec.in_ch
        keys.append(f"expanded_conv-input:{_shape(spec.resolution, spec.in_ch)}-output:{_shape(out, spec.out_ch)}"
                    f"-expand:{mid}-kernel:{spec.kernel}-stride:{spec.stride}"
                    f"-idskip:{int(spec.shortcut == 'identity')}-se:{int(spec.se_ch > 0)}"
                    f"-hs:{int(spec.act == 'hswish')}")
    expand, post, width = _head_widths(a)
    keys.append(f"Conv_1-input:{_shape(h, a.feature_channels)}-output:{_shape(h, expand)}")
    keys.append(f"AvgPool2D-input:{_shape(h, expand)}-output:{_shape(1, expand)}")
    if post:
        keys.append(f"Conv_2-input:{_shape(1, expand)}-output:{_shape(1, post)}")
    keys.append(f"Logits-input:{_shape(1, width)}-output:{a.num_classes}")
    return keys


def i7_network_keys(arch: Architecture) -> list[str]:
    """The key of every layer of ``arch`` in NSGANetV2's Intel i7-8700K table (Lu et al., ECCV 2020):
    ``first_conv``, ``MBConv`` (``expand`` is the expansion ratio), ``final_expand_layer``,
    ``feature_mix_layer``, ``classifier``; pooling has no entry. One file covers every resolution."""
    a, stem, layers, h = _walk(arch)
    keys = [f"first_conv-input:{_shape(a.resolution, a.in_channels)}-output:{_shape(stem, a.stem.out_ch)}"]
    for spec, out in layers:
        ratio = round(spec.mid_ch / spec.in_ch) if spec.op == "ir" else 1
        keys.append(f"MBConv-input:{_shape(spec.resolution, spec.in_ch)}-output:{_shape(out, spec.out_ch)}"
                    f"-expand:{ratio}-kernel:{spec.kernel}-stride:{spec.stride}"
                    f"-idskip:{int(spec.shortcut == 'identity')}-se:{int(spec.se_ch > 0)}")
    expand, post, width = _head_widths(a)
    keys.append(f"final_expand_layer-input:{_shape(h, a.feature_channels)}-output:{_shape(h, expand)}")
    if post:
        keys.append(f"feature_mix_layer-input:{_shape(1, expand)}-output:{_shape(1, post)}")
    keys.append(f"classifier-input:{width}-output:{a.num_classes}")
    return keys


# device -> the layer keys of its table; both lay a network out as stem, first block, searched layers, head
DEVICE_KEYS = {"note10": network_keys, "i7-8700k": i7_network_keys}


def _load_yaml(path: Path) -> dict:
    import yaml

    if not path.is_file():
        raise FileNotFoundError(f"latency table not found: {path}")
    try:
        with open(path, "rb") as f:
            data = yaml.load(f, Loader=getattr(yaml, "CSafeLoader", yaml.SafeLoader))
    except yaml.YAMLError as e:
        raise ValueError(f"{path}: corrupt latency table (not valid YAML: {error_text(e)})") from None
    if not isinstance(data, dict) or not data:
        raise ValueError(f"{path}: corrupt latency table (expected a mapping of layer keys)")
    for key, entry in data.items():
        if not isinstance(entry, dict) or not isinstance(entry.get("mean"), (int, float)):
            raise ValueError(f"{path}: corrupt latency table (entry {key!r} has no numeric 'mean')")
    return data


class OFALatencyTable:
    """Per-resolution layer tables; ``latency_ms(arch)`` sums the means of ``arch``'s layers.

    ``OFALatencyTable(folder, device)`` reads ``folder/{R}_lookup_table.yaml`` for each resolution
    present; ``folder`` may instead be a mapping {resolution: file}. ``FileNotFoundError`` names a
    missing folder, ``ValueError`` a corrupt file."""

    def __init__(self, folder: str | Path | dict[int, Path], device: str = "note10"):
        if device not in DEVICE_KEYS:
            raise ValueError(f"no latency table layout for device {device!r} (expected one of {', '.join(DEVICE_KEYS)})")
        self.device = device
        self.keys = DEVICE_KEYS[device]
        if isinstance(folder, dict):
            files = {int(r): Path(f) for r, f in folder.items()}
            self.folder = next(iter(files.values())).parent if files else Path(".")
        else:
            self.folder = Path(folder)
            if not self.folder.is_dir():
                raise FileNotFoundError(f"latency tables folder not found: {self.folder}")
            files = {}
            for f in sorted(self.folder.glob("*_lookup_table.yaml")):
                r = f.name.split("_")[0]
                if not r.isdigit():
                    raise ValueError(f"{f}: expected a file name {{resolution}}_lookup_table.yaml")
                files[int(r)] = f
        if not files:
            raise FileNotFoundError(f"no latency tables (files named <resolution>_lookup_table.yaml, e.g. "
                                    f"224_lookup_table.yaml) in {self.folder}")
        self.files: dict[int, Path] = dict(sorted(files.items()))
        loaded = {f: _load_yaml(f) for f in set(self.files.values())}
        self.tables: dict[int, dict] = {r: loaded[f] for r, f in self.files.items()}

    def mean(self, resolution: int, key: str) -> float:
        table = self.tables.get(resolution)
        if table is None:
            raise KeyError(f"no {self.device} latency table for resolution {resolution} in {self.folder} "
                           f"(have {sorted(self.tables)})")
        entry = table.get(key)
        if entry is None:
            raise KeyError(f"{self.device} latency table {self.files[resolution].name} has no layer {key!r}")
        return float(entry["mean"])

    def latency_ms(self, arch) -> float:
        """Predicted latency (ms): the sum of the table means of every layer of ``arch``."""
        a = to_architecture(arch)
        return float(sum(self.mean(a.resolution, k) for k in self.keys(a)))

    def for_space(self, space) -> "SpaceLatency":
        return SpaceLatency(self, space)

    def describe(self) -> dict:
        return {"source": "predicted", "model": "per-layer lookup table (sum of measured layer means)",
                "device": self.device, "tables": {r: f.name for r, f in self.files.items()}}


class SpaceLatency:
    """A table laid out over an ``ofa_mbv3`` space's genes, so ``predict(X)`` is a few array gathers.

    ``const[r]`` holds the stem, fixed first block and head; ``layer[r, stage, first, k, e]`` the
    latency of a stage's first layer (``first = 0``) or of any later one (all alike: stride 1,
    identity skip, equal input and output). Every key is looked up once, at construction, so
    a missing key fails here, naming it."""

    def __init__(self, table: OFALatencyTable, space):
        self.table = table
        self.space = space
        n_res, n_st = len(space.resolutions), len(space.stages)
        self.const = np.zeros(n_res)
        self.layer = np.zeros((n_res, n_st, 2, len(space.kernels), len(space.expansions)))
        genes = np.zeros(space.n_genes, dtype=np.int64)
        for ri in range(n_res):
            genes[space._res_idx] = ri
            genes[space._depth_idx] = space.depths.index(space.slots)
            arch = space.decode(genes)
            r = arch.resolution
            keys = self.table.keys(arch)
            fixed = keys[:2] + keys[2 + n_st * space.slots:]
            self.const[ri] = sum(self.table.mean(r, k) for k in fixed)
            for s in range(n_st):
                for first in (0, 1):
                    for ki in range(len(space.kernels)):
                        for ei in range(len(space.expansions)):
                            g = genes.copy()
                            g[space._kernel_idx[s, first]] = ki
                            g[space._exp_idx[s, first]] = ei
                            pos = 2 + s * space.slots + first
                            self.layer[ri, s, first, ki, ei] = self.table.mean(r, self.table.keys(space.decode(g))[pos])

    def predict(self, X) -> np.ndarray:
        """Latency in ms of each row of the canonical gene array ``X`` (N, n_genes), shape (N,)."""
        sp = self.space
        X = np.asarray(X, dtype=np.int64)
        res = X[:, sp._res_idx]
        active = sp.active_mask(X)
        later = (np.arange(sp.slots) > 0).astype(np.int64)
        per = self.layer[res[:, None, None], np.arange(len(sp.stages))[None, :, None], later[None, None, :],
                         X[:, sp._kernel_idx], X[:, sp._exp_idx]]
        return self.const[res] + (per * active).sum(axis=(1, 2))
