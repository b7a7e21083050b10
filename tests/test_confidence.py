"""The calibration's features and what the shipped fit does with them, on made-up beads (no model needed)."""
from __future__ import annotations

import numpy as np

from polyalign.align.aligner import AlignedBead
from polyalign.align.confidence import FEATURES, STRENGTH_FLOOR, STRENGTH_REFERENCE, Calibration, features

ODDS = FEATURES.index("log posterior odds in the pair's units")


def link(posterior: float, strength: float, score: float = 0.5) -> AlignedBead:
    return AlignedBead((3,), (3,), score, posterior, strength)


def null(posterior: float, relative_length: float, strength: float = 0.6) -> AlignedBead:
    return AlignedBead((3,), (), -0.15, posterior, strength, relative_length)


def test_posterior_odds_are_read_in_the_pairs_units():
    odds = features([link(0.8, s) for s in (0.9, STRENGTH_REFERENCE, 0.32, 0.1, 0.0)])[:, ODDS]
    plain = np.log(0.8 / 0.2)
    expected = plain * np.array([1, 1, STRENGTH_REFERENCE / 0.32, *[STRENGTH_REFERENCE / STRENGTH_FLOOR] * 2])
    # a strong pair's posterior is as it is; a weak pair's flat posterior counts for more; weaker, or untold: the floor
    np.testing.assert_allclose(odds, expected)


def test_a_weak_pairs_sure_bead_gains_and_its_doubtful_bead_loses():
    calibration = Calibration.load()
    strong, weak = calibration.confidence([link(0.9, 0.64), link(0.9, 0.35)])
    assert weak > strong
    strong, weak = calibration.confidence([link(0.2, 0.64), link(0.2, 0.35)])
    assert weak < strong  # an unrelated text's chance links (low posteriors, weak anchors) stay unconfident


def test_a_short_unmatched_sentence_is_trusted_as_a_null_more_than_a_full_one():
    caption, sentence = Calibration.load().confidence([null(0.99, 0.3), null(0.99, 1.0)])
    assert caption > sentence + 0.2
    assert sentence < 0.5  # a full sentence left unmatched is more often glued to the wrong side of a neighbour


def test_a_bead_kept_from_a_review_has_a_confidence():
    kept = AlignedBead((1, 2), (1,), float("nan"), 1.0)  # align_around's beads: no score of their own
    assert np.isfinite(Calibration.load().confidence([kept])).all()


def test_a_link_cutting_running_text_is_trusted_less():
    """A link with an edge where the splitter cut a running sentence (``( London :``) is often half of a bead the
    gold keeps whole, however sure the aligner is; a number shared raises a bead's score beyond its content."""
    calibration = Calibration.load()
    plain, cutting, numbered = calibration.confidence(
        [link(0.95, 0.6), link(0.95, 0.6)._replace(cuts_running_text=True), link(0.95, 0.6)._replace(has_number=True)])
    assert cutting < plain - 0.1
    assert numbered < plain
