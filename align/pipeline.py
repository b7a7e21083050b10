"""Files in, alignments out: reading, language, segmentation, embeddings, alignment, confidence.

The CLI and any other caller go through ``read_version`` and ``align_versions``; each stage meets the
next through the plain types of ``align.document`` and ``align.beads``.
"""
from __future__ import annotations

import codecs
from dataclasses import asdict
from pathlib import Path
from typing import Callable

import numpy as np

from align import languages
from align.aligner import AlignerSettings, Side, align
from align.beads import Alignment, Bead
from align.confidence import Calibration
from align.document import Document
from align.embed import Encoder
from align.segment import segment


class InputError(Exception):
    """A problem with a user's file, reported as one line naming the file."""

    def __init__(self, path: str | Path, problem: str) -> None:
        super().__init__(f"{path}: {problem}")
        self.path, self.problem = str(path), problem


def read_text(path: str | Path) -> str:
    """The file's text, or an InputError saying plainly why it cannot be read as UTF-8 text."""
    path = Path(path)
    if not path.exists():
        raise InputError(path, "no such file")
    if path.is_dir():
        raise InputError(path, "is a folder; give the text files inside it")
    data = path.read_bytes()
    if not data.strip():
        raise InputError(path, "is empty")
    if data.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)) or _looks_utf16(data):
        raise InputError(path, "is UTF-16; polyalign reads UTF-8 (convert it: iconv -f UTF-16 -t UTF-8)")
    if b"\x00" in data:
        raise InputError(path, "is a binary file, not text")
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError as err:
        raise InputError(path, f"is not UTF-8 (byte 0x{data[err.start]:02X} at offset {err.start}); if it is "
                               "Latin-1, convert it: iconv -f LATIN1 -t UTF-8") from None
    if sum(not (c.isprintable() or c.isspace()) for c in text) > max(8, len(text) // 100):
        raise InputError(path, "is a binary file, not text")
    return text


def _looks_utf16(data: bytes) -> bool:
    """UTF-16 without a byte-order mark: every other byte of a Latin-script text is zero."""
    sample = data[:4000]
    return len(sample) >= 4 and (sample[1::2].count(0) > 0.4 * len(sample) / 2
                                 or sample[0::2].count(0) > 0.4 * len(sample) / 2)


def resolve_language(path: str | Path, text: str, given: str | None) -> str:
    """``given``, else the file name's suffix (``vraem.nb.txt``), else offline detection."""
    try:
        if given:
            return languages.normalise_code(given)
        suffix = languages.code_from_filename(path)
        if suffix:
            return languages.normalise_code(suffix)
    except languages.LanguageError as err:
        raise InputError(path, str(err)) from None
    code, certainty = languages.detect(text)
    if certainty < 0.5:
        raise InputError(path, "cannot tell its language; give it with --lang")
    return languages.normalise_code(code)


def read_versions(paths: list[str | Path], langs: list[str | None], *, presplit: bool = False,
                  paragraphs: str = "auto") -> list[Document]:
    """The files as segmented Documents, in order; the first is the pivot."""
    texts = [read_text(path) for path in paths]
    codes = [resolve_language(path, text, lang) for path, text, lang in zip(paths, texts, langs)]
    return [_segmented(path, text, code, name, presplit, paragraphs)
            for path, text, code, name in zip(paths, texts, codes, version_names(codes))]


def _segmented(path, text: str, lang: str, name: str, presplit: bool, paragraphs: str) -> Document:
    doc = segment(text, lang, name, presplit=presplit, paragraphs=paragraphs, source=str(path))
    if not doc.sentences:
        raise InputError(path, "has no sentences")
    return doc


def version_names(langs: list[str]) -> list[str]:
    """Id prefixes for the versions: the language code, numbered when two versions share it (en, en2)."""
    seen: dict[str, int] = {}
    names = []
    for lang in langs:
        seen[lang] = seen.get(lang, 0) + 1
        names.append(lang if seen[lang] == 1 else f"{lang}{seen[lang]}")
    return names


Embedded = tuple[np.ndarray, list[np.ndarray] | None]  # sentence vectors and each sentence's token vectors


def side_of(doc: Document, embedded: Embedded) -> Side:
    sentences = doc.sentences
    vectors, tokens = embedded
    return Side(vectors, np.array([len(s.text) for s in sentences], dtype=float), doc.paragraph_starts,
                texts=[s.text for s in sentences], tokens=tokens)


def align_pair(source: Document, target: Document, source_embedded: Embedded, target_embedded: Embedded,
               *, settings: AlignerSettings, calibration: Calibration, model: str) -> Alignment:
    """The beads between two segmented, embedded versions, each with a calibrated confidence."""
    found = align(side_of(source, source_embedded), side_of(target, target_embedded), settings)
    confidences = calibration.confidence(found)
    src, tgt = source.sentences, target.sentences
    beads = [Bead(tuple(src[i].id for i in b.src), tuple(tgt[j].id for j in b.tgt), b.score, float(c))
             for b, c in zip(found, confidences)]
    return Alignment(source, target, beads, model=model, settings=asdict(settings))


def align_versions(docs: list[Document], encoder: Encoder, *, settings: AlignerSettings | None = None,
                   report: Callable[[str], None] = lambda _: None) -> list[Alignment]:
    """Every version aligned to the first (the pivot); each document is encoded once."""
    settings = settings or AlignerSettings()
    calibration = Calibration.load()
    embedded = {}
    for doc in docs:
        report(f"encoding {doc.source or doc.name}: {len(doc.sentences)} sentences")
        embedded[doc.name] = encoder.encode_with_tokens([s.text for s in doc.sentences])
    pivot = docs[0]
    return [align_pair(pivot, other, embedded[pivot.name], embedded[other.name], settings=settings,
                       calibration=calibration, model=encoder.name) for other in docs[1:]]
