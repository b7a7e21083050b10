"""The joint alignment's plain types: rows across all versions, and the pairwise alignments read off them.

A ``Row`` is one meaning across every version: for each version a slot holding the ids of its sentences
that render it, in order; an empty slot says that version lacks the sentence (omitted, or added by another
translator). Rows follow every text in order and each sentence is in exactly one row, so any two versions'
alignment read off the rows (``JointAlignment.pair``) is a monotone bead sequence, and every pair agrees
with every other by construction: there is only one set of rows to read from.
"""
from __future__ import annotations

from dataclasses import dataclass, field

from polyalign.align.beads import Alignment, Bead, Status
from polyalign.align.document import Document


@dataclass
class Row:
    slots: tuple[tuple[str, ...], ...]  # one per version, in JointAlignment.documents order; () = empty slot
    score: float | None  # the joint score (summed over all pairs); None when read back from TEI
    confidence: float
    status: Status = Status.AUTO
    resp: str = ""
    change: str = ""
    pair_confidence: dict[tuple[int, int], float] = field(default_factory=dict, repr=False)
    # (u, v) version positions → confidence of the pair's bead when the direct pairwise aligner made it too

    @property
    def shape(self) -> str:
        """"1-0-2": sentences per version, in the documents' order."""
        return "-".join(str(len(s)) for s in self.slots)

    @property
    def filled(self) -> int:
        """Versions with at least one sentence in the row."""
        return sum(1 for s in self.slots if s)


@dataclass
class JointAlignment:
    """Rows over ``documents`` (in the order the files were given), with the pivot that anchored them."""

    documents: list[Document]
    rows: list[Row]
    pivot: str  # the pivot version's name
    pivot_chosen: str = "given"  # "automatic" (the most confident) or "given" (--pivot)
    model: str = ""
    settings: dict[str, object] = field(default_factory=dict)

    def position(self, name: str) -> int:
        for k, doc in enumerate(self.documents):
            if doc.name == name:
                return k
        raise KeyError(f"no version named {name!r}; the versions are {[d.name for d in self.documents]}")

    @property
    def names(self) -> list[str]:
        return [d.name for d in self.documents]

    @property
    def pivot_document(self) -> Document:
        return self.documents[self.position(self.pivot)]

    def pair(self, source: str, target: str) -> Alignment:
        """The beads between two versions read off the rows: each row that holds a sentence of either is
        one bead (a null bead when one slot is empty). A bead's confidence is the direct pairwise aligner's
        when it made the same bead, else the row's."""
        u, v = self.position(source), self.position(target)
        key = (min(u, v), max(u, v))
        beads = []
        for row in self.rows:
            src, tgt = row.slots[u], row.slots[v]
            if not src and not tgt:
                continue
            confidence = row.pair_confidence.get(key, row.confidence)
            beads.append(Bead(src, tgt, row.score, confidence, row.status, row.resp, row.change))
        return Alignment(self.documents[u], self.documents[v], beads, model=self.model, settings=self.settings)

    def pivot_views(self, pivot: str | None = None) -> list[Alignment]:
        """The pivot (or the version ``pivot`` names) against every other version, in the documents' order:
        what the pairwise writers take."""
        pivot = pivot or self.pivot
        return [self.pair(pivot, d.name) for d in self.documents if d.name != pivot]

    def pairs(self) -> list[Alignment]:
        """Every pair in the order the files were given: en-nb, en-es, nb-es for files en, nb, es."""
        names = self.names
        return [self.pair(a, b) for k, a in enumerate(names) for b in names[k + 1:]]

    @property
    def mean_confidence(self) -> float:
        return sum(r.confidence for r in self.rows) / len(self.rows) if self.rows else 0.0


def from_pairwise(alignment: Alignment) -> JointAlignment:
    """A pairwise alignment as the joint alignment of its two versions (each bead a row), so that a TEI of two
    versions can gain a third with its confirmed links kept."""
    rows = [Row((b.source, b.target), b.score, b.confidence, b.status, b.resp, b.change) for b in alignment.beads]
    return JointAlignment([alignment.source, alignment.target], rows, alignment.source.name, "given",
                          alignment.model, dict(alignment.settings))
