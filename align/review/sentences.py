"""Segmentation fixes in a version's TEI: split a sentence at a character, join a sentence with the next.

A version read back from TEI is its member ``TEI`` element (``Document.markup``), whose ``s`` elements carry
the sentence ids; the writer puts that markup back as it came. So a fix is made there, on a copy, and the
Document read again from it (``tei.reader.read_member``): not one character of text, note or inline markup is
lost, and ids stay stable. The first part of a split keeps its id (``nb.p1.s3``), the second gets the first
free ``nb.p1.s3.2``, ``nb.p1.s3.3``…: an NCName that starts with the version's name, as ``polyalign
validate`` wants. A join keeps the first sentence's id; the second id goes.
"""
from __future__ import annotations

import copy
import re

from lxml import etree

from polyalign.align.document import Document
from polyalign.align.review.operations import EditError
from polyalign.tei.reader import TEI, XML_ID, read_member, sentence_text


def _counts(child: etree._Element) -> bool:
    """Whether a child's own text is part of the sentence (a note's or a comment's is not)."""
    return isinstance(child.tag, str) and child.tag != f"{TEI}note"


def _find(markup: etree._Element, sentence: str) -> etree._Element:
    for s in markup.iter(f"{TEI}s"):
        if s.get(XML_ID) == sentence:
            return s
    raise EditError(f"there is no sentence {sentence}")


def _free_id(markup: etree._Element, sentence: str) -> str:
    taken = {el.get(XML_ID) for el in markup.iter() if el.get(XML_ID)}
    number = 2
    while f"{sentence}.{number}" in taken:
        number += 1
    return f"{sentence}.{number}"


def split_sentence(doc: Document, sentence: str, offset: int) -> tuple[Document, str]:
    """``doc`` with ``sentence`` cut before its character ``offset`` (counted in the sentence's text, notes
    left out), and the new sentence's id. The whitespace at the cut goes between the two ``s``."""
    markup = copy.deepcopy(doc.markup)
    s = _find(markup, sentence)
    text = sentence_text(s)
    if not text[:offset].strip() or not text[offset:].strip():
        raise EditError(f"splitting {sentence} there would leave an empty sentence")
    second = etree.Element(f"{TEI}s", nsmap=s.nsmap)
    second.set(XML_ID, _free_id(markup, sentence))
    _cut(s, second, offset, sentence)
    gap = _strip_edges(s, second)
    second.tail, s.tail = s.tail, gap
    s.addnext(second)
    return _reread(doc, markup), second.get(XML_ID)


def _cut(s: etree._Element, second: etree._Element, offset: int, sentence: str) -> None:
    """Move everything of ``s`` from ``offset`` on into ``second``."""
    head = s.text or ""
    if offset <= len(head):
        s.text, second.text = head[:offset], head[offset:]
        second.extend(list(s))
        return
    at = len(head)
    children = list(s)
    for k, child in enumerate(children):
        inner = len(sentence_text(child)) if _counts(child) else 0
        if at < offset < at + inner:
            raise EditError(f"{sentence} cannot be split inside its markup ({etree.QName(child).localname})")
        at += inner
        tail = child.tail or ""
        if offset <= at + len(tail):
            child.tail, second.text = tail[:offset - at], tail[offset - at:]
            second.extend(children[k + 1:])
            return
        at += len(tail)
    raise EditError(f"{sentence} has no character {offset}")


def _strip_edges(first: etree._Element, second: etree._Element) -> str:
    """Take the whitespace off the end of ``first`` and the start of ``second``; return it (the gap)."""
    last = first[-1] if len(first) else None
    end = (last.tail if last is not None else first.text) or ""
    trailing = end[len(end.rstrip()):]
    if last is not None:
        last.tail = end.rstrip()
    else:
        first.text = end.rstrip()
    start = second.text or ""
    leading = start[:len(start) - len(start.lstrip())]
    second.text = start.lstrip()
    return trailing + leading


def join_sentences(doc: Document, sentence: str) -> tuple[Document, str]:
    """``doc`` with ``sentence`` and the one after it made one sentence, and the id that went. Both must be in
    the same paragraph (a join across a paragraph break would have to move text between blocks)."""
    position = doc.index.get(sentence)
    if position is None:
        raise EditError(f"there is no sentence {sentence}")
    if position + 1 >= len(doc.sentences):
        raise EditError(f"{sentence} is the last sentence of {doc.name}; there is none to join it with")
    following = doc.sentences[position + 1].id
    markup = copy.deepcopy(doc.markup)
    first, second = _find(markup, sentence), _find(markup, following)
    if first.getparent() is not second.getparent() or first.getnext() is not second:
        raise EditError(f"{sentence} and {following} are in different paragraphs; they cannot be joined")
    gap = " " if re.search(r"\s", first.tail or "") else ""
    last = first[-1] if len(first) else None
    if last is not None:
        last.tail = (last.tail or "") + gap + (second.text or "")
    else:
        first.text = (first.text or "") + gap + (second.text or "")
    first.extend(list(second))
    first.tail = second.tail
    first.getparent().remove(second)
    return _reread(doc, markup), following


def _reread(doc: Document, markup: etree._Element) -> Document:
    fixed = read_member(markup, doc.source or "")
    fixed.metadata, fixed.source = dict(doc.metadata), doc.source
    return fixed
