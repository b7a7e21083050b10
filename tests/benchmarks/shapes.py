"""How many beads of each shape the aligner makes, against the gold, per development and stress set.

    python tests/benchmarks/shapes.py [--no-stress]

Issue 11 found the aligner making about six times as many 2-2 beads as the gold has on held-out sets (two true 1-1
beads merged), and 3-2 / 2-3 beads the gold never has: strict F1 says that beads are wrong, this says which way.
Each document is aligned as ``polyalign align --presplit --no-translate`` does it (``common.command_beads``).
"""
from __future__ import annotations

import argparse
from collections import Counter

from common import CachedEncoder, command_beads, gold_sets

SHAPES = ("1-1", "1-2", "2-1", "2-2", "1-0", "0-1")


def shape(source, target) -> str:
    return f"{len(source)}-{len(target)}"


def count_shapes(docs, encoder) -> tuple[Counter, Counter]:
    """Beads per shape: the aligner's, the gold's."""
    ours, gold = Counter(), Counter()
    for doc in docs:
        ours.update(shape(*bead) for bead in command_beads(doc, encoder))
        gold.update(shape(bead.source, bead.target) for bead in doc.gold)
    return ours, gold


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--no-stress", action="store_true", help="leave out the stress sets")
    args = parser.parse_args()
    encoder = CachedEncoder()
    sets = gold_sets()
    if not args.no_stress:
        from stress import stress_sets
        sets = {**sets, **stress_sets(sets)}
    print("beads of each shape, the aligner's / the gold's")
    print(f"{'set':16} | " + " ".join(f"{s:>11}" for s in (*SHAPES, "other")))
    for name, docs in sets.items():
        ours, gold = count_shapes(docs, encoder)
        other = [sum(v for k, v in c.items() if k not in SHAPES) for c in (ours, gold)]
        cells = [f"{ours[s]}/{gold[s]}" for s in SHAPES] + [f"{other[0]}/{other[1]}"]
        print(f"{name:16} | " + " ".join(f"{c:>11}" for c in cells))


if __name__ == "__main__":
    main()
