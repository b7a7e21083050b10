"""Files in, alignments out: reading, language, segmentation, embeddings, alignment, confidence.

The CLI and any other caller go through ``read_inputs`` (or ``read_versions``) and ``align_versions``; each
stage meets the next through the plain types of ``align.document`` and ``align.beads``.
"""
from __future__ import annotations

from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any, Callable

import numpy as np

from polyalign.align.aligner import AlignerSettings, Side, SpanEncoder, align, align_around
from polyalign.align.beads import Alignment, Bead, Gloss, Status
from polyalign.align.confidence import Calibration
from polyalign.align.document import Document
from polyalign.align.embed import Encoder
from polyalign.align.inputs import InputError, read_text, resolve_language
from polyalign.align.segment import segment
from polyalign.tei.ingest import check_distinct_ids, looks_like_xml, read_tei_document
from polyalign.tei.reader import CorpusError, is_parallel_corpus, read_corpus


@dataclass
class Versions:
    """What ``align`` starts from: the documents (the pivot first) and, when the first file is a parallel TEI
    that polyalign wrote, what it already knew."""

    documents: list[Document]
    earlier: dict[str, Alignment] = field(default_factory=dict)  # other version's name → its earlier alignment
    header: Any = None  # that TEI's corpus header, carried into the next write (see tei.writer.build_tei)
    joint: Any = None  # that TEI's joint alignment (align.joint.JointAlignment), when it holds one


def read_versions(paths: list[str | Path], langs: list[str | None], *, presplit: bool = False,
                  paragraphs: str = "auto") -> list[Document]:
    """The files as segmented Documents, in order; the first is the pivot."""
    return read_inputs(paths, langs, presplit=presplit, paragraphs=paragraphs).documents


def read_inputs(paths: list[str | Path], langs: list[str | None], *, presplit: bool = False,
                paragraphs: str = "auto") -> Versions:
    """The files as segmented Documents, in order; the first is the pivot.

    The first file may be a TEI corpus polyalign wrote: its versions come first, in its order, and its
    alignments are kept as ``earlier`` (for the links a reviewer confirmed). Other files are plain text,
    or TEI documents from elsewhere, whose markup is kept and only gains ``s`` elements.
    """
    versions = Versions([])
    if paths and is_parallel_corpus(paths[0]):
        try:
            corpus = read_corpus(paths[0])
        except CorpusError as err:
            raise InputError(paths[0], str(err)) from None
        versions = Versions(corpus.documents, {a.target.name: a for a in corpus.alignments}, corpus.header,
                            corpus.joint)
        paths, langs = paths[1:], langs[1:]
    taken = [d.name for d in versions.documents]
    for path, lang in zip(paths, langs):
        if is_parallel_corpus(path):
            raise InputError(path, "is a polyalign TEI corpus; only the first file may be one (it holds the pivot)")
        versions.documents.append(_read_version(path, lang, taken, presplit, paragraphs))
        taken.append(versions.documents[-1].name)
    check_distinct_ids(versions.documents)
    return versions


def _read_version(path: str | Path, lang: str | None, taken: list[str], presplit: bool,
                  paragraphs: str) -> Document:
    if looks_like_xml(path):  # TEI from elsewhere: its markup is kept, s elements are added
        return read_tei_document(path, lang, lambda code: version_names([*taken, code])[-1])
    text = read_text(path)
    code = resolve_language(path, text, lang)
    return _segmented(path, text, code, version_names([*taken, code])[-1], presplit, paragraphs)


def _segmented(path, text: str, lang: str, name: str, presplit: bool, paragraphs: str) -> Document:
    doc = segment(text, lang, name, presplit=presplit, paragraphs=paragraphs, source=str(path))
    if not doc.sentences:
        raise InputError(path, "has no sentences")
    return doc


def version_names(langs: list[str]) -> list[str]:
    """Id prefixes for the versions: the language code, numbered when two versions share it (en, en2)."""
    names: list[str] = []
    for lang in langs:
        name, number = lang, 1
        while name in names:
            number += 1
            name = f"{lang}{number}"
        names.append(name)
    return names


Embedded = tuple[np.ndarray, list[np.ndarray] | None]  # sentence vectors and each sentence's token vectors


Encoding = Callable[[str, int], Callable[[int], None]]
"""Progress of encoding, for a display: called with what is encoded (a file's name) and how many sentences it
has, it returns the ``embed.Done`` callback that the encoder tells of the sentences done."""


GLOSS_WEIGHT = 0.5  # share of the similarity that comes from a machine translation, when there is one


def side_of(doc: Document, embedded: Embedded, gloss: np.ndarray | None = None, *,
            glossed: bool = False) -> Side:
    """The aligner's view of a document. ``gloss`` (vectors of its sentences machine-translated into the
    pivot's language) or ``glossed`` (for the pivot, when the other side has a gloss) widen every vector so
    that one dot product gives (1 − w) × the cross-lingual similarity + w × the similarity of the pivot to
    the translation (Bleualign's idea, as a second opinion rather than a replacement)."""
    sentences = doc.sentences
    vectors, tokens = embedded
    if gloss is not None or glossed:
        second = vectors if gloss is None else gloss
        vectors = np.hstack([np.sqrt(1 - GLOSS_WEIGHT) * vectors, np.sqrt(GLOSS_WEIGHT) * second])
    return Side(vectors, np.array([len(s.text) for s in sentences], dtype=float), doc.paragraph_starts,
                texts=[s.text for s in sentences], tokens=tokens)


def align_pair(source: Document, target: Document, source_embedded: Embedded, target_embedded: Embedded,
               *, settings: AlignerSettings, calibration: Calibration, model: str,
               earlier: Alignment | None = None, gloss: tuple[Gloss, np.ndarray] | None = None,
               encode: SpanEncoder | None = None) -> Alignment:
    """The beads between two segmented, embedded versions, each with a calibrated confidence.

    With an ``earlier`` alignment of the same two documents, its confirmed beads are kept exactly as they
    are and the aligner runs between them; a bead a reviewer rejected keeps its verdict if the aligner
    makes it again. ``encode``: the encoder of the sentence vectors, for the spans the aligner doubts
    (``AlignerSettings.span_threshold``); not with a gloss, whose vectors are two models' in one.
    """
    src_side = side_of(source, source_embedded, glossed=gloss is not None)
    tgt_side = side_of(target, target_embedded, gloss[1] if gloss else None)
    kept = [(bead, ranges) for bead, ranges in _bead_ranges(earlier) if bead.status is Status.CONFIRMED] \
        if earlier else []
    if kept:
        found = align_around(src_side, tgt_side, [ranges for _, ranges in kept], settings,
                             encode=None if gloss else encode)
    else:
        found = align(src_side, tgt_side, settings, encode=None if gloss else encode)
    confidences = calibration.confidence(found)
    judged = {(b.source, b.target): b for b in earlier.beads if b.status is not Status.AUTO} if earlier else {}
    src, tgt = source.sentences, target.sentences
    beads = []
    for b, confidence in zip(found, confidences):
        ids = (tuple(src[i].id for i in b.src), tuple(tgt[j].id for j in b.tgt))
        beads.append(judged[ids] if ids in judged else Bead(*ids, b.score, float(confidence)))
    return Alignment(source, target, beads, model=model, settings=asdict(settings), gloss=gloss[0] if gloss else None)


def _bead_ranges(alignment: Alignment) -> list[tuple[Bead, tuple[tuple[int, int], tuple[int, int]]]]:
    """Each bead with its sentence positions as half-open ranges; the empty side of a null bead sits where
    the beads before it end."""
    si, ti = alignment.source.index, alignment.target.index
    out, i, j = [], 0, 0
    for bead in alignment.beads:
        i0, i1 = (si[bead.source[0]], si[bead.source[-1]] + 1) if bead.source else (i, i)
        j0, j1 = (ti[bead.target[0]], ti[bead.target[-1]] + 1) if bead.target else (j, j)
        out.append((bead, ((i0, i1), (j0, j1))))
        i, j = max(i, i1), max(j, j1)
    return out


def align_versions(docs: list[Document], encoder: Encoder, *, settings: AlignerSettings | None = None,
                   earlier: dict[str, Alignment] | None = None, translators: dict[str, Any] | None = None,
                   report: Callable[[str], None] = lambda _: None,
                   encoding: Encoding | None = None) -> list[Alignment]:
    """Every version aligned to the first (the pivot); each document is encoded once. ``earlier`` holds
    alignments read back from TEI, by the other version's name: their confirmed beads are kept.
    ``translators`` (by the other version's name; see ``translate.base.Translator``) translate a version
    into the pivot's language: the translation is evidence for the aligner and goes into the alignment.
    ``encoding``: for a progress display, see ``Encoding``; this module draws nothing itself."""
    earlier, translators = earlier or {}, translators or {}
    settings = settings or AlignerSettings()
    calibration = Calibration.load()
    embedded = {}
    for doc in docs:
        report(f"encoding {doc.source or doc.name}: {len(doc.sentences)} sentences")
        texts = [s.text for s in doc.sentences]
        embedded[doc.name] = encode_with_progress(encoder.encode_with_tokens, texts, doc.source or doc.name, encoding)
    pivot = docs[0]
    glosses = {}
    for other in docs[1:]:
        before = earlier.get(other.name)
        if other.name in translators:
            glosses[other.name] = gloss_of(other, translators[other.name], encoder, report, encoding)
        elif before is not None and before.gloss is not None:  # read back from TEI: still evidence
            texts = [before.gloss.texts.get(s.id, s.text) for s in other.sentences]
            glosses[other.name] = before.gloss, encoder.encode(texts)
    return [align_pair(pivot, other, embedded[pivot.name], embedded[other.name], settings=settings,
                       calibration=calibration, model=encoder.name, earlier=earlier.get(other.name),
                       gloss=glosses.get(other.name), encode=encoder.encode)
            for other in docs[1:]]


def gloss_of(doc: Document, translator: Any, encoder: Encoder, report: Callable[[str], None] = lambda _: None,
             encoding: Encoding | None = None) -> tuple[Gloss, np.ndarray]:
    """``doc`` machine-translated sentence by sentence, and the translations' sentence vectors."""
    info = translator.info
    report(f"translating {doc.source or doc.name} into {translator.target} with {info}")
    texts = translator.translate([s.text for s in doc.sentences])
    gloss = Gloss(translator.target, info.engine, info.model, info.version,
                  {s.id: t for s, t in zip(doc.sentences, texts)})
    return gloss, encode_with_progress(encoder.encode, texts, f"{doc.source or doc.name} (translation)", encoding)


def encode_with_progress(encode: Callable[..., Any], texts: list[str], label: str, encoding: Encoding | None) -> Any:
    """``encode(texts)``, telling ``encoding`` how it goes when there is one (encoders without progress, such
    as the tests' and benchmarks' stand-ins, are called as before)."""
    if encoding is None:
        return encode(texts)
    return encode(texts, done=encoding(label, len(texts)))


def choose_translators(pivot_lang: str, langs: dict[str, str], *, wanted: bool | None = None,
                       engine: str | None = None, chosen: dict[tuple[str, str, str | None], Any] | None = None
                       ) -> tuple[dict[str, Any], dict[str, str]]:
    """A translator into the pivot's language for each other version (``langs``: name → language) that has an
    engine installed, and, for those that have none, why: the one rule that ``align`` and ``batch`` share.

    ``wanted`` False: no translation at all; None or True: whatever is installed (the caller decides whether a
    missing engine is an error, as True asks). A version in the pivot's language needs none. ``chosen`` keeps
    the translators (and reasons) made so far by (from, to, engine) for reuse, since loading an Argos model
    costs seconds: a batch worker passes the same dict for every document."""
    from polyalign.translate.base import TranslationError
    from polyalign.translate.engines import choose

    found: dict[str, Any] = {}
    missing: dict[str, str] = {}
    if wanted is False:
        return found, missing
    chosen = {} if chosen is None else chosen
    for name, lang in langs.items():
        if lang == pivot_lang:
            continue
        key = (lang, pivot_lang, engine)
        if key not in chosen:
            try:
                chosen[key] = choose(*key)
            except TranslationError as err:
                chosen[key] = str(err)
        if isinstance(chosen[key], str):
            missing[name] = chosen[key]
        else:
            found[name] = chosen[key]
    return found, missing
