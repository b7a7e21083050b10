"""``polyalign batch`` at work: documents per minute with 1 and 2 workers, encoder calls with a cold and a
warm embedding cache, and time and peak memory for one pair of 5k / 10k / 20k sentences a side.

Every run is the real command in a subprocess (model loading included), on folders made from the development
sets: the 11 transread novels (en + fr, one sentence per line, ``--presplit``) and textberg-dev (de + fr).
"Encoder calls" are the sentences the model really encoded: the rows a run adds to its embedding cache
(``POLYALIGN_EMBEDDING_CACHE``, a fresh folder per measurement), since the cache stores each encoded text once.
Peak memory is the largest resident size of the run's processes (the workers' included).

    .venv/bin/python tests/benchmarks/batch.py [--sizes 5000 10000 20000]
"""
from __future__ import annotations

import argparse
import json
import os
import shutil
import sqlite3
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from common import gold_sets  # noqa: E402

REPO = Path(__file__).resolve().parents[2]
LANGS = {"transread-en-fr": ("en", "fr"), "textberg-dev": ("de", "fr")}


def write_folder(folder: Path) -> int:
    """The dev documents as a batch folder (``<set>-<doc>.<lang>.txt``); returns the sentence count."""
    folder.mkdir(parents=True)
    count = 0
    for name, docs in gold_sets().items():
        src, tgt = LANGS[name]
        for doc in docs:
            for lang, lines in ((src, doc.src), (tgt, doc.tgt)):
                (folder / f"{name}-{doc.name}.{lang}.txt").write_text("\n".join(lines) + "\n", encoding="utf-8")
                count += len(lines)
    return count


def cached_sentences(cache: Path) -> int:
    total = 0
    for db in cache.glob("*.sqlite"):
        with sqlite3.connect(db) as connection:
            tables = [r[0] for r in connection.execute("SELECT name FROM sqlite_master WHERE type='table'")]
            total += sum(connection.execute(f"SELECT COUNT(*) FROM {t}").fetchone()[0] for t in tables)
    return total


def run(folder: Path, out: Path, cache: Path, *extra: str) -> tuple[float, int, float, dict]:
    """(seconds, sentences encoded, peak MB of the run's processes, summary)."""
    before = cached_sentences(cache)
    env = {**os.environ, "POLYALIGN_EMBEDDING_CACHE": str(cache)}
    command = [str(REPO / ".venv" / "bin" / "polyalign"), "batch", str(folder), "-o", str(out), "--presplit",
               "--no-translate", *extra]
    start = time.perf_counter()
    done = subprocess.run([sys.executable, "-c", PEAK, *command], env=env, capture_output=True, text=True)
    seconds = time.perf_counter() - start
    if done.returncode != 0:
        raise SystemExit(f"batch failed ({done.returncode}): {done.stderr[-2000:]}")
    peak_kb = int(done.stderr.strip().splitlines()[-1])
    summary = json.loads((out / "summary.json").read_text(encoding="utf-8"))
    return seconds, cached_sentences(cache) - before, peak_kb / 1024, summary


# Runs a command and prints the largest resident size of it and its descendants (KB): the launcher's own
# children usage covers exactly one run, which the benchmark's process-wide maximum would not.
PEAK = ("import resource, subprocess, sys; code = subprocess.run(sys.argv[1:]).returncode; "
        "print(resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss, file=sys.stderr); sys.exit(code)")


def throughput(work: Path) -> None:
    folder = work / "dev"
    sentences = write_folder(folder)
    documents = len(list(folder.glob("*.txt"))) // 2
    print(f"dev sets as a batch: {documents} documents, {sentences} sentences")
    print(f"{'run':34} {'seconds':>8} {'docs/min':>9} {'encoded':>8} {'calls/sent':>10}")
    for jobs in (1, 2):
        cache = work / f"cache-j{jobs}"
        for label, extra in (("cold cache", ()), ("warm cache, --force", ("--force",))):
            seconds, encoded, _, summary = run(folder, work / f"out-j{jobs}", cache, "-j", str(jobs), *extra)
            done = summary["counts"]["done"]
            print(f"-j {jobs}, {label:29} {seconds:8.1f} {60 * done / seconds:9.1f} {encoded:8d} "
                  f"{encoded / sentences:10.2f}")
    seconds, encoded, _, summary = run(folder, work / "out-j1", work / "cache-j1")
    print(f"{'second run, nothing changed':34} {seconds:8.1f} {'':>9} {encoded:8d}   "
          f"({summary['counts']['skipped']} skipped)")


def long_pairs(work: Path, sizes: list[int]) -> None:
    """One document per size: transread's English and French, concatenated and repeated to ``size`` lines."""
    docs = gold_sets()["transread-en-fr"]
    en = [line for d in docs for line in d.src]
    fr = [line for d in docs for line in d.tgt]
    cache = work / "cache-long"
    print(f"\n{'pair (sentences a side)':24} {'seconds':>8} {'encoded':>8} {'peak MB':>8}")
    for size in sizes:
        folder = work / f"long-{size}"
        folder.mkdir()
        for lang, lines in (("en", en), ("fr", fr)):
            repeated = (lines * (size // len(lines) + 1))[:size]
            (folder / f"long.{lang}.txt").write_text("\n".join(repeated) + "\n", encoding="utf-8")
        seconds, encoded, peak, _ = run(folder, work / f"long-out-{size}", cache)
        print(f"{size:24d} {seconds:8.1f} {encoded:8d} {peak:8.0f}")
    print("(one cache for all sizes: a sentence already encoded for a smaller size is not encoded again; "
          "peak MB includes the model)")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--sizes", type=int, nargs="*", default=[5000, 10000, 20000])
    parser.add_argument("--skip-throughput", action="store_true")
    args = parser.parse_args()
    work = Path(tempfile.mkdtemp(prefix="polyalign-batch-bench-"))
    try:
        if not args.skip_throughput:
            throughput(work)
        if args.sizes:
            long_pairs(work, args.sizes)
    finally:
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
