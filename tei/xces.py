"""XCES ``cesAlign`` files, the sentence alignment format of OPUS, Uplug and OpusTools.

- a version: ``OUT.nb.xml``, ``<document><p id="nb.p1"><s id="nb.p1.s1">…</s></p></document>``. Our
  sentence ids are kept: they are already unique tokens without spaces or ``;`` (the TEI writer's check,
  run here too, makes them NCNames), and keeping them means an XCES link names the same sentence as the
  TEI does.
- a pair: OUT itself with one pair, else ``OUT.nb-en.xml`` (``tei.outputs.plan``), ``<cesAlign
  version="1.0">`` holding one ``<linkGrp targType="s"
  fromDoc="OUT.nb.xml" toDoc="OUT.en.xml">`` (the file names relative to the alignment file). XCES is
  strictly bilingual, so each pair, pivot against one other version, has its own file.
- a bead: ``<link id="nb-en.b4" xtargets="nb.p2.s1 nb.p2.s2;en.p2.s1" certainty="0.5000"/>``, the
  **fromDoc** (pivot) ids first, unlike InterText. Either side may be empty (``";en.p2.s2"`` is 0-1);
  ``certainty`` is the calibrated confidence; ``id`` is the link id of the TEI.

XCES has no review status. A rejected bead is known to be wrong and is left out (its sentences are then
simply not aligned, which XCES allows); with ``confirmed_only`` only beads a reviewer confirmed are written.
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

XML_LANG = "{http://www.w3.org/XML/1998/namespace}lang"


def _written(bead: Bead, confirmed_only: bool) -> bool:
    status = Status(bead.status)
    return status is Status.CONFIRMED if confirmed_only else status is not Status.REJECTED


def _certainty(confidence: float) -> str:
    if not 0.0 <= confidence <= 1.0:  # also rejects NaN
        raise ValueError(f"confidence {confidence!r} is not a probability in [0, 1]")
    return f"{confidence:.4f}"


def build_version(doc: Document) -> etree._Element:
    """``<document>`` with the document's paragraphs and sentences, ids and texts as they are."""
    root = etree.Element("document", {XML_LANG: doc.lang})
    for paragraph in doc.paragraphs:
        p = etree.SubElement(root, "p", id=paragraph.id)
        for sentence in paragraph.sentences:
            try:
                etree.SubElement(p, "s", id=sentence.id).text = sentence.text
            except ValueError as err:  # control characters XML cannot hold
                raise ValueError(f"sentence {sentence.id} cannot be written as XML: {err}") from None
    return root


def build_alignment(alignment: Alignment, from_doc: str, to_doc: str, *,
                    confirmed_only: bool = False) -> etree._Element:
    """The pair's ``cesAlign``; ``from_doc``/``to_doc`` name the version files."""
    root = etree.Element("cesAlign", version="1.0")
    group = etree.SubElement(root, "linkGrp", targType="s", fromDoc=from_doc, toDoc=to_doc)
    pair = pair_name(alignment)
    for number, bead in enumerate(alignment.beads, 1):
        for doc, ids in ((alignment.source, bead.source), (alignment.target, bead.target)):
            unknown = [i for i in ids if i not in doc.index]
            if unknown:
                raise ValueError(f"{pair} bead {number}: {unknown[0]!r} is not a sentence of {doc.name!r}")
        if _written(bead, confirmed_only):
            etree.SubElement(group, "link", id=f"{pair}.b{number}",
                             xtargets=f"{' '.join(bead.source)};{' '.join(bead.target)}",
                             certainty=_certainty(bead.confidence))
    return root


def write_xces(alignments: list[Alignment], path: str | os.PathLike, *, confirmed_only: bool = False) -> None:
    """Write the files ``tei.outputs.plan`` names, all or none (all are built before any is written)."""
    docs = versions(alignments)
    files = plan(path, [d.name for d in docs], "xces")
    roots = [build_version(d) for d in docs]
    roots += [build_alignment(a, files.versions[a.source.name].name, files.versions[a.target.name].name,
                              confirmed_only=confirmed_only)
              for a in alignments]
    _write_all(zip(files.all(), roots))



def _write_all(files: Iterable[tuple[Path, etree._Element]]) -> None:
    atomic_write_all((path, etree.tostring(root, xml_declaration=True, encoding="UTF-8", pretty_print=True))
                     for path, root in files)