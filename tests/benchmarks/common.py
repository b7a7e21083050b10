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

from polyalign.align.aligner import AlignedBead, AlignerSettings, Side, align
from polyalign.align.evaluate import IndexBead, read_beads

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


CACHE_FORMAT = "2"  # 2: the query prompt, token vectors kept


@dataclass
class CachedEncoder:
    """The project's Encoder behind a disk cache of whole documents, so that tuning runs re-encode nothing.
    ``calls`` counts only texts that really went through the model."""

    model: str | None = None
    calls: int = 0
    seconds: float = 0.0
    _encoder: object = field(default=None, repr=False)

    def encode_with_tokens(self, texts: list[str]) -> tuple[np.ndarray, list[np.ndarray] | None]:
        from polyalign.align.e5 import DEFAULT_MODEL

        key = hashlib.sha1(("\n".join([CACHE_FORMAT, self.model or DEFAULT_MODEL, *texts])).encode()).hexdigest()
        path = CACHE / f"{key}.npz"
        if path.exists():
            stored = np.load(path)
            tokens = np.split(stored["tokens"], stored["ends"][:-1]) if "tokens" in stored else None
            return stored["vectors"], tokens
        if self._encoder is None:
            from polyalign.align.embed import Encoder
            # no embedding cache: this class is the cache, and the product's would hide what encoding costs
            self._encoder = Encoder(self.model, cache=False)
        start = time.perf_counter()
        vectors, tokens = self._encoder.encode_with_tokens(texts)
        self.seconds += time.perf_counter() - start
        self.calls += len(texts)
        CACHE.mkdir(parents=True, exist_ok=True)
        partial = path.with_suffix(".partial.npz")
        if tokens is None:  # a model without token vectors
            np.savez(partial, vectors=vectors)
        else:
            np.savez(partial, vectors=vectors, tokens=np.vstack(tokens), ends=np.cumsum([len(t) for t in tokens]))
        partial.replace(path)
        return vectors, tokens


def gold_side(encoder: CachedEncoder, lines: list[str]) -> Side:
    vectors, tokens = encoder.encode_with_tokens(lines)
    return Side(vectors, np.array([len(t.strip()) for t in lines], dtype=float), texts=lines, tokens=tokens)


def aligned(doc: GoldDocument, encoder, settings: AlignerSettings = AlignerSettings()) -> list[AlignedBead]:
    return align(gold_side(encoder, doc.src), gold_side(encoder, doc.tgt), settings)
