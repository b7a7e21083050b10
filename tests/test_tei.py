"""TEI export: valid against tei_all, the shape of notes/tei.md, exact texts, and a checker that catches breakage."""
from __future__ import annotations

import copy
from pathlib import Path

import pytest
from lxml import etree

from polyalign.align.beads import Alignment, Bead, Status
from polyalign.align.document import Document, Paragraph, Sentence
from polyalign.tei import writer
from polyalign.tei.validate import load_schema, validate
from polyalign.tei.writer import build_tei, write_tei

NS = {"t": "http://www.tei-c.org/ns/1.0"}
XML_ID = "{http://www.w3.org/XML/1998/namespace}id"
XML_LANG = "{http://www.w3.org/XML/1998/namespace}lang"


def make_document(name: str, paragraphs: list[list[str]], lang: str | None = None) -> Document:
    """A Document whose offsets are right: sentences joined by a space, paragraphs by a blank line."""
    text, built = "", []
    for p_number, sentences in enumerate(paragraphs, 1):
        text += "\n\n" if text else ""
        p_start, built_sentences = len(text), []
        for s_number, sentence in enumerate(sentences, 1):
            text += " " if s_number > 1 else ""
            built_sentences.append(Sentence(f"{name}.p{p_number}.s{s_number}", sentence, len(text),
                                            len(text) + len(sentence)))
            text += sentence
        built.append(Paragraph(f"{name}.p{p_number}", p_start, len(text), tuple(built_sentences)))
    return Document(lang=lang or name, text=text, paragraphs=built, name=name, source=f"texts/{name}.txt")


def make_alignment(pivot: Document, other: Document, beads: list[tuple]) -> Alignment:
    """Beads given as (pivot sentence suffixes, other suffixes, confidence[, status])."""
    built = [Bead(tuple(f"{pivot.name}.{s}" for s in src), tuple(f"{other.name}.{t}" for t in tgt),
                  score=round(conf * 0.8, 3), confidence=conf, status=rest[0] if rest else Status.AUTO)
             for src, tgt, conf, *rest in beads]
    return Alignment(pivot, other, built, model="intfloat/multilingual-e5-small", settings={"window": 3})


def sample_alignments() -> list[Alignment]:
    """nb as pivot against en (1-1, 1-2, 2-1, 0-1) and es (1-0, 0-1); one confirmed, one rejected bead."""
    nb = make_document("nb", [["Toget var forsinket.", "Vi ventet i en time.", "Ingen sa noe."],
                              ["Så kom det.", "Endelig!"]])
    en = make_document("en", [["The train was late.", "We waited.", "For an hour.", "Nobody said a word."],
                              ["Then it came.", "At last!", "A line the translator added."]])
    es = make_document("es", [["El tren llegó tarde.", "Esperamos una hora.", "Nadie dijo nada."],
                              ["Luego llegó.", '¡Por fin!\tdijo "alguien".']])
    nb_en = make_alignment(nb, en, [
        (["p1.s1"], ["p1.s1"], 0.95, Status.CONFIRMED),
        (["p1.s2"], ["p1.s2", "p1.s3"], 0.61),
        (["p1.s3"], ["p1.s4"], 0.9),
        (["p2.s1", "p2.s2"], ["p2.s1"], 0.5),
        ([], ["p2.s2"], 0.3),
        ([], ["p2.s3"], 0.2),
    ])
    nb_es = make_alignment(nb, es, [
        (["p1.s1"], ["p1.s1"], 0.97),
        (["p1.s2"], ["p1.s2"], 0.9, Status.REJECTED),
        (["p1.s3"], [], 0.4),
        ([], ["p1.s3"], 0.4),
        (["p2.s1"], ["p2.s1"], 0.8),
        (["p2.s2"], ["p2.s2"], 0.12345),
    ])
    return [nb_en, nb_es]


@pytest.fixture(scope="module")
def schema() -> etree.RelaxNG:
    return load_schema()  # compiled once per process (several seconds)


@pytest.fixture(scope="module")
def alignments() -> list[Alignment]:
    return sample_alignments()


@pytest.fixture
def tei_file(tmp_path: Path, alignments: list[Alignment]) -> Path:
    path = tmp_path / "corpus.xml"
    write_tei(alignments, path, title="Toget")
    return path


@pytest.fixture
def root(tei_file: Path) -> etree._Element:
    return etree.parse(str(tei_file)).getroot()


def by_id(root: etree._Element, xml_id: str) -> etree._Element:
    (el,) = root.xpath("//*[@xml:id=$i]", i=xml_id)
    return el


def test_valid_against_tei_all(schema: etree.RelaxNG, tei_file: Path) -> None:
    assert schema.validate(etree.parse(str(tei_file))), str(schema.error_log)


def test_checker_finds_nothing(tei_file: Path, alignments: list[Alignment]) -> None:
    assert validate(tei_file) == []
    assert validate(build_tei(alignments)) == []


def test_corpus_shape(root: etree._Element) -> None:
    assert etree.QName(root).localname == "teiCorpus"
    assert [etree.QName(c).localname for c in root] == ["teiHeader", "standOff", "TEI", "TEI", "TEI"]
    assert [t.get(XML_LANG) for t in root.findall("t:TEI", NS)] == ["nb", "en", "es"]
    groups = root.findall("t:standOff/t:linkGrp", NS)
    assert [(g.get(XML_ID), g.get("type"), g.get("targFunc")) for g in groups] == [
        ("ag.nb-en", "alignment", "nb en"), ("ag.nb-es", "alignment", "nb es")]
    for tei in root.findall("t:TEI", NS):
        assert tei.find("t:teiHeader/t:fileDesc/t:sourceDesc//t:idno", NS).text.startswith("texts/")


def test_corpus_header(root: etree._Element) -> None:
    header = root.find("t:teiHeader", NS)
    assert header.find(".//t:titleStmt/t:title", NS).text == "Toget"
    assert header.find(".//t:titleStmt/t:respStmt", NS).get(XML_ID) == "polyalign"
    app = header.find("t:encodingDesc/t:appInfo/t:application", NS)
    assert app.get("ident") == "polyalign" and app.get("version")
    assert "multilingual-e5-small" in "".join(app.itertext())
    assert header.find("t:encodingDesc/t:editorialDecl/t:segmentation", NS) is not None
    assert "targFunc" in header.find("t:encodingDesc/t:p", NS).text
    categories = header.findall(".//t:taxonomy/t:category", NS)
    assert [c.get(XML_ID) for c in categories] == ["st.auto", "st.confirmed", "st.rejected"]
    assert [l.get("ident") for l in header.findall(".//t:langUsage/t:language", NS)] == ["nb", "en", "es"]
    change = header.find("t:revisionDesc/t:change", NS)
    assert (change.get(XML_ID), change.get("who")) == ("rv1", "#polyalign") and change.get("when")
    assert [b.find("t:idno", NS).text for b in header.findall(".//t:sourceDesc/t:bibl", NS)] == [
        "texts/nb.txt", "texts/en.txt", "texts/es.txt"]


def test_every_bead_is_recorded_with_its_confidence_and_status(root: etree._Element,
                                                               alignments: list[Alignment]) -> None:
    for alignment in alignments:
        pair = f"{alignment.source.name}-{alignment.target.name}"
        for number, bead in enumerate(alignment.beads, 1):
            el = by_id(root, f"{pair}.b{number}")
            assert etree.QName(el).localname == ("ptr" if bead.is_null else "link")
            assert float(el.get("cert")) == pytest.approx(bead.confidence, abs=5e-5)
            assert el.get("ana") == f"#st.{bead.status.value}"
            assert (el.get("resp"), el.get("change")) == ("#polyalign", "#rv1")
    assert by_id(root, "nb-es.b6").get("cert") == "0.1235"


def test_one_to_one_link(root: etree._Element) -> None:
    link = by_id(root, "nb-en.b1")
    assert link.get("target") == "#nb.p1.s1 #en.p1.s1"
    assert link.get("type") == "1-1" and link.get("evaluate") is None
    assert link.get("ana") == "#st.confirmed"
    assert by_id(root, "nb-es.b2").get("ana") == "#st.rejected"


def test_groups_go_through_a_ptr(root: etree._Element) -> None:
    one_two = by_id(root, "nb-en.b2")
    assert (one_two.get("type"), one_two.get("evaluate")) == ("1-2", "all")
    assert one_two.get("target") == "#nb.p1.s2 #nb-en.b2.en"
    assert by_id(root, "nb-en.b2.en").get("target") == "#en.p1.s2 #en.p1.s3"
    two_one = by_id(root, "nb-en.b4")
    assert (two_one.get("type"), two_one.get("evaluate")) == ("2-1", "all")
    assert two_one.get("target") == "#nb-en.b4.nb #en.p2.s1"
    group = by_id(root, "nb-en.b4.nb")
    assert (etree.QName(group).localname, group.get("type")) == ("ptr", "group")
    assert group.get("target") == "#nb.p2.s1 #nb.p2.s2"


def test_unaligned_sentences_are_ptrs(root: etree._Element) -> None:
    for xml_id, shape, target in [("nb-en.b5", "0-1", "#en.p2.s2"), ("nb-es.b3", "1-0", "#nb.p1.s3"),
                                  ("nb-es.b4", "0-1", "#es.p1.s3")]:
        ptr = by_id(root, xml_id)
        assert (ptr.get("type"), ptr.get("subtype"), ptr.get("target")) == ("unaligned", shape, target)
        assert ptr.get("cert") and ptr.get("ana") == "#st.auto"


def test_texts_are_exactly_the_documents(root: etree._Element, alignments: list[Alignment]) -> None:
    docs = [alignments[0].source] + [a.target for a in alignments]
    for tei, doc in zip(root.findall("t:TEI", NS), docs):
        body = tei.find("t:text/t:body", NS)
        assert [p.get(XML_ID) for p in body.findall("t:p", NS)] == [p.id for p in doc.paragraphs]
        sentences = body.findall("t:p/t:s", NS)
        assert [(s.get(XML_ID), s.text) for s in sentences] == [(s.id, s.text) for s in doc.sentences]
        for p in body.findall("t:p", NS):
            assert not (p.text or "").strip() and all(not (s.tail or "").strip() for s in p)
    assert by_id(root, "es.p2.s2").text == '¡Por fin!\tdijo "alguien".'


def test_awkward_texts_survive(tmp_path: Path) -> None:
    nb = make_document("nb", [[" leading space", "a\r\nwrapped line", "<&> ]]>"]])
    en = make_document("en", [["one", "two", "three"]])
    path = tmp_path / "awkward.xml"
    write_tei([make_alignment(nb, en, [(["p1.s1"], ["p1.s1"], 1.0), (["p1.s2"], ["p1.s2"], 0.0),
                                       (["p1.s3"], ["p1.s3"], 0.5)])], path)
    texts = [s.text for s in etree.parse(str(path)).getroot().iterfind(".//t:TEI[1]//t:s", NS)]
    assert texts == [s.text for s in nb.sentences]
    assert validate(path) == []


@pytest.mark.parametrize("problem, message", [
    ("bad id", "not usable as an xml:id"),
    ("confidence", "not a probability"),
    ("unknown sentence", "is not a sentence of"),
    ("other pivot", "share the pivot"),
    ("control character", "cannot be written as XML"),
])
def test_writer_refuses_what_it_cannot_write(problem: str, message: str) -> None:
    nb = make_document("nb", [["Ja.", "Nei."]])
    en = make_document("1en" if problem == "bad id" else "en", [["Yes\x0c." if problem == "control character"
                                                                 else "Yes.", "No."]])
    beads = [(["p1.s1"], ["p1.s1"], 1.2 if problem == "confidence" else 0.9),
             (["p1.s2"], ["p1.s9" if problem == "unknown sentence" else "p1.s2"], 0.9)]
    alignments = [make_alignment(nb, en, beads)]
    if problem == "other pivot":
        alignments.append(make_alignment(make_document("nn", [["Ja."]]), make_document("es", [["Sí."]]),
                                         [(["p1.s1"], ["p1.s1"], 0.9)]))
    with pytest.raises(ValueError, match=message):
        build_tei(alignments)


# --- deliberately broken files ---------------------------------------------------------------------------

def _set(xml_id: str, **attrs: str):
    def change(root: etree._Element) -> None:
        el = by_id(root, xml_id)
        for key, value in attrs.items():
            el.set(key, value)
    return change


def _duplicate_link(root: etree._Element) -> None:
    link = by_id(root, "nb-en.b1")
    twin = copy.deepcopy(link)
    twin.set(XML_ID, "nb-en.extra")
    link.addnext(twin)


def _drop(path: str):
    def change(root: etree._Element) -> None:
        (el,) = root.xpath(path, namespaces=NS)
        el.getparent().remove(el)
    return change


def _rename_sentence(root: etree._Element) -> None:
    by_id(root, "en.p1.s1").set(XML_ID, "xx.p1.s1")
    by_id(root, "nb-en.b1").set("target", "#nb.p1.s1 #xx.p1.s1")


@pytest.mark.parametrize("breakage, rule, fragment", [
    (_set("nb-en.b1", target="#nb.p1.s1 #en.p9.s9"), "dangling-target", "'#en.p9.s9'"),
    (_set("nb-en.b1", target="#nb.p1.s1 other.xml#en.p1.s1"), "dangling-target", "other.xml#en.p1.s1"),
    (_set("nb-en.b3", cert="1.5"), "cert", "'1.5'"),
    (_set("nb-en.b3", cert="high"), "cert", "'high'"),
    (_set("nb-en.b3", target="#nb.p1.s3"), "link-targets", "1 target"),
    (_set("nb-en.b3", ana="#st.maybe"), "undeclared-ana", "'#st.maybe'"),
    (_set("nb-en.b3", ana="#polyalign"), "undeclared-ana", "category"),
    (_set("nb-en.b3", resp="#someone"), "undeclared-resp", "'#someone'"),
    (_set("nb-en.b3", change="#rv2"), "undeclared-change", "'#rv2'"),
    (_duplicate_link, "s-reused", "'nb.p1.s1'"),
    (_set("nb-en.b5", target="#en.p1.s4"), "s-reused", "'en.p1.s4'"),
    (_set("nb-en.b3", cert="very-low"), "relaxng", "cert"),
    (_set("nb-en.b3", target="#nb.p1.s3 #en.p1.s1"), "links-order", "'en'"),
    (_rename_sentence, "s-id", "'xx.p1.s1'"),
    (_drop("/t:teiCorpus/t:teiHeader/t:fileDesc/t:publicationStmt"), "header", "publicationStmt"),
    (_drop("/t:teiCorpus/t:teiHeader/t:fileDesc/t:publicationStmt"), "relaxng", "sourceDesc"),
])
def test_checker_reports_breakage(tmp_path: Path, root: etree._Element, breakage, rule: str,
                                  fragment: str) -> None:
    breakage(root)
    path = tmp_path / "broken.xml"
    etree.ElementTree(root).write(str(path), xml_declaration=True, encoding="UTF-8")
    problems = validate(path)
    matching = [p for p in problems if f": {rule}: " in p]
    assert matching, problems
    assert any(fragment in p for p in matching), matching
    file, line, *_ = matching[0].split(":")
    assert file == str(path) and int(line) > 0
    if rule not in ("relaxng", "header"):  # the header rule restates what tei_all says, plainly
        assert not any(": relaxng: " in p for p in problems)  # tei_all itself lets these through


def test_duplicate_id_is_a_parse_error(tmp_path: Path, tei_file: Path) -> None:
    broken = tmp_path / "dup.xml"
    broken.write_text(tei_file.read_text(encoding="utf-8").replace('xml:id="en.p1.s2"', 'xml:id="en.p1.s1"'),
                      encoding="utf-8")
    (problem,) = validate(broken)
    assert f"{broken}:" in problem and ": xml: " in problem and "en.p1.s1" in problem


def test_failed_write_leaves_nothing(tmp_path: Path, alignments: list[Alignment],
                                     monkeypatch: pytest.MonkeyPatch) -> None:
    path = tmp_path / "corpus.xml"
    path.write_text("previous run", encoding="utf-8")

    def half_written(*args, **kwargs):
        raise OSError("disk full")

    monkeypatch.setattr(writer.etree, "tostring", half_written)
    with pytest.raises(OSError, match="disk full"):
        write_tei(alignments, path)
    assert path.read_text(encoding="utf-8") == "previous run"
    assert [p.name for p in tmp_path.iterdir()] == ["corpus.xml"]


# --- footnotes --------------------------------------------------------------------------------------------

def test_footnote_markers_are_refs_to_notes(tmp_path: Path) -> None:
    """The vraem sample's "(n)" markers point at its 30 notes, in each language; no character is lost."""
    from polyalign.align.segment import segment
    from tests.conftest import SAMPLES

    nb = segment((SAMPLES / "vraem.nb.txt").read_text(encoding="utf-8"), "nb")
    en = segment((SAMPLES / "vraem.en.txt").read_text(encoding="utf-8"), "en")
    assert len(nb.notes) == len(en.notes) == 30
    pairs = [((s.id,), (t.id,)) for s, t in zip(nb.sentences, en.sentences)]
    path = tmp_path / "vraem.xml"
    write_tei([Alignment(nb, en, [Bead(s, t, 0.5, 0.5) for s, t in pairs])], path)
    assert validate(path) == []
    root = etree.parse(str(path)).getroot()
    for doc in (nb, en):
        notes = root.xpath("//t:TEI[@xml:id=$n]/t:text/t:back/t:div[@type='notes']/t:note", n=doc.name,
                           namespaces=NS)
        assert [(n.get("n"), n.text) for n in notes] == [(n.label, n.text) for n in doc.notes]
        for sentence in doc.sentences:
            s = by_id(root, sentence.id)
            assert "".join(s.itertext()) == sentence.text
            assert [r.text for r in s.iter(f"{{{NS['t']}}}ref")] == NOTE_MARKERS.findall(sentence.text)
    ref = by_id(root, "en.p2.s2").find("t:ref", NS)
    assert (ref.text, ref.get("target"), ref.get("type")) == ("(1)", "#en.n1", "noteAnchor")
    assert by_id(root, "en.n1").text.startswith("Óscar Castilla C. and Ralph Zapata")

    ref.set("target", "#en.n99")
    broken = tmp_path / "broken.xml"
    etree.ElementTree(root).write(str(broken), xml_declaration=True, encoding="UTF-8")
    assert any(": dangling-target: " in p and "#en.n99" in p for p in validate(broken))


NOTE_MARKERS = __import__("re").compile(r"\(\d{1,3}\)")
