"""Check a polyalign TEI file: RELAX NG against the vendored tei_all, then the references RELAX NG cannot see.

tei_all accepts a link with one target, a ``#id`` that points nowhere, ``cert="7"`` and an ``@ana`` naming
no category (TEI states some of these as Schematron rules that lxml cannot run), so the second half
checks them in plain Python. Messages read ``file:line: rule: message``; an empty list means valid.
"""
from __future__ import annotations

import functools
import os
from collections import Counter
from pathlib import Path

from lxml import etree

SCHEMA_PATH = Path(__file__).parent / "schema" / "tei_all.rng"

TEI = "{http://www.tei-c.org/ns/1.0}"
XML_ID = "{http://www.w3.org/XML/1998/namespace}id"
XML_LANG = "{http://www.w3.org/XML/1998/namespace}lang"

# attribute → the elements its #id pointers may name
POINTER_KINDS = {
    "ana": {"category"},
    "resp": {"respStmt", "person", "org"},
    "change": {"change"},
}


@functools.cache
def load_schema() -> etree.RelaxNG:
    """tei_all compiled once per process: compiling takes several seconds, validating a file milliseconds."""
    if not SCHEMA_PATH.exists():
        raise FileNotFoundError(f"TEI schema missing at {SCHEMA_PATH}; see tei/schema/README.md")
    return etree.RelaxNG(etree.parse(str(SCHEMA_PATH)))


def validate(path_or_tree: str | os.PathLike | etree._ElementTree | etree._Element) -> list[str]:
    """All problems found in the file or tree, as ``file:line: rule: message``."""
    if isinstance(path_or_tree, (etree._ElementTree, etree._Element)):
        tree, label = path_or_tree, "<tree>"
    else:
        label = str(path_or_tree)
        try:
            tree = etree.parse(label)
        except etree.XMLSyntaxError as err:  # also duplicate xml:ids
            return [f"{label}:{err.lineno}: xml: {err.msg}"]
    root = tree.getroot() if isinstance(tree, etree._ElementTree) else tree

    schema = load_schema()
    problems = []
    if not schema.validate(root):
        problems += [f"{label}:{e.line}: relaxng: {e.message}" for e in schema.error_log]
    problems += [f"{label}:{line}: {rule}: {message}" for line, rule, message in _reference_problems(root)]
    return problems


def _local(tag: object) -> str:
    return tag.removeprefix(TEI) if isinstance(tag, str) else ""


Problem = tuple[int, str, str]  # (line, rule, message)


def _reference_problems(root: etree._Element) -> list[Problem]:
    """What tei_all lets through: dangling pointers, one-sided links, bad @cert, sentences claimed twice."""
    ids = {el.get(XML_ID): el for el in root.iter(etree.Element) if el.get(XML_ID)}
    problems = _header_problems(root) + _declaration_problems(root, ids) + _sentence_id_problems(root)
    problems += _reference_target_problems(root, ids)
    order = {el.get(XML_ID): k for k, el in enumerate(root.iter(f"{TEI}s"))}
    for group in root.iter(f"{TEI}linkGrp"):
        problems += _link_group_problems(group, ids)
        if group.get("type") == "alignment":
            problems += _order_problems(group, ids, order)
        if group.get("type") == "alignment" and group.get("subtype") == "joint":
            problems += _joint_problems(group, ids, root)
    return problems


def _joint_problems(group: etree._Element, ids: dict[str, etree._Element], root: etree._Element) -> list[Problem]:
    """A joint linkGrp (see ``tei.joint``) is consistent: its targFunc names versions of the file, each link's
    shape counts its sentences per version in that order, and every sentence of those versions is in exactly
    one link or unaligned ptr (at most once and in order are checked for every linkGrp). Then every pair read
    off it agrees with every other."""
    line = group.sourceline or 0
    names = (group.get("targFunc") or "").split()
    members = {m.get(XML_ID) or m.get(XML_LANG): m for m in root.iter(f"{TEI}TEI") if m.get("type") != "translation"}
    problems = [(line, "joint-versions", f"targFunc names {n!r}, which is no version of this file")
                for n in names if n not in members]
    if len(names) < 2 or len(set(names)) != len(names):
        problems.append((line, "joint-versions", f"targFunc {group.get('targFunc')!r} must name two or more "
                                                 "distinct versions"))
    seen: set[str] = set()
    for el in group:
        kind = _local(el.tag)
        if kind not in ("link", "ptr") or (kind == "ptr" and el.get("type") != "unaligned"):
            continue
        sentences = _sentences_of(el, ids)
        seen.update(sentences)
        counts = Counter(s.split(".")[0] for s in sentences)
        strangers = sorted(set(counts) - set(names))
        if strangers:
            problems.append((el.sourceline or 0, "joint-versions",
                             f"{kind} {el.get(XML_ID)!r} holds a sentence of {strangers[0]!r}, not in targFunc"))
        shape = "-".join(str(counts.get(n, 0)) for n in names)
        given = el.get("type") if kind == "link" else el.get("subtype")
        if given != shape:
            problems.append((el.sourceline or 0, "joint-shape",
                             f"{kind} {el.get(XML_ID)!r} says shape {given!r}, its targets make {shape!r}"))
    for name in names:
        if name not in members:
            continue
        missing = [s.get(XML_ID) for s in members[name].iter(f"{TEI}s") if s.get(XML_ID) not in seen]
        if missing:
            problems.append((line, "joint-coverage", f"{len(missing)} sentence(s) of {name!r} are in no link or "
                                                     f"unaligned ptr of the joint linkGrp, first {missing[0]!r}"))
    return problems


def _reference_target_problems(root: etree._Element, ids: dict[str, etree._Element]) -> list[Problem]:
    """A ``ref`` to ``#id`` (a footnote marker) names an element of this file."""
    return [(ref.sourceline or 0, "dangling-target", f"ref target {token!r} is not an id of this file")
            for ref in root.iter(f"{TEI}ref") for token in (ref.get("target") or "").split()
            if token.startswith("#") and token[1:] not in ids]


def _sentence_id_problems(root: etree._Element) -> list[Problem]:
    """Every s of a member TEI has an id prefixed with the member's name (its xml:id, else its xml:lang),
    which is how a link's targets are told apart by version."""
    problems = []
    for member in root.iter(f"{TEI}TEI"):
        name = member.get(XML_ID) or member.get(XML_LANG)
        for s in member.iter(f"{TEI}s"):
            sid = s.get(XML_ID)
            if sid is None or (name and not sid.startswith(f"{name}.")):
                problems.append((s.sourceline or 0, "s-id", f"s {sid!r} needs an xml:id starting {name + '.'!r}"))
    return problems


def _order_problems(group: etree._Element, ids: dict[str, etree._Element], order: dict[str, int]) -> list[Problem]:
    """Links and unaligned ptrs follow both texts in order: no bead goes back to a sentence before one an
    earlier bead took (polyalign's alignments are monotone; a crossing means a hand edit went wrong)."""
    problems, last = [], {}
    for el in group:
        if _local(el.tag) not in ("link", "ptr") or (_local(el.tag) == "ptr" and el.get("type") != "unaligned"):
            continue
        by_version: dict[str, list[int]] = {}
        for sentence in _sentences_of(el, ids):
            by_version.setdefault(sentence.split(".")[0], []).append(order[sentence])
        for version, positions in by_version.items():
            if min(positions) < last.get(version, -1):
                problems.append((el.sourceline or 0, "links-order",
                                 f"{_local(el.tag)} {el.get(XML_ID)!r} goes back in {version!r}: an earlier link "
                                 "already holds a later sentence"))
            last[version] = max(last.get(version, -1), max(positions))
    return problems


def _sentences_of(el: etree._Element, ids: dict[str, etree._Element]) -> list[str]:
    """The s ids a link or ptr points at, through ptr groups; dangling targets are reported elsewhere."""
    found = []
    for token in el.get("target", "").split():
        target = ids.get(token[1:]) if token.startswith("#") else None
        if target is None:
            continue
        if _local(target.tag) == "s":
            found.append(token[1:])
        elif _local(target.tag) == "ptr" and target is not el:  # a group: one level, its targets are sentences
            found += [t[1:] for t in target.get("target", "").split() if _local(ids.get(t[1:], el).tag) == "s"]
    return found


REQUIRED_HEADER = ("fileDesc/titleStmt/title", "fileDesc/publicationStmt", "fileDesc/sourceDesc")


def _header_problems(root: etree._Element) -> list[Problem]:
    """What an archive needs in every header, said plainly (RELAX NG's message names the wrong element)."""
    problems = []
    for header in root.iter(f"{TEI}teiHeader"):
        for path in REQUIRED_HEADER:
            if header.find("/".join(f"{TEI}{step}" for step in path.split("/"))) is None:
                owner = header.getparent()
                name = owner.get(XML_ID) or owner.get(XML_LANG) or _local(owner.tag)
                problems.append((header.sourceline or 0, "header", f"the teiHeader of {name!r} lacks {path}"))
    return problems


def _declaration_problems(root: etree._Element, ids: dict[str, etree._Element]) -> list[Problem]:
    """Each @ana, @resp and @change token must be ``#id`` of a declared element of the right kind."""
    problems = []
    for el in root.iter(etree.Element):
        for attr, kinds in POINTER_KINDS.items():
            for token in (el.get(attr) or "").split():
                named = ids.get(token[1:]) if token.startswith("#") else None
                if named is None or _local(named.tag) not in kinds:
                    problems.append((el.sourceline or 0, f"undeclared-{attr}",
                                     f"@{attr} {token!r} names no declared {'/'.join(sorted(kinds))}"))
    return problems


def _link_group_problems(group: etree._Element, ids: dict[str, etree._Element]) -> list[Problem]:
    """Targets resolve to an s or ptr, links join ≥ 2 sides, @cert is in [0, 1], no s is claimed twice.

    A ptr that a link of the group points at is a group of sentences and counts through that link;
    any other ptr (an unaligned one) claims its sentences itself.
    """
    problems: list[Problem] = []
    claimed: Counter[str] = Counter()
    groups = {token[1:] for link in group.iter(f"{TEI}link") for token in link.get("target", "").split()}
    for el in group:
        kind, line = _local(el.tag), el.sourceline or 0
        if kind not in ("link", "ptr"):
            continue
        cert = el.get("cert")
        if cert is not None and not _is_probability(cert):
            problems.append((line, "cert", f"@cert {cert!r} is not a number in [0, 1]"))
        tokens = el.get("target", "").split()
        if kind == "link" and len(tokens) < 2:
            problems.append((line, "link-targets",
                             f"link has {len(tokens)} target(s), needs at least 2 (a ptr group counts as one)"))
        sentences = []
        for token in tokens:
            target = ids.get(token[1:]) if token.startswith("#") else None
            if target is None or _local(target.tag) not in ("s", "ptr"):
                problems.append((line, "dangling-target", f"target {token!r} is not an s or ptr of this file"))
            elif _local(target.tag) == "s":
                sentences.append(token[1:])
            else:
                inner = [t[1:] for t in target.get("target", "").split()]
                found = [i for i in inner if i in ids and _local(ids[i].tag) == "s"]
                if not found:
                    problems.append((line, "link-targets", f"group {token!r} holds no sentence"))
                sentences += found
        if kind == "ptr" and el.get(XML_ID) in groups:
            continue
        for sentence in sentences:
            claimed[sentence] += 1
            if claimed[sentence] == 2:
                problems.append((line, "s-reused", f"sentence {sentence!r} is in more than one link or ptr"
                                                   " of this linkGrp"))
    return problems


def _is_probability(value: str) -> bool:
    try:
        return 0.0 <= float(value) <= 1.0  # False for NaN
    except ValueError:
        return False
