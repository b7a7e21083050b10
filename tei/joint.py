"""The joint alignment in TEI: one n-ary ``linkGrp`` for all versions, written and read back.

Its ``targFunc`` names every version, the pivot first, and each ``link`` is one row: its targets are the
row's slots in that order, a slot of several sentences a ``ptr type="group"`` as in a pairwise linkGrp, an
empty slot simply absent. ``@type`` gives the row's shape over all versions ("1-0-2": one pivot sentence, none
of the second version, two of the third), so a reader can tell which target is which version from the ids'
prefixes or from the shape alone. A row that only one version fills is a ``ptr type="unaligned"``.
"""
from __future__ import annotations

from lxml import etree

from polyalign.align.beads import Status
from polyalign.align.document import Document
from polyalign.align.joint.rows import JointAlignment, Row

TEI = "{http://www.tei-c.org/ns/1.0}"
XML_ID = "{http://www.w3.org/XML/1998/namespace}id"
SUBTYPE = "joint"
ID_PREFIX = "joint"

CONVENTION = (
    "Joint alignment: when the standOff holds a linkGrp type='alignment' subtype='joint', it is the only "
    "alignment, of all versions at once, and every pair of versions reads its beads off it, so no two pairs "
    "can contradict each other. Its targFunc names every version, the pivot first (the version that anchored "
    "the rows), and each link is one row: one meaning across the versions. A link lists its targets in the "
    "targFunc order, one per version that has sentences in the row; a version without (a sentence omitted, "
    "or added by another translator) is left out, and its place in @type, the row's shape (the number of "
    "sentences of each version in targFunc order, joined by hyphens, e.g. 1-0-2), is 0. Several sentences "
    "of one version are a ptr type='group' as in a pairwise linkGrp. A row that only one version fills is a "
    "ptr type='unaligned' whose @subtype is the shape. Every sentence of every version named in targFunc is "
    "in exactly one link or unaligned ptr, and links follow every version in order; @cert, @ana, @resp and "
    "@change are as for pairwise links, @cert being the row's confidence: the mean, over the pairs of "
    "versions it holds sentences of, of the calibrated confidence of the same bead from that pair's own "
    "alignment (0 for a pair whose own alignment made another bead)."
)


def order(joint: JointAlignment) -> list[int]:
    """Positions of the versions in targFunc order: the pivot, then the others as given."""
    p = joint.position(joint.pivot)
    return [p] + [k for k in range(len(joint.documents)) if k != p]


def describe(joint: JointAlignment) -> str:
    how = ("chosen automatically: its rows scored best over all pairs" if joint.pivot_chosen == "automatic"
           else "given (--pivot)")
    return (f"joint alignment of {', '.join(joint.names)} in one linkGrp (ag.{ID_PREFIX}); pivot {joint.pivot}, "
            f"{how}.")


def link_group(parent: etree._Element, joint: JointAlignment, run_id: str, el, cert, aligner: str) -> None:
    """The n-ary linkGrp under ``parent`` (the standOff). ``el`` and ``cert`` are the writer's helpers."""
    positions = order(joint)
    docs = joint.documents
    group = el(parent, "linkGrp", xml_id=f"ag.{ID_PREFIX}", type="alignment", subtype=SUBTYPE,
               targFunc=" ".join(docs[k].name for k in positions))
    for number, row in enumerate(joint.rows, 1):
        for doc, ids in zip(docs, row.slots):
            unknown = [i for i in ids if i not in doc.index]
            if unknown:
                raise ValueError(f"joint row {number}: {unknown[0]!r} is not a sentence of {doc.name!r}")
        row_id = f"{ID_PREFIX}.r{number}"
        shape = "-".join(str(len(row.slots[k])) for k in positions)
        common = dict(cert=cert(row.confidence), resp=f"#{row.resp or aligner}",
                      ana=f"#st.{Status(row.status).value}", change=f"#{row.change or run_id}")
        if row.filled < 2:
            targets = " ".join(f"#{i}" for k in positions for i in row.slots[k])
            el(group, "ptr", xml_id=row_id, type="unaligned", subtype=shape, target=targets, **common)
            continue
        sides = []
        for k in positions:
            ids = row.slots[k]
            if len(ids) == 1:
                sides.append(f"#{ids[0]}")
            elif ids:
                ptr_id = f"{row_id}.{docs[k].name}"
                el(group, "ptr", xml_id=ptr_id, type="group", target=" ".join(f"#{i}" for i in ids))
                sides.append(f"#{ptr_id}")
        evaluate = {"evaluate": "all"} if any(len(s) > 1 for s in row.slots) else {}
        el(group, "link", xml_id=row_id, type=shape, target=" ".join(sides), **evaluate, **common)


def is_joint(group: etree._Element) -> bool:
    return group.get("subtype") == SUBTYPE


def read_group(group: etree._Element, documents: dict[str, Document], members: list[str], model: str,
               error: type[Exception]) -> JointAlignment:
    """The JointAlignment of a joint linkGrp; ``members``: the versions' names in the file's order."""
    names = (group.get("targFunc") or "").split()
    if len(names) < 2 or any(n not in documents for n in names):
        raise error(f"linkGrp {group.get(XML_ID)!r} has targFunc {group.get('targFunc')!r}, not versions of "
                    f"{sorted(documents)}")
    docs = [documents[n] for n in members if n in names]
    ptrs = {p.get(XML_ID): p for p in group.findall(f"{TEI}ptr") if p.get(XML_ID)}
    rows = []
    for el in group:
        if not (el.tag == f"{TEI}link" or (el.tag == f"{TEI}ptr" and el.get("type") == "unaligned")):
            continue
        ids = sentence_ids(el, ptrs)
        unknown = [i for i in ids if not any(i in d.index for d in docs)]
        if unknown:
            raise error(f"link {el.get(XML_ID)!r} points at {unknown[0]!r}, a sentence of none of {names}")
        slots = tuple(tuple(i for i in ids if i in d.index) for d in docs)
        rows.append(Row(slots, None, float(el.get("cert", "0")),
                        Status(pointer(el, "ana").removeprefix("st.") or "auto"),
                        pointer(el, "resp"), pointer(el, "change")))
    return JointAlignment(docs, rows, names[0], _pivot_chosen(group), model)


def _pivot_chosen(group: etree._Element) -> str:
    root = group.getroottree().getroot()
    for desc in root.iter(f"{TEI}desc"):
        if (desc.text or "").startswith("joint alignment of "):
            return "given" if "given (--pivot)" in desc.text else "automatic"
    return "given"


def sentence_ids(el: etree._Element, ptrs: dict[str, etree._Element]) -> list[str]:
    """The sentence ids a ``link`` (or ``ptr``) targets, a group ``ptr`` read as the sentences it holds; the
    pairwise reader (``tei.reader``) reads its links with it too."""
    ids = []
    for token in el.get("target", "").split():
        name = token.removeprefix("#")
        ids += sentence_ids(ptrs[name], ptrs) if name in ptrs and ptrs[name] is not el else [name]
    return ids


def pointer(el: etree._Element, attribute: str) -> str:
    """The id an ``#id`` attribute names ("" when absent)."""
    return (el.get(attribute) or "").split(" ")[0].removeprefix("#")


def pair_bead_paths(joint: JointAlignment, out) -> list:
    """The beads file of every pair, in the order the files were given (en-nb, en-es, nb-es): ``out/en-nb.txt``
    for a folder, by the rule of ``tei.outputs``."""
    from polyalign.tei import outputs

    return list(outputs.plan(out, joint.names, "beads", every_pair=True).pairs)


def write_pair_beads(joint: JointAlignment, out) -> list:
    """The beads of every pair read off the joint alignment, one file each (see ``pair_bead_paths``), in the
    gold format that ``polyalign eval`` reads. Returns the paths."""
    from polyalign.tei.formats import write_beads

    paths = pair_bead_paths(joint, out)
    for alignment, path in zip(joint.pairs(), paths):
        write_beads(alignment, path)
    return paths
