"""Would storing token vectors as int8 (a float16 scale per vector) instead of float16 change alignments?

    python tests/benchmarks/compact_tokens.py [--sets textberg-dev …]

Aligns every development gold set with the token vectors as the embedding cache stores them today (float16)
and as they would come back from int8 storage (each vector rounded to 255 steps of its largest magnitude),
and prints strict and lax F1 per set, with the bytes an entry would take in the cache (sentence vector plus
token vectors). The encodings come from the benchmarks' own cache (common.py): encode once, reuse.
"""
from __future__ import annotations

import argparse

import numpy as np

from polyalign.align.aligner import AlignerSettings, Side, align
from polyalign.align.evaluate import Counts, score_document
from common import CachedEncoder, gold_sets


def as_int8(tokens: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """int8 values and a float16 scale per vector: what int8 storage would write."""
    scale = np.abs(tokens.astype(np.float32)).max(axis=1, keepdims=True) / 127
    scale = np.where(scale == 0, 1, scale).astype(np.float16)
    return np.round(tokens.astype(np.float32) / scale.astype(np.float32)).clip(-127, 127).astype(np.int8), scale


def from_int8(values: np.ndarray, scale: np.ndarray) -> np.ndarray:
    return (values.astype(np.float32) * scale.astype(np.float32)).astype(np.float16)


FORMS = {
    "float16 (today)": (lambda t: t, lambda t: t.shape[0] * t.shape[1] * 2),
    "int8 + scale": (lambda t: from_int8(*as_int8(t)), lambda t: t.shape[0] * (t.shape[1] + 2)),
}


def side(encoder: CachedEncoder, lines: list[str], form) -> tuple[Side, int]:
    vectors, tokens = encoder.encode_with_tokens(lines)
    stored = [form[0](t) for t in tokens]
    size = sum(vectors.shape[1] * 4 + form[1](t) for t in tokens)
    return Side(vectors, np.array([len(t.strip()) for t in lines], dtype=float), texts=lines, tokens=stored), size


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sets", nargs="*", help="only these sets (default: all)")
    args = parser.parse_args()
    encoder = CachedEncoder()
    print(f"{'set':16} {'token vectors':16} {'strict F1':>9} {'lax F1':>7} {'bytes/sentence':>15}")
    for name, docs in gold_sets().items():
        if args.sets and name not in args.sets:
            continue
        for label, form in FORMS.items():
            counts, size, sentences = Counts(), 0, 0
            for doc in docs:
                (src, a), (tgt, b) = side(encoder, doc.src, form), side(encoder, doc.tgt, form)
                beads = align(src, tgt, AlignerSettings())
                counts = counts + score_document(doc.gold, [(x.src, x.tgt) for x in beads])
                size, sentences = size + a + b, sentences + len(doc.src) + len(doc.tgt)
            s = counts.score
            print(f"{name:16} {label:16} {s.strict.f1:9.4f} {s.lax.f1:7.4f} {size / sentences:15.0f}", flush=True)


if __name__ == "__main__":
    main()
