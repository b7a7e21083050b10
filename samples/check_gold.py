"""Check the samples: gold beads against presplit/, and raw files (less their footnotes) against presplit/.

Run from anywhere: python samples/check_gold.py  (exit status 1 on any problem)
"""
import collections
import re
import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent
BEAD = re.compile(r"^\[((?:\d+)(?:, \d+)*)?\]:\[((?:\d+)(?:, \d+)*)?\]$")
NOTE = re.compile(r"^(\d+)\) ")
problems = []


def paragraphs(path):
    """presplit file -> list of paragraphs, each a list of sentences (lines)."""
    text = path.read_text(encoding="utf-8")
    if "\r" in text or not text.endswith("\n") or text.endswith("\n\n"):
        problems.append(f"{path.name}: CR, missing final newline or trailing blank line")
    return [block.split("\n") for block in text.strip("\n").split("\n\n")]


def strip_notes(lang_file, lines):
    """The raw lines without the closing list of footnotes ("1) ...", numbered 1, 2, 3, ...), which is
    not prose and has no presplit counterpart."""
    k = len(lines)
    while k and NOTE.match(lines[k - 1]):
        k -= 1
    numbers = [int(NOTE.match(line).group(1)) for line in lines[k:]]
    if numbers and numbers != list(range(1, len(numbers) + 1)):
        problems.append(f"{lang_file}: footnotes not numbered 1 to {len(numbers)}")
    return lines[:k]


def check_raw(lang_file):
    pars = paragraphs(HERE / "presplit" / lang_file)
    raw = (HERE / lang_file).read_text(encoding="utf-8")
    lines = raw.split("\n")
    if lines[-1] != "" or "" in lines[:-1] or "\r" in raw:
        problems.append(f"{lang_file}: blank line, CR or no final newline")
    lines = strip_notes(lang_file, lines[:-1])
    if len(lines) != len(pars):
        problems.append(f"{lang_file}: {len(lines)} raw paragraphs, {len(pars)} presplit")
    for k, (line, sents) in enumerate(zip(lines, pars)):
        pos = 0
        for s in sents:  # split the raw paragraph at the sentence boundaries: must give the lines back
            if not s or s != s.strip() or line[pos:pos + len(s)] != s:
                problems.append(f"{lang_file}: paragraph {k}: sentence does not match raw text: {s[:50]!r}")
                break
            pos += len(s)
            if pos < len(line):
                if line[pos] != " ":
                    problems.append(f"{lang_file}: paragraph {k}: no single space after {s[-30:]!r}")
                pos += 1
        else:
            if pos != len(line):
                problems.append(f"{lang_file}: paragraph {k}: raw text left over")
    return pars


SLOT = re.compile(r"^\[((?:\d+)(?:, \d+)*)?\]$")


def check_gold(gold_file):
    """A pair's gold (``doc.nb-en.txt``: beads ``[..]:[..]``) or a three-way gold (``doc.en-nb-es.txt``: rows
    ``[..]:[..]:[..]``, one slot per version in the order the name gives)."""
    langs = gold_file.stem.split(".")[-1].split("-")
    doc = gold_file.stem.split(".")[0]
    pars = [check_raw(f"{doc}.{lang}.txt") for lang in langs]
    sizes = [sum(map(len, p)) for p in pars]
    following = [0] * len(langs)
    types = collections.Counter()
    for no, line in enumerate(gold_file.read_text(encoding="utf-8").splitlines(), 1):
        slots = [SLOT.match(part) for part in line.split(":")]
        if len(slots) != len(langs) or not all(slots):
            problems.append(f"{gold_file.name}:{no}: not a bead of {len(langs)} slots: {line!r}")
            continue
        ids = [[int(x) for x in m.group(1).split(", ")] if m.group(1) else [] for m in slots]
        # in order, monotone, contiguous, each sentence exactly once, nothing out of range
        if not any(ids):
            problems.append(f"{gold_file.name}:{no}: empty bead")
        if any(s != list(range(f, f + len(s))) for s, f in zip(ids, following)):
            problems.append(f"{gold_file.name}:{no}: {line} does not continue at "
                            + ":".join(f"[{f}]" for f in following))
        following = [f + len(s) for f, s in zip(following, ids)]
        types["-".join(str(len(s)) for s in ids)] += 1
    if following != sizes:
        problems.append(f"{gold_file.name}: beads cover {following} sentences, files have {sizes}")
    described = ", ".join(f"{lang} {n}" for lang, n in zip(langs, sizes))
    print(f"{gold_file.name}: sentences {described}, in {len(pars[0])} paragraphs; "
          f"{sum(types.values())} beads: " + ", ".join(f"{k}: {v}" for k, v in types.most_common()))


for gold in sorted((HERE / "gold").glob("*.txt")):
    check_gold(gold)
for p in problems:
    print("PROBLEM:", p)
sys.exit(1 if problems else 0)
