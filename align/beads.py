"""An alignment: a monotone sequence of beads linking sentences of a pivot document to another version.

A bead joins zero or more consecutive sentences on each side (1-1, 2-1, 1-0, …). Every bead carries
the aligner's raw ``score`` and a ``confidence`` in [0, 1], calibrated so that it can be read as the
probability that the bead is exactly right.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from enum import Enum

from polyalign.align.document import Document


class Status(str, Enum):
    AUTO = "auto"  # made by the aligner, not yet reviewed
    CONFIRMED = "confirmed"  # a person said it is right
    REJECTED = "rejected"  # a person said it is wrong


@dataclass
class Bead:
    source: tuple[str, ...]  # sentence ids in the pivot document
    target: tuple[str, ...]  # sentence ids in the other version
    score: float | None  # the aligner's raw score; None when read back from TEI, which keeps only the confidence
    confidence: float
    status: Status = Status.AUTO
    resp: str = ""  # who made or last judged it (an xml:id, e.g. a reviewer); "" is the aligner
    change: str = ""  # the run or review round that did (a revision id, e.g. "rv2"); "" is the current run

    @property
    def shape(self) -> str:
        """"2-1" for two pivot sentences against one."""
        return f"{len(self.source)}-{len(self.target)}"

    @property
    def is_null(self) -> bool:
        return not self.source or not self.target


@dataclass
class Gloss:
    """A machine translation of the other version into the pivot's language, sentence by sentence: evidence
    for the aligner and a reading aid for a reviewer, never to be mistaken for the human text."""

    language: str  # the language translated into (the pivot's)
    engine: str  # "apertium", "argos"
    model: str  # the package or pair, e.g. "apertium-eng-spa"
    version: str
    texts: dict[str, str]  # sentence id of the other version → its translation


@dataclass
class Alignment:
    """The beads between ``source`` (the pivot) and ``target``, with what made them."""

    source: Document
    target: Document
    beads: list[Bead]
    model: str = ""  # the embedding model that aligned it
    settings: dict[str, object] = field(default_factory=dict)
    gloss: Gloss | None = None  # the other version machine-translated, when alignment used it

    def as_indices(self) -> list[tuple[list[int], list[int]]]:
        """Beads as 0-based sentence positions, the form gold files and the evaluator use."""
        si, ti = self.source.index, self.target.index
        return [([si[s] for s in b.source], [ti[t] for t in b.target]) for b in self.beads]

    @property
    def mean_confidence(self) -> float:
        return sum(b.confidence for b in self.beads) / len(self.beads) if self.beads else 0.0

    @property
    def link_confidence(self) -> float:
        """Mean confidence of the beads that link sentences; null beads say nothing about whether the
        two texts are versions of each other."""
        links = [b.confidence for b in self.beads if not b.is_null]
        return sum(links) / len(links) if links else 0.0
