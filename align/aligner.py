"""Sentence alignment of two sequences of sentence vectors, in linear time and memory.

Three steps, each a banded run of the dynamic programme in ``align.dp``:

1. **Coarse to fine.** Neighbouring sentence vectors are averaged into ever coarser "sentences" until
   the whole grid is small; the coarsest level is aligned in full, and each finer level only in a band
   around the path of the level above. This finds the diagonal even across large omissions.
2. **Anchors.** On the finest level, 1-1 beads whose two sentences are each other's best match are
   kept as anchors: the places the alignment is sure of.
3. **Beads.** Between anchors, every bead shape up to ``max_bead`` sentences in all is scored inside a
   band spanning the anchors, so that an error of step 1 between two anchors can still be undone.

A multi-sentence span is represented by the normalised, length-weighted sum of its sentence vectors, so
the encoder runs once per sentence; only where the programme doubts (a bead's posterior below
``span_threshold``) are the spans around the bead encoded as the text they are, and the beads scored again
(``encode_spans``: Bertalign's strength, which encodes every window, at a fraction of its cost; at most
``span_budget`` texts per sentence). A bead's score is the span cosine minus part of the mean cosine of
the neighbouring sentences (a margin), times a length term, plus the share of numbers the spans have in
common and, when the sides carry token vectors from the same encoder pass, the bead's token coverage
(``align.coverage``): whether each side says *all* of what the other says, which sentence vectors cannot
tell.

The margin is only a share (``margin_weight``) because it leans towards merging: a bead that swallows a
neighbour also moves its margin away from that neighbour. At full weight it was the only thing that
joined sentences whose content crosses a boundary; coverage now judges that directly, and the lighter
margin stops splitting true 1-1 beads of short, look-alike sentences (dialogue) into merged ones.

Coverage is measured in the pair's own units (``strength_reference``). A pair with weaker embeddings (a distant
language pair, a less-resourced language, subtitles) has lower cosines throughout, so two true 1-1 beads beat their
merger by less, while what coverage gains by chance from a bigger span (more tokens to find a best match among)
stays the same: weights tuned on strong literary pairs push a weak pair into merging (2-2, 2-3). The pair's
strength is the median cosine of its anchors; below the reference, the level of the literary pairs the weights were
tuned on (0.64), the coverage weight shrinks in proportion. Those pairs are untouched by construction;
mac-dev-zh-en (median 0.35) goes from 0.833 to 0.865 strict F1. A higher reference would also retune the strong
pairs: measured leave-one-set-out, that does not carry over (textberg-dev falls to 0.883 at 1.0). The skip is not
scaled: scaling it too made a weak pair skip more, nearly always wrongly. Nor is the posterior temperature: scaled,
it calibrated mac-dev-zh-en better (ECE 0.018 against 0.08), but an unrelated text's anchors, picked as each
other's best match, look as strong as a weak pair's, and sharper posteriors gave it confident links (the warning
for unrelated texts in ``polyalign align`` depends on their being unconfident).

A prior on bead shapes (``shape_weight``, log-frequencies from the pooled gold) was measured too: without the
scaling it helped the weak sets a little and cost textberg-dev, with it the gain is within noise, so it is off.

So is a null score of each sentence's own (``null_weight``, ``null_scores``): leaving a sentence unaligned costs
less the less it resembles any sentence the band lets it pair with (its best cosine there, in the pair's
strength, below ``null_threshold``). Null sentences do stand out that way (against sentences in links, an AUC of
0.97 on textberg-dev, 0.91 on transread-en-fr, 0.78 on mac-dev-zh-en), but the DP's scores already carry most of
it: at a threshold of 0.5 every weight traded null-bead precision for recall (mac-dev-zh-en 0.17 -> 0.05 at 0.5,
strict F1 0.865 -> 0.863) and leave-one-set-out chose 0 for every set but one; at 0.3 it barely moves anything.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Callable, NamedTuple

import re

import numpy as np

from polyalign.align.coverage import TokenCoverage, centred_tokens
from polyalign.align.dp import Band, Shape, band_around_path, bead_shapes, best_path, full_band, posteriors, score_table


NUMBER = re.compile(r"\d+")
RUNS_ON = re.compile(r"[,;:，；：、]\s*$")  # a sentence ending so has not ended: the text runs on into the next

# Log-probability of each bead shape with sentences on both sides, from the development gold (textberg-dev,
# transread-en-fr, mac-dev-zh-en; each set weighted equally, a-b and b-a pooled, add-½ smoothing). Leaving any one
# set out moves no entry by more than 0.5 nats. What it knows: 1-1 beads are the rule, 1-2 one in ten, and beads
# with two or more sentences on *both* sides rare (a 2-2 is about as rare as a 1-3).
SHAPE_LOG_PRIOR = {(1, 1): -0.37, (1, 2): -2.24, (2, 1): -2.24, (1, 3): -3.89, (3, 1): -3.89, (2, 2): -3.71,
                   (1, 4): -4.84, (4, 1): -4.84, (2, 3): -4.91, (3, 2): -4.91}
UNSEEN_SHAPE = -6.0  # larger shapes, when max_bead allows them


@dataclass(frozen=True)
class AlignerSettings:
    max_bead: int = 5  # sentences in one bead, both sides together
    skip: float = -0.15  # score of a 1-0 or 0-1 bead
    length_weight: float = 1.0  # 0 ignores lengths
    margin_weight: float = 0.3  # share of the neighbours' mean cosine subtracted; 0 leaves the margin out
    number_weight: float = 0.2  # weight of the numbers two spans share (dates, heights, counts)
    paragraph_penalty: float = 0.0  # subtracted when a span runs across a paragraph start
    coverage_weight: float = 2.5  # weight of token coverage (see align.coverage); 0 leaves it out
    coverage_floor: float = 0.35  # token coverage at which a bead neither gains nor loses
    coarse_cells: int = 200_000  # the coarsest level is aligned in full when n × m is at most this
    coarse_radius: int = 8  # band radius, in coarse sentences, when refining a level
    anchor_radius: int = 5  # band radius, in sentences, around the anchors for the final pass
    max_gap: int = 60  # between anchors further apart than this, the band follows the first pass
    temperature: float = 0.05  # scales scores into log-weights for the bead posteriors
    shape_weight: float = 0.0  # weight of the bead-shape prior (SHAPE_LOG_PRIOR, in nats); 0 leaves it out
    strength_reference: float = 0.64  # pairs whose strength (pair_strength) is below this get their coverage weight
    # scaled by strength / this; 0 leaves it as it is
    null_weight: float = 0.0  # a sentence whose best match in the band is below null_threshold (in the pair's
    # strength) is this much cheaper to leave unaligned per unit below; 0 leaves every null bead at ``skip``
    null_threshold: float = 0.5
    span_threshold: float = 0.7  # beads with a posterior below this have their multi-sentence spans (and each grown
    # by a sentence) encoded as concatenated text and are scored again, when ``align`` has an encoder; 0: never
    span_budget: float = 0.3  # at most this many spans encoded per sentence of the pair, the most doubtful beads first


@dataclass
class Side:
    """One text as the aligner needs it: sentence vectors, lengths and paragraph starts."""

    vectors: np.ndarray  # (n, d), L2-normalised
    lengths: np.ndarray  # (n,) characters
    paragraph_starts: frozenset[int] = frozenset()
    texts: list[str] | None = None  # the sentences, for the numbers they contain
    max_span: int = 4
    tokens: list[np.ndarray] | None = None  # contextual token vectors per sentence, for token coverage
    centre: np.ndarray | None = None  # the mean vector ``centred`` removed (None: not centred); spans encoded
    # later as text (``encode_spans``) are centred by it too
    spans: dict[int, np.ndarray] = field(init=False, repr=False)
    span_lengths: dict[int, np.ndarray] = field(init=False, repr=False)
    crossings: dict[int, np.ndarray] = field(init=False, repr=False)
    numbers: list[frozenset[str]] = field(init=False, repr=False)
    encoded: set[tuple[int, int]] = field(init=False, repr=False)  # (start, size) of the spans encoded as text
    runs_on: np.ndarray = field(init=False, repr=False)  # (n + 1,) the text runs on across the boundary before
    # sentence k (``running_text``); the first and last entries are the side's edges

    def __post_init__(self) -> None:
        n = len(self.vectors)
        self.encoded = set()
        self.runs_on = running_text(self.texts) if self.texts else np.zeros(n + 1, dtype=bool)
        self.numbers = [frozenset(NUMBER.findall(t)) for t in self.texts] if self.texts else [frozenset()] * n
        weighted = self.vectors * np.sqrt(np.maximum(self.lengths, 1.0))[:, None]
        starts = np.zeros(n + 1, dtype=bool)
        starts[[p for p in self.paragraph_starts if 0 < p < n]] = True
        self.spans, self.span_lengths, self.crossings = {}, {}, {}
        for k in range(1, min(self.max_span, max(n, 1)) + 1):
            total = _window_sum(weighted, k)
            self.spans[k] = total / np.maximum(np.linalg.norm(total, axis=1, keepdims=True), 1e-12)
            self.span_lengths[k] = _window_sum(self.lengths[:, None].astype(float), k)[:, 0]
            self.crossings[k] = _window_sum(starts[1:n, None].astype(float), k - 1)[:, 0] > 0 if k > 1 \
                else np.zeros(n, dtype=bool)

    def __len__(self) -> int:
        return len(self.vectors)

    def centred(self) -> "Side":
        """The same side with the mean vector removed.

        Sentence embeddings share a large common direction (unrelated sentences still score a cosine
        near 0.8), which makes a span's mean vector almost as close to each of its sentences' partners
        as the sentence itself. Without that direction, an unrelated sentence in a span costs what it
        should, and cosines spread over the whole scale.
        """
        mean = self.vectors.mean(axis=0)
        centred = self.vectors - mean
        centred /= np.maximum(np.linalg.norm(centred, axis=1, keepdims=True), 1e-12)
        tokens = centred_tokens(self.tokens) if self.tokens is not None else None
        side = Side(centred, self.lengths, self.paragraph_starts, self.texts, self.max_span, tokens, mean)
        side.runs_on = self.runs_on
        return side

    def slice(self, start: int, stop: int) -> "Side":
        """Sentences ``start`` to ``stop`` as a side of their own (vectors as they are, not centred again)."""
        side = Side(self.vectors[start:stop], self.lengths[start:stop],
                    frozenset(p - start for p in self.paragraph_starts if start <= p < stop),
                    self.texts[start:stop] if self.texts is not None else None, self.max_span,
                    self.tokens[start:stop] if self.tokens is not None else None, self.centre)
        side.runs_on = self.runs_on[start:stop + 1]  # its edges as the whole text has them
        return side

    def span_numbers(self, start: int, size: int) -> frozenset[str]:
        return frozenset().union(*self.numbers[start:start + size])

    def coarser(self) -> "Side":
        """Pairs of neighbouring sentences merged into one (an odd last sentence stays alone)."""
        n = len(self)
        pairs = self.vectors[: n - n % 2].reshape(-1, 2, self.vectors.shape[1]).sum(axis=1)
        lengths = self.lengths[: n - n % 2].reshape(-1, 2).sum(axis=1)
        if n % 2:
            pairs = np.vstack([pairs, self.vectors[-1:]])
            lengths = np.append(lengths, self.lengths[-1])
        pairs /= np.maximum(np.linalg.norm(pairs, axis=1, keepdims=True), 1e-12)
        return Side(pairs, lengths, frozenset(), max_span=2)


def running_text(texts: list[str]) -> np.ndarray:
    """For each boundary between sentences (and the two edges), whether the text runs on across it: the
    sentence before ends in a comma, semicolon or colon, or the one after starts in lower case. A splitter
    cuts there in references and lists (``( London :``) and after abbreviations (``vgl .`` before a lower-case
    word); a link whose edge falls there is often half of a bead the gold keeps whole, however sure the aligner
    is (``confidence``)."""
    out = np.zeros(len(texts) + 1, dtype=bool)
    for k in range(1, len(texts)):
        out[k] = bool(RUNS_ON.search(texts[k - 1])) or texts[k].lstrip()[:1].islower()
    return out


def _window_sum(x: np.ndarray, k: int) -> np.ndarray:
    """Sums of every run of ``k`` consecutive rows."""
    if k == 0:
        return np.zeros((len(x) + 1, x.shape[1]))
    c = np.cumsum(np.vstack([np.zeros((1, x.shape[1])), x]), axis=0)
    return c[k:] - c[:-k]


@dataclass
class BeadScorer:
    """Scores of every bead shape between two sides; see the module docstring for the formula."""

    src: Side
    tgt: Side
    settings: AlignerSettings
    coverage: TokenCoverage | None = None
    scale: float = 1.0  # the pair's strength over the reference, at most 1 (see ``pair_strength``): scales coverage

    def __post_init__(self) -> None:
        total_src, total_tgt = self.src.lengths.sum(), self.tgt.lengths.sum()
        self.length_ratio = float(total_src / total_tgt) if total_tgt > 0 else 1.0
        if self.coverage is not None:  # tokens in a typical 1-1 bead: its coverage term has weight 1
            self.typical_tokens = max(self.coverage.src_tokens.mean() + self.coverage.tgt_tokens.mean(), 1.0)

    def __call__(self, i: int, shape: Shape, cols: np.ndarray) -> np.ndarray:
        a, b = shape
        out = np.full(len(cols), -1e9)
        ok = (cols - b >= 0) & (cols <= len(self.tgt))
        if i - a < 0 or a not in self.src.spans or b not in self.tgt.spans or not ok.any():
            return out
        first = int(cols[ok][0]) - b  # first target sentence of the first span; the columns are contiguous
        out[ok] = self.span_scores(i - a, a, first, int(ok.sum()), b)
        return out

    def span_scores(self, i0: int, a: int, j0: int, count: int, b: int) -> np.ndarray:
        """Scores of the beads pairing source span [i0, i0 + a) with the ``count`` target spans
        [j, j + b) for j = j0 .. j0 + count - 1."""
        src, tgt, s = self.src, self.tgt, self.settings
        S = src.spans[a][i0]
        T = tgt.spans[b][j0:j0 + count]
        score = T @ S
        if s.shape_weight:
            score = score + s.shape_weight * SHAPE_LOG_PRIOR.get((a, b), UNSEEN_SHAPE)
        if s.margin_weight:
            score = score - s.margin_weight * self._neighbour_mean(S, T, i0, a, j0, count, b)
        if s.length_weight:
            ls = src.span_lengths[a][i0]
            lt = tgt.span_lengths[b][j0:j0 + count] * self.length_ratio
            fit = np.log2(1.0 + np.minimum(ls, lt) / np.maximum(np.maximum(ls, lt), 1e-9))
            score = score * (1.0 - s.length_weight + s.length_weight * fit)
        if s.number_weight and src.texts is not None:
            score = score + s.number_weight * self._shared_numbers(i0, a, j0, count, b)
        if s.paragraph_penalty:
            crossing = src.crossings[a][i0] | tgt.crossings[b][j0:j0 + count]
            score = score - s.paragraph_penalty * crossing
        if self.coverage is not None:  # weighted by tokens: it judges how much of the text a bead accounts for
            f, tokens = self.coverage.f_scores(i0, a, j0, count, b)
            score = score + self.scale * s.coverage_weight * (tokens / self.typical_tokens) * (f - s.coverage_floor)
        return score

    def _shared_numbers(self, i0: int, a: int, j0: int, count: int, b: int) -> np.ndarray:
        """Dice overlap of the numbers in the source span and in each target span: numbers survive
        translation, so a shared "8848" or "1956" is evidence no embedding needs to supply."""
        out = np.zeros(count)
        mine = self.src.span_numbers(i0, a)
        if not mine:
            return out
        for k in range(count):
            theirs = self.tgt.span_numbers(j0 + k, b)
            if theirs:
                out[k] = 2 * len(mine & theirs) / (len(mine) + len(theirs))
        return out

    def _neighbour_mean(self, S, T, i0, a, j0, count, b) -> np.ndarray:
        """Mean cosine of each span with the sentences just before and after its counterpart."""
        n, m = len(self.src), len(self.tgt)
        total, seen = np.zeros(count), np.zeros(count)
        lo, hi = max(j0 - 1, 0), min(j0 + count - 1 + b, m - 1)  # target sentences around the spans
        if lo <= hi:
            near = np.full(count + b + 1, np.nan)  # cosine of S with target sentences j0 - 1 .. j0 + count - 1 + b
            near[lo - (j0 - 1):hi - (j0 - 1) + 1] = self.tgt.vectors[lo:hi + 1] @ S
            for side in (near[:count], near[b + 1:b + 1 + count]):  # just before, just after each span
                have = ~np.isnan(side)
                total[have] += side[have]
                seen += have
        for k in (i0 - 1, i0 + a):  # source neighbours of each target span
            if 0 <= k < n:
                total += T @ self.src.vectors[k]
                seen += 1
        return np.where(seen > 0, total / np.maximum(seen, 1), 0.0)


class AlignedBead(NamedTuple):
    src: tuple[int, ...]
    tgt: tuple[int, ...]
    score: float
    posterior: float = 0.0  # probability of the bead among all paths in the band
    strength: float = 0.0  # the pair's strength (``pair_strength``); 0 where too few anchors tell it
    relative_length: float = 1.0  # a null bead's sentence, in characters, over the median sentence of its side
    cuts_running_text: bool = False  # a link with an edge where the text runs on, on either side (``running_text``)
    has_number: bool = False  # a sentence of the bead holds a number (a number shared raises the score)


SpanEncoder = Callable[[list[str]], np.ndarray]  # texts -> (len, d) unit vectors, as the sentences were encoded


def align(src: Side, tgt: Side, settings: AlignerSettings = AlignerSettings(), *,
          centre: bool = True, strength: float | None = None, encode: SpanEncoder | None = None) -> list[AlignedBead]:
    """The monotone bead sequence covering both sides, with each bead's score.

    ``centre=False`` and ``strength`` are for sides that are stretches of texts already centred as a whole
    (``align_around``): a stretch's own mean would be a poor estimate of the text's common direction, and its
    few anchors of the pair's strength. ``encode`` (the encoder that made the sentence vectors) lets the beads
    the programme hesitates over be scored on their spans' own text (``settings.span_threshold``); sides
    given centred must come from ``Side.centred`` (or a slice of one), which remembers the mean to remove.
    """
    n, m = len(src), len(tgt)
    if n == 0 or m == 0:
        alone = src if n else tgt
        lengths = alone.lengths / max(float(np.median(alone.lengths)), 1.0) if len(alone) else []
        return [AlignedBead((k,) if n else (), () if n else (k,), settings.skip, 0.0, strength or 0.0, float(length),
                            has_number=bool(alone.numbers[k])) for k, length in enumerate(lengths)]
    if centre:
        src, tgt = src.centred(), tgt.centred()
    first = first_pass(src, tgt, settings)
    anchors = confident_anchors(first, src, tgt)
    band = band_between_anchors(anchors, first, n, m, settings)
    coverage = None
    if settings.coverage_weight and src.tokens is not None and tgt.tokens is not None:
        coverage = TokenCoverage.build(src.tokens, tgt.tokens, band, settings.max_bead - 1)
    strength = pair_strength(anchors, src, tgt, unknown=0.0) if strength is None else strength
    scale = 1.0
    if settings.strength_reference:
        scale = min((strength or 1.0) / settings.strength_reference, 1.0)
    scorer = BeadScorer(src, tgt, settings, coverage, scale)
    skip = null_scores(src, tgt, band, strength or 1.0, settings) if settings.null_weight else settings.skip
    table = score_table(band, bead_shapes(settings.max_bead), scorer, skip)
    path = best_path(table)
    chance = posteriors(table, path, settings.temperature)  # not in the pair's units: see the module docstring
    if encode is not None and settings.span_threshold and src.centre is not None and tgt.centre is not None \
            and src.texts and tgt.texts:
        doubtful = sorted((p, k, bead) for k, (bead, p) in enumerate(zip(_beads_from_path(path, scorer, skip), chance))
                          if p < settings.span_threshold)
        budget = int(settings.span_budget * (n + m))
        if encode_spans(src, tgt, [bead for _, _, bead in doubtful], encode, budget):
            table = score_table(band, bead_shapes(settings.max_bead), scorer, skip)
            path = best_path(table)
            chance = posteriors(table, path, settings.temperature)
    median = (float(np.median(src.lengths)), float(np.median(tgt.lengths)))
    return [bead._replace(posterior=float(p), strength=strength,
                          relative_length=_relative_length(bead, src, tgt, median),
                          cuts_running_text=_cuts_running_text(bead, src, tgt),
                          has_number=any(side.numbers[k]
                                         for side, ids in ((src, bead.src), (tgt, bead.tgt)) for k in ids))
            for bead, p in zip(_beads_from_path(path, scorer, skip), chance)]


def null_scores(src: Side, tgt: Side, band: Band, strength: float,
                settings: AlignerSettings) -> tuple[np.ndarray, np.ndarray]:
    """The score of leaving each source and each target sentence unaligned: ``skip``, raised for a sentence
    with nothing like it among the sentences the band lets it pair with (an untranslated caption, a sentence
    the other version omits). Its best cosine there, in the pair's strength, is compared with the threshold."""
    best_src = np.full(len(src), -1.0)
    best_tgt = np.full(len(tgt), -1.0)
    for i in range(len(src)):  # source sentence i sits in beads ending on rows i + 1 ..; their columns pair with it
        lo, hi = int(band.lo[i]), int(min(band.hi[min(i + 1, band.rows - 1)], len(tgt)))
        if hi > lo:
            cos = tgt.vectors[lo:hi] @ src.vectors[i]
            best_src[i] = cos.max()
            np.maximum.at(best_tgt, np.arange(lo, hi), cos)
    def raised(best: np.ndarray) -> np.ndarray:
        return settings.skip + settings.null_weight * np.maximum(settings.null_threshold - best / strength, 0.0)
    return raised(best_src), raised(best_tgt)


def encode_spans(src: Side, tgt: Side, beads: list["AlignedBead"], encode: SpanEncoder,
                 budget: int | None = None) -> int:
    """Replace the summed vectors of the spans these beads hesitate over by the encoder's vector of their text.

    A span's vector is otherwise the length-weighted sum of its sentences' vectors: cheap, but blind to how
    the sentences read together, which is what a weak pair's merges hinge on (Bertalign encodes every window;
    this encodes only the doubtful ones). For each bead, the spans of two to four sentences it has on each
    side, and each side grown by one sentence either way; spans a side has encoded before (for another pair
    of the same versions) are kept and not asked for again. The new vectors are centred as the sides were
    (``Side.centre``). ``budget``: at most this many texts, the first beads' first (a bead's spans are taken
    whole or not at all). Returns how many texts were encoded."""
    wanted: tuple[set, set] = (set(), set())
    for bead in beads:
        more = [set(), set()]
        for k, (side, ids) in enumerate(((src, bead.src), (tgt, bead.tgt))):
            around = ((ids[0], len(ids)), (ids[0] - 1, len(ids) + 1), (ids[0], len(ids) + 1)) if ids else ()
            for start, size in around:
                if 2 <= size <= side.max_span and start >= 0 and start + size <= len(side) \
                        and (start, size) not in side.encoded:
                    more[k].add((start, size))
        added = len(more[0] - wanted[0]) + len(more[1] - wanted[1])
        if budget is not None and sum(map(len, wanted)) + added > budget:
            break
        wanted[0].update(more[0])
        wanted[1].update(more[1])
    total = 0
    for side, spans in ((src, sorted(wanted[0])), (tgt, sorted(wanted[1]))):
        if not spans:
            continue
        vectors = np.asarray(encode([" ".join(side.texts[a:a + k]) for a, k in spans]), dtype=float) - side.centre
        vectors /= np.maximum(np.linalg.norm(vectors, axis=1, keepdims=True), 1e-12)
        for (start, size), vector in zip(spans, vectors):
            side.spans[size][start] = vector
        side.encoded.update(spans)
        total += len(spans)
    return total


def _relative_length(bead: "AlignedBead", src: Side, tgt: Side, median: tuple[float, float]) -> float:
    """For a null bead, its sentence's length over its side's median sentence (an untranslated caption or
    heading is short; a sentence that really belongs to a neighbouring bead is not); 1 for a link."""
    if bead.src and bead.tgt:
        return 1.0
    length, typical = (src.lengths[bead.src[0]], median[0]) if bead.src else (tgt.lengths[bead.tgt[0]], median[1])
    return float(length / max(typical, 1.0))


def _cuts_running_text(bead: "AlignedBead", src: Side, tgt: Side) -> bool:
    return bool(bead.src and bead.tgt) and any(side.runs_on[ids[0]] or side.runs_on[ids[-1] + 1]
                                                for side, ids in ((src, bead.src), (tgt, bead.tgt)))


def pair_strength(anchors: list[tuple[int, int]], src: Side, tgt: Side, unknown: float = 1.0) -> float:
    """The median cosine of the anchors' sentence pairs: how alike this pair's true 1-1 beads look;
    ``unknown`` when fewer than five anchors leave it untold.

    A pair with weaker embeddings (a distant or less-resourced language, short subtitles) has lower cosines
    throughout, while the chance gain of token coverage stays the same: a bigger span finds better token
    matches by chance alone. Measured in this pair's own units, coverage keeps the balance that was tuned on
    strong pairs, and a weak pair is not pushed into merging. The confidence reads the beads' posteriors in
    the same units (``align.confidence``)."""
    cosines = [float(src.vectors[i - 1] @ tgt.vectors[j - 1]) for i, j in anchors if i > 0 and j > 0]
    return float(np.clip(np.median(cosines), 0.05, 1.0)) if len(cosines) >= 5 else unknown


Span = tuple[int, int]  # half-open range of sentence positions


def align_around(src: Side, tgt: Side, kept: list[tuple[Span, Span]],
                 settings: AlignerSettings = AlignerSettings(), *, encode: SpanEncoder | None = None
                 ) -> list[AlignedBead]:
    """Beads covering both sides in which the ``kept`` beads (source and target ranges, in order, e.g. links a
    reviewer confirmed) stay exactly as they are; the aligner runs only on the stretches between them.

    Kept beads come back with posterior 1 and no score of their own (NaN): they are a person's decision.
    ``encode``: as for ``align``, per stretch.
    """
    src, tgt = src.centred(), tgt.centred()
    strength = pair_strength(confident_anchors(first_pass(src, tgt, settings), src, tgt), src, tgt, unknown=0.0)
    beads, i, j = [], 0, 0
    for (i0, i1), (j0, j1) in [*kept, ((len(src), len(src)), (len(tgt), len(tgt)))]:
        if i0 < i or j0 < j or i1 < i0 or j1 < j0:
            raise ValueError(f"confirmed links cross or overlap (source sentence {i0 + 1}, target sentence "
                             f"{j0 + 1}); fix them, `polyalign validate` shows where")
        stretch = align(src.slice(i, i0), tgt.slice(j, j0), settings, centre=False, strength=strength,
                        encode=encode) \
            if (i0 > i or j0 > j) else []
        beads += [b._replace(src=tuple(k + i for k in b.src), tgt=tuple(k + j for k in b.tgt)) for b in stretch]
        if i1 > i0 or j1 > j0:
            beads.append(AlignedBead(tuple(range(i0, i1)), tuple(range(j0, j1)), float("nan"), 1.0, strength))
        i, j = i1, j1
    return beads


def first_pass(src: Side, tgt: Side, settings: AlignerSettings) -> list[tuple[int, int]]:
    """Nodes of a path of 1-1, 2-1, 1-2 and null beads, found coarse to fine."""
    if len(src) * len(tgt) <= settings.coarse_cells or min(len(src), len(tgt)) < 4:
        band = full_band(len(src), len(tgt))
    else:
        above = first_pass(src.coarser(), tgt.coarser(), settings)
        finer = [(min(2 * i, len(src)), min(2 * j, len(tgt))) for i, j in above]
        band = band_around_path(finer, len(src), len(tgt), settings.coarse_radius)
    shapes = [(1, 1), (1, 2), (2, 1), (1, 0), (0, 1)]
    path = best_path(score_table(band, shapes, BeadScorer(src, tgt, settings), settings.skip))
    return [(0, 0)] + [node for _, node in path]


def confident_anchors(path: list[tuple[int, int]], src: Side, tgt: Side) -> list[tuple[int, int]]:
    """End nodes of the path's 1-1 beads whose sentences are each other's best match nearby."""
    anchors = [(0, 0)]
    for (i0, j0), (i1, j1) in zip(path, path[1:]):
        if (i1 - i0, j1 - j0) != (1, 1):
            continue
        lo_j, hi_j = max(0, j0 - 5), min(len(tgt), j0 + 6)
        lo_i, hi_i = max(0, i0 - 5), min(len(src), i0 + 6)
        row = tgt.vectors[lo_j:hi_j] @ src.vectors[i0]
        col = src.vectors[lo_i:hi_i] @ tgt.vectors[j0]
        if lo_j + int(np.argmax(row)) == j0 and lo_i + int(np.argmax(col)) == i0:
            anchors.append((i1, j1))
    if anchors[-1] != (len(src), len(tgt)):
        anchors.append((len(src), len(tgt)))
    return anchors


def band_between_anchors(anchors, first, n: int, m: int, settings: AlignerSettings) -> Band:
    """Rows between two anchors may reach every column between them, widened by the radius.

    Where two anchors lie more than ``max_gap`` rows or columns apart the rectangle would grow with
    the square of the gap, so there the band follows the first pass instead: memory stays linear.
    """
    r = settings.anchor_radius
    around_first = band_around_path(first, n, m, r)
    lo, hi = around_first.lo.copy(), around_first.hi.copy()
    for (i0, j0), (i1, j1) in zip(anchors, anchors[1:]):
        if i1 - i0 > settings.max_gap or j1 - j0 > settings.max_gap:
            continue
        rows = slice(max(0, i0 - r), min(n, i1 + r) + 1)
        lo[rows] = np.minimum(lo[rows], max(0, j0 - r))
        hi[rows] = np.maximum(hi[rows], min(m, j1 + r))
    return Band(lo, hi)


def _beads_from_path(path, scorer: BeadScorer, skip: float | tuple[np.ndarray, np.ndarray]) -> list[AlignedBead]:
    beads = []
    for (a, b), (i, j) in path:
        src_ids, tgt_ids = tuple(range(i - a, i)), tuple(range(j - b, j))
        if a and b:
            score = float(scorer.span_scores(i - a, a, j - b, 1, b)[0])
        elif isinstance(skip, tuple):
            score = float(skip[0][i - 1] if a else skip[1][j - 1])
        else:
            score = skip
        beads.append(AlignedBead(src_ids, tgt_ids, score))
    return beads
