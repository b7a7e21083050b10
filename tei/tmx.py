"""TMX 1.4b translation memories, for CAT tools (OmegaT, Trados Studio, memoQ) and translate-toolkit.

Memories are bilingual in practice: Trados and memoQ import one language pair, and translate-toolkit keeps
only the first two ``tuv``s of a ``tu``. So every pair, pivot against one other version, gets its own file
(``OUT.nb-en.tmx``, ``OUT.nb-es.tmx``; with one pair, OUT itself); ``multilingual=True`` makes OUT the memory
with every language and names the pair memories as for several pairs (``tei.outputs`` has the rule).

What becomes a translation unit (``tu``): a bead that links sentences on both sides and that no reviewer
rejected; with ``confirmed_only``, only beads a reviewer confirmed. Null beads (1-0, 0-1) have nothing to
translate, and a rejected bead is known to be wrong. The sentences of one side of an n:m bead are joined with
a space in one ``seg`` (plain text, TMX level 1). Each ``tu`` carries the bead's link id as the TEI writer
names it (``nb-en.b4``) and its calibrated confidence and review status as ``prop``s; each ``tuv`` lists
its sentence ids, so a unit can be traced back to the TEI.

The multilingual file joins the pairs on the pivot: a ``tu`` for each pivot span (the pivot sentences of a
bead) that *every* pair links as one usable bead, holding every language. A span that the pairs cut
differently (nb 1-2 against en, but 1-1 + 1-1 against es) has no single unit that is right for all
languages; it stays in the pair files only. Units then never overlap and always hold every language, so a
tool may pick any two. Per-pair score, status and link id go on the ``tuv`` of that pair's version.

Language tags default to each document's ``lang``; ``languages`` overrides them per version name, since
tools disagree (``nb``, ``nb-NO``, ``no``).
"""
from __future__ import annotations

import os
import re
from collections.abc import Iterable, Mapping, Sequence
from datetime import datetime, timezone
from pathlib import Path

from lxml import etree

from polyalign.align.atomic import atomic_write_all
from polyalign.align.beads import Alignment, Bead, Status
from polyalign.align.document import Document
from polyalign.tei.outputs import plan
from polyalign.tei.writer import pair_name, polyalign_version, versions

XML_LANG = "{http://www.w3.org/XML/1998/namespace}lang"

# A BCP 47 tag, loosely: a 2–8 letter primary subtag, then subtags of 1–8 letters or digits (nb-NO, zh-Hant-TW).
_TAG = re.compile(r"[A-Za-z]{2,8}(-[A-Za-z0-9]{1,8})*\Z")


def parse_languages(values: Iterable[str]) -> dict[str, str]:
    """``--tmx-lang`` values (``nb=nb-NO``) as {version name: tag}; a ValueError says what is wrong in one line."""
    tags: dict[str, str] = {}
    for value in values:
        name, sep, tag = value.partition("=")
        name, tag = name.strip(), tag.strip()
        if not sep or not name or not tag:
            raise ValueError(f"--tmx-lang {value!r} is not NAME=TAG (e.g. nb=nb-NO)")
        if not _TAG.match(tag):
            raise ValueError(f"--tmx-lang {value!r}: {tag!r} is not a language tag (BCP 47, e.g. nb-NO)")
        if name in tags:
            raise ValueError(f"--tmx-lang gives a tag for {name!r} twice")
        tags[name] = tag
    return tags


def language_tags(docs: Sequence[Document], languages: Mapping[str, str] | None = None) -> dict[str, str]:
    """Version name → the tag its ``tuv``s carry: ``languages[name]`` if given, else the document's ``lang``."""
    languages = dict(languages or {})
    names = [d.name for d in docs]
    unknown = [name for name in languages if name not in names]
    if unknown:
        raise ValueError(f"--tmx-lang names {unknown[0]!r}, which is not one of the versions "
                         f"({', '.join(names)})")
    return {d.name: languages.get(d.name, d.lang) for d in docs}


def _usable(bead: Bead, confirmed_only: bool) -> bool:
    """Whether a bead is a translation unit (see the module docstring)."""
    status = Status(bead.status)
    if bead.is_null or status is Status.REJECTED:
        return False
    return status is Status.CONFIRMED or not confirmed_only


def _score(confidence: float) -> str:
    if not 0.0 <= confidence <= 1.0:  # also rejects NaN
        raise ValueError(f"confidence {confidence!r} is not a probability in [0, 1]")
    return f"{confidence:.4f}"


def _root(srclang: str, when: datetime) -> tuple[etree._Element, etree._Element]:
    """``tmx`` with its header; returns (root, body)."""
    root = etree.Element("tmx", version="1.4")
    etree.SubElement(root, "header", {
        "creationtool": "polyalign", "creationtoolversion": polyalign_version(), "segtype": "sentence",
        "o-tmf": "polyalign", "adminlang": "en", "srclang": srclang, "datatype": "plaintext",
        "creationdate": when.astimezone(timezone.utc).strftime("%Y%m%dT%H%M%SZ")})
    return root, etree.SubElement(root, "body")


def _prop(parent: etree._Element, kind: str, value: str) -> None:
    etree.SubElement(parent, "prop", type=kind).text = value


def _tuv(tu: etree._Element, tag: str, doc: Document, ids: tuple[str, ...], where: str,
         props: Sequence[tuple[str, str]] = ()) -> None:
    """One language of a unit: props (sentence ids first), then the sentences joined with a space."""
    unknown = [i for i in ids if i not in doc.index]
    if unknown:
        raise ValueError(f"{where}: {unknown[0]!r} is not a sentence of {doc.name!r}")
    tuv = etree.SubElement(tu, "tuv", {XML_LANG: tag})
    _prop(tuv, "x-sentence-ids", " ".join(ids))
    for kind, value in props:
        _prop(tuv, kind, value)
    try:
        etree.SubElement(tuv, "seg").text = " ".join(doc.sentences[doc.index[i]].text for i in ids)
    except ValueError as err:  # control characters XML cannot hold
        raise ValueError(f"{where} cannot be written as XML: {err}") from None


def build_pair(alignment: Alignment, tags: Mapping[str, str], *, confirmed_only: bool = False,
               when: datetime | None = None) -> etree._Element:
    """The bilingual memory of one pair: one ``tu`` per usable bead, the pivot's ``tuv`` first."""
    source, target = alignment.source, alignment.target
    root, body = _root(tags[source.name], when or datetime.now(timezone.utc))
    pair = pair_name(alignment)
    for number, bead in enumerate(alignment.beads, 1):
        if not _usable(bead, confirmed_only):
            continue
        link = f"{pair}.b{number}"
        tu = etree.SubElement(body, "tu", tuid=link)
        _prop(tu, "x-alignment-score", _score(bead.confidence))
        _prop(tu, "x-alignment-status", Status(bead.status).value)
        _tuv(tu, tags[source.name], source, bead.source, link)
        _tuv(tu, tags[target.name], target, bead.target, link)
    return root


def build_multilingual(alignments: list[Alignment], tags: Mapping[str, str], *, confirmed_only: bool = False,
                       when: datetime | None = None) -> etree._Element:
    """One ``tu`` per pivot span that every pair links as one usable bead (see the module docstring);
    ``tuid`` is the span's pivot sentence ids joined with ``+``."""
    pivot = alignments[0].source
    root, body = _root(tags[pivot.name], when or datetime.now(timezone.utc))
    by_span = [{bead.source: (f"{pair_name(a)}.b{number}", bead)
                for number, bead in enumerate(a.beads, 1) if _usable(bead, confirmed_only)}
               for a in alignments]
    for span in by_span[0]:  # in pivot order; a span every pair shares is in the first pair's
        if not all(span in spans for spans in by_span[1:]):
            continue
        tuid = "+".join(span)
        tu = etree.SubElement(body, "tu", tuid=tuid)
        _tuv(tu, tags[pivot.name], pivot, span, tuid)
        for alignment, spans in zip(alignments, by_span):
            link, bead = spans[span]
            _tuv(tu, tags[alignment.target.name], alignment.target, bead.target, link,
                 props=[("x-link", link), ("x-alignment-score", _score(bead.confidence)),
                        ("x-alignment-status", Status(bead.status).value)])
    return root


def write_tmx(alignments: list[Alignment], path: str | os.PathLike, *, languages: Mapping[str, str] | None = None,
              confirmed_only: bool = False, multilingual: bool = False, when: datetime | None = None) -> None:
    """Write the memories that ``tei.outputs.plan`` names, all or none (all are built before any is written).

    ``languages`` maps version names to tags (see ``language_tags``); ``when`` is the creation date (now)."""
    docs = versions(alignments)
    tags = language_tags(docs, languages)
    files = plan(path, [d.name for d in docs], "tmx", multilingual=multilingual)
    when = when or datetime.now(timezone.utc)
    roots = [build_pair(a, tags, confirmed_only=confirmed_only, when=when) for a in alignments]
    if multilingual:
        roots.append(build_multilingual(alignments, tags, confirmed_only=confirmed_only, when=when))
    _write_all(zip([*files.pairs, *([files.whole] if multilingual else [])], roots))



def _write_all(files: Iterable[tuple[Path, etree._Element]]) -> None:
    atomic_write_all((path, etree.tostring(root, xml_declaration=True, encoding="UTF-8", pretty_print=True))
                     for path, root in files)