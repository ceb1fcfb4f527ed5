"""A chosen network trained on the user's data, its weights kept in safetensors with a JSON record.

The search proxies (MnasNet's short training, Tan et al., 2019, arXiv 1807.11626, section 5; the
benchmarks' surrogates) keep no weights. ``train_member`` builds the chosen genome for the data
(its resolution, channels and classes: ``deploy_space``), trains it with ``evo_nas.accuracy.train``'s
seeded loop, and ``save_trained`` writes ``model.safetensors`` (tensors only: loading runs no
code) and ``trained.json`` (genome, the space definition the network was built from, data,
recipe, validation and test accuracy, the weights' sha256). ``load_trained`` rebuilds the network
and checks the hash.

Spaces: MnasNet's (``mnasnet``), Accel-NASBench's (``anb``), FBNet's, MobileNetV3-style and
Once-for-All's (``ofa-mbv3``; built at the data's resolution, at least 32 px, instead of the
genome's 160-224 px, which the record says). NAS-Bench-201's cell network is not built here.
"""
from __future__ import annotations

from dataclasses import asdict, dataclass
from pathlib import Path

from ..accuracy.data import DataConfig, load_dataset
from ..base.errors import MissingFile
from ..base.files import atomic_path, atomic_write
from ..base.hashing import digest, file_fingerprint
from ..base.jsonio import dumps, read_json
from ..spaces.loader import space_from_dict
from ..spaces.space import Space

WEIGHTS = "model.safetensors"
RECORD = "trained.json"
FORMAT = 1
MIN_RESOLUTION = {"ofa_mbv3": 32}


def default_dir(run_path, key: str) -> Path:
    """Where ``evo-nas train RUN`` keeps a member's weights by default: ``RUN/trained/<hash of key>``."""
    return Path(run_path) / "trained" / digest(key.encode(), length=10)


def deploy_space(space: Space, dataset, resolution: int | None = None) -> tuple[Space, list[str]]:
    """``space`` rebuilt for ``dataset`` (its channels and classes; ``resolution`` or the data's,
    raised to the space's minimum), and notes on what changed from the searched network."""
    if space.type_name == "nb201":
        raise ValueError("space 'nb201': its cell network (evo_nas.networks.nb201) is not trained by evo-nas train; "
                         "spaces that are: mnasnet, anb, fbnet, mobilenetv3, ofa-mbv3")
    res = int(resolution or dataset.resolution)
    floor = MIN_RESOLUTION.get(space.type_name, 1)
    notes = []
    if res < floor:
        notes.append(f"space {space.name!r} builds at >= {floor} px: images resized from {res} to {floor} px")
        res = floor
    over = {"resolution": res, "in_channels": dataset.in_channels, "num_classes": dataset.num_classes}
    before = {k: getattr(space, k, None) for k in over}
    changed = {k: (before[k], v) for k, v in over.items() if before[k] != v}
    if changed:
        notes.append("built for the data, not as searched: " +
                     ", ".join(f"{k} {a} -> {b}" for k, (a, b) in changed.items()))
    return (space.with_overrides(**over) if changed else space), notes


def transfer_genes(genes, src: Space, dst: Space) -> tuple[int, ...]:
    """The genes of a genome of ``src`` in ``dst`` (the same space at another size). A resolution gene
    that ``dst`` fixes (Once-for-All) becomes its one choice; the network's layers stay as searched."""
    genes = list(genes)
    if tuple(dst.cardinalities) != tuple(src.cardinalities):
        idx = getattr(src, "resolution_gene", None)
        if idx is None or dst.cardinalities[idx] != 1 or len(dst.cardinalities) != len(genes):
            raise ValueError(f"space {src.name!r} cannot be rebuilt at another size for this genome")
        genes[idx] = 0
    dst.validate(tuple(genes))
    return tuple(genes)


@dataclass(frozen=True)
class Trained:
    """A trained network: the ``nn.Module`` (eval mode), its ``Architecture`` and its record."""

    model: object
    arch: object
    record: dict

    def data_config(self) -> DataConfig:
        return DataConfig(**self.record["data"]["config"])


def train_member(space: Space, key: str, *, data: dict | None, seed: int, settings, threads: int = 1,
                 resolution: int | None = None, base_dir=None) -> Trained:
    """Train the genome ``key`` of ``space`` on ``data`` (a ``[data]`` section; None: the embedded MNIST
    subset) for ``settings`` (``evo_nas.accuracy.train.TrainSettings``); ``ValueError`` for a space that
    cannot be built (``deploy_space``) or a bad section."""
    from ..accuracy.evaluate import train_network

    try:
        genome = space.parse(key)
    except ValueError:
        raise ValueError(f"genome {key[:120]!r} is not on the grid of space {space.name!r}") from None
    cfg = DataConfig.from_dict(data, base_dir)
    ds = load_dataset(cfg)
    dspace, notes = deploy_space(space, ds, resolution)
    genes = transfer_genes(genome.genes, space, dspace)
    arch = dspace.decode(genes)
    model, rec = train_network(arch, genome.key, ds, cfg, seed, settings, threads)
    record = {"format": FORMAT, "genome": genome.key, "space": space.name, "genes": list(genes),
              "space_definition": dspace.definition, "notes": notes,
              "network": {"resolution": arch.resolution, "in_channels": arch.in_channels,
                          "num_classes": arch.num_classes, "params_m": rec["params_m"], "macs_m": rec["macs_m"]},
              "data": {"config": asdict(cfg), **ds.describe(), "train_images": rec["train_images"],
                       "test_images": rec["test_images"]},
              "training": {"steps": rec["steps"], "settings": rec["settings"], "train_s": rec["train_s"],
                           "final_loss": rec["final_loss"], "threads": threads, "seed": seed},
              "val_acc": rec["val_acc"], "test_acc": rec["test_acc"]}
    return Trained(model, arch, record)


def save_trained(trained: Trained, out: str | Path, extra: dict | None = None) -> Path:
    """Write ``model.safetensors`` and ``trained.json`` into the folder ``out``; returns the record's path."""
    import torch
    from safetensors.torch import save_file

    out = Path(out)
    if out.exists() and not out.is_dir():
        raise ValueError(f"--out {out} is a file; give a folder for the weights")
    out.mkdir(parents=True, exist_ok=True)
    state = {k: v.detach().contiguous() for k, v in trained.model.state_dict().items()}
    with atomic_path(out / WEIGHTS) as tmp:
        save_file(state, str(tmp), metadata={"genome": trained.record["genome"][:1000]})
    record = {**trained.record, **(extra or {}),
              "weights": {"file": WEIGHTS, "sha256": file_fingerprint(out / WEIGHTS), "torch": torch.__version__}}
    atomic_write(out / RECORD, dumps(record, indent=2, sort_keys=True))
    return out / RECORD


def load_trained(folder: str | Path) -> Trained:
    """The network ``save_trained`` wrote in ``folder``, rebuilt and loaded (``strict``); ``ValueError`` when
    the weights' hash differs from the record's or they do not fit the architecture."""
    from safetensors.torch import load_file

    from ..networks.builder import build_model

    folder = Path(folder)
    path = folder / RECORD
    if not path.is_file():
        raise MissingFile(f"no trained network in {folder} (no {RECORD}; write one with evo-nas train)")
    record = read_json(path)
    if record.get("format") != FORMAT:
        raise ValueError(f"{path}: format {record.get('format')!r} is not {FORMAT}")
    weights = folder / record["weights"]["file"]
    if not weights.is_file():
        raise MissingFile(f"weights file not found: {weights}")
    if file_fingerprint(weights) != record["weights"]["sha256"]:
        raise ValueError(f"{weights}: sha256 differs from the one {path} records; the weights were changed")
    space = space_from_dict(record["space_definition"], str(path))
    arch = space.decode(tuple(record["genes"]))
    model = build_model(arch)
    try:
        model.load_state_dict(load_file(str(weights)), strict=True)
    except RuntimeError as e:
        raise ValueError(f"{weights}: the weights do not fit genome {record['genome'][:80]!r} "
                         f"({str(e).splitlines()[0]})") from None
    return Trained(model.eval(), arch, record)


__all__ = ["Trained", "train_member", "save_trained", "load_trained", "deploy_space", "transfer_genes",
           "default_dir", "WEIGHTS", "RECORD"]
