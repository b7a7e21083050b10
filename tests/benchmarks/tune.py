"""Leave-one-set-out choice of aligner settings: a value counts only if it wins on the sets it was not chosen on.

    python tests/benchmarks/tune.py shape_weight=0,0.02,0.05 [skip=-0.1,-0.15 …] [--sets …] [--no-stress]

Every combination of the values given is run on every development set and stress set, from cached vectors,
through the same functions as ``polyalign align --presplit`` (``common.measure``). For each set, the value is
chosen by the mean strict F1 over the *other* sets (for a development set, the stress documents made from it are
left out of the choice too), and the table shows that choice and its score on the held-out set, beside the
score of the current default.
"""
from __future__ import annotations

import argparse
import itertools
from dataclasses import fields, replace

import numpy as np

from polyalign.align.aligner import AlignerSettings
from polyalign.align.evaluate import Counts
from common import CachedEncoder, GoldDocument, gold_sets, measure


def parse(assignments: list[str]) -> dict[str, list]:
    types = {f.name: type(f.default) for f in fields(AlignerSettings)}
    grid = {}
    for a in assignments:
        name, values = a.split("=")
        if name not in types:
            raise SystemExit(f"no setting {name!r}; AlignerSettings has {', '.join(types)}")
        grid[name] = [types[name](v) for v in values.split(",")]
    return grid


def per_document(docs: list[GoldDocument], encoder, settings: AlignerSettings,
                 nulls: dict[str, list[int]] | None = None) -> dict[str, Counts]:
    """Each document's counts; ``nulls`` gathers the set's null beads: found, right, in the gold, found of those."""
    out = {}
    for doc in docs:
        m = measure([doc], encoder, settings)
        out[doc.name] = m.counts
        if nulls is not None:
            for k, v in enumerate((m.null_found, m.null_right, m.null_gold, m.null_gold_found)):
                nulls.setdefault(doc.set_name, [0, 0, 0, 0])[k] += v
    return out


def null_pr(counts: list[int]) -> str:
    found, right, gold, gold_found = counts
    return f"{right / found if found else float('nan'):.2f}/{gold_found / gold if gold else float('nan'):.2f}"


def f1(counts: list[Counts]) -> float:
    return sum(counts, Counts()).score.strict.f1


def training_score(results: dict[tuple, dict[str, dict[str, Counts]]], held_out: str, value: tuple) -> float:
    """Mean strict F1 of ``value`` over the sets other than ``held_out`` (and the stress documents not made from it)."""
    scores = []
    for name, docs in results[value].items():
        if name == held_out:
            continue
        kept = [c for doc, c in docs.items() if not doc.startswith(held_out + "/")]
        if kept:
            scores.append(f1(kept))
    return float(np.mean(scores))


def leave_one_set_out(results: dict[tuple, dict[str, dict[str, Counts]]], held_out: str) -> tuple:
    """The value with the highest ``training_score``; on a tie within 0.0005, the current default (listed first)."""
    scores = {value: training_score(results, held_out, value) for value in results}
    top = max(scores.values())
    return next(value for value, score in scores.items() if score >= top - 0.0005)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("settings", nargs="+", help="name=v1,v2,… (AlignerSettings fields)")
    parser.add_argument("--sets", nargs="*", help="only these sets")
    parser.add_argument("--no-stress", action="store_true")
    args = parser.parse_args()
    grid = parse(args.settings)
    encoder = CachedEncoder()
    sets = gold_sets()
    if not args.no_stress:
        from stress import stress_sets
        sets.update(stress_sets(sets))
    if args.sets:
        sets = {k: v for k, v in sets.items() if k in args.sets}
    names = list(grid)
    values = list(itertools.product(*grid.values()))
    default = tuple(getattr(AlignerSettings(), n) for n in names)
    if default not in values:
        values.insert(0, default)
    results = {}
    for value in values:
        settings = replace(AlignerSettings(), **dict(zip(names, value)))
        nulls: dict[str, list[int]] = {}
        results[value] = {name: per_document(docs, encoder, settings, nulls) for name, docs in sets.items()}
        print(f"{dict(zip(names, value))}: " + "  ".join(
            f"{name} {f1(list(d.values())):.3f} (null P/R {null_pr(nulls.get(name, [0] * 4))})"
            for name, d in results[value].items()), flush=True)
    print(f"\nleave-one-set-out, {', '.join(names)} (strict F1 on the held-out set)\n")
    print(f"{'held-out set':22} | {'chosen on the others':>22} | {'its F1':>6} | {'default F1':>10} | "
          f"{'best here':>22} | mean F1 of each value on the others")
    for name in sets:
        chosen = leave_one_set_out(results, name)
        best = max(results, key=lambda v: f1(list(results[v][name].values())))
        others = " ".join(f"{training_score(results, name, v):.4f}" for v in results)
        print(f"{name:22} | {str(chosen):>22} | {f1(list(results[chosen][name].values())):6.3f} | "
              f"{f1(list(results[default][name].values())):10.3f} | {str(best):>22} | {others}")


if __name__ == "__main__":
    main()
