"""The Argos Translate engine on tiny random-weight packages built here: install, list, translate in
batches, pivot through English, remove, reject broken files, and the ``polyalign models`` commands.

The packages translate into garbage; these tests prove the plumbing, never the quality. Every test gets
its own empty package folder (ARGOS_PACKAGES_DIR) and XDG homes: the user's packages are never touched,
and nothing is downloaded (the index is a file:// URL or a closed local port)."""
from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from pathlib import Path

import pytest
from click.testing import CliRunner

from tests.argos_fixture import CORPUS, build_package_folder, zip_package
from polyalign.translate import argos
from polyalign.translate.base import EngineInfo, TranslationError, Translator

REPO = Path(__file__).resolve().parents[1]
CLOSED_PORT = "http://127.0.0.1:9/"  # the discard port: nothing listens, so a connection fails at once


@pytest.fixture(scope="session")
def folders(tmp_path_factory) -> dict[str, Path]:
    """Unzipped tiny packages, built once: nb→en 1.0 and 1.1, en→es (with a target prefix, as some real
    packages have)."""
    out = tmp_path_factory.mktemp("argos-build")
    return {"nb_en": build_package_folder(out / "a", "nb", "en", seed=1),
            "nb_en 1.1": build_package_folder(out / "b", "nb", "en", version="1.1", seed=2),
            "en_es": build_package_folder(out / "c", "en", "es", seed=3, target_prefix="__es__")}


@pytest.fixture(scope="session")
def models(folders, tmp_path_factory) -> dict[str, Path]:
    """The same packages as .argosmodel files."""
    out = tmp_path_factory.mktemp("argos-files")
    return {key: zip_package(folder, out / f"{folder.name}.argosmodel") for key, folder in folders.items()}


@pytest.fixture(autouse=True)
def packages(tmp_path, monkeypatch) -> Path:
    """An empty package folder and XDG homes of this test's own, for us and for argostranslate."""
    for var in ("XDG_DATA_HOME", "XDG_CONFIG_HOME", "XDG_CACHE_HOME"):
        monkeypatch.setenv(var, str(tmp_path / "xdg" / var.lower()))
    monkeypatch.setenv("ARGOS_PACKAGES_DIR", str(tmp_path / "argos" / "packages"))
    monkeypatch.setenv("ARGOS_PACKAGE_INDEX", CLOSED_PORT)
    return tmp_path / "argos" / "packages"


def traces(packages: Path) -> list[str]:
    """Everything under the package folder and beside it (where installs stage their files)."""
    return sorted(str(p.relative_to(packages.parent)) for p in packages.parent.rglob("*"))


class Spy:
    """Stands in for a ctranslate2.Translator: records each translate_batch call, then passes it on."""

    def __init__(self, model):
        self.model, self.calls = model, []

    def translate_batch(self, batch, **options):
        self.calls.append((len(batch), options))
        return self.model.translate_batch(batch, **options)


class Echo:
    """A model that returns its input (after the target prefix, as CTranslate2 returns it): shows that
    every output lands at its own sentence's place, decoded and without the prefix."""

    def translate_batch(self, batch, target_prefix=None, **options):
        from types import SimpleNamespace

        return [SimpleNamespace(hypotheses=[(prefix or []) + list(tokens)])
                for tokens, prefix in zip(batch, target_prefix or [None] * len(batch))]


# --- install, list, remove ---------------------------------------------------------------------------------

def test_install_puts_the_package_where_argostranslate_looks(models, packages):
    package = argos.install(models["nb_en"])
    assert (package.from_code, package.to_code, package.version) == ("nb", "en", "1.0")
    assert package.name == "translate-nb_en" and package.path == packages / "translate-nb_en-1_0"
    assert {p.name for p in package.path.iterdir()} >= {"metadata.json", "sentencepiece.model", "model"}
    assert argos.installed() == [package]
    assert [p.name for p in packages.parent.iterdir()] == ["packages"]  # no staging folder left
    assert [p.name for p in packages.iterdir()] == ["translate-nb_en-1_0"]
    argospm = subprocess.run([sys.executable, "-c", "from argostranslate.argospm import main; main()", "list"],
                             capture_output=True, text=True, env=os.environ)
    assert argospm.returncode == 0, argospm.stderr
    assert argospm.stdout.split() == ["translate-nb_en"]


def test_a_package_installed_by_argospm_is_found(folders, packages):
    import shutil

    shutil.copytree(folders["nb_en"], packages / "translate-nb_en-1_0")  # what argostranslate's install does
    (packages / "not-a-package").mkdir()
    assert [p.name for p in argos.installed()] == ["translate-nb_en"]
    assert argos.find_translator("nb", "en") is not None


def test_another_version_replaces_the_installed_one(models, packages):
    argos.install(models["nb_en"])
    newer = argos.install(models["nb_en 1.1"])
    assert argos.installed() == [newer] and newer.version == "1.1"
    assert [p.name for p in packages.iterdir()] == ["translate-nb_en-1_1"]
    again = argos.install(models["nb_en 1.1"])
    assert argos.installed() == [again] == [newer]
    assert [p.name for p in packages.parent.iterdir()] == ["packages"]  # no staging folder left


def test_remove(models, packages):
    argos.install(models["nb_en"])
    argos.install(models["en_es"])
    assert [p.name for p in argos.remove("nb", "en")] == ["translate-nb_en"]
    assert [p.name for p in argos.installed()] == ["translate-en_es"]
    assert argos.find_translator("nb", "en") is None
    with pytest.raises(TranslationError, match="no translate-nb_en package is installed"):
        argos.remove("nb", "en")


# --- broken files ------------------------------------------------------------------------------------------

def broken(case: str, folder: Path, dest: Path) -> Path:
    top = folder.name
    if case == "not a zip":
        dest.write_text("this is not a zip archive\n")
        return dest
    if case in ("truncated", "damaged"):
        data = bytearray(zip_package(folder, dest).read_bytes())
        if case == "truncated":
            data = data[: len(data) // 2]
        else:  # bytes flipped inside the compressed model
            middle = data.find(b"model/model.bin") + 200
            data[middle:middle + 64] = bytes(b ^ 0xFF for b in data[middle:middle + 64])
        dest.write_bytes(bytes(data))
        return dest
    variants = {
        "no metadata": {"drop": ("metadata.json",)},
        "metadata without to_code": {"replace": {"metadata.json": json.dumps({"from_code": "nb",
                                                                               "package_version": "1"}).encode()}},
        "metadata not JSON": {"replace": {"metadata.json": b"{from_code: nb"}},
        "not a translation package": {"replace": {"metadata.json": json.dumps(
            {"from_code": "nb", "to_code": "en", "package_version": "1", "type": "sbd"}).encode()}},
        "no model.bin": {"drop": ("model/model.bin",)},
        "model.bin garbage": {"replace": {"model/model.bin": b"\x00" * 64}},
        "no vocabulary": {"drop": ("model/shared_vocabulary.json",)},
        "no sentencepiece model": {"drop": ("sentencepiece.model",)},
        "sentencepiece model garbage": {"replace": {"sentencepiece.model": b"garbage"}},
        "path traversal": {"extra": {f"{top}/../../evil.txt": b"owned"}},
        "absolute path": {"extra": {"/tmp/polyalign-evil.txt": b"owned"}},
    }
    return zip_package(folder, dest, **variants[case])


BROKEN = {  # case: what the one-line message says
    "not a zip": "not a readable .argosmodel (zip) file",
    "truncated": "not a readable .argosmodel (zip) file",
    "damaged": "not a readable .argosmodel (zip) file",
    "no metadata": "no metadata.json",
    "metadata without to_code": "metadata.json lacks to_code",
    "metadata not JSON": "metadata.json is unreadable",
    "not a translation package": "'sbd' package",
    "no model.bin": "no CTranslate2 model (model/model.bin)",
    "model.bin garbage": "does not load or run",
    "no vocabulary": "does not load or run",
    "no sentencepiece model": "no sentencepiece.model",
    "sentencepiece model garbage": "does not load or run",
    "path traversal": "unsafe path",
    "absolute path": "unsafe path",
}


@pytest.mark.parametrize("case", list(BROKEN))
def test_a_broken_file_is_rejected_and_leaves_no_trace(case, folders, models, packages, tmp_path):
    argos.install(models["en_es"])  # an installed package must survive a failed install untouched
    before = traces(packages)
    bad = broken(case, folders["nb_en"], tmp_path / f"{case.replace(' ', '-')}.argosmodel")
    with pytest.raises(TranslationError) as caught:
        argos.install(bad)
    message = str(caught.value)
    assert str(bad) in message and BROKEN[case] in message and "\n" not in message
    assert traces(packages) == before
    assert not (tmp_path / "evil.txt").exists() and not Path("/tmp/polyalign-evil.txt").exists()


def test_a_broken_reinstall_keeps_the_working_version(folders, models, packages, tmp_path):
    good = argos.install(models["nb_en"])
    bad = broken("model.bin garbage", folders["nb_en"], tmp_path / "bad.argosmodel")
    with pytest.raises(TranslationError):
        argos.install(bad)
    assert argos.installed() == [good]
    assert argos.find_translator("nb", "en").translate(["Hei."])[0]


def test_a_missing_file():
    with pytest.raises(TranslationError, match="nowhere.argosmodel: no such file"):
        argos.install("nowhere.argosmodel")


# --- translating -------------------------------------------------------------------------------------------

def test_translate_a_batch_in_chunks(models):
    argos.install(models["nb_en"])
    translator = argos.find_translator("nb", "en")
    assert isinstance(translator, Translator)
    assert (translator.source, translator.target) == ("nb", "en")
    assert translator.info == EngineInfo("argos", "translate-nb_en", "1.0")
    sentences = (CORPUS * 7)[:70] + ["", "   "]
    first = translator.translate(sentences)
    spy = translator._model = Spy(translator._model)
    second = translator.translate(sentences)
    assert len(first) == len(sentences) and all(isinstance(s, str) for s in first)
    assert first == second  # deterministic
    assert first[-2:] == ["", ""] and all(first[:70])  # empty in, empty out; the rest translated
    assert [size for size, _ in spy.calls] == [32, 32, 6]
    assert all(options["target_prefix"] is None and options["beam_size"] == 4 for _, options in spy.calls)
    assert translator.translate([]) == []


def test_each_output_goes_to_its_own_sentence_and_the_target_prefix_is_dropped(models):
    argos.install(models["en_es"])
    translator = argos.find_translator("en", "es")
    assert not any(out.startswith("__es__") for out in translator.translate(CORPUS[7:10]))
    translator._model = Spy(Echo())
    sentences = ["A much longer sentence than the others, to be sorted last.", "Short.", "", "Two words."]
    assert translator.translate(sentences) == sentences
    assert translator._model.calls[0][1]["target_prefix"] == [["__es__"]] * 3


def test_pivot_through_english(models):
    argos.install(models["nb_en"])
    assert argos.find_translator("nb", "es") is None
    assert "translate-en_es to translate through English (translate-nb_en is installed)" in \
        argos.needed_packages("nb", "es")
    argos.install(models["en_es"])
    translator = argos.find_translator("nb", "es")
    assert isinstance(translator, argos.PivotTranslator) and isinstance(translator, Translator)
    assert (translator.source, translator.target) == ("nb", "es")
    assert translator.info == EngineInfo("argos", "translate-nb_en+translate-en_es", "1.0+1.0")
    out = translator.translate(CORPUS[:4])
    assert len(out) == 4 and all(isinstance(s, str) and s for s in out)
    assert out == translator.translate(CORPUS[:4])
    assert argos.find_translator("es", "nb") is None  # no way back
    assert argos.find_translator("en", "nb") is None and argos.find_translator("nb", "nb") is None


def test_end_to_end_with_the_cache_and_the_aligner(models, encoder, tmp_path):
    """The path a user takes: install, translate through the cache (a second run never reaches the model),
    remove; and `align` uses the package as evidence and writes its layer."""
    from polyalign.align.pipeline import align_versions, read_versions
    from tests.conftest import SAMPLES
    from polyalign.translate.engines import choose

    argos.install(models["en_es"])
    cached = choose("en", "es")
    sentences = CORPUS[:12]
    first = cached.translate(sentences)
    inner = cached.translator
    inner._model = Spy(inner._model)
    assert cached.translate(sentences) == first and inner._model.calls == []  # all hits
    assert cached.hits == cached.misses == len(set(sentences))
    assert choose("en", "es").translate(sentences) == first  # a new run reads the same cache file

    docs = read_versions([SAMPLES / "ojo.es.txt", SAMPLES / "ojo.en.txt"], [None, None])
    [alignment] = align_versions(docs, encoder, translators={"en": choose("en", "es", engine="argos")})
    assert alignment.gloss.engine == "argos" and alignment.gloss.model == "translate-en_es"
    assert len(alignment.gloss.texts) == len(docs[1].sentences)

    argos.remove("en", "es")
    with pytest.raises(TranslationError, match="translate-en_es"):
        choose("en", "es", engine="argos")


def test_a_package_may_call_bokmal_no(folders, tmp_path):
    metadata = json.loads((folders["nb_en"] / "metadata.json").read_text())
    no_en = zip_package(folders["nb_en"], tmp_path / "no_en.argosmodel",
                        replace={"metadata.json": json.dumps({**metadata, "from_code": "no"}).encode()})
    argos.install(no_en)
    translator = argos.find_translator("nb", "en")
    assert (translator.source, translator.info.model) == ("nb", "translate-no_en")
    assert [p.name for p in argos.remove("nb", "en")] == ["translate-no_en"]


def test_needed_packages_says_what_to_install_and_how():
    line = argos.needed_packages("nb", "en")
    assert "translate-nb_en" in line and "polyalign models install" in line
    assert "polyalign models fetch nb en" in line and "\n" not in line
    line = argos.needed_packages("nb", "es")
    assert "install translate-nb_es, or translate-nb_en and translate-en_es" in line
    assert "`polyalign models fetch nb en` and `polyalign models fetch en es`" in line


def test_nothing_is_loaded_until_the_first_translation(models):
    argos.install(models["nb_en"])
    translator = argos.find_translator("nb", "en")
    assert translator._model is None
    translator.translate(["Hei."])
    assert translator._model is not None


# --- fetching ----------------------------------------------------------------------------------------------

def test_fetch_without_a_network_fails_fast_and_says_what_to_do(packages):
    start = time.monotonic()
    with pytest.raises(TranslationError) as caught:
        argos.fetch("nb", "en")
    assert time.monotonic() - start < 5
    message = str(caught.value)
    assert "cannot fetch the Argos package index" in message and "\n" not in message
    assert "translate-nb_en.argosmodel" in message and "polyalign models install" in message
    assert traces(packages) == []


def test_fetch_from_an_index(models, tmp_path, monkeypatch):
    """A local index (file:// URLs) stands in for the Argos one: the same path as a download."""
    index = tmp_path / "index"
    index.mkdir()
    entry = {"type": "translate", "from_code": "nb", "to_code": "en", "package_version": "1.1",
             "links": [f"file://{tmp_path}/missing.argosmodel", models["nb_en 1.1"].as_uri()]}
    older = {**entry, "package_version": "1.0", "links": [models["nb_en"].as_uri()]}
    (index / "index.json").write_text(json.dumps([older, entry]))
    monkeypatch.setenv("ARGOS_PACKAGE_INDEX", index.as_uri() + "/")
    said = []
    package = argos.fetch("nb", "en", report=said.append)
    assert (package.name, package.version) == ("translate-nb_en", "1.1") and argos.installed() == [package]
    assert any("downloading translate-nb_en 1.1" in line for line in said)
    with pytest.raises(TranslationError, match="index has no translate-nb_es package; fetch nb en and en es"):
        argos.fetch("nb", "es")
    broken_link = (REPO / "README.md").as_uri()
    (index / "index.json").write_text(json.dumps([{**entry, "from_code": "en", "to_code": "es",
                                                   "links": [broken_link]}]))
    with pytest.raises(TranslationError, match=f"^{broken_link}: not a readable .argosmodel"):
        argos.fetch("en", "es")
    assert argos.installed() == [package]


# --- polyalign models --------------------------------------------------------------------------------------

def models_cli(*args: str | Path):
    from polyalign.align.cli import main

    return CliRunner().invoke(main, ["models", *map(str, args)], env=dict(os.environ))


def test_models_commands(models, packages):
    result = models_cli("install", models["nb_en"])
    assert result.exit_code == 0, result.output
    assert "installed translate-nb_en 1.0 (nb → en)" in result.stderr
    result = models_cli("list")
    assert result.exit_code == 0
    assert result.stdout.split("\t")[:3] == ["translate-nb_en", "nb → en", "1.0"]
    assert str(packages / "translate-nb_en-1_0") in result.stdout
    result = models_cli("remove", "nb", "en")
    assert result.exit_code == 0 and "removed translate-nb_en 1.0" in result.stderr
    result = models_cli("list")
    assert result.exit_code == 0 and result.stdout == "" and "no translation packages" in result.stderr


@pytest.mark.parametrize("args, problem", [
    (["install", "nowhere.argosmodel"], "nowhere.argosmodel: no such file"),
    (["install", "README.md"], "not a readable .argosmodel (zip) file"),
    (["remove", "nb", "en"], "no translate-nb_en package is installed"),
])
def test_models_errors_are_one_line(args, problem, packages):
    result = models_cli(*[REPO / a if a == "README.md" else a for a in args])
    assert result.exit_code == 1
    assert result.stderr.strip().splitlines() == [result.stderr.strip()] and problem in result.stderr
    assert result.stderr.startswith("polyalign: error: ")


def test_models_fetch_offline_is_one_line_and_quick(packages):
    start = time.monotonic()
    result = subprocess.run([sys.executable, "-m", "polyalign.align.cli", "models", "fetch", "nb", "en"], capture_output=True,
                            text=True, cwd=REPO, env={**os.environ, "PYTHONPATH": str(REPO)}, timeout=60)
    assert time.monotonic() - start < 30
    assert result.returncode == 1 and "Traceback" not in result.stderr
    error = [line for line in result.stderr.splitlines() if "error:" in line]
    assert len(error) == 1 and "polyalign models install translate-nb_en.argosmodel" in error[0]


def test_every_models_command_has_an_example():
    from polyalign.align.cli import main

    for command in ([], ["install"], ["list"], ["remove"], ["fetch"]):
        result = CliRunner().invoke(main, ["models", *command, "--help"])
        assert result.exit_code == 0 and "Example:" in result.stdout, command
