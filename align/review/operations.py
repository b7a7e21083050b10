"""The reviewer's edits on rows, as pure functions: rows in, rows out, nothing mutated.

Every function takes the rows (``align.joint.rows.Row``, one slot per version) and returns a new list, so that
the session can keep the list it had as the undo step. A row an edit touches is passed through ``mark``, which
records who touched it and in which review round (its ``@resp`` and ``@change`` in the TEI). Rows stay in
order and every sentence stays in exactly one row, which is what ``polyalign validate`` checks of a joint group.

A structural edit (merge, split, move) leaves the row ``auto``: the reviewer made it, but has not yet said it
is right. Its confidence is the lowest of the rows it came from, since nothing has measured the new row.
"""
from __future__ import annotations

from dataclasses import replace
from typing import Callable

from polyalign.align.beads import Status
from polyalign.align.joint.rows import Row

Mark = Callable[[Row], Row]


class EditError(ValueError):
    """An edit that cannot be made here (the first row has no previous one, …); the message says why."""


def _check(rows: list[Row], index: int) -> None:
    if not 0 <= index < len(rows):
        raise EditError(f"there is no row {index + 1} (the alignment has {len(rows)})")


def _edited(slots: tuple[tuple[str, ...], ...], confidence: float, mark: Mark) -> Row:
    return mark(Row(slots, None, confidence, Status.AUTO))


def _without_empty(rows: list[Row]) -> list[Row]:
    return [row for row in rows if row.filled]


def merge(rows: list[Row], index: int, mark: Mark) -> list[Row]:
    """Row ``index`` and the next become one row."""
    _check(rows, index)
    if index + 1 >= len(rows):
        raise EditError("the last row has no next row to merge with")
    a, b = rows[index], rows[index + 1]
    joined = tuple(x + y for x, y in zip(a.slots, b.slots))
    return rows[:index] + [_edited(joined, min(a.confidence, b.confidence), mark)] + rows[index + 2:]


def merge_previous(rows: list[Row], index: int, mark: Mark) -> list[Row]:
    """Row ``index`` and the one before become one row."""
    _check(rows, index)
    if index == 0:
        raise EditError("the first row has no previous row to merge with")
    return merge(rows, index - 1, mark)


def split(rows: list[Row], index: int, mark: Mark) -> list[Row]:
    """The inverse of a merge: each version's first sentence stays, the rest go to a new row below (a 2-1 row
    becomes 1-1 and 1-0, a 2-2 row two 1-1 rows)."""
    _check(rows, index)
    row = rows[index]
    if all(len(slot) <= 1 for slot in row.slots):
        raise EditError(f"row {index + 1} has one sentence per version; there is nothing to split")
    top = tuple(slot[:1] for slot in row.slots)
    rest = tuple(slot[1:] for slot in row.slots)
    return rows[:index] + [_edited(top, row.confidence, mark), _edited(rest, row.confidence, mark)] + rows[index + 1:]


def _locate(rows: list[Row], index: int, version: int, sentence: str) -> int:
    _check(rows, index)
    slot = rows[index].slots[version] if 0 <= version < len(rows[index].slots) else ()
    if sentence not in slot:
        raise EditError(f"{sentence} is not in row {index + 1}")
    return slot.index(sentence)


def _with_slot(row: Row, version: int, slot: tuple[str, ...]) -> tuple[tuple[str, ...], ...]:
    return tuple(slot if k == version else s for k, s in enumerate(row.slots))


def move_down(rows: list[Row], index: int, version: int, sentence: str, mark: Mark) -> list[Row]:
    """``sentence`` and those after it in its slot go to the start of the same version's slot in the next row
    (a new row when this is the last), so the text stays in order."""
    at = _locate(rows, index, version, sentence)
    row = rows[index]
    moving = row.slots[version][at:]
    below = rows[index + 1] if index + 1 < len(rows) else Row(tuple(() for _ in row.slots), None, 0.0)
    new_row = _edited(_with_slot(row, version, row.slots[version][:at]), row.confidence, mark)
    new_below = _edited(_with_slot(below, version, moving + below.slots[version]),
                        min(row.confidence, below.confidence) if index + 1 < len(rows) else 0.0, mark)
    return _without_empty(rows[:index] + [new_row, new_below] + rows[index + 2:])


def move_up(rows: list[Row], index: int, version: int, sentence: str, mark: Mark) -> list[Row]:
    """``sentence`` and those before it in its slot go to the end of the same version's slot in the previous
    row (a new row when this is the first)."""
    at = _locate(rows, index, version, sentence)
    row = rows[index]
    moving = row.slots[version][:at + 1]
    above = rows[index - 1] if index > 0 else Row(tuple(() for _ in row.slots), None, 0.0)
    new_above = _edited(_with_slot(above, version, above.slots[version] + moving),
                        min(row.confidence, above.confidence) if index > 0 else 0.0, mark)
    new_row = _edited(_with_slot(row, version, row.slots[version][at + 1:]), row.confidence, mark)
    return _without_empty(rows[:max(index - 1, 0)] + [new_above, new_row] + rows[index + 1:])


def no_counterpart(rows: list[Row], index: int, version: int, sentence: str, mark: Mark) -> list[Row]:
    """``sentence`` becomes a row of its own with every other slot empty: the other versions lack it. It goes
    above the row when it is the first of its slot, below when it is the last; from the middle of a slot it
    cannot go anywhere without reordering the text."""
    at = _locate(rows, index, version, sentence)
    row = rows[index]
    slot = row.slots[version]
    if row.filled == 1 and len(slot) == 1:
        raise EditError(f"{sentence} has no counterpart already")
    alone = _edited(tuple((sentence,) if k == version else () for k in range(len(row.slots))), row.confidence, mark)
    rest = _edited(_with_slot(row, version, slot[:at] + slot[at + 1:]), row.confidence, mark)
    if at == 0:
        return _without_empty(rows[:index] + [alone, rest] + rows[index + 1:])
    if at == len(slot) - 1:
        return _without_empty(rows[:index] + [rest, alone] + rows[index + 1:])
    raise EditError(f"{sentence} is in the middle of its row; move the sentences after it down first")


def set_status(rows: list[Row], index: int, status: Status, mark: Mark) -> list[Row]:
    """A verdict on one row: confirmed or rejected (or back to auto)."""
    _check(rows, index)
    return rows[:index] + [mark(replace(rows[index], status=status))] + rows[index + 1:]


def confirm_up_to(rows: list[Row], index: int, mark: Mark) -> list[Row]:
    """Confirm every automatic row from the first to ``index``: a reviewer who has read down to here vouches for
    what they read. Rejected rows stay rejected: that verdict was given on purpose."""
    _check(rows, index)
    return [mark(replace(row, status=Status.CONFIRMED)) if k <= index and row.status is Status.AUTO else row
            for k, row in enumerate(rows)]


def replace_sentence(rows: list[Row], version: int, old: str, new: tuple[str, ...], mark: Mark) -> list[Row]:
    """The rows after a sentence of ``version`` became ``new`` (a split: the sentence and its new second part;
    a join: nothing, the sentence having gone into its neighbour). A row left empty goes."""
    out = []
    for row in rows:
        slot = row.slots[version]
        if old in slot:
            at = slot.index(old)
            row = mark(replace(row, slots=_with_slot(row, version, slot[:at] + new + slot[at + 1:]),
                               status=Status.AUTO))
        out.append(row)
    return _without_empty(out)
