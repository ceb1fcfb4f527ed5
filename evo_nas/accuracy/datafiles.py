"""Dataset files: the embedded MNIST subset, MNIST IDX files, ``.npz`` arrays and image folders.

MNIST (LeCun, Cortes, Burges): the embedded subset ships in ``evo_nas/assets/mnist_subset.npz``
(built by ``experiments/make_mnist_subset.py``) and loads with no download. User data without a
test split gets a seeded hold-out of ``test_fraction`` of its images as the test split.
"""
from __future__ import annotations

import gzip
from pathlib import Path

import numpy as np

from .dataset import Dataset, DatasetError

ASSETS = Path(__file__).resolve().parent.parent / "assets"
EMBEDDED = {"mnist-subset": ASSETS / "mnist_subset.npz"}
DEFAULT_EMBEDDED = "mnist-subset"  # the dataset a [data] section without a path reads
IMAGE_SUFFIXES = (".png", ".jpg", ".jpeg")


def _open_bytes(path: Path) -> bytes:
    if not path.is_file():
        raise FileNotFoundError(f"dataset file not found: {path}")
    raw = path.read_bytes()
    if raw[:2] == b"\x1f\x8b":
        try:
            return gzip.decompress(raw)
        except (OSError, EOFError) as e:
            raise DatasetError(f"{path}: corrupt gzip data ({e})") from None
    return raw


def read_idx(path: str | Path) -> np.ndarray:
    """One IDX file (gzip or raw): 2 zero bytes, type 0x08 (uint8), rank, big-endian uint32 dims, data."""
    path = Path(path)
    raw = _open_bytes(path)
    if len(raw) < 4 or raw[:2] != b"\0\0":
        raise DatasetError(f"{path}: not an IDX file (bad magic {raw[:4].hex() or 'empty'})")
    if raw[2] != 0x08:
        raise DatasetError(f"{path}: IDX type 0x{raw[2]:02x} is not supported (expected 0x08, uint8)")
    rank = raw[3]
    if rank < 1 or len(raw) < 4 + 4 * rank:
        raise DatasetError(f"{path}: truncated IDX header (rank {rank})")
    dims = tuple(int(d) for d in np.frombuffer(raw, ">u4", rank, 4))
    body = raw[4 + 4 * rank:]
    if len(body) != int(np.prod(dims)):
        raise DatasetError(f"{path}: IDX header says {'x'.join(map(str, dims))} = {int(np.prod(dims))} bytes, "
                           f"file holds {len(body)}")
    return np.frombuffer(body, np.uint8).reshape(dims).copy()


def _idx_file(folder: Path, split: str, kind: str) -> Path:
    stem = {"train": "train", "test": "t10k"}[split]
    rank = 3 if kind == "images" else 1
    for name in (f"{stem}-{kind}-idx{rank}-ubyte", f"{stem}-{kind}.idx{rank}-ubyte"):
        for suffix in ("", ".gz"):
            if (folder / (name + suffix)).is_file():
                return folder / (name + suffix)
    raise FileNotFoundError(f"MNIST {split} {kind} not found in {folder} "
                            f"(expected {stem}-{kind}-idx{rank}-ubyte[.gz] or {stem}-{kind}.idx{rank}-ubyte[.gz])")


def _images(x: np.ndarray, where: str) -> np.ndarray:
    if x.ndim == 3:
        x = x[..., None]
    if x.ndim != 4 or not np.issubdtype(x.dtype, np.number) or np.issubdtype(x.dtype, np.complexfloating):
        raise DatasetError(f"{where}: images must be a numeric N x H x W [x C] array, got {x.dtype} {x.shape}")
    if np.issubdtype(x.dtype, np.floating) and not np.isfinite(x).all():
        raise DatasetError(f"{where}: images contain NaN or infinite values")
    return x


def _labels(y: np.ndarray, where: str) -> np.ndarray:
    y = np.asarray(y)
    if y.ndim != 1:
        raise DatasetError(f"{where}: labels must be a 1-d array, got shape {y.shape}")
    if np.issubdtype(y.dtype, np.floating) and np.all(y == np.round(y)):
        y = y.astype(np.int64)
    if not np.issubdtype(y.dtype, np.integer):
        raise DatasetError(f"{where}: labels must be integers, got {y.dtype}")
    if len(y) and y.min() < 0:
        raise DatasetError(f"{where}: labels must be >= 0, found {int(y.min())}")
    return y.astype(np.int64)


def _holdout(x, y, fraction: float, seed: int, where: str):
    if not 0 < fraction < 1:
        raise DatasetError(f"{where}: test_fraction = {fraction} must be in (0, 1)")
    n = len(x)
    n_test = int(round(n * fraction))
    if not 0 < n_test < n:
        raise DatasetError(f"{where}: {n} images are too few for a test split of {fraction}")
    perm = np.random.default_rng(seed).permutation(n)
    te, tr = np.sort(perm[:n_test]), np.sort(perm[n_test:])
    return x[tr], y[tr], x[te], y[te]


def load_embedded(name: str = DEFAULT_EMBEDDED) -> Dataset:
    if name not in EMBEDDED:
        raise DatasetError(f"unknown embedded dataset {name!r} (expected one of {', '.join(EMBEDDED)})")
    return load_npz(EMBEDDED[name], name=name)


def load_idx(folder: str | Path, name: str = "mnist") -> Dataset:
    folder = Path(folder)
    if not folder.is_dir():
        raise FileNotFoundError(f"MNIST folder not found: {folder}")
    arrays = {(s, k): read_idx(_idx_file(folder, s, k)) for s in ("train", "test") for k in ("images", "labels")}
    return Dataset(name, _images(arrays["train", "images"], str(folder)), _labels(arrays["train", "labels"], str(folder)),
                   _images(arrays["test", "images"], str(folder)), _labels(arrays["test", "labels"], str(folder)),
                   source=str(folder), classes=tuple(str(i) for i in range(10)))


def load_npz(path: str | Path, name: str | None = None, test_fraction: float = 0.2, seed: int = 0) -> Dataset:
    path = Path(path)
    if not path.is_file():
        raise FileNotFoundError(f"dataset file not found: {path}")
    try:
        with np.load(path, allow_pickle=False) as z:
            arrays = {k: z[k] for k in z.files}
    except (ValueError, OSError, EOFError) as e:
        raise DatasetError(f"{path}: not a readable .npz archive ({e})") from None
    where = str(path)
    if "x_train" in arrays and "y_train" in arrays:
        x, y = _images(arrays["x_train"], where), _labels(arrays["y_train"], where)
        if ("x_test" in arrays) != ("y_test" in arrays):
            raise DatasetError(f"{path}: has only one of x_test / y_test")
        if "x_test" in arrays:
            xt, yt = _images(arrays["x_test"], where), _labels(arrays["y_test"], where)
        else:
            x, y, xt, yt = _holdout(x, y, test_fraction, seed, where)
    elif "images" in arrays and "labels" in arrays:
        x, y = _images(arrays["images"], where), _labels(arrays["labels"], where)
        if len(x) != len(y):
            raise DatasetError(f"{path}: {len(x)} images but {len(y)} labels")
        x, y, xt, yt = _holdout(x, y, test_fraction, seed, where)
    else:
        raise DatasetError(f"{path}: expected arrays x_train, y_train [, x_test, y_test] or images, labels; "
                           f"found {sorted(arrays) or 'none'}")
    return Dataset(name or path.stem, x, y, xt, yt, source=where)


def _read_image(path: Path) -> np.ndarray:
    import matplotlib.image as mpimg

    try:
        img = mpimg.imread(path)
    except Exception as e:  # noqa: BLE001  (PIL and matplotlib raise many types for a bad file)
        raise DatasetError(f"{path}: not a readable image ({e})") from None
    if np.issubdtype(img.dtype, np.floating):
        img = np.round(np.clip(img, 0, 1) * 255).astype(np.uint8)
    if img.ndim == 2:
        img = img[..., None]
    if img.shape[-1] == 4:
        img = img[..., :3]
    return img


def _read_class_folders(root: Path, classes: list[str] | None = None):
    found = sorted(p.name for p in root.iterdir() if p.is_dir() and not p.name.startswith("."))
    if classes is None:
        classes = found
    elif set(found) - set(classes):
        raise DatasetError(f"{root}: class folder {sorted(set(found) - set(classes))[0]!r} is not in the training classes")
    if len(classes) < 2:
        raise DatasetError(f"{root}: found {len(found)} class folder(s), need at least 2")
    images, labels, shape = [], [], None
    for label, cls in enumerate(classes):
        files = sorted(p for p in (root / cls).glob("*") if p.suffix.lower() in IMAGE_SUFFIXES) \
            if (root / cls).is_dir() else []
        for f in files:
            img = _read_image(f)
            if shape is None:
                shape = img.shape
            elif img.shape != shape:
                raise DatasetError(f"{f}: image is {img.shape}, earlier images are {shape}")
            images.append(img)
            labels.append(label)
    if not images:
        raise DatasetError(f"{root}: no {'/'.join(IMAGE_SUFFIXES)} images in the class folders")
    return np.stack(images), np.array(labels, np.int64), classes


def load_folder(path: str | Path, name: str | None = None, test_fraction: float = 0.2, seed: int = 0) -> Dataset:
    root = Path(path)
    if not root.is_dir():
        raise FileNotFoundError(f"image folder not found: {root}")
    if (root / "train").is_dir() and (root / "test").is_dir():
        x, y, classes = _read_class_folders(root / "train")
        xt, yt, _ = _read_class_folders(root / "test", classes)
    else:
        x, y, classes = _read_class_folders(root)
        x, y, xt, yt = _holdout(x, y, test_fraction, seed, str(root))
    return Dataset(name or root.name, x, y, xt, yt, source=str(root), classes=tuple(classes))


__all__ = ["EMBEDDED", "read_idx", "load_embedded", "load_idx", "load_npz", "load_folder"]
