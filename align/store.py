"""SQLite files that several processes share safely: the embedding cache and the translation cache.

WAL mode lets readers go on while one process writes; ``synchronous=NORMAL`` keeps the file sound through a
crash (durable up to a recent commit). Switching a new file to WAL can fail with "database is locked" at once,
without SQLite's busy wait, while another process sets up the same file: so opening retries, up to ``timeout``.
"""
from __future__ import annotations

import itertools
import sqlite3
import time


def open_shared(where: str, schema: str, *, timeout: float, check_same_thread: bool = True,
                before_wal: str = "") -> sqlite3.Connection:
    """A connection to ``where`` (a path, or ":memory:") with ``schema`` (SQL statements) in place, in autocommit
    mode: callers make their transactions explicit (``BEGIN IMMEDIATE`` … ``COMMIT``). ``before_wal``: pragmas
    that only a new, empty file accepts (``auto_vacuum``), run before switching to WAL writes its header."""
    deadline = time.monotonic() + timeout
    for attempt in itertools.count():
        db = sqlite3.connect(where, timeout=timeout, isolation_level=None, check_same_thread=check_same_thread)
        try:
            if before_wal:
                db.executescript(before_wal)
            db.execute("PRAGMA journal_mode=WAL")
            db.execute("PRAGMA synchronous=NORMAL")
            db.execute("PRAGMA journal_size_limit=67108864")  # the WAL shrinks back to 64 MB after a big batch
            db.executescript(schema)
            return db
        except sqlite3.OperationalError as err:
            db.close()
            if "locked" not in str(err) or time.monotonic() > deadline:
                raise
            time.sleep(min(0.01 * 2 ** attempt, 0.5))
        except BaseException:
            db.close()
            raise
    raise AssertionError("unreachable")
