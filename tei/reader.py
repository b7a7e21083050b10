"""Read back a parallel TEI that polyalign wrote: its versions, its beads with their review state, its header.

This is what lets a later run build on an earlier one: re-align after a review (confirmed links stay as
they are), add a language, or convert to another format. Each member ``TEI`` is kept whole as its
Document's ``markup``, and the corpus header as ``ParallelCorpus.header``, so that writing what was read
(``tei.writer.write_tei(..., previous=header, rerun=False)``) gives back the same XML.

The raw aligner score is not in the TEI (only the calibrated ``@cert`` is), so beads read back have
``score=None``.
"""
from __future__ import annotations

import copy
import os
from dataclasses import dataclass

from lxml import etree

from polyalign.align.beads import Alignment, Bead, Gloss, Status
from polyalign.align.document import Document, Note, Paragraph, Sentence
from polyalign.align.joint.rows import JointAlignment
from polyalign.tei import joint as joint_tei
from polyalign.tei.joint import pointer, sentence_ids

TEI = "{http://www.tei-c.org/ns/1.0}"
XML_ID = "{http://www.w3.org/XML/1998/namespace}id"
XML_LANG = "{http://www.w3.org/XML/1998/namespace}lang"


class CorpusError(ValueError):
    """The file is not a parallel TEI that polyalign can read back; the message says why, in one line."""


@dataclass
class ParallelCorpus:
    alignments: list[Alignment]  # every version against the pivot, in the file's order
    header: etree._Element  # the corpus teiHeader, to be carried into the next write
    joint: JointAlignment | None = None  # when the file holds a joint alignment; ``alignments`` are its pivot views

    @property
    def documents(self) -> list[Document]:
        if self.joint is not None:
            return list(self.joint.documents)
        return [self.alignments[0].source] + [a.target for a in self.alignments]


def root_tag(path: str | os.PathLike) -> str | None:
    """The tag of an XML file's root element, e.g. ``{…tei-c.org/ns/1.0}teiCorpus``; None for a file that does
    not start as XML (plain text). Reads no further than the root's start tag."""
    try:
        with open(path, "rb") as handle:
            if not handle.read(512).lstrip(b"\xef\xbb\xbf \t\r\n").startswith(b"<"):
                return None
        for _, element in etree.iterparse(str(path), events=("start",)):
            return element.tag
    except (etree.XMLSyntaxError, OSError):
        return None
    return None


def is_parallel_corpus(path: str | os.PathLike) -> bool:
    return root_tag(path) == f"{TEI}teiCorpus"


def read_corpus(path: str | os.PathLike) -> ParallelCorpus:
    """The versions and alignments of a teiCorpus written by polyalign."""
    try:
        root = etree.parse(str(path)).getroot()
    except etree.XMLSyntaxError as err:
        raise CorpusError(f"is not well-formed XML (line {err.lineno}: {err.msg})") from None
    if root.tag != f"{TEI}teiCorpus":
        raise CorpusError("is not a TEI teiCorpus")
    header = root.find(f"{TEI}teiHeader")
    if header is None:
        raise CorpusError("has no corpus teiHeader")
    members = [tei for tei in root.findall(f"{TEI}TEI") if tei.get("type") != "translation"]
    documents = {doc.name: doc for doc in (read_member(tei, path) for tei in members)}
    groups = root.findall(f"{TEI}standOff/{TEI}linkGrp[@type='alignment']")
    if not groups:
        raise CorpusError("has no standOff linkGrp type='alignment'")
    joint_groups = [g for g in groups if joint_tei.is_joint(g)]
    if joint_groups:
        if len(groups) > 1:
            raise CorpusError("has a joint linkGrp beside other alignment linkGrps; a joint alignment is the only one")
        joint = joint_tei.read_group(joint_groups[0], documents, list(documents), _model(joint_groups[0]), CorpusError)
        return ParallelCorpus(joint.pivot_views(), copy.deepcopy(header), joint)
    alignments = [_alignment(group, documents) for group in groups]
    glosses = {tei.get("corresp", "").removeprefix("#"): _gloss(tei)
               for tei in root.findall(f"{TEI}TEI[@type='translation']")}
    for alignment in alignments:
        alignment.gloss = glosses.get(alignment.target.name)
    return ParallelCorpus(alignments, copy.deepcopy(header))


def _gloss(tei: etree._Element) -> Gloss:
    """A machine-translation layer (see ``tei.writer._gloss_member``) back as the Gloss it was written from."""
    app = tei.find(f"{TEI}teiHeader/{TEI}encodingDesc/{TEI}appInfo/{TEI}application")
    engine, version, model = ("", "", "") if app is None else \
        (app.get("ident", ""), app.findtext(f"{TEI}label[@type='version']") or app.get("version", ""),
         app.findtext(f"{TEI}label") or "")
    texts = {s.get("corresp", "").removeprefix("#"): s.text or "" for s in tei.iter(f"{TEI}s")}
    return Gloss(tei.get(XML_LANG, ""), engine, model, "" if version == "unknown" else version, texts)


def read_member(tei: etree._Element, path: str | os.PathLike = "") -> Document:
    """One member ``TEI`` as a Document whose sentences are its ``s`` elements, kept as ``markup``.

    The document's text is rebuilt from the sentences (a space between sentences, a blank line between
    paragraphs): the TEI keeps the sentences' characters, not the whitespace of the file they came from.
    """
    lang = tei.get(XML_LANG)
    sentences = tei.findall(f".//{TEI}text//{TEI}s")
    if not lang:
        raise CorpusError("has a member TEI without xml:lang")
    if not sentences:
        raise CorpusError(f"has a member TEI ({lang}) without sentences")
    name = tei.get(XML_ID) or sentences[0].get(XML_ID, "").split(".")[0]
    text, paragraphs, current, members = "", [], None, []
    for s in sentences:
        block = s.getparent()
        if block is not current:
            if members:
                paragraphs.append(_paragraph(current, members, name, len(paragraphs) + 1))
            text += "\n\n" if text else ""
            current, members = block, []
        text += " " if members else ""
        content = sentence_text(s)
        if not s.get(XML_ID):
            raise CorpusError(f"has an s without xml:id in {name!r} (line {s.sourceline})")
        members.append(Sentence(s.get(XML_ID), content, len(text), len(text) + len(content)))
        text += content
    paragraphs.append(_paragraph(current, members, name, len(paragraphs) + 1))
    notes = []
    for note in tei.findall(f"{TEI}text/{TEI}back//{TEI}note[@n]"):
        label, content = note.get("n"), "".join(note.itertext())
        text += f"\n\n{label}) "
        notes.append(Note(note.get(XML_ID) or f"{name}.n{label}", label, content, len(text), len(text) + len(content)))
        text += content
    return Document(lang=lang, text=text, paragraphs=paragraphs, name=name, notes=notes,
                    source=_source_field(tei, f"{TEI}idno[@type='file']") or str(path),
                    metadata=_metadata(tei), markup=copy.deepcopy(tei))


def _source_field(tei: etree._Element, path: str) -> str | None:
    return tei.findtext(f"{TEI}teiHeader/{TEI}fileDesc/{TEI}sourceDesc/{TEI}bibl/{path}")


def _metadata(tei: etree._Element) -> dict[str, str]:
    """Title, authors and source as the writer put them in the member's sourceDesc."""
    bibl = tei.find(f"{TEI}teiHeader/{TEI}fileDesc/{TEI}sourceDesc/{TEI}bibl")
    if bibl is None:
        return {}
    found = {"title": bibl.findtext(f"{TEI}title"), "source": bibl.findtext(f"{TEI}note[@type='source']"),
             "author": "; ".join(a.text or "" for a in bibl.findall(f"{TEI}author"))}
    return {key: value for key, value in found.items() if value}


def sentence_text(s: etree._Element) -> str:
    """An ``s``'s characters without those of its notes: a footnote is not part of the sentence."""
    parts = [s.text or ""]
    for child in s:
        if child.tag != f"{TEI}note" and isinstance(child.tag, str):
            parts.append(sentence_text(child))
        parts.append(child.tail or "")
    return "".join(parts)


def _paragraph(block: etree._Element, sentences: list[Sentence], name: str, number: int) -> Paragraph:
    return Paragraph(block.get(XML_ID) or f"{name}.p{number}", sentences[0].start, sentences[-1].end,
                     tuple(sentences))


def _alignment(group: etree._Element, documents: dict[str, Document]) -> Alignment:
    names = (group.get("targFunc") or "").split()
    if len(names) != 2 or any(n not in documents for n in names):
        raise CorpusError(f"linkGrp {group.get(XML_ID)!r} has targFunc {group.get('targFunc')!r}, "
                          f"not two of the versions {sorted(documents)}")
    source, target = documents[names[0]], documents[names[1]]
    ptrs = {p.get(XML_ID): p for p in group.findall(f"{TEI}ptr") if p.get(XML_ID)}
    beads = []
    for el in group:
        if el.tag == f"{TEI}link" or (el.tag == f"{TEI}ptr" and el.get("type") == "unaligned"):
            ids = sentence_ids(el, ptrs)
            beads.append(Bead(tuple(i for i in ids if i in source.index),
                              tuple(i for i in ids if i in target.index),
                              score=None, confidence=float(el.get("cert", "0")),
                              status=Status(pointer(el, "ana").removeprefix("st.") or "auto"),
                              resp=pointer(el, "resp"), change=pointer(el, "change")))
            unknown = [i for i in ids if i not in source.index and i not in target.index]
            if unknown:
                raise CorpusError(f"link {el.get(XML_ID)!r} points at {unknown[0]!r}, a sentence of neither "
                                  f"{source.name!r} nor {target.name!r}")
    return Alignment(source, target, beads, model=_model(group))


def _model(group: etree._Element) -> str:
    """The embedding model named by the run that made the group's links (see the revisionDesc)."""
    root = group.getroottree().getroot()
    changes = {c.get(XML_ID): c.text or "" for c in root.iter(f"{TEI}change")}
    for el in group:
        text = changes.get(pointer(el, "change"), "")
        if "embedding model " in text:
            return text.split("embedding model ", 1)[1].rstrip(".")
    return ""
