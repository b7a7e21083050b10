"""The embedding cache's size cap: what recording last use costs a lookup, and what pruning costs and gives back.

    python tests/benchmarks/cache_cap.py [--sentences 4000]

Made-up vectors of the default model's shape (384 dimensions, 33 token vectors a sentence, ~25 KB an entry) in
a temporary folder: stores them in batches of 512, looks them all up (with tokens, which touches every hit's
``used``) and again without the touch, then prunes to half and prints the sizes on disk before and after.
"""
from __future__ import annotations

import argparse
import tempfile
import time
from pathlib import Path

import numpy as np

from polyalign.align import embedding_cache as ec


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sentences", type=int, default=4000)
    args = parser.parse_args()
    rng = np.random.default_rng(0)
    texts = [f"sentence {i}" for i in range(args.sentences)]
    with tempfile.TemporaryDirectory() as folder:
        identity = '{"format": "bench", "folder": "/models/bench"}'
        cache = ec.EmbeddingCache(ec.cache_path(folder, identity), identity, max_bytes=10**13)
        start = time.perf_counter()
        for i in range(0, len(texts), 512):
            chunk = texts[i:i + 512]
            cache.store("p", chunk, rng.normal(size=(len(chunk), 384)).astype(np.float32),
                        [rng.normal(size=(33, 384)).astype(np.float16) for _ in chunk])
        stored = time.perf_counter() - start
        size = ec.folder_bytes(folder)
        print(f"stored {len(texts)} sentences in {stored:.2f} s: {size / 1e6:.1f} MB, "
              f"{size / len(texts):.0f} bytes/sentence (file and WAL)")
        start = time.perf_counter()
        cache.lookup("p", texts, tokens=True)
        touched = time.perf_counter() - start
        touch, cache._touch = cache._touch, lambda db, keys: None
        start = time.perf_counter()
        cache.lookup("p", texts, tokens=True)
        untouched = time.perf_counter() - start
        cache._touch = touch
        print(f"lookup of all with tokens: {touched:.2f} s recording last use, {untouched:.2f} s without")
        before = ec.folder_bytes(folder)
        start = time.perf_counter()
        removed = ec.prune(folder, before // 2)
        pruned = time.perf_counter() - start
        after = ec.folder_bytes(folder)
        print(f"prune to half: {pruned:.2f} s, evicted {sum(n for _, n in removed)} sentences, "
              f"{before / 1e6:.1f} MB → {after / 1e6:.1f} MB on disk ({Path(cache.path).stat().st_size / 1e6:.1f} MB "
              f"the main file), {len(cache)} sentences left")


if __name__ == "__main__":
    main()
