"""The benchmarks measure what users run: a gold document aligned by ``tests/benchmarks/common.py`` gets the same
beads as ``polyalign align --presplit`` on the same files (trailing spaces and all)."""
from __future__ import annotations

import sys
from pathlib import Path

import numpy as np
import pytest

from polyalign.align.evaluate import read_beads

from tests.test_cli import polyalign

BENCHMARKS = Path(__file__).resolve().parent / "benchmarks"
TEXTBERG = BENCHMARKS.parents[2] / "shared" / "eval" / "textberg-dev" / "dev"


@pytest.fixture(scope="module")
def common():
    sys.path.insert(0, str(BENCHMARKS))
    try:
        import common
        yield common
    finally:
        sys.path.remove(str(BENCHMARKS))


@pytest.mark.skipif(not TEXTBERG.exists(), reason="shared/eval/textberg-dev is not here")
def test_benchmark_beads_are_the_commands_beads(common, encoder, tmp_path: Path):
    for side in ("src", "tgt"):  # a slice of the set, its lines as they are (most end in a space)
        lines = (TEXTBERG / f"{side}.txt").read_text(encoding="utf-8").split("\n")[:80]
        assert any(line.endswith(" ") for line in lines)
        (tmp_path / f"{side}.txt").write_text("\n".join(lines) + "\n", encoding="utf-8")
    doc = common.GoldDocument("slice", "dev", [], [], [], tmp_path, ("de", "fr"))
    doc.src, doc.tgt = (common.read_lines(tmp_path / f"{side}.txt") for side in ("src", "tgt"))
    benchmark = common.command_beads(doc, encoder)

    done = polyalign("align", tmp_path / "src.txt", tmp_path / "tgt.txt", "--presplit", "--lang", "de,fr",
                     "--no-translate", "-f", "beads", "-o", tmp_path / "out.txt")
    assert done.returncode == 0, done.stderr
    command = read_beads(tmp_path / "out.txt")
    assert [(b.source, b.target) for b in benchmark] == [(b.source, b.target) for b in command]
    assert len(benchmark) > 50


def test_a_perfectly_calibrated_confidence_still_shows_an_ece_that_shrinks_with_the_beads(common):
    assert common.ece_by_chance([1.0] * 100) == (0.0, 0.0)  # beads that are surely right are always right
    few, many = common.ece_by_chance([0.9] * 400), common.ece_by_chance([0.9] * 40_000)
    assert few[0] > 3 * many[0] > 0  # a few hundred beads: the ECE a target must allow for by chance alone
    assert few[1] > few[0]


def test_the_bertalign_reimplementation_finds_a_merge_a_split_and_an_omission(common):
    """``bertalign_baseline``'s two passes on made-up window vectors, where the right beads are known: each
    window's vector is the sum of its meanings' vectors (plus a little noise), its byte length the sum of its
    sentences'."""
    import bertalign_baseline as ba

    rng = np.random.default_rng(0)
    meaning = rng.normal(size=(40, 64))
    # target: meanings 0-9 one a sentence, 10 and 11 in one sentence, 12 split in two, 13 left out, then 14-39
    src_units = [[k] for k in range(40)]
    tgt_units = [[k] for k in range(10)] + [[10, 11], [12], [12]] + [[k] for k in range(14, 40)]
    src_bytes = [50] * 40
    tgt_bytes = [50] * 10 + [100, 25, 25] + [50] * 26

    def windows(units, sizes):
        vecs, lens = np.zeros((4, len(units), 64), np.float32), np.full((4, len(units)), 3)
        for k in range(1, 5):
            for p in range(k - 1, len(units)):
                v = meaning[[m for u in units[p - k + 1:p + 1] for m in u]].sum(0) + 0.2 * rng.normal(size=64)
                vecs[k - 1, p], lens[k - 1, p] = v / np.linalg.norm(v), sum(sizes[p - k + 1:p + 1])
        return vecs, lens

    (src_vecs, src_lens), (tgt_vecs, tgt_lens) = windows(src_units, src_bytes), windows(tgt_units, tgt_bytes)
    beads = ba.align_vectors(src_vecs, tgt_vecs, src_lens, tgt_lens)
    assert beads[10:14] == [([10, 11], [10]), ([12], [11, 12]), ([13], []), ([14], [13])]
    assert beads[:10] == [([k], [k]) for k in range(10)]
    assert beads[14:] == [([k], [k - 1]) for k in range(15, 40)]
