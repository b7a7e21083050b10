"""What ``-o`` writes (``tei.outputs.plan``, for every format) and that no output ever replaces an input:
``align`` (every format, one and two pairs, through a link or another spelling of the path), ``translate``
and ``batch`` (OUTDIR may be INPUT). The model is faked where the aligning itself is not the point."""
from __future__ import annotations

import hashlib
import os
from pathlib import Path

import pytest
from click.testing import CliRunner

from polyalign.align import cli, pipeline
from polyalign.align.beads import Alignment, Bead
from polyalign.tei import outputs
from polyalign.tei.formats import FORMATS, output_paths
from tests.test_tei import sample_alignments

ALL = ["tei", "tsv", "json", "beads", "tmx", "intertext", "xces"]
PER_PAIR = ["beads", "tmx", "intertext", "xces"]
ONE, TWO = ["nb", "en"], ["nb", "en", "es"]


# --- the naming rule -------------------------------------------------------------------------------------------

@pytest.mark.parametrize("fmt", ALL)
def test_one_pair_writes_exactly_out_whatever_its_extension(fmt: str) -> None:
    for out in ["o/run.out", "o/run", "o/run.tmx"]:
        files = outputs.plan(out, ONE, fmt)
        alignment = files.whole if fmt not in PER_PAIR else files.pairs[0]
        assert alignment == Path(out)
        if fmt in ("intertext", "xces"):  # the versions beside it, named from OUT's stem
            suffix = Path(out).suffix or ".xml"
            assert list(files.versions.values()) == [Path(f"o/run.nb{suffix}"), Path(f"o/run.en{suffix}")]
        else:
            assert files.all() == [Path(out)]


@pytest.mark.parametrize("fmt", PER_PAIR)
def test_several_pairs_keep_outs_extension_with_the_pair_before_it(fmt: str) -> None:
    files = outputs.plan("o/run.out", TWO, fmt)
    assert files.pairs == (Path("o/run.nb-en.out"), Path("o/run.nb-es.out"))
    if fmt in ("intertext", "xces"):
        assert files.all() == [Path("o/run.nb.out"), Path("o/run.en.out"), Path("o/run.es.out"), *files.pairs]


@pytest.mark.parametrize("fmt", PER_PAIR)
def test_a_folder_gets_files_named_by_the_pair(tmp_path: Path, fmt: str) -> None:
    ext = outputs.PER_PAIR[fmt]
    (tmp_path / "existing").mkdir()
    folders = [(tmp_path / "run", TWO), (f"{tmp_path / 'new'}/", ONE), (tmp_path / "existing", ONE)]
    for out, names in folders:  # no extension and several pairs; a trailing slash; an existing folder
        files = outputs.plan(out, names, fmt)
        folder = Path(out)
        assert files.pairs == tuple(folder / f"nb-{n}{ext}" for n in names[1:])
        if fmt in ("intertext", "xces"):
            assert list(files.versions.values()) == [folder / f"{n}{ext}" for n in names]


@pytest.mark.parametrize("fmt", ["tei", "tsv", "json"])
def test_one_file_formats_want_a_file_name_not_a_folder(tmp_path: Path, fmt: str) -> None:
    assert outputs.plan(tmp_path / "run", TWO, fmt).all() == [tmp_path / "run"]
    with pytest.raises(ValueError, match="is a folder"):
        outputs.plan(tmp_path, TWO, fmt)


def test_tmx_multilingual_is_out_and_the_pairs_are_beside_it(tmp_path: Path) -> None:
    assert outputs.plan("o/run.tmx", ONE, "tmx", multilingual=True).all() == [Path("o/run.nb-en.tmx"),
                                                                               Path("o/run.tmx")]
    assert outputs.plan(tmp_path, TWO, "tmx", multilingual=True).all() == [
        tmp_path / "nb-en.tmx", tmp_path / "nb-es.tmx", tmp_path / "nb-en-es.tmx"]


@pytest.mark.parametrize("fmt", ALL)
@pytest.mark.parametrize("pairs", [1, 2])
@pytest.mark.parametrize("out", ["run.out", "run", "folder/"])
def test_every_writer_writes_exactly_the_planned_files(tmp_path: Path, fmt: str, pairs: int, out: str) -> None:
    alignments = sample_alignments()[:pairs]
    target = f"{tmp_path}/{out}"
    try:
        planned = output_paths(target, alignments, fmt)
    except ValueError:
        assert fmt not in PER_PAIR and out.endswith("/")
        return
    FORMATS[fmt](alignments, target)
    assert sorted(p for p in tmp_path.rglob("*") if p.is_file()) == sorted(planned)


# --- align: no output replaces an input ------------------------------------------------------------------------

@pytest.fixture
def fake_model(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """Reading is real (the files must exist and hold text); aligning pairs sentence i with i; no model."""
    steps: list[str] = []

    def align_versions(docs, encoder, **kwargs):
        steps.append("align")
        return [Alignment(docs[0], other, [Bead((a.id,), (b.id,), 0.9, 0.9)
                                           for a, b in zip(docs[0].sentences, other.sentences)])
                for other in docs[1:]]

    monkeypatch.setattr(pipeline, "align_versions", align_versions)
    monkeypatch.setattr(cli, "_encoder", lambda model, cache=True: steps.append("model"))
    monkeypatch.setattr(cli, "_translators", lambda *args: {})
    return steps


TEXTS = {"nb": "Toget var sent. Vi ventet.", "en": "The train was late. We waited.",
         "es": "El tren llegó tarde. Esperamos."}


def texts(folder: Path, names: list[Path | str] | None = None) -> list[Path]:
    """The three versions in ``folder``, named keep.nb.txt… or as ``names`` says (nb first)."""
    folder.mkdir(exist_ok=True)
    files = [folder / (names[i] if names else f"keep.{lang}.txt") for i, lang in enumerate(TEXTS)]
    for path, text in zip(files, TEXTS.values()):
        path.write_text(text + "\n", encoding="utf-8")
    return files


def snapshot(folder: Path) -> dict[str, str]:
    return {p.name: hashlib.sha256(p.read_bytes()).hexdigest() for p in sorted(folder.iterdir())}


@pytest.mark.parametrize("fmt", ALL)
@pytest.mark.parametrize("pairs", [1, 2])
@pytest.mark.parametrize("spelling", ["relative", "symlink", "hardlink"])
def test_an_output_that_is_an_input_is_refused_and_nothing_is_written(tmp_path: Path, fake_model: list[str],
                                                                     monkeypatch: pytest.MonkeyPatch, fmt: str,
                                                                     pairs: int, spelling: str) -> None:
    names = list(TEXTS)[:pairs + 1]
    victim = outputs.plan(tmp_path / "in" / "run.txt", names, fmt).all()[-1]  # OUT, or the last pair's file
    files = texts(tmp_path / "in", [victim.name, "b.txt", "c.txt"])[:pairs + 1]
    monkeypatch.chdir(tmp_path)
    if spelling == "relative":  # the inputs as given, OUT by another way there
        given = os.path.join("..", tmp_path.name, "in", ".", "run.txt")
    else:  # OUT in a folder of links to the inputs
        links = tmp_path / "links"
        links.mkdir()
        for f in files:
            (os.symlink if spelling == "symlink" else os.link)(f, links / f.name)
        given = str(links / "run.txt")
    before = snapshot(tmp_path / "in")
    result = CliRunner().invoke(cli.main, ["align", *map(str, files), "--lang", ",".join(names),
                                           "-f", fmt, "-o", given])
    assert result.exit_code == 1, result.output
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("polyalign: error: ") and lines[0].endswith(
        f"{victim.name}: is an input; the output would replace it (choose another -o)"), result.stderr
    assert fake_model == []  # refused before the model loads
    assert snapshot(tmp_path / "in") == before
    assert sorted(p.name for p in tmp_path.iterdir()) == ["in"] + (["links"] if spelling != "relative" else [])
    if spelling != "relative":
        assert sorted(p.name for p in (tmp_path / "links").iterdir()) == sorted(f.name for f in files)


def test_the_metadata_file_is_an_input_too(tmp_path: Path, fake_model: list[str]) -> None:
    nb, en, _ = texts(tmp_path)
    toml = tmp_path / "meta.toml"
    toml.write_text('title = "Keep"\n', encoding="utf-8")
    result = CliRunner().invoke(cli.main, ["align", str(nb), str(en), "--metadata", str(toml), "-f", "tsv",
                                           "-o", str(toml)])
    assert result.exit_code == 1 and "meta.toml: is an input" in result.stderr
    assert toml.read_text(encoding="utf-8") == 'title = "Keep"\n'


@pytest.mark.parametrize("fmt", ALL)
def test_align_writes_where_o_says(tmp_path: Path, fake_model: list[str], fmt: str) -> None:
    files = texts(tmp_path / "in")
    out = tmp_path / "out"
    out.mkdir()
    if fmt not in PER_PAIR:
        out = out / "three.data"
    result = CliRunner().invoke(cli.main, ["align", *map(str, files), "-f", fmt, "-o", str(out), "--pairwise"])
    assert result.exit_code == 0, result.output
    written = sorted(p for p in tmp_path.rglob("*") if p.is_file() and "in" not in p.parent.name)
    assert written == sorted(outputs.plan(out, ["nb", "en", "es"], fmt).all())
    assert [line for line in result.stderr.splitlines() if "wrote" in line] == [
        f"polyalign: wrote {p}" for p in outputs.plan(out, ["nb", "en", "es"], fmt).all()]


@pytest.mark.parametrize("pivot", [None, "es"])
@pytest.mark.parametrize("fmt", ALL)
def test_a_joint_alignment_writes_where_o_says(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, encoder,
                                                fmt: str, pivot: str | None) -> None:
    """Three versions aligned jointly (the real model): beads for every pair in file order; the pair files of
    the other formats start from --pivot, or from the first file when the pivot is chosen automatically."""
    monkeypatch.setattr(cli, "_encoder", lambda model, cache=True: encoder)
    files = texts(tmp_path / "in")
    out = tmp_path / "out"
    out.mkdir()
    if fmt not in PER_PAIR:
        out = out / "three.data"
    result = CliRunner().invoke(cli.main, ["align", *map(str, files), "-f", fmt, "-o", str(out),
                                           *(["--pivot", pivot] if pivot else [])])
    assert result.exit_code == 0, result.output
    names = ["es", "nb", "en"] if pivot and fmt != "beads" else ["nb", "en", "es"]
    planned = outputs.plan(out, names, fmt, every_pair=fmt == "beads").all()
    written = sorted(p for p in tmp_path.rglob("*") if p.is_file() and "in" not in p.parent.name)
    assert written == sorted(planned)
    if fmt == "beads":
        assert [p.name for p in planned] == ["nb-en.txt", "nb-es.txt", "en-es.txt"]
    assert [line for line in result.stderr.splitlines() if "wrote" in line] == [
        f"polyalign: wrote {p}" for p in planned]


def test_every_pair_keeps_the_file_order() -> None:
    assert [p.name for p in outputs.plan("o/x.txt", ["en", "nb", "es"], "beads", every_pair=True).pairs] == [
        "x.en-nb.txt", "x.en-es.txt", "x.nb-es.txt"]
    assert outputs.plan("o/x.txt", ["en", "nb"], "beads", every_pair=True).pairs == (Path("o/x.txt"),)


# --- translate -------------------------------------------------------------------------------------------------

def test_translate_refuses_to_write_over_its_file(tmp_path: Path) -> None:
    source = tmp_path / "ojo.es.txt"
    source.write_text("El tren llegó tarde.\n", encoding="utf-8")
    (tmp_path / "same").symlink_to(source)
    result = CliRunner().invoke(cli.main, ["translate", str(source), "--to", "en", "-o", str(tmp_path / "same")])
    assert result.exit_code == 1
    assert result.stderr.strip().splitlines() == [
        f"polyalign: error: {tmp_path / 'same'}: is an input; the output would replace it (choose another -o)"]
    assert source.read_text(encoding="utf-8") == "El tren llegó tarde.\n"


# --- batch -----------------------------------------------------------------------------------------------------

@pytest.fixture
def fake_batch_model(monkeypatch: pytest.MonkeyPatch, fake_model: list[str]) -> list[str]:
    from polyalign.align import batch

    monkeypatch.setattr(batch, "worker_encoder", lambda model, *args, **kwargs: object())
    monkeypatch.setattr(batch, "_translators", lambda docs, settings: {})
    return fake_model


def test_batch_into_its_input_folder_twice(tmp_path: Path, fake_batch_model: list[str]) -> None:
    texts(tmp_path)
    args = ["batch", str(tmp_path), "-o", str(tmp_path), "--pivot", "nb", "-f", "tei", "-f", "intertext", "-f", "beads"]
    first = CliRunner().invoke(cli.main, args)
    assert first.exit_code == 0, first.output
    inputs = {p.name: p.read_bytes() for p in tmp_path.glob("keep.??.txt")}
    assert {"keep.xml", "keep.intertext.nb.xml", "keep.beads.nb-en.txt"} <= {p.name for p in tmp_path.iterdir()}
    second = CliRunner().invoke(cli.main, args)
    assert second.exit_code == 0, second.output
    assert "1 document in" in second.stderr and "1 skipped" in second.stderr  # its outputs are no documents
    assert {p.name: p.read_bytes() for p in tmp_path.glob("keep.??.txt")} == inputs


def test_batch_refuses_an_output_that_is_another_documents_input(tmp_path: Path, fake_batch_model: list[str]) -> None:
    for name in ["x.nb.xml", "x.en.txt", "x.nb.en.txt", "x.nb.es.txt"]:  # document x.nb writes x.nb.xml
        (tmp_path / name).write_text("Hei.\n", encoding="utf-8")
    before = snapshot(tmp_path)
    result = CliRunner().invoke(cli.main, ["batch", str(tmp_path), "-o", str(tmp_path), "--pivot", "en"])
    assert result.exit_code == 1
    assert result.stderr.strip().splitlines() == [
        f"polyalign: error: {tmp_path / 'x.nb.xml'}: is an input; the output would replace it (choose another -o); "
        "the output of x.nb"]
    assert snapshot(tmp_path) == before
