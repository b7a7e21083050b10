"""The numeric core of the joint alignment: rows over k versions from their pairwise alignments.

1. **Pairs.** Every pair of versions is aligned on its own by the banded aligner (``align.aligner``): linear
   in length, k(k-1)/2 runs.
2. **Stars.** Each candidate pivot p turns its k-1 alignments (p against every other version) into rows:
   pivot sentences that any alignment puts in one bead share a row (the cuts of the pivot that every
   alignment respects), every other version's sentences join the row of their pivot partners, and a
   sentence the pivot lacks gets a row of its own with empty slots elsewhere. A star is consistent by
   construction, but it trusts the pivot's links alone.
3. **Consensus.** Wherever all stars cut every text at the same place, the rows between two such common
   cuts are a *region* on which the stars may disagree. In each region the star with the highest joint
   score wins: the sum, over *every* pair of versions, of the pairwise aligner's bead scores for the beads
   the rows give that pair. So nb–es evidence decides between an en-anchored reading and an nb-anchored one
   exactly where the pivot is in doubt, and nowhere else. Since regions end at common cuts, the chosen rows
   still cover every text once, in order.

Cost: the pairs are k(k-1)/2 linear runs; a star is linear in length times k; the consensus scores each row
on k(k-1)/2 pairs. With the stars of at most ``MAX_STARS`` pivots, the whole grows linearly in length and
quadratically in the number of versions. These functions know nothing of documents or files.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Callable, Sequence

import numpy as np

from polyalign.align.aligner import AlignedBead, AlignerSettings, BeadScorer, Side, SpanEncoder, align
from polyalign.align.coverage import TokenCoverage
from polyalign.align.dp import Band, band_around_path

IndexRow = tuple[tuple[int, ...], ...]  # per version, the positions of its sentences in the row
PairBead = tuple[tuple[int, ...], tuple[int, ...]]
MAX_STARS = 3  # stars tried in the consensus: the pivot's and the next most confident versions'


def pair_keys(k: int) -> list[tuple[int, int]]:
    return [(u, v) for u in range(k) for v in range(u + 1, k)]


def oriented(beads: Sequence[PairBead], flip: bool) -> list[PairBead]:
    return [(t, s) for s, t in beads] if flip else list(beads)


def star_rows(pivot: int, sizes: Sequence[int], to_others: dict[int, Sequence[PairBead]]) -> list[IndexRow]:
    """Rows from the pivot's alignments with every other version (``to_others[v]``: beads pivot → v, monotone,
    covering both texts). See the module docstring, step 2."""
    k, n = len(sizes), sizes[pivot]
    inside = np.zeros(n + 1, dtype=bool)  # pivot positions that some bead spans across: not a cut
    for beads in to_others.values():
        for src, _ in beads:
            if len(src) > 1:
                inside[src[0] + 1:src[-1] + 1] = True
    group_of = np.cumsum(~inside[:n]) - 1  # pivot sentence → its group (cuts open groups)
    groups = int(group_of[-1]) + 1 if n else 0
    slots: list[list[list[int]]] = [[[] for _ in range(k)] for _ in range(groups)]
    for g, i in zip(group_of, range(n)):
        slots[g][pivot].append(i)
    gaps: dict[int, list[IndexRow]] = {}  # pivot cut → rows of sentences the pivot lacks, sitting there
    for v in sorted(to_others):
        done = 0  # pivot sentences passed so far
        for src, tgt in to_others[v]:
            if src:
                slots[group_of[src[0]]][v].extend(tgt)
                done = src[-1] + 1
            elif 0 < done < n and inside[done]:  # between two pivot beads of one group: it joins the group
                slots[group_of[done]][v].extend(tgt)
            elif tgt:
                gaps.setdefault(done, []).append(tuple(tuple(tgt) if w == v else () for w in range(k)))
    rows: list[IndexRow] = []
    starts = [0] + [i for i in range(1, n) if not inside[i]]
    for g in range(groups):
        rows += gaps.get(starts[g], [])
        rows.append(tuple(tuple(sorted(s)) for s in slots[g]))
    rows += gaps.get(n, []) if n else [r for rs in gaps.values() for r in rs]
    return rows


def cuts(rows: Sequence[IndexRow], k: int) -> list[tuple[int, ...]]:
    """The place in every text after each row (the first entry is the start, all zeros)."""
    out, at = [(0,) * k], [0] * k
    for row in rows:
        for v, slot in enumerate(row):
            at[v] += len(slot)
        out.append(tuple(at))
    return out


def regions(candidates: Sequence[Sequence[IndexRow]], k: int) -> list[list[list[IndexRow]]]:
    """The candidates cut at the places all of them cut: ``out[r][c]`` is candidate c's rows in region r."""
    places = [cuts(rows, k) for rows in candidates]
    common = set(places[0]).intersection(*map(set, places[1:]))
    out: list[list[list[IndexRow]]] = []
    for c, rows in enumerate(candidates):
        region, r = [], 0
        for row, after in zip(rows, places[c][1:]):
            region.append(row)
            if after in common:
                if c == 0:
                    out.append([])
                out[r].append(region)
                region, r = [], r + 1
    return out


RowScore = Callable[[IndexRow], float]


def consensus(candidates: Sequence[Sequence[IndexRow]], k: int, score: RowScore) -> tuple[list[IndexRow], list[int]]:
    """Region by region, the candidate rows with the highest summed score (ties: the earlier candidate, the
    pivot's). Returns the rows and, per region, which candidate won."""
    rows: list[IndexRow] = []
    chosen = []
    for region in regions(candidates, k):
        totals = [sum(score(r) for r in rows_) for rows_ in region]
        best = int(np.argmax(totals))  # argmax takes the first of equal totals
        chosen.append(best)
        rows += region[best]
    return rows, chosen


def projection(row: IndexRow, u: int, v: int) -> PairBead:
    return row[u], row[v]


def pair_path(rows: Sequence[IndexRow], u: int, v: int) -> list[tuple[int, int]]:
    """The nodes of the grid path that the rows give the pair (u, v)."""
    path, i, j = [(0, 0)], 0, 0
    for row in rows:
        if row[u] or row[v]:
            i, j = i + len(row[u]), j + len(row[v])
            path.append((i, j))
    return path


@dataclass
class PairScorer:
    """The pairwise aligner's bead score for any bead of one pair near the candidates' paths."""

    scorer: BeadScorer
    skip: float
    max_span: int

    @classmethod
    def build(cls, src: Side, tgt: Side, paths: Sequence[list[tuple[int, int]]],
              settings: AlignerSettings) -> "PairScorer":
        n, m = len(src), len(tgt)
        coverage = None
        if settings.coverage_weight and src.tokens is not None and tgt.tokens is not None and n and m:
            bands = [band_around_path(p, n, m, settings.max_bead) for p in paths]
            band = Band(np.min([b.lo for b in bands], axis=0), np.max([b.hi for b in bands], axis=0))
            coverage = TokenCoverage.build(src.tokens, tgt.tokens, band, settings.max_bead - 1)
        return cls(BeadScorer(src, tgt, settings, coverage), settings.skip, min(src.max_span, tgt.max_span))

    def __call__(self, bead: PairBead) -> float:
        a, b = len(bead[0]), len(bead[1])
        if not a or not b or a > self.max_span or b > self.max_span:
            return self.skip * (a + b)  # a span too long to score counts as its sentences left unaligned
        return float(self.scorer.span_scores(bead[0][0], a, bead[1][0], 1, b)[0])


@dataclass
class Joint:
    """What ``joint_rows`` found: the rows, the pivot, and the evidence behind them."""

    rows: list[IndexRow]
    pivot: int
    scores: list[float]  # per row, summed over all pairs
    pair_beads: dict[tuple[int, int], list[AlignedBead]]  # the direct pairwise alignments, (u, v) with u < v
    star_scores: dict[int, float]  # each star's total joint score, by pivot


def align_pairs(sides: Sequence[Side], settings: AlignerSettings,
                encode: SpanEncoder | None = None) -> dict[tuple[int, int], list[AlignedBead]]:
    """Every pair aligned on its own; ``sides`` must be centred already (``Side.centred``). ``encode``: as for
    ``aligner.align``; a span one pair encodes is the version's for every pair after it, and for the rows'
    scores."""
    return {(u, v): align(sides[u], sides[v], settings, centre=False, encode=encode) for u, v in pair_keys(len(sides))}


def joint_rows(sides: Sequence[Side], settings: AlignerSettings = AlignerSettings(), *, pivot: int | None = None,
               pair_beads: dict[tuple[int, int], list[AlignedBead]] | None = None,
               encode: SpanEncoder | None = None) -> Joint:
    """Rows over all ``sides`` (centred already). ``pivot`` None: the version whose star scores best, which
    then also breaks ties in the consensus. ``encode``: see ``align_pairs``."""
    k = len(sides)
    sizes = [len(s) for s in sides]
    pair_beads = pair_beads if pair_beads is not None else align_pairs(sides, settings, encode)

    def star(p: int) -> list[IndexRow]:
        return star_rows(p, sizes, {v: oriented([(b.src, b.tgt) for b in pair_beads[min(p, v), max(p, v)]], v < p)
                                    for v in range(k) if v != p})

    candidates = list(range(k))
    if k > MAX_STARS:  # the given pivot, then the versions whose pairwise alignments are surest
        sure = {p: np.mean([b.posterior for (u, v), bs in pair_beads.items() if p in (u, v) for b in bs] or [0.0])
                for p in range(k)}
        candidates = sorted(range(k), key=lambda p: (p != pivot, -sure[p], p))[:MAX_STARS]
    stars = {p: star(p) for p in candidates}
    scorers = {(u, v): PairScorer.build(sides[u], sides[v], [pair_path(rows, u, v) for rows in stars.values()],
                                        settings) for u, v in pair_keys(k)}

    def score(row: IndexRow) -> float:
        return sum(scorers[u, v](projection(row, u, v)) for u, v in pair_keys(k) if row[u] or row[v])

    star_scores = {p: float(sum(score(r) for r in rows)) for p, rows in stars.items()}
    if pivot is None:
        pivot = max(star_scores, key=lambda p: (star_scores[p], -p))
    order = [pivot] + [p for p in stars if p != pivot]
    rows, _ = consensus([stars[p] for p in order], k, score)
    return Joint(rows, pivot, [score(r) for r in rows], dict(pair_beads), star_scores)


def check_rows(rows: Sequence[IndexRow], sizes: Sequence[int]) -> None:
    """Raise unless the rows hold every sentence of every version exactly once, in order: what makes every
    pair read off them consistent."""
    for v, n in enumerate(sizes):
        seen = [i for row in rows for i in row[v]]
        if seen != list(range(n)):
            raise AssertionError(f"version {v}: rows hold {seen[:12]}…, not 0 … {n - 1} in order")
    if any(not any(row) for row in rows):
        raise AssertionError("an empty row")
