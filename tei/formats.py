"""The simple interchange formats beside TEI: beads (for the evaluator), TSV (for pandas/R), JSON (for code).

Every writer writes atomically, so a crash never leaves half a file where a previous run's output was.
``FORMATS`` maps a ``--format`` name to a writer taking ``(alignments, path)``, and for TMX, InterText and
XCES (``tei.tmx``, ``tei.intertext``, ``tei.xces``, one module each) their own keyword options.

File naming: TEI, TSV and JSON hold all pairs in the one file given. Beads files hold one pair each: with one
pair the path is used as given, with several ``run.txt`` becomes ``run.nb-en.txt``, ``run.nb-es.txt``. The
rule, shared by every format and the check that no output replaces an input, is ``tei.outputs.plan``.
"""
from __future__ import annotations

import csv
import dataclasses
import io
import json
import os
from pathlib import Path
from typing import Callable

from polyalign.align.atomic import atomic_write
from polyalign.align.beads import Alignment, Bead, Status
from polyalign.align.document import Document
from polyalign.tei import intertext, outputs, tmx, xces
from polyalign.tei.writer import pair_name, polyalign_version, versions, write_tei

TSV_COLUMNS = ["pair", "bead", "shape", "source_ids", "target_ids", "source_text", "target_text",
               "score", "confidence", "status"]


def output_paths(out: str | os.PathLike, alignments: list[Alignment], fmt: str, *,
                 multilingual: bool = False) -> list[Path]:
    """Every file ``fmt`` writes for ``out`` and these alignments (``tei.outputs.plan``); ``multilingual`` as
    for ``write_tmx``."""
    return outputs.plan(out, [d.name for d in versions(alignments)], fmt, multilingual=multilingual).all()


def write_beads(alignment: Alignment, path: str | os.PathLike) -> None:
    """One bead per line, ``[1, 2]:[3]`` with 0-based positions: the gold format of shared/eval."""
    with atomic_write(path) as handle:
        for source, target in alignment.as_indices():
            handle.write(f"{source}:{target}\n")


def write_bead_files(alignments: list[Alignment], out: str | os.PathLike) -> None:
    """``write_beads`` for every pair, named by ``output_paths``."""
    for alignment, path in zip(alignments, outputs.plan(out, [d.name for d in versions(alignments)], "beads").pairs):
        write_beads(alignment, path)


def _status(bead: Bead) -> str:
    return Status(bead.status).value


def _tsv_rows(alignment: Alignment) -> list[list[object]]:
    """The TSV rows of one pair; merged sentences are joined with a space."""
    source_text = {s.id: s.text for s in alignment.source.sentences}
    target_text = {s.id: s.text for s in alignment.target.sentences}
    return [[pair_name(alignment), number, bead.shape, " ".join(bead.source), " ".join(bead.target),
             " ".join(source_text[i] for i in bead.source), " ".join(target_text[i] for i in bead.target),
             bead.score, bead.confidence, _status(bead)]
            for number, bead in enumerate(alignment.beads, 1)]


def write_tsv(alignments: list[Alignment], path: str | os.PathLike) -> None:
    """UTF-8 TSV with a header row, quoted by the csv module where texts hold tabs, quotes or newlines."""
    with atomic_write(path, "wb") as raw:
        text = io.TextIOWrapper(raw, encoding="utf-8", newline="")  # newline="": csv owns the line ends
        try:
            writer = csv.writer(text, delimiter="\t", lineterminator="\n")
            writer.writerow(TSV_COLUMNS)
            for alignment in alignments:
                writer.writerows(_tsv_rows(alignment))
        finally:
            text.detach()  # flushes, and leaves closing (or removing) the file to atomic_write


def _json_document(doc: Document) -> dict[str, object]:
    return {"name": doc.name, "lang": doc.lang, "source": doc.source, "metadata": doc.metadata,
            "paragraphs": [{"id": p.id, "start": p.start, "end": p.end,
                            "sentences": [{"id": s.id, "text": s.text, "start": s.start, "end": s.end}
                                          for s in p.sentences]}
                           for p in doc.paragraphs],
            "notes": [{"id": n.id, "label": n.label, "text": n.text, "start": n.start, "end": n.end}
                      for n in doc.notes]}


def _json_alignment(alignment: Alignment) -> dict[str, object]:
    return {"pair": pair_name(alignment), "source": alignment.source.name, "target": alignment.target.name,
            "model": alignment.model, "settings": alignment.settings,
            "gloss": dataclasses.asdict(alignment.gloss) if alignment.gloss else None,  # machine translation
            "beads": [{"source": list(b.source), "target": list(b.target), "shape": b.shape,
                       "score": b.score, "confidence": b.confidence, "status": _status(b)}
                      for b in alignment.beads]}


def write_json(alignments: list[Alignment], path: str | os.PathLike) -> None:
    """Documents with offsets (into each document's text), then each pair's beads, model and settings."""
    docs = [alignments[0].source] + [a.target for a in alignments]
    data = {"polyalign": polyalign_version(), "pivot": docs[0].name,
            "documents": [_json_document(d) for d in docs],
            "alignments": [_json_alignment(a) for a in alignments]}
    with atomic_write(path) as handle:
        json.dump(data, handle, ensure_ascii=False, indent=2, default=str)  # str: Paths etc. in settings
        handle.write("\n")


Writer = Callable[[list[Alignment], str | os.PathLike], None]

FORMATS: dict[str, Writer] = {
    "tei": write_tei,
    "tsv": write_tsv,
    "json": write_json,
    "beads": write_bead_files,
    "tmx": tmx.write_tmx,  # also takes languages=, confirmed_only=, multilingual=
    "intertext": intertext.write_intertext,
    "xces": xces.write_xces,  # also takes confirmed_only=
}
