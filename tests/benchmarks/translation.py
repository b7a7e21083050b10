"""Translation speed: sentences per second for each backend installed, and what the cache saves.

    python tests/benchmarks/translation.py [--sentences 5000]

- Apertium es→en on the Spanish sample (25 sentences), then on a larger Spanish text made from the sample's
  sentences, each varied by an opening and a closing phrase so that no two are the same (5,000 by default);
  en→es on the English sample and, when shared/eval is there, Alice in Wonderland (836 lines).
- For contrast, the sample once with one Apertium process per sentence (what batching avoids).
- argos, for each pair ``translate.argos.find_translator`` serves here (none on a fresh machine).
- The cache: the large text through ``CachedTranslator`` with a fresh temporary cache file, twice (the second
  run is all hits), then once more from a new instance (a new run reading the same file).

Not a test: it prints its figures. Nothing touches the user's cache.
"""
from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(REPO))

from polyalign.translate import apertium  # noqa: E402
from polyalign.translate.base import Translator  # noqa: E402
from polyalign.translate.cache import CachedTranslator  # noqa: E402

SAMPLES = REPO / "samples"
ALICE = REPO.parent / "shared" / "eval" / "transread-en-fr" / "AlicesAdventuresInWonderland" / "src.txt"

OPENINGS = ["", "Ayer, ", "Según el informe, ", "En 2021, ", "De acuerdo con la fiscalía, ", "Por la mañana, ",
            "Como explicó el periodista, ", "Sin embargo, ", "Además, ", "En aquel momento, ", "Según la prensa, ",
            "Al día siguiente, ", "En la región, ", "Hace tres semanas, ", "Por otra parte, ", "En ese entonces, ",
            "Como se sabe, ", "Para muchos, ", "En el informe final, ", "Durante la noche, "]
CLOSINGS = ["", ", según la policía", ", dijo un testigo", ", como informó la radio", ", según los vecinos",
            ", de acuerdo con las autoridades", ", contó una mujer", ", según fuentes oficiales",
            ", escribió el diario", ", afirmó el alcalde"]


def lines(path: Path) -> list[str]:
    return [line.strip() for line in path.read_text(encoding="utf-8").splitlines() if line.strip()]


def varied_spanish(count: int) -> list[str]:
    """``count`` distinct Spanish sentences: the sample's, each with an opening and a closing phrase."""
    base = lines(SAMPLES / "presplit" / "ojo.es.txt")
    out: list[str] = []
    for closing in CLOSINGS:
        for opening in OPENINGS:
            for sentence in base:
                body = sentence[0].lower() + sentence[1:] if opening else sentence
                if closing and body[-1] in ".!?":
                    body = body[:-1] + closing + body[-1]
                out.append(opening + body)
                if len(out) == count:
                    return out
    raise SystemExit(f"at most {len(out)} distinct sentences can be made; ask for fewer")


def timed(translator: Translator, sentences: list[str], repeats: int = 1) -> tuple[float, list[str]]:
    """The median wall time of ``repeats`` runs, and the last run's output."""
    times, out = [], []
    for _ in range(repeats):
        start = time.perf_counter()
        out = translator.translate(sentences)
        times.append(time.perf_counter() - start)
    assert len(out) == len(sentences)
    return statistics.median(times), out


def report(label: str, count: int, seconds: float) -> None:
    print(f"  {label:<58} {count:>6} sentences  {seconds:8.3f} s  {count / seconds:9.0f} sentences/s")


def bench_apertium(large: list[str]) -> None:
    if not apertium.available("es", "en"):
        print(f"apertium: not installed ({apertium.INSTALL})")
        return
    es_en = apertium.ApertiumTranslator("es", "en")
    print(f"apertium ({es_en.info})")
    sample = lines(SAMPLES / "presplit" / "ojo.es.txt")
    report("es→en, samples/presplit/ojo.es.txt (median of 5)", len(sample), timed(es_en, sample, 5)[0])
    start = time.perf_counter()
    for sentence in sample:
        es_en.translate([sentence])
    report("es→en, the same, one process per sentence", len(sample), time.perf_counter() - start)
    report("es→en, the large varied Spanish text (median of 3)", len(large), timed(es_en, large, 3)[0])
    if apertium.available("en", "es"):
        en_es = apertium.ApertiumTranslator("en", "es")
        english = lines(SAMPLES / "presplit" / "vraem.en.txt")
        report("en→es, samples/presplit/vraem.en.txt (median of 5)", len(english), timed(en_es, english, 5)[0])
        if ALICE.is_file():
            alice = lines(ALICE)
            report("en→es, Alice in Wonderland (median of 3)", len(alice), timed(en_es, alice, 3)[0])


def bench_argos() -> None:
    try:
        from polyalign.translate.argos import find_translator
    except ImportError:
        print("argos: translate.argos is not importable")
        return
    inputs = {"es": lines(SAMPLES / "presplit" / "ojo.es.txt"), "en": lines(SAMPLES / "presplit" / "vraem.en.txt"),
              "nb": lines(SAMPLES / "presplit" / "vraem.nb.txt")}
    found = False
    for source, target in (("es", "en"), ("en", "es"), ("nb", "en"), ("en", "nb"), ("nb", "es")):
        try:
            translator = find_translator(source, target)
        except Exception as err:  # a benchmark reports, it does not stop
            print(f"argos {source}→{target}: {err}")
            continue
        if translator is None:
            continue
        found = True
        print(f"argos ({translator.info})")
        report(f"{source}→{target}, the {source} sample (median of 3)", len(inputs[source]),
               timed(translator, inputs[source], 3)[0])
    if not found:
        print("argos: no package installed for es↔en, nb↔en or nb→es")


def bench_cache(large: list[str]) -> None:
    if not apertium.available("es", "en"):
        print("cache: skipped (it is measured in front of Apertium)")
        return
    engine = apertium.ApertiumTranslator("es", "en")
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "translations.sqlite"
        cached = CachedTranslator(engine, path)
        print(f"cache in front of apertium, {path.name} in a fresh temporary folder")
        first, out1 = timed(cached, large)
        report(f"first run: {cached.misses} misses, {cached.hits} hits", len(large), first)
        hits, misses = cached.hits, cached.misses
        second, out2 = timed(cached, large)
        report(f"second run: {cached.hits - hits} hits, {cached.misses - misses} misses", len(large), second)
        fresh = CachedTranslator(engine, path)
        third, out3 = timed(fresh, large)
        report(f"a new instance on the same file: {fresh.hits} hits, {fresh.misses} misses", len(large), third)
        assert out1 == out2 == out3
        size = sum(p.stat().st_size for p in Path(folder).iterdir())  # the database and its write-ahead log
        print(f"  second run {first / second:.0f}× faster than the first; cache files {size / 1e6:.1f} MB")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sentences", type=int, default=5000, help="size of the large Spanish text")
    args = parser.parse_args()
    large = varied_spanish(args.sentences)
    bench_apertium(large)
    bench_argos()
    bench_cache(large)


if __name__ == "__main__":
    main()
