"""Read a TEI document from elsewhere (ELTeC, DTA, a digital edition) as a Document, keeping its markup.

polyalign's links point at ``s`` elements, so a TEI text needs sentences with ids. This module finds the
text's prose blocks, splits each with the project's sentence splitter and wraps every sentence's stretch
of the tree in an ``s``; apart from those ``s`` and a few ids nothing in the tree changes, and no
character of text or note is lost. The annotated ``TEI`` element becomes the Document's ``markup``, which
``tei.writer`` copies into the parallel corpus as it is. (polyalign's own output, a ``teiCorpus``, is read
back by ``tei.reader`` instead.)

What counts as what:

- **Blocks** are the elements in ``BLOCKS`` (``p``, ``head``, ``ab``, verse ``l``, ``item``, ``cell`` …)
  and any other element holding text of its own, found below ``text`` (front, body, back) but never
  inside ``note``: a note's paragraphs belong to the note, not to the running text. A verse line is a
  block of its own, since an ``s`` may sit inside an ``l`` but not around one. A block holding blocks
  (a ``p`` with a quoted ``lg``) gives a paragraph for each stretch of its own text between them.
- **Sentence text** is a block's text without what stands apart from it (``APART``: notes, forme work,
  gaps, figure descriptions; and the ``sic``/``orig``/``abbr`` of a ``choice``, whose ``corr``/``reg``/
  ``expan`` is read) and without milestones, but with the text of ``hi``, ``emph``, ``foreign`` and
  every other inline element. Runs of XML whitespace
  become one space, so line breaks and indentation of the file do not reach the sentences; ``lb`` and
  ``cb`` count as a space, and a milestone with ``break="no"`` joins the words around it.
- **``s`` placement.** Each ``s`` is a child of its block and spans its sentence's first to last
  character. A note or milestone directly against the sentence (``late.<note/>``) goes in with it; one
  standing in the whitespace between sentences stays between them, as does that whitespace. An inline
  element that crosses a sentence boundary is split in two, the second part with the same attributes
  but no ``xml:id`` (ids must stay unique); whitespace at the edge of an inline element goes into the
  ``s`` with it rather than splitting the element off for a space.
- **Existing ``s`` elements** are taken as sentences as they are, never re-split; they gain an ``xml:id``
  if they lack one (and may have theirs prefixed, see Ids). Text of a block outside them is split as
  usual.
- **Ids.** New sentences get ``{name}.p{n}.s{m}`` (``n`` counts paragraphs through the whole document,
  ``m`` sentences within the paragraph), and a block that is exactly one paragraph gets ``{name}.p{n}``
  unless it has an id already. Ids already in the file are kept, with two exceptions that polyalign's
  conventions force (``tei.validate`` and ``tei.reader`` tell a member and its sentences by them): the
  ``TEI`` element's ``xml:id`` must be the version's name, and every sentence id must start with
  ``{name}.``. So an ELTeC ``<TEI xml:id="ENG18400">`` becomes ``xml:id="en"`` and keeps its old id as
  ``@n`` (if it has no ``@n``), and an existing ``<s xml:id="u1.s3">`` becomes ``en.u1.s3``; pointers
  inside the document (``#ENG18400``, ``#u1.s3`` in any attribute) follow the rename. An id polyalign
  would add that the file already uses elsewhere is an error rather than a duplicate.
- **Language**, first found of: the ``lang`` argument; the ``xml:lang`` of ``text``, else of ``TEI``,
  else the only ``langUsage/language/@ident`` of the header; the file name (``roman.nb.xml``);
  detection on the text. Codes go through ``align.languages.normalise_code``, so ELTeC's ``ENG``,
  ``SPA``, ``NOR`` give ``en``, ``es``, ``nb``: like ``no``, ``nor`` is read as Bokmål, the written
  standard that Norwegian 19th-century Riksmål prose grew into. ``und``, ``mul``, ``zxx`` and ``mis``
  say nothing and are passed over; any other code polyalign cannot use is an error.
"""
from __future__ import annotations

import os
import re
from collections.abc import Callable
from dataclasses import dataclass, field

from lxml import etree

from polyalign.align import languages
from polyalign.align.document import Document, Paragraph, Sentence
from polyalign.align.inputs import InputError, resolve_language
from polyalign.align.segment import split_paragraph

TEI_NS = "http://www.tei-c.org/ns/1.0"
TEI = f"{{{TEI_NS}}}"
XML_ID = "{http://www.w3.org/XML/1998/namespace}id"
XML_LANG = "{http://www.w3.org/XML/1998/namespace}lang"

BLOCKS = frozenset("""
    p ab head l item cell trailer byline dateline salute signed titlePart docAuthor docImprint docEdition
    speaker
""".split())
APART = frozenset("note fw figDesc gap index interp interpGrp".split())
MILESTONES = frozenset("pb lb cb gb milestone anchor".split())
SPACE_MILESTONES = frozenset("lb cb".split())  # a line or column break separates words
ALTERNATIVES = frozenset("sic orig abbr".split())  # in a choice, corr, reg and expan are read instead
NO_LANGUAGE = frozenset("und mul zxx mis".split())  # "undetermined", "multiple", "no linguistic content"
XML_SPACE = " \t\n\r"

# Tokens: a block's content in document order. A character is a 1-character str; everything else a pair.
OPEN, CLOSE = "open", "close"  # start and end of an inline element
ALONE = "alone"  # kept whole and read as no text: notes, milestones, comments
SENT = "sent"  # an ``s`` already in the file: one sentence, kept whole
KEEP = "keep"  # a child holding blocks of its own: ends a paragraph, kept whole
Token = str | tuple[str, etree._Element]


def is_tei_file(path: str | os.PathLike) -> bool:
    """Whether the file's root element is TEI's ``TEI`` (only the file's start is read).

    False for plain text, for other XML and for polyalign's own output (root ``teiCorpus``, see
    ``tei.reader.is_parallel_corpus``); see ``looks_like_xml`` for routing XML that is not TEI.
    """
    try:
        with open(path, "rb") as handle:
            for _, element in etree.iterparse(handle, events=("start",), resolve_entities=False,
                                              no_network=True):
                return element.tag == f"{TEI}TEI"
    except (etree.XMLSyntaxError, OSError):
        return False
    return False


def looks_like_xml(path: str | os.PathLike) -> bool:
    """Whether the file starts like an XML document (a declaration, doctype, comment or start tag).

    For routing: such a file given as a version is meant as markup, and ``read_tei_document`` then says
    plainly why it cannot be used (malformed, not TEI) instead of its tags being aligned as words.
    """
    try:
        with open(path, "rb") as handle:
            start = handle.read(256).removeprefix(b"\xef\xbb\xbf").lstrip()
    except OSError:
        return False
    return re.match(rb"<(\?xml|!DOCTYPE|!--|[A-Za-z_])", start) is not None


def read_tei_document(path: str | os.PathLike, lang: str | None,
                      name: str | Callable[[str], str]) -> Document:
    """The TEI document at ``path`` as a Document whose ``markup`` is its ``TEI`` element with ``s`` added.

    ``lang`` is the language the user gave, or None (see the module docstring for what is tried then).
    ``name`` prefixes the ids; it may be a function of the language found, for callers that number
    versions by language (``en``, ``en2``). Every problem with the file is an ``InputError``.
    """
    root = _parse(path)
    text_element = root.find(f"{TEI}text")
    if text_element is None:
        raise InputError(path, "is a TEI document without a text element")
    collector = _Collector()
    collector.element(text_element)
    runs = collector.runs
    if not runs:
        raise InputError(path, "has no sentences")
    text = "\n\n".join(run.text for run in runs)
    code = _language(path, root, text_element, lang, text)
    version = (name(code) if callable(name) else name) or code
    ids = _Ids(path, {el.get(XML_ID) for el in root.iter(etree.Element) if el.get(XML_ID)})

    paragraphs, offset = [], 0
    for number, run in enumerate(runs, 1):
        paragraphs.append(_paragraph(run, number, version, offset, code, ids))
        offset += len(run.text) + len("\n\n")
    for block in collector.blocks:
        if block.starts:
            _wrap(block)
    if root.get(XML_ID) != version:
        ids.rename(root, version)
        if ids.renamed.get(version) and root.get("n") is None:
            root.set("n", ids.renamed[version])
    ids.repoint(root)
    return Document(lang=code, text=text, paragraphs=paragraphs, name=version, source=str(path),
                    metadata=_metadata(root), markup=root)


def check_distinct_ids(docs: list[Document]) -> None:
    """An InputError if two versions read from TEI use the same ``xml:id``: one corpus cannot hold both.

    Ids polyalign adds start with the version's name and cannot clash; ids that came with the files can
    (two ELTeC texts with a ``div xml:id="ch1"`` each), and ``tei.writer`` would only refuse the whole
    corpus without naming a file.
    """
    seen: dict[str, Document] = {}
    for doc in docs:
        if doc.markup is None:
            continue
        for el in doc.markup.iter(etree.Element):
            xml_id = el.get(XML_ID)
            if xml_id is not None and seen.setdefault(xml_id, doc) is not doc:
                raise InputError(doc.source or doc.name, f"uses the xml:id {xml_id!r}, as does "
                                                        f"{seen[xml_id].source or seen[xml_id].name}; one of "
                                                        "them must be renamed before they can be aligned")


def _parse(path: str | os.PathLike) -> etree._Element:
    parser = etree.XMLParser(resolve_entities="internal", no_network=True)
    try:
        root = etree.parse(str(path), parser).getroot()
    except etree.XMLSyntaxError as err:
        raise InputError(path, f"is not well-formed XML (line {err.lineno}: {' '.join(str(err.msg).split())})"
                         ) from None
    except OSError as err:
        raise InputError(path, f"cannot be read ({err.strerror or err})") from None
    tag = etree.QName(root)
    if tag.text == f"{TEI}TEI":
        return root
    if tag.text == f"{TEI}teiCorpus":
        raise InputError(path, "is a TEI corpus (teiCorpus), not a single TEI document")
    if tag.localname == "TEI":
        raise InputError(path, f"has a TEI root outside the TEI namespace; polyalign reads TEI P5 "
                               f"(xmlns=\"{TEI_NS}\")")
    raise InputError(path, f"is XML but not a TEI document (its root element is {tag.localname!r})")


# --- finding blocks and their text ------------------------------------------------------------------------

@dataclass
class _Block:
    """A block element, its content as tokens, and where the new ``s`` elements open and close."""

    element: etree._Element
    tokens: list[Token]
    starts: dict[int, str] = field(default_factory=dict)  # token index → id of the s opening before it
    ends: set[int] = field(default_factory=set)  # token indices before which an s closes


@dataclass
class _Run:
    """One paragraph: a stretch ``tokens[lo:hi]`` of a block, and its sentence text."""

    block: _Block
    lo: int
    hi: int
    text: str
    where: list[int]  # the token index of each character of ``text``
    fixed: list[tuple[int, int, etree._Element]]  # the existing s elements: their span in ``text``
    whole_block: bool = False  # the run is all of its block, which then stands for the paragraph


class _Collector:
    """Walks ``text`` in document order, collecting its blocks and their paragraphs (runs)."""

    def __init__(self) -> None:
        self.blocks: list[_Block] = []
        self.runs: list[_Run] = []

    def element(self, el: etree._Element) -> None:
        if not isinstance(el.tag, str) or _local(el) in APART or _local(el) in MILESTONES:
            return
        if _is_block(el):
            self.block(el)
        else:
            for child in el:
                self.element(child)

    def block(self, el: etree._Element) -> None:
        tokens: list[Token] = []
        _flatten(el, tokens, top=True)
        block = _Block(el, tokens)
        self.blocks.append(block)
        keeps = [i for i, token in enumerate(tokens) if isinstance(token, tuple) and token[0] == KEEP]
        lo = 0
        for i in [*keeps, len(tokens)]:
            run = _run(block, lo, i)
            if run is not None:
                run.whole_block = not keeps
                self.runs.append(run)
            if i < len(tokens):
                self.element(tokens[i][1])  # its paragraphs come here, in document order
            lo = i + 1


def _local(el: etree._Element) -> str:
    return etree.QName(el).localname if isinstance(el.tag, str) else ""


def _is_block(el: etree._Element) -> bool:
    """A block by name, or any element with text of its own or ``s`` children (say ``quote``, ``div``)."""
    if _local(el) in BLOCKS or (el.text or "").strip():
        return True
    return any((child.tail or "").strip() or _local(child) == "s" for child in el)


def _holds_block(el: etree._Element) -> bool:
    for child in el:
        local = _local(child)
        if local and local not in APART and (local in BLOCKS or _holds_block(child)):
            return True
    return False


def _kind(el: etree._Element, top: bool) -> str | None:
    """How a child is tokenised; None for an inline element, whose content is read."""
    if not isinstance(el.tag, str):  # comment, processing instruction, unresolved entity
        return ALONE
    local = _local(el)
    if local == "s":
        return SENT
    if local in APART or local in MILESTONES:
        return ALONE
    if local in ALTERNATIVES and _local(el.getparent()) == "choice":
        return ALONE
    if top and (local in BLOCKS or _holds_block(el)):
        return KEEP
    return None


def _flatten(el: etree._Element, tokens: list[Token], top: bool) -> None:
    """Append the tokens of ``el``'s content (not of ``el`` itself) to ``tokens``."""
    tokens.extend(el.text or "")
    for child in el:
        kind = _kind(child, top)
        if kind is None:
            tokens.append((OPEN, child))
            _flatten(child, tokens, top=False)
            tokens.append((CLOSE, child))
        else:
            tokens.append((kind, child))
        tokens.extend(child.tail or "")


def _emit(tokens: list[Token], lo: int, hi: int) -> tuple[str, list[int], list[tuple[int, int, etree._Element]]]:
    """The sentence text of ``tokens[lo:hi]``, each character's token index, and the existing s spans."""
    out: list[str] = []
    where: list[int] = []
    fixed = []
    glued = False  # after a break="no" milestone: whitespace is dropped until the next word

    def space(i: int) -> None:
        if out and out[-1] != " " and not glued:
            out.append(" ")
            where.append(i)

    for i in range(lo, hi):
        token = tokens[i]
        if isinstance(token, str):
            if token in XML_SPACE:
                space(i)
            else:
                glued = False
                out.append(token)
                where.append(i)
            continue
        kind, el = token
        if kind == ALONE and _local(el) in MILESTONES:
            if el.get("break") == "no":
                while out and out[-1] == " ":
                    out.pop()
                    where.pop()
                glued = True
            elif _local(el) in SPACE_MILESTONES:
                space(i)
        elif kind == SENT:
            space(i)
            start = len(out)
            out.extend(_plain_text(el))
            where.extend([i] * (len(out) - start))
            fixed.append((start, len(out), el))
            space(i)
    while out and out[-1] == " ":
        out.pop()
        where.pop()
    return "".join(out), where, [(a, min(b, len(out)), el) for a, b, el in fixed]


def _plain_text(el: etree._Element) -> str:
    """An existing ``s``'s sentence text, read like any block's."""
    tokens: list[Token] = []
    _flatten(el, tokens, top=False)
    return _emit(tokens, 0, len(tokens))[0]


def _run(block: _Block, lo: int, hi: int) -> _Run | None:
    text, where, fixed = _emit(block.tokens, lo, hi)
    return _Run(block, lo, hi, text, where, fixed) if text.strip() else None


# --- sentences, ids and the s elements --------------------------------------------------------------------

class _Ids:
    """The ids of the file, so that an id polyalign adds is never a duplicate, and the ids it renamed."""

    def __init__(self, path: str | os.PathLike, taken: set[str]) -> None:
        self.path, self.taken = path, taken
        self.renamed: dict[str, str] = {}  # new id → old id

    def claim(self, xml_id: str) -> str:
        if xml_id in self.taken:
            raise InputError(self.path, f"already uses the xml:id {xml_id!r}, which polyalign would give "
                                        "an element of its own; name the version differently")
        self.taken.add(xml_id)
        return xml_id

    def rename(self, el: etree._Element, xml_id: str) -> None:
        old = el.get(XML_ID)
        el.set(XML_ID, self.claim(xml_id))
        if old is not None:
            self.renamed[xml_id] = old

    def repoint(self, root: etree._Element) -> None:
        """Make ``#old`` pointers in any attribute of the document point at the renamed element."""
        if not self.renamed:
            return
        new = {f"#{old}": f"#{xml_id}" for xml_id, old in self.renamed.items()}
        for el in root.iter(etree.Element):
            for key, value in el.attrib.items():
                if key != XML_ID and "#" in value:
                    tokens = value.split()
                    if any(token in new for token in tokens):
                        el.set(key, " ".join(new.get(token, token) for token in tokens))


def _paragraph(run: _Run, number: int, name: str, offset: int, lang: str, ids: _Ids) -> Paragraph:
    """The run's sentences (existing s as they are, the rest split), with ids; marks where new s go."""
    spans: list[tuple[int, int, etree._Element | None]] = []
    edge = 0
    for a, b, el in [*run.fixed, (len(run.text), len(run.text), None)]:
        if a > edge:
            spans += [(s, e, None) for s, e in split_paragraph(run.text, edge, a, lang)]
        if el is not None and b > a:
            spans.append((a, b, el))
        edge = b
    if run.whole_block:
        block_id = run.block.element.get(XML_ID)
        if block_id is None:
            block_id = ids.claim(f"{name}.p{number}")
            run.block.element.set(XML_ID, block_id)
    else:
        block_id = f"{name}.p{number}"

    sentences, floor = [], run.lo
    for m, (a, b, el) in enumerate(spans, 1):
        if el is not None:
            sentence_id = el.get(XML_ID)
            if sentence_id is None or not sentence_id.startswith(f"{name}."):
                ids.rename(el, f"{name}.{sentence_id}" if sentence_id else f"{name}.p{number}.s{m}")
                sentence_id = el.get(XML_ID)
        else:
            sentence_id = ids.claim(f"{name}.p{number}.s{m}")
            start, end = _bounds(run, run.where[a], run.where[b - 1] + 1, floor)
            run.block.starts[start] = sentence_id
            run.block.ends.add(end)
            floor = end
        sentences.append(Sentence(sentence_id, run.text[a:b], offset + a, offset + b))
    return Paragraph(block_id, offset, offset + len(run.text), tuple(sentences))


def _bounds(run: _Run, start: int, end: int, floor: int) -> tuple[int, int]:
    """Token range of the s for the sentence whose characters are ``tokens[start:end]``.

    It takes in the inline elements that open or close against the sentence, with whitespace between
    (so that ``<hi>late. </hi>`` is not split for its space), and notes and milestones touching it; it
    never reaches back before ``floor``, the end of the previous sentence.
    """
    tokens = run.block.tokens
    j = start - 1
    while j >= max(run.lo, floor):
        token = tokens[j]
        if isinstance(token, str):
            if token not in XML_SPACE:
                break
        elif token[0] == OPEN or (token[0] == ALONE and j == start - 1):
            start = j
        elif token[0] != ALONE:
            break
        j -= 1
    j = end
    while j < run.hi:
        token = tokens[j]
        if isinstance(token, str):
            if token not in XML_SPACE:
                break
        elif token[0] == CLOSE or (token[0] == ALONE and j == end):
            end = j + 1
        elif token[0] != ALONE:
            break
        j += 1
    return start, end


def _wrap(block: _Block) -> None:
    """Rebuild the block's content from its tokens with the new ``s`` elements in place.

    Inline elements open at an ``s`` boundary are closed before it and continued after it in a new
    element with the same attributes but no ``xml:id``; ``_tidy`` then removes parts that hold nothing.
    """
    el, tokens = block.element, block.tokens
    el.text = None
    del el[:]  # the children live on in the tokens and are put back in order
    container = el  # the block, or the s being filled
    open_parts: list[tuple[etree._Element, etree._Element]] = []  # (original, its part now open)
    parts: dict[etree._Element, list[etree._Element]] = {}
    pending: list[str] = []

    def here() -> etree._Element:
        return open_parts[-1][1] if open_parts else container

    def flush() -> None:
        if pending:
            _append_text(here(), "".join(pending))
            pending.clear()

    for i in range(len(tokens) + 1):
        if i in block.ends or i in block.starts:
            flush()
            originals = [original for original, _ in open_parts]
            open_parts.clear()
            container = el
            if i in block.starts:
                container = etree.SubElement(el, f"{TEI}s", {XML_ID: block.starts[i]})
            for original in originals:
                part = etree.SubElement(here(), original.tag,
                                        {k: v for k, v in original.attrib.items() if k != XML_ID})
                open_parts.append((original, part))
                parts[original].append(part)
        if i == len(tokens):
            break
        token = tokens[i]
        if isinstance(token, str):
            pending.append(token)
            continue
        flush()
        kind, node = token
        if kind == OPEN:
            node.text = node.tail = None
            del node[:]
            here().append(node)
            open_parts.append((node, node))
            parts[node] = [node]
        elif kind == CLOSE:
            open_parts.pop()
        else:
            node.tail = None
            here().append(node)
    flush()
    for original, pieces in reversed(parts.items()):  # inner elements first: their parts may empty outer ones
        if len(pieces) > 1:
            _tidy(original, pieces, el)


def _tidy(original: etree._Element, pieces: list[etree._Element], block: etree._Element) -> None:
    """Drop the parts of a split element that hold nothing, and unwrap those holding only the whitespace
    between two sentences; the first part left keeps the original's ``xml:id``."""
    xml_id = original.get(XML_ID)
    kept = []
    for part in pieces:
        empty = not part.text and len(part) == 0
        blank = not (part.text or "").strip(XML_SPACE) and len(part) == 0 and not _inside_s(part, block)
        if empty or blank:
            _unwrap(part)
        else:
            kept.append(part)
    if xml_id is not None and kept and kept[0].get(XML_ID) is None:
        kept[0].set(XML_ID, xml_id)


def _inside_s(el: etree._Element, block: etree._Element) -> bool:
    parent = el.getparent()
    while parent is not None and parent is not block:
        if _local(parent) == "s":
            return True
        parent = parent.getparent()
    return False


def _append_text(el: etree._Element, text: str) -> None:
    if len(el):
        el[-1].tail = (el[-1].tail or "") + text
    else:
        el.text = (el.text or "") + text


def _unwrap(el: etree._Element) -> None:
    """Replace ``el`` by its content; its text and tail go to the neighbours, nothing is lost."""
    parent = el.getparent()
    index = parent.index(el)
    text, tail, children = el.text or "", el.tail or "", list(el)
    if index:
        parent[index - 1].tail = (parent[index - 1].tail or "") + text
    else:
        parent.text = (parent.text or "") + text
    parent.remove(el)  # takes el's tail with it: put back below
    for offset, child in enumerate(children):
        parent.insert(index + offset, child)
    if children:
        children[-1].tail = (children[-1].tail or "") + tail
    elif index:
        parent[index - 1].tail = (parent[index - 1].tail or "") + tail
    else:
        parent.text = (parent.text or "") + tail


# --- language and header ----------------------------------------------------------------------------------

def _language(path: str | os.PathLike, root: etree._Element, text_element: etree._Element, given: str | None,
              text: str) -> str:
    """The version's language: given, declared in the markup, else as for plain text (file name, detection)."""
    declared = None if given else _declared_language(root, text_element)
    if declared:
        code, where = declared
        try:
            return languages.normalise_code(code)
        except languages.LanguageError as err:
            raise InputError(path, f"declares the language {code!r} ({where}), which polyalign cannot use: "
                                   f"{err}; give the language with --lang") from None
    return resolve_language(path, text, given)


def _declared_language(root: etree._Element, text_element: etree._Element) -> tuple[str, str] | None:
    """(code, where it was found) from ``xml:lang`` of ``text`` or ``TEI``, or the header's langUsage."""
    for el, where in ((text_element, "xml:lang of text"), (root, "xml:lang of TEI")):
        code = (el.get(XML_LANG) or "").strip()
        if _says_something(code):
            return code, where
    idents = [(language.get("ident") or "").strip() for language in
              root.iterfind(f"{TEI}teiHeader/{TEI}profileDesc/{TEI}langUsage/{TEI}language")]
    idents = [code for code in idents if _says_something(code)]
    if len(idents) == 1:
        return idents[0], "langUsage of the header"
    return None


def _says_something(code: str) -> bool:
    """False for an empty code, private use (``x-…``) and codes that name no single language."""
    base = code.lower().split("-")[0]
    return bool(base) and base != "x" and base not in NO_LANGUAGE


def _metadata(root: etree._Element) -> dict[str, str]:
    """Title and authors from the file's titleStmt, for the corpus header's source description."""
    stmt = root.find(f"{TEI}teiHeader/{TEI}fileDesc/{TEI}titleStmt")
    if stmt is None:
        return {}
    def words(el: etree._Element | None) -> str:
        return "" if el is None else " ".join("".join(el.itertext()).split())

    authors = [words(author) for author in stmt.findall(f"{TEI}author")]
    found = {"title": words(stmt.find(f"{TEI}title")), "author": "; ".join(a for a in authors if a)}
    return {key: value for key, value in found.items() if value}
