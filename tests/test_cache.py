import multiprocessing as mp

import pytest

from evo_nas.cache import EvalCache


def test_put_get_and_fingerprint_miss(tmp_path):
    c = EvalCache(tmp_path / "c.sqlite")
    c.put("k1", "fpA", {"val_acc": 0.5, "latency_ms": 1.25})
    assert c.get("k1", "fpA") == {"val_acc": 0.5, "latency_ms": 1.25}
    assert c.get("k1", "fpB") is None
    assert c.get("k2", "fpA") is None
    c.close()
    again = EvalCache(tmp_path / "c.sqlite")
    assert again.get("k1", "fpA")["latency_ms"] == 1.25
    assert len(again) == 1


def _writer(path, worker, n):
    c = EvalCache(path)
    for i in range(n):
        c.put(f"w{worker}-{i}", "fp", {"worker": worker, "i": i})
        assert c.get(f"w{worker}-{i}", "fp") == {"worker": worker, "i": i}
    c.close()


def test_concurrent_writers_lose_nothing(tmp_path):
    path = tmp_path / "shared.sqlite"
    EvalCache(path).close()
    ctx = mp.get_context("spawn")
    procs = [ctx.Process(target=_writer, args=(path, w, 60)) for w in range(4)]
    for p in procs:
        p.start()
    for p in procs:
        p.join(120)
        assert p.exitcode == 0
    c = EvalCache(path)
    assert len(c) == 240
    assert all(c.get(f"w{w}-{i}", "fp") == {"worker": w, "i": i} for w in range(4) for i in range(60))


def test_corrupt_cache_file_is_a_clear_error(tmp_path):
    bad = tmp_path / "bad.sqlite"
    bad.write_bytes(b"this is not a database" * 100)
    with pytest.raises(ValueError, match="bad.sqlite"):
        EvalCache(bad)
