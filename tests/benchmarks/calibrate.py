"""Fit the confidence calibration on the development gold and show that it holds.

    python tests/benchmarks/calibrate.py            # prints the tables and writes align/data/calibration.json
    python tests/benchmarks/calibrate.py --dry-run  # prints only

A bead counts as right when the identical bead is in the gold (the strict criterion). Besides the fit on
all sets, each set is also scored by a calibration fitted on the *other* sets, the honest check of
whether "confidence 0.9" still means 90 % on text the calibration has not seen. Beside each such ECE, the ECE a
perfectly calibrated confidence would still show on that many beads (``common.ece_by_chance``): on textberg-dev's
431 beads, 0.027 on average and above 0.039 one time in twenty. ``calibration_candidates.py`` scores other features
and fits the same way.
"""
from __future__ import annotations

import argparse

import numpy as np

from polyalign.align.confidence import Calibration, CalibrationTable
from common import CachedEncoder, aligned, ece_by_chance, expected_calibration_error, gold_sets


def labelled_beads(docs, encoder):
    beads, right = [], []
    for doc in docs:
        gold = {(tuple(b.source), tuple(b.target)) for b in doc.gold}
        found = aligned(doc, encoder)
        beads += found
        right += [(b.src, b.tgt) in gold for b in found]
    return beads, np.array(right)


def fit(sets: list[tuple[list, np.ndarray]], fitted_on: str = "") -> Calibration:
    """One calibration for the beads of all the given sets. (Weighing each set alike instead was measured, with a
    posterior temperature scaled by the pair's strength that was later dropped: leave-one-set-out ECE 0.030 / 0.110 /
    0.026 on mac-dev-zh-en / textberg-dev / transread-en-fr, against 0.019 / 0.120 / 0.018. With the features of
    ``align.confidence`` now: 0.034 / 0.037 / 0.023 against 0.039 / 0.047 / 0.015; by the root of each set's size
    0.036 / 0.043 / 0.018. Both trade transread-en-fr for the others, and neither brings textberg-dev to 0.03;
    ``calibration_candidates.py`` prints these.)"""
    return Calibration.fit(sum((b for b, _ in sets), []), np.concatenate([r for _, r in sets]), fitted_on)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--dry-run", action="store_true", help="do not write align/data/calibration.json")
    parser.add_argument("--no-stress", action="store_true", help="do not report the stress sets")
    args = parser.parse_args()
    encoder = CachedEncoder()
    data = {name: labelled_beads(docs, encoder) for name, docs in gold_sets().items()}
    ece, chance = {}, {}
    for held_out in data:
        train = [d for name, d in data.items() if name != held_out]
        if not train:
            continue
        fitted = fit(train)
        beads, right = data[held_out]
        print(f"\n## {held_out}, scored by a calibration fitted on the other sets\n")
        print(CalibrationTable.of(fitted.confidence(beads), right))
        ece[held_out] = expected_calibration_error(fitted.confidence(beads), right)
        chance[held_out] = ece_by_chance(fitted.confidence(beads))
        mean, top = chance[held_out]
        print(f"expected calibration error: {ece[held_out]:.3f} (a perfectly calibrated confidence would show "
              f"{mean:.3f} on these {len(beads)} beads, more than {top:.3f} one time in 20)")
    everything = sum((b for b, _ in data.values()), [])
    right = np.concatenate([r for _, r in data.values()])
    final = fit(list(data.values()), fitted_on=" + ".join(data))
    print(f"\n## all sets ({len(everything)} beads), fitted on all\n")
    print(CalibrationTable.of(final.confidence(everything), right))
    print("\nexpected calibration error, leave-one-set-out fits: " +
          ", ".join(f"{name} {value:.3f}" for name, value in ece.items()))
    print("the same for a perfectly calibrated confidence (mean, 95 %): " +
          ", ".join(f"{name} {mean:.3f}, {top:.3f}" for name, (mean, top) in chance.items()))
    if not args.no_stress:  # text none of the fits saw, but made from the sets they saw; so also scored without
        from stress import stress_sets  # the set each document was made from
        held_out_fits = {held_out: fit([d for name, d in data.items() if name != held_out]) for held_out in data}
        for name, docs in stress_sets(gold_sets()).items():
            per_doc = [labelled_beads([doc], encoder) for doc in docs]
            beads, right = sum((b for b, _ in per_doc), []), np.concatenate([r for _, r in per_doc])
            own = np.concatenate([held_out_fits[doc.name.split("/")[0]].confidence(b) for doc, (b, _) in zip(docs, per_doc)])
            print(f"{name}: expected calibration error {expected_calibration_error(final.confidence(beads), right):.3f}"
                  f" (the fit on all development sets), {expected_calibration_error(own, right):.3f} (each document"
                  " scored by the fit on the sets other than the one it was made from)")
    if not args.dry_run:
        final.save()
        print("\nwrote align/data/calibration.json")


if __name__ == "__main__":
    main()
