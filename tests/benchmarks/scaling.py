"""Time and peak memory of the aligner on long pairs: 5,000, 10,000 and 20,000 sentences a side.

    python tests/benchmarks/scaling.py

The pairs are the transread-en-fr novels concatenated (repeated until long enough), with their cached
sentence and token vectors (run eval_sets.py once first). Each size runs in a fresh process, so peak memory is its own.
Encoding is one call per sentence at any length, so only the alignment is measured here; linear growth
shows as a constant time and memory per sentence.
"""
from __future__ import annotations

import json
import resource
import subprocess
import sys
import time

import numpy as np

SIZES = (5_000, 10_000, 20_000)


def long_pair(size: int):
    from common import CachedEncoder, gold_sets

    encoder = CachedEncoder()
    src, tgt, src_vectors, tgt_vectors, src_tokens, tgt_tokens = [], [], [], [], [], []
    while len(src) < size:
        for doc in gold_sets()["transread-en-fr"]:
            src += doc.src
            tgt += doc.tgt
            for lines, vectors, tokens in ((doc.src, src_vectors, src_tokens), (doc.tgt, tgt_vectors, tgt_tokens)):
                v, t = encoder.encode_with_tokens(lines)
                vectors.append(v)
                tokens += t
    cut = int(len(tgt) * size / len(src))
    return (src[:size], tgt[:cut], np.vstack(src_vectors)[:size], np.vstack(tgt_vectors)[:cut],
            src_tokens[:size], tgt_tokens[:cut])


def measure(size: int) -> dict:
    from polyalign.align.aligner import AlignerSettings, Side, align

    src, tgt, sv, tv, st, tt = long_pair(size)
    before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    start = time.perf_counter()
    beads = align(Side(sv, np.array([len(t) for t in src], float), texts=src, tokens=st),
                  Side(tv, np.array([len(t) for t in tgt], float), texts=tgt, tokens=tt), AlignerSettings())
    seconds = time.perf_counter() - start
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    return {"sentences": len(src) + len(tgt), "beads": len(beads), "seconds": seconds,
            "peak_mb": peak / 1024, "input_mb": before / 1024}


def main() -> None:
    if len(sys.argv) == 2:
        print(json.dumps(measure(int(sys.argv[1]))))
        return
    print(f"{'size':>6} {'sentences':>9} {'align s':>8} {'ms/sent':>8} {'peak MB':>8} {'MB over input':>13}")
    for size in SIZES:
        out = subprocess.run([sys.executable, __file__, str(size)], capture_output=True, text=True, check=True)
        r = json.loads(out.stdout.strip().splitlines()[-1])
        print(f"{size:6d} {r['sentences']:9d} {r['seconds']:8.1f} {1000 * r['seconds'] / r['sentences']:8.2f} "
              f"{r['peak_mb']:8.0f} {r['peak_mb'] - r['input_mb']:13.0f}")


if __name__ == "__main__":
    main()
