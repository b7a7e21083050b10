"""Apertium, the rule-based engine that Debian packages: the only offline MT for Spanish↔English on a fresh
machine (``apt-get install apertium apertium-eng-spa``). Mediocre, but fast, and one apt-get away.

Apertium is GPL; it runs as a subprocess, so polyalign's own licence stays independent of it.

One process translates a whole batch. Sentences go in separated by a blank line: Apertium's text format
treats a blank line as a paragraph end (it inserts a hidden full stop there), so no transfer rule reorders
words across it. A single newline is *not* such a wall: ``"Vi el perro\\nrojo corre."`` comes out as
``"I saw the red\\ndog runs."``. Whitespace inside a sentence (newlines included) becomes one space first,
so the only blank lines are the separators; the output is split on them and counted, and if the count ever
disagrees the batch is halved until it agrees, so the mapping stays one-to-one whatever the input holds.
Each translation comes back on one line, its whitespace collapsed (Apertium leaves double spaces where it
drops a word). The cost of a batch is mostly the process start (~0.25 s), hence one process per batch.
"""
from __future__ import annotations

import functools
import re
import shutil
import subprocess

from polyalign.translate.base import EngineInfo, TranslationError

PACKAGE = "apertium-eng-spa"
INSTALL = f"sudo apt-get install apertium {PACKAGE}"
MODES = {("es", "en"): "spa-eng", ("en", "es"): "eng-spa"}  # polyalign's codes → Apertium's mode names
SEPARATOR = "\n\n"
MARKS = "*#@"  # unknown word, generation error, transfer (dictionary) error


def available(source: str, target: str) -> bool:
    """Whether the ``apertium`` command and the mode for this pair are installed."""
    mode = MODES.get((source, target))
    return mode is not None and mode in installed_modes()


@functools.lru_cache(maxsize=None)
def installed_modes() -> frozenset[str]:
    """The translation directions ``apertium -l`` lists (empty when Apertium is not installed)."""
    if shutil.which("apertium") is None:
        return frozenset()
    try:
        listing = subprocess.run(["apertium", "-l"], capture_output=True, text=True, timeout=30).stdout
    except (OSError, subprocess.SubprocessError):
        return frozenset()
    return frozenset(listing.split())


@functools.lru_cache(maxsize=None)
def package_version() -> str:
    """The Debian version of the language data (part of every cache key: new data, new translations)."""
    try:
        result = subprocess.run(["dpkg-query", "-W", "-f=${Version}", PACKAGE], capture_output=True, text=True,
                                timeout=30)
    except (OSError, subprocess.SubprocessError):
        return "unknown"
    return result.stdout.strip() if result.returncode == 0 and result.stdout.strip() else "unknown"


class ApertiumTranslator:
    """Spanish→English (mode ``spa-eng``) or English→Spanish (``eng-spa``) through the ``apertium`` command."""

    def __init__(self, source: str, target: str) -> None:
        mode = MODES.get((source, target))
        if mode is None:
            raise TranslationError(f"Apertium translates only Spanish↔English here (es→en, en→es), "
                                   f"not {source}→{target}")
        if shutil.which("apertium") is None:
            raise TranslationError(f"Apertium is not installed; for {source}→{target} install it: {INSTALL}")
        if mode not in installed_modes():
            raise TranslationError(f"Apertium has no {mode} mode; install the language data: {INSTALL}")
        self.source, self.target, self.mode = source, target, mode
        self.info = EngineInfo("apertium", PACKAGE, package_version())

    def translate(self, sentences: list[str]) -> list[str]:
        texts = [" ".join(s.split()) for s in sentences]
        out = [""] * len(texts)
        todo = [i for i, text in enumerate(texts) if text]  # a blank sentence stays blank, unsent
        for i, translation in zip(todo, self._batch([texts[i] for i in todo])):
            out[i] = _unmark(translation, texts[i])
        return out

    def _batch(self, texts: list[str]) -> list[str]:
        """One process for ``texts``; halves recursively if the output's count disagrees (never seen so far,
        but a guarantee costs less than a silent shift of every later sentence)."""
        if not texts:
            return []
        output = self._run(SEPARATOR.join(texts) + "\n")
        parts = [" ".join(p.split()) for p in output.removesuffix("\n").split(SEPARATOR)]
        if len(parts) == len(texts):
            return parts
        if len(texts) == 1:
            return [" ".join(output.split())]
        half = len(texts) // 2
        return self._batch(texts[:half]) + self._batch(texts[half:])

    def _run(self, text: str) -> str:
        try:
            result = subprocess.run(["apertium", "-u", self.mode], input=text.encode("utf-8"), capture_output=True)
        except OSError as err:
            raise TranslationError(f"cannot run apertium ({err.strerror}); reinstall it: {INSTALL}") from None
        if result.returncode != 0:
            lines = result.stderr.decode("utf-8", "replace").strip().splitlines()
            why = lines[0] if lines else f"exit status {result.returncode}"
            raise TranslationError(f"apertium {self.mode} failed: {why}")
        return result.stdout.decode("utf-8", "replace")


def _unmark(translation: str, source: str) -> str:
    """Drop the marks Apertium puts before words it could not handle, unless the source had that character
    (``-u`` already drops ``*`` and ``#``; ``@`` marks a word the bilingual dictionary lacks)."""
    for mark in MARKS:
        if mark not in source:
            translation = re.sub(rf"{re.escape(mark)}(?=\w)", "", translation)
    return translation
