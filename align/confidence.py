"""Confidence that means what it says: the probability that a bead is exactly right.

The aligner gives every bead a raw score and a posterior (its share of all paths through the band).
Neither is a probability a reviewer can trust as it stands, so a logistic model maps them to one, fitted
on the development gold (``tests/benchmarks/calibrate.py`` refits it and prints the calibration table).
The fitted weights ship in ``align/data/calibration.json``.
"""
from __future__ import annotations

import json
from dataclasses import dataclass
from importlib.resources import files
from pathlib import Path
from typing import Sequence

import numpy as np

from polyalign.align.aligner import AlignedBead

FEATURES = ("log posterior odds", "score", "null bead", "null bead × log posterior odds", "sentences in bead")
DEFAULT_PATH = Path(str(files("polyalign.align") / "data" / "calibration.json"))


def features(beads: Sequence[AlignedBead]) -> np.ndarray:
    """One row per bead. Null beads get their own slope on the posterior: whether an unmatched sentence
    is really unmatched is a different question from whether two spans match."""
    if not beads:
        return np.zeros((0, len(FEATURES)))
    p = np.clip(np.array([b.posterior for b in beads], dtype=float), 1e-6, 1 - 1e-6)
    odds = np.log(p / (1 - p))
    null = np.array([float(not (b.src and b.tgt)) for b in beads])
    score = np.array([b.score for b in beads]) * (1 - null)
    size = np.array([len(b.src) + len(b.tgt) for b in beads], dtype=float)
    return np.column_stack([odds, score, null, null * odds, size])


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
