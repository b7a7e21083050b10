"""Offline translation: the Apertium backend on real Spanish, the on-disk cache, the engine chooser and
``polyalign translate``.

Tests that need Apertium skip, saying so, where it is not installed; ``.ci/run`` installs it. The chooser's
tests replace ``translate.argos`` with a fake module, so they do not depend on argostranslate or its packages.
"""
from __future__ import annotations

import re
import sqlite3
import subprocess
import sys
import types
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path

import pytest

from tests.test_cli import polyalign
from polyalign.translate import apertium, engines
from polyalign.translate.apertium import ApertiumTranslator
from polyalign.translate.base import EngineInfo, TranslationError, Translator
from polyalign.translate.cache import CachedTranslator, TranslationCache, default_path

SAMPLES = Path(__file__).resolve().parents[1] / "samples"
OJO_ES = SAMPLES / "ojo.es.txt"
OJO_ES_PRESPLIT = SAMPLES / "presplit" / "ojo.es.txt"


def needs_apertium(source: str = "es", target: str = "en") -> None:
    if not apertium.available(source, target):
        pytest.skip(f"Apertium with {apertium.PACKAGE} is not installed ({apertium.INSTALL}; .ci/run installs it)")


@pytest.fixture(autouse=True)
def private_homes(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """No test reads or writes the user's translation cache or Argos packages."""
    for name in ("XDG_CACHE_HOME", "XDG_DATA_HOME", "XDG_CONFIG_HOME"):
        monkeypatch.setenv(name, str(tmp_path / name.lower()))
    monkeypatch.setenv("ARGOS_PACKAGES_DIR", str(tmp_path / "argos-packages"))


@pytest.fixture
def fresh_apertium_lookups():
    """``installed_modes`` is cached per process; a test that hides Apertium must not leave that behind."""
    apertium.installed_modes.cache_clear()
    yield
    apertium.installed_modes.cache_clear()


class FakeTranslator:
    """Upper-cases; records every batch it was sent."""

    def __init__(self, source: str = "es", target: str = "en", info: EngineInfo | None = None) -> None:
        self.source, self.target = source, target
        self.info = info or EngineInfo("fake", "fake-es-en", "1")
        self.batches: list[list[str]] = []

    def translate(self, sentences: list[str]) -> list[str]:
        self.batches.append(list(sentences))
        return [s.upper() for s in sentences]


def has_unknown_word_marks(translation: str, source: str) -> bool:
    return any(re.search(rf"{re.escape(mark)}\w", translation) for mark in "*#@" if mark not in source)


# --- Apertium -------------------------------------------------------------------------------------------------

def test_apertium_translates_the_spanish_sample_into_english():
    needs_apertium()
    sentences = [line for line in OJO_ES_PRESPLIT.read_text(encoding="utf-8").splitlines() if line.strip()]
    translator = ApertiumTranslator("es", "en")
    english = translator.translate(sentences)
    assert len(english) == len(sentences) == 25
    assert all(english) and english != sentences
    assert "people were murdered in two bars" in english[0]
    assert "victims" in english[1] and "girl" in english[1]
    assert "attackers" in english[2]
    for source, translation in zip(sentences, english):
        assert not has_unknown_word_marks(translation, source), translation


def test_tricky_punctuation_survives_one_to_one():
    needs_apertium()
    sentences = [
        "Vi el perro",  # a single newline would let "rojo" below move into this sentence: "I saw the red"
        "rojo corre.",
        "Uno de los sobrevivientes relató: «No hubo cruce de palabras».",
        "—¿Qué pasó? —preguntó el Sr. García a las 6 a. m. del día 23.",
        '"Comillas" y \'simples\' – y números: 1.234,56 € y 3/4.',
        "Una frase\npartida en\n\ndos líneas.",
        "",
        "Los EE. UU. dijeron [algo] {raro} <etiqueta> & más \\ barra ^ $.",
        "Xqzzy blorft el perro.",
        "Escribe a @usuario sobre #etiqueta.",
        "sin punto final",
        "...",
    ]
    english = ApertiumTranslator("es", "en").translate(sentences)
    assert len(english) == len(sentences)
    assert "dog" in english[0] and "dog" not in english[1] and "red" in english[1].lower()
    assert "«" in english[2] and "»" in english[2] and "words" in english[2]
    assert english[3].startswith("—") and "García" in english[3] and "23" in english[3]
    assert "1.234,56 €" in english[4] and "3/4" in english[4] and '"' in english[4]
    assert "\n" not in english[5] and "lines" in english[5]
    assert english[6] == ""
    assert "[" in english[7] and "]" in english[7] and "\\" in english[7] and "<" in english[7]
    assert english[8].startswith("Xqzzy blorft") and "dog" in english[8]
    assert "@" in english[9] and "#" in english[9]
    assert english[10].lower() == "without full stop" and english[11] == "..."
    for source, translation in zip(sentences, english):
        assert not has_unknown_word_marks(translation, source), translation


def test_apertium_translates_english_into_spanish():
    needs_apertium("en", "es")
    spanish = ApertiumTranslator("en", "es").translate(["Sixteen people were killed in two bars.", "He said no."])
    assert len(spanish) == 2 and spanish[0].startswith("Dieciséis personas") and "asesinad" in spanish[0]


def test_a_batch_is_one_apertium_process(monkeypatch: pytest.MonkeyPatch):
    needs_apertium()
    calls = []
    run = subprocess.run

    def counting_run(args, *rest, **kwargs):
        calls.append(args)
        return run(args, *rest, **kwargs)

    monkeypatch.setattr(apertium.subprocess, "run", counting_run)
    translator = ApertiumTranslator("es", "en")
    calls.clear()  # construction may ask dpkg-query and apertium -l once
    translator.translate([f"Hay {n} personas en la casa." for n in range(200)])
    assert calls == [["apertium", "-u", "spa-eng"]]


def test_apertium_info_names_the_debian_package():
    needs_apertium()
    info = ApertiumTranslator("es", "en").info
    assert (info.engine, info.model) == ("apertium", "apertium-eng-spa")
    assert info.version == apertium.package_version() and info.version
    assert isinstance(ApertiumTranslator("es", "en"), Translator)


def test_a_count_mismatch_halves_the_batch_until_it_agrees():
    """However Apertium might ever merge two sentences, the mapping stays one-to-one."""
    translator = ApertiumTranslator.__new__(ApertiumTranslator)
    runs = []

    def merging_run(text: str) -> str:  # loses the separator after "b" whenever "b" is not alone
        runs.append(text)
        parts = text.rstrip("\n").split(apertium.SEPARATOR)
        out = apertium.SEPARATOR.join(p.upper() for p in parts)
        return (out.replace("B" + apertium.SEPARATOR, "B ") if len(parts) > 1 else out) + "\n"

    translator._run = merging_run
    assert translator.translate(["a", "b", "c", "d", "e"]) == ["A", "B", "C", "D", "E"]
    assert len(runs) > 1


def test_missing_apertium_names_the_debian_packages(monkeypatch: pytest.MonkeyPatch, fresh_apertium_lookups):
    monkeypatch.setattr(apertium.shutil, "which", lambda name: None)
    assert not apertium.available("es", "en")
    with pytest.raises(TranslationError, match=r"apt-get install apertium apertium-eng-spa") as err:
        ApertiumTranslator("es", "en")
    assert "\n" not in str(err.value)


def test_apertium_refuses_pairs_it_does_not_cover():
    assert not apertium.available("nb", "en")
    with pytest.raises(TranslationError, match="only Spanish↔English"):
        ApertiumTranslator("nb", "en")


def test_unknown_word_marks_go_but_the_sources_own_characters_stay():
    assert apertium._unmark("The @fiesta and *casa", "La fiesta y la casa") == "The fiesta and casa"
    assert apertium._unmark("Write to @user", "Escribe a @usuario") == "Write to @user"


# --- the cache ---------------------------------------------------------------------------------------------------

def test_the_second_call_is_answered_from_the_cache(tmp_path: Path):
    engine = FakeTranslator()
    cached = CachedTranslator(engine, tmp_path / "t.sqlite")
    assert isinstance(cached, Translator) and cached.info == engine.info
    assert cached.translate(["uno", "dos", "tres"]) == ["UNO", "DOS", "TRES"]
    assert (cached.hits, cached.misses) == (0, 3)
    assert cached.translate(["tres", "uno", "dos"]) == ["TRES", "UNO", "DOS"]
    assert (cached.hits, cached.misses) == (3, 3) and engine.batches == [["uno", "dos", "tres"]]


def test_only_the_misses_go_to_the_engine_in_one_batch_in_order(tmp_path: Path):
    engine = FakeTranslator()
    cached = CachedTranslator(engine, tmp_path / "t.sqlite")
    cached.translate(["uno", "dos"])
    assert cached.translate(["uno", "tres", "", "dos", "cuatro", "tres"]) == ["UNO", "TRES", "", "DOS", "CUATRO",
                                                                              "TRES"]
    assert engine.batches[1:] == [["tres", "cuatro"]]  # each distinct miss once; blank sentences never
    assert cached.misses == 4 and cached.hits == 3


def test_nothing_at_all_is_sent_when_everything_is_known(tmp_path: Path):
    engine = FakeTranslator()
    cached = CachedTranslator(engine, tmp_path / "t.sqlite")
    cached.translate(["uno"])
    cached.translate(["uno", " ", "uno"])
    cached.translate([])
    assert engine.batches == [["uno"]]


@pytest.mark.parametrize("changed", [
    {"info": EngineInfo("fake", "fake-es-en", "2")},  # a new model version
    {"info": EngineInfo("fake", "fake-other", "1")},
    {"info": EngineInfo("other", "fake-es-en", "1")},
    {"target": "nb"},
    {"source": "ca"},
])
def test_the_key_holds_engine_model_version_and_pair(tmp_path: Path, changed: dict):
    path = tmp_path / "t.sqlite"
    CachedTranslator(FakeTranslator(), path).translate(["uno"])
    other = FakeTranslator(**changed)
    cached = CachedTranslator(other, path)
    cached.translate(["uno"])
    assert (cached.hits, cached.misses) == (0, 1) and other.batches == [["uno"]]


def test_the_cache_persists_across_instances_and_lives_under_xdg_cache_home(tmp_path: Path):
    CachedTranslator(FakeTranslator()).translate(["uno", "dos"])
    assert default_path() == tmp_path / "xdg_cache_home" / "polyalign" / "translations.sqlite"
    assert default_path().is_file()
    engine = FakeTranslator()
    again = CachedTranslator(engine)
    assert again.translate(["dos", "uno"]) == ["DOS", "UNO"] and engine.batches == [] and again.hits == 2


def _store_from_another_process(args: tuple[str, int]) -> int:
    path, worker = args
    cache = TranslationCache(path)
    info = EngineInfo("fake", "fake-es-en", "1")
    for n in range(40):  # many small transactions, interleaved with the other processes' writes and reads
        cache.store(info, "es", "en", {f"frase {worker}.{n}": f"SENTENCE {worker}.{n}", "común": "SHARED"})
        cache.lookup(info, "es", "en", [f"frase {worker}.{n}", "común"])
    assert cache.warning is None
    return len(cache.lookup(info, "es", "en", [f"frase {worker}.{n}" for n in range(40)]))


def test_concurrent_runs_share_one_cache_file(tmp_path: Path):
    path = str(tmp_path / "shared.sqlite")
    with ProcessPoolExecutor(4) as pool:
        assert list(pool.map(_store_from_another_process, [(path, w) for w in range(4)])) == [40] * 4
    assert len(TranslationCache(path)) == 4 * 40 + 1
    assert sqlite3.connect(path).execute("PRAGMA integrity_check").fetchone() == ("ok",)


def test_a_failed_write_leaves_no_part_of_its_batch(tmp_path: Path):
    cache = TranslationCache(tmp_path / "t.sqlite")
    info = EngineInfo("fake", "fake-es-en", "1")
    with pytest.raises(sqlite3.IntegrityError):  # the second row breaks NOT NULL after the first went in
        cache.store(info, "es", "en", {"uno": "ONE", "dos": None})
    assert cache.lookup(info, "es", "en", ["uno", "dos"]) == {} and len(cache) == 0
    cache.store(info, "es", "en", {"tres": "THREE"})
    assert cache.lookup(info, "es", "en", ["tres"]) == {"tres": "THREE"}


def test_an_engine_that_miscounts_is_an_error_and_nothing_is_stored(tmp_path: Path):
    engine = FakeTranslator()
    engine.translate = lambda sentences: ["ONE"]
    cached = CachedTranslator(engine, tmp_path / "t.sqlite")
    with pytest.raises(TranslationError, match="1 translations for 2 sentences"):
        cached.translate(["uno", "dos"])
    assert len(cached.cache) == 0


def test_an_unusable_cache_file_still_translates_with_a_warning(tmp_path: Path):
    broken = tmp_path / "translations.sqlite"
    broken.write_bytes(b"this is not a database" * 100)
    cached = CachedTranslator(FakeTranslator(), broken)
    assert cached.translate(["uno"]) == ["UNO"]
    assert cached.warning and "translations.sqlite" in cached.warning
    assert broken.read_bytes() == b"this is not a database" * 100  # the user's file is left as it was


# --- the chooser ---------------------------------------------------------------------------------------------------

@pytest.fixture
def fake_argos(monkeypatch: pytest.MonkeyPatch) -> types.ModuleType:
    """``translate.argos`` with no packages installed (tests give it some by replacing ``packages``)."""
    module = types.ModuleType("polyalign.translate.argos")
    module.packages = {}
    module.find_translator = lambda source, target: module.packages.get((source, target))
    module.needed_packages = lambda source, target: (f"no Argos package translates {source}→{target}; "
                                                     f"install translate-{source}_{target}")
    monkeypatch.setitem(sys.modules, "polyalign.translate.argos", module)
    return module


def test_apertium_is_chosen_for_spanish_to_english(fake_argos):
    needs_apertium()
    chosen = engines.choose("es", "en")
    assert isinstance(chosen, CachedTranslator) and isinstance(chosen.translator, ApertiumTranslator)
    assert isinstance(engines.choose("es", "en", cache=False), ApertiumTranslator)
    assert isinstance(engines.choose("en", "es", engine="apertium", cache=False), ApertiumTranslator)
    assert "bars" in chosen.translate(["Dieciséis personas fueron asesinadas en dos bares."])[0]


def test_an_argos_package_for_the_pair_comes_first(fake_argos):
    package = FakeTranslator(info=EngineInfo("argos", "translate-es_en-1_0", "1.0"))
    fake_argos.packages[("es", "en")] = package
    assert engines.choose("es", "en", cache=False) is package
    assert engines.choose("es", "en", engine="argos", cache=False) is package


def test_norwegian_without_packages_names_what_to_install(fake_argos):
    with pytest.raises(TranslationError, match="install translate-nb_en"):
        engines.choose("nb", "en")
    with pytest.raises(TranslationError, match="install translate-nb_en"):
        engines.choose("nb", "en", engine="argos")


def test_without_argos_at_all_the_advice_says_to_install_it(monkeypatch: pytest.MonkeyPatch,
                                                             fresh_apertium_lookups):
    monkeypatch.setitem(sys.modules, "polyalign.translate.argos", None)  # importing it raises ImportError
    with pytest.raises(TranslationError, match="pip install argostranslate"):
        engines.choose("nb", "en")
    monkeypatch.setattr(apertium.shutil, "which", lambda name: None)
    with pytest.raises(TranslationError, match="apertium-eng-spa") as err:
        engines.choose("es", "en")
    assert "argostranslate" in str(err.value)
    with pytest.raises(TranslationError, match="apt-get install apertium apertium-eng-spa"):
        engines.choose("es", "en", engine="apertium")


def test_unknown_engines_and_same_language_pairs_are_errors(fake_argos):
    with pytest.raises(TranslationError, match="known: argos, apertium"):
        engines.choose("es", "en", engine="google")
    with pytest.raises(TranslationError, match="nothing to translate"):
        engines.choose("en", "en")


# --- polyalign translate -------------------------------------------------------------------------------------------

def test_translate_keeps_paragraphs_and_caches(tmp_path: Path):
    needs_apertium()
    out = tmp_path / "ojo.mt.en.txt"
    result = polyalign("translate", OJO_ES, "--to", "en", "-o", out)
    assert result.returncode == 0, result.stderr
    lines = out.read_text(encoding="utf-8").splitlines()
    assert len(lines) == len(OJO_ES.read_text(encoding="utf-8").splitlines()) == 8
    assert "people were murdered in two bars" in lines[0] and "«" in lines[1]
    assert "25 sentences in 8 paragraphs" in result.stderr and "apertium-eng-spa" in result.stderr
    again = polyalign("translate", OJO_ES, "--to", "en")
    assert again.returncode == 0 and "25 from the translation cache, 0 translated now" in again.stderr
    assert again.stdout.splitlines() == lines


def test_translate_presplit_keeps_every_sentence_and_paragraph(tmp_path: Path):
    needs_apertium()
    out = tmp_path / "ojo.mt.en.txt"
    result = polyalign("translate", OJO_ES_PRESPLIT, "--to", "en", "--presplit", "-o", out)
    assert result.returncode == 0, result.stderr
    shape = [bool(line) for line in OJO_ES_PRESPLIT.read_text(encoding="utf-8").splitlines()]
    assert [bool(line) for line in out.read_text(encoding="utf-8").splitlines()] == shape  # 25 lines, 8 paragraphs


def test_translate_errors_are_one_line(tmp_path: Path):
    cases = [
        (("translate", SAMPLES / "vraem.nb.txt", "--to", "en"), "rgos"),  # argos's advice: what to install
        (("translate", OJO_ES, "--to", "es"), "already in Spanish"),
        (("translate", OJO_ES, "--to", "en", "--engine", "google"), "known: argos, apertium"),
        (("translate", OJO_ES, "--to", "xx"), "'xx' is not a language code"),
        (("translate", tmp_path / "missing.es.txt", "--to", "en"), "no such file"),
    ]
    for args, message in cases:
        result = polyalign(*args)
        assert result.returncode == 1 and message in result.stderr, (args, result.stderr)
        last = result.stderr.strip().splitlines()[-1]  # (importing argostranslate may warn before it)
        assert last.startswith("polyalign: error: ") and message in last and "Traceback" not in result.stderr


def test_translate_help_has_an_example():
    assert "Example:" in polyalign("translate", "--help").stdout
