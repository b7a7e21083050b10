"""What the TEI header says about the corpus and each version: title, author and source.

From a small TOML file (``--metadata``), then from ``--title``/``--author``/``--source``, which win::

    title = "The VRAEM massacre in two languages"   # the corpus
    source = "Torggata Blad, 2021"

    [en]                                            # a version, by its name or language
    title = "A politicized massacre in Peru's VRAEM"
    author = "Anna Milena Kohte"

    [nb]
    title = "En politisert massakre i Perus VRAEM"
    author = ["Anna Milena Kohte", "polyalign's developers (translation)"]

An option's value is for the corpus, or for one version when it starts with the version's name and a
colon: ``--title "nb:En politisert massakre"``.
"""
from __future__ import annotations

import tomllib
from dataclasses import dataclass, field
from pathlib import Path

from polyalign.align.document import Document

FIELDS = ("title", "author", "source")


class MetadataError(ValueError):
    """A metadata file or option that cannot be used; the message names it and the problem."""


@dataclass
class Metadata:
    corpus: dict[str, str] = field(default_factory=dict)
    versions: dict[str, dict[str, str]] = field(default_factory=dict)  # by version name or language code

    @classmethod
    def read(cls, path: str | Path) -> "Metadata":
        try:
            data = tomllib.loads(Path(path).read_text(encoding="utf-8"))
        except (OSError, UnicodeDecodeError) as err:
            raise MetadataError(f"{path}: cannot be read ({err})") from None
        except tomllib.TOMLDecodeError as err:
            raise MetadataError(f"{path}: is not valid TOML ({err})") from None
        metadata = cls()
        for key, value in data.items():
            if isinstance(value, dict):
                metadata.versions[key] = {k: _field(path, f"[{key}] {k}", k, v) for k, v in value.items()}
            else:
                metadata.corpus[key] = _field(path, key, key, value)
        return metadata

    def add_options(self, options: dict[str, tuple[str, ...]], names: list[str]) -> None:
        """``--title`` and the like, given as ``{"title": ("…", "nb:…")}``; ``names`` are the versions'."""
        given: dict[str | None, dict[str, str]] = {}  # None: the corpus
        for key, values in options.items():
            for value in values:
                name, _, rest = value.partition(":")
                target, value = (name, rest.strip()) if rest and name in names else (None, value)
                entries = given.setdefault(target, {})
                entries[key] = f"{entries[key]}; {value}" if key == "author" and key in entries else value
        for target, entries in given.items():
            (self.corpus if target is None else self.versions.setdefault(target, {})).update(entries)

    def apply(self, documents: list[Document]) -> None:
        """Each version's entries (by name, else by language) into its Document's metadata."""
        known = {d.name for d in documents} | {d.lang for d in documents}
        unknown = sorted(set(self.versions) - known)
        if unknown:
            raise MetadataError(f"metadata for {unknown[0]!r}, which is not one of the versions {sorted(known)}")
        for doc in documents:
            doc.metadata.update(self.versions.get(doc.lang, {}))
            if doc.name != doc.lang:
                doc.metadata.update(self.versions.get(doc.name, {}))


def _field(path: str | Path, where: str, key: str, value: object) -> str:
    if key not in FIELDS:
        raise MetadataError(f"{path}: {where!r} is not one of {', '.join(FIELDS)}")
    if key == "author" and isinstance(value, list) and all(isinstance(v, str) for v in value):
        return "; ".join(value)
    if not isinstance(value, str):
        raise MetadataError(f"{path}: {where} must be text")
    return value

