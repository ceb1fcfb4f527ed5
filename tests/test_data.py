"""Dataset loaders on real files (the shipped subset, IDX, npz, image folders) and on malformed ones."""
import gzip
import os
import struct
from pathlib import Path

import numpy as np
import pytest

from evo_nas.accuracy.data import (
    DataConfig, DatasetError, load_dataset, load_embedded, load_folder, load_idx, load_npz, read_idx, to_tensor,
)

SHARED_MNIST = Path(os.environ.get("EVO_NAS_DATA") or "/nonexistent") / "mnist"


def write_idx(path: Path, array: np.ndarray, gz: bool = False) -> Path:
    raw = bytes([0, 0, 0x08, array.ndim]) + struct.pack(f">{array.ndim}I", *array.shape) + array.astype(np.uint8).tobytes()
    path.write_bytes(gzip.compress(raw) if gz else raw)
    return path


def tiny_arrays(n=40, size=12, classes=4, seed=0):
    rng = np.random.default_rng(seed)
    return rng.integers(0, 256, (n, size, size), dtype=np.uint8), (np.arange(n) % classes).astype(np.uint8)


def write_mnist_dir(folder: Path, gz: bool, dotted: bool = False) -> tuple:
    folder.mkdir(parents=True, exist_ok=True)
    x, y = tiny_arrays(40)
    xt, yt = tiny_arrays(12, seed=1)
    sep = "." if dotted else "-"
    ext = ".gz" if gz else ""
    write_idx(folder / f"train-images{sep}idx3-ubyte{ext}", x, gz)
    write_idx(folder / f"train-labels{sep}idx1-ubyte{ext}", y, gz)
    write_idx(folder / f"t10k-images{sep}idx3-ubyte{ext}", xt, gz)
    write_idx(folder / f"t10k-labels{sep}idx1-ubyte{ext}", yt, gz)
    return x, y, xt, yt


# -- the shipped subset -----------------------------------------------------------------------------

def test_embedded_subset_is_balanced_mnist_with_provenance():
    ds = load_embedded("mnist-subset")
    assert ds.x_train.shape == (6000, 28, 28, 1) and ds.x_test.shape == (1000, 28, 28, 1)
    assert ds.x_train.dtype == np.uint8
    assert np.bincount(ds.y_train).tolist() == [600] * 10
    assert np.bincount(ds.y_test).tolist() == [100] * 10
    assert (ds.resolution, ds.in_channels, ds.num_classes) == (28, 1, 10)
    # MNIST's mean pixel is 0.1307 x 255 = 33.3; a subset of real digits lands close to it
    assert 30 < float(ds.stats[0][0]) < 37
    with np.load(Path(__file__).resolve().parent.parent / "evo_nas" / "assets" / "mnist_subset.npz") as z:
        assert len(set(z["train_source_index"].tolist())) == 6000
        assert len(z["source_sha256"]) == 4


def test_default_data_section_is_the_embedded_subset():
    cfg = DataConfig.from_dict(None)
    assert (cfg.name, cfg.format, cfg.path) == ("mnist-subset", "embedded", None)
    assert load_dataset({}).fingerprint == load_embedded().fingerprint
    assert cfg.resolved_val_size(load_dataset({})) == 1000


@pytest.mark.skipif(not SHARED_MNIST.is_dir(), reason="no mnist/ in the data mirror (EVO_NAS_DATA)")
def test_embedded_subset_matches_its_source_rows():
    full = load_idx(SHARED_MNIST)
    assert full.x_train.shape == (60000, 28, 28, 1) and full.x_test.shape == (10000, 28, 28, 1)
    sub = load_embedded()
    with np.load(Path(__file__).resolve().parent.parent / "evo_nas" / "assets" / "mnist_subset.npz") as z:
        tr, te = z["train_source_index"], z["test_source_index"]
    assert np.array_equal(full.x_train[tr], sub.x_train) and np.array_equal(full.y_train[tr], sub.y_train)
    assert np.array_equal(full.x_test[te], sub.x_test) and np.array_equal(full.y_test[te], sub.y_test)


# -- IDX ----------------------------------------------------------------------------------------------

@pytest.mark.parametrize("gz,dotted", [(True, False), (False, True)])
def test_idx_folder_gzip_and_raw(tmp_path, gz, dotted):
    x, y, xt, yt = write_mnist_dir(tmp_path / "m", gz, dotted)
    ds = load_dataset({"name": "mnist", "path": str(tmp_path / "m")})
    assert np.array_equal(ds.x_train[..., 0], x) and np.array_equal(ds.y_train, y)
    assert np.array_equal(ds.x_test[..., 0], xt) and np.array_equal(ds.y_test, yt)
    assert DataConfig.from_dict({"path": str(tmp_path / "m")}).format == "idx"


@pytest.mark.parametrize("mangle,message", [
    (lambda raw: b"\x01\x02" + raw[2:], "bad magic"),
    (lambda raw: raw[:2] + b"\x0d" + raw[3:], "not supported"),
    (lambda raw: raw[:-5], "file holds"),
    (lambda raw: raw[:6], "truncated"),
    (lambda raw: gzip.compress(raw)[:30], "corrupt gzip"),
])
def test_malformed_idx_is_one_clear_error(tmp_path, mangle, message):
    good = write_idx(tmp_path / "ok", np.zeros((3, 4, 4), np.uint8))
    bad = tmp_path / "bad-idx3-ubyte"
    bad.write_bytes(mangle(good.read_bytes()))
    with pytest.raises(DatasetError, match=message) as e:
        read_idx(bad)
    assert str(bad) in str(e.value)


def test_missing_idx_files_name_what_is_missing(tmp_path):
    (tmp_path / "m").mkdir()
    with pytest.raises(FileNotFoundError, match="train images not found"):
        load_idx(tmp_path / "m")
    with pytest.raises(FileNotFoundError, match="not found"):
        load_dataset({"name": "mnist", "path": str(tmp_path / "nowhere")})


def test_idx_label_count_mismatch(tmp_path):
    write_mnist_dir(tmp_path / "m", gz=True)
    write_idx(tmp_path / "m" / "train-labels-idx1-ubyte.gz", np.zeros(7, np.uint8), gz=True)
    with pytest.raises(DatasetError, match="40 train images but labels of shape"):
        load_idx(tmp_path / "m")


# -- npz ------------------------------------------------------------------------------------------------

def test_npz_with_and_without_test_split(tmp_path):
    x, y = tiny_arrays(50)
    rgb = np.repeat(x[..., None], 3, axis=3)
    np.savez(tmp_path / "a.npz", x_train=rgb, y_train=y, x_test=rgb[:10], y_test=y[:10])
    ds = load_dataset({"path": str(tmp_path / "a.npz")})
    assert (ds.resolution, ds.in_channels, ds.num_classes, len(ds.x_test)) == (12, 3, 4, 10)
    np.savez(tmp_path / "b.npz", images=x.astype(np.float32) / 255, labels=y)
    ds = load_dataset({"format": "npz", "path": str(tmp_path / "b.npz"), "test_fraction": 0.2})
    assert (len(ds.x_train), len(ds.x_test), ds.in_channels) == (40, 10, 1)
    again = load_npz(tmp_path / "b.npz", test_fraction=0.2)
    assert np.array_equal(ds.x_test, again.x_test)


@pytest.mark.parametrize("arrays,message", [
    (dict(foo=np.zeros(3)), "expected arrays x_train"),
    (dict(images=np.zeros((10, 8, 8)), labels=np.zeros(9, int)), "10 images but 9 labels"),
    (dict(x_train=np.zeros((10, 8, 6)), y_train=np.arange(10) % 2, x_test=np.zeros((4, 8, 6)),
          y_test=np.arange(4) % 2), "square"),
    (dict(x_train=np.full((10, 8, 8), np.nan), y_train=np.arange(10) % 2), "NaN"),
    (dict(x_train=np.zeros((10, 8, 8)), y_train=np.arange(10) * 0.5), "integers"),
    (dict(x_train=np.zeros((10, 8, 8)), y_train=-np.ones(10, int)), ">= 0"),
    (dict(x_train=np.zeros((10, 8, 8)), y_train=np.zeros(10, int)), "at least 2"),
    (dict(x_train=np.zeros((10, 8, 8)), y_train=np.arange(10) % 2, x_test=np.zeros((2, 8, 8))), "only one of"),
    (dict(x_train=np.zeros(10), y_train=np.arange(10) % 2), "N x H x W"),
])
def test_malformed_npz(tmp_path, arrays, message):
    np.savez(tmp_path / "bad.npz", **arrays)
    with pytest.raises(DatasetError, match=message):
        load_npz(tmp_path / "bad.npz")


def test_not_an_npz_file(tmp_path):
    (tmp_path / "junk.npz").write_bytes(b"this is not a zip archive")
    with pytest.raises(DatasetError, match="not a readable .npz"):
        load_npz(tmp_path / "junk.npz")
    with pytest.raises(FileNotFoundError, match="missing.npz"):
        load_dataset({"path": str(tmp_path / "missing.npz")})


# -- image folders -----------------------------------------------------------------------------------------

def write_pngs(root: Path, per_class: int = 5, classes=("cat", "dog"), size=10, mode="L", seed=0):
    from PIL import Image

    rng = np.random.default_rng(seed)
    for cls in classes:
        (root / cls).mkdir(parents=True, exist_ok=True)
        for i in range(per_class):
            shape = (size, size) if mode == "L" else (size, size, 3)
            Image.fromarray(rng.integers(0, 256, shape, dtype=np.uint8), mode).save(root / cls / f"{i}.png")


def test_folder_layouts(tmp_path):
    write_pngs(tmp_path / "flat", per_class=5)
    ds = load_folder(tmp_path / "flat", test_fraction=0.2)
    assert ds.classes == ("cat", "dog")
    assert (len(ds.x_train), len(ds.x_test), ds.resolution, ds.in_channels) == (8, 2, 10, 1)
    write_pngs(tmp_path / "split" / "train", per_class=4, mode="RGB")
    write_pngs(tmp_path / "split" / "test", per_class=2, mode="RGB", seed=1)
    ds = load_dataset({"format": "folder", "path": str(tmp_path / "split")})
    assert (len(ds.x_train), len(ds.x_test), ds.in_channels, ds.num_classes) == (8, 4, 3, 2)
    from PIL import Image

    first = np.asarray(Image.open(tmp_path / "split" / "train" / "cat" / "0.png"))
    assert np.array_equal(ds.x_train[0], first)


def test_malformed_folders(tmp_path):
    write_pngs(tmp_path / "mixed", per_class=3)
    write_pngs(tmp_path / "big", per_class=1, classes=("cat",), size=12)
    (tmp_path / "big" / "cat" / "0.png").replace(tmp_path / "mixed" / "dog" / "9.png")
    with pytest.raises(DatasetError, match="9.png: image is"):
        load_folder(tmp_path / "mixed")
    write_pngs(tmp_path / "one", classes=("only",))
    with pytest.raises(DatasetError, match="need at least 2"):
        load_folder(tmp_path / "one")
    write_pngs(tmp_path / "corrupt", per_class=2)
    (tmp_path / "corrupt" / "dog" / "1.png").write_bytes(b"not a png")
    with pytest.raises(DatasetError, match="1.png: not a readable image"):
        load_folder(tmp_path / "corrupt")
    (tmp_path / "empty" / "a").mkdir(parents=True)
    (tmp_path / "empty" / "b").mkdir()
    with pytest.raises(DatasetError, match="no .png"):
        load_folder(tmp_path / "empty")


# -- configuration, splits, tensors -----------------------------------------------------------------------

@pytest.mark.parametrize("section,message", [
    ({"bogus": 1}, "unknown key 'bogus'"),
    ({"format": "csv", "path": "x"}, "format = 'csv'"),
    ({"format": "npz"}, "needs a path"),
    ({"name": "cifar"}, "not an embedded dataset"),
    ({"path": "data.csv"}, "cannot tell the format"),
    ({"val_size": 0}, "val_size = 0"),
    ({"val_size": "10"}, "val_size = '10' must be an int"),
])
def test_bad_data_sections(section, message):
    with pytest.raises(ValueError, match=message):
        DataConfig.from_dict(section)


def test_validation_split_is_fixed_seeded_and_disjoint():
    ds = load_embedded()
    tr, va = ds.split(1000, seed=0)
    tr2, va2 = ds.split(1000, seed=0)
    assert np.array_equal(va, va2) and np.array_equal(tr, tr2)
    assert len(va) == 1000 and len(tr) == 5000 and not set(tr.tolist()) & set(va.tolist())
    assert not np.array_equal(va, ds.split(1000, seed=1)[1])
    with pytest.raises(DatasetError, match="val_size = 6000"):
        ds.split(6000, seed=0)


def test_to_tensor_normalises_and_resizes():
    ds = load_embedded()
    t = to_tensor(ds.x_train[:100], ds.stats)
    assert t.shape == (100, 1, 28, 28) and t.dtype.is_floating_point
    assert abs(float(to_tensor(ds.x_train, ds.stats).mean())) < 1e-3
    assert to_tensor(ds.x_train[:4], ds.stats, resolution=16).shape == (4, 1, 16, 16)
