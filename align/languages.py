"""Which languages polyalign can align, how their codes are written, and how to guess one from text.

polyalign aligns by sentence embeddings, so it supports exactly the languages its default model,
multilingual-e5-small, was pre-trained on: those of XLM-RoBERTa (CC-100), listed in the XLM-R model
card. We name them by ISO 639-1 codes. Telling an *unknown* code (a typo) from a *known but unsupported*
one needs the whole ISO 639-1 list, which Python lacks; it ships as ``data/iso639-1.tsv`` (184 codes,
with their 3-letter equivalents and English names) rather than as a dependency.
"""
from __future__ import annotations

from functools import cache
from importlib.resources import files
from pathlib import PurePath

EMBEDDING_MODEL = "multilingual-e5-small"

# XLM-RoBERTa's 100 training "languages", read as ISO 639-1. The model card counts romanised
# Bengali, Hindi, Tamil, Telugu and Urdu, Burmese in the Zawgyi font and Traditional Chinese apart;
# they share the codes bn, hi, ta, te, ur, my and zh here, which leaves 93 languages.
# Its "Norwegian" is Bokmål in practice (nb). Nynorsk (nn) is not in that list; we admit it
# anyway because it is close enough to Bokmål for the model to carry, though no gold set measures it.
SUPPORTED: frozenset[str] = frozenset(
    """
    af am ar as az be bg bn br bs ca cs cy da de el en eo es et eu fa fi fr fy ga gd gl gu ha he hi
    hr hu hy id is it ja jv ka kk km kn ko ku ky la lo lt lv mg mk ml mn mr ms my nb ne nl om or pa
    pl ps pt ro ru sa sd si sk sl so sq sr su sv sw ta te th tl tr ug uk ur uz vi xh yi zh
    nn
    """.split()
)

# Codes read as another: the macrolanguage "no" (whose written standard in nearly every translation
# is Bokmål), codes ISO withdrew that older tools still write, and the ISO 639-3 individual-language
# codes that FLORES and NLLB use for our macrolanguages.
_ALIASES: dict[str, str] = {
    "no": "nb", "nor": "nb",
    "iw": "he", "in": "id", "ji": "yi", "jw": "jv", "mo": "ro",
    "fil": "tl", "kmr": "ku", "cmn": "zh", "arb": "ar", "zsm": "ms", "swh": "sw", "npi": "ne",
    "ory": "or", "pes": "fa", "ekk": "et", "lvs": "lv", "uzn": "uz", "azj": "az", "khk": "mn",
    "pbt": "ps", "gaz": "om", "plt": "mg", "als": "sq", "ydd": "yi",
}


class LanguageError(ValueError):
    """A language code polyalign cannot use; the message is one line, fit for the user."""


@cache
def _iso_table() -> tuple[dict[str, str], dict[str, str]]:
    """(ISO 639-1 code → English name, 3-letter ISO 639-2/T or /B code → ISO 639-1 code)."""
    names: dict[str, str] = {}
    from_alpha3: dict[str, str] = {}
    text = files("polyalign.align").joinpath("data/iso639-1.tsv").read_text(encoding="utf-8")
    for line in text.splitlines():
        if not line or line.startswith("#"):
            continue
        code, terminologic, bibliographic, name = line.split("\t")
        names[code] = name
        from_alpha3[terminologic] = code
        if bibliographic:
            from_alpha3[bibliographic] = code
    return names, from_alpha3


def _iso_code(code: str) -> str | None:
    """The ISO 639-1 code ``code`` stands for, supported or not; None if it is no language code.

    Case and any region or script subtag go (``nb-NO``, ``es_ES``, ``zh-Hant``), aliases are resolved.
    """
    base = code.strip().lower().replace("_", "-").split("-")[0]
    names, from_alpha3 = _iso_table()
    if base in _ALIASES:
        return _ALIASES[base]
    if base in names:
        return base
    return from_alpha3.get(base)


def name(code: str) -> str:
    """The English name of a language, for messages and TEI ``<langUsage>``: ``nb`` → "Norwegian Bokmål".

    Any ISO code has a name, supported or not; an unknown code raises :class:`LanguageError`.
    """
    iso = _iso_code(code)
    if iso is None:
        raise LanguageError(f"'{code.strip()}' is not a language code")
    return _iso_table()[0][iso]


def normalise_code(code: str) -> str:
    """The supported ISO 639-1 code that ``code`` means: ``nb-NO``, ``NO`` and ``nob`` all give ``nb``.

    Raises :class:`LanguageError` that says whether the code is no language code at all (likely a
    typo) or a real language the embedding model does not cover (no point in trying to align it).
    """
    iso = _iso_code(code)
    if iso is None:
        raise LanguageError(f"'{code.strip()}' is not a language code")
    if iso not in SUPPORTED:
        raise LanguageError(
            f"'{code.strip()}' ({name(iso)}) is not covered by the embedding model {EMBEDDING_MODEL}, "
            "so polyalign cannot align it"
        )
    return iso


def code_from_filename(path: str | PurePath) -> str | None:
    """The language named by a file's last suffix before its extension, or None.

    ``vraem.nb.txt`` → ``nb``, ``vraem.es-ES.txt`` → ``es``, ``vraem.txt`` and ``story.v2.txt`` → None.
    Only codes count: any ISO 639-1 code (returned even when unsupported, so that
    :func:`normalise_code` can then tell the user why), but 3-letter codes only of supported
    languages (``.eng``, ``.nob``), since a suffix like ``.bak`` is more often a word than a language
    (Bashkir); withdrawn codes such as ``.in`` do not count either.
    """
    parts = PurePath(path).name.split(".")
    if len(parts) < 3:
        return None
    suffix = parts[-2]
    base = suffix.lower().replace("_", "-").split("-")[0]
    iso = _iso_code(suffix) if base.isascii() and base.isalpha() else None
    if iso is None or (len(base) == 2 and base not in _iso_table()[0]):
        return None
    if iso in SUPPORTED:
        return iso
    return base if len(base) == 2 else None


@cache
def _identifier():
    """py3langid's model (a second to load), restricted to the supported languages it knows.

    py3langid labels Bokmål ``no``; it also knows ``nn``, which we keep apart.
    """
    from py3langid.langid import MODEL_FILE, LanguageIdentifier

    identifier = LanguageIdentifier.from_model_file(MODEL_FILE, norm_probs=True)
    known = set(identifier.labels)
    wanted = {"no" if code == "nb" else code for code in SUPPORTED}
    identifier.set_languages(sorted(wanted & known))
    return identifier


_SAMPLE = 50_000  # characters: plenty for a confident guess, and about 30 ms


def detect(text: str) -> tuple[str, float]:
    """Guess the language of ``text`` offline: (supported ISO 639-1 code, confidence in [0, 1]).

    Only supported languages are candidates, so a text in another language gets the nearest supported
    one, and confidently if they are close: Faroese comes out as Icelandic at 0.999. A long text is judged on its middle, away from front and back
    matter (a Project Gutenberg French novel opens and ends in English).
    Reliable from a sentence of ten words or so, Bokmål, Danish and Swedish included; below about
    25 characters the guess is often wrong, but then its confidence is low (under 0.7), so a
    caller should ask for the language rather than trust it. Sindhi, Sundanese and Yiddish are
    never returned: py3langid has no model for them.
    """
    if not text.strip():
        raise LanguageError("there is no text to detect a language from")
    if len(text) > _SAMPLE:
        start = (len(text) - _SAMPLE) // 2
        text = text[start : start + _SAMPLE]
    code, confidence = _identifier().classify(text)
    return ("nb" if code == "no" else code), confidence
