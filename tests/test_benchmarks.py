"""The benchmarks measure what users run: a gold document aligned by ``tests/benchmarks/common.py`` gets the same
beads as ``polyalign align --presplit`` on the same files (trailing spaces and all)."""
from __future__ import annotations

import sys
from pathlib import Path

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
