"""Shared by the benchmark scripts: the development gold sets, encoded once and cached on disk.

Every benchmark reads and aligns a gold document the way ``polyalign align --presplit`` does: the documents
come from ``pipeline.read_versions`` (lines stripped, as a user's files are) and are aligned by
``pipeline.align_pair`` (or ``side_of`` + ``aligner.align`` where the raw posteriors are wanted, which is what
``align_pair`` runs). ``tests/test_benchmarks.py`` checks that the beads equal the command's.

Not a test module: pytest never collects this folder's files (they are not named test_*).
"""
from __future__ import annotations

import hashlib
import os
import time
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from polyalign.align.aligner import AlignedBead, AlignerSettings, Side, align
from polyalign.align.confidence import Calibration
from polyalign.align.document import Document
from polyalign.align.e5_onnx import BACKEND
from polyalign.align.evaluate import Counts, IndexBead, read_beads, score_document
from polyalign.align.pipeline import Embedded, align_pair, read_versions, side_of

EVAL_ROOT = Path(os.environ.get("POLYALIGN_EVAL", Path(__file__).resolve().parents[3] / "shared" / "eval"))
CACHE = Path(os.environ.get("POLYALIGN_BENCH_CACHE", Path.home() / ".cache" / "polyalign" / "bench"))


@dataclass
class GoldDocument:
    set_name: str
    name: str
    src: list[str]
    tgt: list[str]
    gold: list[IndexBead]
    folder: Path | None = None  # where src.txt and tgt.txt are; None for a document built in memory
    langs: tuple[str, str] = ("und", "und")
    weaken: float = 0.0  # noise added to every vector (the "weak embeddings" stress set); 0: none
    _docs: tuple[Document, Document] | None = field(default=None, repr=False)

    @property
    def documents(self) -> tuple[Document, Document]:
        """Source and target as ``polyalign align --presplit`` reads them."""
        if self._docs is None:
            if self.folder is not None:
                paths = [self.folder / "src.txt", self.folder / "tgt.txt"]
                src, tgt = read_versions(paths, list(self.langs), presplit=True)
            else:
                src, tgt = documents_of(self.src, self.tgt, self.langs)
            for doc, lines in ((src, self.src), (tgt, self.tgt)):
                if len(doc.sentences) != len(lines):
                    raise ValueError(f"{self.set_name}/{self.name}: {len(doc.sentences)} sentences read, "
                                     f"{len(lines)} lines in the gold's file")
            self._docs = (src, tgt)
        return self._docs


def documents_of(src: list[str], tgt: list[str], langs: tuple[str, str]) -> tuple[Document, Document]:
    """Documents for lines made in memory (the stress sets), through the same segmenter as a presplit file."""
    from polyalign.align.pipeline import _segmented, version_names

    names = version_names(list(langs))
    return tuple(_segmented(f"<{name}>", "\n".join(lines) + "\n", lang, name, True, "auto")
                 for lines, lang, name in zip((src, tgt), langs, names))  # type: ignore[return-value]


def set_languages(folder: Path) -> tuple[str, str]:
    """The pair a set's README names: ``**Language pair:** de -> fr``."""
    readme = folder / "README.md"
    if readme.exists():
        for line in readme.read_text(encoding="utf-8").splitlines():
            if "Language pair:" in line:
                pair = line.split("Language pair:")[1].strip(" *")
                src, tgt = (part.strip(" *") for part in pair.split("->"))
                return src, tgt
    return "und", "und"


def read_lines(path: Path) -> list[str]:
    lines = path.read_text(encoding="utf-8").split("\n")
    return lines[:-1] if lines and lines[-1] == "" else lines


def gold_sets(root: Path = EVAL_ROOT) -> dict[str, list[GoldDocument]]:
    """Every ``<set>/<doc>/{src,tgt,gold}.txt`` under ``root``, by set."""
    sets: dict[str, list[GoldDocument]] = {}
    for gold in sorted(root.glob("*/*/gold.txt")):
        doc = gold.parent
        sets.setdefault(doc.parent.name, []).append(
            GoldDocument(doc.parent.name, doc.name, read_lines(doc / "src.txt"), read_lines(doc / "tgt.txt"),
                         read_beads(gold), doc, set_languages(doc.parent)))
    return sets


CACHE_FORMAT = "2"  # 2: the query prompt, token vectors kept


@dataclass
class CachedEncoder:
    """The project's Encoder behind a disk cache of whole documents, so that tuning runs re-encode nothing.
    ``calls`` counts only texts that really went through the model."""

    model: str | None = None
    prompt: str | None = None  # None: the prompt the Encoder chooses (query: for e5); "" for none at all
    backend: str | None = None  # the default model's: "onnx" (the quantised graph, the default) or "torch" (float32); see embed
    calls: int = 0
    seconds: float = 0.0
    span_texts: int = 0  # spans asked for as text (``encode``), whether the disk had them or not
    _encoder: object = field(default=None, repr=False)
    _known: dict = field(default_factory=dict, repr=False)  # text → (vector, tokens), from every document read

    @property
    def name(self) -> str:
        from polyalign.align.e5 import DEFAULT_MODEL

        return self.model or DEFAULT_MODEL

    @property
    def float32(self) -> bool:
        """Whether the model runs on sentence-transformers in float32 (any model but the default one, or the
        default one on its old path)."""
        from polyalign.align.embed import chosen_backend

        return self.model is not None or chosen_backend(self.backend) == "torch"

    def remember(self, texts: list[str], vectors: np.ndarray, tokens: list[np.ndarray] | None) -> None:
        """Keep each sentence's vectors, so that a document made of known sentences needs no encoding."""
        for k, t in enumerate(texts):
            self._known.setdefault(t, (vectors[k], tokens[k] if tokens is not None else None))

    def encode(self, texts: list[str]) -> np.ndarray:
        """Sentence vectors alone, for the spans the aligner encodes as text (``AlignerSettings.span_threshold``):
        each text kept on disk by itself, since which spans are asked for changes with the settings.
        ``span_texts`` counts every text asked for, found on disk or not: the real encoder's cost."""
        from polyalign.align.e5 import DEFAULT_MODEL

        self.span_texts += len(texts)
        folder = CACHE / "texts"
        out, missing = [], []
        for t in texts:
            backend = [] if self.float32 else [f"backend={BACKEND}"]  # as for whole documents
            key = hashlib.sha1(("\n".join([CACHE_FORMAT, self.model or DEFAULT_MODEL, self.prompt or "", *backend, t])
                                ).encode())
            path = folder / f"{key.hexdigest()}.npy"
            if t in self._known:
                out.append(self._known[t][0])
            elif path.exists():
                out.append(np.load(path))
            else:
                out.append(None)
                missing.append((len(out) - 1, t, path))
        if missing:
            vectors, _ = self._model_encode([t for _, t, _ in missing], tokens=False)
            folder.mkdir(parents=True, exist_ok=True)
            for (k, _, path), vector in zip(missing, vectors):
                out[k] = vector
                partial = path.with_suffix(".partial.npy")
                np.save(partial, vector)
                partial.replace(path)
        return np.stack(out) if out else np.zeros((0, 0))

    def _model_encode(self, texts: list[str], tokens: bool = True) -> tuple[np.ndarray, list[np.ndarray] | None]:
        if self._encoder is None:
            from polyalign.align.embed import Encoder
            # no embedding cache: this class is the cache, and the product's would hide what encoding costs
            self._encoder = Encoder(self.model, cache=False, backend=self.backend)
            if self.prompt is not None:
                self._encoder.prompt = self.prompt
        start = time.perf_counter()
        out = self._encoder.encode_with_tokens(texts) if tokens else (self._encoder.encode(texts), None)
        self.seconds += time.perf_counter() - start
        self.calls += len(texts)
        return out

    def encode_with_tokens(self, texts: list[str]) -> tuple[np.ndarray, list[np.ndarray] | None]:
        from polyalign.align.e5 import DEFAULT_MODEL

        prompt = [] if self.prompt is None else [f"prompt={self.prompt}"]
        backend = [] if self.float32 else [f"backend={BACKEND}"]  # float32 keys are those of before the fast path
        key = hashlib.sha1(("\n".join([CACHE_FORMAT, self.model or DEFAULT_MODEL, *prompt, *backend, *texts])
                            ).encode()).hexdigest()
        path = CACHE / f"{key}.npz"
        if path.exists():
            with np.load(path) as stored:  # each read of stored[...] would decompress the array again
                vectors = stored["vectors"]
                tokens = np.split(stored["tokens"], stored["ends"][:-1]) if "tokens" in stored else None
            self.remember(texts, vectors, tokens)
            return vectors, tokens
        missing = [t for t in dict.fromkeys(texts) if t not in self._known]
        if missing:  # only sentences no document read so far had (a stress set re-uses its base set's)
            new_vectors, new_tokens = self._model_encode(missing)
            self.remember(missing, new_vectors, new_tokens)
        vectors = np.stack([self._known[t][0] for t in texts])
        tokens = None if self._known[texts[0]][1] is None else [self._known[t][1] for t in texts]
        CACHE.mkdir(parents=True, exist_ok=True)
        partial = path.with_suffix(".partial.npz")
        if tokens is None:  # a model without token vectors
            np.savez(partial, vectors=vectors)
        else:
            np.savez(partial, vectors=vectors, tokens=np.vstack(tokens), ends=np.cumsum([len(t) for t in tokens]))
        partial.replace(path)
        return vectors, tokens


def embedded(encoder, doc: Document) -> Embedded:
    """A document's sentence and token vectors, as ``pipeline.align_versions`` asks the encoder for them."""
    return encoder.encode_with_tokens([s.text for s in doc.sentences])


def embedded_pair(doc: GoldDocument, encoder) -> tuple[Embedded, Embedded]:
    """Both sides' vectors; for a weakened document, with seeded noise (``stress.weakened``)."""
    pair = tuple(embedded(encoder, d) for d in doc.documents)
    if doc.weaken:
        from stress import weakened
        pair = tuple(weakened(e, doc.weaken, seed) for seed, e in enumerate(pair))
    return pair  # type: ignore[return-value]


def span_encoder(doc: GoldDocument, encoder):
    """What ``align`` is given to encode spans: the encoder's ``encode``, and for a weakened document the same
    noise on top as its sentences got (``stress.weakened_like``)."""
    if not doc.weaken:
        return encoder.encode
    from stress import weakened_like

    reference = np.vstack([embedded(encoder, d)[0] for d in doc.documents])
    return lambda texts: weakened_like(encoder.encode(texts), reference, doc.weaken, texts)


def gold_sides(doc: GoldDocument, encoder) -> tuple[Side, Side]:
    """The aligner's two sides, built by ``pipeline.side_of`` as ``align_pair`` builds them."""
    return tuple(side_of(d, e) for d, e in zip(doc.documents, embedded_pair(doc, encoder)))  # type: ignore


def aligned(doc: GoldDocument, encoder, settings: AlignerSettings = AlignerSettings(),
            sides: tuple[Side, Side] | None = None) -> list[AlignedBead]:
    """The raw beads (score, posterior) that ``align_pair`` turns into the command's beads."""
    return align(*(sides or gold_sides(doc, encoder)), settings, encode=span_encoder(doc, encoder))


def command_beads(doc: GoldDocument, encoder, settings: AlignerSettings = AlignerSettings(),
                  calibration: Calibration | None = None) -> list[IndexBead]:
    """The beads ``polyalign align --presplit --no-translate -f beads`` writes for the document."""
    src, tgt = doc.documents
    alignment = align_pair(src, tgt, *embedded_pair(doc, encoder), settings=settings,
                           calibration=calibration or Calibration.load(), model=encoder.name,
                           encode=span_encoder(doc, encoder))
    return index_beads(alignment)


def index_beads(alignment) -> list[IndexBead]:
    si, ti = alignment.source.index, alignment.target.index
    return [IndexBead(tuple(si[i] for i in b.source), tuple(ti[j] for j in b.target)) for b in alignment.beads]


@dataclass
class Measure:
    """What a benchmark reports for a set: bead counts for strict/lax F1, null beads, calibration."""

    counts: Counts = field(default_factory=lambda: Counts())
    null_found: int = 0  # null beads the aligner made
    null_right: int = 0  # ... that the gold has
    null_gold: int = 0  # null beads in the gold
    null_gold_found: int = 0  # ... that the aligner made
    # the same counted in sentences left unaligned, whatever the beads: gold files differ in whether a run of them
    # is one null bead (transread-en-fr: 2-0 … 8-0) or one per sentence (textberg-dev), as the aligner makes them
    unaligned_found: int = 0
    unaligned_right: int = 0
    unaligned_gold: int = 0
    confidences: list[float] = field(default_factory=list)
    right: list[bool] = field(default_factory=list)
    sentences: int = 0
    calls: int = 0
    span_texts: int = 0  # spans encoded as text, found in the benchmark's cache or not
    encode_seconds: float = 0.0
    align_seconds: float = 0.0

    def add(self, gold: list[IndexBead], found: list[IndexBead], confidences=None) -> None:
        self.counts = self.counts + score_document(gold, found)
        gold_set = {(tuple(b.source), tuple(b.target)) for b in gold}
        found_set = {(tuple(b.source), tuple(b.target)) for b in found}
        null = lambda beads: {b for b in beads if not (b[0] and b[1])}  # noqa: E731
        self.null_found += len(null(found_set))
        self.null_right += len(null(found_set) & gold_set)
        self.null_gold += len(null(gold_set))
        self.null_gold_found += len(null(gold_set) & found_set)
        alone = lambda beads: {(side, k) for b in beads if not (b[0] and b[1])  # noqa: E731
                               for side, ids in (("src", b[0]), ("tgt", b[1])) for k in ids}
        self.unaligned_found += len(alone(found_set))
        self.unaligned_right += len(alone(found_set) & alone(gold_set))
        self.unaligned_gold += len(alone(gold_set))
        if confidences is not None:
            self.confidences += list(confidences)
            self.right += [(tuple(b.source), tuple(b.target)) in gold_set for b in found]

    @property
    def ece(self) -> float:
        return expected_calibration_error(self.confidences, self.right)

    def row(self) -> dict[str, float]:
        s = self.counts.score
        ratio = lambda a, b: a / b if b else float("nan")  # noqa: E731
        return {"strict F1": s.strict.f1, "lax F1": s.lax.f1, "strict P": s.strict.precision,
                "strict R": s.strict.recall, "null P": ratio(self.null_right, self.null_found),
                "null R": ratio(self.null_gold_found, self.null_gold),
                "unaligned P": ratio(self.unaligned_right, self.unaligned_found),
                "unaligned R": ratio(self.unaligned_right, self.unaligned_gold), "ECE": self.ece,
                "calls/sent": ratio(self.calls, self.sentences),
                "span calls/sent": ratio(self.span_texts, self.sentences),
                "encode s": self.encode_seconds,
                "align s": self.align_seconds}


def expected_calibration_error(confidences, right, bins: int = 10) -> float:
    """Mean |confidence − share right| over equal-width confidence bins, weighted by the beads in each."""
    c, r = np.asarray(confidences, dtype=float), np.asarray(right, dtype=float)
    if not len(c):
        return float("nan")
    band = np.clip((c * bins).astype(int), 0, bins - 1)
    return float(sum(abs(c[band == k].mean() - r[band == k].mean()) * (band == k).sum()
                     for k in range(bins) if (band == k).any()) / len(c))


def ece_by_chance(confidences, draws: int = 500, seed: int = 0) -> tuple[float, float]:
    """The ECE a perfectly calibrated confidence would still show on these beads: each bead's rightness drawn as a
    coin flip with its confidence as the odds. Mean and 95th percentile over ``draws`` (seeded). On a few hundred
    beads this is not small: it is the floor an ECE target for the set sits on."""
    c = np.asarray(confidences, dtype=float)
    rng = np.random.default_rng(seed)
    values = [expected_calibration_error(c, rng.random(len(c)) < c) for _ in range(draws)]
    return float(np.mean(values)), float(np.quantile(values, 0.95))


def measure(docs: list[GoldDocument], encoder, settings: AlignerSettings = AlignerSettings(),
            calibration: Calibration | None = None) -> Measure:
    """Every document aligned as the command aligns it, scored against its gold."""
    out = Measure()
    calibration = calibration or Calibration.load()
    calls, seconds, spans = encoder.calls, encoder.seconds, encoder.span_texts
    for doc in docs:
        src, tgt = doc.documents
        pair = embedded_pair(doc, encoder)
        start = time.perf_counter()
        alignment = align_pair(src, tgt, *pair, settings=settings, calibration=calibration, model=encoder.name,
                               encode=span_encoder(doc, encoder))
        out.align_seconds += time.perf_counter() - start
        out.add(doc.gold, index_beads(alignment), [b.confidence for b in alignment.beads])
        out.sentences += len(src.sentences) + len(tgt.sentences)
    out.calls, out.encode_seconds = encoder.calls - calls, encoder.seconds - seconds
    out.span_texts = encoder.span_texts - spans
    return out
