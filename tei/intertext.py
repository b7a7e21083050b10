"""InterText files, so that translators can review an alignment in the InterText editor.

InterText (Czech National Corpus) keeps each version of a text as its own XML file and each pair's alignment
as a stand-off ``linkGrp``. The conventions here are those its editor reads and writes itself:

- a version: ``OUT.nb.xml`` for a text named OUT (the file's stem) and a version named ``nb`` (the names are
  ``tei.outputs.plan``'s); any XML, with
  alignable elements found by a plain ``id`` attribute (no namespace) that must be unique in the file. We
  write ``<doc><p id="3"><s id="3:2">…</s></p></doc>``: paragraphs numbered 1, 2, … and sentences
  ``paragraph:sentence``, the two-level scheme InterText detects and keeps when it renumbers after a split
  or merge. Only paragraphs with sentences are numbered, as InterText's renumbering does. The ids are made
  from positions, not from our ids (``nb.p3.s2``), which InterText would not recognise as a numbering.
- a pair: OUT itself with one pair, else ``OUT.nb-en.xml`` (the rule of every format), root
  ``<linkGrp fromDoc="OUT.nb.xml" toDoc="OUT.en.xml">``, the file names relative to the alignment file.
  The pivot is ``fromDoc``, InterText's left column.
- a bead: ``<link type="1-2" xtargets="3:1;3:1 3:2" status="auto"/>``. Careful: InterText lists the
  **toDoc** ids first, and ``type`` counts them in that order (toDoc count, then fromDoc count), so a 2-1
  bead of ours (two pivot sentences, one of the other version) is ``type="1-2"``. InterText reads an empty
  side from ``type`` (``0``), so the two must agree.
- status: ``auto`` for a bead the aligner made, ``man`` for one a reviewer confirmed. InterText has no
  "rejected"; a rejected bead becomes ``plain`` (InterText's "unconfirmed, unknown") with ``mark="1"``, a
  bookmark, so that the reviewer finds it again. It stays a link because InterText shows only sentences that
  are in some link; every bead, null beads included, is written.

Version names and the text name become parts of dotted file names that InterText splits on ``.``, so both
should be free of dots (``vraem``, not ``vraem.v2``).
"""
from __future__ import annotations

import os
from collections.abc import Iterable
from pathlib import Path

from lxml import etree

from polyalign.align.atomic import atomic_write_all
from polyalign.align.beads import Alignment, Bead, Status
from polyalign.align.document import Document
from polyalign.tei.outputs import plan
from polyalign.tei.writer import pair_name, versions

STATUS = {Status.AUTO: "auto", Status.CONFIRMED: "man", Status.REJECTED: "plain"}


def numbering(doc: Document) -> dict[str, str]:
    """Sentence id → InterText id ``paragraph:sentence``, 1-based, counting only paragraphs with sentences."""
    ids: dict[str, str] = {}
    paragraphs = (p for p in doc.paragraphs if p.sentences)
    for p_number, paragraph in enumerate(paragraphs, 1):
        for s_number, sentence in enumerate(paragraph.sentences, 1):
            ids[sentence.id] = f"{p_number}:{s_number}"
    return ids


def build_version(doc: Document) -> etree._Element:
    """``<doc>`` with ``p``/``s`` numbered as ``numbering`` says; texts exactly as in the document."""
    root = etree.Element("doc", language=doc.lang, version=doc.name)
    ids = numbering(doc)
    for paragraph in doc.paragraphs:
        if not paragraph.sentences:
            continue
        p = etree.SubElement(root, "p", id=ids[paragraph.sentences[0].id].split(":")[0])
        for sentence in paragraph.sentences:
            try:
                etree.SubElement(p, "s", id=ids[sentence.id]).text = sentence.text
            except ValueError as err:  # control characters XML cannot hold
                raise ValueError(f"sentence {sentence.id} cannot be written as XML: {err}") from None
    return root


def _side(ids: tuple[str, ...], numbers: dict[str, str], doc: Document, where: str) -> list[str]:
    unknown = [i for i in ids if i not in numbers]
    if unknown:
        raise ValueError(f"{where}: {unknown[0]!r} is not a sentence of {doc.name!r}")
    return [numbers[i] for i in ids]


def _link(group: etree._Element, bead: Bead, where: str, alignment: Alignment,
          pivot_ids: dict[str, str], other_ids: dict[str, str]) -> None:
    pivot_side = _side(bead.source, pivot_ids, alignment.source, where)
    other_side = _side(bead.target, other_ids, alignment.target, where)
    status = Status(bead.status)
    link = etree.SubElement(group, "link", type=f"{len(other_side)}-{len(pivot_side)}",
                            xtargets=f"{' '.join(other_side)};{' '.join(pivot_side)}", status=STATUS[status])
    if status is Status.REJECTED:
        link.set("mark", "1")


def build_alignment(alignment: Alignment, from_doc: str, to_doc: str) -> etree._Element:
    """The pair's ``linkGrp``, one ``link`` per bead in order; ``from_doc``/``to_doc`` name the version files."""
    group = etree.Element("linkGrp", toDoc=to_doc, fromDoc=from_doc)
    pivot_ids, other_ids = numbering(alignment.source), numbering(alignment.target)
    for number, bead in enumerate(alignment.beads, 1):
        _link(group, bead, f"{pair_name(alignment)} bead {number}", alignment, pivot_ids, other_ids)
    return group


def write_intertext(alignments: list[Alignment], path: str | os.PathLike) -> None:
    """Write the files ``tei.outputs.plan`` names, all or none (all are built before any is written)."""
    docs = versions(alignments)
    files = plan(path, [d.name for d in docs], "intertext")
    docs = versions(alignments)
    roots = [build_version(d) for d in docs]
    roots += [build_alignment(a, files.versions[a.source.name].name, files.versions[a.target.name].name)
              for a in alignments]
    _write_all(zip(files.all(), roots))



def _write_all(files: Iterable[tuple[Path, etree._Element]]) -> None:
    atomic_write_all((path, etree.tostring(root, xml_declaration=True, encoding="UTF-8", pretty_print=True))
                     for path, root in files)