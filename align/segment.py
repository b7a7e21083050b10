"""Split a text into paragraphs and sentences with exact offsets.

Paragraphs come from the line structure (see ``segment``). Each paragraph is split on its own: sentencex
(MIT, ~300 languages) proposes boundaries, then a few post-rules, written for the cases in
shared/notes/segmentation.md, accept or reject each candidate. A candidate is a position where the next
sentence would start: every sentencex boundary and every gap after a stop. The first rule with an opinion
decides; with none, sentencex's choice stands.

Sentences never include surrounding whitespace, and nothing but whitespace is ever dropped, so the sentence
texts in order, with whitespace removed, give back the text with whitespace removed.
"""
from __future__ import annotations

import re
from collections.abc import Callable
from functools import cache
from importlib.resources import files

import sentencex

from polyalign.align.document import Document, Note, Paragraph, Sentence

Span = tuple[int, int]

# sentencex's own nb/nn/no rules are weak; its Danish ones fit Bokmål (notes: 8/22 cases vs 21/22).
SENTENCEX_LANG = {"nb": "da", "nn": "da", "no": "da"}
ABBREVIATION_LANG = {"nn": "nb", "no": "nb"}

STOPS = ".!?…"
CLOSERS = "\"'»”’)]›"
OPENERS = "\"'«“‘„‚‹([{¿¡—–-"
FOOTNOTE_MARKER = r"(?:\(\d{1,3}\)|\[\d{1,3}\]|[¹²³⁰⁴-⁹]+)"

_CLOSER = f"[{re.escape(CLOSERS)}]"
STOP_GAP = re.compile(rf"[{STOPS}]{_CLOSER}*{FOOTNOTE_MARKER}?\s+")
ENDS_WITH_MARKER = re.compile(rf"[{STOPS}]{_CLOSER}*{FOOTNOTE_MARKER}$")
SENTENCE_END = re.compile(rf"[{STOPS}:;]{_CLOSER}*{FOOTNOTE_MARKER}?$")
NEXT_CHAR = re.compile(rf"[{re.escape(OPENERS)}\s]*(.?)", re.DOTALL)
MISSING_SPACE = re.compile(rf"(?<![\w.])[^\W\d_]{{2,}}[{STOPS}]$")
LINE_BREAK = re.compile(r"[\n\r\v\f\x1c-\x1e\x85\u2028\u2029]")

PARAGRAPH_MODES = ("auto", "line", "blank")


def segment(
    text: str,
    lang: str,
    name: str | None = None,
    *,
    presplit: bool = False,
    paragraphs: str = "auto",
    source: str | None = None,
) -> Document:
    """Split ``text`` into a Document of paragraphs and sentences; ids are ``{name}.p{n}.s{m}``, 1-based.

    ``paragraphs``:
      - ``"line"``: every non-blank line is a paragraph (one paragraph per line, as in the seed article);
      - ``"blank"``: blank lines separate paragraphs, a single newline is a hard wrap (as in many e-texts);
      - ``"auto"``: ``"blank"`` if the text looks hard-wrapped (see ``looks_hard_wrapped``), else ``"line"``.

    ``presplit=True``: every non-blank line is one sentence, never re-split. Blank lines separate paragraphs;
    without any, all lines form one paragraph (the convention of the gold files in shared/eval). With
    ``paragraphs="line"`` each line is a paragraph of its own instead.
    """
    if paragraphs not in PARAGRAPH_MODES:
        raise ValueError(f"paragraphs must be one of {PARAGRAPH_MODES}, not {paragraphs!r}")
    name = name or lang
    lines = _line_spans(text)
    notes = _notes(text, lines, name)
    if notes:  # the list of notes is not prose: cut it off before paragraphs are made
        lines = [span for span in lines if span is None or span[1] <= notes[0].start]
    blocks = _blocks(lines)
    if paragraphs == "auto":
        paragraphs = "blank" if presplit or looks_hard_wrapped(text, blocks) else "line"
    groups = [[line] for block in blocks for line in block] if paragraphs == "line" else blocks

    paras = []
    for n, lines in enumerate(groups, 1):
        start, end = lines[0][0], lines[-1][1]
        spans = lines if presplit else split_paragraph(text, start, end, lang)
        sentences = tuple(
            Sentence(f"{name}.p{n}.s{m}", text[s:e], s, e) for m, (s, e) in enumerate(spans, 1)
        )
        paras.append(Paragraph(f"{name}.p{n}", start, end, sentences))
    return Document(lang=lang, text=text, paragraphs=paras, name=name, source=source, notes=notes)


# --- notes ------------------------------------------------------------------------------------------------

NOTE_LINE = re.compile(r"\(?(\d{1,3})\)\s+|\[(\d{1,3})\]\s+")


def _notes(text: str, lines: list[Span | None], name: str) -> list[Note]:
    """The text's closing list of footnotes, if it has one: its last lines numbered 1, 2, 3, … as "1) …",
    "(1) …" or "[1] …", at least two of them, while the text before them carries the markers "(1)", "[1]".

    Anything weaker stays prose: a numbered list inside the text is not a list of notes.
    """
    spans = [span for span in lines if span is not None]
    found: list[tuple[str, Span]] = []
    for start, end in reversed(spans):
        m = NOTE_LINE.match(text, start, end)
        if not m:
            break
        found.append((m.group(1) or m.group(2), (m.end(), end)))
    found.reverse()
    labels = [label for label, _ in found]
    while labels and labels[0] != "1":  # the list starts at 1; numbered lines before it are prose
        found, labels = found[1:], labels[1:]
    if len(found) < 2 or labels != [str(k) for k in range(1, len(labels) + 1)]:
        return []
    body = text[:text.rfind("\n", 0, found[0][1][0]) + 1]
    if not any(f"({label})" in body or f"[{label}]" in body for label in labels):
        return []
    return [Note(f"{name}.n{label}", label, text[a:b], a, b) for label, (a, b) in found]


# --- paragraphs -------------------------------------------------------------------------------------------

def _line_spans(text: str) -> list[Span | None]:
    """Each line's span without surrounding whitespace, or None for a blank line."""
    spans: list[Span | None] = []
    pos = 0
    for line in text.splitlines(keepends=True):
        if line.strip():
            spans.append((pos + len(line) - len(line.lstrip()), pos + len(line.rstrip())))
        else:
            spans.append(None)
        pos += len(line)
    return spans


def _blocks(lines: list[Span | None]) -> list[list[Span]]:
    """Runs of non-blank lines."""
    blocks: list[list[Span]] = [[]]
    for span in lines:
        if span is None:
            blocks.append([])
        else:
            blocks[-1].append(span)
    return [b for b in blocks if b]


def looks_hard_wrapped(text: str, blocks: list[list[Span]]) -> bool:
    """True when at least a third of the line ends inside blocks are hard wraps.

    A line end counts as a wrap when the line does not end a sentence and the next line starts with a
    lowercase letter: wrapped prose goes on mid-sentence at most line ends, while a paragraph (or a
    heading, a byline, a footnote) almost never starts in lowercase. Text with one paragraph per line
    scores near zero even when blank lines group its paragraphs.
    """
    inner = [(a, b) for block in blocks for a, b in zip(block, block[1:])]
    wraps = sum(
        not SENTENCE_END.search(text[a[0]:a[1]]) and text[b[0]].islower() for a, b in inner
    )
    return bool(inner) and 3 * wraps >= len(inner)


# --- sentences --------------------------------------------------------------------------------------------

def split_paragraph(text: str, start: int, end: int, lang: str) -> list[Span]:
    """Sentence spans (offsets into ``text``) of the paragraph ``text[start:end]``."""
    par = LINE_BREAK.sub(" ", text[start:end])  # a newline inside a paragraph is a hard wrap
    proposed = _sentencex_cuts(par, lang)
    candidates = sorted(proposed | {m.end() for m in STOP_GAP.finditer(par)})
    cuts = [c for c in candidates if 0 < c < len(par) and _is_boundary(par, c, lang, c in proposed)]
    edges = [0, *cuts, len(par)]
    spans = []
    for a, b in zip(edges, edges[1:]):
        piece = par[a:b]
        if piece.strip():
            s = start + a + len(piece) - len(piece.lstrip())
            spans.append((s, start + a + len(piece.rstrip())))
    return spans


def _sentencex_cuts(par: str, lang: str) -> set[int]:
    """Where sentencex starts a new sentence: after the closing quotes attached to the stop, and after
    the whitespace that follows."""
    code = _base_lang(lang)
    cuts = set()
    for b in sentencex.get_sentence_boundaries(SENTENCEX_LANG.get(code, code), par):
        cut = len(par[:b["end_index"]].rstrip())
        while cut < len(par) and par[cut] in CLOSERS:
            cut += 1
        while cut < len(par) and par[cut].isspace():
            cut += 1
        cuts.add(cut)
    return cuts


def _is_boundary(par: str, cut: int, lang: str, proposed: bool) -> bool:
    for rule in BOUNDARY_RULES:
        verdict = rule(par, cut, lang)
        if verdict is not None:
            return verdict
    return proposed


def inside_token(par: str, cut: int, lang: str) -> bool | None:
    """No boundary inside a run of non-space characters, unless a capital letter follows directly.

    sentencex sometimes cuts inside a token (``n.|º 3``, ``e.|Kr.``) or before a footnote marker
    (``mothers.|(1)``, which ``footnote_marker`` places after the marker instead). A capital right after
    a stop that ends a word of two or more letters is a missing space (``left.Then``): still a boundary.
    """
    if par[cut - 1].isspace():
        return None
    if par[cut].isupper() and MISSING_SPACE.search(par[max(0, cut - 40):cut]):
        return None
    return False


def lowercase_continuation(par: str, cut: int, lang: str) -> bool | None:
    """No boundary before a lowercase word, also behind opening quotes, dashes or ``¿¡``.

    In languages with case a sentence does not start in lowercase. This keeps together a quoted question
    and its reporting clause (``«Kommer du?» spurte hun.``, ``"Are you coming?" she asked.``), Spanish
    dialogue (``—¿Quién es? —preguntó ella.``), an ellipsis inside a sentence (``Wait... what``),
    ordinals (``17. mai``, ``2. verdenskrig``) and any abbreviation before a lowercase word.
    """
    if _next_char(par, cut).islower():
        return False
    return None


def footnote_marker(par: str, cut: int, lang: str) -> bool | None:
    """A footnote marker right after a stop ends that sentence: ``mothers.(1) Lately``, ``later.[12] Next``.

    Every splitter tested either missed this boundary or began the next sentence with the marker.
    """
    if ENDS_WITH_MARKER.search(par[max(0, cut - 40):cut].rstrip()):
        return True
    return None


def abbreviation(par: str, cut: int, lang: str) -> bool | None:
    """Decide after a listed abbreviation, by its kind (see align/data/abbreviations/README.md).

    plain: never a boundary (``Dr. Hansen``, ``kl. 14.30``, ``Excmo. Sr. D. Juan``);
    numeric: none before a digit (``nr. 2``, ``Vol. 3``), a boundary before a capital (``I said no. Then``);
    final: a boundary before a capital (``pr. stk. Det``, ``etc. The``), otherwise sentencex decides.
    A lowercase word after any of them was already handled by ``lowercase_continuation``.
    """
    kind = _abbreviation_before(par[max(0, cut - 60):cut], _abbreviations(_base_lang(lang)))
    if kind is None:
        return None
    first = _next_char(par, cut)
    if kind == "plain" or (kind == "numeric" and first.isdigit()):
        return False
    if first.isupper():
        return True
    return None


def sentence_inside_quotation(par: str, cut: int, lang: str) -> bool | None:
    """A full stop, ? or ! then a capital, inside an open «…» or “…” quotation, ends a sentence.

    sentencex keeps a quoted passage of several sentences whole; a reviewer aligning a quoted testimony
    with its translation needs its sentences. Straight quotes are left alone: they do not say whether
    they open or close.
    """
    left = par[:cut].rstrip()
    if not left or left[-1] not in ".!?" or not _next_char(par, cut).isupper():
        return None
    opened = sum(left.count(q) for q in "«“") - sum(left.count(q) for q in "»”")
    return True if opened > 0 else None


def _next_char(par: str, cut: int) -> str:
    """The first character of the next word, past opening quotes, dashes and spaces ('' at the end)."""
    return NEXT_CHAR.match(par, cut).group(1)


BOUNDARY_RULES: tuple[Callable[[str, int, str], bool | None], ...] = (
    inside_token,
    lowercase_continuation,
    footnote_marker,
    abbreviation,
    sentence_inside_quotation,
)


# --- abbreviations ----------------------------------------------------------------------------------------

def _abbreviation_before(left: str, table: dict[str, str]) -> str | None:
    """The kind of the abbreviation that ``left`` ends with, trying the last three words, then two, then one.

    Several words are tried so that spaced forms (``a. m.``, ``EE. UU.``) match their listed ``a.m.``,
    ``EE.UU.``; each word of such a group must end with a period.
    """
    words = left.split()[-3:]
    for n in range(len(words), 0, -1):
        group = words[-n:]
        if n > 1 and not all(w.endswith(".") for w in group):
            continue
        kind = table.get("".join(group).lstrip(OPENERS))
        if kind:
            return kind
    return None


@cache
def _abbreviations(lang: str) -> dict[str, str]:
    """abbreviation (spaces removed) → kind, from align/data/abbreviations/{lang}.txt; empty if none."""
    path = files("polyalign.align") / "data" / "abbreviations" / f"{ABBREVIATION_LANG.get(lang, lang)}.txt"
    if not path.is_file():
        return {}
    table = {}
    for line in path.read_text(encoding="utf-8").splitlines():
        fields = line.split("#")[0].split()
        kind = fields.pop() if fields and fields[-1] in ("numeric", "final") else "plain"
        if fields:
            table["".join(fields)] = kind
    return table


def _base_lang(lang: str) -> str:
    """``nb-NO`` → ``nb``."""
    return re.split(r"[-_]", lang.lower())[0]
