"""Score an alignment against gold beads, the way published sentence-alignment numbers are scored.

The convention is Vecalign's scorer, which Bertalign and most papers since reuse, so that our numbers
can stand next to theirs (see shared/eval/README.md):

* A bead is a pair of sets of 0-based sentence indices; a *null* bead has one side empty. Beads are
  taken as sets, as that scorer does: a repeated bead counts once, and ``[]:[]`` is ignored.
* Precision runs over all test beads, null beads included. A test bead is a *strict* hit if gold has
  the identical bead, a *lax* hit if it is a strict hit or shares a sentence pair (s, t) with some
  gold bead; a null bead has no pair, so it is a hit (strict and lax) only if gold has it too.
* Recall is the same with the roles swapped and null beads dropped from both sides: out of the gold
  beads with both sides non-empty, how many are identical to (strict) or share a pair with (lax)
  some non-null test bead. A gold deletion the aligner missed therefore costs nothing.
* F1 = 2PR / (P + R), 0 when P + R = 0; every ratio with a zero denominator is 0.
* Over several documents the counts are summed first, then divided (micro-average).

Usage::

    report = evaluate("shared/eval/transread-en-fr", "out/transread-en-fr")
    print(report)                      # one row per document and a "micro" row
    json.dumps(report.to_dict())
"""
from __future__ import annotations

import re
from dataclasses import dataclass, fields
from pathlib import Path
from typing import Iterable, NamedTuple, Sequence

__all__ = ["IndexBead", "read_beads", "Counts", "PRF", "Score", "score_document", "Report", "evaluate"]


class IndexBead(NamedTuple):
    """A bead as gold files write it: sentence positions on each side (not the aligner's ``beads.Bead``)."""

    source: tuple[int, ...]
    target: tuple[int, ...]

    @property
    def is_null(self) -> bool:
        return not self.source or not self.target


BeadLike = tuple[Sequence[int], Sequence[int]]

_SIDE = re.compile(r"\[\s*(\d+(?:\s*,\s*\d+)*)?\s*\]")


def read_beads(path: str | Path) -> list[IndexBead]:
    """The beads of a file in the gold format, one per line: ``[1, 2]:[3]``, ``[]:[5]``, ``[4]:[]``.

    An optional third field (``[0]:[0]:0.87``, a score some aligners write) must be a number and is
    dropped; blank lines are skipped. A malformed line raises ``ValueError("file:line: problem")``.
    """
    beads = []
    with open(path, encoding="utf-8") as lines:
        for number, line in enumerate(lines, 1):
            if line.strip():
                try:
                    beads.append(_parse_line(line.strip()))
                except ValueError as problem:
                    raise ValueError(f"{path}:{number}: {problem}") from None
    return beads


def _parse_line(line: str) -> IndexBead:
    parts = line.split(":")
    if len(parts) not in (2, 3):
        shown = line if len(line) <= 60 else line[:57] + "..."
        raise ValueError(f"expected a bead such as [1, 2]:[3], got {shown!r}")
    sides = []
    for side, text in zip(("source", "target"), parts):
        match = _SIDE.fullmatch(text.strip())
        if match is None:
            raise ValueError(
                f"{side} side {text.strip()!r} is not a list of sentence numbers, like [1, 2] or []"
            )
        sides.append(tuple(int(n) for n in match.group(1).split(",")) if match.group(1) else ())
    if len(parts) == 3:
        try:
            float(parts[2])
        except ValueError:
            raise ValueError(f"third field {parts[2].strip()!r} is not a score") from None
    return IndexBead(*sides)


@dataclass(frozen=True)
class Counts:
    """What one document contributes to the scores; counts add up across documents (micro-average)."""

    test: int = 0  # test beads: the precision denominator
    strict_test: int = 0  # ... identical to a gold bead
    lax_test: int = 0  # ... identical to, or sharing a sentence pair with, a gold bead
    gold: int = 0  # non-null gold beads: the recall denominator
    strict_gold: int = 0  # ... identical to a non-null test bead
    lax_gold: int = 0  # ... identical to, or sharing a sentence pair with, a non-null test bead

    def __add__(self, other: Counts) -> Counts:
        return Counts(*(getattr(self, f.name) + getattr(other, f.name) for f in fields(self)))

    @property
    def score(self) -> Score:
        return Score(
            strict=PRF.of(self.strict_test, self.test, self.strict_gold, self.gold),
            lax=PRF.of(self.lax_test, self.test, self.lax_gold, self.gold),
        )


class PRF(NamedTuple):
    precision: float
    recall: float
    f1: float

    @classmethod
    def of(cls, hit_test: int, test: int, hit_gold: int, gold: int) -> PRF:
        p = hit_test / test if test else 0.0
        r = hit_gold / gold if gold else 0.0
        return cls(p, r, 2 * p * r / (p + r) if p + r else 0.0)


class Score(NamedTuple):
    strict: PRF
    lax: PRF

    def to_dict(self) -> dict[str, dict[str, float]]:
        return {"strict": self.strict._asdict(), "lax": self.lax._asdict()}


def _pairs(beads: set[IndexBead]) -> set[tuple[int, int]]:
    return {(s, t) for bead in beads for s in bead.source for t in bead.target}


def _matches(beads: set[IndexBead], reference: set[IndexBead]) -> tuple[int, int]:
    """(strict, lax) number of ``beads`` found in ``reference``: identical, or sharing a sentence pair."""
    pairs = _pairs(reference)
    strict = lax = 0
    for bead in beads:
        if bead in reference:
            strict += 1
            lax += 1
        elif any((s, t) in pairs for s in bead.source for t in bead.target):
            lax += 1
    return strict, lax


def score_document(gold: Iterable[BeadLike], test: Iterable[BeadLike]) -> Counts:
    """Count one document's hits; ``.score`` on the result (or on a sum of results) gives P, R, F1.

    Beads may be :class:`IndexBead` or any (source, target) pairs of index lists, such as
    ``Alignment.as_indices()`` gives.
    """
    gold_set = {IndexBead(tuple(s), tuple(t)) for s, t in gold if s or t}
    test_set = {IndexBead(tuple(s), tuple(t)) for s, t in test if s or t}
    strict_test, lax_test = _matches(test_set, gold_set)
    gold_full = {b for b in gold_set if not b.is_null}
    test_full = {b for b in test_set if not b.is_null}
    strict_gold, lax_gold = _matches(gold_full, test_full)
    return Counts(len(test_set), strict_test, lax_test, len(gold_full), strict_gold, lax_gold)


@dataclass
class Report:
    """Scores of one or more documents and their micro-average; ``print(report)`` shows a table."""

    documents: dict[str, Counts]

    @property
    def micro(self) -> Counts:
        return sum(self.documents.values(), Counts())

    def to_dict(self) -> dict[str, object]:
        def entry(counts: Counts) -> dict[str, object]:
            numbers = {f.name: getattr(counts, f.name) for f in fields(counts)}
            return {**counts.score.to_dict(), "counts": numbers}

        return {
            "documents": {doc: entry(counts) for doc, counts in self.documents.items()},
            "micro": entry(self.micro),
        }

    def __str__(self) -> str:
        rows = [*self.documents.items(), ("micro", self.micro)]
        width = max(len("document"), *(len(doc) for doc, _ in rows))
        header = f"{'document':<{width}} | strict P      R     F1 |  lax P      R     F1 |  test  gold"
        rule = re.sub(r"[^|]", "-", header).replace("|", "+")

        def line(doc: str, counts: Counts) -> str:
            strict, lax = counts.score
            return (
                f"{doc:<{width}} |    {strict.precision:.3f}  {strict.recall:.3f}  {strict.f1:.3f} "
                f"|  {lax.precision:.3f}  {lax.recall:.3f}  {lax.f1:.3f} | {counts.test:5d} {counts.gold:5d}"
            )

        body = [line(doc, counts) for doc, counts in rows]
        return "\n".join([header, rule, *body[:-1], rule, body[-1]])


_BEAD_SUFFIXES = (".txt", ".beads")


def _document_files(folder: Path) -> dict[str, Path]:
    """Document name → bead file, for one folder (see :func:`evaluate` for the rule)."""
    found: dict[str, Path] = {}
    shown: dict[str, str] = {}  # where each document was found, for the error on a clash
    for entry in sorted(folder.iterdir()):
        if entry.is_file() and entry.suffix in _BEAD_SUFFIXES:
            doc, path = entry.stem, entry
        elif entry.is_dir():
            candidates = [
                p for p in sorted(entry.iterdir())
                if p.is_file() and p.suffix in _BEAD_SUFFIXES and not p.name.startswith(("src", "tgt"))
            ]
            gold = [p for p in candidates if p.name == "gold.txt"]
            if gold:
                candidates = gold
            if not candidates:
                continue
            if len(candidates) > 1:
                names = ", ".join(p.name for p in candidates)
                raise ValueError(f"{entry}: several bead files ({names}); keep one, or name it gold.txt")
            doc, path = entry.name, candidates[0]
        else:
            continue
        where = entry.name + ("/" if entry.is_dir() else "")
        if doc in found:
            raise ValueError(f"{folder}: document {doc!r} is both {shown[doc]} and {where}")
        found[doc], shown[doc] = path, where
    return found


def _documents(names: list[str]) -> str:
    return ("document " if len(names) == 1 else "documents ") + ", ".join(names)


def _single_name(path: Path) -> str:
    return path.parent.name if path.stem == "gold" and path.parent.name else path.stem


def evaluate(gold_path: str | Path, test_path: str | Path) -> Report:
    """Score a test alignment against gold: two bead files, or two folders of them.

    In a folder, each document is either a file ``<doc>.txt`` or ``<doc>.beads`` directly in it, or a
    subfolder ``<doc>/`` holding its bead file: ``gold.txt`` if there is one, else the only ``.txt`` or
    ``.beads`` file whose name does not start with ``src`` or ``tgt`` (the sentence files of the gold
    layout). Subfolders with no bead file are not documents. Gold and test documents pair up by
    ``<doc>``, so ``gold/Emma/gold.txt`` goes with ``test/Emma.txt`` or ``test/Emma/beads.txt``;
    a document on one side only is an error. Two files make one document, named after the gold file
    (or after its folder, for ``<doc>/gold.txt``).
    """
    gold_path, test_path = Path(gold_path), Path(test_path)
    for path in (gold_path, test_path):
        if not path.exists():
            raise ValueError(f"{path}: no such file or folder")
    if gold_path.is_file() and test_path.is_file():
        pairs = {_single_name(gold_path): (gold_path, test_path)}
    elif gold_path.is_dir() and test_path.is_dir():
        gold_docs, test_docs = _document_files(gold_path), _document_files(test_path)
        if test_only := sorted(test_docs.keys() - gold_docs.keys()):
            raise ValueError(f"no gold for {_documents(test_only)} in {gold_path}")
        if gold_only := sorted(gold_docs.keys() - test_docs.keys()):
            raise ValueError(f"no test alignment for {_documents(gold_only)} in {test_path}")
        if not gold_docs:
            raise ValueError(f"{gold_path}: no bead files found")
        pairs = {doc: (gold_docs[doc], test_docs[doc]) for doc in sorted(gold_docs)}
    else:
        raise ValueError(f"give two bead files or two folders, not {gold_path} and {test_path}")
    return Report({doc: score_document(read_beads(g), read_beads(t)) for doc, (g, t) in pairs.items()})
