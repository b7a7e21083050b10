"""Fixtures shared across test modules: the real default model, loaded once per test run, an embedding cache of
the run's own, and a check that every TEI corpus a test makes is valid."""
from __future__ import annotations

import os
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]
SAMPLES = REPO / "samples"


@pytest.fixture(scope="session", autouse=True)
def embedding_cache_of_the_run(tmp_path_factory: pytest.TempPathFactory):
    """Every Encoder the tests make with the default cache, in this process or in a ``polyalign`` they run, keeps
    its vectors in a folder of this run's, never in the user's cache. Only the embedding cache moves: the default
    model stays where it is (XDG_CACHE_HOME), built once for every run."""
    from polyalign.align.embedding_cache import ENVIRONMENT

    before = os.environ.get(ENVIRONMENT)
    os.environ[ENVIRONMENT] = str(tmp_path_factory.mktemp("embeddings"))
    yield Path(os.environ[ENVIRONMENT])
    if before is None:
        os.environ.pop(ENVIRONMENT, None)
    else:
        os.environ[ENVIRONMENT] = before


@pytest.fixture(scope="session")
def encoder():
    """The default model without a cache: tests of the model and the pipeline see every text go through it
    (they count ``calls``, or change what the model returns). tests/test_embedding_cache.py adds caches."""
    from polyalign.align.embed import Encoder

    return Encoder(cache=False)


@pytest.fixture(autouse=True)
def every_tei_is_valid(monkeypatch: pytest.MonkeyPatch):
    """Whatever a test writes through ``tei.writer`` must pass ``tei.validate`` (tei_all and the project's
    rules), or the test fails: "every TEI the project writes, in every test, passes it". Tests that break a
    file on purpose do so after writing it."""
    from polyalign.tei import validate, writer

    build = writer.build_tei

    def build_and_check(*args, **kwargs):
        root = build(*args, **kwargs)
        problems = validate.validate(root)
        assert not problems, "polyalign wrote an invalid TEI:\n" + "\n".join(problems[:10])
        return root

    monkeypatch.setattr(writer, "build_tei", build_and_check)
