"""Documents in, one joint alignment out: encode each version once, align every pair, build the rows.

The I/O side of ``align.joint.consensus``: sentence ids, calibrated confidences, the pivot's name, and rows
a reviewer confirmed in an earlier run, which stay exactly as they are (the aligner runs between them).
"""
from __future__ import annotations

from dataclasses import asdict
from typing import Callable, Sequence

import numpy as np

from polyalign.align.aligner import AlignerSettings, Side, SpanEncoder, align
from polyalign.align.beads import Status
from polyalign.align.confidence import Calibration
from polyalign.align.document import Document
from polyalign.align.joint.consensus import IndexRow, Joint, check_rows, joint_rows, pair_keys
from polyalign.align.joint.rows import JointAlignment, Row
from polyalign.align.pipeline import Encoding, encode_with_progress, side_of


def align_joint(docs: list[Document], encoder, *, pivot: str | None = None,
                settings: AlignerSettings | None = None, earlier: JointAlignment | None = None,
                report: Callable[[str], None] = lambda _: None, encoding: Encoding | None = None) -> JointAlignment:
    """The joint alignment of all ``docs`` (three or more, though two work too). ``pivot`` None chooses the
    version whose star makes the alignment most confident.

    With an ``earlier`` joint alignment (read back from TEI), its confirmed rows are kept exactly as they are
    and the aligner runs between them. ``encoding``: progress, as for ``pipeline.align_versions``. A version the earlier alignment lacked (one being added) gets, in each
    kept row, the sentences its pairwise alignment with an earlier version puts there; such a row keeps the
    earlier versions' part as it was but goes back to ``auto``: nobody has confirmed the new slot yet."""
    settings = settings or AlignerSettings()
    names = [d.name for d in docs]
    if pivot is not None and pivot not in names:
        raise ValueError(f"--pivot {pivot!r} is none of the versions {names}")
    sides = []
    for doc in docs:
        report(f"encoding {doc.source or doc.name}: {len(doc.sentences)} sentences")
        encoded = encode_with_progress(encoder.encode_with_tokens, [s.text for s in doc.sentences],
                                       doc.source or doc.name, encoding)
        sides.append(side_of(doc, encoded).centred())
    kept = _kept_rows(earlier, docs, sides, settings) if earlier is not None else []
    chosen = "given" if pivot is not None else "automatic"
    if kept and pivot is None and earlier.pivot in names:  # the pivot stays what the reviewed file says
        pivot, chosen = earlier.pivot, earlier.pivot_chosen
    report(f"aligning {len(docs)} versions jointly ({len(docs) * (len(docs) - 1) // 2} pairs)")
    found = joint_rows_around(sides, [(row, before) for row, before, _ in kept], settings,
                              pivot=names.index(pivot) if pivot is not None else None, encode=encoder.encode)
    return _joint_alignment(docs, found, {row: earlier_row for row, _, earlier_row in kept}, settings,
                            encoder.name, chosen)


Kept = tuple[IndexRow, tuple[int, ...]]  # a kept row, and where it starts in every version


def joint_rows_around(sides: Sequence[Side], kept: Sequence[Kept], settings: AlignerSettings, *,
                      pivot: int | None = None, encode: SpanEncoder | None = None) -> Joint:
    """``joint_rows`` on the stretches between the ``kept`` rows (in order), which stay as they are.
    ``encode``: the encoder of the sentence vectors, for the spans the pairwise alignments doubt."""
    if not kept:
        return joint_rows(sides, settings, pivot=pivot, encode=encode)
    k = len(sides)
    rows: list[IndexRow] = []
    scores: list[float] = []
    pair_beads: dict = {key: [] for key in pair_keys(k)}
    start = (0,) * k
    for row, before in [*kept, (None, tuple(len(s) for s in sides))]:
        if any(b < a for a, b in zip(start, before)):
            raise ValueError("confirmed rows cross or overlap; fix them, `polyalign validate` shows where")
        if any(b > a for a, b in zip(start, before)):
            part = joint_rows([s.slice(a, b) for s, a, b in zip(sides, start, before)], settings, pivot=pivot,
                              encode=encode)
            rows += [tuple(tuple(i + start[v] for i in slot) for v, slot in enumerate(r)) for r in part.rows]
            scores += part.scores
            for key, beads in part.pair_beads.items():  # back in whole-text positions, for the confidences
                u, v = key
                pair_beads[key] += [b._replace(src=tuple(i + start[u] for i in b.src),
                                               tgt=tuple(j + start[v] for j in b.tgt)) for b in beads]
        if row is not None:
            rows.append(row)
            scores.append(float("nan"))
            start = tuple(a + len(slot) for a, slot in zip(before, row))
    check_rows(rows, [len(s) for s in sides])
    return Joint(rows, pivot if pivot is not None else 0, scores, pair_beads, {})


def _kept_rows(earlier: JointAlignment, docs: list[Document], sides: list[Side],
               settings: AlignerSettings) -> list[tuple[IndexRow, tuple[int, ...], Row]]:
    """The earlier alignment's confirmed rows as positions in ``docs``, with where each starts in every
    version, and the row as it was read."""
    old = [k for k, doc in enumerate(docs) if doc.name in earlier.names]
    new = [k for k in range(len(docs)) if k not in old]
    if not old:
        return []
    reference = old[0]
    to_new = {w: _cut_map(align(sides[reference], sides[w], settings, centre=False)) for w in new}
    out, at = [], {docs[k].name: 0 for k in old}
    for row in earlier.rows:
        by_name = dict(zip(earlier.names, row.slots))
        if row.status is Status.CONFIRMED:
            before = [at.get(doc.name, 0) for doc in docs]
            slots = [tuple(doc.index[i] for i in by_name.get(doc.name, ())) for doc in docs]
            start, stop = at[docs[reference].name], at[docs[reference].name] + len(slots[reference])
            for w in new:
                before[w] = to_new[w][start]
                slots[w] = tuple(range(to_new[w][start], to_new[w][stop]))
            if new and any(slots[w] for w in new):
                row = Row(row.slots, None, row.confidence, Status.AUTO, row.resp, row.change)
            out.append((tuple(slots), tuple(before), row))
        for name in at:
            at[name] += len(by_name.get(name, ()))
    return out


def _cut_map(beads) -> list[int]:
    """For every place i in the source (0 … n), the place in the target where a cut there falls: after every
    bead that ends at or before i (and the target-only beads that follow it); a bead spanning across i keeps
    its target sentences before the cut."""
    n = sum(len(b.src) for b in beads)
    out, j = [], 0
    for b in beads:
        if b.src:
            while len(out) <= b.src[0]:
                out.append(j)
        j += len(b.tgt)
    while len(out) <= n:
        out.append(j)
    return out


def _joint_alignment(docs: list[Document], found: Joint, kept: dict[IndexRow, Row], settings: AlignerSettings,
                     model: str, pivot_chosen: str) -> JointAlignment:
    """Ids, and confidences: for each pair, the calibrated confidence of the direct pairwise bead when the rows
    give that pair the same bead, else 0 (the pair's own evidence disagreed); a row's confidence is the mean
    over the pairs it holds sentences of."""
    calibration = Calibration.load()
    direct: dict[tuple[int, int], dict[tuple, float]] = {}
    for key, beads in found.pair_beads.items():
        confidence = calibration.confidence(beads) if beads else np.zeros(0)
        direct[key] = {(b.src, b.tgt): float(c) for b, c in zip(beads, confidence)}
    rows = []
    for row, score in zip(found.rows, found.scores):
        slots = tuple(tuple(doc.sentences[i].id for i in slot) for doc, slot in zip(docs, row))
        if row in kept:
            earlier = kept[row]
            rows.append(Row(slots, None, earlier.confidence, earlier.status, earlier.resp, earlier.change))
            continue
        pairs = {(u, v): direct.get((u, v), {}).get((row[u], row[v]), 0.0)
                 for u, v in pair_keys(len(docs)) if row[u] or row[v]}
        confidence = sum(pairs.values()) / len(pairs) if pairs else 0.0
        rows.append(Row(slots, float(score), float(confidence),
                        pair_confidence={key: c for key, c in pairs.items() if c > 0}))
    return JointAlignment(docs, rows, docs[found.pivot].name, pivot_chosen, model,
                          {**asdict(settings), "joint": True})
