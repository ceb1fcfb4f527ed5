"""Persistent evaluation cache: SQLite in WAL mode, keyed by canonical genome and result fingerprint.

The fingerprint hashes everything that changes a result (space, dataset, proxy, latency device;
``EvalConfig.fingerprint()``), so a changed configuration misses instead of returning a stale
record. WAL journaling with a busy timeout lets several processes read and write one file at
once; each ``put`` is its own committed transaction.
"""
from __future__ import annotations

import json
import sqlite3
import time
from contextlib import contextmanager
from pathlib import Path

from ..base.jsonio import dumps, plain

SCHEMA = """
CREATE TABLE IF NOT EXISTS evaluations (
    key TEXT NOT NULL,
    fingerprint TEXT NOT NULL,
    record TEXT NOT NULL,
    created REAL NOT NULL,
    PRIMARY KEY (key, fingerprint)
)
"""


class EvalCache:
    """``get(key, fingerprint) -> dict | None`` and ``put(key, fingerprint, record)``.

    Opening checks the file (``PRAGMA quick_check``); a file that is not SQLite, or is damaged,
    and any SQLite error later, raise ``ValueError`` naming the file and what to do (delete it:
    it holds only cached evaluations; or ``[search] cache = false``).
    """

    def __init__(self, path, timeout: float = 60.0):
        self.path = Path(path)
        self.path.parent.mkdir(parents=True, exist_ok=True)
        self.timeout = timeout
        self._conn = None
        try:
            with self._sqlite("open"):
                conn = self._connect()
                conn.execute(SCHEMA)
                problems = [row[0] for row in conn.execute("PRAGMA quick_check")]
            if problems != ["ok"]:
                raise ValueError(self._unusable("open", f"damaged: {problems[0]}"))
        except BaseException:
            self.close()
            raise

    def _unusable(self, what: str, why) -> str:
        return (f"evaluation cache {self.path}: {what} failed ({why}); if the file is damaged, delete it "
                f"(it holds only cached evaluations) or set [search] cache = false")

    @contextmanager
    def _sqlite(self, what: str):
        try:
            yield
        except sqlite3.Error as e:
            raise ValueError(self._unusable(what, e)) from None

    def _connect(self) -> sqlite3.Connection:
        if self._conn is None:
            conn = sqlite3.connect(self.path, timeout=self.timeout, isolation_level=None)
            self._conn = conn
            conn.execute("PRAGMA journal_mode=WAL")
            conn.execute("PRAGMA synchronous=NORMAL")
        return self._conn

    def get(self, key: str, fingerprint: str) -> dict | None:
        with self._sqlite("read"):
            row = self._connect().execute(
                "SELECT record FROM evaluations WHERE key = ? AND fingerprint = ?", (key, fingerprint)).fetchone()
        if row is None:
            return None
        try:
            return json.loads(row[0])
        except ValueError:
            raise ValueError(self._unusable("read", f"the record of {key[:60]!r} is not JSON")) from None

    def get_many(self, keys, fingerprint: str) -> dict[str, dict]:
        """The cached records among ``keys``, by key (one query per 500 keys)."""
        keys = list(dict.fromkeys(keys))
        out = {}
        conn = self._connect()
        for i in range(0, len(keys), 500):
            chunk = keys[i:i + 500]
            rows = conn.execute(f"SELECT key, record FROM evaluations WHERE fingerprint = ? AND key IN "
                                f"({','.join('?' * len(chunk))})", (fingerprint, *chunk)).fetchall()
            out.update((k, json.loads(r)) for k, r in rows)
        return out

    def put(self, key: str, fingerprint: str, record: dict) -> None:
        blob = dumps(record, sort_keys=True, default=plain)
        with self._sqlite("write"):
            conn = self._connect()
            conn.execute("BEGIN IMMEDIATE")
            try:
                conn.execute("INSERT OR REPLACE INTO evaluations (key, fingerprint, record, created) "
                             "VALUES (?, ?, ?, ?)", (key, fingerprint, blob, time.time()))
                conn.execute("COMMIT")
            except BaseException:
                if conn.in_transaction:
                    conn.execute("ROLLBACK")
                raise

    def put_many(self, items, fingerprint: str) -> None:
        """``(key, record)`` pairs in one committed transaction."""
        rows = [(key, fingerprint, dumps(rec, sort_keys=True, default=plain), time.time()) for key, rec in items]
        if not rows:
            return
        conn = self._connect()
        conn.execute("BEGIN IMMEDIATE")
        try:
            conn.executemany("INSERT OR REPLACE INTO evaluations (key, fingerprint, record, created) VALUES (?, ?, ?, ?)",
                             rows)
            conn.execute("COMMIT")
        except BaseException:
            conn.execute("ROLLBACK")
            raise

    def __len__(self) -> int:
        with self._sqlite("count"):
            return self._connect().execute("SELECT COUNT(*) FROM evaluations").fetchone()[0]

    def close(self) -> None:
        if self._conn is not None:
            conn, self._conn = self._conn, None
            with self._sqlite("close"):
                conn.close()

    def __getstate__(self):
        return {"path": self.path, "timeout": self.timeout, "_conn": None}

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()
