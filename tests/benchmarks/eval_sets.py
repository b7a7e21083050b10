"""Align every development gold set and print quality, time per stage, encoder calls and peak memory.

    python tests/benchmarks/eval_sets.py [--no-cache] [--sets textberg-dev …]

Sentences are read as the gold segments them (no re-splitting). With the cache (the default) embeddings
computed by an earlier run are reused, so "encode" shows only what was encoded now; --no-cache encodes
everything and shows the real encoder cost. Bertalign, for comparison, encodes every window of 1–4
sentences per side: 4.0 encoder calls per sentence, 147 s on textberg-dev on a 2-core machine (0.2 s of it
aligning), strict F1 0.882 there with this same model (figures from shared/notes/anchors.md).
"""
from __future__ import annotations

import argparse
import os
import resource
import time

from polyalign.align.aligner import AlignerSettings, align
from polyalign.align.evaluate import Counts, score_document
from common import CACHE, CachedEncoder, gold_side, gold_sets


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--no-cache", action="store_true", help="encode everything afresh")
    parser.add_argument("--sets", nargs="*", help="only these sets (default: all)")
    args = parser.parse_args()
    if args.no_cache:
        os.environ["POLYALIGN_BENCH_CACHE"] = str(CACHE) + f"-{os.getpid()}"  # an empty cache of its own
        import common
        common.CACHE = common.Path(os.environ["POLYALIGN_BENCH_CACHE"])
    encoder = CachedEncoder()
    print(f"{'set':16} {'docs':>4} {'sents':>6} | {'strict P':>8} {'R':>5} {'F1':>5} | {'lax P':>5} {'R':>5} {'F1':>5}"
          f" | {'encode s':>8} {'align s':>7} {'calls/sent':>10}")
    for name, docs in gold_sets().items():
        if args.sets and name not in args.sets:
            continue
        counts, sentences, align_seconds = Counts(), 0, 0.0
        calls_before, encode_before = encoder.calls, encoder.seconds
        for doc in docs:
            sides = [gold_side(encoder, lines) for lines in (doc.src, doc.tgt)]
            start = time.perf_counter()
            beads = align(sides[0], sides[1], AlignerSettings())
            align_seconds += time.perf_counter() - start
            counts = counts + score_document(doc.gold, [(b.src, b.tgt) for b in beads])
            sentences += len(doc.src) + len(doc.tgt)
        s = counts.score
        calls = (encoder.calls - calls_before) / sentences
        print(f"{name:16} {len(docs):4d} {sentences:6d} | {s.strict.precision:8.3f} {s.strict.recall:5.3f} "
              f"{s.strict.f1:5.3f} | {s.lax.precision:5.3f} {s.lax.recall:5.3f} {s.lax.f1:5.3f} | "
              f"{encoder.seconds - encode_before:8.1f} {align_seconds:7.1f} {calls:10.2f}")
    print(f"peak memory: {resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024:.0f} MB "
          "(the process; the model counts only when something was encoded)")


if __name__ == "__main__":
    main()
