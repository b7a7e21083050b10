"""polyalign review's document model: edits on rows, segmentation fixes, undo/redo, saving, conflicts, export."""
from __future__ import annotations

from dataclasses import replace
from pathlib import Path

import pytest
from lxml import etree

from polyalign.align.beads import Status
from polyalign.align.joint.rows import Row
from polyalign.align.review import operations as ops
from polyalign.align.review.operations import EditError
from polyalign.align.review.session import Conflict, ReviewError, ReviewSession
from polyalign.tei.reader import read_corpus
from polyalign.tei.validate import validate
from tests.review_samples import joint_tei, pair_tei


def rows(*shapes: tuple[tuple[str, ...], ...]) -> list[Row]:
    return [Row(slots, 1.0, 0.5 + k / 100) for k, slots in enumerate(shapes)]


def mark(row: Row) -> Row:
    return replace(row, resp="rev.x")


def slots(result: list[Row]) -> list[tuple[tuple[str, ...], ...]]:
    return [r.slots for r in result]


THREE = rows((("a1",), ("b1",)), (("a2",), ("b2", "b3")), (("a3",), ()))


def test_merge_and_split_are_inverse() -> None:
    merged = ops.merge(THREE, 0, mark)
    assert slots(merged) == [(("a1", "a2"), ("b1", "b2", "b3")), (("a3",), ())]
    assert merged[0].status is Status.AUTO and merged[0].resp == "rev.x" and merged[0].confidence == 0.5
    assert slots(ops.split(merged, 0, mark)) == [(("a1",), ("b1",)), (("a2",), ("b2", "b3")), (("a3",), ())]
    assert slots(ops.merge_previous(THREE, 2, mark))[-1] == (("a2", "a3"), ("b2", "b3"))
    with pytest.raises(EditError, match="last row"):
        ops.merge(THREE, 2, mark)
    with pytest.raises(EditError, match="first row"):
        ops.merge_previous(THREE, 0, mark)


def test_moving_sentences_keeps_the_text_in_order() -> None:
    assert slots(ops.move_down(THREE, 1, 1, "b3", mark)) == [
        (("a1",), ("b1",)), (("a2",), ("b2",)), (("a3",), ("b3",))]
    assert slots(ops.move_up(THREE, 1, 1, "b2", mark)) == [
        (("a1",), ("b1", "b2")), (("a2",), ("b3",)), (("a3",), ())]
    # a row left empty goes; the first sentence of the first row moves up into a new row
    assert slots(ops.move_up(THREE, 0, 0, "a1", mark))[:2] == [(("a1",), ()), ((), ("b1",))]
    assert slots(ops.move_down(THREE, 2, 0, "a3", mark))[-1] == (("a3",), ())


def test_no_counterpart_makes_a_row_of_its_own() -> None:
    assert slots(ops.no_counterpart(THREE, 1, 1, "b3", mark))[1:3] == [(("a2",), ("b2",)), ((), ("b3",))]
    assert slots(ops.no_counterpart(THREE, 1, 1, "b2", mark))[1:3] == [((), ("b2",)), (("a2",), ("b3",))]
    with pytest.raises(EditError, match="already"):
        ops.no_counterpart(THREE, 2, 0, "a3", mark)


def test_confirm_up_to_leaves_rejected_rows() -> None:
    marked = ops.set_status(THREE, 1, Status.REJECTED, mark)
    done = ops.confirm_up_to(marked, 2, mark)
    assert [r.status for r in done] == [Status.CONFIRMED, Status.REJECTED, Status.CONFIRMED]


@pytest.fixture(params=["pair", "joint"])
def tei(request, tmp_path: Path) -> Path:
    return (pair_tei if request.param == "pair" else joint_tei)(tmp_path / f"{request.param}.xml")


def test_edits_are_saved_valid_with_a_backup_and_recorded(tei: Path) -> None:
    original = tei.read_bytes()
    session = ReviewSession.open(tei, "Kari Nordmann")
    session.apply("merge", {"row": 0}, session.digest)
    session.apply("confirm", {"row": 0}, session.digest)
    session.apply("reject", {"row": 1}, session.digest)
    assert validate(tei) == []
    assert session.backup == tei.with_name(tei.name + ".~1~") and session.backup.read_bytes() == original
    assert session.backup.read_bytes() != tei.read_bytes()
    again = ReviewSession.open(tei, "Kari Nordmann")
    assert [r.slots for r in again.joint.rows] == [r.slots for r in session.joint.rows]
    assert again.joint.rows[0].status is Status.CONFIRMED and again.joint.rows[1].status is Status.REJECTED
    assert again.joint.rows[0].resp == "rev.Kari-Nordmann" and again.joint.rows[0].change == "rv2"
    assert again.joint.rows[2].change == "rv1"  # untouched rows keep the run that made them
    root = etree.parse(str(tei)).getroot()
    ns = {"t": "http://www.tei-c.org/ns/1.0"}
    change = root.find("t:teiHeader/t:revisionDesc/t:change[@who='#rev.Kari-Nordmann']", ns)
    assert change is not None and "Kari Nordmann" in change.text and "1 confirmed, 1 rejected" in change.text
    assert root.find("t:teiHeader//t:titleStmt/t:respStmt/t:name", ns) is not None
    # a second session keeps the first backup and makes its own
    again.apply("confirm", {"row": 2}, again.digest)
    assert again.backup.name == tei.name + ".~2~" and session.backup.read_bytes() == original


def test_undo_and_redo_are_saved(tei: Path) -> None:
    session = ReviewSession.open(tei)
    before = [r.slots for r in session.joint.rows]
    session.apply("merge", {"row": 3}, session.digest)
    merged = [r.slots for r in session.joint.rows]
    session.apply("undo", {}, session.digest)
    assert [r.slots for r in ReviewSession.open(tei).joint.rows] == before
    session.apply("redo", {}, session.digest)
    assert [r.slots for r in ReviewSession.open(tei).joint.rows] == merged
    with pytest.raises(EditError, match="nothing to redo"):
        session.apply("redo", {}, session.digest)


def test_split_and_join_a_sentence_keep_ids_valid_and_text_whole(tei: Path) -> None:
    session = ReviewSession.open(tei)
    version = session.joint.names[1]
    doc = session.joint.documents[1]
    sentence = doc.sentences[0]
    cut = sentence.text.index(" ", 8)
    session.apply("split_sentence", {"version": version, "sentence": sentence.id, "offset": cut}, session.digest)
    assert validate(tei) == []
    back = ReviewSession.open(tei)
    parts = back.joint.documents[1].sentences[:2]
    assert [s.id for s in parts] == [sentence.id, f"{sentence.id}.2"]
    assert [s.text for s in parts] == [sentence.text[:cut], sentence.text[cut + 1:]]
    assert back.joint.rows[0].slots[1] == (sentence.id, f"{sentence.id}.2")
    session.apply("join_sentences", {"version": version, "sentence": sentence.id}, session.digest)
    assert validate(tei) == []
    joined = ReviewSession.open(tei).joint.documents[1].sentences[0]
    assert (joined.id, joined.text) == (sentence.id, sentence.text)
    # a second split of the same sentence finds the next free id
    session.apply("split_sentence", {"version": version, "sentence": sentence.id, "offset": cut}, session.digest)
    session.apply("split_sentence", {"version": version, "sentence": sentence.id, "offset": 3}, session.digest)
    assert [s.id for s in ReviewSession.open(tei).joint.documents[1].sentences[:3]] == [
        sentence.id, f"{sentence.id}.3", f"{sentence.id}.2"]
    assert validate(tei) == []


def test_a_split_that_leaves_nothing_is_refused(tei: Path) -> None:
    session = ReviewSession.open(tei)
    sentence = session.joint.documents[0].sentences[0]
    with pytest.raises(EditError, match="empty sentence"):
        session.apply("split_sentence", {"version": session.joint.names[0], "sentence": sentence.id, "offset": 0},
                      session.digest)
    assert session.backup is None and not session.undo_stack  # nothing was saved


def test_a_stale_revision_or_a_file_changed_on_disk_is_a_conflict(tei: Path) -> None:
    first, second = ReviewSession.open(tei), ReviewSession.open(tei)
    first.apply("confirm", {"row": 0}, first.digest)
    saved = tei.read_bytes()
    with pytest.raises(Conflict):
        second.apply("confirm", {"row": 1}, second.digest)  # the file on disk changed under it
    with pytest.raises(Conflict):
        first.apply("confirm", {"row": 1}, "an old revision")  # a tab that saw an older state
    assert tei.read_bytes() == saved and second.joint.rows[1].status is Status.AUTO and not second.undo_stack
    second.reload()
    assert second.joint.rows[0].status is Status.CONFIRMED
    second.apply("confirm", {"row": 1}, second.digest)
    assert [r.status for r in ReviewSession.open(tei).joint.rows[:2]] == [Status.CONFIRMED] * 2
    assert validate(tei) == []


def test_export_holds_only_confirmed_rows(tei: Path) -> None:
    session = ReviewSession.open(tei)
    session.apply("confirm", {"row": 1}, session.digest)
    session.apply("confirm", {"row": 5}, session.digest)
    session.apply("confirm", {"row": 4}, session.digest)  # in the pair a sentence without counterpart: no unit
    units = etree.fromstring(session.export_tmx()).findall(".//tu")
    assert len(units) == (2 if len(session.joint.names) == 2 else 3)
    texts = {s.id: s.text for s in session.joint.documents[0].sentences}
    assert units[0].find("tuv/seg").text == texts[session.joint.rows[1].slots[0][0]]


def test_a_file_that_cannot_be_reviewed_is_one_line(tmp_path: Path) -> None:
    text = tmp_path / "plain.xml"
    text.write_text("not xml", encoding="utf-8")
    with pytest.raises(ReviewError, match="plain.xml"):
        ReviewSession.open(text)
    with pytest.raises(ReviewError, match="no such file"):
        ReviewSession.open(tmp_path / "missing.xml")


def test_realign_keeps_confirmed_rows_and_reports_changes(tmp_path: Path, encoder) -> None:
    tei = pair_tei(tmp_path / "pair.xml")
    session = ReviewSession.open(tei, "kari")
    session.apply("confirm", {"row": 0}, session.digest)
    session.apply("reject", {"row": 1}, session.digest)  # right as it is: the aligner will make it again
    original = [r.slots for r in session.joint.rows]
    session.apply("merge", {"row": 5}, session.digest)  # a wrong merge the aligner should undo
    merged, kept = session.joint.rows[5].slots, session.joint.rows[0]
    changed = session.realign(encoder, session.digest)
    assert session.joint.rows[0] == kept
    assert session.joint.rows[1].slots == original[1] and session.joint.rows[1].status is Status.REJECTED
    assert changed == len(session.changed) and changed >= 1
    assert merged not in [r.slots for r in session.joint.rows] and session.joint.rows[5].slots == original[5]
    assert 5 in session.changed
    assert validate(tei) == []
    session.apply("undo", {}, session.digest)
    assert session.joint.rows[5].slots == merged


def test_a_save_waits_for_another_review_process_holding_the_lock(tmp_path: Path) -> None:
    import fcntl
    import threading

    tei = pair_tei(tmp_path / "pair.xml")
    session = ReviewSession.open(tei)
    with open(tmp_path / ".pair.xml.review-lock", "a") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)  # as another `polyalign review` does while it checks and writes
        saving = threading.Thread(target=session.apply, args=("confirm", {"row": 0}, session.digest))
        saving.start()
        saving.join(0.5)
        assert saving.is_alive() and session.backup is None
        fcntl.flock(lock, fcntl.LOCK_UN)
    saving.join(30)
    assert not saving.is_alive() and ReviewSession.open(tei).joint.rows[0].status is Status.CONFIRMED


def test_a_refused_edit_changes_nothing_and_keeps_redo(tei: Path) -> None:
    session = ReviewSession.open(tei)
    session.apply("confirm", {"row": 0}, session.digest)
    session.apply("undo", {}, session.digest)
    saved, rows = tei.read_bytes(), list(session.joint.rows)
    for op, args in (("merge", {"row": "x"}), ("merge", {"rows": 1}), ("split", {"row": 0}), ("teleport", {})):
        with pytest.raises(EditError):
            session.apply(op, args, session.digest)
    assert tei.read_bytes() == saved and session.joint.rows == rows and session.redo_stack


def test_a_reviewed_file_aligns_again_with_the_review_kept(tmp_path: Path) -> None:
    """What the review saves is what `polyalign align FILE.xml` builds on: split ids, reviewer, confirmed links."""
    from click.testing import CliRunner

    from polyalign.align.cli import main

    tei = pair_tei(tmp_path / "pair.xml")
    session = ReviewSession.open(tei, "Kari")
    sentence = session.joint.documents[1].sentences[0]
    session.apply("split_sentence", {"version": "en", "sentence": sentence.id,
                                     "offset": sentence.text.index(" ", 10)}, session.digest)
    session.apply("confirm", {"row": 0}, session.digest)
    out = tmp_path / "again.xml"
    result = CliRunner().invoke(main, ["align", str(tei), "--no-translate", "--no-cache", "-o", str(out)])
    assert result.exit_code == 0, result.output
    assert validate(out) == []
    again = read_corpus(out).alignments[0]
    assert again.beads[0].target == (sentence.id, f"{sentence.id}.2")
    assert (again.beads[0].status, again.beads[0].resp, again.beads[0].change) == (Status.CONFIRMED, "rev.Kari", "rv2")
