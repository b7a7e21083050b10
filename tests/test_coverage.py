"""Token coverage: the banded tables against a brute-force computation, and what it changes in alignment."""
from __future__ import annotations

import numpy as np
import pytest

import polyalign.align.coverage as coverage_module
from polyalign.align.aligner import AlignerSettings, Side, align
from polyalign.align.coverage import TokenCoverage, centred_tokens
from polyalign.align.dp import full_band


def unit(x: np.ndarray) -> np.ndarray:
    return x / np.linalg.norm(x, axis=-1, keepdims=True)


def brute_force_f(src, tgt, i0, a, j0, b) -> tuple[float, float]:
    s = np.vstack(src[i0:i0 + a]).astype(np.float32)
    t = np.vstack(tgt[j0:j0 + b]).astype(np.float32)
    sims = s @ t.T
    recall, precision = max(sims.max(axis=1).mean(), 0.0), max(sims.max(axis=0).mean(), 0.0)
    f = 2 * recall * precision / (recall + precision) if recall + precision > 0 else 0.0
    return f, len(s) + len(t)


@pytest.mark.parametrize("block", [64, 5])
@pytest.mark.parametrize("shape", [(1, 1), (1, 2), (2, 1), (2, 2), (1, 3), (3, 1), (1, 4), (4, 1), (2, 3)])
def test_banded_tables_give_the_brute_force_scores(shape, block, monkeypatch):
    monkeypatch.setattr(coverage_module, "BLOCK", block)  # the products run in blocks of sentences
    rng = np.random.default_rng(0)
    src = centred_tokens([rng.normal(size=(rng.integers(3, 9), 16)) for _ in range(12)])
    tgt = centred_tokens([rng.normal(size=(rng.integers(3, 9), 16)) for _ in range(14)])
    coverage = TokenCoverage.build(src, tgt, full_band(12, 14), max_span=4)
    a, b = shape
    for i0 in range(0, 12 - a + 1, 3):
        count = 14 - b + 1
        f, tokens = coverage.f_scores(i0, a, 0, count, b)
        for j0 in range(count):
            expected_f, expected_tokens = brute_force_f(src, tgt, i0, a, j0, b)
            assert f[j0] == pytest.approx(expected_f, abs=2e-3)  # float16 token vectors
            assert tokens[j0] == expected_tokens


def test_centred_tokens_have_unit_length_and_no_common_direction():
    rng = np.random.default_rng(1)
    shared = rng.normal(size=16) * 5
    tokens = centred_tokens([shared + rng.normal(size=(6, 16)) for _ in range(40)])
    stacked = np.vstack(tokens).astype(np.float32)
    assert np.allclose(np.linalg.norm(stacked, axis=1), 1.0, atol=1e-2)
    assert abs(float(unit(stacked.mean(axis=0)) @ unit(shared))) < 0.5


def synthetic_pair(seed: int = 3):
    """Twenty source 'sentences' of eight tokens and a token-by-token 'translation', except that target
    sentence 9 also carries the first three tokens of source sentence 10: a clause moved across a boundary."""
    rng = np.random.default_rng(seed)
    src_tokens = [unit(rng.normal(size=(8, 48))) for _ in range(20)]
    tgt_tokens = [unit(t + 0.8 * unit(rng.normal(size=t.shape))) for t in src_tokens]
    tgt_tokens[9] = np.vstack([tgt_tokens[9], tgt_tokens[10][:3]])
    tgt_tokens[10] = tgt_tokens[10][3:]

    def side(tokens):
        vectors = unit(np.stack([t.mean(axis=0) for t in tokens]))
        return Side(vectors, np.array([10.0 * len(t) for t in tokens]), tokens=tokens)

    return side(src_tokens), side(tgt_tokens)


@pytest.mark.parametrize("seed", [3, 5])
def test_a_clause_moved_across_a_boundary_makes_a_two_two_bead(seed):
    src, tgt = synthetic_pair(seed)
    beads = [(b.src, b.tgt) for b in align(src, tgt)]
    assert ((9, 10), (9, 10)) in beads
    assert all(bead == ((i,), (i,)) for i, bead in enumerate(beads[:9]))
    # Sentence vectors alone see two good 1-1 beads: it is the tokens that notice the moved clause.
    by_sentence = [(b.src, b.tgt) for b in align(src, tgt, AlignerSettings(coverage_weight=0))]
    assert ((9, 10), (9, 10)) not in by_sentence


def test_without_tokens_the_aligner_still_runs_on_sentence_vectors():
    src, tgt = synthetic_pair()
    bare = [Side(s.vectors, s.lengths) for s in (src, tgt)]
    beads = align(bare[0], bare[1])
    assert sum(len(b.src) for b in beads) == 20 and sum(len(b.tgt) for b in beads) == 20
    assert align(src, tgt, AlignerSettings(coverage_weight=0)) == beads


def test_a_narrow_band_gives_the_same_scores_inside_it():
    from polyalign.align.dp import band_around_path

    rng = np.random.default_rng(4)
    src = centred_tokens([rng.normal(size=(rng.integers(2, 7), 16)) for _ in range(30)])
    tgt = centred_tokens([rng.normal(size=(rng.integers(2, 7), 16)) for _ in range(30)])
    band = band_around_path([(k, k) for k in range(31)], 30, 30, radius=2)
    narrow = TokenCoverage.build(src, tgt, band, max_span=4)
    full = TokenCoverage.build(src, tgt, full_band(30, 30), max_span=4)
    for end in range(2, 31):  # every bead ending at a node inside the band
        for a, b in [(1, 1), (2, 1), (1, 2), (2, 2), (1, 3)]:
            cols = np.arange(max(band.lo[end], b), band.hi[end] + 1)
            if end - a < 0 or len(cols) == 0:
                continue
            f_narrow, _ = narrow.f_scores(end - a, a, cols[0] - b, len(cols), b)
            f_full, _ = full.f_scores(end - a, a, cols[0] - b, len(cols), b)
            np.testing.assert_allclose(f_narrow, f_full, atol=1e-6)
