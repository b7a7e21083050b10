"""Which files a run writes for ``-o OUT``: the one naming rule that every writer and the input check share.

The check that no output replaces an input (``clash``) must know every path a run will write before the model
loads; the paths depend only on OUT, the format and the version names (known once the inputs are read), so
``plan`` takes those and not the alignments.

The rule:

- **One pair**: the alignment is written to exactly OUT, whatever its extension.
- **Several pairs** (the pivot with each other version; for a joint alignment's beads, every two versions in
  file order), for the formats that write one file per pair (beads, tmx, intertext, xces): OUT's
  extension is kept and the pair goes before it (``out.tmx`` → ``out.nb-en.tmx``, ``out.nb-es.tmx``).
- **A folder**: when OUT is an existing folder or ends in ``/``, or has no extension and there are several
  pairs, the files go into that folder as ``<pivot>-<other>.<ext>`` (``out/nb-en.txt``), the extension being
  the format's usual one. TEI, TSV and JSON hold every pair in one file and need a file name.
- InterText and XCES also write each **version** beside the alignment: ``out.nb.xml``, ``out.en.xml``
  (OUT's stem, the version's name, OUT's extension), or ``nb.xml`` inside a folder.
- ``tmx --tmx-multilingual``: OUT itself is the memory with every language (``nb-en-es.tmx`` inside a
  folder), so the pair memories are named as for several pairs even when there is one.
"""
from __future__ import annotations

import os
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path

# The formats that write one file per pair, with the extension their files get inside a folder.
PER_PAIR = {"beads": ".txt", "tmx": ".tmx", "intertext": ".xml", "xces": ".xml"}
WITH_VERSIONS = ("intertext", "xces")  # formats that also write one file per version


@dataclass(frozen=True)
class Outputs:
    """The files of one run of one format: what each file is for, so that a writer needs no naming of its own."""

    pairs: tuple[Path, ...] = ()  # one per pair, in pair order (per-pair formats)
    versions: dict[str, Path] = field(default_factory=dict)  # version name → its file (InterText, XCES)
    whole: Path | None = None  # the one file with every pair (TEI, TSV, JSON; TMX multilingual)

    def all(self) -> list[Path]:
        """Every file, in the order they are written and reported: versions (pivot first), pairs, the whole."""
        return [*self.versions.values(), *self.pairs, *([self.whole] if self.whole else [])]


def is_folder(out: str | os.PathLike) -> bool:
    """OUT names a folder: it is one, or it ends in ``/`` (a ``str``: ``Path`` drops the slash)."""
    return str(out).endswith(("/", os.sep)) or Path(out).is_dir()


def plan(out: str | os.PathLike, names: Sequence[str], fmt: str, *, multilingual: bool = False,
         every_pair: bool = False) -> Outputs:
    """The files ``fmt`` writes for ``-o out`` and the versions ``names`` (pivot first), by the module's rule.
    ``every_pair``: a joint alignment's pairs, every two versions in file order (nb-en, nb-es, en-es), rather
    than the pivot with each other version.

    Raises ValueError for a folder given to a format that writes one file, and for names that collide."""
    folder, path = is_folder(out), Path(out)
    if fmt not in PER_PAIR:
        if folder:
            raise ValueError(f"{out}: is a folder; --format {fmt} writes one file: give its name "
                             f"(-o {path / 'vraem'}.{'xml' if fmt == 'tei' else fmt})")
        return Outputs(whole=path)
    pairs = ([f"{a}-{b}" for k, a in enumerate(names) for b in names[k + 1:]] if every_pair
             else [f"{names[0]}-{other}" for other in names[1:]])
    into_folder = folder or (len(pairs) > 1 and not path.suffix)
    if into_folder:  # out/nb-en.txt
        where, stem, suffix = path, "", PER_PAIR[fmt]
    else:  # out.nb-en.txt beside OUT
        where, stem, suffix = path.parent, f"{path.stem}.", path.suffix or PER_PAIR[fmt]

    def named(name: str) -> Path:
        return where / f"{stem}{name}{suffix}"

    whole = (named("-".join(names)) if into_folder else path) if multilingual else None
    one_file = len(pairs) == 1 and not multilingual and not into_folder  # the pair's file is OUT itself
    outputs = Outputs(pairs=(path,) if one_file else tuple(named(p) for p in pairs),
                      versions={n: named(n) for n in names} if fmt in WITH_VERSIONS else {}, whole=whole)
    paths = outputs.all()
    if len(set(paths)) < len(paths):
        twice = next(p for p in paths if paths.count(p) > 1)
        raise ValueError(f"{twice}: --format {fmt} would write it twice (version names and pairs collide); "
                         "choose another -o")
    return outputs


def clash(outputs: Iterable[str | os.PathLike], inputs: Iterable[str | os.PathLike]) -> Path | None:
    """The first output that is one of the inputs (the same file, also through a link, a hard link or another
    spelling of its path), which writing it would replace; None if there is none. Linear, for big batches."""
    known = {key for given in inputs for key in _identities(Path(given))}
    return next((Path(o) for o in outputs if any(key in known for key in _identities(Path(o)))), None)


def _identities(path: Path) -> list[object]:
    """What makes two paths one file: the real path and, for a file that exists, its device and inode."""
    keys: list[object] = [os.path.realpath(path)]
    try:
        stat = path.stat()
        keys.append((stat.st_dev, stat.st_ino))
    except OSError:
        pass
    return keys


def refusal(path: str | os.PathLike) -> str:
    """The one line that refuses an output that is an input."""
    return f"{path}: is an input; the output would replace it (choose another -o)"
