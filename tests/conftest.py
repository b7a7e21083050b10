"""Fixtures shared across test modules: the real default model, loaded once per test run."""
from __future__ import annotations

from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]
SAMPLES = REPO / "samples"


@pytest.fixture(scope="session")
def encoder():
    from align.embed import Encoder

    return Encoder()
