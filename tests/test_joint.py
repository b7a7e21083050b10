"""The joint alignment of three or more versions: rows consistent by construction, empty slots, the pivot."""
from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from polyalign.align.aligner import AlignerSettings, Side
from polyalign.align.joint.consensus import check_rows, consensus, cuts, joint_rows, regions, star_rows

SAMPLES = Path(__file__).resolve().parents[1] / "samples"


def versions_of(meanings: np.ndarray, plans: list[list[tuple[int, ...]]], seed: int = 0) -> list[Side]:
    """One side per plan: each sentence renders the meanings it lists (a merge lists two), with noise."""
    rng = np.random.default_rng(seed)
    sides = []
    for plan in plans:
        vectors = np.array([meanings[list(m)].sum(axis=0) + 0.3 * rng.standard_normal(meanings.shape[1]) / np.sqrt(meanings.shape[1])
                            for m in plan])
        vectors /= np.linalg.norm(vectors, axis=1, keepdims=True)
        lengths = np.array([60.0 * len(m) for m in plan])
        sides.append(Side(vectors, lengths).centred())
    return sides


def meanings(n: int, d: int = 48, seed: int = 1) -> np.ndarray:
    m = np.random.default_rng(seed).standard_normal((n, d))
    return m / np.linalg.norm(m, axis=1, keepdims=True)


def contradictions(pairs: dict[tuple[int, int], list[tuple[tuple[int, ...], tuple[int, ...]]]], k: int) -> list:
    """Links x–y (pair u, v) and y–z (pair v, w) whose x–z is not a link of pair (u, w): where two pairs
    contradict a third. ``pairs[u, v]``: the beads of each ordered pair of versions."""
    links = {(u, v): {(x, y) for s, t in beads for x in s for y in t} for (u, v), beads in pairs.items()}
    found = []
    for u in range(k):
        for v in range(k):
            for w in range(k):
                if len({u, v, w}) < 3:
                    continue
                for x, y in links[u, v]:
                    for y2, z in links[v, w]:
                        if y == y2 and (x, z) not in links[u, w]:
                            found.append((u, x, v, y, w, z))
    return found


def read_off(rows, k):
    return {(u, v): [(r[u], r[v]) for r in rows if r[u] or r[v]] for u in range(k) for v in range(k) if u != v}


# Three versions of 12 meanings: B merges 3 and 4, C lacks 7 (omitted), B adds a sentence of its own (meaning 11
# only in B), C splits nothing but A lacks meaning 11 too.
PLANS = [
    [(i,) for i in range(11)],                                                  # A: 0 … 10
    [(0,), (1,), (2,), (3, 4), (5,), (6,), (7,), (11,), (8,), (9,), (10,)],      # B: merge, addition
    [(i,) for i in range(11) if i != 7],                                        # C: omission of 7
]


def test_star_rows_give_empty_slots_and_group_merges():
    # pivot 0 against 1: [3, 4] merged in version 1, version 1 adds a sentence between 6 and 7
    to_1 = [((0,), (0,)), ((1,), (1,)), ((2,), (2,)), ((3, 4), (3,)), ((5,), (4,)), ((), (5,)), ((6,), (6,))]
    to_2 = [((0,), (0,)), ((1,), ()), ((2,), (1,)), ((3,), (2,)), ((4,), (3,)), ((5,), (4,)), ((6,), (5,))]
    rows = star_rows(0, [7, 7, 6], {1: to_1, 2: to_2})
    assert rows == [((0,), (0,), (0,)), ((1,), (1,), ()), ((2,), (2,), (1,)), ((3, 4), (3,), (2, 3)),
                    ((5,), (4,), (4,)), ((), (5,), ()), ((6,), (6,), (5,))]
    check_rows(rows, [7, 7, 6])


def test_consensus_chooses_region_by_region():
    a = [((0,), (0,)), ((1,), ()), ((), (1,)), ((2,), (2,))]
    b = [((0,), (0,)), ((1,), (1,)), ((2,), (2,))]
    assert [len(r[0]) for r in regions([a, b], 2)] == [1, 2, 1]
    rows, chosen = consensus([a, b], 2, lambda row: 1.0 if row == ((1,), (1,)) else 0.0)
    assert rows == b and chosen == [0, 1, 0]
    assert cuts(rows, 2)[-1] == (3, 3)


def test_joint_rows_are_consistent_with_empty_slots():
    sides = versions_of(meanings(12), PLANS)
    joint = joint_rows(sides, AlignerSettings())
    check_rows(joint.rows, [len(s) for s in sides])  # every sentence once, in order: consistent by construction
    assert not contradictions(read_off(joint.rows, 3), 3)
    assert ((3, 4), (3,), (3, 4)) in joint.rows  # the merge: one row, two sentences in A and C
    assert ((7,), (6,), ()) in joint.rows  # the omission: an empty slot in C, not a forced match
    assert ((), (7,), ()) in joint.rows  # the addition: empty slots in A and C
    assert len(joint.rows) == 11


def test_a_given_pivot_is_kept_and_four_versions_work():
    plans = PLANS + [[(i,) for i in range(11)]]
    sides = versions_of(meanings(12), plans, seed=3)
    joint = joint_rows(sides, AlignerSettings(), pivot=2)
    assert joint.pivot == 2
    check_rows(joint.rows, [len(s) for s in sides])
    assert ((7,), (6,), (), (7,)) in joint.rows
    assert all(len(row) == 4 for row in joint.rows)
    assert not contradictions(read_off(joint.rows, 4), 4)
    chosen = joint_rows(sides, AlignerSettings())  # four versions, pivot chosen among the three surest stars
    check_rows(chosen.rows, [len(s) for s in sides])
    assert len(chosen.star_scores) == 3 and chosen.pivot in chosen.star_scores


def test_pairs_aligned_alone_can_contradict_each_other():
    """What the joint alignment is for: the contradiction check finds one among three pairwise alignments."""
    pairs = {(0, 1): [((0,), (0,)), ((1,), (1,))], (1, 2): [((0,), (0,)), ((1,), (1,))],
             (0, 2): [((0,), (1,)), ((1,), (0,))]}
    pairs.update({(v, u): [(t, s) for s, t in beads] for (u, v), beads in list(pairs.items())})
    assert contradictions(pairs, 3)


def test_non_pivot_evidence_joins_what_the_pivot_lacks():
    """B and C both render a sentence that the pivot A lacks: A's star alone would give each its own row;
    the B–C evidence puts them in one row, with A's slot empty."""
    sides = versions_of(meanings(9, seed=5), [[(i,) for i in range(9) if i != 4], [(i,) for i in range(9)],
                                              [(i,) for i in range(9)]], seed=8)
    joint = joint_rows(sides, AlignerSettings(), pivot=0)
    assert joint.pivot == 0
    check_rows(joint.rows, [8, 9, 9])
    assert ((), (4,), (4,)) in joint.rows


def test_crossing_candidates_never_break_order():
    sides = versions_of(meanings(30, seed=9), [[(i,) for i in range(30)],
                                               [(i,) for i in range(30) if i % 7],
                                               [(i, i + 1) if i % 5 == 0 else (i,) for i in range(30) if i % 5 != 1]])
    joint = joint_rows(sides, AlignerSettings())
    check_rows(joint.rows, [len(s) for s in sides])


def test_the_three_way_sample_aligns_like_its_gold(encoder):
    """nb, es and en versions of the ojo passages (samples/gold/ojo.en-nb-es.txt): the joint rows are the gold's,
    with the omission and the addition as empty slots, and no pair read off them contradicts another."""
    from polyalign.align.joint import align_joint
    from polyalign.align.pipeline import read_versions

    docs = read_versions([SAMPLES / f"ojo.{lang}.txt" for lang in ("en", "nb", "es")], [None] * 3)
    joint = align_joint(docs, encoder)
    gold = [tuple(tuple(int(x) for x in slot.strip("[]").split(",") if x.strip()) for slot in line.split(":"))
            for line in (SAMPLES / "gold" / "ojo.en-nb-es.txt").read_text(encoding="utf-8").splitlines()]
    found = [tuple(tuple(doc.index[i] for i in slot) for doc, slot in zip(docs, row.slots)) for row in joint.rows]
    right = len(set(found) & set(gold))
    assert right / len(gold) >= 0.9, (right, len(gold))
    assert ((9,), (), (9,)) in found  # en 9 has no Norwegian sentence: an empty slot
    assert not contradictions(read_off(found, 3), 3)
    assert joint.pivot in ("en", "nb", "es") and joint.pivot_chosen == "automatic"
    assert all(0.0 <= row.confidence <= 1.0 for row in joint.rows)
    nb_es = joint.pair("nb", "es")  # a pair read off the rows: every sentence of both once, in order
    assert [i for b in nb_es.beads for i in b.source] == [s.id for s in docs[1].sentences]
    assert [i for b in nb_es.beads for i in b.target] == [s.id for s in docs[2].sentences]
    assert [d.name for d in (a.target for a in joint.pivot_views())] == [n for n in ("en", "nb", "es")
                                                                          if n != joint.pivot]


def test_kept_rows_stay_as_they_are():
    """A confirmed row stays exactly as the reviewer left it, even one the aligner would not make; the
    rest is aligned around it."""
    from polyalign.align.joint.pipeline import joint_rows_around

    sides = versions_of(meanings(12), PLANS)
    kept = ((5,), (4,), ())  # C's sentence 5 taken out of the row by a reviewer
    joint = joint_rows_around(sides, [(kept, (5, 4, 5))], AlignerSettings())
    check_rows(joint.rows, [len(s) for s in sides])
    assert kept in joint.rows
    assert not contradictions(read_off(joint.rows, 3), 3)
    with pytest.raises(ValueError, match="cross"):
        joint_rows_around(sides, [(((6,), (5,), (5,)), (6, 5, 5)), (kept, (5, 4, 5))], AlignerSettings())


def test_the_other_pairs_settle_the_doubts_of_a_given_pivot(encoder):
    """With nb as the pivot, nb's links alone (its star) miss gold rows of the ojo sample; the joint rows,
    judged by every pair's evidence, find them all."""
    from polyalign.align.joint.consensus import align_pairs, oriented
    from polyalign.align.pipeline import read_versions, side_of

    docs = read_versions([SAMPLES / f"ojo.{lang}.txt" for lang in ("en", "nb", "es")], [None] * 3)
    sides = [side_of(d, encoder.encode_with_tokens([s.text for s in d.sentences])).centred() for d in docs]
    gold = {tuple(tuple(int(x) for x in slot.strip("[]").split(",") if x.strip()) for slot in line.split(":"))
            for line in (SAMPLES / "gold" / "ojo.en-nb-es.txt").read_text(encoding="utf-8").splitlines()}
    pairs = align_pairs(sides, AlignerSettings())
    alone = star_rows(1, [len(s) for s in sides], {v: oriented([(b.src, b.tgt) for b in pairs[min(1, v), max(1, v)]],
                                                               v < 1) for v in (0, 2)})
    joint = joint_rows(sides, AlignerSettings(), pivot=1, pair_beads=pairs)
    assert len(set(alone) & gold) < len(gold)
    assert set(joint.rows) == gold


def test_the_pairs_of_a_joint_alignment_encode_the_spans_they_doubt():
    """As ``polyalign align`` does for two versions: a merge only the spans' own text shows is found jointly too,
    and each version's spans are encoded once for all its pairs."""
    from tests.test_aligner import merge_case

    (sv, st, sl), (tv, tt, tl), encode, asked = merge_case()
    third = (tv + 0.05 * np.random.default_rng(3).normal(size=tv.shape))  # a second translation, merged alike
    third /= np.linalg.norm(third, axis=1, keepdims=True)

    def sides():
        return [Side(sv, sl, texts=st).centred(), Side(tv, tl, texts=tt).centred(),
                Side(third, tl, texts=[f"u{k}" for k in range(len(tt))]).centred()]

    settings = AlignerSettings(span_threshold=0.9)
    merged = ((10, 11), (10,), (10,))
    assert merged not in joint_rows(sides(), settings).rows
    known = dict(zip([f"u{k}" for k in range(len(tt))], third))
    found = joint_rows(sides(), settings, encode=lambda texts: np.array(
        [unit_sum([known[w] for w in t.split()]) if t.startswith("u") else encode([t])[0] for t in texts]))
    assert merged in found.rows
    assert len(asked) == len(set(asked))  # no span asked twice


def unit_sum(vectors) -> np.ndarray:
    total = np.sum(vectors, axis=0)
    return total / np.linalg.norm(total)
