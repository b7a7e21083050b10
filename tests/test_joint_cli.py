"""``polyalign align`` with three or more versions: one joint TEI, beads for every pair, --pivot, re-aligning
with confirmed rows kept, adding a version. The model is the session's (no reload per command)."""
from __future__ import annotations

from pathlib import Path

import pytest
from click.testing import CliRunner
from lxml import etree

from polyalign.align import cli
from polyalign.align.evaluate import read_beads
from polyalign.tei.reader import read_corpus
from polyalign.tei.validate import validate
from tests.conftest import SAMPLES

NS = {"t": "http://www.tei-c.org/ns/1.0"}
FILES = [str(SAMPLES / f"ojo.{lang}.txt") for lang in ("en", "nb", "es")]


@pytest.fixture
def run(monkeypatch, encoder):
    monkeypatch.setattr(cli, "_encoder", lambda model, cache=True: encoder)

    def invoke(*args: str | Path):
        result = CliRunner().invoke(cli.main, ["align", *map(str, args)])
        assert result.exit_code == 0, result.output + str(result.exception)
        return result
    return invoke


@pytest.fixture
def three(run, tmp_path: Path) -> Path:
    out = tmp_path / "three.xml"
    run(*FILES, "-o", out, "--metadata", SAMPLES / "ojo.toml")
    return out


def test_three_versions_make_one_joint_tei(three: Path) -> None:
    assert validate(three) == []
    groups = etree.parse(str(three)).findall(".//t:standOff/t:linkGrp", NS)
    assert len(groups) == 1 and groups[0].get("subtype") == "joint"
    corpus = read_corpus(three)
    assert corpus.joint.names == ["en", "nb", "es"] and corpus.joint.pivot_chosen == "automatic"
    assert any(row.slots[1] == () and row.slots[0] and row.slots[2] for row in corpus.joint.rows)  # nb omits one


def test_beads_for_every_pair_in_the_files_order(run, tmp_path: Path) -> None:
    out = tmp_path / "beads"
    result = run(*FILES, "-f", "beads", "-o", out)
    assert sorted(p.name for p in out.iterdir()) == ["en-es.txt", "en-nb.txt", "nb-es.txt"]
    assert [line.split()[-1] for line in result.stderr.splitlines() if "wrote" in line] == [
        str(out / "en-nb.txt"), str(out / "en-es.txt"), str(out / "nb-es.txt")]
    nb_es = read_beads(out / "nb-es.txt")
    assert [i for b in nb_es for i in b.source] == list(range(23))
    assert [i for b in nb_es for i in b.target] == list(range(25))


def test_a_given_pivot(run, tmp_path: Path) -> None:
    out = tmp_path / "three.xml"
    run(*FILES, "-o", out, "--pivot", "es")
    assert etree.parse(str(out)).find(".//t:linkGrp", NS).get("targFunc") == "es en nb"
    assert (read_corpus(out).joint.pivot, read_corpus(out).joint.pivot_chosen) == ("es", "given")


def test_pivot_mistakes_are_one_line_errors(tmp_path: Path) -> None:
    for args, problem in ((FILES + ["--pivot", "de"], "no such version"),
                          (FILES[:2] + ["--pivot", "en"], "--pivot applies to a joint alignment")):
        result = CliRunner().invoke(cli.main, ["align", *args, "-o", str(tmp_path / "x.xml")])
        assert result.exit_code == 1 and problem in result.stderr, result.output


def test_realigning_keeps_confirmed_rows_and_a_fourth_version_joins(run, three: Path, tmp_path: Path) -> None:
    root = etree.parse(str(three))
    links = root.find(".//t:standOff/t:linkGrp", NS).findall("t:link", NS)
    links[4].set("ana", "#st.confirmed")
    links[4].set("resp", "#polyalign")
    root.write(str(three))
    confirmed = read_corpus(three).joint.rows
    confirmed = [r.slots for r in confirmed if r.status.value == "confirmed"]
    again = tmp_path / "again.xml"
    run(three, "-o", again)
    assert validate(again) == []
    kept = [r for r in read_corpus(again).joint.rows if r.status.value == "confirmed"]
    assert [r.slots for r in kept] == confirmed and len(kept) == 1

    four = tmp_path / "four.xml"
    second = tmp_path / "ojo-copy.es.txt"
    second.write_text(Path(FILES[2]).read_text(encoding="utf-8"), encoding="utf-8")
    run(again, second, "-o", four)
    assert validate(four) == []
    joint = read_corpus(four).joint
    assert joint.names == ["en", "nb", "es", "es2"]
    assert all(len(r.slots) == 4 for r in joint.rows)


def test_a_pairwise_tei_of_three_versions_stays_pairwise(run, tmp_path: Path) -> None:
    """A file aligned pair by pair before the joint alignment existed keeps its kind, and its confirmed links."""
    first = tmp_path / "pairs.xml"
    run(*FILES, "-o", first, "--pairwise")
    assert [g.get("targFunc") for g in etree.parse(str(first)).findall(".//t:linkGrp", NS)] == ["en nb", "en es"]
    again = tmp_path / "again.xml"
    result = run(first, "-o", again)
    assert "pair by pair" in result.stderr
    assert [g.get("targFunc") for g in etree.parse(str(again)).findall(".//t:linkGrp", NS)] == ["en nb", "en es"]
    assert validate(again) == []
