"""One review of one TEI file: its rows, the reviewer's edits with undo and redo, and every edit saved.

The page works on rows (``align.joint.rows``): a joint TEI is its rows, a TEI of two versions the rows of its one
pair (``from_pairwise``), written back as the pair it was. Every edit is saved at once, atomically
(``align.atomic``); the first save of a session keeps the file as the session found it as ``FILE.~N~`` (the
first free N), so neither a review nor the input is ever lost. A save checks that the file on disk is still the
one this session last read or wrote (by its SHA-256, the ``rev`` the page sends with each edit): another tab
that edited first, or another process, makes the edit fail with ``Conflict`` and the page offers a reload.

The review is one ``change`` in the header's revisionDesc per session (``who`` the reviewer, a ``respStmt`` in
the titleStmt), and every row it touched names that change and that reviewer in ``@change`` and ``@resp``.
"""
from __future__ import annotations

import fcntl
import getpass
import hashlib
import re
import shutil
from contextlib import contextmanager
from dataclasses import dataclass, field, replace
from datetime import datetime, timezone
from pathlib import Path
from typing import Any, Callable, Iterator

from lxml import etree

from polyalign.align.beads import Gloss, Status
from polyalign.align.document import Document
from polyalign.align.joint.rows import JointAlignment, Row, from_pairwise
from polyalign.align.review import operations as ops
from polyalign.align.review.operations import EditError
from polyalign.align.review.sentences import join_sentences, split_sentence
from polyalign.tei import tmx
from polyalign.tei.reader import CorpusError, read_corpus
from polyalign.tei.writer import ALIGNER, TEI_NS, XML_ID, Run, write_tei

T = f"{{{TEI_NS}}}"
WEAK = 0.5  # below this calibrated confidence a row is weak: more likely wrong than right
HIGH = 0.9  # from here on a row is in the high band (nine in ten such rows are exactly right)


class ReviewError(ValueError):
    """The file cannot be reviewed (not a polyalign TEI, aligned pair by pair); one line saying why."""


class Conflict(RuntimeError):
    """The file changed since the page last saw it: another tab or process saved first."""


@dataclass
class Snapshot:
    """What an edit changes, kept whole for undo: rows, and the versions and glosses a segmentation fix
    replaces (Documents and Glosses are never changed in place, so keeping them costs a reference)."""

    rows: list[Row]
    documents: list[Document]
    glosses: dict[str, Gloss]
    changed: frozenset[int] = frozenset()  # rows (by position) the last re-alignment changed


@dataclass
class ReviewSession:
    path: Path
    joint: JointAlignment
    header: etree._Element  # the corpus header, carried into every save
    pairwise: bool  # a TEI of two versions with a pairwise linkGrp: saved back as such
    glosses: dict[str, Gloss]  # version name → its machine translation, when the TEI has one
    reviewer: str
    digest: str  # SHA-256 of the file as this session last read or wrote it
    undo_stack: list[Snapshot] = field(default_factory=list)
    redo_stack: list[Snapshot] = field(default_factory=list)
    changed: frozenset[int] = frozenset()  # rows the last re-alignment changed, for the page to show
    backup: Path | None = None  # where this session kept the file as it found it (after the first save)
    _change: str = ""  # this session's revision id, once the header has been read for it

    @classmethod
    def open(cls, path: str | Path, reviewer: str | None = None) -> "ReviewSession":
        path = Path(path)
        if not path.is_file():
            raise ReviewError(f"{path}: no such file")
        data = path.read_bytes()
        try:
            corpus = read_corpus(path)
        except CorpusError as err:
            raise ReviewError(f"{path}: {err}") from None
        if corpus.joint is not None:
            joint, pairwise = corpus.joint, False
        elif len(corpus.alignments) == 1:
            joint, pairwise = from_pairwise(corpus.alignments[0]), True
        else:
            raise ReviewError(f"{path}: was aligned pair by pair ({len(corpus.alignments)} pairs); review works on "
                              "one alignment: two versions, or a joint alignment of more (polyalign align the texts "
                              "again without --pairwise)")
        glosses = {a.target.name: a.gloss for a in corpus.alignments if a.gloss is not None}
        return cls(path, joint, corpus.header, pairwise, glosses, reviewer or default_reviewer(), _sha(data))

    # -- what the page shows ------------------------------------------------------------------------------------

    def state(self) -> dict[str, Any]:
        """Everything the page draws, as JSON-ready data."""
        docs = self.joint.documents
        return {
            "file": self.path.name, "rev": self.digest, "reviewer": self.reviewer, "pivot": self.joint.pivot,
            "bands": {"weak": WEAK, "high": HIGH},
            "versions": [{"name": d.name, "lang": d.lang, "title": d.metadata.get("title", d.name)} for d in docs],
            "sentences": {d.name: {s.id: s.text for s in d.sentences} for d in docs},
            "paragraphStarts": [p.sentences[0].id for d in docs for p in d.paragraphs if p.sentences],
            "gloss": {sid: text for g in self.glosses.values() for sid, text in g.texts.items()},
            "rows": [{"slots": [list(s) for s in r.slots], "cert": round(r.confidence, 4), "status": r.status.value,
                      "edited": r.status is Status.AUTO and r.resp not in ("", ALIGNER), "resp": r.resp, "change": r.change}
                     for r in self.joint.rows],
            "changed": sorted(self.changed),
            "canUndo": bool(self.undo_stack), "canRedo": bool(self.redo_stack),
            "backup": self.backup.name if self.backup else None,
        }

    # -- edits --------------------------------------------------------------------------------------------------

    def apply(self, op: str, args: dict[str, Any], rev: str | None) -> None:
        """Make one edit the page asked for (see ``EDITS``) and save it. ``rev`` is the state the page saw."""
        self._check_rev(rev)
        if op == "undo":
            return self._step(self.undo_stack, self.redo_stack, "nothing to undo")
        if op == "redo":
            return self._step(self.redo_stack, self.undo_stack, "nothing to redo")
        if op not in EDITS:
            raise EditError(f"unknown edit {op!r}")
        before = self._snapshot()
        try:
            EDITS[op](self, **args)
        except EditError:
            self._restore(before)
            raise
        except (TypeError, ValueError) as err:  # the page sent arguments the edit does not take
            self._restore(before)
            raise EditError(f"{op}: {err}") from None
        self.changed = frozenset()  # the marks of a re-alignment go with the next edit (rows have moved)
        self._done(before)

    def _done(self, before: Snapshot) -> None:
        """An edit made: save it, and make it the step that undo takes back (a new edit ends what redo had)."""
        self.undo_stack.append(before)
        self._save_or_restore(before)
        self.redo_stack.clear()

    def _step(self, source: list[Snapshot], target: list[Snapshot], empty: str) -> None:
        if not source:
            raise EditError(empty)
        current = self._snapshot()
        self._restore(source.pop())
        target.append(current)
        self._save_or_restore(current, undo=(target, source))

    def _save_or_restore(self, before: Snapshot, undo: tuple[list, list] | None = None) -> None:
        """Save; if that fails (a conflict, a full disk), go back to ``before`` so the page and file agree."""
        try:
            self.save()
        except BaseException:
            after = self._snapshot()
            self._restore(before)
            if undo is None:
                self.undo_stack.pop()
            else:
                undo[0].pop()
                undo[1].append(after)
            raise

    def _snapshot(self) -> Snapshot:
        return Snapshot(list(self.joint.rows), list(self.joint.documents), dict(self.glosses), self.changed)

    def _restore(self, snapshot: Snapshot) -> None:
        self.joint.rows, self.joint.documents = list(snapshot.rows), list(snapshot.documents)
        self.glosses, self.changed = dict(snapshot.glosses), snapshot.changed

    def _mark(self, row: Row) -> Row:
        return replace(row, resp=self.reviewer_id, change=self.change_id)

    def _rows(self, edit: Callable[..., list[Row]], *args: Any) -> None:
        self.joint.rows = edit(self.joint.rows, *args, self._mark)

    def _version(self, name: str) -> int:
        try:
            return self.joint.position(name)
        except KeyError as err:
            raise EditError(str(err)) from None

    def split_sentence(self, version: str, sentence: str, offset: int) -> None:
        k = self._version(version)
        doc, new = split_sentence(self.joint.documents[k], sentence, int(offset))
        self.joint.documents[k] = doc
        self._rows(ops.replace_sentence, k, sentence, (sentence, new))

    def join_sentences(self, version: str, sentence: str) -> None:
        k = self._version(version)
        doc, gone = join_sentences(self.joint.documents[k], sentence)
        self.joint.documents[k] = doc
        self._rows(ops.replace_sentence, k, gone, ())
        gloss = self.glosses.get(version)
        if gloss is not None and gone in gloss.texts:
            texts = dict(gloss.texts)
            texts[sentence] = f"{texts.get(sentence, '')} {texts.pop(gone)}".strip()
            self.glosses[version] = replace(gloss, texts=texts)

    # -- re-alignment -------------------------------------------------------------------------------------------

    def realign(self, encoder, rev: str | None) -> int:
        """Align again with the confirmed rows kept as anchors (``align_joint(earlier=…)``); the rows that came
        out different are ``changed``. Returns how many. Undoable like any edit. Rejected rows are aligned again
        (the reviewer said they are wrong, not what is right); one that comes out the same stays rejected."""
        from polyalign.align.joint import align_joint

        self._check_rev(rev)
        before = self._snapshot()
        earlier = JointAlignment(list(self.joint.documents), list(self.joint.rows), self.joint.pivot,
                                 self.joint.pivot_chosen, self.joint.model, self.joint.settings)
        found = align_joint(list(self.joint.documents), encoder, pivot=self.joint.pivot, earlier=earlier)
        old = {row.slots for row in self.joint.rows}
        # a row the aligner makes again exactly as a reviewer rejected it keeps the verdict
        rejected = {row.slots: row for row in self.joint.rows if row.status is Status.REJECTED}
        rows = [row if row.status is Status.CONFIRMED else rejected.get(row.slots) or replace(row, change=self.change_id)
                for row in found.rows]
        self.joint.rows = rows
        self.joint.model = found.model or self.joint.model
        self.changed = frozenset(k for k, row in enumerate(rows) if row.slots not in old)
        self._done(before)
        return len(self.changed)

    # -- saving -------------------------------------------------------------------------------------------------

    def _check_rev(self, rev: str | None) -> None:
        if rev is not None and rev != self.digest:
            raise Conflict(f"{self.path.name} was saved from another tab or process since this page loaded it")

    def reload(self) -> None:
        """Read the file again (after a conflict): the page starts from what is on disk; history goes."""
        fresh = ReviewSession.open(self.path, self.reviewer)
        self.joint, self.header, self.pairwise, self.glosses, self.digest = (
            fresh.joint, fresh.header, fresh.pairwise, fresh.glosses, fresh.digest)
        self.undo_stack.clear()
        self.redo_stack.clear()
        self.changed = frozenset()
        self._change = ""  # another process may have taken the revision id this session meant to use

    def on_disk_changed(self) -> bool:
        return _sha(self.path.read_bytes()) != self.digest

    def save(self) -> None:
        """Write the review into the file, atomically; the first save keeps the file as it was as a backup.
        Reviews of the same file in other processes wait on a lock for the check and the write, so none can
        write between this one's check and its write."""
        with _locked(self.path):
            if self.on_disk_changed():
                raise Conflict(f"{self.path.name} was changed on disk by another process since this page loaded it")
            if self.backup is None:
                self.backup = _free_backup(self.path)
                shutil.copy2(self.path, self.backup)
            self._record_review()
            views = self.joint.pivot_views()
            for view in views:
                view.gloss = self.glosses.get(view.target.name)
            write_tei(views, self.path, joint=None if self.pairwise else self.joint, previous=self.header,
                      rerun=False)
            self.digest = _sha(self.path.read_bytes())

    @property
    def reviewer_id(self) -> str:
        return "rev." + (re.sub(r"[^\w.-]+", "-", self.reviewer, flags=re.ASCII).strip("-") or "reviewer")

    @property
    def change_id(self) -> str:
        """This session's revision: the next ``rvN`` of the header, made on the first save and kept."""
        if not self._change:
            self._change = Run.after(self.header).id
        return self._change

    def _record_review(self) -> None:
        """The reviewer as a respStmt and this session as a change in the corpus header (which the writer
        copies as it is), the change's text counting what the session did."""
        title_stmt = self.header.find(f"{T}fileDesc/{T}titleStmt")
        if not any(r.get(XML_ID) == self.reviewer_id for r in title_stmt.findall(f"{T}respStmt")):
            resp = etree.SubElement(title_stmt, f"{T}respStmt")
            resp.set(XML_ID, self.reviewer_id)
            etree.SubElement(resp, f"{T}resp").text = "alignment review"
            etree.SubElement(resp, f"{T}name").text = self.reviewer
        revisions = self.header.find(f"{T}revisionDesc")
        if revisions is None:
            revisions = etree.SubElement(self.header, f"{T}revisionDesc")
        change = next((c for c in revisions if c.get(XML_ID) == self.change_id), None)
        if change is None:
            change = etree.SubElement(revisions, f"{T}change")
            change.set(XML_ID, self.change_id)
        change.set("when", datetime.now(timezone.utc).replace(microsecond=0).isoformat())
        change.set("who", f"#{self.reviewer_id}")
        ours = [r for r in self.joint.rows if r.change == self.change_id]
        counts = {s: sum(1 for r in ours if r.status is s) for s in Status}
        change.text = (f"Review by {self.reviewer} in polyalign review: {len(ours)} rows touched, "
                       f"{counts[Status.CONFIRMED]} confirmed, {counts[Status.REJECTED]} rejected, "
                       f"{counts[Status.AUTO]} edited or re-aligned and left unconfirmed.")

    def export_tmx(self) -> bytes:
        """The confirmed rows as TMX 1.4b: for two versions the pair, for more one multilingual memory (a unit
        per confirmed row that every version fills)."""
        views = self.joint.pivot_views()
        tags = tmx.language_tags(self.joint.documents)
        root = (tmx.build_pair(views[0], tags, confirmed_only=True) if len(views) == 1
                else tmx.build_multilingual(views, tags, confirmed_only=True))
        return etree.tostring(root, xml_declaration=True, encoding="UTF-8", pretty_print=True)


def _row_edit(edit: Callable[..., list[Row]]) -> Callable[..., None]:
    def run(session: ReviewSession, row: int) -> None:
        session._rows(edit, int(row))
    return run


def _sentence_edit(edit: Callable[..., list[Row]]) -> Callable[..., None]:
    def run(session: ReviewSession, row: int, version: str, sentence: str) -> None:
        session._rows(edit, int(row), session._version(version), sentence)
    return run


def _verdict(status: Status) -> Callable[..., None]:
    def run(session: ReviewSession, row: int) -> None:
        session._rows(ops.set_status, int(row), status)
    return run


EDITS: dict[str, Callable[..., None]] = {
    "merge": _row_edit(ops.merge),
    "merge_previous": lambda session, row: session._rows(ops.merge_previous, int(row)),
    "split": _row_edit(ops.split),
    "move_up": _sentence_edit(ops.move_up),
    "move_down": _sentence_edit(ops.move_down),
    "no_counterpart": _sentence_edit(ops.no_counterpart),
    "confirm": _verdict(Status.CONFIRMED),
    "reject": _verdict(Status.REJECTED),
    "unconfirm": _verdict(Status.AUTO),
    "confirm_up_to": _row_edit(ops.confirm_up_to),
    "split_sentence": ReviewSession.split_sentence,
    "join_sentences": ReviewSession.join_sentences,
}


def default_reviewer() -> str:
    try:
        return getpass.getuser()
    except (KeyError, OSError):
        return "reviewer"


def _sha(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


@contextmanager
def _locked(path: Path) -> Iterator[None]:
    """An advisory lock beside ``path`` (``.FILE.review-lock``; the file itself is replaced on every save, so it
    cannot hold one), taken by every review process before it checks and writes the file."""
    with open(path.with_name(f".{path.name}.review-lock"), "a") as handle:
        fcntl.flock(handle, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(handle, fcntl.LOCK_UN)


def _free_backup(path: Path) -> Path:
    """``FILE.~1~``, ``FILE.~2~``…: the first name not taken, so no earlier backup is overwritten."""
    number = 1
    while path.with_name(f"{path.name}.~{number}~").exists():
        number += 1
    return path.with_name(f"{path.name}.~{number}~")
