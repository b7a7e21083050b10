"""Bertalign's algorithm, reimplemented on polyalign's encoder: the reference polyalign's accuracy is judged against.

    python tests/benchmarks/bertalign_baseline.py [--sets textberg-dev mac-dev-zh-en …] [--no-polyalign]
                                                  [--backend onnx|torch]

Bertalign (bfsujason/bertalign, Liu & Zhu 2022, GPL-3) cannot be installed here (its current package needs Python
≥ 3.12, its pinned faiss-gpu ≤ 3.10) and encodes with LaBSE; this file is a reimplementation written from reading
its ``aligner.py``, ``corelib.py``, ``encoder.py`` and ``utils.py`` (no code copied), with every text it encodes
going through polyalign's own encoder (multilingual-e5-small with the ``query: `` prompt the Encoder chooses,
through ``common.CachedEncoder``, so every window is kept on disk and a rerun encodes nothing). Its defaults:
max_align 5, top_k 3, win 5, skip -0.1, margin and length penalty on.

What it does, as Bertalign does it:

* Lines are cleaned as its ``clean_text`` cleans them (stripped, runs of white space made one space); the
  gold's own lines are the sentences (``is_split=True``), so no splitting.
* Every window of 1…max_align-1 consecutive sentences per side is encoded (``yield_overlaps``: joined with a
  space, cut at 10,000 characters; the first k-1 positions of layer k are "PAD"), and its UTF-8 byte length kept.
  That is (max_align-1) texts per sentence: 4.0 encoder calls per sentence with the defaults.
* Pass 1: the top_k targets of each source sentence by inner product (faiss ``IndexFlatIP`` there, numpy here:
  the same neighbours); a DP over 0-1, 1-0, 1-1 in a diagonal band of half-width max(250, 6 % of the longer
  side), where a 1-1 cell earns the similarity if its target is among the source's top_k and 0 otherwise; the
  1-1 beads of the best path are the anchors.
* Pass 2: all beads with x + y ≤ max_align plus 0-1 and 1-0, within ``win`` targets of the anchors; skips score
  ``skip``; an x-y bead scores the cosine of the two windows minus the mean similarity of each window to the
  single sentences just outside the other window (``margin``), times log2(1 + min/max) of the byte lengths, the
  target's scaled by the document's byte ratio (``len_penalty``).
* Ties and precision as there: bead types are tried in Bertalign's order and a later one wins only if strictly
  better; the DP table is float32.

Deviations: an empty first pass (no 1-1 anchor; Bertalign raises an IndexError there, its issue #13) falls back to
the whole table's corner as the only anchor; a blank line (Bertalign's ``clean_text`` would drop it and shift every
index after it; the development sets have none) is kept as the "BLANK_LINE" its ``yield_overlaps`` would encode.

Each row: strict P / R / F1 and lax F1 (polyalign's scorer, Vecalign's convention) over the gold's lines; texts
encoded per sentence as Bertalign encodes them; texts that really went through the model now (the rest came from
the cache) and the seconds spent encoding and aligning; and beside it polyalign's strict F1 on the same set
(``common.measure``, the command's beads).

Measured on the 2-core machine (2026-12-05, encoding from cold under other load, ``nice``):

| set | strict P / R / F1 | lax F1 | texts/sent | encode s | align s | polyalign strict F1 |
|---|---|---|---|---|---|---|
| textberg-dev | 0.876 / 0.903 / 0.889 | 0.990 | 4.00 | 103 | 0.5 | 0.903 |
| mac-dev-zh-en | 0.828 / 0.830 / 0.829 | 0.982 | 4.00 | 198 | 1.8 | 0.873 |
| transread-en-fr | 0.934 / 0.940 / 0.937 | 0.997 | 4.00 | 1216 | 7.2 | 0.943 |

With ``--backend torch`` (the model in float32) textberg-dev gives 0.869 / 0.895 / **0.882**, lax 0.990: the
figure of shared/notes/anchors.md §4 exactly (253 s encoding); the quantised graph's vectors move it to 0.889.
"""
from __future__ import annotations

import argparse
import re
import time
from dataclasses import dataclass

import numpy as np

from common import CachedEncoder, Counts, GoldDocument, gold_sets, measure, score_document

MAX_ALIGN, TOP_K, WIN, SKIP = 5, 3, 5, -0.1
CHUNK = 256  # texts per encoder call: the cache writes after each, so an interrupted run keeps its progress


@dataclass(frozen=True)
class Settings:
    max_align: int = MAX_ALIGN
    top_k: int = TOP_K
    win: int = WIN
    skip: float = SKIP
    margin: bool = True
    len_penalty: bool = True


def clean(lines: list[str]) -> list[str]:
    """Each line as Bertalign's ``clean_text`` leaves it (a blank line kept as "BLANK_LINE", see the docstring)."""
    return [re.sub(r"\s+", " ", line.strip()) or "BLANK_LINE" for line in lines]


def windows(lines: list[str], layers: int) -> list[list[str]]:
    """Layer k-1 holds, at position p, sentences p-k+1 … p joined by a space (cut at 10,000 characters);
    the first k-1 positions, which no bead reads, are "PAD"."""
    out = []
    for k in range(1, layers + 1):
        out.append([" ".join(lines[p - k + 1:p + 1])[:10000] if p >= k - 1 else "PAD" for p in range(len(lines))])
    return out


def embed(lines: list[str], layers: int, encode) -> tuple[np.ndarray, np.ndarray]:
    """Window vectors (layers, n, dim) float32 and byte lengths (layers, n)."""
    texts = windows(lines, layers)
    flat = [t for layer in texts for t in layer]
    unique = list(dict.fromkeys(flat))
    found: dict[str, np.ndarray] = {}
    for start in range(0, len(unique), CHUNK):
        chunk = unique[start:start + CHUNK]
        found.update(zip(chunk, encode(chunk)))
    vecs = np.stack([found[t] for t in flat]).astype(np.float32).reshape(layers, len(lines), -1)
    lens = np.array([len(t.encode("utf-8")) for t in flat], dtype=np.int64).reshape(layers, len(lines))
    return vecs, lens


def alignment_types(max_align: int) -> list[tuple[int, int]]:
    """0-1, 1-0, then every x-y with x, y ≥ 1 and x + y ≤ max_align, x the outer loop: Bertalign's order."""
    return [(0, 1), (1, 0)] + [(x, y) for x in range(1, max_align) for y in range(1, max_align) if x + y <= max_align]


def top_k(src: np.ndarray, tgt: np.ndarray, k: int) -> tuple[np.ndarray, np.ndarray]:
    """Inner-product scores and indices of each source row's k best target rows, best first."""
    sims = src @ tgt.T
    k = min(k, tgt.shape[0])
    index = np.argsort(-sims, axis=1, kind="stable")[:, :k]
    return np.take_along_axis(sims, index, axis=1), index


def first_search_path(n: int, m: int, min_win: int = 250, percent: float = 0.06) -> np.ndarray:
    """Row i's target range [start, end] around the diagonal, half-width max(min_win, percent of the longer)."""
    w = max(min_win, int(max(n, m) * percent))
    centre = [int(m / n * i) for i in range(n + 1)]
    return np.array([[max(0, c - w), min(c + w, m)] for c in centre], dtype=np.int64)


def first_pass(n: int, m: int, dist: np.ndarray, index: np.ndarray) -> list[tuple[int, int]]:
    """The 1-1 anchors (i, j), 1-based end positions, of the best 0-1 / 1-0 / 1-1 path."""
    path = first_search_path(n, m)
    cost: list[np.ndarray] = []
    pointers: list[np.ndarray] = []
    for i in range(n + 1):
        s, e = path[i]
        js = np.arange(s, e + 1)
        c1 = np.full(len(js), -np.inf, dtype=np.float32)  # 1-0 from (i-1, j)
        c2 = np.full(len(js), -np.inf, dtype=np.float32)  # 1-1 from (i-1, j-1)
        if i > 0:
            ps, pe = path[i - 1]
            ok = (js >= ps) & (js <= pe)
            c1[ok] = cost[i - 1][js[ok] - ps]
            ok = (js - 1 >= ps) & (js - 1 <= pe) & (js >= 1)
            gain = np.zeros(len(js), dtype=np.float32)  # what a 1-1 bead ending at (i, j) earns
            for k in range(index.shape[1]):
                j = index[i - 1, k] + 1
                if s <= j <= e:
                    gain[j - s] += dist[i - 1, k]
            c2[ok] = cost[i - 1][js[ok] - 1 - ps] + gain[ok]
        other = np.where(c2 > c1, c2, c1)
        other_a = np.where(c2 > c1, 2, np.where(c1 > -np.inf, 1, 255))
        row = np.empty(len(js), dtype=np.float32)
        ptr = np.empty(len(js), dtype=np.uint8)
        # 0-1 from (i, j-1) adds nothing and is tried first, so a cell takes it unless 1-0 or 1-1 is strictly better
        prev = np.float32(-np.inf)
        for t in range(len(js)):
            if i == 0 and js[t] == 0:
                row[t], ptr[t] = 0, 0
            elif t > 0 and prev > -np.inf and prev >= other[t]:
                row[t], ptr[t] = prev, 0
            else:
                row[t], ptr[t] = other[t], other_a[t]
            prev = row[t]
        cost.append(row)
        pointers.append(ptr)
    anchors, i, j = [], n, m
    steps = ((0, 1), (1, 0), (1, 1))
    while not (i == 0 and j == 0):
        a = pointers[i][j - path[i][0]]
        if a == 2:
            anchors.append((i, j))
        i, j = i - steps[a][0], j - steps[a][1]
    return anchors[::-1]


def second_search_path(anchors: list[tuple[int, int]], win: int, n: int, m: int) -> np.ndarray:
    """Row ranges within ``win`` of the anchors, the last anchor moved to (n, m) as Bertalign moves it."""
    anchors = list(anchors) or [(n, m)]  # deviation: Bertalign fails on an empty first pass
    last_i, last_j = anchors[-1]
    if last_i != n:
        if last_j == m:
            anchors.pop()
        anchors.append((n, m))
    elif last_j != m:
        anchors.pop()
        anchors.append((n, m))
    rows, prev_i, prev_j = [], 0, 0
    for i, j in anchors:
        rows += [(max(0, prev_j - win), min(m, j + win))] * (i - prev_i)
        prev_i, prev_j = i, j
    return np.array([rows[0]] + rows, dtype=np.int64)


def neighbour_sim(vec: np.ndarray, size: int, end: int, total: int, singles: np.ndarray) -> float:
    """Similarity of ``vec`` to the single sentences just before and after the window of ``size`` sentences
    ending at 1-based ``end``: their mean if both are there (and non-zero), else the one there, else 0."""
    right = float(np.float32(vec @ singles[end])) if end + 1 <= total else 0.0
    left = float(np.float32(vec @ singles[end - size - 1])) if end - size > 0 else 0.0
    both = left + right
    return both / 2 if left and right else both


def second_pass(src_vecs, tgt_vecs, src_lens, tgt_lens, path: np.ndarray, types, char_ratio: float,
                settings: Settings) -> list[tuple[list[int], list[int]]]:
    n, m = src_vecs.shape[1], tgt_vecs.shape[1]
    cost: list[np.ndarray] = []
    pointers: list[np.ndarray] = []
    for i in range(n + 1):
        s, e = path[i]
        js = np.arange(s, e + 1)
        best = np.full(len(js), -np.inf)
        best_a = np.full(len(js), 255, dtype=np.int64)
        for a, (x, y) in enumerate(types):
            if x == 0 or i - x < 0:
                continue  # 0-1 comes below, cell by cell; no previous row
            ps, pe = path[i - x]
            prev_j = js - y
            ok = (prev_j >= 0) & (prev_j >= ps) & (prev_j <= pe)
            if not ok.any():
                continue
            cand = np.full(len(js), -np.inf)
            before = cost[i - x][prev_j[ok] - ps].astype(np.float64)
            if y == 0:
                cand[ok] = before + settings.skip
            else:
                jj = js[ok]
                sv = src_vecs[x - 1, i - 1]
                tv = tgt_vecs[y - 1, jj - 1]
                score = (tv @ sv).astype(np.float64)
                if settings.margin:
                    for t, j in enumerate(jj):
                        tgt_nb = neighbour_sim(sv, y, int(j), m, tgt_vecs[0])
                        src_nb = neighbour_sim(tv[t], x, i, n, src_vecs[0])
                        score[t] -= (tgt_nb + src_nb) / 2
                if settings.len_penalty:
                    sl = src_lens[x - 1, i - 1]
                    tl = tgt_lens[y - 1, jj - 1] * char_ratio
                    score *= np.log2(1 + np.minimum(sl, tl) / np.maximum(sl, tl))
                cand[ok] = before + score
            better = cand > best
            best = np.where(better, cand, best)
            best_a = np.where(better, a, best_a)
        row = np.empty(len(js), dtype=np.float32)
        ptr = np.empty(len(js), dtype=np.uint8)
        for t in range(len(js)):
            if i == 0 and js[t] == 0:
                row[t], ptr[t] = 0, 0
                continue
            c0 = float(row[t - 1]) + settings.skip if t > 0 else -np.inf  # 0-1 from (i, j-1): tried first
            if c0 > -np.inf and c0 >= best[t]:
                row[t], ptr[t] = c0, 0
            else:
                row[t], ptr[t] = best[t], best_a[t]
        cost.append(row)
        pointers.append(ptr)
    beads, i, j = [], n, m
    while not (i == 0 and j == 0):
        a = int(pointers[i][j - path[i][0]])
        if a == 255:
            raise RuntimeError(f"no path reaches cell ({i}, {j})")
        x, y = types[a]
        beads.append((list(range(i - x, i)), list(range(j - y, j))))
        i, j = i - x, j - y
    return beads[::-1]


def align_vectors(src_vecs, tgt_vecs, src_lens, tgt_lens, settings: Settings = Settings()):
    """Bertalign's two passes on window vectors and lengths (layers, n, ...): its beads, 0-based."""
    n, m = src_vecs.shape[1], tgt_vecs.shape[1]
    char_ratio = src_lens[0].sum() / tgt_lens[0].sum()
    dist, index = top_k(src_vecs[0], tgt_vecs[0], settings.top_k)
    anchors = first_pass(n, m, dist, index)
    path = second_search_path(anchors, settings.win, n, m)
    return second_pass(src_vecs, tgt_vecs, src_lens, tgt_lens, path, alignment_types(settings.max_align),
                       float(char_ratio), settings)


def bertalign(src: list[str], tgt: list[str], encode, settings: Settings = Settings()):
    """Beads for two lists of sentences, every window encoded by ``encode(texts) -> vectors``."""
    layers = settings.max_align - 1
    src_vecs, src_lens = embed(clean(src), layers, encode)
    tgt_vecs, tgt_lens = embed(clean(tgt), layers, encode)
    start = time.perf_counter()
    beads = align_vectors(src_vecs, tgt_vecs, src_lens, tgt_lens, settings)
    return beads, time.perf_counter() - start


@dataclass
class Row:
    counts: Counts
    sentences: int = 0
    texts: int = 0  # windows Bertalign encodes (duplicates and PAD included)
    calls: int = 0  # texts that went through the model in this run
    encode_s: float = 0.0
    align_s: float = 0.0
    wall_s: float = 0.0


def run_set(docs: list[GoldDocument], encoder: CachedEncoder, settings: Settings = Settings()) -> Row:
    row = Row(Counts())
    calls, seconds, start = encoder.calls, encoder.seconds, time.perf_counter()
    for doc in docs:
        beads, align_s = bertalign(doc.src, doc.tgt, encoder.encode, settings)
        row.counts = row.counts + score_document(doc.gold, beads)
        row.sentences += len(doc.src) + len(doc.tgt)
        row.texts += (settings.max_align - 1) * (len(doc.src) + len(doc.tgt))
        row.align_s += align_s
    row.calls, row.encode_s = encoder.calls - calls, encoder.seconds - seconds
    row.wall_s = time.perf_counter() - start
    return row


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--sets", nargs="*", default=["textberg-dev", "mac-dev-zh-en", "transread-en-fr"])
    parser.add_argument("--no-polyalign", action="store_true", help="leave out polyalign's strict F1")
    parser.add_argument("--backend", choices=("onnx", "torch"), default=None,
                        help="the default model's backend: its quantised graph (the default) or float32")
    args = parser.parse_args()
    sets = gold_sets()
    encoder = CachedEncoder(backend=args.backend)
    head = (f"{'set':16} {'sents':>6} | {'strict P':>8} {'strict R':>8} {'strict F1':>9} {'lax F1':>7} "
            f"{'texts/sent':>10} {'calls now':>9} {'encode s':>8} {'align s':>7} {'total s':>7} | {'polyalign F1':>12}")
    print(head, flush=True)
    for name in args.sets:
        row = run_set(sets[name], encoder)
        score = row.counts.score
        ours = "" if args.no_polyalign else f"{measure(sets[name], encoder).counts.score.strict.f1:12.3f}"
        print(f"{name:16} {row.sentences:6d} | {score.strict.precision:8.3f} {score.strict.recall:8.3f} "
              f"{score.strict.f1:9.3f} {score.lax.f1:7.3f} {row.texts / row.sentences:10.2f} {row.calls:9d} "
              f"{row.encode_s:8.1f} {row.align_s:7.1f} {row.wall_s:7.1f} | {ours}", flush=True)


if __name__ == "__main__":
    main()
