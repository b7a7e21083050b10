"""Align every development gold set and the stress sets made from them; print quality, null beads, calibration,
encoder calls and time, per set and as the mean over sets.

    python tests/benchmarks/eval_sets.py [--no-cache] [--sets textberg-dev …] [--no-stress]

Each document is read and aligned as ``polyalign align --presplit --no-translate`` does it (see ``common``), and
sentences are the gold's lines (no re-splitting). With the cache (the default) embeddings computed by an earlier
run are reused, so "encode s" shows only what was encoded now; --no-cache encodes everything and shows the real
encoder cost. Bertalign, for comparison, encodes every window of 1–4 sentences per side: 4.0 encoder calls per
sentence, 147 s on textberg-dev on a 2-core machine (0.2 s of it aligning), strict F1 0.882 there with this
same model (figures from shared/notes/anchors.md).

The stress sets (``stress.py``) are made from the shared sets: sentences dropped (gold null beads), sentences
joined (n:m beads), and vectors weakened by noise (an easy pair made hard). ECE is the expected calibration error
of the shipped calibration; ``calibrate.py`` gives it per set by leave-one-set-out fits. Null P/R count null beads
identical to the gold's; unaligned P/R count the sentences the aligner and the gold leave unaligned, whatever their
beads (a gold file may group a run of them into one bead, as transread-en-fr's does, or not, as textberg-dev's).
"""
from __future__ import annotations

import argparse
import os
import resource

import numpy as np

from common import CACHE, CachedEncoder, gold_sets, measure

COLUMNS = ("strict F1", "lax F1", "null P", "null R", "unaligned P", "unaligned R", "ECE", "calls/sent",
           "span calls/sent", "encode s", "align s")


def print_table(rows: dict[str, dict[str, float]], sizes: dict[str, tuple[int, int]]) -> None:
    print(f"{'set':22} {'docs':>4} {'sents':>6} | " + " ".join(f"{c:>15}" for c in COLUMNS))
    for name, row in rows.items():
        docs, sents = sizes.get(name, (0, 0))
        print(f"{name:22} {docs:4d} {sents:6d} | " + " ".join(f"{row[c]:15.3f}" for c in COLUMNS))


def mean_row(rows: list[dict[str, float]]) -> dict[str, float]:
    return {c: float(np.nanmean([r[c] for r in rows])) if rows else float("nan") for c in COLUMNS}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--no-cache", action="store_true", help="encode everything afresh")
    parser.add_argument("--sets", nargs="*", help="only these sets (default: all)")
    parser.add_argument("--no-stress", action="store_true", help="leave out the stress sets")
    parser.add_argument("--prompt", default=None, help="encode with this prompt instead of the model's ('' for none)")
    args = parser.parse_args()
    if args.no_cache:
        os.environ["POLYALIGN_BENCH_CACHE"] = str(CACHE) + f"-{os.getpid()}"  # an empty cache of its own
        import common
        common.CACHE = common.Path(os.environ["POLYALIGN_BENCH_CACHE"])
    encoder = CachedEncoder(prompt=args.prompt)
    sets = gold_sets()
    if not args.no_stress:
        from stress import stress_sets
        sets.update(stress_sets(sets))
    rows, sizes = {}, {}
    for name, docs in sets.items():
        if args.sets and name not in args.sets:
            continue
        m = measure(docs, encoder)
        rows[name] = m.row()
        sizes[name] = (len(docs), m.sentences)
    real = [r for n, r in rows.items() if not n.startswith("stress-")]
    stress = [r for n, r in rows.items() if n.startswith("stress-")]
    rows["mean (dev sets)"] = mean_row(real)
    if stress:
        rows["mean (stress sets)"] = mean_row(stress)
    print_table(rows, sizes)
    print(f"peak memory: {resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024:.0f} MB "
          "(the process; the model counts only when something was encoded)")


if __name__ == "__main__":
    main()
