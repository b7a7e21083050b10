"""Machine translation as alignment evidence (`polyalign align --translate`): the pipeline uses it, the
TEI carries it as a layer of its own, and a pair without an engine says what to install."""
from __future__ import annotations

import shutil

import pytest
from lxml import etree

from polyalign.align.beads import Gloss
from polyalign.align.pipeline import align_versions, read_versions
from tests.conftest import SAMPLES
from tests.test_cli import polyalign

NS = {"t": "http://www.tei-c.org/ns/1.0"}
needs_apertium = pytest.mark.skipif(shutil.which("apertium") is None,
                                    reason="Apertium is not installed (.ci/run installs apertium apertium-eng-spa)")


class Upper:
    """A stand-in engine: its "translation" is the sentence in capitals, enough to prove the plumbing."""

    source, target = "en", "nb"
    info = type("Info", (), {"engine": "upper", "model": "upper-case", "version": "1", "__str__": lambda s: "upper"})()

    def __init__(self) -> None:
        self.calls: list[list[str]] = []

    def translate(self, sentences: list[str]) -> list[str]:
        self.calls.append(sentences)
        return [s.upper() for s in sentences]


def test_the_pipeline_translates_once_and_keeps_the_gloss(encoder) -> None:
    docs = read_versions([SAMPLES / "vraem.nb.txt", SAMPLES / "vraem.en.txt"], [None, None])
    engine = Upper()
    [alignment] = align_versions(docs, encoder, translators={"en": engine})
    assert engine.calls == [[s.text for s in docs[1].sentences]]  # one batch, every sentence
    assert alignment.gloss == Gloss("nb", "upper", "upper-case", "1", {s.id: s.text.upper() for s in docs[1].sentences})
    assert alignment.link_confidence > 0.9  # still aligns the sample


@needs_apertium
def test_spanish_english_alignment_uses_apertium_by_default(tmp_path) -> None:
    out = tmp_path / "ojo.xml"
    result = polyalign("align", SAMPLES / "ojo.es.txt", SAMPLES / "ojo.en.txt", "-o", out, "-f", "tei")
    assert result.returncode == 0, result.stderr
    assert "translating" in result.stderr and "apertium" in result.stderr
    root = etree.parse(str(out)).getroot()
    [layer] = root.findall("t:TEI[@type='translation']", NS)
    assert layer.get("corresp") == "#en" and layer.get("{http://www.w3.org/XML/1998/namespace}lang") == "es"
    texts = [s.text for s in layer.iter("{%s}s" % NS["t"])]
    assert len(texts) == 24 and texts[0].startswith("Tarde en la noche de mayo 23")  # Apertium's Spanish
    assert root.find("t:teiHeader/t:encodingDesc/t:appInfo/t:application[@ident='apertium']", NS) is not None
    checked = polyalign("validate", out)  # a Debian version such as 0.8.1-2 is not a TEI version number
    assert checked.returncode == 0, checked.stdout

    plain = tmp_path / "plain.xml"
    result = polyalign("align", SAMPLES / "ojo.es.txt", SAMPLES / "ojo.en.txt", "-o", plain, "--no-translate")
    assert result.returncode == 0 and not etree.parse(str(plain)).getroot().findall("t:TEI[@type='translation']", NS)


def test_asking_for_a_translation_that_cannot_be_made_says_what_to_install(tmp_path, monkeypatch) -> None:
    monkeypatch.setenv("ARGOS_PACKAGES_DIR", str(tmp_path / "no-packages"))
    result = polyalign("align", SAMPLES / "vraem.nb.txt", SAMPLES / "vraem.en.txt", "-o", tmp_path / "x.xml",
                       "--translate")
    assert result.returncode == 1 and len(result.stderr.strip().splitlines()) == 1, result.stderr
    assert "vraem.en.txt" in result.stderr and "translate-en_nb" in result.stderr
    assert not (tmp_path / "x.xml").exists()
