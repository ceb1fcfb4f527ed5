"""The hashes evo-nas derives identities and seeds from: sha256 of canonical JSON, of files, of (seed, genome key).

- ``fingerprint(obj)``: 16 hex digits of the sha256 of ``obj`` as JSON with sorted keys (values
  JSON does not know are written with ``str``). Space definitions, problems, latency models and
  tables, evaluation configs and run configs are identified by it: it is part of every cache key.
- ``file_fingerprint(path)``: 16 hex digits of the sha256 of a file's bytes (predictor weights,
  latency tables shipped as files).
- ``digest(*chunks, length)``: the sha256 of byte strings fed in order, its first ``length`` hex
  digits (a dataset's arrays, a machine's description).
- ``derive_seed(seed, key, salt)``: a 63-bit seed from the run seed, a genome's canonical string
  and what it is for (``salt``), so a genome's randomness never depends on worker count or order.
- ``unit(seed, key, salt)``: the same hash as a float in [0, 1).
"""
from __future__ import annotations

import hashlib
import json
from pathlib import Path

LENGTH = 16


def fingerprint(obj) -> str:
    """sha256 of ``json.dumps(obj, sort_keys=True, default=str)``, its first 16 hex digits."""
    return digest(json.dumps(obj, sort_keys=True, default=str).encode())


def file_fingerprint(path: str | Path) -> str:
    """sha256 of the bytes of the file at ``path``, its first 16 hex digits."""
    return digest(Path(path).read_bytes())


def digest(*chunks: bytes, length: int = LENGTH) -> str:
    """sha256 of ``chunks`` fed in order (the hash of their concatenation), its first ``length`` hex digits."""
    h = hashlib.sha256()
    for chunk in chunks:
        h.update(chunk)
    return h.hexdigest()[:length]


def derive_seed(seed: int, key: str, salt: str = "") -> int:
    """A 63-bit seed (0 <= s < 2**63) from the first 8 bytes (little-endian) of sha256("seed/salt/key")."""
    raw = hashlib.sha256(f"{seed}/{salt}/{key}".encode()).digest()
    return int.from_bytes(raw[:8], "little") >> 1


def unit(seed: int, key: str, salt: str = "") -> float:
    """``derive_seed(seed, key, salt)`` scaled to a float in [0, 1)."""
    return derive_seed(seed, key, salt) / 2 ** 63


__all__ = ["fingerprint", "file_fingerprint", "digest", "derive_seed", "unit"]
