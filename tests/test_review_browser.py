"""The review page end to end, in a real headless Chromium (Debian's ``chromium``, driven by Playwright).

No browser is ever downloaded: Playwright launches /usr/bin/chromium (``apt-get install chromium``; ``.ci/run``
installs it). Without it these tests skip, saying so."""
from __future__ import annotations

import shutil
import time
from pathlib import Path

import pytest

from polyalign.align.review.server import ReviewServer
from polyalign.align.review.session import ReviewSession
from polyalign.tei.reader import read_corpus
from polyalign.tei.validate import validate
from tests.review_samples import joint_tei, pair_tei

CHROMIUM = shutil.which("chromium") or "/usr/bin/chromium"
sync_api = pytest.importorskip("playwright.sync_api", reason="playwright is not installed: pip install -e '.[test]'")
expect = sync_api.expect
pytestmark = pytest.mark.skipif(not Path(CHROMIUM).exists(),
                                reason="Debian's chromium is not installed (apt-get install chromium; .ci/run does)")
# Chromium must not reach for the network; Playwright adds --no-sandbox itself when running as root.
CHROMIUM_ARGS = ["--disable-gpu", "--disable-background-networking", "--disable-component-update", "--no-first-run"]


@pytest.fixture(scope="module")
def browser():
    with sync_api.sync_playwright() as playwright:
        launched = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        yield launched
        launched.close()


def serve(path: Path, reviewer: str = "Kari") -> ReviewServer:
    return ReviewServer(ReviewSession.open(path, reviewer)).start()


@pytest.fixture
def review(tmp_path: Path):
    server = serve(pair_tei(tmp_path / "pair.xml", gloss=True))
    yield server
    server.stop()


def open_page(browser, url: str):
    page = browser.new_page(viewport={"width": 1300, "height": 800})
    errors: list[str] = []
    page.on("pageerror", lambda error: errors.append(str(error)))
    page.errors = errors
    page.goto(url)
    expect(page.locator(".row").first).to_be_visible()
    return page


def row(page, number: int):
    return page.locator(f'.row[data-row="{number}"]')


def test_the_page_shows_rows_bands_counts_gloss_and_minimap(browser, review: ReviewServer) -> None:
    page = open_page(browser, review.url)
    rows = len(review.session.joint.rows)
    expect(page.locator("#counts")).to_contain_text(f"0 confirmed")
    expect(page.locator("#counts")).to_contain_text(f"{rows} automatic")
    weak = sum(1 for r in review.session.joint.rows if r.confidence < 0.5)
    expect(page.locator("#counts [data-count=weak]")).to_have_text(f"{weak} weak")
    expect(page.locator("#heads div")).to_have_count(2)
    expect(row(page, 0).locator(".cell")).to_have_count(2)
    expect(row(page, 0)).to_have_class("row band-high st-auto selected")
    expect(row(page, 3)).to_contain_class("band-weak")
    expect(row(page, 0).locator(".gloss").first).to_contain_text("MT ")
    # only what is in view is drawn: far fewer rows in the DOM than in the alignment
    assert page.locator(".row").count() < rows
    box = page.locator("#minimap-canvas").bounding_box()
    assert box["height"] > 300 and box["width"] > 10
    page.keyboard.press("?")
    expect(page.locator("#help")).to_be_visible()
    expect(page.locator("#help-keys")).to_contain_text("merge with the next row")
    page.keyboard.press("Escape")
    expect(page.locator("#help")).to_be_hidden()
    assert page.errors == []


def test_merge_undo_confirm_save_and_reload(browser, review: ReviewServer) -> None:
    page = open_page(browser, review.url)
    rows = len(review.session.joint.rows)
    first = review.session.joint.rows[0].slots[0] + review.session.joint.rows[1].slots[0]
    page.keyboard.press("m")
    expect(page.locator("#counts")).to_contain_text(f"{rows - 1} rows")
    assert review.session.joint.rows[0].slots[0] == first
    assert read_corpus(review.session.path).alignments[0].beads[0].source == first  # saved already
    page.keyboard.press("Control+z")
    expect(page.locator("#counts")).to_contain_text(f"{rows} rows")
    page.keyboard.press("Control+y")
    expect(page.locator("#counts")).to_contain_text(f"{rows - 1} rows")
    page.keyboard.press("Control+z")
    expect(page.locator("#counts")).to_contain_text(f"{rows} rows")
    page.keyboard.press("Enter")  # confirm row 1, go to row 2
    expect(row(page, 0)).to_contain_class("st-confirmed")
    expect(row(page, 1)).to_contain_class("selected")
    page.keyboard.press("r")
    expect(row(page, 1)).to_contain_class("st-rejected")
    page.reload()
    expect(row(page, 0)).to_contain_class("st-confirmed")
    expect(row(page, 1)).to_contain_class("st-rejected")
    expect(page.locator("#counts")).to_contain_text(f"1 confirmed")
    assert validate(review.session.path) == []
    saved = read_corpus(review.session.path).alignments[0].beads
    assert [b.status.value for b in saved[:3]] == ["confirmed", "rejected", "auto"]
    assert saved[0].resp == "rev.Kari" and len(saved) == rows
    assert review.session.backup is not None and review.session.backup.exists()
    assert page.errors == []


def test_a_row_clicked_while_an_edit_is_saving_stays_selected(browser, review: ReviewServer) -> None:
    """Enter confirms and moves on to the next row, but only if the reviewer has not clicked another row while the
    confirmation was saving: the click wins, and the next key acts on the row clicked."""
    session = review.session
    saving = session.apply

    def slow_apply(op: str, args: dict, rev: str | None) -> None:
        time.sleep(0.6)  # a slow disk: the answer comes back after the click
        saving(op, args, rev)
    session.apply = slow_apply
    page = open_page(browser, review.url)
    merged = session.joint.rows[5].slots[0] + session.joint.rows[6].slots[0]
    page.keyboard.press("Enter")
    row(page, 5).locator(".num").click()
    expect(row(page, 0)).to_contain_class("st-confirmed")
    expect(row(page, 5)).to_contain_class("selected")
    page.keyboard.press("m")
    expect(page.locator("#message")).to_contain_text("merge: saved")
    assert session.joint.rows[5].slots[0] == merged
    assert page.errors == []


def test_the_mouse_does_it_too(browser, review: ReviewServer) -> None:
    page = open_page(browser, review.url)
    row(page, 4).locator(".num").click()
    page.get_by_role("button", name="✓↑ Up to here").click()
    expect(page.locator("#counts [data-count=confirmed]")).to_have_text("5 confirmed")
    page.get_by_role("button", name="· Unconfirm").click()
    expect(page.locator("#counts [data-count=confirmed]")).to_have_text("4 confirmed")
    expect(row(page, 4)).to_contain_class("st-auto")
    page.get_by_role("button", name="↶ Undo").click()
    page.get_by_role("button", name="↶ Undo").click()
    expect(page.locator("#counts [data-count=confirmed]")).to_have_text("0 confirmed")
    assert page.errors == []


def test_split_a_sentence_at_the_cursor_and_join_it_again(browser, review: ReviewServer) -> None:
    page = open_page(browser, review.url)
    sentence = review.session.joint.documents[1].sentences[0]
    cut = sentence.text.index(" ", 10) + 1
    span = row(page, 0).locator(f'.s[data-id="{sentence.id}"]')
    span.click()
    span.evaluate("(el, at) => { const r = document.createRange(); r.setStart(el.firstChild, at); r.collapse(true);"
                  " const s = window.getSelection(); s.removeAllRanges(); s.addRange(r); }", cut)
    page.keyboard.press("s")
    second = row(page, 0).locator(f'.s[data-id="{sentence.id}.2"]')
    expect(second).to_have_text(sentence.text[cut:])
    assert validate(review.session.path) == []
    row(page, 0).locator(f'.s[data-id="{sentence.id}"]').click()
    page.keyboard.press("j")
    expect(second).to_have_count(0)
    expect(row(page, 0).locator(f'.s[data-id="{sentence.id}"]')).to_have_text(sentence.text)
    assert validate(review.session.path) == []
    assert page.errors == []


def test_move_a_sentence_and_mark_one_without_counterpart(browser, tmp_path: Path) -> None:
    server = serve(joint_tei(tmp_path / "joint.xml"))
    try:
        page = open_page(browser, server.url)
        rows = len(server.session.joint.rows)
        nb = server.session.joint.rows[1].slots[1][0]
        row(page, 1).locator(f'.s[data-id="{nb}"]').click()
        page.keyboard.press("Alt+ArrowUp")
        expect(row(page, 0).locator(f'.s[data-id="{nb}"]')).to_have_count(1)
        expect(row(page, 1).locator(".empty")).to_have_count(1)
        page.keyboard.press("Control+z")
        expect(row(page, 1).locator(f'.s[data-id="{nb}"]')).to_have_count(1)
        row(page, 1).locator(f'.s[data-id="{nb}"]').click()
        page.keyboard.press("0")
        expect(page.locator("#counts")).to_contain_text(f"{rows + 1} rows")
        assert validate(server.session.path) == []
        assert page.errors == []
    finally:
        server.stop()


def test_navigation_and_the_weak_filter(browser, review: ReviewServer) -> None:
    page = open_page(browser, review.url)
    rows = review.session.joint.rows
    weakest = min(range(len(rows)), key=lambda k: rows[k].confidence)
    page.keyboard.press("w")
    expect(row(page, weakest)).to_contain_class("selected")
    page.keyboard.press("f")
    weak = [k for k, r in enumerate(rows) if r.confidence < 0.5]
    expect(page.locator(".row")).to_have_count(len(weak))
    page.keyboard.press("f")
    row(page, 0).locator(".num").click()
    page.keyboard.press("Enter")
    page.keyboard.press("Home")
    page.keyboard.press("n")
    expect(row(page, 1)).to_contain_class("selected")
    # the minimap jumps: a click near its bottom selects a row near the end
    box = page.locator("#minimap").bounding_box()
    page.mouse.click(box["x"] + box["width"] / 2, box["y"] + box["height"] - 3)
    expect(row(page, len(rows) - 1)).to_contain_class("selected")
    assert page.errors == []


def test_two_tabs_cannot_overwrite_each_other(browser, review: ReviewServer) -> None:
    first, second = open_page(browser, review.url), open_page(browser, review.url)
    first.keyboard.press("Enter")
    expect(row(first, 0)).to_contain_class("st-confirmed")
    row(second, 2).locator(".num").click()
    second.keyboard.press("r")
    expect(second.locator("#conflict")).to_be_visible()
    expect(second.locator("#conflict")).to_contain_text("another tab")
    assert review.session.joint.rows[2].status.value == "auto"  # the stale tab's edit was not made
    second.get_by_role("button", name="Reload from disk").click()
    expect(second.locator("#conflict")).to_be_hidden()
    expect(row(second, 0)).to_contain_class("st-confirmed")
    second.keyboard.press("r")
    expect(row(second, 2)).to_contain_class("st-rejected")
    assert validate(review.session.path) == []


def test_a_url_without_the_token_is_refused(browser, review: ReviewServer) -> None:
    page = browser.new_page()
    assert page.goto(f"http://127.0.0.1:{review.port}/").status == 403
    assert page.goto(f"http://127.0.0.1:{review.port}/not-the-token/").status == 403
    assert page.goto(f"http://localhost:{review.port}/{review.token}/").status == 200


def test_realign_the_rest_from_the_page(browser, tmp_path: Path, encoder) -> None:
    server = ReviewServer(ReviewSession.open(pair_tei(tmp_path / "pair.xml"), "Kari"),
                          encoder_factory=lambda: encoder).start()
    try:
        page = open_page(browser, server.url)
        page.keyboard.press("Enter")  # confirm row 1
        row(page, 5).locator(".num").click()
        page.keyboard.press("m")  # a wrong merge of rows 6 and 7
        expect(page.locator("#message")).to_contain_text("merge: saved")
        page.keyboard.press("a")
        expect(page.locator("#message")).to_contain_text("rows changed", timeout=120_000)
        expect(row(page, 5)).to_contain_class("changed")
        expect(row(page, 0)).to_contain_class("st-confirmed")
        assert server.session.changed and validate(server.session.path) == []
        assert page.errors == []
    finally:
        server.stop()
