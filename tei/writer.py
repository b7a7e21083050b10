"""Write alignments as one parallel TEI P5 corpus (the shape in notes/tei.md, valid against tei_all).

The file is a ``teiCorpus``: a corpus header that documents the conventions, a corpus-level ``standOff``
with one ``linkGrp`` per pair (pivot, other version), then one ``TEI`` per document holding its ``p`` and
``s`` with the ids the aligner used. Everything the links say about a bead (shape, calibrated confidence,
review status, who and when) lives on the link, so the texts stay untouched by the alignment.
"""
from __future__ import annotations

import copy
import os
import re
from dataclasses import dataclass
from datetime import datetime, timezone
from importlib import metadata
from typing import TYPE_CHECKING

from lxml import etree

from polyalign.align.atomic import atomic_write
from polyalign.align.beads import Alignment, Bead, Gloss, Status
from polyalign.align.document import Document
from polyalign.tei import joint as joint_tei

if TYPE_CHECKING:
    from polyalign.align.joint.rows import JointAlignment

TEI_NS = "http://www.tei-c.org/ns/1.0"
XML_ID = "{http://www.w3.org/XML/1998/namespace}id"
XML_LANG = "{http://www.w3.org/XML/1998/namespace}lang"

ALIGNER = "polyalign"  # xml:id of the aligner's respStmt

# Conservative NCName: a letter or underscore, then letters, digits, '.', '-', '_'.
_NCNAME = re.compile(r"[^\W\d][\w.\-]*\Z")

LANGUAGE_NAMES = {
    "nb": "Norwegian Bokmål", "nn": "Norwegian Nynorsk", "no": "Norwegian", "en": "English",
    "es": "Spanish", "de": "German", "fr": "French", "sv": "Swedish", "da": "Danish", "it": "Italian",
    "pt": "Portuguese", "nl": "Dutch", "fi": "Finnish", "pl": "Polish", "ru": "Russian",
}

STATUS_DESCRIPTIONS = {
    Status.AUTO: "made by the aligner, not yet reviewed",
    Status.CONFIRMED: "confirmed by a reviewer",
    Status.REJECTED: "rejected by a reviewer: the sentences are not translations of each other as grouped",
}

CONVENTION = (
    "Alignment: the standOff holds one linkGrp type='alignment' per pair of versions, always the pivot "
    "version against one other; its targFunc names the two versions, pivot first, and every link lists "
    "its targets in that order. A link is one bead: @type is its shape, the number of pivot sentences, "
    "a hyphen, the number of sentences of the other version (1-1, 2-1, 1-2). @cert is a calibrated "
    "probability, written as a decimal in [0,1], that the bead is exactly right; @ana gives its review "
    "status (a category of the taxonomy 'st'), @resp who made it and @change in which run. When a side "
    "holds several sentences, the link points at a ptr type='group' of the same linkGrp whose @target "
    "lists them, and the link carries evaluate='all'. Sentences left unaligned (beads 1-0 or 0-1) are "
    "not links: they are listed by a ptr type='unaligned' whose @subtype is the shape and which carries "
    "@cert, @ana, @resp and @change like a link. Ids of links and ptrs start with the pair "
    "(pivot-other) and the 1-based bead number; the version a sentence belongs to is the prefix of its "
    "id, before the first full stop. A sentence is in at most one link or unaligned ptr of a linkGrp. "
    "A link or ptr with @ana='#st.rejected' keeps a reviewer's verdict: its sentences are not aligned "
    "as it says."
)


def polyalign_version() -> str:
    try:
        return metadata.version("polyalign")
    except metadata.PackageNotFoundError:
        return "0.1.0"


def _el(parent: etree._Element | None, tag: str, text: str | None = None, **attrs: str) -> etree._Element:
    """A TEI element, appended to ``parent`` when given; ``xml_id``/``xml_lang`` map to xml:id/xml:lang."""
    name = f"{{{TEI_NS}}}{tag}"
    el = etree.Element(name, nsmap={None: TEI_NS}) if parent is None else etree.SubElement(parent, name)
    for key, value in attrs.items():
        el.set({"xml_id": XML_ID, "xml_lang": XML_LANG}.get(key, key), value)
    if text is not None:
        el.text = text
    return el


def pair_name(alignment: Alignment) -> str:
    """``nb-en``: names a pair in ids, linkGrps and output files."""
    return f"{alignment.source.name}-{alignment.target.name}"


def versions(alignments: list[Alignment]) -> list[Document]:
    """The pivot, then every other version; checks that the alignments share the pivot and the names."""
    if not alignments:
        raise ValueError("no alignment to write")
    pivot = alignments[0].source
    docs = [pivot]
    for a in alignments:
        if a.source is not pivot and a.source.name != pivot.name:
            raise ValueError(f"all alignments must share the pivot {pivot.name!r}, not {a.source.name!r}")
        if any(a.target.name == d.name for d in docs):
            raise ValueError(f"two versions are named {a.target.name!r}: names must be unique")
        docs.append(a.target)
    for doc in docs:
        ids = [doc.name] + [p.id for p in doc.paragraphs] + [s.id for s in doc.sentences]
        bad = [i for i in ids if not _NCNAME.match(i)]
        if bad:
            raise ValueError(f"{doc.name!r}: {bad[0]!r} is not usable as an xml:id (an NCName, e.g. 'nb.p1.s1')")
    return docs


def _cert(confidence: float) -> str:
    if not 0.0 <= confidence <= 1.0:  # also rejects NaN
        raise ValueError(f"confidence {confidence!r} is not a probability in [0, 1]")
    return f"{confidence:.4f}"


def _header(parent: etree._Element, title: str, authors: list[str]) -> tuple[etree._Element, etree._Element]:
    """teiHeader with titleStmt and publicationStmt; returns (header, fileDesc) for the rest."""
    header = _el(parent, "teiHeader")
    file_desc = _el(header, "fileDesc")
    title_stmt = _el(file_desc, "titleStmt")
    _el(title_stmt, "title", title)
    for author in authors:
        _el(title_stmt, "author", author)
    _el(_el(file_desc, "publicationStmt"), "p", "Unpublished output of polyalign.")
    return header, file_desc


def _authors(metadata: dict[str, str]) -> list[str]:
    """``author`` may name several people, separated by semicolons."""
    return [a.strip() for a in metadata.get("author", "").split(";") if a.strip()]


def _source_bibl(parent: etree._Element, doc: Document) -> None:
    bibl = _el(parent, "bibl")
    _el(bibl, "title", doc.metadata.get("title", doc.name))
    for author in _authors(doc.metadata):
        _el(bibl, "author", author)
    _el(bibl, "idno", doc.source or "unknown", type="file")
    _el(bibl, "textLang", LANGUAGE_NAMES.get(doc.lang, doc.lang), mainLang=doc.lang)
    if doc.metadata.get("source"):
        _el(bibl, "note", doc.metadata["source"], type="source")


@dataclass(frozen=True)
class Run:
    """The write in progress: its revision id, time and, when the corpus was read from an earlier TEI,
    that TEI's corpus header (whose revisions and reviewers it carries on)."""

    id: str
    when: str
    previous: etree._Element | None = None

    @classmethod
    def after(cls, previous: etree._Element | None, when: datetime | None = None) -> "Run":
        stamp = (when or datetime.now(timezone.utc)).replace(microsecond=0).isoformat()
        numbers = [int(m.group(1)) for c in _revisions(previous)
                   if (m := re.fullmatch(r"rv(\d+)", c.get(XML_ID, "")))]
        return cls(f"rv{max(numbers, default=0) + 1}", stamp, previous)


def _revisions(header: etree._Element | None) -> list[etree._Element]:
    return [] if header is None else header.findall(f".//{{{TEI_NS}}}revisionDesc/{{{TEI_NS}}}change")


def _reviewers(header: etree._Element | None) -> list[etree._Element]:
    """The respStmts of an earlier header other than the aligner's: reviewers stay declared."""
    if header is None:
        return []
    return [r for r in header.findall(f"./{{{TEI_NS}}}fileDesc/{{{TEI_NS}}}titleStmt/{{{TEI_NS}}}respStmt")
            if r.get(XML_ID) != ALIGNER]


def _corpus_header(root: etree._Element, alignments: list[Alignment], docs: list[Document], title: str,
                   metadata: dict[str, str], run: Run, joint: "JointAlignment | None" = None) -> None:
    header, file_desc = _header(root, title, _authors(metadata))
    resp = _el(file_desc[0], "respStmt", xml_id=ALIGNER)  # in titleStmt
    _el(resp, "resp", "automatic sentence alignment")
    _el(resp, "name", "polyalign")
    for reviewer in _reviewers(run.previous):
        file_desc[0].append(copy.deepcopy(reviewer))
    source_desc = _el(file_desc, "sourceDesc")
    if metadata.get("source"):
        _el(source_desc, "bibl", metadata["source"], type="corpus")
    for doc in docs:
        _source_bibl(source_desc, doc)

    encoding = _el(header, "encodingDesc")
    app = _el(_el(encoding, "appInfo"), "application", ident="polyalign", version=polyalign_version(),
              when=run.when)
    _el(app, "label", "polyalign")
    for a in alignments:
        settings = ", ".join(f"{k}={v}" for k, v in sorted(a.settings.items())) or "defaults"
        _el(app, "desc", f"{pair_name(a)}: embedding model {a.model or 'unknown'}; settings: {settings}.")
    if joint is not None:
        _el(app, "desc", joint_tei.describe(joint))
    for a in alignments:
        if a.gloss is not None:
            mt = _engine_application(app.getparent(), a.gloss)
            _el(mt, "desc", f"Machine translation of {a.target.name} into {a.gloss.language} (the TEI "
                            f"{gloss_name(a.target)}), used by polyalign as evidence for the {pair_name(a)} links.")
    _el(_el(_el(encoding, "editorialDecl"), "segmentation"), "p",
        "Each p is a paragraph of the input file and each s a sentence found by polyalign's sentence "
        "splitter. The content of an s is exactly the characters of the input between the sentence's "
        "offsets; the whitespace between sentences is not kept (a newline stands for it). A closing list "
        "of footnotes in a plain-text input becomes note elements in back, and each marker such as '(12)' "
        "a ref type='noteAnchor' to its note, the marker's characters kept. A version that was TEI "
        "already keeps its own markup and header: polyalign only added s elements with ids around the "
        "sentences of its blocks.")
    _el(encoding, "p", CONVENTION)
    if joint is not None:
        _el(encoding, "p", joint_tei.CONVENTION)
    taxonomy = _el(_el(encoding, "classDecl"), "taxonomy", xml_id="st")
    for status in Status:
        _el(_el(taxonomy, "category", xml_id=f"st.{status.value}"), "catDesc", STATUS_DESCRIPTIONS[status])

    lang_usage = _el(_el(header, "profileDesc"), "langUsage")
    for lang in dict.fromkeys(d.lang for d in docs):
        _el(lang_usage, "language", LANGUAGE_NAMES.get(lang, lang), ident=lang)
    revisions = _el(header, "revisionDesc")
    for change in _revisions(run.previous):
        revisions.append(copy.deepcopy(change))
    models = ", ".join(dict.fromkeys(a.model or "unknown" for a in alignments))
    glosses = "".join(f" Machine translation of {a.target.name} by {a.gloss.engine} {a.gloss.model} "
                      f"{a.gloss.version} was evidence." for a in alignments if a.gloss is not None)
    _el(revisions, "change", f"Automatic alignment by polyalign {polyalign_version()} with the embedding "
                             f"model {models}.{glosses}", xml_id=run.id, when=run.when, who=f"#{ALIGNER}")


def _bead_record(group: etree._Element, bead: Bead, number: int, pair: str, alignment: Alignment,
                 run: Run) -> None:
    """One bead as a link (with ptr groups for multi-sentence sides) or, if null, an unaligned ptr."""
    for doc, ids in ((alignment.source, bead.source), (alignment.target, bead.target)):
        unknown = [i for i in ids if i not in doc.index]
        if unknown:
            raise ValueError(f"{pair} bead {number}: {unknown[0]!r} is not a sentence of {doc.name!r}")
    bead_id = f"{pair}.b{number}"
    common = dict(cert=_cert(bead.confidence), resp=f"#{bead.resp or ALIGNER}",
                  ana=f"#st.{Status(bead.status).value}", change=f"#{bead.change or run.id}")
    if bead.is_null:
        targets = " ".join(f"#{i}" for i in bead.source + bead.target)
        _el(group, "ptr", xml_id=bead_id, type="unaligned", subtype=bead.shape, target=targets, **common)
        return
    sides = []
    for doc, ids in ((alignment.source, bead.source), (alignment.target, bead.target)):
        if len(ids) == 1:
            sides.append(f"#{ids[0]}")
        else:
            ptr_id = f"{bead_id}.{doc.name}"
            _el(group, "ptr", xml_id=ptr_id, type="group", target=" ".join(f"#{i}" for i in ids))
            sides.append(f"#{ptr_id}")
    evaluate = {"evaluate": "all"} if len(bead.source) > 1 or len(bead.target) > 1 else {}
    _el(group, "link", xml_id=bead_id, type=bead.shape, target=" ".join(sides), **evaluate, **common)


def _member(root: etree._Element, doc: Document, title: str) -> None:
    """One version as a TEI of its own; its xml:id is the version's name, the prefix of its ids."""
    if doc.markup is not None:  # read from TEI: its header and markup go back as they came
        tei = copy.deepcopy(doc.markup)
        tei.set(XML_LANG, doc.lang)
        root.append(tei)
        return
    tei = _el(root, "TEI", xml_lang=doc.lang, xml_id=doc.name)
    _, file_desc = _header(tei, doc.metadata.get("title") or
                           f"{title}: {doc.name} ({LANGUAGE_NAMES.get(doc.lang, doc.lang)})", _authors(doc.metadata))
    _source_bibl(_el(file_desc, "sourceDesc"), doc)
    text = _el(tei, "text")
    body = _el(text, "body")
    notes = {note.label: note for note in doc.notes}
    for paragraph in doc.paragraphs:
        p = _el(body, "p", xml_id=paragraph.id)
        for sentence in paragraph.sentences:
            try:
                _sentence(p, sentence.id, sentence.text, notes).tail = "\n"
            except ValueError as err:  # control characters XML cannot hold
                raise ValueError(f"sentence {sentence.id} cannot be written as XML: {err}") from None
    if not doc.paragraphs:
        _el(body, "p")  # body may not be empty
    if doc.notes:
        div = _el(_el(text, "back"), "div", type="notes")
        for note in doc.notes:
            _el(div, "note", note.text, xml_id=note.id, n=note.label, place="foot")


def gloss_name(doc: Document) -> str:
    """``en-mt``: the name, and id prefix, of the machine-translation layer of version ``en``."""
    return f"{doc.name}-mt"


def _gloss_member(root: etree._Element, doc: Document, gloss: Gloss) -> None:
    """The machine translation of ``doc`` as a TEI of its own, ParlaMint's way: it mirrors the version
    paragraph by paragraph and sentence by sentence, each ``p`` and ``s`` pointing at its original with
    ``corresp``, so that nobody takes machine text for the translator's. (ParlaMint keeps the original ids
    in a separate file; in one corpus ids must be unique, so here they gain the layer's name as prefix.)"""
    name = gloss_name(doc)
    tei = _el(root, "TEI", xml_lang=gloss.language, xml_id=name, type="translation", corresp=f"#{doc.name}")
    _, file_desc = _header(tei, f"Machine translation of {doc.name} into "
                                f"{LANGUAGE_NAMES.get(gloss.language, gloss.language)} ({gloss.engine})", [])
    _el(_el(file_desc, "sourceDesc"), "p", f"Machine translation of the version {doc.name} (#{doc.name}), "
                                           f"sentence by sentence, by {gloss.engine} {gloss.model} {gloss.version}.")
    app = _el(_el(file_desc.getparent(), "encodingDesc"), "appInfo")
    _engine_application(app, gloss)
    body = _el(_el(tei, "text"), "body")
    for number, paragraph in enumerate(doc.paragraphs, 1):
        p = _el(body, "p", xml_id=_layer_id(name, paragraph.id, f"p{number}"), corresp=f"#{paragraph.id}")
        for sentence in paragraph.sentences:
            if sentence.id in gloss.texts:
                _el(p, "s", gloss.texts[sentence.id], xml_id=_layer_id(name, sentence.id, ""),
                    corresp=f"#{sentence.id}").tail = "\n"
        if not len(p):
            body.remove(p)
    if not len(body):
        _el(body, "p")


def _engine_application(app_info: etree._Element, gloss: Gloss) -> etree._Element:
    """An ``application`` for a translation engine. TEI's @version takes only dotted numbers ("0.8.1"), so
    a Debian version ("0.8.1-2") or a pivot's ("1.0+1.0") goes there cut to what fits, and whole into a
    ``label type="version"``, where the reader takes it from."""
    fits = VERSION_NUMBER.match(gloss.version or "")
    app = _el(app_info, "application", ident=gloss.engine, version=fits.group(0) if fits else "0")
    _el(app, "label", gloss.model)
    _el(app, "label", gloss.version or "unknown", type="version")
    return app


VERSION_NUMBER = re.compile(r"\d+[a-z]*\d*(\.\d+[a-z]*\d*){0,3}")


def _layer_id(layer: str, original: str, fallback: str) -> str:
    """``en.p3.s2`` → ``en-mt.p3.s2``: the original id with the layer's name in place of the version's."""
    rest = original.split(".", 1)[1] if "." in original else (fallback or original)
    return f"{layer}.{rest}"


NOTE_MARKER = re.compile(r"\((\d{1,3})\)|\[(\d{1,3})\]")


def _sentence(p: etree._Element, sentence_id: str, text: str, notes: dict[str, object]) -> etree._Element:
    """An ``s`` whose footnote markers ("(12)") are ``ref``s to their notes; its characters stay exactly the
    sentence's, the marker's included."""
    s = _el(p, "s", xml_id=sentence_id)
    last, done = s, 0
    for m in NOTE_MARKER.finditer(text):
        note = notes.get(m.group(1) or m.group(2))
        if note is None:
            continue
        _append_text(last, s, text[done:m.start()])
        last = _el(s, "ref", m.group(0), type="noteAnchor", target=f"#{note.id}")
        done = m.end()
    _append_text(last, s, text[done:])
    return s


def _append_text(last: etree._Element, parent: etree._Element, text: str) -> None:
    """Text after ``last``: its tail, or the parent's text when ``last`` is the parent itself."""
    if last is parent:
        parent.text = (parent.text or "") + text
    else:
        last.tail = (last.tail or "") + text


def build_tei(alignments: list[Alignment], *, title: str | None = None, metadata: dict[str, str] | None = None,
              when: datetime | None = None, previous: etree._Element | None = None,
              rerun: bool = True, joint: "JointAlignment | None" = None) -> etree._Element:
    """The teiCorpus for ``alignments`` (all from the same pivot); ``when`` defaults to now (UTC).

    ``metadata`` describes the corpus (title, author, source); each version's own is its Document's.
    ``previous`` is the corpus header of the TEI the alignments were read from. After a new run of the
    aligner (``rerun``) the header is made afresh, keeping that header's revisions and reviewers and adding
    this run as the next revision. Without one it goes back as it was, so that reading a file and writing
    it again changes nothing.

    With a ``joint`` alignment (``alignments`` are then its pivot views), the standOff holds its one n-ary
    linkGrp instead of one per pair, and the versions follow in the joint alignment's order (``tei.joint``).
    """
    docs = versions(alignments)
    if joint is not None:
        docs = sorted(docs, key=lambda d: joint.position(d.name))
    metadata = {**_corpus_metadata(previous), **(metadata or {})}
    title = title or metadata.get("title") or "Sentence alignment of " + ", ".join(d.name for d in docs)
    root = _el(None, "teiCorpus", xml_lang="en")
    if previous is not None and not rerun:
        run = Run(_revisions(previous)[-1].get(XML_ID), "", previous) if _revisions(previous) else Run.after(None)
        root.append(copy.deepcopy(previous))
    else:
        run = Run.after(previous, when)
        _corpus_header(root, alignments, docs, title, metadata, run, joint)
    stand_off = _el(root, "standOff")
    if joint is not None:
        joint_tei.link_group(stand_off, joint, run.id, _el, _cert, ALIGNER)
    for alignment in alignments if joint is None else []:
        pair = pair_name(alignment)
        group = _el(stand_off, "linkGrp", xml_id=f"ag.{pair}", type="alignment",
                    targFunc=f"{alignment.source.name} {alignment.target.name}")
        for number, bead in enumerate(alignment.beads, 1):
            _bead_record(group, bead, number, pair, alignment, run)
    for doc in docs:
        _member(root, doc, title)
    for alignment in alignments:
        if alignment.gloss is not None:
            _gloss_member(root, alignment.target, alignment.gloss)

    seen: set[str] = set()
    for el in root.iter():
        xml_id = el.get(XML_ID)
        if xml_id in seen:  # libxml2 would refuse the file when it is read back
            raise ValueError(f"duplicate xml:id {xml_id!r}")
        if xml_id:
            seen.add(xml_id)
    return root


def _corpus_metadata(header: etree._Element | None) -> dict[str, str]:
    """Title, authors and source of an earlier corpus header, as ``_corpus_header`` wrote them."""
    if header is None:
        return {}
    file_desc = f"./{{{TEI_NS}}}fileDesc/"
    found = {"title": header.findtext(f"{file_desc}{{{TEI_NS}}}titleStmt/{{{TEI_NS}}}title"),
             "author": "; ".join(a.text or "" for a in header.findall(f"{file_desc}{{{TEI_NS}}}titleStmt/{{{TEI_NS}}}author")),
             "source": header.findtext(f"{file_desc}{{{TEI_NS}}}sourceDesc/{{{TEI_NS}}}bibl[@type='corpus']")}
    return {key: value for key, value in found.items() if value}


def write_tei(alignments: list[Alignment], path: str | os.PathLike, **options) -> None:
    """Write the parallel TEI corpus to ``path`` atomically (all or nothing); ``options`` as for build_tei."""
    root = build_tei(alignments, **options)
    docs = versions(alignments)
    if options.get("joint") is not None:
        docs = sorted(docs, key=lambda d: options["joint"].position(d.name))
    _indent(root, kept=[doc.markup is not None for doc in docs])
    with atomic_write(path, "wb") as handle:
        handle.write(etree.tostring(root, xml_declaration=True, encoding="UTF-8"))
        handle.write(b"\n")


def _indent(root: etree._Element, kept: list[bool]) -> None:
    """Indent what polyalign made; leave the members read from TEI (``kept``, one flag per version in
    order) as they came, since re-indenting mixed content would change the whitespace between inline
    elements."""
    children = list(root)
    versions_ = [c for c in children if c.tag == f"{{{TEI_NS}}}TEI" and c.get("type") != "translation"]
    as_they_came = {member for member, keep in zip(versions_, kept) if keep}
    root.text = "\n  "
    for child in children:
        if child not in as_they_came:
            _indent_around_sentences(child)
        child.tail = "\n  "
    children[-1].tail = "\n"


def _indent_around_sentences(element: etree._Element) -> None:
    """etree.indent, except inside ``s``: there whitespace is the sentence's own (a ``ref`` that ends a
    sentence must not gain a newline after it)."""
    inside = [(el, el.text, el.tail if el.tag != f"{{{TEI_NS}}}s" else None)
              for s in element.iter(f"{{{TEI_NS}}}s") for el in s.iter()]
    etree.indent(element, space="  ", level=1)
    for el, text, tail in inside:
        el.text = text
        if el.tag != f"{{{TEI_NS}}}s":
            el.tail = tail
