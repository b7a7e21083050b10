"""Stress sets made from the shared gold sets, deterministically (seeded), for what the literary sets rarely show.

* ``stress-omit``: about 8 % of the target sentences of 1-1 gold beads dropped: their source sentences become
  gold 1-0 beads (an omission by the translator, or a subtitle that was cut).
* ``stress-join``: about 10 % of neighbouring 1-1 bead pairs have their two target (or, alternately, source)
  sentences joined into one line: gold 2-1 and 1-2 beads that merging must find.
* ``stress-weak``: the vectors of every sentence and token get Gaussian noise of half their own spread,
  so that related and unrelated sentences lie closer together: a weakly embedded pair (as a Nordic language
  against English, news and subtitles) made from a strongly embedded one.

Each is built from the same documents: textberg-dev, mac-dev-zh-en and four TransRead novels (the whole of
TransRead would only repeat its kind and cost the most time).
"""
from __future__ import annotations

import hashlib
import random

import numpy as np

from common import GoldDocument
from polyalign.align.evaluate import IndexBead

BASE = {"textberg-dev": None, "mac-dev-zh-en": None,
        "transread-en-fr": ("Emma", "JaneEyre", "LesConfessions", "TheLastOfTheMohicans")}


def stress_sets(sets: dict[str, list[GoldDocument]]) -> dict[str, list[GoldDocument]]:
    base = [d for name, keep in BASE.items() for d in sets.get(name, []) if keep is None or d.name in keep]
    return {"stress-omit": [omitted(d, 0.08) for d in base],
            "stress-join": [joined(d, 0.10) for d in base],
            "stress-weak": [_copy(d, "weak", weaken=0.5) for d in base]}


def _rng(doc: GoldDocument, what: str) -> random.Random:
    return random.Random(int(hashlib.sha1(f"{what}/{doc.set_name}/{doc.name}".encode()).hexdigest()[:8], 16))


def _copy(doc: GoldDocument, kind: str, src=None, tgt=None, gold=None, weaken: float = 0.0) -> GoldDocument:
    return GoldDocument(f"stress-{kind}", f"{doc.set_name}/{doc.name}", doc.src if src is None else src,
                        doc.tgt if tgt is None else tgt, doc.gold if gold is None else gold,
                        doc.folder if src is None and tgt is None else None, doc.langs, weaken)


def omitted(doc: GoldDocument, share: float) -> GoldDocument:
    """``share`` of the 1-1 beads lose their target sentence; never two neighbours, nor the first or last."""
    rng = _rng(doc, "omit")
    ones = [k for k, b in enumerate(doc.gold) if len(b.source) == 1 and len(b.target) == 1]
    chosen: set[int] = set()
    for k in rng.sample(ones, len(ones)):
        if len(chosen) >= share * len(ones):
            break
        if 0 < k < len(doc.gold) - 1 and k - 1 not in chosen and k + 1 not in chosen:
            chosen.add(k)
    dropped = {doc.gold[k].target[0] for k in chosen}
    new_index = {j: j - sum(1 for d in dropped if d < j) for j in range(len(doc.tgt)) if j not in dropped}
    gold = [IndexBead(b.source, () if k in chosen else tuple(new_index[j] for j in b.target))
            for k, b in enumerate(doc.gold)]
    tgt = [t for j, t in enumerate(doc.tgt) if j not in dropped]
    return _copy(doc, "omit", doc.src, tgt, gold)


def joined(doc: GoldDocument, share: float) -> GoldDocument:
    """``share`` of neighbouring 1-1 bead pairs joined on one side (target and source in turn)."""
    rng = _rng(doc, "join")
    gold = doc.gold
    pairs = [k for k in range(len(gold) - 1)
             if all(len(gold[x].source) == 1 and len(gold[x].target) == 1 for x in (k, k + 1))
             and gold[k + 1].source[0] == gold[k].source[0] + 1 and gold[k + 1].target[0] == gold[k].target[0] + 1]
    chosen: list[int] = []
    for k in rng.sample(pairs, len(pairs)):
        if len(chosen) >= share * len(gold):
            break
        if all(abs(k - c) > 1 for c in chosen):
            chosen.append(k)
    join_tgt = {gold[k].target[0] for n, k in enumerate(sorted(chosen)) if n % 2 == 0}  # joined with the next
    join_src = {gold[k].source[0] for n, k in enumerate(sorted(chosen)) if n % 2 == 1}
    src, src_index = _join_lines(doc.src, join_src)
    tgt, tgt_index = _join_lines(doc.tgt, join_tgt)
    out, skip = [], set()
    for k, b in enumerate(gold):
        if k in skip:
            continue
        if k in chosen:
            b = IndexBead(b.source + gold[k + 1].source, b.target + gold[k + 1].target)
            skip.add(k + 1)
        out.append(IndexBead(tuple(dict.fromkeys(src_index[i] for i in b.source)),
                             tuple(dict.fromkeys(tgt_index[j] for j in b.target))))
    return _copy(doc, "join", src, tgt, out)


def _join_lines(lines: list[str], first_of_pair: set[int]) -> tuple[list[str], dict[int, int]]:
    out, index, i = [], {}, 0
    while i < len(lines):
        index[i] = len(out)
        if i in first_of_pair and i + 1 < len(lines):
            index[i + 1] = len(out)
            out.append(lines[i].strip() + " " + lines[i + 1].strip())
            i += 2
        else:
            out.append(lines[i])
            i += 1
    return out, index


def weakened(embedded, size: float, seed: int):
    """Sentence and token vectors with seeded Gaussian noise, ``size`` times each one's spread about the
    document's mean, then normalised again: the shared direction stays, the telling part is drowned."""
    vectors, tokens = embedded
    rng = np.random.default_rng(1000 + seed)
    vectors = _noisy(vectors, size, rng)
    if tokens is not None:
        ends = np.cumsum([len(t) for t in tokens])[:-1]
        tokens = np.split(_noisy(np.vstack(tokens).astype(np.float32), size, rng).astype(np.float16), ends)
    return vectors, tokens


def _noisy(x: np.ndarray, size: float, rng: np.random.Generator) -> np.ndarray:
    spread = np.linalg.norm(x - x.mean(axis=0), axis=1).mean() / np.sqrt(x.shape[1])
    out = x + size * spread * rng.standard_normal(x.shape)
    return out / np.maximum(np.linalg.norm(out, axis=1, keepdims=True), 1e-12)


def weakened_like(vectors: np.ndarray, reference: np.ndarray, size: float, texts: list[str]) -> np.ndarray:
    """Vectors of texts made from a weakened document (spans of its sentences, encoded as text) with the noise its
    sentences got: ``size`` times the spread of ``reference`` (its sentence vectors), seeded by each text."""
    spread = np.linalg.norm(reference - reference.mean(axis=0), axis=1).mean() / np.sqrt(reference.shape[1])
    out = np.array(vectors, dtype=float)
    for k, text in enumerate(texts):
        rng = np.random.default_rng(int(hashlib.sha1(text.encode()).hexdigest()[:8], 16))
        out[k] += size * spread * rng.standard_normal(out.shape[1])
    return out / np.maximum(np.linalg.norm(out, axis=1, keepdims=True), 1e-12)
