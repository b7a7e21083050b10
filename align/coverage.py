"""Token coverage: how much of each span finds a counterpart in the other span, word piece by word piece.

A sentence vector says whether two spans are about the same thing, not whether one says *all* of what
the other says. When a translator moves a clause across a sentence boundary, the 1-1 beads on either side
still look alike as wholes, and a cosine-scored aligner splits what the gold keeps together; when a caption
or a page header sits between two sentences, folding it into a neighbouring bead barely moves that bead's
vector. Token coverage sees both: every token of a span looks for its best match among the tokens of the
other span (BERTScore's greedy matching, on the encoder's own contextual token vectors, so it costs no
extra encoder call), and the bead's precision and recall are the mean best matches on each side.

Scores are read off per-sentence-pair tables built once inside the band of the final pass, so a bead of
any shape costs a few additions, and time and memory stay linear in the document length.
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from polyalign.align.dp import Band

BLOCK = 64  # source sentences whose token similarities are computed in one matrix product


def centred_tokens(tokens: list[np.ndarray]) -> list[np.ndarray]:
    """Token vectors without the document's mean token vector, L2-normalised, as float16.

    As with sentence vectors, every token shares a large common direction; without it, unrelated tokens
    score near zero and matched ones stand out."""
    if not tokens:
        return []
    dim = tokens[0].shape[1]
    total, count = np.zeros(dim), 0
    for t in tokens:
        total += t.sum(axis=0, dtype=np.float64)
        count += len(t)
    mean = total / max(count, 1)
    out = []
    for t in tokens:
        c = t.astype(np.float32) - mean.astype(np.float32)
        c /= np.maximum(np.linalg.norm(c, axis=1, keepdims=True), 1e-12)
        out.append(c.astype(np.float16))
    return out


@dataclass
class TokenCoverage:
    """Sums of best token matches between every source and target span that a bead in the band can pair.

    ``recall[b][i, j - first_col[i]]`` is, over the tokens of source sentence ``i``, the sum of each
    token's best match in target sentences ``j .. j + b - 1``; ``precision[a][j, i - first_row[j]]`` the
    same for the tokens of target sentence ``j`` in source sentences ``i .. i + a - 1``.
    """

    recall: dict[int, np.ndarray]
    first_col: np.ndarray
    precision: dict[int, np.ndarray]
    first_row: np.ndarray
    src_tokens: np.ndarray  # token count of every source sentence
    tgt_tokens: np.ndarray

    @classmethod
    def build(cls, src: list[np.ndarray], tgt: list[np.ndarray], band: Band, max_span: int) -> "TokenCoverage":
        """``src`` and ``tgt``: centred token vectors per sentence; ``band``: the node band of the pass."""
        n, m = len(src), len(tgt)
        cols = _sentence_windows(band, n, m, max_span)
        first_row, last_row = np.full(m, n, dtype=np.int64), np.full(m, -1, dtype=np.int64)
        for i, (c0, c1) in enumerate(cols):
            first_row[c0:c1] = np.minimum(first_row[c0:c1], i)
            last_row[c0:c1] = np.maximum(last_row[c0:c1], i)
        first_row = np.minimum(first_row, last_row.clip(min=0))
        best_in_src = [np.zeros((len(t), max(last_row[j] - first_row[j] + 1, 0)), dtype=np.float32)
                       for j, t in enumerate(tgt)]  # per target sentence: (tokens, rows) best match in each
        best_in_tgt = [np.zeros((len(t), max(c1 - c0, 0)), dtype=np.float32) for t, (c0, c1) in zip(src, cols)]
        tgt_offsets = np.concatenate([[0], np.cumsum([len(t) for t in tgt])]).astype(np.int64)
        tgt_all = np.vstack(tgt) if m else np.zeros((0, 1), dtype=np.float16)
        for start in range(0, n, BLOCK):  # one product per block of sentences: fast, and memory stays small
            rows = range(start, min(start + BLOCK, n))
            lo, hi = min(cols[i][0] for i in rows), max(cols[i][1] for i in rows)
            if hi <= lo:
                continue
            base = tgt_offsets[lo]
            block = np.vstack([src[i] for i in rows]).astype(np.float32) @ tgt_all[base:tgt_offsets[hi]].astype(np.float32).T
            first_token = 0
            for i in rows:
                c0, c1 = cols[i]
                sims = block[first_token:first_token + len(src[i]), tgt_offsets[c0] - base:tgt_offsets[c1] - base]
                first_token += len(src[i])
                if c1 <= c0 or len(src[i]) == 0:
                    continue
                ends = tgt_offsets[c0:c1 + 1] - tgt_offsets[c0]
                nonempty = ends[1:] > ends[:-1]
                if nonempty.any():
                    best_in_tgt[i][:, nonempty] = np.maximum.reduceat(sims, ends[:-1][nonempty], axis=1)
                column_best = sims.max(axis=0)
                for j in range(c0, c1):
                    best_in_src[j][:, i - first_row[j]] = column_best[ends[j - c0]:ends[j - c0 + 1]]
        return cls(_window_best_sums(best_in_tgt, max_span), np.array([c0 for c0, _ in cols], dtype=np.int64),
                   _window_best_sums(best_in_src, max_span), first_row,
                   np.array([len(s) for s in src], dtype=float), np.array([len(t) for t in tgt], dtype=float))

    def f_scores(self, i0: int, a: int, j0: int, count: int, b: int) -> tuple[np.ndarray, np.ndarray]:
        """For the source span [i0, i0 + a) against target spans [j, j + b), j = j0 .. j0 + count - 1:
        the harmonic mean of token precision and recall, and the number of tokens on both sides."""
        js = j0 + np.arange(count)
        recall_sum = np.zeros(count)
        for i in range(i0, i0 + a):
            recall_sum += _gather(self.recall[b], np.full(count, i), js - self.first_col[i])
        targets = np.arange(j0, j0 + count + b - 1)
        per_target = _gather(self.precision[a], targets, i0 - self.first_row[targets])
        precision_sum = np.convolve(per_target, np.ones(b), mode="valid")
        src_count = self.src_tokens[i0:i0 + a].sum()
        tgt_count = np.convolve(self.tgt_tokens[j0:j0 + count + b - 1], np.ones(b), mode="valid")
        recall = np.maximum(recall_sum / max(src_count, 1.0), 0.0)  # below 0: no better than unrelated text
        precision = np.maximum(precision_sum / np.maximum(tgt_count, 1.0), 0.0)
        f = 2 * recall * precision / np.maximum(recall + precision, 1e-12)
        return f, src_count + tgt_count


def _gather(table: np.ndarray, rows: np.ndarray, offsets: np.ndarray) -> np.ndarray:
    """``table[rows, offsets]``, 0 where an offset falls outside its row's window."""
    out = np.zeros(len(offsets))
    inside = (offsets >= 0) & (offsets < table.shape[1])
    out[inside] = table[rows[inside], offsets[inside]]
    return out


def _sentence_windows(band: Band, n: int, m: int, max_span: int) -> list[tuple[int, int]]:
    """For every source sentence, the target sentences [c0, c1) that some bead in the band pairs it with.

    A bead ending at node (r, c) covers source sentences r - a .. r - 1 and target sentences c - b .. c - 1,
    so sentence i meets the columns of rows i + 1 .. i + max_span, reaching back ``max_span`` sentences."""
    windows = []
    for i in range(n):
        rows = slice(i + 1, min(i + max_span, n) + 1)
        c0 = max(0, int(band.lo[rows].min()) - max_span)
        c1 = min(m, int(band.hi[rows].max()))
        windows.append((c0, c1))
    return windows


def _window_best_sums(best: list[np.ndarray], max_span: int) -> dict[int, np.ndarray]:
    """From per-sentence (tokens × partners) best-match tables: for each span size k, the token sum of the
    best match over every run of k consecutive partners, padded into one (sentences × widest) array."""
    width = max((t.shape[1] for t in best), default=0)
    sums = {k: np.zeros((len(best), width), dtype=np.float32) for k in range(1, max_span + 1)}
    for row, table in enumerate(best):
        running = table
        for k in range(1, max_span + 1):
            if running.shape[1] == 0:
                break
            sums[k][row, :running.shape[1]] = running.sum(axis=0)
            running = np.maximum(running[:, :-1], table[:, k:])
    return sums
