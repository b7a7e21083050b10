"""Beads, TSV and JSON exports: they read back to what was written, and a failed write leaves nothing."""
from __future__ import annotations

import csv
import json
from pathlib import Path

import pytest

from polyalign.align.beads import Alignment
from polyalign.tei import formats
from polyalign.tei.formats import FORMATS, TSV_COLUMNS, output_paths, write_bead_files, write_beads, write_json, write_tsv
from tests.test_tei import sample_alignments


@pytest.fixture(scope="module")
def alignments() -> list[Alignment]:
    return sample_alignments()  # nb-en and nb-es: 1-1, 1-2, 2-1, 1-0, 0-1, confirmed and rejected


def read_beads(path: Path) -> list[tuple[list[int], list[int]]]:
    """The eval README's format: ``[1, 2]:[3]`` per line."""
    return [tuple(json.loads(side) for side in line.split(":")) for line in path.read_text().splitlines()]


def test_beads_read_back(tmp_path: Path, alignments: list[Alignment]) -> None:
    path = tmp_path / "nb-en.txt"
    write_beads(alignments[0], path)
    assert read_beads(path) == [tuple(b) for b in alignments[0].as_indices()]
    assert path.read_text().splitlines() == ["[0]:[0]", "[1]:[1, 2]", "[2]:[3]", "[3, 4]:[4]", "[]:[5]", "[]:[6]"]


def test_output_paths() -> None:
    one, two = sample_alignments()
    assert output_paths("out/run.txt", [one], "beads") == [Path("out/run.txt")]
    assert output_paths("out/run.txt", [one, two], "beads") == [Path("out/run.nb-en.txt"), Path("out/run.nb-es.txt")]
    assert output_paths("out/run", [one, two], "beads") == [Path("out/run/nb-en.txt"), Path("out/run/nb-es.txt")]
    assert output_paths("out/run.tsv", [one, two], "tsv") == [Path("out/run.tsv")]


def test_one_beads_file_per_pair(tmp_path: Path, alignments: list[Alignment]) -> None:
    write_bead_files(alignments, tmp_path / "run.txt")
    assert sorted(p.name for p in tmp_path.iterdir()) == ["run.nb-en.txt", "run.nb-es.txt"]
    assert read_beads(tmp_path / "run.nb-es.txt") == [tuple(b) for b in alignments[1].as_indices()]


def test_tsv_reads_back(tmp_path: Path, alignments: list[Alignment]) -> None:
    path = tmp_path / "run.tsv"
    write_tsv(alignments, path)
    with path.open(encoding="utf-8", newline="") as handle:
        header, *rows = list(csv.reader(handle, delimiter="\t"))
    assert header == TSV_COLUMNS
    assert len(rows) == sum(len(a.beads) for a in alignments)
    records = {(r[0], int(r[1])): dict(zip(header, r)) for r in rows}
    two_one = records[("nb-en", 4)]
    assert two_one["shape"] == "2-1"
    assert two_one["source_ids"] == "nb.p2.s1 nb.p2.s2"
    assert two_one["source_text"] == "Så kom det. Endelig!"
    assert two_one["target_text"] == "Then it came."
    assert float(two_one["confidence"]) == alignments[0].beads[3].confidence
    assert float(two_one["score"]) == alignments[0].beads[3].score
    assert (records[("nb-en", 5)]["source_ids"], records[("nb-en", 5)]["source_text"]) == ("", "")
    assert records[("nb-en", 1)]["status"] == "confirmed"
    assert records[("nb-es", 2)]["status"] == "rejected"
    assert records[("nb-es", 6)]["target_text"] == '¡Por fin!\tdijo "alguien".'


def test_json_has_documents_with_offsets_and_beads(tmp_path: Path, alignments: list[Alignment]) -> None:
    path = tmp_path / "run.json"
    write_json(alignments, path)
    data = json.loads(path.read_text(encoding="utf-8"))
    assert "¡Por fin!" in path.read_text(encoding="utf-8")  # ensure_ascii=False
    docs = [alignments[0].source] + [a.target for a in alignments]
    assert [d["name"] for d in data["documents"]] == ["nb", "en", "es"] and data["pivot"] == "nb"
    for written, doc in zip(data["documents"], docs):
        assert (written["lang"], written["source"]) == (doc.lang, doc.source)
        sentences = [s for p in written["paragraphs"] for s in p["sentences"]]
        assert [s["id"] for s in sentences] == [s.id for s in doc.sentences]
        assert all(doc.text[s["start"]:s["end"]] == s["text"] for s in sentences)
    for written, alignment in zip(data["alignments"], alignments):
        assert written["model"] == alignment.model and written["settings"] == alignment.settings
        assert [(b["source"], b["target"], b["shape"], b["confidence"], b["status"]) for b in written["beads"]] == [
            (list(b.source), list(b.target), b.shape, b.confidence, b.status.value) for b in alignment.beads]


def test_formats_mapping_dispatches(tmp_path: Path, alignments: list[Alignment]) -> None:
    assert set(FORMATS) == {"tei", "tsv", "json", "beads", "tmx", "intertext", "xces"}
    for name in ("tei", "tsv", "json", "beads"):  # the others: tests/test_exchange.py
        FORMATS[name](alignments, tmp_path / f"run.{name}")
    assert sorted(p.name for p in tmp_path.iterdir()) == [
        "run.json", "run.nb-en.beads", "run.nb-es.beads", "run.tei", "run.tsv"]


def _leaves_nothing(tmp_path: Path, write, alignments: list[Alignment]) -> None:
    path = tmp_path / "out"
    path.write_text("previous run", encoding="utf-8")
    with pytest.raises(RuntimeError, match="midway"):
        write(alignments, path)
    assert path.read_text(encoding="utf-8") == "previous run"
    assert [p.name for p in tmp_path.iterdir()] == ["out"]  # no .out.*.part left behind


def test_failed_tsv_leaves_nothing(tmp_path: Path, alignments: list[Alignment],
                                   monkeypatch: pytest.MonkeyPatch) -> None:
    real_rows = formats._tsv_rows
    calls = []

    def rows_then_fail(alignment: Alignment) -> list[list[object]]:
        calls.append(alignment)
        if len(calls) == 2:  # the first pair is already in the temporary file
            raise RuntimeError("midway")
        return real_rows(alignment)

    monkeypatch.setattr(formats, "_tsv_rows", rows_then_fail)
    _leaves_nothing(tmp_path, write_tsv, alignments)


def test_failed_json_leaves_nothing(tmp_path: Path, alignments: list[Alignment],
                                    monkeypatch: pytest.MonkeyPatch) -> None:
    def dump_half(data, handle, **kwargs) -> None:
        handle.write('{"documents": [')
        raise RuntimeError("midway")

    monkeypatch.setattr(formats.json, "dump", dump_half)
    _leaves_nothing(tmp_path, write_json, alignments)


def test_outputs_get_the_mode_of_any_new_file(tmp_path):
    import os
    import stat

    from polyalign.align.atomic import atomic_write

    previous = os.umask(0o022)
    try:
        with atomic_write(tmp_path / "out.xml") as handle:
            handle.write("<x/>")
    finally:
        os.umask(previous)
    assert stat.S_IMODE((tmp_path / "out.xml").stat().st_mode) == 0o644  # readable by the archive, not 0600
