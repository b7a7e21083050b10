"""polyalign batch: a folder or manifest of documents, failures that do not sink the batch, resumable runs,
worker processes and a Dask cluster, all writing the same files.

The model is slow to load, so most tests run the batch in this process with the session's encoder (which
remembers what it encoded: the runs align the same texts again and again); only the tests about the command
line, and the worker processes and Dask cluster it drives, start a ``polyalign`` of their own.
"""
from __future__ import annotations

import json
import os
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
from lxml import etree

from polyalign.align import batch
from polyalign.align.manifest import ManifestError, pivot_languages, read_jobs, read_manifest, with_pivot
from polyalign.tei.validate import validate

REPO = Path(__file__).resolve().parents[1]
SAMPLES = REPO / "samples"
SETTINGS = batch.Settings(translate=False)  # hermetic: the same outputs whatever translation engine is installed
GOOD = ["ojo", "vraem"]
BAD = {"binary": "binary", "empty": "is empty", "lonely": "missing its second language"}


def make_folder(folder: Path) -> Path:
    """The two samples (vraem with its metadata file), and three documents that cannot be aligned."""
    folder.mkdir(parents=True)
    for name in ["vraem.nb.txt", "vraem.en.txt", "vraem.toml", "ojo.es.txt", "ojo.en.txt"]:
        shutil.copy(SAMPLES / name, folder / name)
    (folder / "empty.nb.txt").write_bytes(b"")
    shutil.copy(SAMPLES / "ojo.en.txt", folder / "empty.en.txt")
    (folder / "binary.es.txt").write_bytes(bytes(range(256)) * 8)
    shutil.copy(SAMPLES / "ojo.en.txt", folder / "binary.en.txt")
    shutil.copy(SAMPLES / "vraem.nb.txt", folder / "lonely.nb.txt")
    return folder


def jobs_of(source: Path, pivots: list[str] | None = None, exclude: Path | None = None):
    jobs = read_jobs(source, exclude=exclude)
    order = pivot_languages(jobs, pivots or [])
    return [with_pivot(job, order) for job in jobs]


def run(source: Path, out: Path, encoder, **options) -> batch.Summary:
    """A batch in this process, as ``polyalign batch SOURCE -o OUT --no-translate`` runs it."""
    return batch.run_batch(jobs_of(source), SETTINGS, out, encoder=encoder, **options)


def polyalign(*args, env: dict[str, str] | None = None) -> subprocess.Popen:
    return subprocess.Popen([sys.executable, "-m", "polyalign.align.cli", *map(str, args)], stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, text=True, cwd=REPO, env={**os.environ, **(env or {})})


def canonical(path: Path) -> bytes:
    """A TEI without what says when it was written, canonicalised; other files as they are."""
    if path.suffix != ".xml":
        return path.read_bytes()
    root = etree.parse(str(path)).getroot()
    for element in root.iter():
        element.attrib.pop("when", None)
    return etree.tostring(root, method="c14n")


def outputs(out: Path) -> dict[str, bytes]:
    """Every output of a batch (not its summary or state), canonically."""
    return {p.relative_to(out).as_posix(): canonical(p) for p in sorted(out.rglob("*"))
            if p.is_file() and p.name != batch.SUMMARY and batch.STATE_DIR not in p.parts}


def leftovers(out: Path) -> list[Path]:
    return [p for p in out.rglob("*.part")]


def by_id(summary: dict) -> dict[str, dict]:
    return {d["id"]: d for d in summary["documents"]}


class Remembering:
    """The session's encoder, remembering what it has encoded: these tests align the same texts run after run,
    which is what the embedding cache is for (tests/test_embedding_cache.py); here it would only cost time."""

    def __init__(self, encoder) -> None:
        self.encoder, self.known, self.calls = encoder, {}, 0

    def __getattr__(self, name):
        return getattr(self.encoder, name)

    def encode(self, texts):
        return self._remembered("vectors", texts, self.encoder.encode).copy()

    def encode_with_tokens(self, texts):
        vectors, tokens = self._remembered("tokens", texts, self.encoder.encode_with_tokens)
        return vectors.copy(), None if tokens is None else list(tokens)

    def _remembered(self, kind, texts, encode):
        key = (kind, tuple(texts))
        if key not in self.known:
            self.calls += len(texts)
            self.known[key] = encode(texts)
        return self.known[key]


@pytest.fixture(scope="module")
def remembering(encoder) -> Remembering:
    return Remembering(encoder)


@pytest.fixture(scope="module")
def reference(tmp_path_factory, remembering):
    """One uninterrupted run over the mixed folder, that the other runs are compared with."""
    root = tmp_path_factory.mktemp("batch")
    folder, out = make_folder(root / "in"), root / "out"
    summary = run(folder, out, remembering)
    for name in GOOD:
        assert validate(out / f"{name}.xml") == []
    return folder, out, summary


# --- what a batch is made of ------------------------------------------------------------------------------

def test_a_folder_groups_its_files_by_name_and_picks_the_most_common_pivot(tmp_path):
    folder = make_folder(tmp_path / "in")
    (folder / "news").mkdir()
    shutil.copy(SAMPLES / "ojo.es.txt", folder / "news" / "ojo.es.txt")
    shutil.copy(SAMPLES / "ojo.en.txt", folder / "news" / "ojo.en.txt")
    (folder / ".hidden.nb.txt").write_text("Skjult.\n")
    (folder / "README.txt").write_text("Not a version.\n")
    (folder / "out").mkdir()
    (folder / "out" / "ojo.xml").write_text("<TEI/>")  # an earlier batch's output inside INPUT
    jobs = jobs_of(folder, exclude=folder / "out")
    assert [j.id for j in jobs] == ["README", "binary", "empty", "lonely", "news/ojo", "ojo", "vraem"]
    job = {j.id: j for j in jobs}
    assert [v.name for v in job["news/ojo"].versions] == ["news/ojo.en.txt", "news/ojo.es.txt"]  # en: in most
    assert [v.lang for v in job["vraem"].versions] == ["en", "nb"]
    assert job["vraem"].metadata_file == folder / "vraem.toml"
    assert "missing its second language" in job["lonely"].problem
    assert "no language code" in job["README"].problem
    assert all(j.problem is None for j in jobs if j.id not in ("README", "lonely"))


def test_the_pivot_is_the_first_given_language_a_document_has():
    from polyalign.align.manifest import Job, Version

    def job(doc_id, *langs):
        return Job(doc_id, tuple(Version(Path(f"/x/{doc_id}.{lang}.txt"), f"{doc_id}.{lang}.txt", lang)
                                 for lang in langs))

    jobs = [job("a", "en", "nb"), job("b", "es", "nb"), job("c", "es", "en")]
    assert pivot_languages(jobs) == ["en"]  # en, es and nb are in two documents each: alphabetical
    assert pivot_languages(jobs, ["NO", "es-ES"]) == ["nb", "es"]
    placed = [with_pivot(j, ["nb", "es"]) for j in jobs]
    assert [[v.lang for v in j.versions] for j in placed] == [["nb", "en"], ["nb", "es"], ["es", "en"]]
    lacking = with_pivot(job("d", "en", "es"), ["nb"])
    assert lacking.problem == "has no version in nb (the pivot); its versions: d.en.txt, d.es.txt"


@pytest.mark.parametrize("text, problem", [
    ("id,path\nx,x.nb.txt\n", "no 'language' column"),
    ("id,path,language,titel\nx,x.nb.txt,nb,X\n", "unknown column 'titel'"),
    ("id,path,language\n../x,x.nb.txt,nb\n", "must be a relative name"),
    ("id,path,language\n,x.nb.txt,nb\n", "line 2: id and path must not be blank"),
])
def test_a_manifest_that_cannot_be_used_is_one_error(tmp_path, text, problem):
    manifest = tmp_path / "manifest.csv"
    manifest.write_text(text, encoding="utf-8")
    with pytest.raises(ManifestError, match=problem):
        read_manifest(manifest)


# --- runs -------------------------------------------------------------------------------------------------

def test_good_documents_are_written_and_bad_ones_reported_with_their_reasons(reference):
    folder, out, summary = reference
    assert sorted(outputs(out)) == ["ojo.xml", "vraem.xml"]
    assert not summary.ok
    written = json.loads((out / batch.SUMMARY).read_text(encoding="utf-8"))
    assert written == json.loads(json.dumps(summary.to_dict()))
    assert written["counts"] == {"documents": 5, "done": 2, "skipped": 0, "failed": 3, "not run": 0}
    documents = by_id(written)
    for doc_id, problem in BAD.items():
        assert documents[doc_id]["status"] == "failed" and problem in documents[doc_id]["reason"]
        assert "\n" not in documents[doc_id]["reason"] and str(folder) not in documents[doc_id]["reason"]
    assert [d["id"] for d in written["documents"]][:3] == ["binary", "empty", "lonely"]  # failures first
    aligned = written["documents"][3:]
    assert [d["confidence"] for d in aligned] == sorted(d["confidence"] for d in aligned)  # then weakest first
    assert written["pivot"] == ["en"] and 0.9 < written["mean_confidence"] <= 1
    vraem = etree.parse(str(out / "vraem.xml")).getroot()
    ns = {"t": "http://www.tei-c.org/ns/1.0"}
    assert vraem.findtext("t:teiHeader//t:titleStmt/t:title", namespaces=ns).startswith("A politicized massacre")
    assert vraem.findtext(".//t:sourceDesc/t:bibl/t:idno", namespaces=ns) == "vraem.en.txt"  # as the archive names it


def test_a_second_run_skips_everything_quickly(reference, remembering, tmp_path):
    folder, out, _ = reference
    shutil.copytree(out, tmp_path / "out")
    before = {p: p.stat().st_mtime_ns for p in (tmp_path / "out").glob("*.xml")}
    calls, started = remembering.calls, time.monotonic()
    summary = run(folder, tmp_path / "out", remembering)
    assert time.monotonic() - started < 2
    assert remembering.calls == calls  # not a sentence asked for
    assert (summary.count("skipped"), summary.count("failed"), summary.count("done")) == (2, 3, 0)
    assert {p: p.stat().st_mtime_ns for p in before} == before
    assert by_id(summary.to_dict())["binary"]["unchanged"]  # a failure for good is reported, not retried


def test_a_changed_or_repaired_document_is_aligned_again_and_only_it(reference, remembering, tmp_path):
    folder, out, _ = reference
    shutil.copytree(folder, tmp_path / "in")
    shutil.copytree(out, tmp_path / "out")
    with open(tmp_path / "in" / "ojo.en.txt", "a", encoding="utf-8") as handle:
        handle.write("One more sentence at the end.\n")
    shutil.copy(SAMPLES / "vraem.nb.txt", tmp_path / "in" / "empty.nb.txt")  # repaired, with vraem's text
    summary = run(tmp_path / "in", tmp_path / "out", remembering).to_dict()
    status = {d["id"]: d["status"] for d in summary["documents"]}
    assert status == {"ojo": "done", "empty": "done", "vraem": "skipped", "binary": "failed", "lonely": "failed"}
    assert summary["documents"][2]["id"] == "empty"  # the weakest alignment (not one text), after the failures


def test_an_interrupted_run_resumes_to_the_outputs_of_an_uninterrupted_one(reference, remembering, tmp_path):
    folder, out, _ = reference

    class CtrlCAfterTheFirstDocument(batch.Quiet):
        def advance(self, outcome):
            super().advance(outcome)
            if outcome.status == "done":
                raise KeyboardInterrupt

    first = run(folder, tmp_path / "out", remembering, progress=CtrlCAfterTheFirstDocument())
    assert first.interrupted and not first.ok
    assert (first.count("done"), first.count("not run")) == (1, 1)
    assert json.loads((tmp_path / "out" / batch.SUMMARY).read_text())["interrupted"] is True
    assert len(outputs(tmp_path / "out")) == 1 and not leftovers(tmp_path / "out")

    second = run(folder, tmp_path / "out", remembering)
    assert (second.count("skipped"), second.count("done"), second.count("failed")) == (1, 1, 3)
    assert outputs(tmp_path / "out") == outputs(out)


def test_force_aligns_everything_again(reference, remembering, tmp_path):
    folder, out, _ = reference
    shutil.copytree(out, tmp_path / "out")
    before = (tmp_path / "out" / "ojo.xml").stat().st_mtime_ns
    summary = run(folder, tmp_path / "out", remembering, force=True)
    assert (summary.count("done"), summary.count("failed"), summary.count("skipped")) == (2, 3, 0)
    assert not any(o.unchanged for o in summary.outcomes)
    assert (tmp_path / "out" / "ojo.xml").stat().st_mtime_ns != before
    assert outputs(tmp_path / "out") == outputs(out)


def test_a_model_that_cannot_be_loaded_stops_the_batch_with_a_summary(tmp_path):
    folder = make_folder(tmp_path / "in")
    (tmp_path / "no-model").mkdir()
    settings = batch.Settings(model=str(tmp_path / "no-model"), translate=False)
    with pytest.raises(batch.BatchError, match="cannot load the model"):
        batch.run_batch(jobs_of(folder), settings, tmp_path / "out")
    written = json.loads((tmp_path / "out" / batch.SUMMARY).read_text(encoding="utf-8"))
    assert "cannot load the model" in written["error"] and not written["interrupted"]
    assert written["counts"]["done"] == 0 and written["counts"]["not run"] >= 1
    assert not batch.state_path(tmp_path / "out", "vraem").exists()


def test_a_manifest_with_metadata_reaches_the_tei_header(remembering, tmp_path):
    texts = tmp_path / "archive" / "texts"
    texts.mkdir(parents=True)
    shutil.copy(SAMPLES / "ojo.en.txt", texts / "ojo-english.txt")  # no language in the names: the column says
    shutil.copy(SAMPLES / "ojo.es.txt", texts / "ojo-spanish.txt")
    manifest = tmp_path / "archive" / "manifest.csv"
    manifest.write_text(
        "id,path,language,title,author,source\n"
        "peru/ojo,texts/ojo-english.txt,en,The eye on the VRAEM,Anna Milena Kohte,Torggata Blad\n"
        "peru/ojo,texts/ojo-spanish.txt,es,El ojo sobre el VRAEM,polyalign's developers; Ojo Público,\n"
        "nopivot,texts/ojo-english.txt,en,,,\n"
        "nopivot,texts/ojo-english.txt,en,,,\n", encoding="utf-8")
    jobs = [with_pivot(job, pivot_languages([], ["es"])) for job in read_manifest(manifest)]
    settings = batch.Settings(formats=("tei", "tsv"), translate=False)
    summary = batch.run_batch(jobs, settings, tmp_path / "out", encoder=remembering)
    assert "has no version in es" in by_id(summary.to_dict())["nopivot"]["reason"]
    assert sorted(outputs(tmp_path / "out")) == ["peru/ojo.tsv", "peru/ojo.xml"]
    tei = etree.parse(str(tmp_path / "out" / "peru" / "ojo.xml")).getroot()
    ns = {"t": "http://www.tei-c.org/ns/1.0"}
    assert tei.find(".//t:linkGrp", ns).get("targFunc") == "es en"  # --pivot es
    bibls = {b.findtext("t:idno", namespaces=ns): b for b in tei.findall("t:teiHeader//t:sourceDesc/t:bibl", ns)}
    spanish, english = bibls["texts/ojo-spanish.txt"], bibls["texts/ojo-english.txt"]
    assert spanish.findtext("t:title", namespaces=ns) == "El ojo sobre el VRAEM"
    assert [a.text for a in spanish.findall("t:author", ns)] == ["polyalign's developers", "Ojo Público"]
    assert english.findtext("t:note[@type='source']", namespaces=ns) == "Torggata Blad"


# --- the command line, worker processes, a killed run, Dask ------------------------------------------------

def test_the_command_line_with_two_workers_reports_each_document_and_fails(reference, tmp_path):
    folder, out, _ = reference
    process = polyalign("batch", folder, "-o", tmp_path / "out", "-j", "2", "--no-translate")
    _, stderr = process.communicate(timeout=300)
    assert process.returncode == 1, stderr
    assert "Traceback" not in stderr and "\r" not in stderr  # no bar: stderr is not a terminal
    for doc_id in [*GOOD, "binary", "empty"]:
        assert f"] {doc_id}: " in stderr  # a line per document, counted: [3/5] ojo: done in …
    assert "failed: binary: binary.es.txt: is a binary file" in stderr
    assert outputs(tmp_path / "out") == outputs(out)
    written = json.loads((tmp_path / "out" / batch.SUMMARY).read_text(encoding="utf-8"))
    workers = {d["worker"] for d in written["documents"] if d["worker"]}
    assert 1 <= len(workers) <= 2 and not any(w.endswith(f":{process.pid}") for w in workers)


def test_a_killed_run_resumes_without_half_written_files(reference, remembering, tmp_path):
    folder, out, _ = reference
    state = batch.state_path(tmp_path / "out", "ojo")
    # a cache of its own, so that vraem (after ojo) takes long enough to be killed in the middle of
    process = polyalign("batch", folder, "-o", tmp_path / "out", "--no-translate",
                        env={"POLYALIGN_EMBEDDING_CACHE": str(tmp_path / "cache")})
    deadline = time.monotonic() + 240
    while not state.exists() and process.poll() is None and time.monotonic() < deadline:
        time.sleep(0.02)
    process.send_signal(signal.SIGKILL)
    process.communicate()
    assert state.exists() and not batch.state_path(tmp_path / "out", "vraem").exists()
    for path in (tmp_path / "out").glob("*.xml"):
        etree.parse(str(path))  # whatever is there is whole

    summary = run(folder, tmp_path / "out", remembering)
    assert (summary.count("skipped"), summary.count("done")) == (1, 1)
    assert outputs(tmp_path / "out") == outputs(out) and not leftovers(tmp_path / "out")


def test_a_dask_cluster_writes_what_a_local_run_writes(reference, tmp_path):
    distributed = pytest.importorskip("distributed")
    folder, out, _ = reference
    with distributed.LocalCluster(n_workers=1, threads_per_worker=1, processes=True, dashboard_address=":0",
                                  silence_logs=40) as cluster:
        process = polyalign("batch", folder, "-o", tmp_path / "out", "--no-translate",
                            "--scheduler", cluster.scheduler_address)
        _, stderr = process.communicate(timeout=300)
        with distributed.Client(cluster) as client:
            loads = client.run(batch.models_loaded)
    assert process.returncode == 1, stderr
    assert list(loads.values()) == [1]  # the model, loaded once by the worker for all its documents
    assert outputs(tmp_path / "out") == outputs(out)
    for path in (tmp_path / "out").glob("*.xml"):
        assert validate(path) == []
    local = by_id(json.loads((out / batch.SUMMARY).read_text()))
    dask = by_id(json.loads((tmp_path / "out" / batch.SUMMARY).read_text()))
    assert {k: (d["status"], d["reason"]) for k, d in dask.items()} == \
           {k: (d["status"], d["reason"]) for k, d in local.items()}


# --- what a batch vouches for ---------------------------------------------------------------------------------

class FakeEngine:
    """A translator that copies its input: enough for the fingerprint and for a gloss, with no engine at all."""

    def __init__(self, source: str, target: str, version: str) -> None:
        from polyalign.translate.base import EngineInfo

        self.source, self.target, self.info = source, target, EngineInfo("fake", f"fake-{source}_{target}", version)

    def translate(self, sentences):
        return list(sentences)


def installed_engine(monkeypatch, version: str | None) -> None:
    """As if a (fake) engine of ``version`` translated every pair; None: as if none were installed."""
    from polyalign.translate import engines
    from polyalign.translate.base import TranslationError

    def choose(source, target, engine=None, cache=True):
        if version is None:
            raise TranslationError(f"nothing translates {source}→{target} here")
        return FakeEngine(source, target, version)

    monkeypatch.setattr(engines, "choose", choose)


def test_installing_or_upgrading_a_translation_engine_redoes_the_documents(remembering, tmp_path, monkeypatch):
    folder, out = tmp_path / "in", tmp_path / "out"
    folder.mkdir()
    for name in ["ojo.es.txt", "ojo.en.txt"]:
        shutil.copy(SAMPLES / name, folder / name)
    settings = batch.Settings()  # translate where an engine is installed

    def status(version):
        installed_engine(monkeypatch, version)
        summary = batch.run_batch(jobs_of(folder), settings, out, encoder=remembering)
        return summary.outcomes[0].status, summary.outcomes[0].pairs[0]["translation"]

    assert status(None) == ("done", None)
    assert status(None) == ("skipped", None)
    assert status("1.0") == ("done", "fake fake-es_en")  # installed since: aligned again, with a gloss
    assert status("1.0") == ("skipped", "fake fake-es_en")
    assert status("1.1") == ("done", "fake fake-es_en")  # a new version of the package
    assert status(None) == ("done", None)  # removed
    assert status(None)[0] == "skipped"
    job = jobs_of(folder)[0]
    assert batch.translation_engines(job, batch.Settings(translate=False)) == {}


def test_a_document_that_fails_after_a_good_run_has_its_old_outputs_marked_stale(reference, remembering, tmp_path):
    folder, out, _ = reference
    shutil.copytree(folder, tmp_path / "in")
    shutil.copytree(out, tmp_path / "out")
    old = (tmp_path / "out" / "vraem.xml").read_bytes()
    (tmp_path / "in" / "vraem.en.txt").write_bytes(bytes(range(256)) * 8)  # broken: now binary

    for attempt in ("failed now", "failed for good, reported again"):
        summary = run(tmp_path / "in", tmp_path / "out", remembering)
        written = json.loads((tmp_path / "out" / batch.SUMMARY).read_text())
        vraem = by_id(written)["vraem"]
        assert vraem["status"] == "failed", attempt
        assert vraem["stale"] == ["vraem.xml"] and vraem["stale_since"], attempt
        assert written["stale"] == {"vraem": ["vraem.xml"]}, attempt
        line = next(line for line in summary.lines() if line.startswith("failed: vraem:"))
        assert line.endswith(f"its outputs from {vraem['stale_since']} are stale (kept): vraem.xml"), attempt
        assert (tmp_path / "out" / "vraem.xml").read_bytes() == old  # kept as it was
        assert by_id(written)["binary"]["stale"] == []  # never aligned: nothing of it is stale

    shutil.copy(folder / "vraem.en.txt", tmp_path / "in" / "vraem.en.txt")  # repaired
    written = run(tmp_path / "in", tmp_path / "out", remembering).to_dict()
    assert by_id(written)["vraem"]["status"] == "done" and by_id(written)["vraem"]["stale"] == []
    assert written["stale"] == {}
