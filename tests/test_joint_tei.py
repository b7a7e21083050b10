"""The joint alignment in TEI: one n-ary linkGrp, valid, checked for consistency, read back unchanged."""
from __future__ import annotations

from pathlib import Path

import pytest
from lxml import etree

from polyalign.align.beads import Status
from polyalign.align.joint.rows import JointAlignment, Row
from polyalign.align.pipeline import read_versions
from polyalign.tei.reader import read_corpus
from polyalign.tei.validate import validate
from polyalign.tei.writer import TEI_NS, write_tei
from tests.conftest import SAMPLES

NS = {"t": TEI_NS}
LANGS = ("en", "nb", "es")


def gold_rows() -> list[tuple[tuple[int, ...], ...]]:
    lines = (SAMPLES / "gold" / "ojo.en-nb-es.txt").read_text(encoding="utf-8").splitlines()
    return [tuple(tuple(int(x) for x in slot.strip("[]").split(",") if x.strip()) for slot in line.split(":"))
            for line in lines]


def gold_joint(pivot: str = "nb") -> JointAlignment:
    """The three-way sample's gold rows as a joint alignment, without running the model."""
    docs = read_versions([SAMPLES / f"ojo.{lang}.txt" for lang in LANGS], [None] * 3)
    rows = [Row(tuple(tuple(doc.sentences[i].id for i in slot) for doc, slot in zip(docs, row)), 1.0,
                0.5 + 0.02 * (k % 20), Status.CONFIRMED if k == 3 else Status.AUTO)
            for k, row in enumerate(gold_rows())]
    return JointAlignment(docs, rows, pivot, "automatic", "test-model")


def write_joint(joint: JointAlignment, path: Path, **options) -> None:
    write_tei(joint.pivot_views(), path, joint=joint, **options)


def test_one_nary_link_group_with_empty_slots(tmp_path: Path) -> None:
    path = tmp_path / "three.xml"
    write_joint(gold_joint(), path)
    assert validate(path) == []
    tree = etree.parse(str(path))
    [group] = tree.findall(".//t:standOff/t:linkGrp", NS)
    assert (group.get("subtype"), group.get("targFunc")) == ("joint", "nb en es")  # the pivot first
    assert [m.get("{http://www.w3.org/XML/1998/namespace}id") for m in tree.findall("t:TEI", NS)] == list(LANGS)
    links = {el.get("{http://www.w3.org/XML/1998/namespace}id"): el for el in group}
    assert links["joint.r1"].get("target") == "#nb.p1.s1 #en.p1.s1 #es.p1.s1"
    assert links["joint.r10"].get("type") == "0-1-1"  # en 9 has no Norwegian sentence: an empty slot
    assert links["joint.r20"].tag == f"{{{TEI_NS}}}ptr" and links["joint.r20"].get("subtype") == "1-0-0"
    assert links["joint.r13"].get("target") == "#joint.r13.nb #en.p4.s1 #joint.r13.es"
    text = etree.tostring(tree, encoding="unicode")
    assert "pivot nb, chosen automatically" in text and "subtype='joint'" in text


def test_read_back_and_written_again_changes_nothing(tmp_path: Path) -> None:
    first, second = tmp_path / "first.xml", tmp_path / "second.xml"
    written = gold_joint()
    write_joint(written, first)
    corpus = read_corpus(first)
    read = corpus.joint
    assert read is not None and read.pivot == "nb" and read.pivot_chosen == "automatic"
    assert read.names == list(LANGS)
    assert [r.slots for r in read.rows] == [r.slots for r in written.rows]
    assert [r.confidence for r in read.rows] == pytest.approx([r.confidence for r in written.rows], abs=5e-5)
    assert read.rows[3].status is Status.CONFIRMED
    assert [a.target.name for a in corpus.alignments] == ["en", "es"]  # the pivot views, for the other formats
    assert [d.name for d in corpus.documents] == list(LANGS)
    write_joint(read, second, previous=corpus.header, rerun=False)
    assert first.read_bytes() == second.read_bytes()


def test_validate_finds_an_inconsistent_joint_group(tmp_path: Path) -> None:
    path = tmp_path / "three.xml"
    write_joint(gold_joint(), path)
    tree = etree.parse(str(path))
    group = tree.find(".//t:standOff/t:linkGrp", NS)
    link = group.find("t:link[@xml:id='joint.r2']", {**NS, "xml": "http://www.w3.org/XML/1998/namespace"})
    group.remove(link)  # two sentences of each version are now in no row
    group.find("t:link", NS).set("type", "2-1-1")
    tree.write(str(path))
    rules = {line.split(": ")[1] for line in validate(path)}
    assert {"joint-coverage", "joint-shape"} <= rules


def test_a_given_pivot_is_recorded(tmp_path: Path) -> None:
    joint = gold_joint("es")
    joint.pivot_chosen = "given"
    path = tmp_path / "three.xml"
    write_joint(joint, path)
    corpus = read_corpus(path)
    assert (corpus.joint.pivot, corpus.joint.pivot_chosen) == ("es", "given")
    assert etree.parse(str(path)).find(".//t:linkGrp", NS).get("targFunc") == "es en nb"
