"""Wall time of every stage of the real pipeline, from files to validated TEI.

    python tests/benchmarks/stages.py

What `polyalign align` does, stage by stage, on the samples and on the development gold sets written out as
plain text (one gold sentence per line, so --presplit keeps the gold's segmentation): reading and
segmenting, encoding (sentence and token vectors in one pass), aligning with confidences, writing TEI, and
validating it against tei_all. The model and the schema are loaded before the clock starts; their one-off
cost is printed apart.
"""
from __future__ import annotations

import tempfile
import time
from pathlib import Path

from common import EVAL_ROOT, gold_sets

from polyalign.align.pipeline import align_versions, read_versions

SAMPLES = Path(__file__).resolve().parents[2] / "samples"
STAGES = ("segment", "encode", "align", "write TEI", "validate")


def inputs(folder: Path) -> list[tuple[str, list[Path], list[str], bool]]:
    """(name, files, languages, presplit) for each sample pair and each gold document."""
    runs = [("vraem nb-en", [SAMPLES / "vraem.nb.txt", SAMPLES / "vraem.en.txt"], ["nb", "en"], False),
            ("ojo es-en", [SAMPLES / "ojo.es.txt", SAMPLES / "ojo.en.txt"], ["es", "en"], False)]
    pairs = {"textberg-dev": ["de", "fr"], "transread-en-fr": ["en", "fr"]}
    for set_name, docs in gold_sets(EVAL_ROOT).items():
        files = []
        for doc in docs:
            for side, lines in (("src", doc.src), ("tgt", doc.tgt)):
                path = folder / f"{set_name}.{doc.name}.{side}.txt"
                path.write_text("\n".join(lines) + "\n", encoding="utf-8")
                files.append(path)
        runs.append((set_name, files, pairs.get(set_name, [None, None]), True))
    return runs


def timed(name: str, files: list[Path], langs: list[str], presplit: bool, encoder, out: Path) -> dict[str, float]:
    """Seconds per stage over all pairs of one input, plus its sentence count and encoder calls."""
    from polyalign.tei.validate import validate
    from polyalign.tei.writer import write_tei

    row = dict.fromkeys((*STAGES, "sentences", "calls"), 0.0)
    for k in range(0, len(files), 2):  # one pair at a time, as the CLI would be called
        clock = time.perf_counter()
        docs = read_versions(files[k:k + 2], langs, presplit=presplit)
        row["segment"] += time.perf_counter() - clock
        clock, encoding, calls = time.perf_counter(), encoder.seconds, encoder.calls
        alignments = align_versions(docs, encoder)
        row["encode"] += encoder.seconds - encoding
        row["align"] += time.perf_counter() - clock - (encoder.seconds - encoding)
        row["calls"] += encoder.calls - calls
        row["sentences"] += sum(len(d.sentences) for d in docs)
        clock = time.perf_counter()
        path = out / f"{name.replace(' ', '_')}.{k}.xml"
        write_tei(alignments, path)
        row["write TEI"] += time.perf_counter() - clock
        clock = time.perf_counter()
        problems = validate(path)
        row["validate"] += time.perf_counter() - clock
        if problems:
            raise SystemExit(f"{path}: does not validate: {problems[0]}")
    return row


class TimedEncoder:
    """The real Encoder, counting the seconds spent inside it."""

    def __init__(self) -> None:
        from polyalign.align.embed import Encoder

        self.inner = Encoder(cache=False)  # every stage timed from cold: the embedding cache would hide encoding
        self.name = self.inner.name
        self.calls = 0
        self.seconds = 0.0

    def encode_with_tokens(self, texts):
        clock = time.perf_counter()
        out = self.inner.encode_with_tokens(texts)
        self.seconds += time.perf_counter() - clock
        self.calls += len(texts)
        return out


def main() -> None:
    from polyalign.tei.validate import load_schema

    clock = time.perf_counter()
    encoder = TimedEncoder()
    print(f"model load: {time.perf_counter() - clock:.1f} s (once per process)")
    clock = time.perf_counter()
    load_schema()
    print(f"tei_all schema compile: {time.perf_counter() - clock:.1f} s (once per process)")
    print(f"{'input':16} {'sents':>6} | " + " ".join(f"{s:>9}" for s in STAGES) + f" | {'calls/sent':>10}")
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        for name, files, langs, presplit in inputs(folder):
            row = timed(name, files, langs, presplit, encoder, folder)
            print(f"{name:16} {int(row['sentences']):6d} | " + " ".join(f"{row[s]:9.2f}" for s in STAGES)
                  + f" | {row['calls'] / row['sentences']:10.2f}")

if __name__ == "__main__":
    main()
