"""The default model's fast path (align/e5_onnx.py): the quantised ONNX graph must give the float32 model's vectors on
real text, from one pass, without torch, as a model identity of its own in the embedding cache, and a graph that
fails its check must never be used.

The real default model is used (the session ``encoder`` runs the graph; ``float32`` below is the same model on
sentence-transformers); the build-failure tests fake the expensive steps in a folder of their own.
"""
from __future__ import annotations

import json
import subprocess
import sys
import warnings
from pathlib import Path

import numpy as np
import pytest

from polyalign.align import e5, e5_onnx, embed
from polyalign.align.embedding_cache import model_identity
from polyalign.align.pipeline import read_versions

REPO = Path(__file__).resolve().parents[1]
HEAVY = ("torch", "transformers", "sentence_transformers")


@pytest.fixture(scope="module")
def float32():
    return embed.Encoder(cache=False, backend="torch")


@pytest.fixture(scope="module")
def sample_sentences() -> list[str]:
    """Every sentence of every sample text (nb, es, en), as ``polyalign align`` segments them."""
    texts = []
    for path in sorted((REPO / "samples").glob("*.*.txt")):
        [doc] = read_versions([path], [path.name.split(".")[-2]])
        texts += [s.text for s in doc.sentences]
    assert len(texts) > 200
    return texts


def test_the_default_model_runs_on_its_quantised_graph(encoder, float32):
    assert encoder.backend == e5_onnx.BACKEND == "onnx-q4-int8"
    assert float32.backend == "sentence-transformers"
    folder = e5.default_model_dir()
    assert (folder / e5_onnx.ONNX_FILE).is_file()  # sentence-transformers' place for ONNX graphs: onnx/
    note = json.loads((folder / "onnx" / "polyalign_onnx.json").read_text())
    assert note["check"]["sentence_cosine_min"] >= e5_onnx.CHECK_MIN_COSINE
    assert encoder.prompt == float32.prompt == "query: " and encoder.dimension == float32.dimension == 384


def test_sentence_vectors_agree_with_float32_on_the_samples(encoder, float32, sample_sentences):
    fast, fast_tokens = encoder.encode_with_tokens(sample_sentences)
    slow, slow_tokens = float32.encode_with_tokens(sample_sentences)
    np.testing.assert_allclose(np.linalg.norm(fast, axis=1), 1.0, atol=1e-5)
    cosines = np.sum(fast * slow, axis=1)
    worst = int(np.argmin(cosines))
    assert cosines.min() >= 0.99, (sample_sentences[worst], float(cosines[worst]))

    # The token vectors come from the same pass: same tokens (the same tokenizer.json), close vectors.
    assert [t.shape for t in fast_tokens] == [t.shape for t in slow_tokens]
    assert all(t.dtype == np.float16 for t in fast_tokens)
    a = np.concatenate(fast_tokens).astype(np.float32)
    b = np.concatenate(slow_tokens).astype(np.float32)
    token_cosines = np.sum(a * b, axis=1) / np.linalg.norm(a, axis=1) / np.linalg.norm(b, axis=1)
    assert token_cosines.mean() >= 0.99 and np.quantile(token_cosines, 0.01) >= 0.95


def test_the_sentence_vector_is_the_mean_of_the_pass_that_gives_the_tokens(encoder):
    """Sentence and token vectors from one run of the graph: the prompt's and special tokens' rows aside, the
    token vectors are the rows the sentence vector averages."""
    text = "Seksten personer ble drept i to barer."
    ids = np.asarray(encoder.model.tokenizer.encode("query: " + text).ids, dtype=np.int64)
    [hidden] = e5_onnx.hidden_states(encoder.model.session, [ids], 1)
    vector, [tokens] = encoder.model.encode([text], "query: ", tokens=True)
    np.testing.assert_allclose(vector[0], e5_onnx.sentence_vector(hidden), atol=1e-6)
    prompt = encoder.model.token_count("query:")
    np.testing.assert_array_equal(tokens, hidden[1 + prompt:-1].astype(np.float16))  # <s> query : … </s>


def test_a_sentence_vector_does_not_depend_on_what_it_is_encoded_with(encoder):
    """A sentence's vector is the same whatever else is encoded (the embedding cache relies on it)."""
    text = "Dieciséis personas fueron asesinadas en dos bares."
    alone = encoder.encode([text])
    crowd = encoder.encode(["Ja.", text, "Myndighetene mistenker at restene av Sendero Luminoso sto bak angrepet, "
                                         "men flere lokale ledere avviser dette og peker på kriminelle grupper."])
    np.testing.assert_array_equal(alone[0], crowd[1])


def test_the_fast_path_is_a_model_identity_of_its_own(encoder, float32, tmp_path):
    folder = e5.default_model_dir()
    fast = model_identity(folder, 512, backend=e5_onnx.BACKEND)
    slow = model_identity(folder, 512)
    assert json.loads(fast)["backend"] == e5_onnx.BACKEND and "backend" not in json.loads(slow)
    assert not any(f[0].startswith("onnx/") for f in json.loads(slow)["files"])  # building the graph keeps float32's

    with_cache = []
    for enc in (float32, encoder):
        enc.use_cache(tmp_path)
        with_cache.append(enc.cache)
    try:
        slow_cache, fast_cache = with_cache
        assert slow_cache.identity == slow and fast_cache.identity == fast
        assert slow_cache.path != fast_cache.path
        float32.encode(["Sixteen people were killed in two bars."])
        calls = encoder.calls
        encoder.encode(["Sixteen people were killed in two bars."])
        assert encoder.calls == calls + 1  # the float32 entry is not an answer for the quantised graph
    finally:
        float32.cache = encoder.cache = None  # the session's encoder has no cache


def test_a_batch_redoes_its_documents_when_the_encoder_changes(monkeypatch):
    """The float32 path and the graph give other vectors, so other outputs: a batch must not skip the documents
    the other one aligned."""
    from polyalign.align.batch import Settings

    monkeypatch.delenv(embed.BACKEND_ENVIRONMENT, raising=False)
    fast = Settings().key()
    monkeypatch.setenv(embed.BACKEND_ENVIRONMENT, "torch")
    assert Settings().key() != fast
    assert Settings(model="some/model").key()["model"] == "some/model"


IMPORTS = r"""
import sys
from polyalign.align.cli import main
try:
    main(sys.argv[1:])
except SystemExit as done:
    if done.code:
        raise
print("LOADED:", *(name for name in {heavy!r} if name in sys.modules))
"""


def loaded_after(*args: str, tmp_path: Path) -> set[str]:
    """The heavy modules a ``polyalign`` command (run in a process of its own) has imported when it ends."""
    done = subprocess.run([sys.executable, "-c", IMPORTS.format(heavy=(*HEAVY, "onnxruntime", "tokenizers")), *args],
                          cwd=tmp_path, capture_output=True, text=True)
    assert done.returncode == 0, done.stderr[-2000:]
    [loaded] = [line for line in done.stdout.splitlines() if line.startswith("LOADED:")]
    return set(loaded.split()[1:])


def test_aligning_with_the_default_model_imports_no_torch(tmp_path):
    loaded = loaded_after("align", str(REPO / "samples/ojo.es.txt"), str(REPO / "samples/ojo.en.txt"),
                          "--no-translate", "--no-cache", "-o", "ojo.xml", tmp_path=tmp_path)
    assert (tmp_path / "ojo.xml").is_file()
    assert "onnxruntime" in loaded  # it did encode, on the graph
    assert not loaded & set(HEAVY), loaded


def test_help_imports_nothing_heavy(tmp_path):
    assert loaded_after("align", "--help", tmp_path=tmp_path) == set()


# --- a graph that fails, or cannot be built -------------------------------------------------------


@pytest.fixture
def fake_model(tmp_path, monkeypatch) -> Path:
    """A model folder of the test's own, standing for the default one."""
    folder = tmp_path / "model"
    folder.mkdir()
    monkeypatch.setattr(e5, "ensure_default_model", lambda progress=None: folder)
    return folder


def test_a_graph_that_fails_its_check_is_refused_for_good(fake_model, monkeypatch):
    built = []

    def drifting(model_folder, out):
        built.append(out)
        (out / Path(e5_onnx.ONNX_FILE).name).write_bytes(b"half")  # written, then refused
        raise e5_onnx.FastEncoderUnavailable("the quantised graph drifted from the float32 model (cosine 0.95)")

    monkeypatch.setattr(e5_onnx, "build_onnx", drifting)
    said: list[str] = []
    for _ in range(2):
        with pytest.raises(e5_onnx.FastEncoderUnavailable, match="drifted"):
            e5_onnx.ensure_fast_model(said.append)
    assert len(built) == 1  # the refusal is remembered: no second 30-second build
    assert said == [e5_onnx.BUILD_MESSAGE]
    assert sorted(p.name for p in fake_model.iterdir()) == ["onnx.failed"]  # no graph, no temporary folder


def test_a_build_that_crashes_is_retried_next_run(fake_model, monkeypatch):
    def crash(model_folder, out):
        raise OSError("No space left on device")

    monkeypatch.setattr(e5_onnx, "build_onnx", crash)
    with pytest.raises(e5_onnx.FastEncoderUnavailable, match="cannot build it: No space left"):
        e5_onnx.ensure_fast_model()
    assert list(fake_model.iterdir()) == []

    monkeypatch.setattr(e5_onnx, "build_onnx", lambda model_folder, out: (out / Path(e5_onnx.ONNX_FILE).name).touch())
    assert e5_onnx.ensure_fast_model() == fake_model
    assert (fake_model / e5_onnx.ONNX_FILE).is_file()


def test_without_its_graph_the_default_model_runs_in_float32_and_says_so(fake_model, monkeypatch):
    (fake_model / e5_onnx.FAILED_FILE).write_text(f"{e5_onnx.BACKEND}: the quantised graph drifted from the float32 "
                                                  "model\n")
    loaded = []

    class Float32:
        backend = None

        def __init__(self, path, device=None, batch_size=32):
            loaded.append(path)

    monkeypatch.setattr(embed, "SentenceTransformerModel", Float32)
    said: list[str] = []
    model, path = embed.load_model(progress=said.append)
    assert isinstance(model, Float32) and loaded == [str(fake_model)] == [path]
    assert said == ["warning: not using the fast encoder: the quantised graph drifted from the float32 model; "
                    "encoding in float32 (slower)"]
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        embed.load_model()
    assert "not using the fast encoder" in str(caught[0].message)


def test_the_float32_path_can_be_asked_for(fake_model, monkeypatch):
    monkeypatch.setattr(embed, "SentenceTransformerModel", lambda path, device=None, batch_size=32: ("st", path))
    monkeypatch.setattr(e5_onnx, "ensure_fast_model", lambda progress=None: pytest.fail("the graph was loaded"))
    monkeypatch.setenv(embed.BACKEND_ENVIRONMENT, "torch")
    assert embed.load_model()[0] == ("st", str(fake_model))
    monkeypatch.delenv(embed.BACKEND_ENVIRONMENT)
    assert embed.load_model(backend="torch")[0] == ("st", str(fake_model))
    with pytest.raises(ValueError, match="unknown encoder backend 'gpu'"):
        embed.load_model(backend="gpu")


def test_the_check_tells_a_good_graph_from_a_bad_one(encoder):
    """``check`` is what stands between a broken export and the users: it must fail on wrong vectors."""
    import torch
    from transformers import BertModel

    folder = e5.default_model_dir()
    bert = BertModel.from_pretrained(str(folder), add_pooling_layer=False, attn_implementation="eager").eval()
    sentences = [np.asarray(encoder.model.tokenizer.encode("query: " + t).ids, dtype=np.int64)
                 for t in e5_onnx.CHECK_SENTENCES[:3]]
    with torch.inference_mode():
        reference = [bert(input_ids=torch.from_numpy(ids[None])).last_hidden_state[0].numpy() for ids in sentences]
    graph = folder / e5_onnx.ONNX_FILE
    cosine, token_cosine = e5_onnx.check(graph, sentences, reference)
    assert cosine >= e5_onnx.CHECK_MIN_COSINE and token_cosine >= e5_onnx.CHECK_MIN_TOKEN_COSINE
    wrong = [np.roll(r, 7, axis=1) for r in reference]  # the dimensions shuffled: what a botched export gives
    cosine, token_cosine = e5_onnx.check(graph, sentences, wrong)
    assert cosine < e5_onnx.CHECK_MIN_COSINE and token_cosine < e5_onnx.CHECK_MIN_TOKEN_COSINE


def test_a_graph_of_an_earlier_recipe_is_rebuilt(fake_model, monkeypatch):
    """A folder built by an earlier polyalign (every product 4-bit, ``onnx/model_q4.onnx``) gives other vectors:
    its ``onnx/`` is replaced by this recipe's graph, and its refusal note, if any, does not stop this recipe."""
    old = fake_model / "onnx"
    old.mkdir()
    (old / "model_q4.onnx").write_bytes(b"earlier recipe")
    (fake_model / e5_onnx.FAILED_FILE).write_text("the 4-bit graph drifted from the float32 model\n")
    monkeypatch.setattr(e5_onnx, "build_onnx", lambda model_folder, out: (out / Path(e5_onnx.ONNX_FILE).name).touch())
    assert e5_onnx.ensure_fast_model() == fake_model
    assert sorted(p.relative_to(fake_model).as_posix() for p in fake_model.rglob("*")) == ["onnx", e5_onnx.ONNX_FILE]


def test_this_recipes_refusal_is_remembered_across_processes(fake_model, monkeypatch):
    (fake_model / e5_onnx.FAILED_FILE).write_text(f"{e5_onnx.BACKEND}: the quantised graph drifted (cosine 0.95)\n")
    monkeypatch.setattr(e5_onnx, "build_onnx", lambda model_folder, out: pytest.fail("rebuilt a refused recipe"))
    with pytest.raises(e5_onnx.FastEncoderUnavailable, match=r"^the quantised graph drifted \(cosine 0.95\)$"):
        e5_onnx.ensure_fast_model()
