import pytest

from polyalign.align.languages import (
    SUPPORTED,
    LanguageError,
    code_from_filename,
    detect,
    name,
    normalise_code,
)


def test_supported_is_xlmr_plus_nynorsk():
    assert len(SUPPORTED) == 94
    assert {"nb", "nn", "es", "en", "fr", "de", "da", "sv", "zh", "tl", "yi"} <= SUPPORTED
    assert "no" not in SUPPORTED  # Bokmål is nb


@pytest.mark.parametrize(
    "code, expected",
    [
        ("nb", "nb"),
        ("NB", "nb"),
        (" nb-NO ", "nb"),
        ("es_ES", "es"),
        ("pt-BR", "pt"),
        ("zh-Hant", "zh"),
        ("sr-Latn-RS", "sr"),
        ("no", "nb"),
        ("nor", "nb"),
        ("nob", "nb"),
        ("nn", "nn"),
        ("nno", "nn"),
        ("deu", "de"),
        ("ger", "de"),  # ISO 639-2/B
        ("fra", "fr"),
        ("spa", "es"),
        ("iw", "he"),  # withdrawn code
        ("fil", "tl"),
        ("zsm", "ms"),  # FLORES-style individual language
    ],
)
def test_normalise_code(code, expected):
    assert normalise_code(code) == expected


@pytest.mark.parametrize("code", ["xx", "", "nb1", "english", "und", "sh", "-"])
def test_unknown_code(code):
    with pytest.raises(LanguageError, match="is not a language code") as info:
        normalise_code(code)
    assert "\n" not in str(info.value)


@pytest.mark.parametrize(
    "code, language", [("kl", "Kalaallisut"), ("fo", "Faroese"), ("mt-MT", "Maltese"), ("kal", "Kalaallisut")]
)
def test_known_but_unsupported(code, language):
    with pytest.raises(LanguageError) as info:
        normalise_code(code)
    message = str(info.value)
    assert message.startswith(f"'{code}' ({language}) is not covered by the embedding model")
    assert "\n" not in message


def test_language_error_is_value_error():
    assert issubclass(LanguageError, ValueError)


@pytest.mark.parametrize(
    "code, expected",
    [
        ("nb", "Norwegian Bokmål"),
        ("no", "Norwegian Bokmål"),
        ("nn", "Norwegian Nynorsk"),
        ("es-MX", "Spanish"),
        ("el", "Greek"),
        ("kl", "Kalaallisut"),
    ],
)
def test_name(code, expected):
    assert name(code) == expected


def test_every_supported_language_has_a_plain_name():
    for code in SUPPORTED:
        assert name(code) and "(" not in name(code) and ";" not in name(code)


def test_name_of_unknown_code():
    with pytest.raises(LanguageError):
        name("xx")


@pytest.mark.parametrize(
    "path, expected",
    [
        ("vraem.nb.txt", "nb"),
        ("vraem.es.txt", "es"),
        ("/some/dir.v1/vraem.fr.txt", "fr"),
        ("vraem.nb-NO.txt", "nb"),
        ("vraem.NO.txt", "nb"),
        ("vraem.nob.txt", "nb"),
        ("vraem.eng.md", "en"),
        ("vraem.kl.txt", "kl"),  # known, unsupported: normalise_code will say so
        ("vraem.txt", None),
        ("vraem", None),
        ("story.v2.txt", None),
        ("story.xx.txt", None),
        ("story.bak.txt", None),  # a word, though also Bashkir's code
        ("notes.in.txt", None),  # withdrawn code for Indonesian
        ("story.final.txt", None),
        ("nb.txt", None),  # the stem is a name, not a suffix
    ],
)
def test_code_from_filename(path, expected):
    assert code_from_filename(path) == expected


# Realistic prose, written for these tests: the same passage in each language.
PARAGRAPHS = {
    "nb": "Hun hadde ikke sovet på hele natten. Da morgenen kom, gikk hun ned til bryggen og ble stående der "
    "lenge, mens båtene la ut en etter en. Det er ikke lett å forklare hvorfor jeg reiste tilbake.",
    "da": "Hun havde ikke sovet hele natten. Da morgenen kom, gik hun ned til havnen og blev stående der "
    "længe, mens bådene sejlede ud en efter en. Det er ikke let at forklare, hvorfor jeg rejste tilbage.",
    "sv": "Hon hade inte sovit på hela natten. När morgonen kom gick hon ner till bryggan och blev stående "
    "där länge, medan båtarna lade ut en efter en. Det är inte lätt att förklara varför jag reste tillbaka.",
    "nn": "Ho hadde ikkje sove heile natta. Då morgonen kom, gjekk ho ned til brygga og vart ståande der "
    "lenge, medan båtane la ut ein etter ein. Det er ikkje lett å forklare kvifor eg reiste tilbake.",
    "es": "No había dormido en toda la noche. Cuando llegó la mañana, bajó al muelle y se quedó allí mucho "
    "tiempo, mientras los barcos salían uno tras otro. No es fácil explicar por qué volví.",
    "en": "She had not slept all night. When morning came, she went down to the quay and stood there for a "
    "long time while the boats put out one after another. It is not easy to explain why I went back.",
    "fr": "Elle n'avait pas dormi de la nuit. Quand le matin vint, elle descendit au quai et y resta "
    "longtemps, tandis que les bateaux sortaient l'un après l'autre. Il n'est pas facile d'expliquer "
    "pourquoi je suis revenu.",
    "de": "Sie hatte die ganze Nacht nicht geschlafen. Als der Morgen kam, ging sie hinunter zum Kai und "
    "blieb dort lange stehen, während die Boote eines nach dem anderen ausliefen. Es ist nicht leicht zu "
    "erklären, warum ich zurückgefahren bin.",
}


@pytest.mark.parametrize("lang", sorted(PARAGRAPHS))
def test_detect_paragraph(lang):
    code, confidence = detect(PARAGRAPHS[lang])
    assert code == lang
    assert confidence > 0.95


@pytest.mark.parametrize(
    "lang, sentence",
    [
        ("nb", "Hun gikk ut av huset og lukket døren etter seg."),
        ("da", "Hun gik ud af huset og lukkede døren efter sig."),
        ("sv", "Hon gick ut ur huset och stängde dörren efter sig."),
        ("nb", "Vi må snakke med henne før det blir for sent."),
        ("da", "Vi må tale med hende, før det bliver for sent."),
    ],
)
def test_detect_one_sentence_of_a_scandinavian_language(lang, sentence):
    assert detect(sentence)[0] == lang


def test_very_short_text_is_unsure():
    """The documented limit: a few words of Bokmål may come out as Danish, but with a low confidence."""
    for text in ("Det regner i dag.", "Hvor er bilen?", "Takk."):
        code, confidence = detect(text)
        assert code == "nb" or confidence < 0.7


def test_detect_long_text_with_english_front_and_back_matter():
    front = "The Project Gutenberg eBook of this novel is for the use of anyone anywhere. " * 1300  # 100 kB
    body = " ".join([PARAGRAPHS["fr"]] * 300)  # 66 kB
    code, _ = detect(front + body + front)
    assert code == "fr"


def test_detect_only_returns_supported_codes():
    """The documented limit: an unsupported language gets its nearest supported neighbour."""
    faroese = "Hon hevði ikki sovið alla náttina. Tá ið morgunin kom, fór hon oman á bryggjuna."
    assert detect(faroese)[0] == "is"


def test_detect_empty_text():
    with pytest.raises(LanguageError):
        detect("  \n")
