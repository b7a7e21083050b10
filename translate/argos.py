"""The Argos Translate engine: its ``.argosmodel`` packages, run directly with CTranslate2 and SentencePiece.

Why not ``argostranslate.translate``: it splits text into sentences itself, and its splitters download
models at the first translation (MiniSBD from GitHub, stanza's resource list, a spaCy model); it also
translates one text at a time. polyalign's sentences come from its own segmenter, so this module loads a
package's CTranslate2 model and SentencePiece model and translates whole batches of sentences, offline.

Why packages still live where argostranslate keeps them (``ARGOS_PACKAGES_DIR``, else
``$XDG_DATA_HOME/argos-translate/packages``): a package installed with ``argospm`` works here, and one
installed here shows in ``argospm list``. What argostranslate is still used for: that folder, and the
package index's address.

No Norwegian model exists on any registry reachable offline: users bring ``.argosmodel`` files
(``polyalign models install FILE``), or fetch them where there is a network (``polyalign models fetch``).
nb↔es goes through English (nb → en → es) when no direct package is installed.
"""
from __future__ import annotations

import http.client
import json
import os
import re
import shutil
import tempfile
import urllib.error
import urllib.request
import zipfile
import zlib
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from polyalign.translate.base import EngineInfo, TranslationError, Translator

PIVOT = "en"
ALIASES = {"nb": ("nb", "no")}  # polyalign's code → codes a package may use for it
BATCH_SIZE = 32  # sentences per CTranslate2 call
REQUIRED = ("from_code", "to_code", "package_version")
CODE = re.compile(r"^[A-Za-z]{2,3}([-_][A-Za-z0-9]+)*$")
FETCH_TIMEOUT = 15.0  # seconds without an answer before a download gives up


@dataclass(frozen=True)
class Package:
    """An installed translation package: one direction, one version, one folder."""

    from_code: str
    to_code: str
    version: str
    path: Path
    target_prefix: str = ""  # a token some packages want first in every output (e.g. "__es__")

    @property
    def name(self) -> str:
        """The name argospm knows it by, e.g. translate-nb_en."""
        return package_name(self.from_code, self.to_code)

    def __str__(self) -> str:
        return f"{self.name} {self.version} ({self.from_code} → {self.to_code})"


def package_name(from_code: str, to_code: str) -> str:
    return f"translate-{from_code}_{to_code}"


def package_dir() -> Path:
    """argostranslate's package folder. ``ARGOS_PACKAGES_DIR`` is read now, not only when argostranslate
    was imported, so that a test (or a user) can point it elsewhere at any time."""
    if os.environ.get("ARGOS_PACKAGES_DIR"):
        return Path(os.environ["ARGOS_PACKAGES_DIR"])
    from argostranslate import settings  # honours settings.json and XDG_DATA_HOME

    return Path(settings.package_data_dir)


# --- installed packages -----------------------------------------------------------------------------------

def installed() -> list[Package]:
    """The translation packages in the package folder, by code pair. Folders that are not packages (no or
    bad metadata.json) are passed over, where argostranslate would fail on them."""
    root = package_dir()
    packages = []
    for folder in sorted(root.iterdir()) if root.is_dir() else []:
        if folder.is_dir() and not folder.name.startswith("."):
            try:
                packages.append(_package(_metadata(folder), folder))
            except TranslationError:
                continue
    return sorted(packages, key=lambda p: (p.from_code, p.to_code, _version_key(p.version)))


def remove(from_code: str, to_code: str) -> list[Package]:
    """Remove every installed version of the from_code → to_code package; returns what was removed."""
    gone = [p for p in installed() if _fits(p, from_code, to_code)]
    if not gone:
        raise TranslationError(f"no {package_name(from_code, to_code)} package is installed in {package_dir()} "
                               "(see `polyalign models list`)")
    for package in gone:
        _discard(package.path)
    return gone


def install(path: str | Path) -> Package:
    """Install the ``.argosmodel`` file at ``path``; another version of the same pair is replaced.

    Everything is checked before anything is installed: the zip (no absolute or ``..`` paths, no links),
    metadata.json, the SentencePiece model, and the CTranslate2 model, which is loaded and run once. The
    package is unpacked into a staging folder beside the package folder (never inside it, where a leftover
    would break ``argospm``), then renamed into place, so a failure leaves nothing half-installed."""
    path = Path(path)
    if not path.is_file():
        raise TranslationError(f"{path}: no such file")
    root = package_dir()
    root.mkdir(parents=True, exist_ok=True)
    staging = _staging(root)
    try:
        folder = _unpack(path, staging / "new")
        package = _check(path, folder)
        target = root / f"{package.name}-{re.sub(r'[^0-9A-Za-z]+', '_', package.version)}"
        _put_in_place(folder, target, staging)
        for other in installed():
            if (other.from_code, other.to_code) == (package.from_code, package.to_code) and other.path != target:
                _discard(other.path)
        return _package(_metadata(target), target)
    finally:
        shutil.rmtree(staging, ignore_errors=True)


def _metadata(folder: Path) -> dict:
    try:
        metadata = json.loads((folder / "metadata.json").read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise TranslationError("no metadata.json (an Argos Translate package has one)") from None
    except (OSError, ValueError) as err:
        raise TranslationError(f"metadata.json is unreadable: {err}") from None
    if not isinstance(metadata, dict):
        raise TranslationError("metadata.json is not a JSON object")
    return metadata


def _package(metadata: dict, folder: Path) -> Package:
    missing = [key for key in REQUIRED if not isinstance(metadata.get(key), str) or not metadata[key].strip()]
    if missing:
        raise TranslationError(f"metadata.json lacks {', '.join(missing)}")
    if metadata.get("type", "translate") != "translate":
        raise TranslationError(f"a {metadata['type']!r} package, not a translation package")
    for key in ("from_code", "to_code"):
        if not CODE.match(metadata[key]):
            raise TranslationError(f"metadata.json: {key} {metadata[key]!r} is not a language code")
    return Package(metadata["from_code"], metadata["to_code"], metadata["package_version"].strip(), folder,
                   str(metadata.get("target_prefix") or ""))


def _staging(root: Path) -> Path:
    """A fresh folder on the package folder's file system, outside it where possible (argostranslate
    reads every folder inside it as a package)."""
    parent = root.resolve().parent
    same_device = os.access(parent, os.W_OK) and os.stat(parent).st_dev == os.stat(root).st_dev
    return Path(tempfile.mkdtemp(prefix=f".polyalign-staging-{root.name}-", dir=parent if same_device else root))


def _unpack(archive: Path, into: Path) -> Path:
    """Extract the zip at ``archive`` into ``into``; the package folder inside (the single top folder, or
    ``into`` itself for a zip without one)."""
    try:
        with zipfile.ZipFile(archive) as zf:
            members = zf.infolist()
            for member in members:
                name = member.filename
                parts = name.replace("\\", "/").split("/")
                if name.startswith(("/", "\\")) or ".." in parts or ":" in parts[0]:
                    raise TranslationError(f"{archive}: unsafe path {name!r} in the archive; not installed")
                if (member.external_attr >> 16) & 0o170000 == 0o120000:
                    raise TranslationError(f"{archive}: the archive holds a link ({name}); not installed")
            size = sum(m.file_size for m in members)
            free = shutil.disk_usage(into.parent).free
            if size > free:
                raise TranslationError(f"{archive}: unpacking needs {size >> 20} MB, {free >> 20} MB are free")
            zf.extractall(into)
    except (zipfile.BadZipFile, zipfile.LargeZipFile, zlib.error, EOFError, ValueError) as err:
        raise TranslationError(f"{archive}: not a readable .argosmodel (zip) file: {_first_line(err)}") from None
    except OSError as err:
        raise TranslationError(f"{archive}: cannot unpack it: {_first_line(err)}") from None
    entries = [p for p in into.iterdir() if p.name != "__MACOSX"] if into.is_dir() else []  # zipped on a Mac
    if (into / "metadata.json").is_file() or len(entries) != 1 or not entries[0].is_dir():
        return into
    return entries[0]


def _check(archive: Path, folder: Path) -> Package:
    """The package in ``folder`` if it can translate; else TranslationError naming ``archive``."""
    try:
        package = _package(_metadata(folder), folder)
    except TranslationError as err:
        raise TranslationError(f"{archive}: {err}; not installed") from None
    if not (folder / "sentencepiece.model").is_file():
        what = "a BPE tokenizer (bpe.model), which polyalign cannot use" if (folder / "bpe.model").is_file() \
            else "no sentencepiece.model"
        raise TranslationError(f"{archive}: {package.name} has {what}; not installed")
    if not (folder / "model" / "model.bin").is_file():
        raise TranslationError(f"{archive}: {package.name} has no CTranslate2 model (model/model.bin); not installed")
    try:
        ArgosTranslator(package, threads=1).translate(["ok"])
    except TranslationError as err:
        cause = _first_line(err.__cause__ or err).replace(f"{folder}{os.sep}", "")  # no staging paths
        raise TranslationError(f"{archive}: {package.name} does not load or run ({cause}); not installed") \
            from None
    return package


def _put_in_place(new: Path, target: Path, staging: Path) -> None:
    """Rename ``new`` to ``target``, moving an existing ``target`` out of the way first and back if that
    fails: the package is never half there."""
    old = staging / "old"
    if target.exists():
        os.rename(target, old)
    try:
        os.rename(new, target)
    except OSError:
        if old.exists():
            os.rename(old, target)
        raise


def _discard(folder: Path) -> None:
    """Remove a package folder: renamed away first, so that it vanishes at once even if deleting is slow."""
    trash = _staging(folder.parent)
    try:
        os.rename(folder, trash / folder.name)
    finally:
        shutil.rmtree(trash, ignore_errors=True)


def _version_key(version: str) -> list[tuple[int, int | str]]:
    return [(0, int(part)) if part.isdigit() else (1, part) for part in re.split(r"[._-]", version)]


def _cores() -> int:
    """The cores this process may use (a container or taskset may allow fewer than the machine has)."""
    return len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count() or 1


def _first_line(err: BaseException) -> str:
    if isinstance(err, urllib.error.URLError) and not isinstance(err, urllib.error.HTTPError):  # "<urlopen error …>"
        err = err.reason if isinstance(err.reason, BaseException) else OSError(err.reason)
    return (str(err).strip().splitlines() or [type(err).__name__])[0]


# --- downloading ------------------------------------------------------------------------------------------

def _index_url() -> str:
    """The Argos package index: ``ARGOS_PACKAGE_INDEX`` (read now), else argostranslate's setting."""
    base = os.environ.get("ARGOS_PACKAGE_INDEX")
    if not base:
        from argostranslate import settings

        return settings.remote_package_index
    return base + "index.json" if base.endswith("/") else base + "/index.json"


def fetch(from_code: str, to_code: str, *, report: Callable[[str], None] = lambda _: None,
          timeout: float = FETCH_TIMEOUT) -> Package:
    """Download the from_code → to_code package from the Argos package index and install it.

    argostranslate's own ``update_package_index`` swallows a network error and ``get_available_packages``
    then recurses for ever; and neither has a timeout. So the index and the file are fetched here, each
    with ``timeout``, and the file goes through ``install``'s checks like any other."""
    name = package_name(from_code, to_code)
    offline = (f"get {name}.argosmodel elsewhere (argospm or the Argos package index, on a machine with a "
               f"network) and run `polyalign models install {name}.argosmodel`")
    url = _index_url()
    report(f"fetching the Argos package index {url}")
    try:
        with urllib.request.urlopen(url, timeout=timeout) as response:
            index = json.loads(response.read())
    except (OSError, ValueError, http.client.HTTPException) as err:
        raise TranslationError(f"cannot fetch the Argos package index ({_first_line(err)}): {offline}") from None
    found = [m for m in index if isinstance(m, dict) and m.get("type", "translate") == "translate"
             and m.get("from_code") in ALIASES.get(from_code, (from_code,))
             and m.get("to_code") in ALIASES.get(to_code, (to_code,))] if isinstance(index, list) else []
    if not found:
        hint = (f"; fetch {from_code} {PIVOT} and {PIVOT} {to_code} to translate through English"
                if PIVOT not in (from_code, to_code) else "")
        raise TranslationError(f"the Argos package index has no {name} package{hint}")
    best = max(found, key=lambda m: _version_key(str(m.get("package_version", ""))))
    links = [link for link in best.get("links", []) if isinstance(link, str)]
    errors = []
    with tempfile.TemporaryDirectory(prefix="polyalign-fetch-") as tmp:
        download = Path(tmp) / f"{name}.argosmodel"
        for link in links:
            report(f"downloading {name} {best.get('package_version', '')} from {link}")
            try:
                with urllib.request.urlopen(link, timeout=timeout) as response, open(download, "wb") as out:
                    shutil.copyfileobj(response, out, 1 << 20)
            except (OSError, http.client.HTTPException) as err:
                errors.append(_first_line(err))
                continue
            try:
                return install(download)
            except TranslationError as err:
                raise TranslationError(str(err).replace(str(download), link)) from None
    raise TranslationError(f"cannot download {name} ({'; '.join(errors) or 'the index gives no link'}): {offline}")


# --- translating ------------------------------------------------------------------------------------------

class ArgosTranslator:
    """One package, loaded at the first ``translate`` (so that finding a translator costs nothing), then
    kept: sentences are SentencePiece-encoded, translated by CTranslate2 in batches of ``batch_size``
    (sorted by length, so each batch pads little), and decoded. Nothing is split, nothing downloaded."""

    def __init__(self, package: Package, *, source: str | None = None, target: str | None = None,
                 batch_size: int = BATCH_SIZE, beam_size: int = 4, threads: int | None = None) -> None:
        self.package = package
        self.source = source or package.from_code
        self.target = target or package.to_code
        self.info = EngineInfo("argos", package.name, package.version)
        self.batch_size = batch_size
        self.beam_size = beam_size  # as argostranslate (ARGOS_BEAM_SIZE's default)
        self.threads = threads or _cores()
        self._model = None
        self._sp = None

    def _load(self) -> None:
        import ctranslate2
        import sentencepiece

        path = self.package.path
        try:
            self._sp = sentencepiece.SentencePieceProcessor(model_file=str(path / "sentencepiece.model"))
            # One batch at a time, so one translator thread using all cores; "auto": int8 where the CPU has it.
            self._model = ctranslate2.Translator(str(path / "model"), device="cpu", compute_type="auto",
                                                 inter_threads=1, intra_threads=self.threads)
        except Exception as err:  # the C++ side throws what it throws: IndexError, RuntimeError, OSError…
            raise TranslationError(f"{path}: cannot load {self.package.name}: {_first_line(err)}; install it "
                                   "again with `polyalign models install FILE`") from err

    def translate(self, sentences: list[str]) -> list[str]:
        if self._model is None:
            self._load()
        pieces = [self._sp.encode(s, out_type=str) if s.strip() else [] for s in sentences]
        out = [""] * len(sentences)  # an empty sentence stays empty, unseen by the model
        todo = sorted((i for i, p in enumerate(pieces) if p), key=lambda i: len(pieces[i]))
        prefix = self.package.target_prefix
        for start in range(0, len(todo), self.batch_size):
            batch = todo[start:start + self.batch_size]
            longest = max(len(pieces[i]) for i in batch)
            try:
                results = self._model.translate_batch(
                    [pieces[i] for i in batch], target_prefix=[[prefix]] * len(batch) if prefix else None,
                    beam_size=self.beam_size, length_penalty=0.2, replace_unknowns=True,  # as argostranslate
                    max_decoding_length=max(256, 2 * longest))
            except Exception as err:  # as in _load
                raise TranslationError(f"{self.package.path}: {self.package.name} failed: {_first_line(err)}") \
                    from err
            for i, result in zip(batch, results):
                tokens = result.hypotheses[0]
                if prefix and tokens[:1] == [prefix]:
                    tokens = tokens[1:]
                out[i] = self._sp.decode(tokens).strip()
        return out


class PivotTranslator:
    """Two translators in a row (nb → en → es): the output of the first is the input of the second."""

    def __init__(self, first: Translator, second: Translator) -> None:
        self.first, self.second = first, second
        self.source, self.target = first.source, second.target
        self.info = EngineInfo(first.info.engine, f"{first.info.model}+{second.info.model}",
                               f"{first.info.version}+{second.info.version}")

    def translate(self, sentences: list[str]) -> list[str]:
        return self.second.translate(self.first.translate(sentences))


def _fits(package: Package, source: str, target: str) -> bool:
    """Whether ``package`` translates source → target, under any code it may use for them (no for nb)."""
    return package.from_code in ALIASES.get(source, (source,)) and package.to_code in ALIASES.get(target, (target,))


def _best(source: str, target: str, packages: list[Package]) -> Package | None:
    """The newest installed package for source → target."""
    return max((p for p in packages if _fits(p, source, target)), key=lambda p: _version_key(p.version),
               default=None)


def find_translator(source: str, target: str) -> Translator | None:
    """The best installed way from ``source`` to ``target``: a direct package, else source → en → target
    when both are installed; None when nothing fits (``needed_packages`` then says what to install).
    Cheap: no model is loaded before the first ``translate``."""
    if source == target:
        return None
    packages = installed()
    direct = _best(source, target, packages)
    if direct:
        return ArgosTranslator(direct, source=source, target=target)
    if PIVOT in (source, target):
        return None
    first, second = _best(source, PIVOT, packages), _best(PIVOT, target, packages)
    if first and second:
        return PivotTranslator(ArgosTranslator(first, source=source, target=PIVOT),
                               ArgosTranslator(second, source=PIVOT, target=target))
    return None


def needed_packages(source: str, target: str) -> str:
    """One line for the error when ``find_translator`` finds nothing: which Argos packages would make
    source → target possible (direct, or both legs through English), and how to install them."""
    direct = package_name(source, target)
    if PIVOT in (source, target):
        return (f"no Argos package translates {source}→{target} here; install {direct} with `polyalign models "
                f"install FILE.argosmodel` for a file you have, or `polyalign models fetch {source} {target}` "
                "where there is a network")
    packages = installed()
    legs = [(source, PIVOT), (PIVOT, target)]
    missing = [leg for leg in legs if not _best(*leg, packages)]
    have = [package_name(*leg) for leg in legs if leg not in missing]
    if not missing:
        return f"{source}→{target} needs nothing more: it goes through English with {' and '.join(have)}"
    legs_needed = " and ".join(package_name(*leg) for leg in missing)
    fetches = " and ".join(f"`polyalign models fetch {a} {b}`" for a, b in missing)
    return (f"no Argos package translates {source}→{target} here; install {direct}, or {legs_needed} to "
            f"translate through English{f' ({have[0]} is installed)' if have else ''}, with `polyalign models "
            f"install FILE.argosmodel` for each file you have, or {fetches} where there is a network")
