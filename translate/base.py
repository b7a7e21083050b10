"""What every offline translation engine offers: a batch of sentences in one language in, a batch out.

Engines live one per module (``translate.argos``, ``translate.apertium``); ``translate.engines`` picks the
best one installed for a pair. Everything above this interface (the cache, ``polyalign translate``, the
aligner's use of translations, the TEI layer) sees only ``Translator``.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Protocol, runtime_checkable


class TranslationError(Exception):
    """A translation that cannot be made here; the message says, in one line, what to install and how."""


@dataclass(frozen=True)
class EngineInfo:
    """Who made a translation: recorded in caches and in the TEI header so that machine text is never
    mistaken for human text."""

    engine: str  # "argos", "apertium"
    model: str  # the package or language pair, e.g. "translate-nb_en-1_9" or "apertium-eng-spa"
    version: str  # of the model (or of the engine when the model has none): part of every cache key

    def __str__(self) -> str:
        return f"{self.engine} {self.model} {self.version}".strip()


@runtime_checkable
class Translator(Protocol):
    """Translates from ``source`` to ``target`` (ISO 639-1 codes as polyalign uses them: nb, es, en)."""

    source: str
    target: str
    info: EngineInfo

    def translate(self, sentences: list[str]) -> list[str]:
        """One translation per sentence, in order; never splits or joins sentences."""
        ...
