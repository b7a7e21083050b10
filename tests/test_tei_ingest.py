"""TEI from elsewhere (ELTeC-like): sentences found in place, markup and every character kept, valid output.

The fixtures in tests/data/tei_in are one short text in English and in Norwegian Bokmål, encoded the ELTeC
way (``xml:lang="ENG"``/``"NOR"``, a root ``xml:id``, wrapped and indented paragraphs) with a note and a
page break inside sentences, an ``hi`` that crosses a sentence boundary, ``emph``, ``foreign``, verse
lines in a ``quote`` and a page break between paragraphs.
"""
from __future__ import annotations

import copy
import re
from collections import Counter
from pathlib import Path

import pytest
from lxml import etree

from polyalign.align.beads import Alignment, Bead
from polyalign.align.document import Document
from polyalign.align.inputs import InputError
from polyalign.align.pipeline import align_versions
from polyalign.tei.ingest import check_distinct_ids, is_tei_file, looks_like_xml, read_tei_document
from polyalign.tei.validate import validate
from polyalign.tei.writer import write_tei

DATA = Path(__file__).parent / "data" / "tei_in"
EN, NB = DATA / "ferry.en.xml", DATA / "ferry.nb.xml"
TEI = "{http://www.tei-c.org/ns/1.0}"
XML_ID = "{http://www.w3.org/XML/1998/namespace}id"
HEADER = ("<teiHeader><fileDesc><titleStmt><title>T</title></titleStmt><publicationStmt><p>P</p>"
          "</publicationStmt><sourceDesc><p>S</p></sourceDesc></fileDesc></teiHeader>")

EN_SENTENCES = [
    ("en.p1.s1", "PREFACE."),
    ("en.p2.s1", "These pages were written in the winter of 1868, in memoriam of a woman who never missed a boat."),
    ("en.p2.s2", "Every word of them is true, or nearly so."),
    ("en.p3.s1", "CHAPTER I."),
    ("en.p4.s1", "The ferry to Holmestrand left at seven, and Mrs. Ashby was, as usual, the last to come aboard."),
    ("en.p5.s1", "She carried a small basket and a very large umbrella."),
    ("en.p5.s2", "Nobody knew why she needed it on a cloudless morning."),
    ("en.p5.s3", "The captain, who had known her for thirty years, said nothing."),
    ("en.p6.s1", '"You are late again," he said at last.'),
    ("en.p6.s2", '"Again?" she replied.'),
    ("en.p6.s3", '"I am never late, Captain; the boat is simply early."'),
    ("en.p6.s4", "She called it her petite guerre."),
    ("en.p7.s1", "Over the fjord the morning lies,"),
    ("en.p8.s1", "And grey gulls follow where it flies."),
    ("en.p9.s1", "She sat down by the rail and opened her book, a worn copy of Peder Paars."),
    ("en.p9.s2", "By Horten she was asleep."),
]


@pytest.fixture(scope="module")
def en() -> Document:
    return read_tei_document(EN, None, "en")


@pytest.fixture(scope="module")
def nb() -> Document:
    return read_tei_document(NB, None, "nb")


def original(path: Path) -> etree._Element:
    return etree.parse(str(path)).getroot()


def text_content(tei: etree._Element) -> str:
    return "".join(tei.find(f"{TEI}text").itertext())


def write(tmp_path: Path, body: str, lang: str = ' xml:lang="en"', name: str = "doc.xml") -> Path:
    path = tmp_path / name
    path.write_text(f'<TEI xmlns="http://www.tei-c.org/ns/1.0"{lang}>{HEADER}<text><body>{body}</body></text></TEI>',
                    encoding="utf-8")
    return path


def without_notes(el: etree._Element) -> str:
    return (el.text or "") + "".join(("" if child.tag == f"{TEI}note" else without_notes(child)) + (child.tail or "")
                                     for child in el if isinstance(child.tag, str))


def sentences_in_markup(doc: Document) -> dict[str, etree._Element]:
    return {s.get(XML_ID): s for s in doc.markup.iter(f"{TEI}s")}


# --- undoing what ingestion adds, to compare with the original ---------------------------------------------

def unwrap(el: etree._Element) -> None:
    parent, index = el.getparent(), el.getparent().index(el)
    text, tail, children = el.text or "", el.tail or "", list(el)
    if index:
        parent[index - 1].tail = (parent[index - 1].tail or "") + text
    else:
        parent.text = (parent.text or "") + text
    parent.remove(el)
    for offset, child in enumerate(children):
        parent.insert(index + offset, child)
    if children:
        children[-1].tail = (children[-1].tail or "") + tail
    elif index:
        parent[index - 1].tail = (parent[index - 1].tail or "") + tail
    else:
        parent.text = (parent.text or "") + tail


SPLITTABLE = (f"{TEI}hi", f"{TEI}emph")  # the inline elements the fixtures have crossing a sentence boundary


def merge_split_parts(tree: etree._Element) -> None:
    """Join an inline element with the next sibling when that one continues it: same tag, same attributes,
    no xml:id of its own, and nothing but whitespace between (which goes back inside)."""
    for parent in list(tree.iter(etree.Element)):
        i = 0
        while i < len(parent) - 1:
            first, second = parent[i], parent[i + 1]
            rest = {k: v for k, v in first.attrib.items() if k != XML_ID}
            if (first.tag in SPLITTABLE and first.tag == second.tag and dict(second.attrib) == rest
                    and not (first.tail or "").strip()):
                gap = first.tail or ""
                if len(first):
                    first[-1].tail = (first[-1].tail or "") + gap + (second.text or "")
                else:
                    first.text = (first.text or "") + gap + (second.text or "")
                first.extend(list(second))
                first.tail = second.tail
                parent.remove(second)
            else:
                i += 1


def without_additions(tei: etree._Element, kept_ids: set[str], renamed_root: str) -> etree._Element:
    """The tree with the added s unwrapped, added ids removed, the root's id restored, split parts joined."""
    tree = copy.deepcopy(tei)
    for s in list(tree.iter(f"{TEI}s")):
        unwrap(s)
    for el in tree.iter(etree.Element):
        if el.get(XML_ID) is not None and el.get(XML_ID) not in kept_ids:
            del el.attrib[XML_ID]
    if renamed_root:
        tree.set(XML_ID, tree.attrib.pop("n"))
    merge_split_parts(tree)
    return tree


def canonical(el: etree._Element) -> bytes:
    return etree.tostring(copy.deepcopy(el), method="c14n")  # a copy: libxml2 garbles a root with sibling PIs


# --- reading -----------------------------------------------------------------------------------------------

def test_the_sentences_found(en: Document) -> None:
    assert [(s.id, s.text) for s in en.sentences] == EN_SENTENCES
    assert all(en.text[s.start:s.end] == s.text for s in en.sentences)
    assert all(en.text[p.start:p.end] == " ".join(s.text for s in p.sentences) for p in en.paragraphs)
    assert en.text == "\n\n".join(en.text[p.start:p.end] for p in en.paragraphs)
    assert (en.lang, en.name, en.source) == ("en", "en", str(EN))
    assert en.metadata == {"title": "The Morning Ferry : ELTeC-like test edition",
                           "author": "Ashby, Margaret (1831-1902)"}


def test_the_translation_lines_up(nb: Document) -> None:
    assert nb.lang == "nb"  # ELTeC's NOR
    assert [s.id for s in nb.sentences] == [i.replace("en.", "nb.") for i, _ in EN_SENTENCES]
    assert nb.sentences[3].text == "KAPITTEL I."
    assert nb.sentences[7].text == "Kapteinen, som hadde kjent henne i tretti år, sa ingenting."


def test_notes_and_milestones_are_not_sentence_text(en: Document) -> None:
    assert "timetable" not in en.text and "\t" not in en.text and "\n\n" in en.text
    assert "Mrs. Ashby" in en.sentences[4].text


def test_each_sentence_is_an_s_with_its_id(en: Document) -> None:
    found = sentences_in_markup(en)
    assert list(found) == [s.id for s in en.sentences]
    for sentence in en.sentences:
        s = found[sentence.id]
        assert s.getparent().get(XML_ID) in (sentence.id.rsplit(".", 1)[0], "ENG90001_umbrella")
        assert s.find(f".//{TEI}s") is None
        assert " ".join(without_notes(s).split()) == sentence.text


def test_paragraph_ids(en: Document) -> None:
    ids = [p.id for p in en.paragraphs]
    assert ids == ["en.p1", "en.p2", "en.p3", "en.p4", "ENG90001_umbrella", "en.p6", "en.p7", "en.p8", "en.p9"]
    assert [el.get(XML_ID) for el in en.markup.iter(f"{TEI}head", f"{TEI}p", f"{TEI}l")
            if el.getparent().tag != f"{TEI}encodingDesc"] == ids
    assert en.markup.get(XML_ID) == "en" and en.markup.get("n") == "ENG90001"  # the version's name


def test_note_and_page_break_stay_inside_their_sentence(en: Document) -> None:
    found = sentences_in_markup(en)
    assert found["en.p4.s1"].find(f"{TEI}note").get("n") == "1"
    assert found["en.p5.s3"].find(f"{TEI}pb").get("n") == "2"
    between = en.markup.find(f".//{TEI}pb[@n='3']")
    assert between.getparent().tag == f"{TEI}div"  # a page break between paragraphs stays there


def test_an_element_crossing_a_boundary_is_split(en: Document) -> None:
    found = sentences_in_markup(en)
    first, second = (found[i].find(f"{TEI}hi") for i in ("en.p5.s1", "en.p5.s2"))
    assert (first.text, second.text.split()) == ("very large umbrella.", ["Nobody", "knew"])
    assert first.attrib == second.attrib == {"rend": "italic"}
    assert found["en.p5.s1"].tail == " "  # the space between the sentences is between the s elements


# --- nothing lost ------------------------------------------------------------------------------------------

@pytest.mark.parametrize("path, fixture", [(EN, "en"), (NB, "nb")])
def test_nothing_is_lost(path: Path, fixture: str, request) -> None:
    doc: Document = request.getfixturevalue(fixture)
    before = original(path)
    assert text_content(doc.markup) == text_content(before)
    assert canonical(doc.markup.find(f"{TEI}teiHeader")) == canonical(before.find(f"{TEI}teiHeader"))

    kept = {el.get(XML_ID) for el in before.iter(etree.Element) if el.get(XML_ID)}
    restored = without_additions(doc.markup, kept, renamed_root=before.get(XML_ID))
    merge_split_parts(before)
    assert canonical(restored) == canonical(before)

    added = Counter(etree.QName(el).localname for el in doc.markup.iter(etree.Element))
    added.subtract(etree.QName(el).localname for el in original(path).iter(etree.Element))
    assert +added == Counter(s=len(doc.sentences), hi=1)  # the s, and one hi split in two


MARKUP_CASES = {
    "verse inside a paragraph": (
        "<p>He sang: <lg><l>A line,</l><l>another.</l></lg> and left. Then more.</p>",
        ["He sang:", "A line,", "another.", "and left.", "Then more."]),
    "corrections and line breaks": (
        '<p>It was <choice><sic>teh</sic><corr>the</corr></choice> end. Half-<lb break="no"/>\n   way there. '
        "Line<lb/>break.</p>",
        ["It was the end.", "Half-way there.", "Line break."]),
    "note and comment against a stop": (
        "<p>End here.<note>n1</note> Next one.<!-- c --> Third <hi>one. </hi>Fourth.</p>",
        ["End here.", "Next one.", "Third one.", "Fourth."]),
    "an element with an id over three sentences": (
        '<p><hi xml:id="h1" rend="b">First one. Second <note>x</note> two. Third.</hi> After.</p>',
        ["First one.", "Second two.", "Third.", "After."]),
    "whitespace inside an element at a sentence's edges": (
        "<p>One.<hi> Two. </hi>Three.</p>", ["One.", "Two.", "Three."]),
    "nested inline elements": (
        "<p><hi><emph>Deep one. Deep two.</emph> tail</hi> end.</p>", ["Deep one.", "Deep two. tail end."]),
    "a quotation with text of its own": (
        "<div><head>Title</head><quote>Direct text here. And more.<p>Inner para.</p></quote></div>",
        ["Title", "Direct text here.", "And more.", "Inner para."]),
    "lists and tables": (
        "<list><item>First item. <p>Para in item.</p></item></list>"
        "<table><row><cell>Cell one. Cell two.</cell></row></table>",
        ["First item.", "Para in item.", "Cell one.", "Cell two."]),
    "notes with paragraphs are not text": (
        '<p>Body text.<note place="end"><p>A note paragraph.</p></note></p><note><p>Stray note.</p></note>',
        ["Body text."]),
}


@pytest.mark.parametrize("body, expected", MARKUP_CASES.values(), ids=MARKUP_CASES.keys())
def test_markup_cases(tmp_path: Path, body: str, expected: list[str]) -> None:
    path = write(tmp_path, body)
    doc = read_tei_document(path, None, "en")
    assert [s.text for s in doc.sentences] == expected
    assert text_content(doc.markup) == text_content(original(path))
    assert doc.markup.find(f".//{TEI}s//{TEI}s") is None
    assert list(sentences_in_markup(doc)) == [s.id for s in doc.sentences]
    restored = without_additions(doc.markup, {"h1"}, renamed_root="")
    before = original(path)
    merge_split_parts(before)
    assert canonical(restored) == canonical(before)


def test_markup_cases_give_valid_members(tmp_path: Path) -> None:
    """s inside l, head, quote, item, cell, with notes, milestones and split elements inside: all valid."""
    body = "".join(sorted((body for body, _ in MARKUP_CASES.values()), key=lambda b: b.startswith("<div")))
    one = read_tei_document(write(tmp_path, body, name="one.xml"), None, "en")
    two = read_tei_document(write(tmp_path, body.replace('"h1"', '"h2"'), name="two.xml"), None, "en2")
    beads = [Bead((a.id,), (b.id,), score=0.5, confidence=0.9) for a, b in zip(one.sentences, two.sentences)]
    write_tei([Alignment(one, two, beads, model="none")], tmp_path / "out.xml")
    check_written(tmp_path / "out.xml", [one, two])


def test_notes_and_milestones_go_with_the_sentence_they_touch(tmp_path: Path) -> None:
    path = write(tmp_path, '<p>One.<note>a</note> <pb n="1"/> <note>b</note>Two.<lb/></p>')
    p = read_tei_document(path, None, "en").markup.find(f".//{TEI}body/{TEI}p")
    assert [(etree.QName(el).localname, el.get(XML_ID) or el.text or el.get("n")) for el in p] == [
        ("s", "en.p1.s1"), ("pb", "1"), ("s", "en.p1.s2")]
    assert [note.text for note in p[0]] == ["a"] and [etree.QName(el).localname for el in p[2]] == ["note", "lb"]


def test_only_whitespace_stands_between_sentences(tmp_path: Path) -> None:
    path = write(tmp_path, "<p><hi><emph>Deep one.\n Deep two.</emph> tail</hi> end.</p>")
    p = read_tei_document(path, None, "en").markup.find(f".//{TEI}body/{TEI}p")
    assert etree.tostring(p, encoding="unicode", with_tail=False).replace(f' xmlns="{TEI[1:-1]}"', "") == (
        '<p xml:id="en.p1"><s xml:id="en.p1.s1"><hi><emph>Deep one.</emph></hi></s>\n '
        '<s xml:id="en.p1.s2"><hi><emph>Deep two.</emph> tail</hi> end.</s></p>')


def test_a_split_element_keeps_its_id_on_the_first_part(tmp_path: Path) -> None:
    path = write(tmp_path, '<p><hi xml:id="h1" rend="b">First one. Second two.</hi></p>')
    parts = read_tei_document(path, None, "en").markup.findall(f".//{TEI}hi")
    assert [(hi.get(XML_ID), hi.get("rend"), hi.text) for hi in parts] == [
        ("h1", "b", "First one."), (None, "b", "Second two.")]


def test_existing_sentences_are_kept(tmp_path: Path) -> None:
    path = write(tmp_path, '<p><s>One. Still one.</s> Two. Three.<s xml:id="u1.s5">Four.</s></p>'
                           '<p><s xml:id="en.x">Five.</s><note><ref target="#u1.s5">see</ref></note></p>')
    doc = read_tei_document(path, None, "en")
    assert [(s.id, s.text) for s in doc.sentences] == [
        ("en.p1.s1", "One. Still one."), ("en.p1.s2", "Two."), ("en.p1.s3", "Three."),
        ("en.u1.s5", "Four."), ("en.x", "Five.")]
    assert doc.markup.find(f".//{TEI}ref").get("target") == "#en.u1.s5"  # pointers follow the rename
    assert len(list(doc.markup.iter(f"{TEI}s"))) == 5


# --- language ------------------------------------------------------------------------------------------------

@pytest.mark.parametrize("declared, expected", [
    (' xml:lang="SPA"', "es"), (' xml:lang="ENG"', "en"), (' xml:lang="NOR"', "nb"), (' xml:lang="no"', "nb"),
    (' xml:lang="nb-NO"', "nb"), (' xml:lang="und"', "en"), ("", "en")])
def test_language_from_the_markup(tmp_path: Path, declared: str, expected: str) -> None:
    body = "<p>The train was late, and nobody on the platform said a word about it.</p>"
    if expected == "es":
        body = "<p>El tren llegó tarde y nadie en el andén dijo una palabra.</p>"
    elif expected == "nb":
        body = "<p>Toget var forsinket, og ingen på perrongen sa et ord om det.</p>"
    assert read_tei_document(write(tmp_path, body, declared), None, "x").lang == expected


def test_the_text_element_and_the_given_language_come_first(tmp_path: Path) -> None:
    path = tmp_path / "doc.xml"
    path.write_text(f'<TEI xmlns="http://www.tei-c.org/ns/1.0" xml:lang="en">{HEADER}<text xml:lang="spa"><body>'
                    "<p>El tren llegó tarde.</p></body></text></TEI>", encoding="utf-8")
    assert read_tei_document(path, None, "x").lang == "es"
    assert read_tei_document(path, "nb", "x").lang == "nb"


def test_the_name_may_depend_on_the_language(tmp_path: Path) -> None:
    doc = read_tei_document(write(tmp_path, "<p>One. Two.</p>", ' xml:lang="ENG"'), None, lambda code: code + "2")
    assert (doc.name, doc.sentences[1].id, doc.markup.get(XML_ID)) == ("en2", "en2.p1.s2", "en2")


@pytest.mark.parametrize("declared, given, message", [
    (' xml:lang="grc"', None, "declares the language 'grc' (xml:lang of TEI), which polyalign cannot use"),
    (' xml:lang="en"', "xx", "'xx' is not a language code"),
])
def test_unusable_languages(tmp_path: Path, declared: str, given: str | None, message: str) -> None:
    path = write(tmp_path, "<p>Text.</p>", declared)
    with pytest.raises(InputError, match=re.escape(message)):
        read_tei_document(path, given, "x")


# --- bad input -----------------------------------------------------------------------------------------------

@pytest.mark.parametrize("content, problem", [
    ('<TEI xmlns="http://www.tei-c.org/ns/1.0"><text><body><p>Open</body></text></TEI>', "is not well-formed XML"),
    ("<html><body><p>Hello.</p></body></html>", "is XML but not a TEI document (its root element is 'html')"),
    ("<TEI><text><body><p>Hello.</p></body></text></TEI>", "has a TEI root outside the TEI namespace"),
    ('<teiCorpus xmlns="http://www.tei-c.org/ns/1.0"/>', "is a TEI corpus"),
    (f'<TEI xmlns="http://www.tei-c.org/ns/1.0">{HEADER}</TEI>', "is a TEI document without a text element"),
    (f'<TEI xmlns="http://www.tei-c.org/ns/1.0" xml:lang="en">{HEADER}<text><body><p> </p><pb n="1"/>'
     "<note><p>Only a note.</p></note></body></text></TEI>", "has no sentences"),
])
def test_bad_input_is_one_line_naming_the_file(tmp_path: Path, content: str, problem: str) -> None:
    path = tmp_path / "bad.xml"
    path.write_text(content, encoding="utf-8")
    with pytest.raises(InputError) as caught:
        read_tei_document(path, None, "en")
    message = str(caught.value)
    assert message.startswith(f"{path}: {problem}") and "\n" not in message


def test_an_id_polyalign_needs_that_the_file_uses(tmp_path: Path) -> None:
    path = write(tmp_path, '<p>One.</p><p><hi xml:id="en.p1.s1">Two.</hi></p>')
    with pytest.raises(InputError, match="already uses the xml:id 'en.p1.s1'"):
        read_tei_document(path, None, "en")


def test_telling_tei_files_apart(tmp_path: Path) -> None:
    plain, html, corpus = tmp_path / "a.txt", tmp_path / "b.xml", tmp_path / "c.xml"
    plain.write_text("<3 The train was late.\n", encoding="utf-8")
    html.write_text("<?xml version='1.0'?>\n<html/>", encoding="utf-8")
    corpus.write_text('<teiCorpus xmlns="http://www.tei-c.org/ns/1.0"/>', encoding="utf-8")
    assert is_tei_file(EN) and is_tei_file(NB)
    assert not any(is_tei_file(p) for p in (plain, html, corpus, tmp_path / "missing.xml"))
    assert looks_like_xml(EN) and looks_like_xml(html) and not looks_like_xml(plain)


def test_two_versions_may_not_share_an_id(tmp_path: Path) -> None:
    one = read_tei_document(write(tmp_path, '<div xml:id="ch1"><p>One.</p></div>', name="one.xml"), None, "en")
    two = read_tei_document(write(tmp_path, '<div xml:id="ch1"><p>Ein.</p></div>', name="two.xml"), "de", "de")
    with pytest.raises(InputError, match="two.xml: uses the xml:id 'ch1', as does .*one.xml"):
        check_distinct_ids([one, two])
    check_distinct_ids([one])


# --- end to end ----------------------------------------------------------------------------------------------

def check_written(path: Path, docs: list[Document]) -> None:
    assert validate(path) == []
    members = {tei.get(XML_ID): tei for tei in etree.parse(str(path)).getroot().iter(f"{TEI}TEI")}
    for doc in docs:
        assert text_content(members[doc.name]) == text_content(original(Path(doc.source)))


def test_written_corpus_is_valid_and_keeps_every_character(tmp_path: Path, en: Document, nb: Document) -> None:
    beads = [Bead((a.id,), (b.id,), score=0.5, confidence=0.9) for a, b in zip(en.sentences, nb.sentences)]
    out = tmp_path / "ferry.tei.xml"
    write_tei([Alignment(en, nb, beads, model="none")], out)
    check_written(out, [en, nb])


def test_aligned_by_the_model(tmp_path: Path, encoder, en: Document, nb: Document) -> None:
    [alignment] = align_versions([en, nb], encoder)
    diagonal = [(b.source, b.target) for b in alignment.beads
                if [s.split(".", 1)[1] for s in b.source] == [t.split(".", 1)[1] for t in b.target]]
    assert len(diagonal) >= len(en.sentences) - 2
    out = tmp_path / "ferry.tei.xml"
    write_tei([alignment], out)
    check_written(out, [en, nb])
