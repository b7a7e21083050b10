"""Fixtures shared across test modules: the real default model, loaded once per test run, and a check that
every TEI corpus a test makes is valid."""
from __future__ import annotations

from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]
SAMPLES = REPO / "samples"


@pytest.fixture(scope="session")
def encoder():
    from align.embed import Encoder

    return Encoder()


@pytest.fixture(autouse=True)
def every_tei_is_valid(monkeypatch: pytest.MonkeyPatch):
    """Whatever a test writes through ``tei.writer`` must pass ``tei.validate`` (tei_all and the project's
    rules), or the test fails: "every TEI the project writes, in every test, passes it". Tests that break a
    file on purpose do so after writing it."""
    from tei import validate, writer

    build = writer.build_tei

    def build_and_check(*args, **kwargs):
        root = build(*args, **kwargs)
        problems = validate.validate(root)
        assert not problems, "polyalign wrote an invalid TEI:\n" + "\n".join(problems[:10])
        return root

    monkeypatch.setattr(writer, "build_tei", build_and_check)
