"""The command line as a user meets it: real files, the real model, real exit codes."""
from __future__ import annotations

import codecs
import io
import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

from polyalign.tei.validate import validate

SAMPLES = Path(__file__).resolve().parents[1] / "samples"

NB = SAMPLES / "vraem.nb.txt"
EN = SAMPLES / "vraem.en.txt"


def polyalign(*args: str | Path, cwd: Path | None = None) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "polyalign.align.cli", *map(str, args)], capture_output=True, text=True,
                          cwd=cwd, env={**os.environ, "PYTHONPATH": str(Path(__file__).resolve().parents[1])})


def bad_files(tmp: Path) -> dict[str, tuple[Path, str]]:
    """Each bad input beside the word its error message must contain."""
    norwegian = "Seksten personer ble drept i to barer i Vizcatán del Ene. Blant dem var en fireåring.\n"
    files = {
        "empty": ("empty.nb.txt", b"", "is empty"),
        "blank": ("blank.nb.txt", b"  \n\n \n", "is empty"),
        "binary": ("photo.nb.txt", bytes(range(256)) * 8, "binary"),
        "latin-1": ("latin.nb.txt", norwegian.encode("latin-1"), "not UTF-8"),
        "utf-16": ("wide.nb.txt", codecs.BOM_UTF16_LE + norwegian.encode("utf-16-le"), "UTF-16"),
        "utf-16 without BOM": ("wide2.nb.txt", norwegian.encode("utf-16-le"), "UTF-16"),
    }
    out = {}
    for case, (name, data, problem) in files.items():
        (tmp / name).write_bytes(data)
        out[case] = (tmp / name, problem)
    return out


@pytest.mark.parametrize("case", ["empty", "blank", "binary", "latin-1", "utf-16", "utf-16 without BOM"])
def test_a_bad_file_gets_one_line_naming_it_and_no_output(tmp_path, case):
    path, problem = bad_files(tmp_path)[case]
    out = tmp_path / "out" / "result.xml"
    result = polyalign("align", path, EN, "-o", out)
    assert result.returncode != 0
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1, result.stderr
    assert str(path) in lines[0] and problem in lines[0]
    assert "Traceback" not in result.stderr
    assert not out.exists() and not out.parent.exists() or not any(out.parent.iterdir())


@pytest.mark.parametrize("args, problem", [
    (["missing.nb.txt", EN], "no such file"),
    ([SAMPLES, EN], "is a folder"),
    ([NB, EN, "--lang", "xx,en"], "'xx' is not a language code"),
    ([NB, EN, "--lang", "kl,en"], "not covered by the embedding model"),
    ([NB, EN, "--lang", "nb"], "give one per file"),
    ([NB], "at least two versions"),
])
def test_user_mistakes_are_one_line_errors(tmp_path, args, problem):
    result = polyalign("align", *args, "-o", tmp_path / "x.xml")
    assert result.returncode != 0
    assert len(result.stderr.strip().splitlines()) == 1, result.stderr
    assert problem in result.stderr and "Traceback" not in result.stderr
    assert not (tmp_path / "x.xml").exists()


def test_align_writes_valid_tei_and_says_where(tmp_path):
    out = tmp_path / "out" / "vraem.xml"
    result = polyalign("align", NB, EN, "-o", out)
    assert result.returncode == 0, result.stderr
    assert f"wrote {out}" in result.stderr
    assert validate(out) == []
    text = out.read_text(encoding="utf-8")
    assert 'xml:lang="nb"' in text and 'xml:lang="en"' in text and "cert=" in text


def test_beads_output_scores_well_against_the_gold(tmp_path):
    out = tmp_path / "vraem.txt"
    assert polyalign("align", NB, EN, "-f", "beads", "-o", out).returncode == 0
    result = polyalign("eval", SAMPLES / "gold" / "vraem.nb-en.txt", out, "--json")
    assert result.returncode == 0, result.stderr
    import json
    micro = json.loads(result.stdout)["micro"]
    assert micro["strict"]["f1"] >= 0.85
    assert micro["lax"]["f1"] >= 0.95


def test_eval_prints_a_table(tmp_path):
    gold = SAMPLES / "gold" / "ojo.es-en.txt"
    result = polyalign("eval", gold, gold)
    assert result.returncode == 0
    assert "micro" in result.stdout and "1.000" in result.stdout


def test_eval_rejects_a_malformed_file(tmp_path):
    bad = tmp_path / "bad.txt"
    bad.write_text("[0]:[0]\n[1]-[2]\n", encoding="utf-8")
    result = polyalign("eval", SAMPLES / "gold" / "ojo.es-en.txt", bad)
    assert result.returncode != 0 and "bad.txt:2" in result.stderr and "Traceback" not in result.stderr


def test_three_versions_go_into_one_tei(tmp_path):
    second = tmp_path / "vraem-copy.en.txt"
    second.write_text(EN.read_text(encoding="utf-8"), encoding="utf-8")
    out = tmp_path / "three.xml"
    result = polyalign("align", NB, EN, second, "-o", out, "--pairwise")  # the joint alignment: test_joint_cli
    assert result.returncode == 0, result.stderr
    assert validate(out) == []
    text = out.read_text(encoding="utf-8")
    assert 'targFunc="nb en"' in text and 'targFunc="nb en2"' in text and 'xml:id="en2.p1.s1"' in text


def test_every_command_has_an_example_in_its_help():
    for command in ("align", "eval"):
        assert "Example:" in polyalign(command, "--help").stdout


def test_unrelated_texts_align_with_a_warning(tmp_path):
    from tests.test_pipeline import GARDEN

    garden = tmp_path / "garden.en.txt"
    garden.write_text(GARDEN * 3, encoding="utf-8")
    result = polyalign("align", NB, garden, "-o", tmp_path / "x.xml")
    assert result.returncode == 0, result.stderr
    assert "look unrelated" in result.stderr


NS = {"t": "http://www.tei-c.org/ns/1.0"}


def test_metadata_then_a_second_run_on_the_tei(tmp_path):
    """Titles, authors and sources reach the header; aligning the written TEI again keeps them, adds a
    revision, and both files pass `polyalign validate`."""
    from lxml import etree

    first, second = tmp_path / "vraem.xml", tmp_path / "again.xml"
    result = polyalign("align", NB, EN, "-o", first, "--metadata", SAMPLES / "vraem.toml",
                       "--author", "nb:Kari Nordmann")
    assert result.returncode == 0, result.stderr
    root = etree.parse(str(first)).getroot()
    assert root.findtext("t:teiHeader/t:fileDesc/t:titleStmt/t:title", namespaces=NS).startswith(
        "A politicized massacre in Peru's VRAEM: English and Norwegian Bokmål")
    nb = root.find("t:TEI[@xml:lang='nb']", namespaces={**NS, "xml": "http://www.w3.org/XML/1998/namespace"})
    assert nb.findtext("t:teiHeader/t:fileDesc/t:titleStmt/t:title", namespaces=NS) == \
        "En politisert massakre i Perus VRAEM"
    assert [a.text for a in nb.findall("t:teiHeader/t:fileDesc/t:titleStmt/t:author", NS)] == ["Kari Nordmann"]
    assert nb.findtext("t:teiHeader/t:fileDesc/t:sourceDesc/t:bibl/t:note[@type='source']", namespaces=NS) == \
        "Written for polyalign's samples; not published"

    result = polyalign("align", first, "-o", second)
    assert result.returncode == 0, result.stderr
    again = etree.parse(str(second)).getroot()
    assert [c.get("{http://www.w3.org/XML/1998/namespace}id")
            for c in again.findall("t:teiHeader/t:revisionDesc/t:change", NS)] == ["rv1", "rv2"]
    assert {link.get("change") for link in again.iter("{%s}link" % NS["t"])} == {"#rv2"}
    members = lambda r: [etree.tostring(m) for m in r.findall("t:TEI", NS)]  # noqa: E731
    assert members(again) == members(root)  # the texts and their headers come back as they were
    corpus_source = "t:teiHeader/t:fileDesc/t:sourceDesc/t:bibl[@type='corpus']"
    assert again.findtext(corpus_source, namespaces=NS) == root.findtext(corpus_source, namespaces=NS) == \
        "Torggata Blad, 2021; samples/README.md says who wrote which version"

    result = polyalign("validate", first, second)
    assert result.returncode == 0 and result.stdout == "", result.stdout + result.stderr
    assert "2 of 2 file(s) valid" in result.stderr


def test_validate_prints_file_line_and_rule(tmp_path):
    from tests.test_tei import sample_alignments
    from polyalign.tei.writer import write_tei

    good, broken = tmp_path / "good.xml", tmp_path / "broken.xml"
    write_tei(sample_alignments(), good)
    broken.write_text(good.read_text(encoding="utf-8").replace('cert="0.9500"', 'cert="1.7"'), encoding="utf-8")
    result = polyalign("validate", tmp_path)
    assert result.returncode == 1
    [line] = result.stdout.splitlines()
    file, number, rule, message = line.split(":", 3)
    assert (file, rule.strip()) == (str(broken), "cert") and int(number) > 1 and "'1.7'" in message
    assert "1 of 2 file(s) valid" in result.stderr


@pytest.mark.parametrize("content, problem", [
    ('title = "x"\nyear = 2021\n', "'year' is not one of title, author, source"),
    ('[fr]\ntitle = "x"\n', "metadata for 'fr', which is not one of the versions"),
    ('title = [1, 2]\n', "title must be text"),
    ('title = "x\n', "is not valid TOML"),
])
def test_bad_metadata_is_a_one_line_error(tmp_path, content, problem):
    meta = tmp_path / "meta.toml"
    meta.write_text(content, encoding="utf-8")
    result = polyalign("align", NB, EN, "-o", tmp_path / "x.xml", "--metadata", meta)
    assert result.returncode != 0 and len(result.stderr.strip().splitlines()) == 1, result.stderr
    assert problem in result.stderr and "Traceback" not in result.stderr


def test_encoding_progress_without_a_terminal_is_a_line_per_tenth_at_most(capsys):
    from polyalign.align.cli import EncodingProgress

    progress = EncodingProgress(bar=False, every=0)
    done = progress("novel.nb.txt", 1000)
    for _ in range(40):
        done(25)
    lines = capsys.readouterr().err.splitlines()
    assert len(lines) == 10  # 40 reports, one line per 10 %
    assert lines[0].startswith("polyalign: encoding novel.nb.txt: 100 of 1000 sentences (10%)")
    assert "to go" in lines[4] and lines[-1].startswith("polyalign: encoding novel.nb.txt: 1000 of 1000 sentences")
    quiet = EncodingProgress(bar=False)  # a short file, done in less than ten seconds: nothing more to say
    quiet("short.en.txt", 30)(30)
    assert capsys.readouterr().err == ""


class FakeTerminal(io.StringIO):
    def isatty(self) -> bool:
        return True


def test_encoding_progress_on_a_terminal_is_a_bar_with_counts():
    from polyalign.align.cli import EncodingProgress

    terminal = FakeTerminal()
    progress = EncodingProgress(stream=terminal)
    done = progress("novel.nb.txt", 200)
    done(50)
    done(150)  # complete: the bar closes itself
    assert progress.bar is None
    drawn = terminal.getvalue()
    assert "polyalign: encoding novel.nb.txt" in drawn and "200/200" in drawn and "sentences/s" in drawn


def test_align_reports_each_file_once_prefixed_without_a_terminal(tmp_path):
    result = polyalign("align", SAMPLES / "vraem.nb.txt", SAMPLES / "vraem.en.txt", "-o", tmp_path / "v.xml")
    assert result.returncode == 0, result.stderr
    lines = result.stderr.splitlines()
    assert all(line.startswith("polyalign: ") and "polyalign: polyalign" not in line for line in lines)
    assert "\r" not in result.stderr  # no bar drawn into a pipe
    encoding = [line for line in lines if line.startswith("polyalign: encoding ")]
    starts = [line for line in encoding if re.search(r"vraem\.(nb|en)\.txt: \d+ sentences$", line)]
    assert len(starts) == 2  # one per file; a slow machine may add an "N of M sentences" line or two
    assert all(re.search(r": \d+ of \d+ sentences \(\d+%\)", line) for line in encoding if line not in starts)


def test_an_output_never_replaces_an_input(tmp_path):
    """The issue's own example, and a TEI aligned again onto itself: one line, exit status 1, the inputs as
    they were, and nothing encoded (stderr holds the refusal alone; tests/test_outputs.py checks that the model
    is never made)."""
    import shutil

    from tests.test_tei import sample_alignments
    from polyalign.tei.writer import write_tei

    en, es = tmp_path / "keep.en.txt", tmp_path / "keep.es.txt"
    shutil.copy(SAMPLES / "ojo.en.txt", en)
    shutil.copy(SAMPLES / "ojo.es.txt", es)
    corpus = tmp_path / "vraem.xml"
    write_tei(sample_alignments(), corpus)
    before = {p: p.read_bytes() for p in (en, es, corpus)}
    for args in [(en.name, es.name, "-o", en.name), (corpus.name, "-o", f"./{corpus.name}")]:
        result = polyalign("align", *args, cwd=tmp_path)
        assert result.returncode == 1
        assert result.stderr.splitlines() == [
            f"polyalign: error: {Path(args[-1])}: is an input; the output would replace it (choose another -o)"]
    assert {p: p.read_bytes() for p in before} == before
    assert sorted(p.name for p in tmp_path.iterdir()) == sorted(p.name for p in before)
