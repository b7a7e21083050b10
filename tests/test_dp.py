"""The dynamic programme on small score tables whose best path can be found by brute force."""
from __future__ import annotations

import itertools

import numpy as np
import pytest

from polyalign.align.dp import NEG, band_around_path, bead_shapes, best_path, full_band, posteriors, score_table

SHAPES = bead_shapes(4)


def all_paths(n, m, shapes):
    """Every bead sequence from (0, 0) to (n, m), by recursion (tiny grids only)."""
    if (n, m) == (0, 0):
        yield []
        return
    for a, b in shapes:
        if n - a >= 0 and m - b >= 0:
            for path in all_paths(n - a, m - b, shapes):
                yield path + [((a, b), (n, m))]


def random_scorer(seed):
    rng = np.random.default_rng(seed)
    table = {}

    def scores(i, shape, cols):
        return np.array([table.setdefault((i, shape, int(j)), rng.normal()) for j in cols])
    return scores, table


@pytest.mark.parametrize("seed", range(5))
def test_best_path_is_the_best_of_all_paths(seed):
    n, m, skip = 4, 5, -0.3
    scorer, _ = random_scorer(seed)
    table = score_table(full_band(n, m), SHAPES, scorer, skip)
    found = best_path(table)

    def total(path):
        return sum(skip if 0 in shape else scorer(i, shape, np.array([j]))[0] for shape, (i, j) in path)
    best = max(all_paths(n, m, SHAPES), key=total)
    assert total(found) == pytest.approx(total(best))
    assert found[-1][1] == (n, m)


@pytest.mark.parametrize("seed", range(3))
def test_posteriors_are_path_probabilities(seed):
    n, m, skip, temperature = 3, 3, -0.5, 0.7
    scorer, _ = random_scorer(seed)
    table = score_table(full_band(n, m), SHAPES, scorer, skip)
    path = best_path(table)
    paths = list(all_paths(n, m, SHAPES))

    def weight(p):
        return np.exp(sum((skip if 0 in s else scorer(i, s, np.array([j]))[0]) / temperature for s, (i, j) in p))
    z = sum(weight(p) for p in paths)
    expected = [sum(weight(p) for p in paths if bead in p) / z for bead in path]
    assert posteriors(table, path, temperature) == pytest.approx(expected, rel=1e-6)


def test_band_around_path_covers_the_path_and_stays_narrow():
    path = [(0, 0)] + [(i, i) for i in range(1, 1001)]
    band = band_around_path(path, 1000, 1000, radius=3)
    assert all(band.lo[i] <= i <= band.hi[i] for i in range(1001))
    assert band.area <= 1001 * (4 * 3 + 3)  # the radius applies to rows and to columns
    twice = band_around_path([(0, 0)] + [(i, i) for i in range(1, 2001)], 2000, 2000, radius=3)
    assert twice.area == pytest.approx(2 * band.area, rel=0.01)  # linear in length


def test_a_path_outside_the_band_is_impossible():
    scorer, _ = random_scorer(0)
    band = band_around_path([(0, 0), (1, 1), (2, 2)], 2, 2, radius=0)
    table = score_table(band, [(1, 1)], scorer, -1.0)
    assert [node for _, node in best_path(table)] == [(1, 1), (2, 2)]
    assert table.rows[1].min() >= NEG


def test_bead_shapes_stay_within_the_size_limit():
    shapes = bead_shapes(5)
    assert (1, 0) in shapes and (0, 1) in shapes and (1, 4) in shapes and (2, 3) in shapes
    assert all(a + b <= 5 for a, b in shapes) and (3, 3) not in shapes
