"""A document as the aligner sees it: paragraphs of sentences with stable ids and exact offsets.

The offsets point into ``Document.text``, the text exactly as it was read, so any output can give back
the original characters (``text[s.start:s.end] == s.text``), and a reviewer's split or merge can be
mapped back onto the source.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from functools import cached_property
from typing import Any


@dataclass(frozen=True)
class Sentence:
    id: str  # "nb.p3.s2": the document's name, then 1-based paragraph and sentence numbers
    text: str  # exactly Document.text[start:end]
    start: int
    end: int


@dataclass(frozen=True)
class Paragraph:
    id: str  # "nb.p3"
    start: int
    end: int
    sentences: tuple[Sentence, ...]


@dataclass(frozen=True)
class Note:
    """A footnote: the text after its label in the text's list of notes, which a marker such as "(12)" in
    a sentence points at. Notes are not sentences: they are kept, not aligned."""

    id: str  # "en.n12"
    label: str  # "12"
    text: str  # exactly Document.text[start:end], without the label
    start: int
    end: int


@dataclass
class Document:
    """One version of the text, in one language.

    ``name`` prefixes every id; it is the language code unless two versions share a language.
    """

    lang: str
    text: str
    paragraphs: list[Paragraph]
    name: str = ""
    source: str | None = None  # the file it came from, for messages and headers
    metadata: dict[str, str] = field(default_factory=dict)
    notes: list[Note] = field(default_factory=list)
    # A document read from TEI keeps its member ``TEI`` element (an lxml element whose ``s`` carry the
    # sentence ids), so that ``tei/`` writes its markup back untouched. Nothing outside ``tei/`` reads it.
    markup: Any = field(default=None, repr=False, compare=False)

    def __post_init__(self) -> None:
        if not self.name:
            self.name = self.lang

    @cached_property
    def sentences(self) -> list[Sentence]:
        return [s for p in self.paragraphs for s in p.sentences]

    @cached_property
    def index(self) -> dict[str, int]:
        """Sentence id → position in ``sentences``."""
        return {s.id: i for i, s in enumerate(self.sentences)}

    @cached_property
    def paragraph_starts(self) -> frozenset[int]:
        """Positions in ``sentences`` that open a paragraph (evidence for the aligner, not a wall)."""
        starts, n = set(), 0
        for p in self.paragraphs:
            starts.add(n)
            n += len(p.sentences)
        return frozenset(starts)
