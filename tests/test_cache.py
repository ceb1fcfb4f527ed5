"""The persistent evaluation cache: fingerprint misses, concurrent writers, and corrupt files named in one line."""
import multiprocessing as mp

import pytest

from evo_nas.engine.cache import EvalCache


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


def _damaged_past_the_header(path):
    import numpy as np

    c = EvalCache(path)
    for i in range(200):
        c.put(f"k{i}", "fp", {"pad": "x" * 500, "i": i})
    c.close()
    blob = bytearray(path.read_bytes())
    blob[3 * 4096:6 * 4096] = np.random.default_rng(0).integers(0, 256, 3 * 4096, dtype=np.uint8).tobytes()
    path.write_bytes(bytes(blob))


@pytest.mark.parametrize("damage", ["not sqlite", "past the header"])
def test_a_corrupt_cache_is_one_line_and_leaves_no_run_directory(tmp_path, monkeypatch, capsys, damage):
    from evo_nas.cli import main

    monkeypatch.chdir(tmp_path)
    cache = tmp_path / "cache.sqlite"
    if damage == "not sqlite":
        cache.write_bytes(b"this is not a database" * 100)
    else:
        _damaged_past_the_header(cache)
    before = cache.read_bytes()
    (tmp_path / "tiny.toml").write_text(
        'seed = 1\n[space]\nname = "mnasnet"\nresolution = 32\nnum_classes = 10\n'
        f'[problem]\nname = "synthetic"\n[search]\npop_size = 4\ngenerations = 1\ncache = "{cache}"\n')
    for _ in range(2):
        assert main(["search", "tiny.toml", "--quiet"]) == 2
        err = capsys.readouterr().err.strip()
        assert err.startswith("evo-nas search: error: evaluation cache") and "\n" not in err
        assert str(cache) in err and "delete it" in err and "cache = false" in err
    assert not (tmp_path / "runs").exists()
    assert cache.read_bytes() == before


def test_an_sqlite_error_after_opening_names_the_file(tmp_path):
    import sqlite3

    c = EvalCache(tmp_path / "c.sqlite")
    c.put("k", "fp", {"a": 1})
    with sqlite3.connect(tmp_path / "c.sqlite") as other:
        other.execute("DROP TABLE evaluations")
    for op in (lambda: c.get("k", "fp"), lambda: c.put("k2", "fp", {}), lambda: len(c)):
        with pytest.raises(ValueError, match=r"evaluation cache .*c\.sqlite: .*no such table"):
            op()
