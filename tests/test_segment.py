"""Sentence and paragraph segmentation: the hard cases of shared/notes/segmentation.md, the seed article,
exact offsets, presplit input and both paragraph modes."""
from __future__ import annotations

import random
from pathlib import Path

import pytest

from polyalign.align.segment import segment

SEED = Path(__file__).resolve().parents[2] / "shared" / "seed" / "000_e4be283645939f9f.txt"

# Each case is a list of gold sentences; the test joins them with one space. "notes" cases are the
# "Cases worth keeping" of the notes; "abbreviations" cases exercise the lists' hard spots.
NOTES_CASES = {
    "nb": [
        ["Dr. Hansen kom kl. 14.30 til Oslo.", "Han hadde tatt toget fra Bergen."],
        ["Prisen var ca. 200 kr. pr. stk.", "Det var mer enn vi hadde regnet med."],
        ["Vi betaler bl.a. skatt, f.eks. moms, jf. § 3 nr. 2 i loven.", "Det gjelder alle."],
        ["Grunnlovsdagen ble feiret 17. mai 2024.", "Det regnet hele dagen."],
        ["Bestefar var soldat under 2. verdenskrig.", "Han snakket sjelden om det."],
        ["Saken er omtalt i St.meld. nr. 21 fra i fjor.", "Regjeringen står fast på den."],
        ["Kontoret ligger i Kongens gt. 5 i sentrum.", "Det er åpent hver dag."],
        ["Tilbudet gjelder t.o.m. 31. desember.", "Etter det blir prisen høyere."],
        ["«Kommer du?» spurte hun.", "Han svarte ikke."],
        ["Se s. 12 og kap. 3 (12).", "Der står resten."],
        ["Resultatet kom i 2023.(12)", "Den viste klar fremgang."],
        ["“Kommer du?” spurte hun.", "Han nølte … men kom til slutt."],
    ],
    "es": [
        ["El Sr. García llegó a las 10 a. m.", "Luego se fue a casa."],
        ["El Sr. García llegó a las 10 a. m. al trabajo.", "Nadie lo esperaba."],
        ["Mañana la atiende la Dra. Martínez.", "Llegue temprano."],
        ["Viajó a EE. UU. el año pasado.", "Volvió en mayo."],
        ["Las exportaciones a EE.UU. desde México crecieron.", "Las importaciones no."],
        ["La carta iba dirigida al Excmo. Sr. D. Juan Pérez.", "Nunca llegó."],
        ["Véase el cap. 3, pág. 45.", "Allí se explica todo."],
        ["¿Vienes mañana?", "¡Claro que sí!"],
        ["—¿Quién es? —preguntó ella.", "Nadie respondió."],
        ["«¿Estás seguro?», le preguntó.", "Él asintió."],
        ["El tren salió a las 14.30 de Madrid.", "Llegó tarde."],
    ],
    "en": [
        ["Mr. Smith arrived at 5 p.m. on Jan. 3.", "He was tired."],
        ["See e.g. Fig. 2 and Sec. 4.1 for the details.", "They are clear."],
        ["He lives at No. 10 Downing St. in London.", "It is an old house."],
        ["It appeared in Vol. 3, no. 2 of the journal.", "The issue is out of print."],
        ["She moved to Washington, D.C. last year.", "She likes it there."],
        ['"Are you coming?" she asked.', "He nodded."],
        ["They cut the lines so that people can’t block the operation”.(12)", "He decided to wait."],
        ["He came back earlier.[12]", "Another man came later."],
        ["Wait... what did you say?", "I said nothing."],
    ],
}

ABBREVIATION_CASES = {
    "nb": [
        ["Møtet ledes av Hr. Olsen.", "Han er ny i stillingen."],
        ["Styret består av leder, nestleder m.fl.", "Alle ble valgt i fjor."],
        ["Vi solgte epler, pærer osv.", "Neste år blir det mer."],
        ["Boka handler om epler, pærer osv. og hvordan de dyrkes.", "Den er nyttig."],
        ["Han var borte i tre uker, dvs. hele ferien.", "Ingen savnet ham."],
        ["Underskuddet var på 3 mill. kroner.", "I fjor var det 2 mill.", "Nå er det verre."],
        ["Metoden er beskrevet tidligere (s. 7).", "Den brukes fortsatt."],
        ["Det kostet 200 kr.", "Det var billig."],
        ["Han ble født 3. jan. 1950 i Tromsø.", "Han døde i 2020."],
        ["Dette gjelder bl.a. Oslo og Bergen.", "Andre byer kommer senere."],
        ["– Kommer du? – spurte hun.", "– Ja, svarte han."],
        ["Byen ble grunnlagt ca. 1050 e.Kr.", "Den vokste raskt."],
    ],
    "es": [
        ["Firmó la Lcda. Gómez.", "El documento es válido."],
        ["Según el art. 5 de la ley, el plazo es de un mes.", "No hay excepciones."],
        ["Vive en la calle Mayor, núm. 12.", "Es un piso antiguo."],
        ["Costó aprox. 20 euros.", "Fue barato."],
        ["Consulte el n.º 3 de la revista.", "Es el último."],
        ["Vinieron Juan, Pedro, Luis, etc.", "Todos eran amigos."],
        ["Trajeron libros, discos, etc. y otras cosas.", "Nada valía mucho."],
        ["La ciudad se fundó en el 200 a. C.", "Luego fue destruida."],
        ["Viajó a EE.UU.", "Allí trabajó dos años."],
        ["Esperó... y esperó.", "Nadie vino."],
        ["La Sra. López y el Dr. Ruiz llegaron juntos.", "Hablaron con el Sr. Pérez."],
    ],
    "en": [
        ["The meeting ended at 5 p.m.", "Everyone went home."],
        ["He works for Acme Inc. in Boston.", "It is a big firm."],
        ["He works for Acme Inc.", "He likes it."],
        ["Apple Inc. CEO Tim Cook spoke first.", "The others listened."],
        ["I said no.", "Then we left."],
        ["The results are on p. 7 of the report.", "They are striking (p. 9)."],
        ["It cost approx. $20 in total.", "That was cheap."],
        ["They met Mrs. Jones and Dr. Brown.", "Both were kind."],
        ["Bring fruit, e.g. apples, i.e. something sweet.", "Bring water too."],
        ["The U.S. Army confirmed it.", "No one was hurt."],
        ["Prices rose in Jan. and Feb.", "They fell in March."],
        ["They bought pens, paper, etc.", "Then they left."],
        ["He paused … and went on.", "Nobody noticed."],
        ["The Prime Minister lives at No. 10 Downing St.", "It is an old house."],
        ["They visited St. Paul's Cathedral.", "It was closed."],
        ["He moved to the U.S. in May.", "The company followed him to the U.S.", "Both did well."],
    ],
}


def _cases(table: dict[str, list[list[str]]]) -> list:
    return [
        pytest.param(lang, gold, id=f"{lang}:{gold[0][:40]}")
        for lang, cases in table.items()
        for gold in cases
    ]


def sentence_texts(text: str, lang: str) -> list[str]:
    return [s.text for s in segment(text, lang).sentences]


@pytest.mark.parametrize("lang,gold", _cases(NOTES_CASES))
def test_notes_case(lang: str, gold: list[str]) -> None:
    assert sentence_texts(" ".join(gold), lang) == gold


@pytest.mark.parametrize("lang,gold", _cases(ABBREVIATION_CASES))
def test_abbreviation_case(lang: str, gold: list[str]) -> None:
    assert sentence_texts(" ".join(gold), lang) == gold


def test_other_languages_use_the_same_interface() -> None:
    assert sentence_texts("Das ist gut. Wir gehen jetzt nach Hause.", "de") == [
        "Das ist gut.",
        "Wir gehen jetzt nach Hause.",
    ]
    assert sentence_texts("Det er godt. Vi går hjem.", "nb-NO") == ["Det er godt.", "Vi går hjem."]
    assert sentence_texts("Det kosta 200 kr. Det var fint.", "nn") == ["Det kosta 200 kr.", "Det var fint."]


# --- the seed article -------------------------------------------------------------------------------------

@pytest.fixture(scope="module")
def seed_text() -> str:
    if not SEED.is_file():
        pytest.skip(f"{SEED} is not there")
    return SEED.read_text(encoding="utf-8")


def test_seed_paragraphs_are_lines(seed_text: str) -> None:
    doc = segment(seed_text, "en")
    lines = [line.strip() for line in seed_text.splitlines() if line.strip()]
    assert [seed_text[p.start:p.end] for p in doc.paragraphs] == lines[:-30]  # the last 30 are its notes
    byline = doc.paragraphs[1]
    assert [s.text for s in byline.sentences] == ["Tekst og foto Anna Milena Kohte"]
    assert [s.text for s in doc.paragraphs[2].sentences] == ["jfkasfj ksaø"]


def test_seed_footnote_markers(seed_text: str) -> None:
    texts = [s.text for s in segment(seed_text, "en").sentences]
    assert not [t for t in texts if t.startswith("(")]
    assert any(t.endswith("alongside their mothers.(1)") for t in texts)
    assert any(t.endswith("(the Valley of the rivers Apurímac, Ene and Mantaro).(2)") for t in texts)
    assert "The recent attacks bring to the fore issues raised in my previous article." in texts
    assert any(t.endswith("people can’t block the operation”.(12)") for t in texts)
    assert any(t.startswith("He decided therefore to wait until the next morning") for t in texts)
    assert any(t.startswith("As I have written previously(10) the communities") for t in texts)


def test_seed_footnotes_are_notes_not_sentences(seed_text: str) -> None:
    doc = segment(seed_text, "en", "en")
    assert [n.label for n in doc.notes] == [str(k) for k in range(1, 31)]
    assert doc.notes[8].text == "Ibid." and doc.notes[8].id == "en.n9"
    assert doc.notes[0].text.startswith("Óscar Castilla C. and Ralph Zapata, ‘Voces desde la masacre")
    assert all(seed_text[n.start:n.end] == n.text for n in doc.notes)
    assert not any("Ibid." in s.text or "Hildebrandt en sus trece, Edition 541" in s.text for s in doc.sentences)


@pytest.mark.parametrize("text", [
    "Steps:\n1) Open it.\n2) Close it.\n",  # a numbered list, but no marker points at it
    "It works.(1)\n2) Not the first note.\n3) Nor this.\n",  # does not start at 1
    "It works.(1)\n1) Only one note.\n",  # one line is too little to call a list of notes
    "It works.(1)\n1) A note.\n3) A gap.\n",
    "It works.(1)\n1) A note.\n2) Another.\nAnd prose after them.\n",  # notes close a text
])
def test_numbered_lines_that_are_not_notes_stay_prose(text: str) -> None:
    doc = segment(text, "en")
    assert doc.notes == []
    check_invariants(text, doc)


def test_notes_in_other_numberings() -> None:
    text = "Det stemmer.(1) Og dette [2].\n\n(1) Kilde én.\n[2] Kilde to.\n"
    doc = segment(text, "nb")
    assert [(n.label, n.text) for n in doc.notes] == [("1", "Kilde én."), ("2", "Kilde to.")]
    assert [s.text for s in doc.sentences] == ["Det stemmer.(1)", "Og dette [2]."]


def test_seed_offsets_round_trip(seed_text: str) -> None:
    for mode in ("auto", "line", "blank"):
        check_invariants(seed_text, segment(seed_text, "en", paragraphs=mode))


# --- offsets ----------------------------------------------------------------------------------------------

def check_invariants(text: str, doc) -> None:
    assert doc.text is text
    last = 0
    for p in doc.paragraphs:
        assert p.start < p.end and text[p.start:p.end] == text[p.start:p.end].strip()
        for s in p.sentences:
            assert text[s.start:s.end] == s.text == s.text.strip() != ""
            assert p.start <= s.start and s.end <= p.end and last <= s.start
            last = s.end
    notes = "".join(text[text.rfind("\n", 0, n.start) + 1:n.end] for n in doc.notes)  # with their labels
    assert all(text[n.start:n.end] == n.text for n in doc.notes)
    assert "".join("".join(s.text.split()) for s in doc.sentences) + "".join(notes.split()) == "".join(text.split())


def random_text(rng: random.Random) -> str:
    pieces = [s for table in (NOTES_CASES, ABBREVIATION_CASES) for cases in table.values() for case in cases
              for s in case]
    gaps = [" ", "  ", "\n", "\n\n", " \n \t\n", "\t", "\r\n", "\u00a0", ""]
    return rng.choice(["", "  ", "\n"]) + "".join(
        rng.choice(pieces) + rng.choice(gaps) for _ in range(rng.randint(0, 12))
    )


@pytest.mark.parametrize("presplit", [False, True])
@pytest.mark.parametrize("mode", ["auto", "line", "blank"])
def test_nothing_but_whitespace_is_lost(mode: str, presplit: bool) -> None:
    rng = random.Random(f"{mode}{presplit}")
    for _ in range(60):
        text = random_text(rng)
        check_invariants(text, segment(text, rng.choice(["nb", "es", "en", "fr"]), paragraphs=mode,
                                       presplit=presplit))


def test_empty_and_blank_text() -> None:
    assert segment("", "en").paragraphs == []
    assert segment(" \n\n \t\n", "en", presplit=True).paragraphs == []


def test_ids_and_document_fields() -> None:
    doc = segment("One. Two.\nThree.", "en", name="en2", paragraphs="line", source="x.txt")
    assert [s.id for s in doc.sentences] == ["en2.p1.s1", "en2.p1.s2", "en2.p2.s1"]
    assert [p.id for p in doc.paragraphs] == ["en2.p1", "en2.p2"]
    assert (doc.lang, doc.name, doc.source) == ("en", "en2", "x.txt")
    assert segment("One.", "nb").sentences[0].id == "nb.p1.s1"


# --- presplit ---------------------------------------------------------------------------------------------

def test_presplit_without_blank_lines_is_one_paragraph() -> None:
    doc = segment("Dr. Hansen kom. Han gikk.\nOg så?\n", "nb", presplit=True)
    assert len(doc.paragraphs) == 1
    assert [s.text for s in doc.sentences] == ["Dr. Hansen kom. Han gikk.", "Og så?"]


def test_presplit_blank_lines_separate_paragraphs() -> None:
    text = "First line. Still first.\nsecond line\n\n\nThird line.\n"
    doc = segment(text, "en", presplit=True)
    assert [[s.text for s in p.sentences] for p in doc.paragraphs] == [
        ["First line. Still first.", "second line"],
        ["Third line."],
    ]
    assert [p.id for p in segment(text, "en", presplit=True, paragraphs="line").paragraphs] == [
        "en.p1", "en.p2", "en.p3"]


# --- paragraph modes --------------------------------------------------------------------------------------

WRAPPED = """\
It was the best of times, it was the worst of times, it was the age of
wisdom, it was the age of foolishness. It was the epoch of belief, it
was the epoch of incredulity.

There were a king with a large jaw and a queen with a plain face, on the
throne of England; there were a king with a large jaw and a queen with
a fair face, on the throne of France.
"""

ONE_PER_LINE = """\
The first paragraph has two sentences. This is the second.
A heading without a stop
The next paragraph. It follows the heading.

Another block starts here. It has one line only.
"""


def paragraph_texts(doc) -> list[str]:
    return [doc.text[p.start:p.end] for p in doc.paragraphs]


def test_blank_mode_joins_hard_wrapped_lines() -> None:
    doc = segment(WRAPPED, "en", paragraphs="blank")
    assert len(doc.paragraphs) == 2
    assert [len(p.sentences) for p in doc.paragraphs] == [2, 1]
    assert doc.sentences[0].text.endswith("age of\nwisdom, it was the age of foolishness.")


def test_line_mode_makes_each_line_a_paragraph() -> None:
    doc = segment(WRAPPED, "en", paragraphs="line")
    assert len(doc.paragraphs) == 6
    doc = segment(ONE_PER_LINE, "en", paragraphs="line")
    assert paragraph_texts(doc)[1] == "A heading without a stop"
    assert [len(p.sentences) for p in doc.paragraphs] == [2, 1, 2, 2]


def test_blank_mode_footnote_marker_before_a_hard_wrap() -> None:
    doc = segment("Among them were their\nmothers.(1)\nLately I wrote.", "en", paragraphs="blank")
    assert [s.text for s in doc.sentences] == ["Among them were their\nmothers.(1)", "Lately I wrote."]


def test_blank_mode_on_one_paragraph_per_line_text() -> None:
    doc = segment(ONE_PER_LINE, "en", paragraphs="blank")
    assert len(doc.paragraphs) == 2


@pytest.mark.parametrize("text,mode", [(WRAPPED, "blank"), (ONE_PER_LINE, "line")])
def test_auto_picks_the_mode(text: str, mode: str) -> None:
    assert paragraph_texts(segment(text, "en")) == paragraph_texts(segment(text, "en", paragraphs=mode))


def test_auto_on_a_single_wrapped_paragraph() -> None:
    text = WRAPPED.split("\n\n")[1]
    assert len(segment(text, "en").paragraphs) == 1


def test_unknown_paragraph_mode() -> None:
    with pytest.raises(ValueError):
        segment("x", "en", paragraphs="page")


def test_a_quoted_passage_is_split_into_its_sentences():
    text = "Han sa: «Det ble ikke vekslet et ord. Ingenting, ingenting. Barna, alle ble skutt.» Så gikk han."
    assert [s.text for s in segment(text, "nb").sentences] == [
        "Han sa: «Det ble ikke vekslet et ord.", "Ingenting, ingenting.", "Barna, alle ble skutt.»",
        "Så gikk han."]
    quoted_question = "«¿Vienes mañana? ¡Claro!», dijo el Sr. García."
    assert len(segment(quoted_question, "es").sentences) == 2
