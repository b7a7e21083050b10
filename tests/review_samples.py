"""TEI files for the review tests, made from the samples' gold alignments without running the model."""
from __future__ import annotations

from pathlib import Path

from polyalign.align.beads import Alignment, Bead, Gloss, Status
from polyalign.align.document import Document, Paragraph, Sentence
from polyalign.align.evaluate import read_beads
from polyalign.align.joint.rows import JointAlignment, Row
from polyalign.align.pipeline import read_versions
from polyalign.tei.writer import write_tei
from tests.conftest import SAMPLES


def confidence(k: int) -> float:
    """Varied, repeatable confidences: every band shows up (weak every seventh bead)."""
    return 0.3 if k % 7 == 3 else 0.7 if k % 5 == 1 else 0.95


def pair_tei(path: Path, gloss: bool = False) -> Path:
    """vraem nb–en, its gold beads as an alignment of two versions (a pairwise linkGrp); with ``gloss``, a
    made-up machine translation of the English into Norwegian as the TEI's translation layer."""
    source, target = read_versions([SAMPLES / "vraem.nb.txt", SAMPLES / "vraem.en.txt"], [None, None])
    beads = [Bead(tuple(source.sentences[i].id for i in s), tuple(target.sentences[j].id for j in t), 1.0,
                  confidence(k)) for k, (s, t) in enumerate(read_beads(SAMPLES / "gold" / "vraem.nb-en.txt"))]
    alignment = Alignment(source, target, beads, model="test-model")
    if gloss:
        alignment.gloss = Gloss("nb", "apertium", "apertium-test", "1.0",
                                {s.id: f"MT {s.text[:30]}" for s in target.sentences})
    write_tei([alignment], path)
    return path


def joint_tei(path: Path) -> Path:
    """ojo en, nb, es: the three-way gold rows as a joint alignment."""
    docs = read_versions([SAMPLES / f"ojo.{lang}.txt" for lang in ("en", "nb", "es")], [None] * 3)
    rows = [Row(tuple(tuple(doc.sentences[i].id for i in slot) for doc, slot in zip(docs, row)), 1.0, confidence(k))
            for k, row in enumerate(read_beads_rows(SAMPLES / "gold" / "ojo.en-nb-es.txt"))]
    joint = JointAlignment(docs, rows, "en", "automatic", "test-model")
    write_tei(joint.pivot_views(), path, joint=joint)
    return path


def read_beads_rows(path: Path) -> list[tuple[tuple[int, ...], ...]]:
    lines = path.read_text(encoding="utf-8").splitlines()
    return [tuple(tuple(int(x) for x in slot.strip("[]").split(",") if x.strip()) for slot in line.split(":"))
            for line in lines]


def large_tei(path: Path, rows: int = 5000) -> Path:
    """A made-up alignment of ``rows`` 1-1 links (two versions, paragraphs of ten), for the benchmark."""
    def document(lang: str, words: str) -> Document:
        text, paragraphs = "", []
        for p in range(rows // 10 + (rows % 10 > 0)):
            sentences = []
            for s in range(min(10, rows - p * 10)):
                content = f"{words} {p * 10 + s + 1}: " + " ".join([words] * (6 + (p + s) % 9)) + "."
                start = len(text)
                text += content + " "
                sentences.append(Sentence(f"{lang}.p{p + 1}.s{s + 1}", content, start, start + len(content)))
            paragraphs.append(Paragraph(f"{lang}.p{p + 1}", sentences[0].start, sentences[-1].end, tuple(sentences)))
            text += "\n"
        return Document(lang, text, paragraphs)

    source, target = document("nb", "setning"), document("en", "sentence")
    beads = [Bead((a.id,), (b.id,), 1.0, confidence(k), Status.CONFIRMED if k < 40 else Status.AUTO)
             for k, (a, b) in enumerate(zip(source.sentences, target.sentences))]
    write_tei([Alignment(source, target, beads, model="test-model")], path)
    return path
