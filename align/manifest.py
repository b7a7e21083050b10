"""What a batch aligns: the documents of a folder or a manifest, each with its versions, the pivot first.

**A folder** groups its ``.txt`` and ``.xml`` files by name: ``vraem.nb.txt``, ``vraem.en.txt`` and
``vraem.es.xml`` are the document ``vraem`` in three languages (the language code is the suffix before the
extension, as for ``polyalign align``). Files in subfolders are documents named by their path
(``news/vraem``); hidden files and folders, and the output folder, are passed over (when the output folder
is this one, what earlier batches wrote into it). A ``vraem.toml`` beside the texts holds the header
metadata, in the format of ``align --metadata`` (samples/vraem.toml).

**A manifest** is a CSV file, one row per version: the columns ``id``, ``path`` and ``language`` and, for
the TEI header, ``title``, ``author`` and ``source`` of that version (several authors: separate them with
``;``). Paths are relative to the manifest's folder; a blank language is read from the file name::

    id,path,language,title,author
    vraem,texts/vraem-bokmal.txt,nb,En politisert massakre i Perus VRAEM,Anna Milena Kohte
    vraem,texts/vraem-english.txt,en,A politicized massacre in Peru's VRAEM,Anna Milena Kohte

**The pivot** is the first of the ``--pivot`` languages that a document has; without ``--pivot``, the
language that the most documents have (ties: alphabetical), so a mostly Norwegian archive with a few
Spanish-English pairs still aligns everything it can, predictably.

What is wrong with one document (a single version, no version in the pivot's language, a file name without a
language code) does not stop the batch: the Job carries it as ``problem`` and the batch reports that document
as failed. A manifest that cannot be read at all raises ManifestError, before anything is aligned.
"""
from __future__ import annotations

import csv
import io
import os
from collections import Counter
from dataclasses import dataclass, replace
from pathlib import Path, PurePosixPath
from typing import Collection, Sequence

from polyalign.align import languages

TEXT_SUFFIXES = (".txt", ".xml")
REQUIRED_COLUMNS = ("id", "path", "language")
METADATA_COLUMNS = ("title", "author", "source")


class ManifestError(ValueError):
    """A manifest that cannot be used at all; the message names the file (and line) and the problem."""


@dataclass(frozen=True)
class Version:
    path: Path  # absolute, so that any worker (on a Dask cluster too) finds it whatever its working folder
    name: str  # the file as the archive names it (relative to the folder or the manifest): messages, TEI header
    lang: str | None  # None only in a Job with a problem
    metadata: tuple[tuple[str, str], ...] = ()  # (field, value) from a manifest row; a tuple keeps it hashable


@dataclass(frozen=True)
class Job:
    """One document of the batch: its versions, the pivot first once ``with_pivot`` has placed it."""

    id: str  # names its outputs: OUTDIR/ID.xml
    versions: tuple[Version, ...]
    metadata_file: Path | None = None  # ID.toml beside a folder's texts
    problem: str | None = None  # why it cannot be aligned; the batch reports it as a failure

    @property
    def languages(self) -> list[str]:
        return [v.lang for v in self.versions if v.lang]


def read_jobs(source: Path, *, exclude: Path | None = None, skip: Collection[Path] = ()) -> list[Job]:
    """The documents of a folder or a manifest (any file: read as CSV), sorted by id."""
    return read_folder(source, exclude=exclude, skip=skip) if source.is_dir() else read_manifest(source)


def read_folder(folder: Path, *, exclude: Path | None = None, skip: Collection[Path] = ()) -> list[Job]:
    """The folder's texts grouped by name; ``exclude`` (the output folder, when inside this one) and ``skip``
    (resolved paths: what earlier batches wrote here, when the output folder is this one) are passed over, so
    that a batch's own outputs never come back as inputs."""
    folder = folder.resolve()
    exclude = exclude.resolve() if exclude is not None else None
    if exclude == folder:
        exclude = None  # outputs beside the inputs: ``skip`` names them
    groups: dict[str, list[Version]] = {}
    problems: dict[str, str] = {}
    for path in sorted(folder.rglob("*")):
        relative = path.relative_to(folder)
        if (path.suffix.lower() not in TEXT_SUFFIXES or any(part.startswith(".") for part in relative.parts)
                or (exclude is not None and path.is_relative_to(exclude)) or path in skip or not path.is_file()):
            continue
        code = languages.code_from_filename(path)
        stem = path.name.split(".")[:-2 if code else -1]
        doc_id = (PurePosixPath(relative.parent.as_posix()) / ".".join(stem)).as_posix()
        name = relative.as_posix()
        lang, problem = _language(name, code)
        if code is None:
            problem = f"{name}: no language code in its name (name the versions like {'.'.join(stem)}.nb.txt)"
        if problem:
            problems.setdefault(doc_id, problem)
        groups.setdefault(doc_id, []).append(Version(path, name, lang))
    jobs = []
    for doc_id, versions in sorted(groups.items()):
        toml = folder / f"{doc_id}.toml"
        jobs.append(Job(doc_id, tuple(versions), toml if toml.is_file() else None, problems.get(doc_id)))
    return jobs


def read_manifest(manifest: Path) -> list[Job]:
    """The documents a manifest lists, sorted by id; the rows of one document keep their order."""
    rows = _manifest_rows(manifest)
    root = manifest.resolve().parent
    groups: dict[str, list[Version]] = {}
    problems: dict[str, str] = {}
    for line, row in rows:
        doc_id, name, given = row["id"], row["path"], row.get("language", "")
        where = f"{manifest}, line {line}"
        if not doc_id or not name:
            raise ManifestError(f"{where}: id and path must not be blank")
        if not _safe_id(doc_id):
            raise ManifestError(f"{where}: the id {doc_id!r} must be a relative name (it names the outputs), "
                                "without '..', a leading '/' or a backslash")
        code = given or languages.code_from_filename(name)
        lang, problem = _language(name, code)
        if code is None:
            problem = f"{name}: no language given (fill in the language column or name the file like x.nb.txt)"
        if problem:
            problems.setdefault(doc_id, problem)
        metadata = tuple((key, row[key]) for key in METADATA_COLUMNS if row.get(key))
        path = Path(os.path.normpath(root / name))
        groups.setdefault(doc_id, []).append(Version(path, name, lang, metadata))
    return [Job(doc_id, tuple(versions), None, problems.get(doc_id)) for doc_id, versions in sorted(groups.items())]


def _manifest_rows(manifest: Path) -> list[tuple[int, dict[str, str]]]:
    """(line number, row) for each row, with lower-cased column names and stripped values."""
    try:
        text = manifest.read_text(encoding="utf-8-sig")
    except (OSError, UnicodeDecodeError) as err:
        raise ManifestError(f"{manifest}: cannot be read as a UTF-8 CSV manifest ({err})") from None
    reader = csv.DictReader(io.StringIO(text))
    columns = [(c or "").strip().lower() for c in reader.fieldnames or []]
    missing = [c for c in REQUIRED_COLUMNS if c not in columns]
    if missing:
        raise ManifestError(f"{manifest}: no {missing[0]!r} column; a manifest has the columns "
                            f"{', '.join(REQUIRED_COLUMNS)} and may have {', '.join(METADATA_COLUMNS)}")
    unknown = [c for c in columns if c not in REQUIRED_COLUMNS + METADATA_COLUMNS]
    if unknown:
        raise ManifestError(f"{manifest}: unknown column {unknown[0]!r}; the columns are "
                            f"{', '.join(REQUIRED_COLUMNS + METADATA_COLUMNS)}")
    return [(reader.line_num, {(k or "").strip().lower(): (v or "").strip() for k, v in row.items() if k})
            for row in reader if any((v or "").strip() for k, v in row.items() if k)]


def _safe_id(doc_id: str) -> bool:
    parts = PurePosixPath(doc_id).parts
    return "\\" not in doc_id and not doc_id.startswith("/") and ".." not in parts and bool(parts)


def _language(name: str, code: str | None) -> tuple[str | None, str | None]:
    """(the normalised code, None) or (None, the problem)."""
    if code is None:
        return None, None
    try:
        return languages.normalise_code(code), None
    except languages.LanguageError as err:
        return None, f"{name}: {err}"


def pivot_languages(jobs: Sequence[Job], given: Sequence[str] = ()) -> list[str]:
    """The pivot languages in order of preference: ``given`` (normalised; a bad code raises LanguageError),
    else the one language that the most documents have, ties broken alphabetically."""
    if given:
        return list(dict.fromkeys(languages.normalise_code(code) for code in given))
    counts = Counter(lang for job in jobs if not job.problem for lang in set(job.languages))
    return [min(counts, key=lambda lang: (-counts[lang], lang))] if counts else []


def with_pivot(job: Job, pivots: Sequence[str]) -> Job:
    """``job`` with its first version in the first pivot language it has moved to the front, the others in
    their order; or with the problem that keeps it from being aligned."""
    if job.problem:
        return job
    if len(job.versions) < 2:
        return replace(job, problem=f"has only {job.versions[0].name}: missing its second language")
    for lang in pivots:
        pivot = next((v for v in job.versions if v.lang == lang), None)
        if pivot is not None:
            return replace(job, versions=(pivot, *(v for v in job.versions if v is not pivot)))
    wanted = " or ".join(pivots) or "the pivot language"
    return replace(job, problem=f"has no version in {wanted} (the pivot); its versions: "
                                f"{', '.join(v.name for v in job.versions)}")
