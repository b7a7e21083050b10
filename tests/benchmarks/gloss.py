"""Does a machine translation help the aligner? Strict F1 with and without it, at several weights.

Machine translation is evidence beside the cross-lingual embeddings (``align.pipeline.side_of``): the
other version is translated into the pivot's language and each bead also scores how close the pivot is to
the translation. Measured where a real offline engine exists:

- ``ojo`` (es ↔ en sample): English translated into Spanish by Apertium (eng-spa), as ``--translate`` does;
- ``transread-en-fr`` (11 novels): French into English through Spanish (Apertium fr-es, then spa-eng), a
  stand-in for rule-based MT of middling quality on a large gold set (needs ``apt-get install
  apertium-fr-es``; skipped without it). No Spanish–English gold set other than the sample exists here.

    .venv/bin/python tests/benchmarks/gloss.py
"""
from __future__ import annotations

import subprocess
import sys
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))
sys.path.insert(0, str(Path(__file__).resolve().parents[2]))

from common import CachedEncoder, gold_sets, read_lines  # noqa: E402

from polyalign.align import pipeline  # noqa: E402
from polyalign.align.aligner import AlignerSettings, Side, align  # noqa: E402
from polyalign.align.evaluate import Counts, read_beads, score_document  # noqa: E402
from polyalign.translate.apertium import ApertiumTranslator, installed_modes  # noqa: E402
from polyalign.translate.base import EngineInfo  # noqa: E402
from polyalign.translate.cache import CachedTranslator  # noqa: E402

SAMPLES = Path(__file__).resolve().parents[2] / "samples"
WEIGHTS = (0.0, 0.25, 0.5, 0.75)


class ChainedApertium(ApertiumTranslator):
    """Apertium modes one after the other (fr-es, then spa-eng): only for measuring."""

    def __init__(self, modes: list[str], source: str, target: str) -> None:
        self.modes, self.mode, self.source, self.target = modes, "+".join(modes), source, target
        self.info = EngineInfo("apertium", "+".join(modes), "benchmark")

    def _run(self, text: str) -> str:
        for mode in self.modes:
            text = subprocess.run(["apertium", "-u", mode], input=text.encode(), capture_output=True,
                                  check=True).stdout.decode()
        return text


def side(vectors: np.ndarray, tokens, lines: list[str], gloss: np.ndarray | None, weight: float,
         glossed: bool) -> Side:
    if weight and (gloss is not None or glossed):
        second = vectors if gloss is None else gloss
        vectors = np.hstack([np.sqrt(1 - weight) * vectors, np.sqrt(weight) * second])
    return Side(vectors, np.array([len(t.strip()) for t in lines], dtype=float), texts=lines, tokens=tokens)


def f1_by_weight(pairs, encoder: CachedEncoder, translator) -> tuple[dict[float, float], float]:
    """pairs: (pivot lines, other lines, gold beads). Strict F1 per weight, and the translating time."""
    counts = {w: Counts() for w in WEIGHTS}
    seconds = 0.0
    for pivot, other, gold in pairs:
        pv, pt = encoder.encode_with_tokens(pivot)
        ov, ot = encoder.encode_with_tokens(other)
        start = time.perf_counter()
        translated = translator.translate(other)
        seconds += time.perf_counter() - start
        gv, _ = encoder.encode_with_tokens(translated)
        for w in WEIGHTS:
            beads = align(side(pv, pt, pivot, None, w, True), side(ov, ot, other, gv, w, False), AlignerSettings())
            counts[w] = counts[w] + score_document(gold, [(b.src, b.tgt) for b in beads])
    return {w: c.score.strict.f1 for w, c in counts.items()}, seconds


def main() -> None:
    encoder = CachedEncoder()
    rows = []
    if {"eng-spa"} <= installed_modes():
        pivot, other = (read_lines(SAMPLES / "presplit" / f"ojo.{lang}.txt") for lang in ("es", "en"))
        pivot, other = [line for line in pivot if line], [line for line in other if line]
        gold = read_beads(SAMPLES / "gold" / "ojo.es-en.txt")
        rows.append(("ojo es-en (en→es, eng-spa)", *f1_by_weight([(pivot, other, gold)], encoder,
                                                                 CachedTranslator(ApertiumTranslator("en", "es")))))
    if {"fr-es", "spa-eng"} <= installed_modes():
        docs = gold_sets()["transread-en-fr"]
        translator = CachedTranslator(ChainedApertium(["fr-es", "spa-eng"], "fr", "en"))
        rows.append(("transread-en-fr (fr→es→en)", *f1_by_weight([(d.src, d.tgt, d.gold) for d in docs], encoder,
                                                                 translator)))
    print(f"{'set':30} " + " ".join(f"w={w:<5}" for w in WEIGHTS) + "  translate s")
    for name, scores, seconds in rows:
        print(f"{name:30} " + " ".join(f"{scores[w]:.4f} " for w in WEIGHTS) + f"  {seconds:8.1f}")
    print(f"(w: share of similarity from the translation; the pipeline uses w={pipeline.GLOSS_WEIGHT})")


if __name__ == "__main__":
    main()
