"""TMX, InterText and XCES exports: every bead where it belongs with the right texts, files that parse and
whose references resolve, the options, all-or-nothing writes, and the CLI options. No embedding model."""
from __future__ import annotations

import importlib.metadata
import json
import os
import re
import subprocess
import sys
import textwrap
from datetime import datetime, timezone
from pathlib import Path

import pytest
from click.testing import CliRunner
from lxml import etree

from polyalign.align import atomic, cli
from polyalign.align.beads import Alignment, Bead, Status
from polyalign.align.document import Document, Paragraph, Sentence
from polyalign.tei import intertext, tmx, xces
from polyalign.tei.formats import FORMATS, output_paths
from tests.test_tei import make_alignment, make_document, sample_alignments

XML_LANG = "{http://www.w3.org/XML/1998/namespace}lang"
WHEN = datetime(2024, 5, 17, 9, 30, 5, tzinfo=timezone.utc)


@pytest.fixture(scope="module")
def alignments() -> list[Alignment]:
    return sample_alignments()  # nb-en and nb-es: 1-1, 1-2, 2-1, 1-0, 0-1, one confirmed and one rejected bead


def text(doc: Document, ids: tuple[str, ...]) -> str:
    return " ".join(doc.sentences[doc.index[i]].text for i in ids)


def parse(path: Path) -> etree._Element:
    return etree.parse(str(path), etree.XMLParser(resolve_entities=False, no_network=True)).getroot()


def props(el: etree._Element) -> dict[str, str]:
    return {p.get("type"): p.text for p in el.findall("prop")}


def units(path: Path) -> dict[str, dict]:
    """tuid → {props, langs, segs, tuv props} of a TMX file, checking the element order TMX 1.4b prescribes."""
    found = {}
    for tu in parse(path).find("body"):
        assert [c.tag for c in tu] == sorted((c.tag for c in tu), key=["prop", "tuv"].index)  # props, then tuvs
        tuvs = tu.findall("tuv")
        for tuv in tuvs:
            assert [c.tag for c in tuv][-1] == "seg" and len(tuv.findall("seg")) == 1
        found[tu.get("tuid")] = {"props": props(tu), "langs": [t.get(XML_LANG) for t in tuvs],
                                 "segs": [t.findtext("seg") for t in tuvs], "tuv_props": [props(t) for t in tuvs]}
    return found


def usable(alignment: Alignment, confirmed_only: bool = False) -> list[tuple[int, Bead]]:
    return [(n, b) for n, b in enumerate(alignment.beads, 1)
            if not b.is_null and b.status is not Status.REJECTED
            and (b.status is Status.CONFIRMED or not confirmed_only)]


# --- TMX ---------------------------------------------------------------------------------------------------

def test_tmx_one_memory_per_pair_with_every_usable_bead(tmp_path: Path, alignments: list[Alignment]) -> None:
    tmx.write_tmx(alignments, tmp_path / "run.tmx", when=WHEN)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["run.nb-en.tmx", "run.nb-es.tmx"]
    for alignment in alignments:
        pair = f"nb-{alignment.target.name}"
        found = units(tmp_path / f"run.{pair}.tmx")
        expected = {f"{pair}.b{n}": [text(alignment.source, b.source), text(alignment.target, b.target)]
                    for n, b in usable(alignment)}
        assert {tuid: u["segs"] for tuid, u in found.items()} == expected
        assert list(found) == list(expected)  # in bead order
        for n, bead in usable(alignment):
            unit = found[f"{pair}.b{n}"]
            assert unit["langs"] == ["nb", alignment.target.lang]
            assert unit["props"] == {"x-alignment-score": f"{bead.confidence:.4f}",
                                     "x-alignment-status": bead.status.value}
            assert [p["x-sentence-ids"] for p in unit["tuv_props"]] == [" ".join(bead.source), " ".join(bead.target)]

    en, es = units(tmp_path / "run.nb-en.tmx"), units(tmp_path / "run.nb-es.tmx")
    assert en["nb-en.b2"]["segs"] == ["Vi ventet i en time.", "We waited. For an hour."]  # 1-2 joined
    assert en["nb-en.b4"]["segs"] == ["Så kom det. Endelig!", "Then it came."]  # 2-1 joined
    assert en["nb-en.b1"]["props"] == {"x-alignment-score": "0.9500", "x-alignment-status": "confirmed"}
    assert "nb-en.b5" not in en and "nb-en.b6" not in en  # 0-1 beads: nothing to translate
    assert "nb-es.b2" not in es  # rejected by a reviewer
    assert "nb-es.b3" not in es and "nb-es.b4" not in es  # 1-0 and 0-1
    assert es["nb-es.b6"]["segs"][1] == '¡Por fin!\tdijo "alguien".'
    assert es["nb-es.b6"]["props"]["x-alignment-score"] == "0.1235"


def test_tmx_header(tmp_path: Path, alignments: list[Alignment]) -> None:
    tmx.write_tmx(alignments, tmp_path / "run.tmx", when=WHEN)
    root = parse(tmp_path / "run.nb-en.tmx")
    assert (root.tag, root.get("version"), [c.tag for c in root]) == ("tmx", "1.4", ["header", "body"])
    header = dict(root.find("header").attrib)
    assert header == {"creationtool": "polyalign", "creationtoolversion": tmx.polyalign_version(),
                      "segtype": "sentence", "o-tmf": "polyalign", "adminlang": "en", "srclang": "nb",
                      "datatype": "plaintext", "creationdate": "20240517T093005Z"}
    assert re.fullmatch(r"\d{8}T\d{6}Z", header["creationdate"])


def test_tmx_confirmed_only(tmp_path: Path, alignments: list[Alignment]) -> None:
    tmx.write_tmx(alignments, tmp_path / "run.tmx", confirmed_only=True)
    assert list(units(tmp_path / "run.nb-en.tmx")) == ["nb-en.b1"]
    assert units(tmp_path / "run.nb-es.tmx") == {}  # nothing confirmed: an empty but valid memory


def test_tmx_language_tags(tmp_path: Path, alignments: list[Alignment]) -> None:
    tags = tmx.parse_languages(["nb=nb-NO", " es = es-419 "])
    assert tags == {"nb": "nb-NO", "es": "es-419"}
    tmx.write_tmx(alignments, tmp_path / "run.tmx", languages=tags, multilingual=True)
    assert parse(tmp_path / "run.nb-es.tmx").find("header").get("srclang") == "nb-NO"
    assert {tuple(u["langs"]) for u in units(tmp_path / "run.nb-es.tmx").values()} == {("nb-NO", "es-419")}
    assert {tuple(u["langs"]) for u in units(tmp_path / "run.nb-en.tmx").values()} == {("nb-NO", "en")}
    assert {tuple(u["langs"]) for u in units(tmp_path / "run.tmx").values()} == {("nb-NO", "en", "es-419")}


@pytest.mark.parametrize("values, problem", [
    (["nb"], "is not NAME=TAG"),
    (["=nb-NO"], "is not NAME=TAG"),
    (["nb="], "is not NAME=TAG"),
    (["nb=nb_NO"], "'nb_NO' is not a language tag"),
    (["nb=nb NO"], "is not a language tag"),
    (["nb=no", "nb=nb-NO"], "'nb' twice"),
])
def test_tmx_bad_language_options(values: list[str], problem: str) -> None:
    with pytest.raises(ValueError, match=re.escape(problem)):
        tmx.parse_languages(values)


def test_tmx_tag_for_an_unknown_version(tmp_path: Path, alignments: list[Alignment]) -> None:
    with pytest.raises(ValueError, match=r"names 'de', which is not one of the versions \(nb, en, es\)"):
        tmx.write_tmx(alignments, tmp_path / "run.tmx", languages={"de": "de-DE"})
    assert list(tmp_path.iterdir()) == []


def joined_alignments() -> list[Alignment]:
    """nb against en and es, cut so that two pivot spans are shared and one is not."""
    nb = make_document("nb", [["N1.", "N2.", "N3.", "N4."]])
    en = make_document("en", [["E1.", "E2.", "E3.", "E4."]])
    es = make_document("es", [["S1.", "S2.", "S3.", "S4.", "S5."]])
    nb_en = make_alignment(nb, en, [(["p1.s1"], ["p1.s1"], 0.9), (["p1.s2", "p1.s3"], ["p1.s2"], 0.7),
                                    ([], ["p1.s3"], 0.2), (["p1.s4"], ["p1.s4"], 0.8, Status.CONFIRMED)])
    nb_es = make_alignment(nb, es, [(["p1.s1"], ["p1.s1", "p1.s2"], 0.6), (["p1.s2", "p1.s3"], ["p1.s3"], 0.5),
                                    (["p1.s4"], ["p1.s4"], 0.4, Status.REJECTED), ([], ["p1.s5"], 0.1)])
    return [nb_en, nb_es]


def test_tmx_multilingual_joins_the_pairs_on_identical_pivot_spans(tmp_path: Path) -> None:
    tmx.write_tmx(joined_alignments(), tmp_path / "run.tmx", multilingual=True)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["run.nb-en.tmx", "run.nb-es.tmx", "run.tmx"]
    found = units(tmp_path / "run.tmx")
    # nb.p1.s4 is in both pairs, but es rejected it: no unit would be right in all three languages
    assert list(found) == ["nb.p1.s1", "nb.p1.s2+nb.p1.s3"]
    assert found["nb.p1.s1"]["langs"] == ["nb", "en", "es"]
    assert found["nb.p1.s1"]["segs"] == ["N1.", "E1.", "S1. S2."]
    assert found["nb.p1.s2+nb.p1.s3"]["segs"] == ["N2. N3.", "E2.", "S3."]
    pivot, en, es = found["nb.p1.s2+nb.p1.s3"]["tuv_props"]
    assert pivot == {"x-sentence-ids": "nb.p1.s2 nb.p1.s3"}
    assert en == {"x-sentence-ids": "en.p1.s2", "x-link": "nb-en.b2", "x-alignment-score": "0.7000",
                  "x-alignment-status": "auto"}
    assert es["x-link"] == "nb-es.b2" and es["x-alignment-score"] == "0.5000"
    assert list(units(tmp_path / "run.nb-en.tmx")) == ["nb-en.b1", "nb-en.b2", "nb-en.b4"]


def test_tmx_multilingual_confirmed_only(tmp_path: Path) -> None:
    tmx.write_tmx(joined_alignments(), tmp_path / "run.tmx", multilingual=True, confirmed_only=True)
    assert units(tmp_path / "run.tmx") == {}  # nb.p1.s4 is confirmed against en only
    assert list(units(tmp_path / "run.nb-en.tmx")) == ["nb-en.b4"]


READ_BACK = """
import json, sys
from translate.storage import tmx
store = tmx.tmxfile.parsefile(sys.argv[1])
print(json.dumps({"srclang": store.sourcelanguage,
                  "units": [[u.getid(), u.source, u.target] for u in store.units]}))
"""


def _has_translate_toolkit() -> bool:
    try:
        importlib.metadata.distribution("translate-toolkit")
        return True
    except importlib.metadata.PackageNotFoundError:
        return False


@pytest.mark.skipif(not _has_translate_toolkit(), reason="translate-toolkit (the 'test' extra) is not installed")
def test_translate_toolkit_reads_our_tmx(tmp_path: Path, alignments: list[Alignment]) -> None:
    """An independent reader finds every unit with its source and target. It runs in a child process from
    outside the repository: pytest puts the repository's root on sys.path, where the folder ``translate/``
    (installed as ``polyalign.translate``) would shadow the toolkit's ``translate``."""
    tmx.write_tmx(alignments, tmp_path / "run.tmx", languages={"nb": "nb-NO"})
    env = {k: v for k, v in os.environ.items() if k != "PYTHONPATH"}
    for alignment in alignments:
        pair = f"nb-{alignment.target.name}"
        result = subprocess.run([sys.executable, "-P", "-c", textwrap.dedent(READ_BACK), f"run.{pair}.tmx"],
                                capture_output=True, text=True, cwd=tmp_path, env=env)
        assert result.returncode == 0, result.stderr
        read = json.loads(result.stdout)
        assert read["srclang"] == "nb-NO"
        assert read["units"] == [[f"{pair}.b{n}", text(alignment.source, b.source), text(alignment.target, b.target)]
                                 for n, b in usable(alignment)]


# --- InterText -----------------------------------------------------------------------------------------------

def intertext_sentences(path: Path) -> dict[str, str]:
    """InterText id → text of a version file, checking the p/s numbering InterText detects."""
    root = parse(path)
    assert root.tag == "doc"
    ids = [el.get("id") for el in root.iter() if el.get("id") is not None]
    assert len(ids) == len(set(ids))  # InterText refuses duplicate ids
    sentences = {}
    for p_number, p in enumerate(root.findall("p"), 1):
        assert p.get("id") == str(p_number)
        for s_number, s in enumerate(p.findall("s"), 1):
            assert s.get("id") == f"{p_number}:{s_number}"
            sentences[s.get("id")] = s.text
    return sentences


def test_intertext_files(tmp_path: Path, alignments: list[Alignment]) -> None:
    intertext.write_intertext(alignments, tmp_path / "vraem.xml")
    assert sorted(p.name for p in tmp_path.iterdir()) == [
        "vraem.en.xml", "vraem.es.xml", "vraem.nb-en.xml", "vraem.nb-es.xml", "vraem.nb.xml"]
    for doc in [alignments[0].source] + [a.target for a in alignments]:
        assert list(intertext_sentences(tmp_path / f"vraem.{doc.name}.xml").values()) == [s.text for s in doc.sentences]
    assert intertext_sentences(tmp_path / "vraem.nb.xml")["2:1"] == "Så kom det."


def test_intertext_links_resolve_to_every_bead(tmp_path: Path, alignments: list[Alignment]) -> None:
    intertext.write_intertext(alignments, tmp_path / "vraem.xml")
    status = {Status.AUTO: "auto", Status.CONFIRMED: "man", Status.REJECTED: "plain"}
    for alignment in alignments:
        group = parse(tmp_path / f"vraem.nb-{alignment.target.name}.xml")
        assert group.tag == "linkGrp"
        assert (group.get("fromDoc"), group.get("toDoc")) == ("vraem.nb.xml", f"vraem.{alignment.target.name}.xml")
        from_doc = intertext_sentences(tmp_path / group.get("fromDoc"))
        to_doc = intertext_sentences(tmp_path / group.get("toDoc"))
        links = group.findall("link")
        assert len(links) == len(alignment.beads)  # every bead, null and rejected ones too
        for link, bead in zip(links, alignment.beads):
            to_ids, from_ids = (side.split() for side in link.get("xtargets").split(";"))
            assert link.get("type") == f"{len(to_ids)}-{len(from_ids)}"  # InterText's order: toDoc first
            assert " ".join(from_doc[i] for i in from_ids) == text(alignment.source, bead.source)
            assert " ".join(to_doc[i] for i in to_ids) == text(alignment.target, bead.target)
            assert link.get("status") == status[bead.status]
            assert link.get("mark") == ("1" if bead.status is Status.REJECTED else None)

    en = parse(tmp_path / "vraem.nb-en.xml").findall("link")
    assert dict(en[1].attrib) == {"type": "2-1", "xtargets": "1:2 1:3;1:2", "status": "auto"}  # our 1-2
    assert dict(en[3].attrib) == {"type": "1-2", "xtargets": "2:1;2:1 2:2", "status": "auto"}  # our 2-1
    assert (en[0].get("status"), en[4].get("xtargets"), en[4].get("type")) == ("man", "2:2;", "1-0")
    es = parse(tmp_path / "vraem.nb-es.xml").findall("link")
    assert (es[1].get("status"), es[1].get("mark")) == ("plain", "1")
    assert (es[2].get("xtargets"), es[2].get("type")) == (";1:3", "0-1")


def test_intertext_numbers_only_paragraphs_with_sentences() -> None:
    a, b = Sentence("x.p1.s1", "A.", 0, 2), Sentence("x.p3.s1", "B.", 6, 8)
    doc = Document("en", "A.\n\n\n\nB.", [Paragraph("x.p1", 0, 2, (a,)), Paragraph("x.p2", 4, 4, ()),
                                          Paragraph("x.p3", 6, 8, (b,))], name="x")
    assert intertext.numbering(doc) == {"x.p1.s1": "1:1", "x.p3.s1": "2:1"}
    assert [p.get("id") for p in intertext.build_version(doc)] == ["1", "2"]


# --- XCES ----------------------------------------------------------------------------------------------------

def xces_sentences(path: Path) -> dict[str, str]:
    root = parse(path)
    assert root.tag == "document"
    ids = [el.get("id") for el in root.iter() if el.get("id") is not None]
    assert len(ids) == len(set(ids))
    return {s.get("id"): s.text for s in root.iter("s")}


def test_xces_files_and_links(tmp_path: Path, alignments: list[Alignment]) -> None:
    xces.write_xces(alignments, tmp_path / "vraem.xml")
    assert sorted(p.name for p in tmp_path.iterdir()) == [
        "vraem.en.xml", "vraem.es.xml", "vraem.nb-en.xml", "vraem.nb-es.xml", "vraem.nb.xml"]
    for doc in [alignments[0].source] + [a.target for a in alignments]:
        assert xces_sentences(tmp_path / f"vraem.{doc.name}.xml") == {s.id: s.text for s in doc.sentences}
    for alignment in alignments:
        pair = f"nb-{alignment.target.name}"
        root = parse(tmp_path / f"vraem.{pair}.xml")
        assert (root.tag, root.get("version")) == ("cesAlign", "1.0")
        group = root.find("linkGrp")
        assert (group.get("targType"), group.get("fromDoc"), group.get("toDoc")) == (
            "s", "vraem.nb.xml", f"vraem.{alignment.target.name}.xml")
        from_doc = xces_sentences(tmp_path / group.get("fromDoc"))
        to_doc = xces_sentences(tmp_path / group.get("toDoc"))
        kept = [(n, b) for n, b in enumerate(alignment.beads, 1) if b.status is not Status.REJECTED]
        links = group.findall("link")
        assert [link.get("id") for link in links] == [f"{pair}.b{n}" for n, _ in kept]
        for link, (_, bead) in zip(links, kept):
            source, target = (side.split() for side in link.get("xtargets").split(";"))
            assert (tuple(source), tuple(target)) == (bead.source, bead.target)
            assert all(i in from_doc for i in source) and all(i in to_doc for i in target)
            assert link.get("certainty") == f"{bead.confidence:.4f}"
    en = parse(tmp_path / "vraem.nb-en.xml").findall("linkGrp/link")
    assert en[3].get("xtargets") == "nb.p2.s1 nb.p2.s2;en.p2.s1" and en[4].get("xtargets") == ";en.p2.s2"
    es = parse(tmp_path / "vraem.nb-es.xml").findall("linkGrp/link")
    assert "nb-es.b2" not in [link.get("id") for link in es]  # rejected
    assert es[1].get("xtargets") == "nb.p1.s3;"


def test_xces_confirmed_only(tmp_path: Path, alignments: list[Alignment]) -> None:
    xces.write_xces(alignments, tmp_path / "vraem.xml", confirmed_only=True)
    assert [link.get("id") for link in parse(tmp_path / "vraem.nb-en.xml").iter("link")] == ["nb-en.b1"]
    assert parse(tmp_path / "vraem.nb-es.xml").findall("linkGrp/link") == []


# --- registry, paths, atomicity --------------------------------------------------------------------------------

def test_registry_writes_exactly_the_files_output_paths_names(tmp_path: Path, alignments: list[Alignment]) -> None:
    for fmt in ("tmx", "intertext", "xces"):
        folder = tmp_path / fmt
        FORMATS[fmt](alignments, folder / "run.out")  # the (alignments, path) convention still works
        assert sorted(folder.iterdir()) == sorted(output_paths(folder / "run.out", alignments, fmt))
    assert output_paths("o/run.tmx", alignments, "tmx") == [Path("o/run.nb-en.tmx"), Path("o/run.nb-es.tmx")]
    assert output_paths("o/run.tmx", alignments[:1], "tmx", multilingual=True) == [
        Path("o/run.nb-en.tmx"), Path("o/run.tmx")]
    assert output_paths("o/run", alignments[:1], "tmx") == [Path("o/run")]  # one pair: exactly OUT
    assert output_paths("o/run.xml", alignments[:1], "intertext") == [
        Path("o/run.nb.xml"), Path("o/run.en.xml"), Path("o/run.xml")]
    assert output_paths("o/run.xml", alignments[:1], "xces") == [
        Path("o/run.nb.xml"), Path("o/run.en.xml"), Path("o/run.xml")]


WRITERS = {"tmx": tmx.write_tmx, "intertext": intertext.write_intertext, "xces": xces.write_xces}


@pytest.mark.parametrize("fmt", list(WRITERS))
def test_a_write_failing_midway_leaves_nothing(tmp_path: Path, alignments: list[Alignment], fmt: str,
                                               monkeypatch: pytest.MonkeyPatch) -> None:
    write = WRITERS[fmt]
    paths = output_paths(tmp_path / "run.xml", alignments, fmt)
    paths[0].write_text("previous run", encoding="utf-8")
    real, calls = atomic.atomic_write, []

    def fail_on_the_last(path, *args, **kwargs):
        calls.append(path)
        if len(calls) == len(paths):  # every other file is complete in its temporary file by now
            raise RuntimeError("midway")
        return real(path, *args, **kwargs)

    monkeypatch.setattr(atomic, "atomic_write", fail_on_the_last)
    with pytest.raises(RuntimeError, match="midway"):
        write(alignments, tmp_path / "run.xml")
    assert paths[0].read_text(encoding="utf-8") == "previous run"
    assert [p.name for p in tmp_path.iterdir()] == [paths[0].name]  # no other file, no .part left behind


@pytest.mark.parametrize("fmt", list(WRITERS))
def test_a_bad_bead_writes_nothing(tmp_path: Path, fmt: str) -> None:
    one, two = sample_alignments()
    two.beads[-1].confidence = float("nan")  # the last bead of the last pair
    two.beads[-1].status = Status.CONFIRMED  # written by every format (xces skips rejected ones)
    if fmt == "intertext":  # InterText has no confidence; an unknown sentence breaks it instead
        two.beads[-1] = Bead(("nb.p9.s9",), ("es.p2.s2",), 0.1, 0.1)
    with pytest.raises(ValueError):
        WRITERS[fmt]([one, two], tmp_path / "run.xml")
    assert list(tmp_path.iterdir()) == []


# --- CLI -------------------------------------------------------------------------------------------------------

@pytest.fixture
def fake_pipeline(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """``align`` without files or a model: reading gives the sample documents, aligning the sample beads.
    Returns the list of pipeline steps that ran."""
    from polyalign.align import pipeline

    steps: list[str] = []
    samples = sample_alignments()

    def read_inputs(paths, langs, **kwargs):
        steps.append("read")
        return pipeline.Versions([samples[0].source] + [a.target for a in samples])

    def align_versions(docs, encoder, **kwargs):
        steps.append("align")
        return samples

    monkeypatch.setattr(pipeline, "read_inputs", read_inputs)
    monkeypatch.setattr(pipeline, "align_versions", align_versions)
    monkeypatch.setattr(cli, "_encoder", lambda model, cache=True: None)
    return steps


def run_align(*args: str) -> object:
    return CliRunner().invoke(cli.main, ["align", "a.nb.txt", "a.en.txt", "a.es.txt", "--pairwise", *args])


def test_cli_writes_tmx_with_the_options(tmp_path: Path, fake_pipeline: list[str]) -> None:
    out = tmp_path / "run.tmx"
    result = run_align("-f", "tmx", "--tmx-lang", "nb=nb-NO", "--tmx-lang", "en=en-GB", "--tmx-multilingual",
                       "-o", str(out))
    assert result.exit_code == 0, result.output
    written = [tmp_path / "run.nb-en.tmx", tmp_path / "run.nb-es.tmx", out]
    assert [line for line in result.stderr.splitlines() if "wrote" in line] == [
        f"polyalign: wrote {p}" for p in written]
    assert all(p.exists() for p in written)
    assert {tuple(u["langs"]) for u in units(tmp_path / "run.nb-en.tmx").values()} == {("nb-NO", "en-GB")}
    assert list(units(out)) == ["nb.p1.s1"]


def test_cli_confirmed_only_xces(tmp_path: Path, fake_pipeline: list[str]) -> None:
    result = run_align("-f", "xces", "--confirmed-only", "-o", str(tmp_path / "run.xml"))
    assert result.exit_code == 0, result.output
    assert result.stderr.count("wrote") == 5
    assert [link.get("id") for link in parse(tmp_path / "run.nb-en.xml").iter("link")] == ["nb-en.b1"]


@pytest.mark.parametrize("args, problem, steps", [
    (["-f", "tmx", "--tmx-lang", "nb:nb-NO"], "--tmx-lang 'nb:nb-NO' is not NAME=TAG (e.g. nb=nb-NO)", []),
    (["-f", "tmx", "--tmx-lang", "nb=nb_NO"], "'nb_NO' is not a language tag", []),
    (["-f", "tmx", "--tmx-lang", "de=de-DE"], "--tmx-lang names 'de', which is not one of the versions", ["read"]),
    (["-f", "tsv", "--confirmed-only"], "--confirmed-only applies only to --format tmx or xces", []),
    (["-f", "xces", "--tmx-multilingual"], "--tmx-lang and --tmx-multilingual apply only to --format tmx", []),
    (["--tmx-lang", "nb=nb-NO"], "apply only to --format tmx", []),
])
def test_cli_option_mistakes_are_one_line_before_aligning(tmp_path: Path, fake_pipeline: list[str],
                                                          args: list[str], problem: str, steps: list[str]) -> None:
    result = run_align(*args, "-o", str(tmp_path / "run.out"))
    assert result.exit_code == 1
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("polyalign: error: ") and problem in lines[0], result.stderr
    assert fake_pipeline == steps  # never got to the model
    assert list(tmp_path.iterdir()) == []
