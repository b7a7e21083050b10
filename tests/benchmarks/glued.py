"""Sentences the gold leaves unaligned that the aligner glued into a link, and why: per set.

    python tests/benchmarks/glued.py [--sets stress-omit transread-en-fr …] [--no-stress] [--cases 10]

Issue 11, point 4. For every sentence a gold null bead holds, where the aligner put it: in a null bead, at the edge
of a bigger link (glued), inside one, or alone in a 1-1 link with someone else's sentence. For a glued sentence, the
programme chose the link over the same link without that sentence plus a null bead: the table shows the link's
score against the other's (its score + ``skip``), each term's change, whether the link's spans were encoded as text,
and how well the other side covers the glued sentence's own tokens. Then the edge sentences of the aligner's merged
beads, those the gold leaves unaligned against those of merged beads the gold has: what each adds to its bead's
score, span cosine and token F, its own token recall and its length, with the AUC that tells them apart.

Each document is aligned as ``polyalign align --presplit --no-translate`` does it (``common.aligned``, spans encoded
as text included); the scorer is rebuilt from the same sides, whose spans ``align`` encoded in place.
"""
from __future__ import annotations

import argparse
from collections import Counter

import numpy as np

from polyalign.align.aligner import (AlignerSettings, BeadScorer, align, band_between_anchors, confident_anchors,
                                     first_pass, pair_strength)
from polyalign.align.coverage import TokenCoverage
from common import CachedEncoder, GoldDocument, gold_sides, gold_sets, span_encoder


def scorer_and_beads(doc: GoldDocument, encoder, settings: AlignerSettings):
    """The beads ``align`` makes and a scorer over the same (centred, span-encoded) sides."""
    src, tgt = (s.centred() for s in gold_sides(doc, encoder))
    first = first_pass(src, tgt, settings)
    anchors = confident_anchors(first, src, tgt)
    band = band_between_anchors(anchors, first, len(src), len(tgt), settings)
    strength = pair_strength(anchors, src, tgt, unknown=0.0)
    beads = align(src, tgt, settings, centre=False, strength=strength, encode=span_encoder(doc, encoder))
    coverage = TokenCoverage.build(src.tokens, tgt.tokens, band, settings.max_bead - 1) \
        if settings.coverage_weight and src.tokens is not None and tgt.tokens is not None else None
    scale = min((strength or 1.0) / settings.strength_reference, 1.0) if settings.strength_reference else 1.0
    return beads, BeadScorer(src, tgt, settings, coverage, scale)


def terms(sc: BeadScorer, i0: int, a: int, j0: int, b: int) -> dict[str, float]:
    """A bead's score and its terms, as ``BeadScorer.span_scores`` adds them up."""
    s = sc.settings
    S, T = sc.src.spans[a][i0], sc.tgt.spans[b][j0:j0 + 1]
    ls, lt = sc.src.span_lengths[a][i0], sc.tgt.span_lengths[b][j0] * sc.length_ratio
    out = {"score": float(sc.span_scores(i0, a, j0, 1, b)[0]), "cos": float((T @ S)[0]),
           "margin": float(sc._neighbour_mean(S, T, i0, a, j0, 1, b)[0]),
           "fit": float(np.log2(1 + min(ls, lt) / max(ls, lt, 1e-9))), "coverage": 0.0, "token F": float("nan")}
    if sc.coverage is not None:
        f, tokens = sc.coverage.f_scores(i0, a, j0, 1, b)
        out["token F"] = float(f[0])
        out["coverage"] = float(sc.scale * s.coverage_weight * tokens[0] / sc.typical_tokens * (f[0] - s.coverage_floor))
    out["encoded"] = bool((a > 1 and (i0, a) in sc.src.encoded) or (b > 1 and (j0, b) in sc.tgt.encoded))
    return out


def own_recall(sc: BeadScorer, side: str, x: int, other0: int, size: int) -> float:
    """The mean best match of sentence ``x``'s tokens among the other side's span [other0, other0 + size)."""
    cv = sc.coverage
    if cv is None:
        return float("nan")
    table, offset, tokens = (cv.recall[size], other0 - cv.first_col[x], cv.src_tokens[x]) if side == "src" \
        else (cv.precision[size], other0 - cv.first_row[x], cv.tgt_tokens[x])
    return float(table[x, offset]) / max(tokens, 1.0) if 0 <= offset < table.shape[1] else float("nan")


def without_edge(sc: BeadScorer, bead, side: str, x: int) -> dict[str, float]:
    i0, a, j0, b = bead.src[0], len(bead.src), bead.tgt[0], len(bead.tgt)
    if side == "src":
        return terms(sc, i0 + (x == bead.src[0]), a - 1, j0, b)
    return terms(sc, i0, a, j0 + (x == bead.tgt[0]), b - 1)


def auc(pos, neg) -> float:
    pos, neg = np.asarray(pos, float), np.asarray(neg, float)
    if not len(pos) or not len(neg):
        return float("nan")
    return float(((pos[:, None] > neg[None]).sum() + 0.5 * (pos[:, None] == neg[None]).sum()) / (len(pos) * len(neg)))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sets", nargs="*", help="only these sets (default: all)")
    parser.add_argument("--no-stress", action="store_true")
    parser.add_argument("--cases", type=int, default=0, help="print this many glued sentences per set")
    args = parser.parse_args()
    settings = AlignerSettings()
    encoder = CachedEncoder()
    sets = gold_sets()
    if not args.no_stress:
        from stress import stress_sets
        sets.update(stress_sets(sets))
    for name, docs in sets.items():
        if args.sets and name not in args.sets:
            continue
        where_went, glued, edges = Counter(), [], {"glued": [], "right": []}
        for doc in docs:
            beads, sc = scorer_and_beads(doc, encoder, settings)
            bead_of = {(side, k): bead for bead in beads for side, ids in (("src", bead.src), ("tgt", bead.tgt))
                       for k in ids}
            unaligned = {("src", i) for g in doc.gold if not g.target for i in g.source} | \
                        {("tgt", j) for g in doc.gold if not g.source for j in g.target}
            for side, x in sorted(unaligned):
                bead = bead_of[(side, x)]
                own = bead.src if side == "src" else bead.tgt
                shape = f"{len(bead.src)}-{len(bead.tgt)}"
                if not (bead.src and bead.tgt):
                    where_went["null"] += 1
                elif len(own) == 1:
                    where_went["1-n with another's sentence"] += 1
                elif x not in (own[0], own[-1]):
                    where_went["inside " + shape] += 1
                else:
                    where_went["glued " + shape] += 1
                    other0, size = (bead.tgt[0], len(bead.tgt)) if side == "src" else (bead.src[0], len(bead.src))
                    glued.append((doc.name, side, x, shape, bead.posterior,
                                  terms(sc, bead.src[0], len(bead.src), bead.tgt[0], len(bead.tgt)),
                                  without_edge(sc, bead, side, x), own_recall(sc, side, x, other0, size)))
            gold = {(tuple(g.source), tuple(g.target)) for g in doc.gold}
            for bead in beads:
                if not (bead.src and bead.tgt) or len(bead.src) + len(bead.tgt) < 3:
                    continue
                right = (bead.src, bead.tgt) in gold
                full = terms(sc, bead.src[0], len(bead.src), bead.tgt[0], len(bead.tgt))
                for side, ids, lengths in (("src", bead.src, sc.src.lengths), ("tgt", bead.tgt, sc.tgt.lengths)):
                    if len(ids) < 2:
                        continue
                    for x in (ids[0], ids[-1]):
                        label = "glued" if (side, x) in unaligned else "right" if right else None
                        if label is None:
                            continue
                        rest = without_edge(sc, bead, side, x)
                        other0, size = (bead.tgt[0], len(bead.tgt)) if side == "src" else (bead.src[0], len(bead.src))
                        recall = own_recall(sc, side, x, other0, size)
                        edges[label].append({"score gain": full["score"] - rest["score"],
                                             "cosine gain": full["cos"] - rest["cos"],
                                             "token F gain": full["token F"] - rest["token F"],
                                             "own recall": recall, "own recall - rest F": recall - rest["token F"],
                                             "length / median": lengths[x] / np.median(lengths)})
        print(f"== {name}: where the gold's unaligned sentences went: "
              + ", ".join(f"{k} {v}" for k, v in where_went.most_common()))
        if glued:
            gain = np.array([g[5]["score"] - g[6]["score"] for g in glued])
            print(f"   glued at a link's edge: {len(glued)}; the link scores (median, quartiles) {np.median(gain):+.3f} "
                  f"({np.quantile(gain, .25):+.3f}, {np.quantile(gain, .75):+.3f}) above the link without the "
                  f"sentence, against a null bead's {settings.skip:+.2f}: glued when above it, "
                  f"{np.mean(gain > settings.skip):.2f} of them")
            for key in ("cos", "margin", "fit", "coverage", "token F"):
                d = np.array([g[5][key] - g[6][key] for g in glued])
                print(f"   {key:9} with - without the sentence: median {np.nanmedian(d):+.3f}, above 0 {np.mean(d > 0):.2f}")
            print(f"   the glued sentence's own tokens, mean best match in the other side: median "
                  f"{np.nanmedian([g[7] for g in glued]):.3f} (coverage_floor {settings.coverage_floor}); links with a "
                  f"span encoded as text {np.mean([g[5]['encoded'] for g in glued]):.2f}; posterior median "
                  f"{np.median([g[4] for g in glued]):.2f}")
            for doc, side, x, shape, p, full, rest, recall in glued[:args.cases]:
                print(f"     {doc[:28]:28} {side} {x:5d} in {shape} (posterior {p:.2f}, encoded {full['encoded']}): "
                      f"{full['score']:.3f} = cos {full['cos']:.3f} margin {full['margin']:.3f} fit {full['fit']:.2f} "
                      f"coverage {full['coverage']:+.3f}; without it {rest['score']:.3f} = cos {rest['cos']:.3f} "
                      f"margin {rest['margin']:.3f} fit {rest['fit']:.2f} coverage {rest['coverage']:+.3f}; "
                      f"own recall {recall:.3f}")
        print(f"   edge sentences of merged links: {len(edges['glued'])} the gold leaves unaligned, "
              f"{len(edges['right'])} of links the gold has (medians; AUC of the second over the first)")
        for key in ("score gain", "cosine gain", "token F gain", "own recall", "own recall - rest F", "length / median"):
            g, r = [e[key] for e in edges["glued"]], [e[key] for e in edges["right"]]
            print(f"     {key:20} {np.nanmedian(g) if g else float('nan'):+.3f} / {np.nanmedian(r) if r else float('nan'):+.3f}"
                  f"  AUC {auc(r, g):.2f}")


if __name__ == "__main__":
    main()
