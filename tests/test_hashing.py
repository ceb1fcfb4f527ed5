"""The one fingerprint, seed derivation and atomic writer: values pinned, so caches and seeds stay valid."""
import hashlib

import pytest

from evo_nas.base.files import atomic_path, atomic_write
from evo_nas.base.hashing import derive_seed, digest, file_fingerprint, fingerprint, unit


def test_fingerprint_is_sha256_of_sorted_json():
    obj = {"b": 1, "a": [1.5, None, "x"]}
    assert fingerprint(obj) == hashlib.sha256(b'{"a": [1.5, null, "x"], "b": 1}').hexdigest()[:16]
    assert fingerprint({"a": [1.5, None, "x"], "b": 1}) == fingerprint(obj)
    assert fingerprint({"path": __import__("pathlib").Path("a")}) == fingerprint({"path": "a"})


def test_file_fingerprint(tmp_path):
    (tmp_path / "f").write_bytes(b"weights")
    assert file_fingerprint(tmp_path / "f") == hashlib.sha256(b"weights").hexdigest()[:16]


def test_digest_hashes_chunks_in_order():
    assert digest(b"wei", b"ghts") == hashlib.sha256(b"weights").hexdigest()[:16]
    assert digest(b"weights", length=8) == hashlib.sha256(b"weights").hexdigest()[:8]


def test_derive_seed_is_pinned_and_unit_lies_in_the_unit_interval():
    # the seeds every proxy training and export has used: changing them changes every result
    assert derive_seed(5, "abc", "x") == 1775365386512287895
    assert derive_seed(5, "abc", "export") == 3889866865381069907
    assert 0 <= derive_seed(0, "k") < 2 ** 63
    values = [unit(0, str(i), "acc") for i in range(200)]
    assert all(0 <= v < 1 for v in values) and len(set(values)) == 200


def test_atomic_write_replaces_whole_files_and_leaves_no_temporary(tmp_path):
    target = tmp_path / "f.json"
    assert atomic_write(target, "first") == target and target.read_text() == "first"
    atomic_write(target, b"second")
    assert target.read_bytes() == b"second"

    with pytest.raises(TypeError):
        atomic_write(target, 3)
    assert target.read_bytes() == b"second" and sorted(p.name for p in tmp_path.iterdir()) == ["f.json"]


def test_atomic_path_renames_a_finished_file_and_drops_a_failed_one(tmp_path):
    target = tmp_path / "model.onnx"
    with atomic_path(target) as tmp:
        assert tmp.parent == tmp_path and tmp != target
        tmp.write_bytes(b"graph")
        assert not target.exists()
    assert target.read_bytes() == b"graph"

    with pytest.raises(RuntimeError):
        with atomic_path(target) as tmp:
            tmp.write_bytes(b"half")
            raise RuntimeError("check failed")
    assert target.read_bytes() == b"graph" and sorted(p.name for p in tmp_path.iterdir()) == ["model.onnx"]
