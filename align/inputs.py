"""A user's file as text: the error that names it, the checks that it is UTF-8 text, and its language.

Below both ``align.pipeline`` (plain text) and ``tei.ingest`` (TEI from elsewhere), which read files the same
way and report problems the same way.
"""
from __future__ import annotations

import codecs
from pathlib import Path

from polyalign.align import languages


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
