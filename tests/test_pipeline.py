"""The pipeline on the samples, with the real default model."""
from __future__ import annotations

import unicodedata
from pathlib import Path

import numpy as np
import pytest

from polyalign.align.confidence import FEATURES, Calibration
from polyalign.align.evaluate import read_beads, score_document
from polyalign.align.inputs import InputError, resolve_language
from polyalign.align.pipeline import align_versions, read_versions

SAMPLES = Path(__file__).resolve().parents[1] / "samples"

PAIRS = [("vraem", "nb", "en"), ("ojo", "es", "en")]


def presplit(doc: str, lang: str) -> list[str]:
    lines = (SAMPLES / "presplit" / f"{doc}.{lang}.txt").read_text(encoding="utf-8").splitlines()
    return [line for line in lines if line.strip()]


@pytest.mark.parametrize("doc, lang", [("vraem", "nb"), ("vraem", "en"), ("ojo", "es"), ("ojo", "en")])
def test_the_segmenter_finds_the_samples_sentences(doc, lang):
    [version] = read_versions([SAMPLES / f"{doc}.{lang}.txt"], [None])
    assert [s.text for s in version.sentences] == presplit(doc, lang)
    assert version.lang == lang


@pytest.fixture(scope="module")
def sample_alignments(encoder):
    return {doc: align_versions(read_versions([SAMPLES / f"{doc}.{src}.txt", SAMPLES / f"{doc}.{tgt}.txt"],
                                              [None, None]), encoder)[0]
            for doc, src, tgt in PAIRS}


@pytest.mark.parametrize("doc, src, tgt", PAIRS)
def test_samples_align_like_the_gold(sample_alignments, doc, src, tgt):
    alignment = sample_alignments[doc]
    score = score_document(read_beads(SAMPLES / "gold" / f"{doc}.{src}-{tgt}.txt"), alignment.as_indices()).score
    assert score.strict.f1 >= 0.85, score
    assert score.lax.f1 >= 0.95, score


@pytest.mark.parametrize("doc, src, tgt", PAIRS)
def test_confidence_separates_right_from_wrong_beads(sample_alignments, doc, src, tgt):
    alignment = sample_alignments[doc]
    gold = {(tuple(b.source), tuple(b.target)) for b in read_beads(SAMPLES / "gold" / f"{doc}.{src}-{tgt}.txt")}
    right = [(tuple(s), tuple(t)) in gold for s, t in alignment.as_indices()]
    confidence = np.array([b.confidence for b in alignment.beads])
    assert ((confidence >= 0) & (confidence <= 1)).all()
    assert confidence[right].mean() > 0.8
    sure = confidence >= 0.9
    assert np.array(right)[sure].mean() >= 0.9  # of the beads it is sure of, it is right


def test_unrelated_texts_get_low_confidence(encoder, tmp_path):
    unrelated = tmp_path / "recipe.en.txt"
    unrelated.write_text(
        "Preheat the oven to 200 degrees and butter a large baking dish.\n"
        "Slice the potatoes thinly and rinse them in cold water to remove the starch.\n"
        "Layer the slices with cream, garlic and grated cheese, seasoning each layer well.\n"
        "Bake for an hour, until the top is golden and a knife slides through easily.\n"
        "Let the gratin rest for ten minutes before serving it with a green salad.\n"
        "Leftovers keep for three days in the fridge and reheat well in a low oven.\n", encoding="utf-8")
    [alignment] = align_versions(read_versions([SAMPLES / "vraem.nb.txt", unrelated], [None, None]), encoder)
    links = [b.confidence for b in alignment.beads if not b.is_null]
    assert alignment.link_confidence < 0.2 and max(links) < 0.5


GARDEN = """Spring is the busiest time of the year in a kitchen garden.
The soil has to be turned over as soon as it is dry enough to crumble in the hand.
Compost from last autumn goes in first, spread thinly over every bed.
Early potatoes are planted in shallow trenches, their sprouts pointing upwards.
Peas follow a week later, sown in double rows along a line of hazel twigs.
Onion sets need firm ground and should barely show above the surface.
Carrots are sown thinly, since thinning them later attracts the carrot fly.
Lettuce can be sown every fortnight so that the harvest never stops.
Slugs are the gardener's worst enemy on damp evenings in May.
A ring of crushed eggshells around young plants keeps some of them away.
Tomatoes stay indoors until the last frost has passed.
Then they are hardened off for a week on a sheltered terrace.
Beans climb quickly once the nights are warm.
Watering is best done early in the morning, straight onto the roots.
Weeds are easiest to pull after rain, when the soil is soft.
A layer of straw between the rows keeps the moisture in during dry spells.
By midsummer the first courgettes are ready, and then there are too many of them.
Herbs such as thyme and sage ask for little but sun and a poor, stony soil.
In autumn the beds are cleared, and green manure is sown to cover them over winter.
The garden rests, and the gardener starts planning for next year.
"""


def test_an_unrelated_text_of_similar_length_gets_low_confidence(encoder, tmp_path, sample_alignments):
    garden = tmp_path / "garden.en.txt"
    garden.write_text(GARDEN * 3, encoding="utf-8")  # 60 sentences against the article's 62
    [alignment] = align_versions(read_versions([SAMPLES / "vraem.nb.txt", garden], [None, None]), encoder)
    assert alignment.link_confidence < 0.4
    assert sample_alignments["vraem"].link_confidence > 0.85  # the real translation, for contrast


def test_language_comes_from_option_then_suffix_then_detection(tmp_path):
    text = (SAMPLES / "ojo.es.txt").read_text(encoding="utf-8")
    assert resolve_language(tmp_path / "x.nb.txt", text, "es-PE") == "es"
    assert resolve_language(tmp_path / "x.nb.txt", text, None) == "nb"
    assert resolve_language(tmp_path / "noticia.txt", text, None) == "es"
    with pytest.raises(InputError, match="'zz' is not a language code"):
        resolve_language(tmp_path / "x.txt", text, "zz")


def test_presplit_keeps_every_line(tmp_path):
    [doc] = read_versions([SAMPLES / "presplit" / "vraem.nb.txt"], ["nb"], presplit=True)
    assert [s.text for s in doc.sentences] == presplit("vraem", "nb")
    assert len(doc.paragraphs) == 17


def test_the_encoder_normalises_and_prompts(encoder):
    decomposed = unicodedata.normalize("NFD", "Blant dem var en fireåring og et småbarn.")
    composed = unicodedata.normalize("NFC", decomposed)
    vectors = encoder.encode([decomposed, composed])
    assert float(vectors[0] @ vectors[1]) > 0.9999
    assert encoder.prompt == "query: "  # alignment is symmetric: e5's prefix for symmetric tasks
    assert np.allclose(np.linalg.norm(vectors, axis=1), 1.0, atol=1e-5)


def test_a_model_folder_brings_its_own_prompt(encoder):
    from polyalign.align.e5 import default_model_dir
    from polyalign.align.embed import Encoder

    by_folder = Encoder(str(default_model_dir()))  # a folder: sentence-transformers, float32
    assert by_folder.prompt == "query: " and by_folder.backend == "sentence-transformers"
    texts = ["Sixteen people were killed in two bars."]
    assert float(by_folder.encode(texts)[0] @ encoder.encode(texts)[0]) > 0.99  # the default one: int8 graph


def test_calibration_ships_with_the_package():
    calibration = Calibration.load()
    assert calibration.weights.shape == (len(FEATURES),) and calibration.fitted_on


def test_token_vectors_come_from_the_same_pass_without_prompt_or_special_tokens(encoder):
    texts = ["Seksten mennesker ble drept.", "Dieciséis personas fueron asesinadas en dos bares."]
    calls = encoder.calls
    vectors, tokens = encoder.encode_with_tokens(texts)
    assert encoder.calls - calls == len(texts)
    np.testing.assert_allclose(vectors, encoder.encode(texts), atol=1e-5)
    for text, found in zip(texts, tokens):
        assert found.shape == (encoder.model.token_count(text), encoder.dimension)


def test_a_model_without_token_vectors_still_gives_sentence_vectors(encoder, monkeypatch):
    real = encoder.model.encode

    def sentence_only(*args, **kwargs):  # what a static word-embedding model returns
        return real(*args, **kwargs)[0], None

    monkeypatch.setattr(encoder.model, "encode", sentence_only)
    vectors, tokens = encoder.encode_with_tokens(["Seksten mennesker ble drept."])
    assert tokens is None and vectors.shape == (1, encoder.dimension)


def test_token_vectors_are_the_same_when_encoded_in_chunks(encoder, monkeypatch):
    from polyalign.align import embed
    texts = ["Seksten mennesker ble drept.", "Dieciséis personas.", "Sixteen people.", "Hei.", "Adiós."]
    whole_vectors, whole_tokens = encoder.encode_with_tokens(texts)
    monkeypatch.setattr(embed, "TOKEN_CHUNK", 2)
    vectors, tokens = encoder.encode_with_tokens(texts)
    np.testing.assert_allclose(vectors, whole_vectors, atol=1e-5)
    assert [t.shape for t in tokens] == [t.shape for t in whole_tokens]
    for a, b in zip(tokens, whole_tokens):
        np.testing.assert_allclose(a.astype(np.float32), b.astype(np.float32), atol=2e-2)
