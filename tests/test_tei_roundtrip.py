"""Reading polyalign's TEI back: nothing changes on a read-and-write, and a re-alignment keeps what a
reviewer confirmed, who confirmed it and when, as fixed anchors."""
from __future__ import annotations

import random
from dataclasses import replace
from pathlib import Path

import pytest
from lxml import etree

from polyalign.align.beads import Alignment, Bead, Status
from polyalign.align.pipeline import align_versions, read_inputs, read_versions
from polyalign.tei.reader import read_corpus
from polyalign.tei.validate import validate
from polyalign.tei.writer import TEI_NS, write_tei
from tests.conftest import SAMPLES
from tests.test_tei import make_alignment, make_document, sample_alignments

NS = {"t": TEI_NS}


def canonical(path: Path) -> bytes:
    return etree.tostring(etree.parse(str(path)), method="c14n2")


def write_read_write(alignments: list[Alignment], tmp_path: Path, **options) -> tuple[Path, Path]:
    first, second = tmp_path / "first.xml", tmp_path / "second.xml"
    write_tei(alignments, first, **options)
    corpus = read_corpus(first)
    write_tei(corpus.alignments, second, previous=corpus.header, rerun=False)
    return first, second


def test_read_and_write_again_changes_nothing(tmp_path: Path) -> None:
    first, second = write_read_write(sample_alignments(), tmp_path, title="Toget")
    assert canonical(first) == canonical(second)


def test_what_is_read_is_what_was_written(tmp_path: Path) -> None:
    written = sample_alignments()
    path = tmp_path / "corpus.xml"
    write_tei(written, path)
    read = read_corpus(path).alignments
    for before, after in zip(written, read):
        assert [s.id for s in after.source.sentences] == [s.id for s in before.source.sentences]
        assert [s.text for s in after.target.sentences] == [s.text for s in before.target.sentences]
        assert [p.id for p in after.target.paragraphs] == [p.id for p in before.target.paragraphs]
        assert [(b.source, b.target, Status(b.status)) for b in after.beads] == \
               [(b.source, b.target, Status(b.status)) for b in before.beads]
        assert [b.confidence for b in after.beads] == pytest.approx([b.confidence for b in before.beads], abs=5e-5)
        assert all(b.resp == "polyalign" and b.change == "rv1" and b.score is None for b in after.beads)
        assert after.model == before.model
        for doc in (after.source, after.target):
            assert all(doc.text[s.start:s.end] == s.text for s in doc.sentences)


def test_round_trip_of_a_long_document(tmp_path: Path) -> None:
    """5,000 sentences a side, beads of every shape: the file comes back byte for byte (canonically)."""
    rng = random.Random(7)
    shapes = [(1, 1)] * 8 + [(1, 2), (2, 1), (2, 2), (1, 0), (0, 1), (1, 3)]
    beads, i, j = [], 0, 0
    while i < 5000 and j < 5000:
        a, b = rng.choice(shapes)
        a, b = min(a, 5000 - i), min(b, 5000 - j)
        beads.append(([i + k for k in range(a)], [j + k for k in range(b)], round(rng.random(), 4),
                      rng.choice(list(Status))))
        i, j = i + a, j + b
    beads += [([k], [], 0.3) for k in range(i, 5000)] + [([], [k], 0.3) for k in range(j, 5000)]

    def doc(name: str, count: int):
        words = ["elv", "fjell", "sti", "by", "natt", "regn"]
        sentences = [f"{rng.choice(words).capitalize()} {k} & <{rng.choice(words)}> «{k % 7}»." for k in range(count)]
        return make_document(name, [sentences[k:k + 10] for k in range(0, count, 10)])

    nb, en = doc("nb", 5000), doc("en", 5000)
    ids = lambda d: [s.id.split(".", 1)[1] for s in d.sentences]  # noqa: E731
    nb_ids, en_ids = ids(nb), ids(en)
    alignment = make_alignment(nb, en, [([nb_ids[k] for k in s], [en_ids[k] for k in t], c, *rest)
                                        for s, t, c, *rest in beads])
    first, second = write_read_write([alignment], tmp_path)
    assert canonical(first) == canonical(second)
    assert validate(second) == []
    assert len(read_corpus(second).alignments[0].beads) == len(beads)


# --- re-alignment with the real model --------------------------------------------------------------------

@pytest.fixture(scope="module")
def reviewed(encoder, tmp_path_factory) -> tuple[Path, list[Bead]]:
    """The vraem sample aligned, then "reviewed": a bead confirmed by a named reviewer in a review round
    (declared in the header, as a review tool would), and two neighbouring beads merged and confirmed."""
    docs = read_versions([SAMPLES / "vraem.nb.txt", SAMPLES / "vraem.en.txt"], [None, None])
    [alignment] = align_versions(docs, encoder)
    beads = alignment.beads
    k = next(k for k in range(10, len(beads) - 1) if beads[k].shape == beads[k + 1].shape == "1-1")
    merged = Bead(beads[k].source + beads[k + 1].source, beads[k].target + beads[k + 1].target, None, 0.97,
                  Status.CONFIRMED, resp="rev1", change="rv2")
    beads[k:k + 2] = [merged]
    beads[3] = replace(beads[3], status=Status.CONFIRMED, resp="rev1", change="rv2")
    path = tmp_path_factory.mktemp("review") / "vraem.xml"
    write_tei([alignment], path)
    root = etree.parse(str(path)).getroot()
    title_stmt = root.find("t:teiHeader/t:fileDesc/t:titleStmt", NS)
    reviewer = etree.SubElement(title_stmt, f"{{{TEI_NS}}}respStmt", {"{http://www.w3.org/XML/1998/namespace}id": "rev1"})
    etree.SubElement(reviewer, f"{{{TEI_NS}}}resp").text = "review"
    etree.SubElement(reviewer, f"{{{TEI_NS}}}name").text = "Ingrid Translator"
    changes = root.find("t:teiHeader/t:revisionDesc", NS)
    review = etree.SubElement(changes, f"{{{TEI_NS}}}change", {"{http://www.w3.org/XML/1998/namespace}id": "rv2",
                                                               "when": "2026-11-30T12:00:00+00:00", "who": "#rev1"})
    review.text = "Review round 1."
    etree.ElementTree(root).write(str(path), xml_declaration=True, encoding="UTF-8")
    assert validate(path) == []
    return path, [beads[3], merged]


def test_confirmed_links_survive_a_realignment(encoder, reviewed, tmp_path: Path) -> None:
    path, confirmed = reviewed
    versions = read_inputs([path], [None])
    [again] = align_versions(versions.documents, encoder, earlier=versions.earlier)
    for bead in confirmed:
        [kept] = [b for b in again.beads if b.source == bead.source]
        assert (kept.target, kept.status, kept.resp, kept.change, kept.confidence) == \
               (bead.target, Status.CONFIRMED, "rev1", "rv2", pytest.approx(bead.confidence, abs=5e-5))
    # the merged 2-2 is not what the aligner would make: it stayed only because it was confirmed
    assert any(b.shape == "2-2" and b.status is Status.CONFIRMED for b in again.beads)
    positions = [(again.source.index[b.source[0]] if b.source else None) for b in again.beads]
    flat = [p for p in positions if p is not None]
    assert flat == sorted(flat)

    out = tmp_path / "again.xml"
    write_tei([again], out, previous=versions.header)
    assert validate(out) == []
    root = etree.parse(str(out)).getroot()
    changes = root.findall("t:teiHeader/t:revisionDesc/t:change", NS)
    assert [c.get("{http://www.w3.org/XML/1998/namespace}id") for c in changes] == ["rv1", "rv2", "rv3"]
    assert root.xpath("t:teiHeader/t:fileDesc/t:titleStmt/t:respStmt[@xml:id='rev1']/t:name/text()",
                      namespaces=NS) == ["Ingrid Translator"]
    link_changes = {link.get("change") for link in root.iter(f"{{{TEI_NS}}}link")}
    assert link_changes == {"#rv2", "#rv3"}  # the reviewer's round for confirmed links, this run for the rest


def test_adding_a_language_keeps_the_earlier_pair(encoder, reviewed, tmp_path: Path) -> None:
    path, confirmed = reviewed
    versions = read_inputs([path, SAMPLES / "vraem.en.txt"], [None, None])
    assert [d.name for d in versions.documents] == ["nb", "en", "en2"]
    alignments = align_versions(versions.documents, encoder, earlier=versions.earlier)
    assert [(a.source.name, a.target.name) for a in alignments] == [("nb", "en"), ("nb", "en2")]
    kept = {(b.source, b.target, b.status, b.resp) for b in alignments[0].beads}
    assert all((b.source, b.target, Status.CONFIRMED, "rev1") in kept for b in confirmed)
    out = tmp_path / "three.xml"
    write_tei(alignments, out, previous=versions.header)
    assert validate(out) == []


def test_notes_come_back(tmp_path: Path) -> None:
    """The samples' footnotes survive a round trip: as notes of the read documents, and in the file."""
    from polyalign.align.segment import segment

    nb = segment((SAMPLES / "vraem.nb.txt").read_text(encoding="utf-8"), "nb")
    en = segment((SAMPLES / "vraem.en.txt").read_text(encoding="utf-8"), "en")
    alignment = Alignment(nb, en, [Bead((s.id,), (t.id,), 0.5, 0.5) for s, t in zip(nb.sentences, en.sentences)]
                          + [Bead((), (t.id,), 0.5, 0.5) for t in en.sentences[len(nb.sentences):]]
                          + [Bead((s.id,), (), 0.5, 0.5) for s in nb.sentences[len(en.sentences):]])
    first, second = write_read_write([alignment], tmp_path)
    assert canonical(first) == canonical(second)
    [back] = read_corpus(second).alignments
    for before, after in ((nb, back.source), (en, back.target)):
        assert [(n.id, n.label, n.text) for n in after.notes] == [(n.id, n.label, n.text) for n in before.notes]
        assert [s.text for s in after.sentences] == [s.text for s in before.sentences]
        assert all(after.text[n.start:n.end] == n.text for n in after.notes)


def test_a_machine_translation_is_a_layer_of_its_own(tmp_path: Path) -> None:
    """ParlaMint's convention: the translation mirrors its version with corresp, its engine in the header;
    it reads back as the alignment's gloss and writes again unchanged."""
    from polyalign.align.beads import Gloss

    alignments = sample_alignments()
    en = alignments[0].target
    gloss = Gloss("nb", "apertium", "apertium-eng-nob", "0.9.1-2", {s.id: f"«{s.text}» på norsk" for s in en.sentences})
    alignments[0].gloss = gloss
    first, second = write_read_write(alignments, tmp_path)
    assert canonical(first) == canonical(second)
    root = etree.parse(str(first)).getroot()
    [layer] = root.findall("t:TEI[@type='translation']", NS)
    assert (layer.get("corresp"), layer.get("{http://www.w3.org/XML/1998/namespace}lang")) == ("#en", "nb")
    sentences = layer.findall(".//t:s", NS)
    assert [(s.get("corresp"), s.text) for s in sentences] == [(f"#{i}", t) for i, t in gloss.texts.items()]
    assert sentences[0].get("{http://www.w3.org/XML/1998/namespace}id") == "en-mt.p1.s1"
    apps = root.findall("t:teiHeader/t:encodingDesc/t:appInfo/t:application", NS)
    assert [(a.get("ident"), a.get("version"), a.findtext("t:label", namespaces=NS)) for a in apps][1:] == \
           [("apertium", "0.9.1", "apertium-eng-nob")]  # TEI's @version takes dotted numbers only
    [back, other] = read_corpus(first).alignments
    assert back.gloss == gloss and other.gloss is None
    assert [d.name for d in read_corpus(first).documents] == ["nb", "en", "es"]  # the layer is not a version


def test_confirmed_links_that_cross_are_a_one_line_error(reviewed, tmp_path: Path) -> None:
    """A hand edit can make two confirmed links cross; re-aligning says so instead of failing with a traceback."""
    from tests.test_cli import polyalign

    path, _ = reviewed
    root = etree.parse(str(path)).getroot()
    confirmed = [link for link in root.iter(f"{{{TEI_NS}}}link") if link.get("ana") == "#st.confirmed"]
    first, last = confirmed[0], confirmed[-1]
    first_targets, last_targets = first.get("target").split(), last.get("target").split()
    first.set("target", f"{first_targets[0]} {last_targets[1]}")  # the first now ends where the last did
    broken = tmp_path / "crossed.xml"
    etree.ElementTree(root).write(str(broken), xml_declaration=True, encoding="UTF-8")
    result = polyalign("align", broken, "-o", tmp_path / "out.xml")
    [error] = [line for line in result.stderr.splitlines() if line.startswith("polyalign: error:")]
    assert result.returncode == 1 and str(broken) in error and "confirmed links cross" in error
    assert "Traceback" not in result.stderr
    assert not (tmp_path / "out.xml").exists()
