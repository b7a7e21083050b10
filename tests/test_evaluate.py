import json
from pathlib import Path

import pytest

from polyalign.align.evaluate import Counts, IndexBead, Report, evaluate, read_beads, score_document

TEXTBERG_DEV = Path(__file__).resolve().parents[1] / ".." / "shared" / "eval" / "textberg-dev"


def beads(*pairs):
    return [IndexBead(tuple(s), tuple(t)) for s, t in pairs]


def write(path: Path, text: str) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text, encoding="utf-8")
    return path


# --- scoring, hand-computed -------------------------------------------------------------------------


def test_strict_versus_lax():
    gold = beads(([0], [0]), ([1], [1]), ([2, 3], [2]))
    test = beads(([0], [0]), ([1, 2], [1]), ([3], [2]))
    # Only [0]:[0] is identical; the other two test beads each share a pair with gold: (1,1) and (3,2).
    counts = score_document(gold, test)
    assert counts == Counts(test=3, strict_test=1, lax_test=3, gold=3, strict_gold=1, lax_gold=3)
    strict, lax = counts.score
    assert strict == pytest.approx((1 / 3, 1 / 3, 1 / 3))
    assert lax == pytest.approx((1.0, 1.0, 1.0))


def test_null_beads():
    gold = beads(([0], [0]), ([], [1]), ([1], [2]), ([2], []))
    test = beads(([0], [0]), ([], [1]), ([1], []), ([], [2]), ([2], []))
    # Precision over all 5 test beads: [0]:[0] and the two null beads gold also has are hits;
    # [1]:[] and []:[2] are not, even laxly, though gold aligns 1 with 2.
    # Recall over the 2 non-null gold beads: [1]:[2] is missed, and test nulls cannot recover it.
    counts = score_document(gold, test)
    assert counts == Counts(test=5, strict_test=3, lax_test=3, gold=2, strict_gold=1, lax_gold=1)
    strict, lax = counts.score
    assert strict.precision == pytest.approx(0.6)
    assert strict.recall == pytest.approx(0.5)
    assert strict.f1 == pytest.approx(2 * 0.6 * 0.5 / 1.1)
    assert lax == strict


def test_missed_gold_deletion_costs_no_recall():
    gold = beads(([0], [0]), ([1], []), ([2], [1]))
    test = beads(([0], [0]), ([1, 2], [1]))
    counts = score_document(gold, test)
    assert counts == Counts(test=2, strict_test=1, lax_test=2, gold=2, strict_gold=1, lax_gold=2)
    assert counts.score.lax.recall == 1.0


def test_gold_that_omits_a_bead():
    """Text+Berg's gold leaves some sentences out; a test bead there only costs precision."""
    gold = beads(([0], [0]), ([2], [2]))
    test = beads(([0], [0]), ([1], [1]), ([2], [2]))
    strict, lax = score_document(gold, test).score
    assert strict == pytest.approx((2 / 3, 1.0, 0.8))
    assert lax == strict


def test_repeated_and_empty_beads_are_ignored():
    gold = beads(([0], [0]), ([1], [1]))
    test = beads(([0], [0]), ([0], [0]), ([], []), ([1], [1]))
    assert score_document(gold, test) == Counts(2, 2, 2, 2, 2, 2)


def test_plain_index_lists_are_beads_too():
    """As Alignment.as_indices() gives them."""
    gold = [([0], [0]), ([1, 2], [1])]
    assert score_document(gold, [([0], [0]), ([1, 2], [1])]) == Counts(2, 2, 2, 2, 2, 2)


def test_nothing_to_divide_by_gives_zero():
    assert score_document([], []).score == ((0.0, 0.0, 0.0), (0.0, 0.0, 0.0))
    strict, _ = score_document(beads(([0], [0])), []).score
    assert strict == (0.0, 0.0, 0.0)


def test_micro_average_sums_counts_before_dividing():
    a = score_document(
        beads(([0], [0]), ([1], [1]), ([2, 3], [2])), beads(([0], [0]), ([1, 2], [1]), ([3], [2]))
    )
    b = score_document(beads(([0], [0])), beads(([0], [0])))
    report = Report({"a": a, "b": b})
    assert report.micro == Counts(4, 2, 4, 4, 2, 4)
    strict = report.micro.score.strict
    assert strict.precision == pytest.approx(2 / 4)  # the mean of 1/3 and 1 would be 2/3
    assert strict.f1 == pytest.approx(0.5)


# --- reading bead files -----------------------------------------------------------------------------


def test_read_beads(tmp_path):
    text = "[0]:[0]\n\n[1, 2]:[3]\n[]:[4]\n[3]:[]\n  [4,5] : [5, 6] : 0.93\n[6]:[7]:-1e-3"
    path = write(tmp_path / "a.txt", text)
    assert read_beads(path) == beads(
        ([0], [0]), ([1, 2], [3]), ([], [4]), ([3], []), ([4, 5], [5, 6]), ([6], [7])
    )


@pytest.mark.parametrize(
    "line, problem",
    [
        ("[1, 2]-[3]", "expected a bead"),
        ("[1]:[2]:0.5:9", "expected a bead"),
        ("1:[2]", "source side '1'"),
        ("[1]:[a]", "target side '[a]'"),
        ("[-1]:[2]", "source side"),
        ("[1,]:[2]", "source side"),
        ("[1]:[2]:high", "third field 'high' is not a score"),
    ],
)
def test_read_beads_errors(tmp_path, line, problem):
    path = write(tmp_path / "bad.txt", f"[0]:[0]\n\n{line}\n")
    with pytest.raises(ValueError) as info:
        read_beads(path)
    message = str(info.value)
    assert message.startswith(f"{path}:3: ")
    assert problem in message
    assert "\n" not in message


# --- evaluate: files, folders, report ---------------------------------------------------------------


def test_evaluate_two_files(tmp_path):
    gold = write(tmp_path / "doc1" / "gold.txt", "[0]:[0]\n[1]:[1]\n")
    test = write(tmp_path / "out.txt", "[0]:[0]\n[1]:[1]\n")
    report = evaluate(gold, test)
    assert list(report.documents) == ["doc1"]
    assert report.micro.score.strict.f1 == 1.0


def make_gold_set(root: Path) -> Path:
    """A set in the shared/eval layout: a folder per document with src, tgt and gold."""
    for doc, gold in {"Emma": "[0]:[0]\n[1]:[1]\n", "Candide": "[0, 1]:[0]\n[]:[1]\n"}.items():
        write(root / doc / "src.txt", "One.\nTwo.\n")
        write(root / doc / "tgt.txt", "Un.\nDeux.\n")
        write(root / doc / "src.tok.txt", "One .\nTwo .\n")
        write(root / doc / "gold.txt", gold)
    write(root / "README.md", "# a set\n")
    return root


def test_evaluate_folders_pair_documents_by_name(tmp_path):
    gold = make_gold_set(tmp_path / "gold")
    write(tmp_path / "test" / "Emma.txt", "[0]:[0]\n[1]:[1]\n")  # flat <doc>.txt
    write(tmp_path / "test" / "Candide" / "run.beads", "[0]:[0]\n[1]:[1]\n")  # <doc>/<anything>
    write(tmp_path / "test" / "Candide" / "src.txt", "One.\nTwo.\n")  # ignored
    (tmp_path / "test" / "logs").mkdir()  # no bead file: not a document
    report = evaluate(gold, tmp_path / "test")
    assert list(report.documents) == ["Candide", "Emma"]
    assert report.documents["Emma"] == Counts(2, 2, 2, 2, 2, 2)
    # Candide: test [0]:[0] shares (0,0) with gold [0, 1]:[0]; test [1]:[1] shares nothing.
    assert report.documents["Candide"] == Counts(
        test=2, strict_test=0, lax_test=1, gold=1, strict_gold=0, lax_gold=1
    )


def test_evaluate_gold_against_itself_as_folders(tmp_path):
    gold = make_gold_set(tmp_path / "gold")
    report = evaluate(gold, gold)
    assert report.micro.score.strict.f1 == 1.0


def test_document_on_one_side_only(tmp_path):
    gold = make_gold_set(tmp_path / "gold")
    write(tmp_path / "test" / "Emma.txt", "[0]:[0]\n")
    with pytest.raises(ValueError, match="no test alignment for document Candide") as info:
        evaluate(gold, tmp_path / "test")
    assert "\n" not in str(info.value)
    write(tmp_path / "test" / "Candide.txt", "[0]:[0]\n")
    write(tmp_path / "test" / "Extra.txt", "[0]:[0]\n")
    with pytest.raises(ValueError, match="no gold for document Extra"):
        evaluate(gold, tmp_path / "test")


def test_several_bead_files_in_one_document_folder(tmp_path):
    gold = make_gold_set(tmp_path / "gold")
    write(tmp_path / "test" / "Emma" / "a.txt", "[0]:[0]\n")
    write(tmp_path / "test" / "Emma" / "b.txt", "[0]:[0]\n")
    with pytest.raises(ValueError, match="several bead files"):
        evaluate(gold, tmp_path / "test")


def test_document_both_as_file_and_folder(tmp_path):
    write(tmp_path / "test" / "Emma.txt", "[0]:[0]\n")
    write(tmp_path / "test" / "Emma" / "beads.txt", "[0]:[0]\n")
    with pytest.raises(ValueError, match="document 'Emma' is both Emma/ and Emma.txt"):
        evaluate(tmp_path / "test", tmp_path / "test")


def test_file_against_folder_is_an_error(tmp_path):
    gold = make_gold_set(tmp_path / "gold")
    with pytest.raises(ValueError, match="two bead files or two folders"):
        evaluate(gold / "Emma" / "gold.txt", gold)
    with pytest.raises(ValueError, match="no such file"):
        evaluate(gold, tmp_path / "missing")


def test_report_prints_a_table_and_a_dict():
    report = Report(
        {
            "Candide": Counts(test=4, strict_test=3, lax_test=4, gold=3, strict_gold=2, lax_gold=3),
            "Emma": Counts(2, 2, 2, 2, 2, 2),
        }
    )
    lines = str(report).splitlines()
    assert lines[0].split() == "document | strict P R F1 | lax P R F1 | test gold".split()
    assert lines[2].split() == "Candide | 0.750 0.667 0.706 | 1.000 1.000 1.000 | 4 3".split()
    assert lines[-1].split() == "micro | 0.833 0.800 0.816 | 1.000 1.000 1.000 | 6 5".split()
    assert len({len(line) for line in lines}) == 1  # columns line up
    data = json.loads(json.dumps(report.to_dict()))
    assert data["micro"]["strict"]["precision"] == pytest.approx(5 / 6)
    assert data["documents"]["Emma"]["counts"]["gold"] == 2


# --- the real development set -----------------------------------------------------------------------


@pytest.mark.skipif(
    not TEXTBERG_DEV.is_dir(), reason=f"no gold set at {TEXTBERG_DEV} (shared/ is not beside the repo)"
)
def test_textberg_dev_gold(tmp_path):
    gold_file = TEXTBERG_DEV / "dev" / "gold.txt"
    gold = read_beads(gold_file)
    assert len(gold) == 422

    report = evaluate(TEXTBERG_DEV, TEXTBERG_DEV)
    assert list(report.documents) == ["dev"]
    assert report.micro.score.strict.f1 == 1.0
    assert report.micro.score.lax.f1 == 1.0

    # Every target index one too high: no bead survives exactly, and few even overlap.
    shifted = "".join(f"{list(b.source)}:{[t + 1 for t in b.target]}\n" for b in gold)
    write(tmp_path / "dev.txt", shifted)
    strict, lax = evaluate(gold_file, tmp_path / "dev.txt").micro.score
    assert strict.f1 < 0.1
    assert lax.f1 < 0.5
