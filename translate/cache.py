"""Translations kept on disk, so that re-aligning, reviewing or re-running never translates a sentence twice.

A translation is keyed by everything that decides it: engine, model, model version, source and target
language, and the sentence's exact text. A new model version therefore misses instead of serving stale text.

The store is one SQLite file, ``$XDG_CACHE_HOME/polyalign/translations.sqlite`` (``~/.cache/...`` by default).
SQLite makes it safe for concurrent runs (writers wait up to ``TIMEOUT`` seconds for each other; WAL lets
readers go on meanwhile), and every batch is stored in one transaction, so a crash mid-write loses that batch
and never corrupts the file. If the file cannot be opened (a read-only home, a file that is not a database),
translation goes on with a cache in memory and ``warning`` says why.
"""
from __future__ import annotations

import os
import sqlite3
from pathlib import Path

from polyalign.align.store import open_shared
from polyalign.translate.base import EngineInfo, TranslationError, Translator

TIMEOUT = 60.0  # seconds a run waits for another run's write to finish
CHUNK = 500  # sentences per SELECT, well under SQLite's limit on bound parameters

SCHEMA = """
CREATE TABLE IF NOT EXISTS translations (
    engine TEXT NOT NULL, model TEXT NOT NULL, version TEXT NOT NULL,
    source TEXT NOT NULL, target TEXT NOT NULL,
    text TEXT NOT NULL, translation TEXT NOT NULL,
    PRIMARY KEY (engine, model, version, source, target, text)
) WITHOUT ROWID
"""


def default_path() -> Path:
    """``$XDG_CACHE_HOME`` when set (on every platform, so tests can redirect it), else the OS cache folder;
    the same rule as the embedding model's cache (``align.e5``)."""
    xdg = os.environ.get("XDG_CACHE_HOME", "")
    if os.path.isabs(xdg):
        root = Path(xdg)
    else:
        import platformdirs

        root = Path(platformdirs.user_cache_dir())
    return root / "polyalign" / "translations.sqlite"


class TranslationCache:
    """The SQLite store: ``lookup`` a batch for one engine and pair, ``store`` new translations."""

    def __init__(self, path: str | os.PathLike | None = None) -> None:
        self.path = Path(path) if path is not None else default_path()
        self.warning: str | None = None
        try:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            self._db = self._open(str(self.path))
        except (OSError, sqlite3.Error) as err:
            self.warning = f"cannot use the translation cache {self.path} ({err}); translating without it"
            self._db = self._open(":memory:")

    @staticmethod
    def _open(where: str) -> sqlite3.Connection:
        return open_shared(where, SCHEMA, timeout=TIMEOUT)

    def lookup(self, info: EngineInfo, source: str, target: str, texts: list[str]) -> dict[str, str]:
        """The translations the store has for ``texts``, by text."""
        found: dict[str, str] = {}
        unique = list(dict.fromkeys(texts))
        for start in range(0, len(unique), CHUNK):
            chunk = unique[start:start + CHUNK]
            rows = self._db.execute(
                "SELECT text, translation FROM translations WHERE engine = ? AND model = ? AND version = ? "
                f"AND source = ? AND target = ? AND text IN ({', '.join('?' * len(chunk))})",
                (info.engine, info.model, info.version, source, target, *chunk))
            found.update(rows)
        return found

    def store(self, info: EngineInfo, source: str, target: str, pairs: dict[str, str]) -> None:
        """Add text → translation pairs, all in one transaction."""
        key = (info.engine, info.model, info.version, source, target)
        self._db.execute("BEGIN IMMEDIATE")  # take the write lock now, so waiting happens here, with the timeout
        try:
            self._db.executemany("INSERT OR REPLACE INTO translations VALUES (?, ?, ?, ?, ?, ?, ?)",
                                 [(*key, text, translation) for text, translation in pairs.items()])
        except BaseException:
            self._db.execute("ROLLBACK")
            raise
        self._db.execute("COMMIT")

    def __len__(self) -> int:
        return self._db.execute("SELECT COUNT(*) FROM translations").fetchone()[0]

    def close(self) -> None:
        self._db.close()


class CachedTranslator:
    """A Translator in front of another: answers what the cache knows, sends only the misses to the engine
    (one batch, each distinct sentence once) and stores them.

    ``hits`` counts sentences answered without the engine, ``misses`` distinct sentences the engine
    translated, both summed over calls. Blank sentences translate to blank ones and count as neither.
    """

    def __init__(self, translator: Translator, path: str | os.PathLike | None = None,
                 cache: TranslationCache | None = None) -> None:
        self.translator = translator
        self.source, self.target, self.info = translator.source, translator.target, translator.info
        self.cache = cache if cache is not None else TranslationCache(path)
        self.hits = 0
        self.misses = 0

    @property
    def warning(self) -> str | None:
        return self.cache.warning

    def translate(self, sentences: list[str]) -> list[str]:
        texts = [s for s in sentences if s.strip()]
        try:
            known = self.cache.lookup(self.info, self.source, self.target, texts)
        except sqlite3.Error as err:  # a cache is an economy: losing it must not lose the translation
            self.cache.warning, known = f"cannot read the translation cache {self.cache.path} ({err})", {}
        missing = [t for t in dict.fromkeys(texts) if t not in known]
        if missing:
            translated = self.translator.translate(missing)
            if len(translated) != len(missing):  # never store, or return, a shifted batch
                raise TranslationError(f"{self.info} returned {len(translated)} translations for "
                                       f"{len(missing)} sentences")
            new = dict(zip(missing, translated))
            try:
                self.cache.store(self.info, self.source, self.target, new)
            except sqlite3.Error as err:
                self.cache.warning = f"cannot write the translation cache {self.cache.path} ({err})"
            known.update(new)
        self.misses += len(missing)
        self.hits += len(texts) - len(missing)
        return [known[s] if s.strip() else "" for s in sentences]
