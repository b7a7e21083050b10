"""The dynamic programme: the best monotone chain of beads through a band of the alignment grid.

A node (i, j) means "the first i pivot sentences and the first j target sentences are aligned".
A bead of shape (a, b) moves from node (i - a, j - b) to (i, j). The band limits, for every row i,
the columns j a path may visit, so time and memory grow with the band's area, not with n × m.

Besides the best path, the same table gives every bead's posterior probability (forward-backward
over all paths in the band, scores read as log-weights): how much of the evidence agrees with the
bead, which is what its confidence is calibrated from.

These functions are numeric and pure: they know nothing of documents, models or files.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Callable, Sequence

import numpy as np

NEG = -1e9  # a score no path can reach

Shape = tuple[int, int]
# bead_scores(i, shape, columns) -> score of the bead of that shape ending at (i, j) for each j
BeadScorer = Callable[[int, Shape, np.ndarray], np.ndarray]


def bead_shapes(max_sentences: int) -> list[Shape]:
    """All shapes with at most ``max_sentences`` sentences in all, then the null beads 1-0 and 0-1."""
    shapes = [(a, b) for a in range(1, max_sentences) for b in range(1, max_sentences) if a + b <= max_sentences]
    return sorted(shapes, key=lambda s: (s[0] + s[1], s)) + [(1, 0), (0, 1)]


@dataclass(frozen=True)
class Band:
    """Allowed columns ``lo[i] ..= hi[i]`` of every row ``i = 0 .. n`` of the node grid."""

    lo: np.ndarray
    hi: np.ndarray

    @property
    def rows(self) -> int:
        return len(self.lo)

    @property
    def area(self) -> int:
        return int((self.hi - self.lo + 1).sum())

    def columns(self, i: int) -> np.ndarray:
        return np.arange(self.lo[i], self.hi[i] + 1)


def full_band(n: int, m: int) -> Band:
    return Band(np.zeros(n + 1, dtype=np.int64), np.full(n + 1, m, dtype=np.int64))


def band_around_path(path: Sequence[tuple[int, int]], n: int, m: int, radius: int) -> Band:
    """Every node within ``radius`` rows and columns of a monotone path from (0, 0) to (n, m)."""
    first = np.full(n + 1, m, dtype=np.int64)
    last = np.zeros(n + 1, dtype=np.int64)
    for (i0, j0), (i1, j1) in zip(path, path[1:]):
        first[i0:i1 + 1] = np.minimum(first[i0:i1 + 1], j0)  # a bead that jumps rows covers those between
        last[i0:i1 + 1] = np.maximum(last[i0:i1 + 1], j1)
    for i, j in path:
        first[i], last[i] = min(first[i], j), max(last[i], j)
    lo = _sliding(first, radius, np.minimum) - radius
    hi = _sliding(last, radius, np.maximum) + radius
    return Band(np.clip(lo, 0, m), np.clip(hi, 0, m))


def _sliding(values: np.ndarray, radius: int, pick: np.ufunc) -> np.ndarray:
    out = values.copy()
    for shift in range(1, radius + 1):
        out[shift:] = pick(out[shift:], values[:-shift])
        out[:-shift] = pick(out[:-shift], values[shift:])
    return out


@dataclass
class ScoreTable:
    """Every bead's score in the band: ``rows[i][s, k]`` for shape ``shapes[s]`` ending at column
    ``band.lo[i] + k``; NEG where the bead would leave the grid or start outside the band."""

    band: Band
    shapes: list[Shape]
    rows: list[np.ndarray]

    @property
    def skip(self) -> tuple[int | None, int | None]:
        """Indices of the 1-0 and 0-1 shapes."""
        find = lambda s: self.shapes.index(s) if s in self.shapes else None  # noqa: E731
        return find((1, 0)), find((0, 1))


def score_table(band: Band, shapes: Sequence[Shape], bead_scores: BeadScorer,
                skip: float | tuple[np.ndarray, np.ndarray]) -> ScoreTable:
    """``skip``: the score of a 1-0 or 0-1 bead, one for all sentences or one per pivot sentence and one per
    target sentence."""
    src_skip, tgt_skip = skip if isinstance(skip, tuple) else (None, None)
    rows = []
    for i in range(band.rows):
        cols = band.columns(i)
        row = np.full((len(shapes), len(cols)), NEG, dtype=np.float64)
        for s, (a, b) in enumerate(shapes):
            if i - a < 0:
                continue
            reachable = _inside(band, i - a, cols - b)
            if not reachable.any():
                continue
            if src_skip is not None and b == 0:  # the 1-0 bead of pivot sentence i - 1
                gain = np.full(len(cols), src_skip[i - 1])
            elif tgt_skip is not None and a == 0:  # the 0-1 bead of target sentence j - 1, at every column j
                gain = tgt_skip[np.clip(cols - 1, 0, None)]
            else:
                gain = np.full(len(cols), skip) if a == 0 or b == 0 else bead_scores(i, (a, b), cols)
            row[s] = np.where(reachable, gain, NEG)
        rows.append(row)
    return ScoreTable(band, list(shapes), rows)


def _inside(band: Band, i: int, cols: np.ndarray) -> np.ndarray:
    return (cols >= band.lo[i]) & (cols <= band.hi[i])


def _at(values: np.ndarray, band: Band, i: int, cols: np.ndarray, missing: float) -> np.ndarray:
    """``values`` (row ``i`` of a band-shaped table) at ``cols``; ``missing`` outside the band."""
    k = cols - band.lo[i]
    inside = (k >= 0) & (k < len(values))
    out = np.full(len(cols), missing)
    out[inside] = values[k[inside]]
    return out


def best_path(table: ScoreTable) -> list[tuple[Shape, tuple[int, int]]]:
    """The highest-scoring chain of beads from (0, 0) to the band's last node, as (shape, end node).

    A run of 0-1 beads inside a row is solved in one vectorised pass:
    best(j) = max over k <= j of entry(k) + skip · (j - k), a running maximum.
    """
    band, shapes = table.band, table.shapes
    _, across = table.skip
    best: list[np.ndarray] = []
    came_by: list[np.ndarray] = []  # shape index of the bead entering each node
    run_from: list[np.ndarray] = []  # column where the node's trailing run of 0-1 beads began
    for i in range(band.rows):
        cols = band.columns(i)
        entry = np.where(cols == 0, 0.0, NEG) if i == 0 else np.full(len(cols), NEG)
        entry_shape = np.full(len(cols), -1, dtype=np.int16)
        for s, (a, b) in enumerate(shapes):
            if a == 0 or i - a < 0:
                continue
            total = _at(best[i - a], band, i - a, cols - b, NEG) + table.rows[i][s]
            better = total > entry
            entry[better], entry_shape[better] = total[better], s
        skip = table.rows[i][across][1:] if across is not None else None
        row, start = _running_max(entry, skip)
        best.append(row)
        came_by.append(entry_shape)
        run_from.append(start)
    return _trace(band, shapes, best, came_by, run_from)


def _running_max(entry: np.ndarray, skip: np.ndarray | None) -> tuple[np.ndarray, np.ndarray]:
    positions = np.arange(len(entry))
    if skip is None or len(entry) < 2:
        return entry, positions
    offset = np.concatenate([[0.0], np.cumsum(np.maximum(skip, NEG))])  # skip score summed to each column
    lifted = np.where(entry > NEG / 2, entry - offset, NEG)
    best = np.maximum.accumulate(lifted)
    start = np.maximum.accumulate(np.where(lifted >= best, positions, 0))
    return np.where(best > NEG / 2, best + offset, NEG), start


def _trace(band: Band, shapes, best, came_by, run_from):
    i, j = band.rows - 1, int(band.hi[-1])
    if best[i][j - band.lo[i]] <= NEG / 2:
        raise ValueError("no path through the band reaches the last node")
    beads: list[tuple[Shape, tuple[int, int]]] = []
    while (i, j) != (0, 0):
        k = j - band.lo[i]
        start = int(run_from[i][k])
        beads.extend(((0, 1), (i, int(band.lo[i]) + c)) for c in range(k, start, -1))
        j = start + int(band.lo[i])
        if (i, j) == (0, 0):
            break
        a, b = shapes[came_by[i][start]]
        beads.append(((a, b), (i, j)))
        i, j = i - a, j - b
    beads.reverse()
    return beads


def posteriors(table: ScoreTable, path: Sequence[tuple[Shape, tuple[int, int]]],
               temperature: float) -> np.ndarray:
    """Probability of each bead of ``path`` among all paths in the band, weighted exp(score / T)."""
    forward = _sum_over_paths(table, temperature, reverse=False)
    backward = _sum_over_paths(table, temperature, reverse=True)
    band = table.band
    total = forward[-1][band.hi[-1] - band.lo[-1]]
    out = []
    for (a, b), (i, j) in path:
        s = table.shapes.index((a, b))
        k = j - band.lo[i]
        before = _at(forward[i - a], band, i - a, np.array([j - b]), -np.inf)[0]
        out.append(np.exp(before + table.rows[i][s][k] / temperature + backward[i][k] - total))
    return np.clip(np.array(out), 0.0, 1.0)


def _sum_over_paths(table: ScoreTable, temperature: float, reverse: bool) -> list[np.ndarray]:
    """Log of the summed weights of all partial paths from (0, 0) to each node, or from each node to
    the end when ``reverse``; runs of 0-1 beads are summed with a running log-sum-exp."""
    band, shapes = table.band, table.shapes
    _, across = table.skip
    n = band.rows - 1
    m = int(band.hi[-1])
    out: list[np.ndarray | None] = [None] * (n + 1)
    for i in (range(n, -1, -1) if reverse else range(n + 1)):
        cols = band.columns(i)
        start_node = (n, m) if reverse else (0, 0)
        entry = np.where((i == start_node[0]) & (cols == start_node[1]), 0.0, -np.inf)
        for s, (a, b) in enumerate(shapes):
            if a == 0:
                continue
            if reverse:
                if i + a > n:
                    continue
                # the bead starts at (i, j) and ends at (i + a, j + b); its score sits in the end row
                ends = cols + b
                weight = _at(table.rows[i + a][s], band, i + a, ends, NEG) / temperature
                entry = np.logaddexp(entry, _at(out[i + a], band, i + a, ends, -np.inf) + weight)
            elif i - a >= 0:
                weight = table.rows[i][s] / temperature
                entry = np.logaddexp(entry, _at(out[i - a], band, i - a, cols - b, -np.inf) + weight)
        if across is not None and len(cols) > 1:
            step = table.rows[i][across][1:] / temperature  # 0-1 bead into each column after the first
            entry = _running_logsumexp(entry[::-1], step[::-1])[::-1] if reverse else _running_logsumexp(entry, step)
        out[i] = entry
    return out  # type: ignore[return-value]


def _running_logsumexp(entry: np.ndarray, step: np.ndarray) -> np.ndarray:
    """value(j) = log Σ_{k<=j} exp(entry(k) + step(k+1) + … + step(j))."""
    offset = np.concatenate([[0.0], np.cumsum(np.maximum(step, NEG))])
    return np.logaddexp.accumulate(entry - offset) + offset
