"""The aligner on synthetic sentence vectors, where the right answer is known by construction."""
from __future__ import annotations

import numpy as np
import pytest

from polyalign.align.aligner import AlignerSettings, Side, align, align_around, running_text


def unit(x: np.ndarray) -> np.ndarray:
    return x / np.linalg.norm(x, axis=-1, keepdims=True)


def translated(n: int, seed: int = 0, noise: float = 0.3):
    """n random 'sentences' and a noisy 'translation' of each."""
    rng = np.random.default_rng(seed)
    src = unit(rng.normal(size=(n, 64)))
    return src, unit(src + noise * unit(rng.normal(size=(n, 64))))


def side(vectors: np.ndarray, lengths=None) -> Side:
    return Side(vectors, np.full(len(vectors), 80.0) if lengths is None else np.asarray(lengths, float))


def shapes(beads):
    return [(b.src, b.tgt) for b in beads]


def test_a_faithful_translation_aligns_one_to_one():
    src, tgt = translated(40)
    beads = align(side(src), side(tgt))
    assert shapes(beads) == [((i,), (i,)) for i in range(40)]
    assert all(0.0 <= b.posterior <= 1.0 for b in beads)


def test_two_sentences_joined_in_translation_make_a_two_one_bead():
    src, tgt = translated(30, seed=1)
    joined = unit(src[10] + src[11] + 0.3 * unit(np.random.default_rng(2).normal(size=64)))
    tgt = np.vstack([tgt[:10], joined[None], tgt[12:]])
    lengths = [80.0] * 10 + [160.0] + [80.0] * 18
    beads = align(side(src), side(tgt, lengths))
    assert ((10, 11), (10,)) in shapes(beads)
    assert ((9,), (9,)) in shapes(beads) and ((12,), (11,)) in shapes(beads)


def test_a_sentence_with_no_counterpart_is_left_unaligned():
    src, tgt = translated(30, seed=3)
    stray = unit(np.random.default_rng(4).normal(size=(1, 64)))
    tgt = np.vstack([tgt[:15], stray, tgt[15:]])
    beads = align(side(src), side(tgt))
    assert ((), (15,)) in shapes(beads)
    assert ((14,), (14,)) in shapes(beads) and ((15,), (16,)) in shapes(beads)


def test_every_sentence_is_in_exactly_one_bead_in_order():
    src, tgt = translated(200, seed=5)
    tgt = np.vstack([tgt[:50], tgt[80:]])  # a long passage missing from the translation
    beads = align(side(src), side(tgt))
    assert [i for b in beads for i in b.src] == list(range(200))
    assert [j for b in beads for j in b.tgt] == list(range(170))


def test_empty_sides_give_null_beads():
    src, _ = translated(3)
    assert shapes(align(side(src), side(np.zeros((0, 64))))) == [((0,), ()), ((1,), ()), ((2,), ())]


@pytest.mark.parametrize("n", [3000])
def test_long_documents_use_a_band_not_the_whole_grid(n, monkeypatch):
    import polyalign.align.aligner as aligner_module
    from polyalign.align import dp

    areas = []
    real = dp.score_table

    def spy(band, *args, **kwargs):
        areas.append(band.area)
        return real(band, *args, **kwargs)

    monkeypatch.setattr(aligner_module, "score_table", spy)
    src, tgt = translated(n, seed=6)
    beads = align(side(src), side(tgt))
    assert len(beads) == n
    assert max(areas) < 60 * (n + 1)  # a band of bounded width, never the n × n grid


# --- the pair's strength: merge-favouring terms and the skip measured in the pair's own units ---------------------

def test_a_weaker_pair_has_a_lower_strength():
    from polyalign.align.aligner import confident_anchors, first_pass, pair_strength

    strengths = []
    for noise in (0.3, 1.0):
        src, tgt = translated(60, seed=11, noise=noise)
        s, t = side(src).centred(), side(tgt).centred()
        anchors = confident_anchors(first_pass(s, t, AlignerSettings()), s, t)
        strengths.append(pair_strength(anchors, s, t))
    assert 0.05 <= strengths[1] < strengths[0] <= 1.0


def test_in_a_weak_pair_a_stray_sentence_is_still_skipped_not_glued_to_a_neighbour():
    src, tgt = translated(40, seed=12, noise=1.2)
    tgt = np.vstack([tgt[:20], unit(np.random.default_rng(13).normal(size=(1, 64))), tgt[20:]])
    beads = align(side(src), side(tgt), AlignerSettings(strength_reference=0.64))
    assert ((), (20,)) in shapes(beads)
    assert ((19,), (19,)) in shapes(beads) and ((20,), (21,)) in shapes(beads)


def test_in_a_weak_pair_joined_sentences_still_merge_and_faithful_ones_do_not():
    settings = AlignerSettings(strength_reference=0.64)
    src, tgt = translated(30, seed=14, noise=0.8)
    assert shapes(align(side(src), side(tgt), settings)) == [((i,), (i,)) for i in range(30)]
    joined = unit(src[10] + src[11] + 0.8 * unit(np.random.default_rng(15).normal(size=64)))
    tgt = np.vstack([tgt[:10], joined[None], tgt[12:]])
    beads = align(side(src), side(tgt, [80.0] * 10 + [160.0] + [80.0] * 18), settings)
    assert ((10, 11), (10,)) in shapes(beads)


# --- the bead-shape prior (off by default; measured in the benchmarks) -------------------------------------------

def crossed(mix: float):
    """A weak pair in which target sentences 10 and 11 each carry ``mix`` of the other source sentence."""
    src, tgt = translated(30, seed=7, noise=0.9)
    tgt[10], tgt[11] = unit(tgt[10] + mix * src[11]), unit(tgt[11] + mix * src[10])
    return side(src), side(tgt)


def test_the_shape_prior_keeps_two_one_to_one_beads_apart_when_most_content_stays_on_its_side():
    without = align(*crossed(0.8), AlignerSettings(shape_weight=0.0, strength_reference=0.0))
    assert ((10, 11), (10, 11)) in shapes(without)
    beads = align(*crossed(0.8), AlignerSettings(shape_weight=0.06, strength_reference=0.0))
    assert ((10,), (10,)) in shapes(beads) and ((11,), (11,)) in shapes(beads)


def test_the_shape_prior_still_merges_when_content_is_shared_evenly():
    beads = align(*crossed(1.0), AlignerSettings(shape_weight=0.06, strength_reference=0.0))
    assert ((10, 11), (10, 11)) in shapes(beads)


def test_beads_carry_the_pairs_strength_and_a_null_beads_relative_length():
    src, tgt = translated(40, seed=14, noise=0.3)
    caption = unit(np.random.default_rng(15).normal(size=(1, 64)))
    tgt = np.vstack([tgt[:20], caption, tgt[20:]])
    beads = align(side(src), side(tgt, [80.0] * 20 + [20.0] + [80.0] * 20))
    [stray] = [b for b in beads if not b.src]
    assert stray.tgt == (20,) and stray.relative_length == 0.25  # 20 characters against a median of 80
    assert all(b.relative_length == 1.0 for b in beads if b.src and b.tgt)
    assert len({b.strength for b in beads}) == 1 and 0.3 < beads[0].strength <= 1.0
    short = align(side(src[:3]), side(src[:3]))  # too few anchors to tell the pair's strength
    assert all(b.strength == 0.0 for b in short)


# --- the null term (null_weight, off by default: measured leave-one-set-out, it did not carry) --------------------

def test_with_the_null_term_a_stray_sentence_glued_to_a_neighbour_is_left_unaligned():
    src, tgt = translated(40, seed=17, noise=1.2)
    stray = unit(np.random.default_rng(117).normal(size=(1, 64)))
    tgt = side(np.vstack([tgt[:20], stray, tgt[20:]]), [80.0] * 20 + [40.0] + [80.0] * 20)
    assert ((19,), (19, 20)) in shapes(align(side(src), tgt))  # a constant skip glues it
    beads = align(side(src), tgt, AlignerSettings(null_weight=0.5))
    assert ((), (20,)) in shapes(beads)
    assert ((19,), (19,)) in shapes(beads) and ((20,), (21,)) in shapes(beads)
    [null] = [b for b in beads if not b.src]
    assert null.score > AlignerSettings().skip  # its own null score, raised: nothing like it in the band


def test_the_null_term_leaves_a_sentence_with_a_counterpart_aligned():
    src, tgt = translated(40, seed=17, noise=1.2)
    for weight in (0.5, 1.0):
        beads = align(side(src), side(tgt), AlignerSettings(null_weight=weight))
        assert all(b.src and b.tgt for b in beads)


def test_null_scores_are_raised_only_below_the_threshold():
    from polyalign.align.aligner import null_scores
    from polyalign.align.dp import full_band

    src, tgt = translated(6, seed=18, noise=0.1)
    tgt = np.vstack([tgt, -src[0]])  # the last target sentence is unlike every source sentence
    settings = AlignerSettings(null_weight=0.4, null_threshold=0.5)
    src_null, tgt_null = null_scores(side(src), side(tgt), full_band(6, 7), 1.0, settings)
    assert np.all(src_null == settings.skip) and np.all(tgt_null[:6] == settings.skip)  # each has its match
    assert tgt_null[6] == settings.skip + 0.4 * (0.5 - float(np.max(src @ tgt[6])))


def test_a_stretch_between_kept_beads_is_read_with_the_whole_pairs_strength():
    from polyalign.align.aligner import align_around, confident_anchors, first_pass, pair_strength

    src, tgt = translated(40, seed=19, noise=0.3)
    tgt = side(np.vstack([tgt[:21], unit(np.random.default_rng(20).normal(size=(2, 64))), tgt[21:]]),
               [80.0] * 21 + [20.0, 20.0] + [80.0] * 19)  # two short sentences added after the 21st
    s, t = side(src).centred(), tgt.centred()
    strength = pair_strength(confident_anchors(first_pass(s, t, AlignerSettings()), s, t), s, t)
    assert strength > 0.3
    beads = align_around(side(src), tgt, [((0, 18), (0, 18)), ((21, 40), (23, 42))])  # all but 3 + 5 confirmed
    assert all(b.strength == strength for b in beads)  # not 0, as three sentences alone would tell
    assert ((), (22,)) in shapes(beads) and [b.relative_length for b in beads if b.tgt == (22,)] == [0.25]
    gap = align_around(side(src), side(tgt.vectors[:21]), [((0, 21), (0, 21))])  # the translation stops early
    assert [b.src for b in gap if not b.tgt] == [(k,) for k in range(21, 40)]
    assert all(b.strength > 0.3 for b in gap) and all(b.relative_length == 1.0 for b in gap)


# --- spans the programme doubts, encoded as text (span_threshold) ---------------------------------------------------

def _texts(vectors: np.ndarray, name: str) -> tuple[list[str], dict[str, np.ndarray]]:
    texts = [f"{name}{k}" for k in range(len(vectors))]
    return texts, dict(zip(texts, vectors))


def merge_case(seed: int = 21):
    """Thirty sentences, and a translation that says source sentences 10 and 11 in one sentence, a meaning only
    their text read together has (not the sum of their vectors). Returns the two sides' vectors, texts and
    lengths, and an encoder that knows every sentence and span (``asked``: what it was asked for)."""
    rng = np.random.default_rng(seed)
    src = unit(rng.normal(size=(30, 64)))
    tgt = unit(src + 0.3 * unit(rng.normal(size=(30, 64))))
    joint = unit(rng.normal(size=64))
    tgt = np.vstack([tgt[:10], unit(joint + 0.3 * unit(rng.normal(size=64)))[None], tgt[12:]])
    (stexts, svec), (ttexts, tvec) = _texts(src, "s"), _texts(tgt, "t")
    known, asked = {**svec, **tvec}, []

    def encode(texts):
        asked.extend(texts)
        return np.array([joint if t == "s10 s11" else unit(sum(known[w] for w in t.split())) for t in texts])

    return (src, stexts, np.full(30, 80.0)), (tgt, ttexts, np.asarray([80.0] * 10 + [160.0] + [80.0] * 18)), \
        encode, asked


def test_a_doubtful_merge_is_settled_by_the_spans_own_text():
    (sv, st, sl), (tv, tt, tl), encode, asked = merge_case()
    sides = lambda: (Side(sv, sl, texts=st), Side(tv, tl, texts=tt))  # noqa: E731
    summed = align(*sides(), AlignerSettings(span_threshold=0.9))  # no encoder: spans are summed vectors
    assert ((10, 11), (10,)) not in shapes(summed)
    beads = align(*sides(), AlignerSettings(span_threshold=0.9), encode=encode)
    assert ((10, 11), (10,)) in shapes(beads)
    assert ((9,), (9,)) in shapes(beads) and ((12,), (11,)) in shapes(beads)
    assert "s10 s11" in asked and len(asked) < 10  # only around the doubtful beads
    before = len(asked)
    assert shapes(align(*sides(), encode=encode)) == shapes(summed) and len(asked) == before  # off by default


def test_sides_centred_beforehand_encode_their_spans_centred_the_same_way():
    """The joint aligner and the stretches between confirmed links get sides centred once for the whole text
    (``centre=False``): the spans encoded for them must be centred by that text's mean, as ``align`` centres
    its own."""
    (sv, st, sl), (tv, tt, tl), encode, asked = merge_case()
    sides = lambda: (Side(sv, sl, texts=st), Side(tv, tl, texts=tt))  # noqa: E731
    settings = AlignerSettings(span_threshold=0.9)
    own = align(*sides(), settings, encode=encode)
    src, tgt = (s.centred() for s in sides())
    np.testing.assert_allclose(src.centre, sv.mean(axis=0))
    given = align(src, tgt, settings, centre=False, encode=encode)
    assert shapes(given) == shapes(own) and ((10, 11), (10,)) in shapes(given)
    assert [b.score for b in given] == pytest.approx([b.score for b in own])
    before = len(asked)
    align(*sides(), settings, centre=False, encode=encode)  # never centred: no mean to centre a span by
    assert len(asked) == before
    around = align_around(*sides(), [((0, 5), (0, 5))], settings, encode=encode)  # a confirmed link elsewhere
    assert ((10, 11), (10,)) in shapes(around) and ((0, 1, 2, 3, 4), (0, 1, 2, 3, 4)) in shapes(around)


def test_a_side_encodes_a_span_once_whatever_pairs_it_is_in():
    """The joint aligner aligns each version with every other: a span encoded for one pair is not asked again."""
    from polyalign.align.aligner import AlignedBead, encode_spans

    (sv, st, sl), (tv, tt, tl), encode, asked = merge_case()
    src = Side(sv, sl, texts=st).centred()
    doubtful = [AlignedBead((10, 11), (10,), 0.0)]
    first = encode_spans(src, Side(tv, tl, texts=tt).centred(), doubtful, encode)
    assert "s10 s11" in asked and first == len(asked)
    source_spans = sum(t.startswith("s") for t in asked)
    again = encode_spans(src, Side(tv, tl, texts=tt).centred(), doubtful, encode)  # the source with another target
    assert again == first - source_spans > 0
    assert not any(t.startswith("s") for t in asked[first:])


def test_faithful_sentences_stay_apart_when_their_concatenation_says_something_else():
    rng = np.random.default_rng(24)
    src = unit(rng.normal(size=(30, 64)))
    tgt = unit(src + 0.3 * unit(rng.normal(size=(30, 64))))
    tgt[10] = unit(src[10] + 1.5 * src[11] + 0.3 * unit(rng.normal(size=64)))  # summed, 10 and 11 look like
    tgt[11] = unit(src[11] + 1.5 * src[10] + 0.3 * unit(rng.normal(size=64)))  # one meaning on either side
    (stexts, _), (ttexts, _) = _texts(src, "s"), _texts(tgt, "t")
    noise, asked = np.random.default_rng(25), []

    def encode(texts):  # read together, two sentences say something neither side's pair of sentences sums to
        asked.extend(texts)
        return unit(noise.normal(size=(len(texts), 64)))

    sides = lambda: (Side(src, np.full(30, 80.0), texts=stexts), Side(tgt, np.full(30, 80.0), texts=ttexts))  # noqa
    assert ((10, 11), (10, 11)) in shapes(align(*sides()))  # summed vectors merge them, unsure
    beads = align(*sides(), AlignerSettings(span_threshold=0.9), encode=encode)
    assert ((10,), (10,)) in shapes(beads) and ((11,), (11,)) in shapes(beads)
    assert "s10 s11" in asked and "t10 t11" in asked


def test_spans_encoded_stay_within_the_budget_the_most_doubtful_first():
    rng = np.random.default_rng(24)
    src = unit(rng.normal(size=(40, 64)))
    tgt = unit(src + 0.3 * unit(rng.normal(size=(40, 64))))
    for a, b in ((10, 11), (11, 10), (20, 21), (21, 20)):  # two pairs of sentences each unsure whether to merge
        tgt[a] = unit(src[a] + 1.5 * src[b] + 0.3 * unit(rng.normal(size=64)))
    (stexts, _), (ttexts, _) = _texts(src, "s"), _texts(tgt, "t")
    sides = lambda: (Side(src, np.full(40, 80.0), texts=stexts), Side(tgt, np.full(40, 80.0), texts=ttexts))  # noqa
    counts = []
    for budget in (0.3, 0.05, 0.0):
        asked = []
        align(*sides(), AlignerSettings(span_threshold=0.99, span_budget=budget),
              encode=lambda texts: (asked.extend(texts), unit(np.ones((len(texts), 64))))[1])
        counts.append(len(asked))
        assert len(asked) <= budget * 80
    assert counts[0] > counts[1] > 0 == counts[2]


def test_running_text_marks_the_boundaries_a_splitter_cut_inside_a_sentence():
    texts = ["Published in English ( London :", "Methuen , 1955 ) .", "He left.", "and came back.", "他说：", "好。", "End"]
    assert running_text(texts).tolist() == [False, True, False, True, False, True, False, False]


def test_a_link_with_an_edge_in_running_text_is_marked_and_slices_keep_their_edges():
    src, tgt = translated(12, seed=31, noise=0.2)
    texts = [f"Sentence {k} ends." if k != 5 else "It was printed in ( London :" for k in range(12)]
    plain = [f"Sentence {k} ends." for k in range(12)]
    source = Side(src, np.full(12, 80.0), texts=texts)
    beads = align(source, Side(tgt, np.full(12, 80.0), texts=["Ohne Zahl."] * 12))
    assert shapes(beads) == [((i,), (i,)) for i in range(12)]
    assert [b.cuts_running_text for b in beads] == [k in (5, 6) for k in range(12)]
    assert [b.has_number for b in beads] == [k != 5 for k in range(12)]  # the source's numbers; the target has none
    unmarked = align(Side(src, np.full(12, 80.0), texts=plain), Side(tgt, np.full(12, 80.0)))
    assert not any(b.cuts_running_text for b in unmarked)
    stretch = source.slice(6, 9)  # the edge before sentence 6 lies outside the stretch, and is kept
    assert stretch.runs_on.tolist() == [True, False, False, False]
    assert source.centred().runs_on.tolist() == source.runs_on.tolist()
