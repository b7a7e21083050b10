"""Confidence that means what it says: the probability that a bead is exactly right.

The aligner gives every bead a raw score and a posterior (its share of all paths through the band).
Neither is a probability a reviewer can trust as it stands, so a logistic model maps them to one, fitted
on the development gold (``tests/benchmarks/calibrate.py`` refits it and prints the calibration table).
The fitted weights ship in ``align/data/calibration.json``.

What carries from the sets it is fitted on to text it has never seen (measured leave-one-set-out, see
``calibrate.py`` and the README):

* **The posterior in the pair's units.** A weak pair (a distant language pair, mac-dev-zh-en: anchors' median
  cosine 0.35) has flatter posteriors than a strong one: its links with a posterior of 0.5-0.7 are right as
  often (72 %) as transread-en-fr's at 0.8-0.9 (73 %). The log posterior odds are scaled by the reference over
  the pair's strength (``aligner.pair_strength``), between ``STRENGTH_FLOOR`` and ``STRENGTH_REFERENCE``: a
  text unrelated to the other (whose few chance anchors may look weaker still) is read as the weakest pair,
  which makes its many low posteriors lower (and its rare high ones higher); a pair too short for its strength
  to be told is read the same way (the stretches re-aligned between a reviewer's links are read with the whole
  pair's). Scaling the posterior's temperature instead made unrelated texts look confident; here a weak
  pair's beads gain only where their posterior is high, and the fit sets how much.
* **A null bead's length.** An untranslated caption or heading, short, is a right null; a full sentence
  left unmatched was usually glued to the wrong side of a neighbour (textberg-dev's nulls are mostly the
  first kind, the other sets' mostly the second). The nearest cosine of the sentence to the other side's
  sentences around it was measured as well and added nothing once length was in.
* **A link that cuts running text** (``aligner.running_text``): one of its edges, on either side, falls where the
  text has not ended (the sentence before ends in a comma, semicolon or colon, or the one after starts in lower
  case). A splitter cuts there in references and lists (``( London :``) and after abbreviations, and the gold
  keeps such pieces in one bigger bead that the aligner cuts elsewhere: links so marked are right 0.76 of the
  time on textberg-dev (0.94 unmarked), 0.82 on transread-en-fr (0.95), 0.86 on mac-dev-zh-en (0.88), at the same
  posteriors. Built from textberg-dev's sure wrong links (the paragraph below), it helps the two sets it was not
  built from: leave-one-set-out ECE 0.037 → 0.026 on mac-dev-zh-en, 0.014 → 0.011 on transread-en-fr (0.051 →
  0.034 on textberg-dev); in a resampling of the documents it helps mac-dev-zh-en 97 % of the time and
  transread-en-fr 91 %. Either half of the rule alone (punctuation, lower case) does half as well. An edge where
  only one side runs on is the surer sign (such links right 0.64 / 0.81 / 0.85 on textberg-dev / transread-en-fr /
  mac-dev-zh-en), but where both do (a line broken alike in both versions, as subtitles are) links are still right
  less often on transread-en-fr (0.84 against 0.95); marking one-sided edges only gives 0.028 / 0.030 / 0.011, the
  two kinds as two features 0.026 / 0.032 / 0.010, so one feature marks either.
* **A bead that holds a number.** A number both sides share adds to the score (``number_weight``), and the score
  and posterior then say more than the content does: such links are right 0.87 of the time on textberg-dev (0.91
  without), 0.82 on mac-dev-zh-en (0.88), 0.95 on transread-en-fr (0.94). Measured alone it left mac-dev-zh-en
  level and helped the other two; with the running text, 0.026 / 0.034 / 0.011 → 0.026 / 0.028 / 0.010.
* No slope of its own for a null bead's posterior: fitted on two sets, it read a sure null as a wrong one
  on the third.

With all of these, leave-one-set-out ECE is 0.026 / 0.028 / 0.010 on mac-dev-zh-en / textberg-dev /
transread-en-fr (``calibrate.py``; a perfectly calibrated confidence would show 0.019 / 0.027 / 0.006 on that many
beads). ``calibration_candidates.py`` prints each feature's worth (the ECE with it left out) and the rest below.
The two features of running text and numbers were chosen with all three sets in view; a choice made for each set
on the other two alone, among the candidates below, does worse (0.040 / 0.037 / 0.013), so three sets are few to
choose among many candidates on, and the held-out gold is the real test.

Measured and left out (each added to the features above without the running text and the number, leave-one-set-out
ECE on mac-dev-zh-en / textberg-dev / transread-en-fr against their 0.039 / 0.047 / 0.015; the default encoder of
the time (every product 4-bit), spans encoded, 2026-12-05; refitted on the int8 and 4-bit encoder: 0.037 / 0.051 /
0.014):

* **The bead's neighbourhood.** The neighbours' lower posterior odds (0.050 / 0.043 / 0.014) or whether they are
  1-1 beads (0.050 / 0.042 / 0.014): mac-dev-zh-en loses what textberg-dev gains. The neighbours' lower score
  (0.031 / 0.038 / 0.017) and a link beside a null bead (0.037 / 0.041 / 0.016; without the spans it was 0.031 /
  0.054 / 0.014, so it moves with the aligner) trade transread-en-fr for the others.
* **The margin over the bead's rivals**: its score minus the best score of another link over the same source or the
  same target span (0.037 / 0.044 / 0.015). A little better on every set, but within what resampling the documents
  moves (a paired bootstrap finds it better 59-77 % of the time): the posterior already holds most of it.
* **The score against the document's median 1-1 score** (as a ratio 0.074 / 0.048 / 0.017): a weak pair's median is
  low, so its beads look strong.
* **The bead itself**: not a 1-1 bead (0.039 / 0.046 / 0.015), its shape one indicator each (1-2, 2-1, 2-2: 0.038 /
  0.047 / 0.015), its shorter side against the median sentence (0.030 / 0.048 / 0.016), its word pieces (0.043 /
  0.046 / 0.016). (Whether it holds a number, 0.039 / 0.038 / 0.013, is in now.)
* **Other fits of these features**: each set weighted alike (0.034 / 0.037 / 0.023) or by the root of its size
  (0.036 / 0.043 / 0.018), the stress sets made from the training sets added (0.051 / 0.036 / 0.016), an isotonic
  step after the logistic fit (0.043 / 0.051 / 0.014). Choosing among all of these for each set on the other two
  alone (each fitted on one and scored on the other) gives 0.048 / 0.038 / 0.017: no better than choosing none.

Why textberg-dev needed the running text (it stayed at 0.036 or more with every candidate below): its links with a
posterior of 0.9 or more are right 0.937 of the time (mac-dev-zh-en 0.988, transread-en-fr 0.978), and those with a
side shorter than half the median sentence 0.827 (52 links; mac-dev-zh-en 1.000 of 98, transread-en-fr 0.976 of
899). Its sentence splitter cut references and lists at colons and abbreviations (``( London :``, ``Nov .``,
``Ch .``), and its gold joins the pieces into 2-3, 3-2 or 4-3 beads that the aligner cuts elsewhere: 12 of the 14
wrong links a fit on the other sets put at 0.9 or more were pieces of such a bead. A short side does not tell them
(elsewhere a short sentence is a line of dialogue and as sure as any); that the text runs on across the link's edge
does, and on the other sets too.
"""
from __future__ import annotations

import json
from dataclasses import dataclass
from importlib.resources import files
from pathlib import Path
from typing import Sequence

import numpy as np

from polyalign.align.aligner import AlignedBead

FEATURES = ("log posterior odds in the pair's units", "score", "null bead", "sentences in bead",
            "null bead × log relative length", "link cutting running text", "bead holds a number")
STRENGTH_REFERENCE = 0.64  # pairs at least this strong keep their posterior odds as they are (the literary pairs)
STRENGTH_FLOOR = 0.3  # pairs weaker than this (or of unknown strength) count as this weak; 0.2-0.35 measure alike
DEFAULT_PATH = Path(str(files("polyalign.align") / "data" / "calibration.json"))


def features(beads: Sequence[AlignedBead]) -> np.ndarray:
    """One row per bead; see the module docstring for why these."""
    if not beads:
        return np.zeros((0, len(FEATURES)))
    p = np.clip(np.array([b.posterior for b in beads], dtype=float), 1e-6, 1 - 1e-6)
    strength = np.clip(np.array([b.strength for b in beads], dtype=float), STRENGTH_FLOOR, STRENGTH_REFERENCE)
    odds = np.log(p / (1 - p)) * STRENGTH_REFERENCE / strength
    null = np.array([float(not (b.src and b.tgt)) for b in beads])
    score = np.nan_to_num(np.array([b.score for b in beads], dtype=float)) * (1 - null)
    size = np.array([len(b.src) + len(b.tgt) for b in beads], dtype=float)
    length = np.log(np.clip(np.array([b.relative_length for b in beads], dtype=float), 0.02, 10.0))
    cuts = np.array([b.cuts_running_text for b in beads], dtype=float)
    number = np.array([b.has_number for b in beads], dtype=float)
    return np.column_stack([odds, score, null, size, null * length, cuts, number])


def _sigmoid(x: np.ndarray) -> np.ndarray:
    return 1.0 / (1.0 + np.exp(-np.clip(x, -40, 40)))


@dataclass
class Calibration:
    weights: np.ndarray
    bias: float
    fitted_on: str = ""

    def confidence(self, beads: Sequence[AlignedBead]) -> np.ndarray:
        return _sigmoid(features(beads) @ self.weights + self.bias)

    @classmethod
    def load(cls, path: str | Path = DEFAULT_PATH) -> "Calibration":
        data = json.loads(Path(path).read_text(encoding="utf-8"))
        return cls(np.array([data["weights"][f] for f in FEATURES]), data["bias"], data.get("fitted_on", ""))

    def save(self, path: str | Path = DEFAULT_PATH) -> None:
        data = {"features": list(FEATURES), "weights": dict(zip(FEATURES, map(float, self.weights))),
                "bias": float(self.bias), "fitted_on": self.fitted_on}
        Path(path).write_text(json.dumps(data, indent=2) + "\n", encoding="utf-8")

    @classmethod
    def fit(cls, beads: Sequence[AlignedBead], correct: Sequence[bool], fitted_on: str = "",
            l2: float = 1e-3) -> "Calibration":
        """Logistic regression by Newton's method, with a touch of L2 so it always converges."""
        X = np.column_stack([features(beads), np.ones(len(beads))])
        y = np.asarray(correct, dtype=float)
        w = np.zeros(X.shape[1])
        for _ in range(50):
            p = _sigmoid(X @ w)
            gradient = X.T @ (p - y) + l2 * w
            hessian = (X * (p * (1 - p))[:, None]).T @ X + l2 * np.eye(len(w))
            step = np.linalg.solve(hessian, gradient)
            w -= step
            if np.abs(step).max() < 1e-8:
                break
        return cls(w[:-1], float(w[-1]), fitted_on)


@dataclass
class CalibrationTable:
    """How often beads were right, per confidence band: the evidence that the numbers can be trusted."""

    edges: tuple[float, ...]
    counts: list[int]
    correct: list[int]
    confident_share: float  # of beads with confidence ≥ 0.9, the share that is right

    @classmethod
    def of(cls, confidences: Sequence[float], right: Sequence[bool],
           edges: tuple[float, ...] = (0.0, 0.1, 0.2, 0.3, 0.4, 0.5, 0.6, 0.7, 0.8, 0.9, 1.0)) -> "CalibrationTable":
        c, r = np.asarray(confidences), np.asarray(right, dtype=bool)
        band = np.clip(np.searchsorted(edges, c, side="right") - 1, 0, len(edges) - 2)
        counts = [int((band == k).sum()) for k in range(len(edges) - 1)]
        correct = [int(r[band == k].sum()) for k in range(len(edges) - 1)]
        high = c >= 0.9
        return cls(edges, counts, correct, float(r[high].mean()) if high.any() else float("nan"))

    def __str__(self) -> str:
        rows = ["confidence | beads | right | share right"]
        for k, (n, ok) in enumerate(zip(self.counts, self.correct)):
            share = f"{ok / n:.3f}" if n else "    -"
            rows.append(f"{self.edges[k]:.1f} – {self.edges[k + 1]:.1f}  | {n:5d} | {ok:5d} | {share}")
        rows.append(f"confidence ≥ 0.9: {self.confident_share:.3f} of beads exactly right")
        return "\n".join(rows)
