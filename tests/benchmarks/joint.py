"""Joint against pairwise alignment on the three-way samples: strict F1 per pair, and the cost.

For each sample with a three-way gold (``samples/gold/<doc>.<l1>-<l2>-<l3>.txt``, rows of one slot per
version), every pair is scored against the pair's beads read off the gold rows: aligned on its own (the
banded aligner, as ``polyalign align`` does for two files); via the first file, the rows of its star alone
(what a reader can compose from the old output, each version aligned to the first file only); and read off
the joint alignment. The
gold for a pair is the gold rows' projection, since that is what an archive of rows claims.

    .venv/bin/python tests/benchmarks/joint.py            (prints a Markdown table)
"""
from __future__ import annotations

import re
import sys
import time
from pathlib import Path

from polyalign.align.aligner import AlignerSettings, align
from polyalign.align.evaluate import Counts, score_document
from polyalign.align.joint.consensus import joint_rows, oriented, pair_keys, star_rows
from polyalign.align.pipeline import read_versions, side_of

sys.path.insert(0, str(Path(__file__).resolve().parent))
from common import CachedEncoder  # noqa: E402

SAMPLES = Path(__file__).resolve().parents[2] / "samples"


def read_rows(path: Path) -> list[tuple[tuple[int, ...], ...]]:
    """Three-way gold: ``[0]:[]:[1, 2]`` per line, one slot per version."""
    rows = []
    for line in path.read_text(encoding="utf-8").splitlines():
        slots = re.findall(r"\[([^\]]*)\]", line)
        rows.append(tuple(tuple(int(x) for x in s.split(",") if x.strip()) for s in slots))
    return rows


def project(rows, u: int, v: int) -> list[tuple[tuple[int, ...], tuple[int, ...]]]:
    return [(r[u], r[v]) for r in rows if r[u] or r[v]]


def pair_gold(doc: str, a: str, b: str):
    """The pair's own gold where one exists (finer than the rows where a third version merges what these two
    keep apart), as beads a → b: ojo es-en, and vraem nb-en cut to the massacre passages."""
    from polyalign.align.evaluate import read_beads

    files = {("ojo", "es", "en"): ("ojo.es-en.txt", None), ("massacre", "nb", "en"): ("vraem.nb-en.txt", 33)}
    for (name, x, y), (file, nb_sentences) in files.items():
        if name == doc and {a, b} == {x, y}:
            beads = [(tuple(s), tuple(t)) for s, t in read_beads(SAMPLES / "gold" / file)
                     if nb_sentences is None or all(i < nb_sentences for i in s) and s]
            return beads if (a, b) == (x, y) else [(t, s) for s, t in beads]
    return None


def run(gold: Path, encoder: CachedEncoder, settings: AlignerSettings = AlignerSettings()) -> list[dict]:
    doc, langs = gold.stem.split(".")[0], gold.stem.split(".")[1].split("-")
    docs = read_versions([SAMPLES / f"{doc}.{lang}.txt" for lang in langs], [None] * len(langs))
    def centred_sides() -> list:  # afresh for each way of aligning: a side keeps the spans encoded for it
        return [side_of(d, encoder.encode_with_tokens([s.text for s in d.sentences])).centred() for d in docs]

    truth = read_rows(gold)
    sides = centred_sides()
    start = time.perf_counter()
    pairwise = {(u, v): align(sides[u], sides[v], settings, centre=False, encode=encoder.encode)
                for u, v in pair_keys(len(docs))}
    pair_seconds = time.perf_counter() - start
    alone = centred_sides()
    start = time.perf_counter()
    for v in range(1, len(docs)):  # what `polyalign align` did before: the pivot (first file) to each other
        align(alone[0], alone[v], settings, centre=False, encode=encoder.encode)
    star_seconds = time.perf_counter() - start
    start = time.perf_counter()
    joint = joint_rows(centred_sides(), settings, encode=encoder.encode)  # as align_joint runs it
    joint_seconds = time.perf_counter() - start
    sizes = [len(s) for s in sides]  # the old output composed: rows of the first file's star alone
    star = star_rows(0, sizes, {v: oriented([(b.src, b.tgt) for b in pairwise[0, v]], False)
                                for v in range(1, len(docs))})
    out = []
    for u, v in pair_keys(len(docs)):
        gold_pair = project(truth, u, v)
        alone = score_document(gold_pair, [(b.src, b.tgt) for b in pairwise[u, v]])
        read_off = score_document(gold_pair, project(joint.rows, u, v))
        entry = {"doc": doc, "pair": f"{langs[u]}-{langs[v]}", "pairwise": alone, "joint": read_off,
                 "star": score_document(gold_pair, project(star, u, v))}
        own = pair_gold(doc, langs[u], langs[v])
        if own is not None:
            entry["own"] = (score_document(own, [(b.src, b.tgt) for b in pairwise[u, v]]),
                            score_document(own, project(joint.rows, u, v)))
        out.append(entry)
    per_pivot = {}  # for each pivot: gold rows its star alone gets right, and the joint rows with it given
    for p in range(len(docs)):
        alone_rows = star_rows(p, sizes, {v: oriented([(b.src, b.tgt) for b in pairwise[min(p, v), max(p, v)]], v < p)
                                          for v in range(len(docs)) if v != p})
        given = joint_rows(sides, settings, pivot=p, pair_beads=pairwise)  # the sides the pairs encoded spans for
        per_pivot[langs[p]] = (len(set(alone_rows) & set(truth)), len(set(given.rows) & set(truth)), len(truth))
    out.append({"doc": doc, "pivot": langs[joint.pivot], "seconds": (star_seconds, pair_seconds, joint_seconds),
                "per_pivot": per_pivot})
    return out


def main() -> None:
    encoder = CachedEncoder()
    totals: dict[str, list[Counts]] = {}
    print("| document | pair | strict F1 pairwise | strict F1 via the first file | strict F1 joint | "
          "lax F1 pairwise | lax F1 joint |")
    print("|---|---|---|---|---|---|---|")
    costs, own = [], []
    for gold in sorted((SAMPLES / "gold").glob("*.*-*-*.txt")):
        for entry in run(gold, encoder):
            if "seconds" in entry:
                costs.append(entry)
                continue
            if "own" in entry:
                own.append(entry)
            p, j, star = entry["pairwise"].score, entry["joint"].score, entry["star"].score
            print(f"| {entry['doc']} | {entry['pair']} | {p.strict.f1:.3f} | {star.strict.f1:.3f} | "
                  f"{j.strict.f1:.3f} | {p.lax.f1:.3f} | {j.lax.f1:.3f} |")
    print()
    print("Against the pair's own gold, where there is one (the rows' gold is coarser where a third version merges):")
    print()
    print("| document | pair | strict F1 pairwise | strict F1 joint | lax F1 pairwise | lax F1 joint |")
    print("|---|---|---|---|---|---|")
    for entry in own:
        p, j = (c.score for c in entry["own"])
        print(f"| {entry['doc']} | {entry['pair']} | {p.strict.f1:.3f} | {j.strict.f1:.3f} | "
              f"{p.lax.f1:.3f} | {j.lax.f1:.3f} |")
    print()
    print("Gold rows found exactly, for each pivot: its star alone (the pivot's links only) and the joint rows:")
    print()
    print("| document | pivot | star alone | joint |")
    print("|---|---|---|---|")
    for c in costs:
        for name, (alone, joint, total) in c["per_pivot"].items():
            print(f"| {c['doc']} | {name} | {alone} / {total} | {joint} / {total} |")
    print()
    print("| document | pivot chosen | pivot to others (s) | every pair on its own (s) | joint, pairs included (s) |")
    print("|---|---|---|---|---|")
    for c in costs:
        star, pairs, joint = c["seconds"]
        print(f"| {c['doc']} | {c['pivot']} | {star:.3f} | {pairs:.3f} | {joint:.3f} |")


if __name__ == "__main__":
    main()
