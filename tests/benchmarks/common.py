"""Shared by the benchmark scripts: the development gold sets, encoded once and cached on disk.

Not a test module: pytest never collects this folder's files (they are not named test_*).
"""
from __future__ import annotations

import hashlib
import os
import time
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from align.aligner import AlignedBead, AlignerSettings, Side, align
from align.evaluate import IndexBead, read_beads

EVAL_ROOT = Path(os.environ.get("POLYALIGN_EVAL", Path(__file__).resolve().parents[3] / "shared" / "eval"))
CACHE = Path(os.environ.get("POLYALIGN_BENCH_CACHE", Path.home() / ".cache" / "polyalign" / "bench"))


@dataclass
class GoldDocument:
    set_name: str
    name: str
    src: list[str]
    tgt: list[str]
    gold: list[IndexBead]


def read_lines(path: Path) -> list[str]:
    lines = path.read_text(encoding="utf-8").split("\n")
    return lines[:-1] if lines and lines[-1] == "" else lines


def gold_sets(root: Path = EVAL_ROOT) -> dict[str, list[GoldDocument]]:
    """Every ``<set>/<doc>/{src,tgt,gold}.txt`` under ``root``, by set."""
    sets: dict[str, list[GoldDocument]] = {}
    for gold in sorted(root.glob("*/*/gold.txt")):
        doc = gold.parent
        sets.setdefault(doc.parent.name, []).append(
            GoldDocument(doc.parent.name, doc.name, read_lines(doc / "src.txt"), read_lines(doc / "tgt.txt"),
                         read_beads(gold)))
    return sets


@dataclass
class CachedEncoder:
    """The project's Encoder behind a disk cache of whole documents, so that tuning runs re-encode nothing.
    ``calls`` counts only texts that really went through the model."""

    model: str | None = None
    calls: int = 0
    seconds: float = 0.0
    _encoder: object = field(default=None, repr=False)

    def encode(self, texts: list[str]) -> np.ndarray:
        from align.e5 import DEFAULT_MODEL

        key = hashlib.sha1(("\n".join([self.model or DEFAULT_MODEL, *texts])).encode()).hexdigest()
        path = CACHE / f"{key}.npy"
        if path.exists():
            return np.load(path)
        if self._encoder is None:
            from align.embed import Encoder
            self._encoder = Encoder(self.model)
        start = time.perf_counter()
        vectors = self._encoder.encode(texts)
        self.seconds += time.perf_counter() - start
        self.calls += len(texts)
        CACHE.mkdir(parents=True, exist_ok=True)
        np.save(path, vectors)
        return vectors


def aligned(doc: GoldDocument, encoder, settings: AlignerSettings = AlignerSettings()) -> list[AlignedBead]:
    sides = [Side(encoder.encode(lines), np.array([len(t.strip()) for t in lines], dtype=float), texts=lines)
             for lines in (doc.src, doc.tgt)]
    return align(sides[0], sides[1], settings)
