"""The default model's two encoders side by side: the quantised ONNX graph (the default; int8 and 4-bit products) and the float32 model on
sentence-transformers (``POLYALIGN_ENCODER=torch``), on the same texts, in one run.

    python tests/benchmarks/encoder_speed.py [--sentences 1000] [--runs 3] [--no-f1]

Prints, for each path:
- startup: ``polyalign align samples/ojo.es.txt samples/ojo.en.txt --no-translate --no-cache`` from the moment
  the process is started to the moment its first sentences come back from the encoder (the median of ``--runs``;
  the model folder and its graph already built, files in the OS cache);
- sentences per second: the same ``--sentences`` development-set lines (every k-th line of every set, so all
  languages and lengths are in), encoded with their token vectors as the aligner asks for them, no embedding
  cache, each path in a process of its own after one warm-up call (``--threads``: the cores it may use); and that
  process's peak memory;
- strict F1 and ECE per development set, each document aligned as ``polyalign align --presplit --no-translate``
  does (``common.measure``, vectors cached between runs in the benchmark cache, keyed by path).
"""
from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from polyalign.align.e5_onnx import BACKEND
from common import CachedEncoder, gold_sets, measure, read_lines

REPO = Path(__file__).resolve().parents[2]
PATHS = {"onnx int8+q4": "onnx", "float32 torch": "torch"}  # label → POLYALIGN_ENCODER

# Run in a child process: patch the Encoder to print the wall-clock time when its first sentences are encoded,
# then run the command as the console script does.
FIRST_SENTENCE = r"""
import sys, time
from polyalign.align import embed
real = embed.Encoder._vectors_and_tokens
def first(self, texts, done=None):
    out = real(self, texts, done)
    print(f"FIRST-ENCODED {time.time():.6f}", file=sys.stderr, flush=True)
    embed.Encoder._vectors_and_tokens = real
    return out
embed.Encoder._vectors_and_tokens = first
from polyalign.align.cli import main
sys.argv = ["polyalign", *sys.argv[1:]]
main()
"""

# Run in a child process: load the model, warm it up, encode the texts (a JSON list on stdin), print the figures.
THROUGHPUT = r"""
import json, resource, sys, time
from polyalign.align import embed
from polyalign.align.embed import Encoder
texts, embed.THREADS = json.load(sys.stdin)
start = time.perf_counter()
encoder = Encoder(cache=False)
loaded = time.perf_counter() - start
encoder.encode_with_tokens(texts[:8])
start = time.perf_counter()
vectors, tokens = encoder.encode_with_tokens(texts)
seconds = time.perf_counter() - start
print(json.dumps({"backend": encoder.backend, "load_s": loaded, "seconds": seconds,
                  "tokens": sum(len(t) for t in tokens),
                  "peak_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024}))
"""


def environment(path: str) -> dict[str, str]:
    return {**os.environ, "POLYALIGN_ENCODER": path}


def startup_seconds(path: str, runs: int) -> float:
    """The median time from starting ``polyalign align`` to its first encoded sentences."""
    times = []
    with tempfile.TemporaryDirectory() as out:
        for _ in range(runs):
            start = time.time()
            done = subprocess.run([sys.executable, "-c", FIRST_SENTENCE, "align", "samples/ojo.es.txt",
                                   "samples/ojo.en.txt", "--no-translate", "--no-cache", "-o", f"{out}/ojo.xml"],
                                  cwd=REPO, env=environment(path), capture_output=True, text=True)
            marks = [float(line.split()[1]) for line in done.stderr.splitlines() if line.startswith("FIRST-ENCODED")]
            if done.returncode != 0 or not marks:
                raise SystemExit(f"polyalign align failed ({path}):\n{done.stderr[-2000:]}")
            times.append(marks[0] - start)
    return statistics.median(times)


def throughput(path: str, texts: list[str], threads: int | None) -> dict:
    done = subprocess.run([sys.executable, "-c", THROUGHPUT], input=json.dumps([texts, threads]), cwd=REPO,
                          env=environment(path), capture_output=True, text=True)
    if done.returncode != 0:
        raise SystemExit(f"encoding failed ({path}):\n{done.stderr[-2000:]}")
    return json.loads(done.stdout.splitlines()[-1])


def sample_lines(count: int) -> list[str]:
    """``count`` distinct non-empty lines spread evenly over every development set's source and target files."""
    lines = []
    for gold in sorted(gold_sets().values(), key=lambda docs: docs[0].set_name):
        for doc in gold:
            for side in ("src.txt", "tgt.txt"):
                lines += [line.strip() for line in read_lines(doc.folder / side) if line.strip()]
    lines = list(dict.fromkeys(lines))
    step = max(1, len(lines) // count)
    return lines[::step][:count]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sentences", type=int, default=1000, help="lines to encode for the speed (default 1000)")
    parser.add_argument("--runs", type=int, default=3, help="startup runs per path; the median is shown")
    parser.add_argument("--threads", type=int, default=None,
                        help="cores each encoder may use for the speed (default: all; 1 shows the speed per core, "
                             "which other processes on the machine disturb less)")
    parser.add_argument("--no-f1", action="store_true", help="leave out F1 per development set")
    args = parser.parse_args()

    texts = sample_lines(args.sentences)
    rows = {}
    for label, path in PATHS.items():
        speed = throughput(path, texts, args.threads)
        expected = "sentence-transformers" if path == "torch" else BACKEND
        if speed["backend"] != expected:
            raise SystemExit(f"{label}: the Encoder ran on {speed['backend']}, not {expected}")
        rows[label] = {"startup s": startup_seconds(path, args.runs), "load s": speed["load_s"],
                       "sentences/s": len(texts) / speed["seconds"], "peak MB": speed["peak_mb"]}
    tokens = f"{speed['tokens'] / len(texts):.1f} word pieces a sentence"
    cores = len(os.sched_getaffinity(0))
    print(f"{len(texts)} development-set lines ({tokens}), token vectors kept, no cache; {cores} cores, "
          f"the encoders using {args.threads or cores}; load average {os.getloadavg()[0]:.1f} at the end")
    print(f"{'path':14} | {'startup s':>9} {'load s':>7} {'sentences/s':>11} {'peak MB':>8}")
    for label, row in rows.items():
        print(f"{label:14} | {row['startup s']:9.2f} {row['load s']:7.2f} {row['sentences/s']:11.1f} "
              f"{row['peak MB']:8.0f}")
    fast, slow = rows["onnx int8+q4"], rows["float32 torch"]
    print(f"ratio (onnx / float32): {fast['sentences/s'] / slow['sentences/s']:.2f}x sentences/s, "
          f"startup {slow['startup s'] / fast['startup s']:.1f}x shorter, "
          f"peak memory {fast['peak MB'] / slow['peak MB']:.2f}x")
    if args.no_f1:
        return

    sets = gold_sets()
    print(f"\n{'set':18} | {'strict F1 onnx':>14} {'float32':>8} {'diff':>7} | {'ECE onnx':>8} {'float32':>8}")
    encoders = {path: CachedEncoder(backend=path) for path in PATHS.values()}
    for name, docs in sets.items():
        fast, slow = (measure(docs, encoders[path]) for path in ("onnx", "torch"))
        f1 = fast.counts.score.strict.f1, slow.counts.score.strict.f1
        print(f"{name:18} | {f1[0]:14.4f} {f1[1]:8.4f} {f1[0] - f1[1]:+7.4f} | {fast.ece:8.3f} {slow.ece:8.3f}")


if __name__ == "__main__":
    main()
