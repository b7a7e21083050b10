"""Make the README's screenshots of ``polyalign review`` on the samples, with the real aligner and browser.

Aligns samples/ojo.es.txt with samples/ojo.en.txt (Apertium's gloss included when it is installed) and the three
versions of ojo jointly, as ``polyalign align`` does, confirms a few rows as a reviewer would, and photographs
the page in Debian's headless Chromium: docs/review-pair.png, docs/review-joint.png, docs/review-help.png.

    .venv/bin/python docs/screenshots.py
"""
from __future__ import annotations

import subprocess
import sys
import tempfile
from pathlib import Path

from playwright.sync_api import expect, sync_playwright

from polyalign.align.review.server import ReviewServer
from polyalign.align.review.session import ReviewSession

REPO = Path(__file__).resolve().parents[1]
SAMPLES = REPO / "samples"
DOCS = REPO / "docs"


def align(out: Path, *files: str) -> Path:
    subprocess.run([sys.executable, "-m", "polyalign.align.cli", "align", *[str(SAMPLES / f) for f in files],
                    "--metadata", str(SAMPLES / "ojo.toml"), "-o", str(out)], check=True)
    return out


def photograph(browser, path: Path, name: str, keys: list[str], confirm: int = 0) -> None:
    session = ReviewSession.open(path, "Kari Nordmann")
    if confirm:
        session.apply("confirm_up_to", {"row": confirm - 1}, session.digest)
    server = ReviewServer(session).start()
    try:
        page = browser.new_page(viewport={"width": 1400, "height": 820})
        page.goto(server.url)
        expect(page.locator(".row").first).to_be_visible()
        for key in keys:
            page.keyboard.press(key)
            page.wait_for_timeout(300)
        page.screenshot(path=str(DOCS / name))
        print(f"wrote docs/{name}")
    finally:
        server.stop()


def main() -> None:
    with tempfile.TemporaryDirectory() as folder, sync_playwright() as playwright:
        pair = align(Path(folder) / "ojo.xml", "ojo.es.txt", "ojo.en.txt")
        joint = align(Path(folder) / "ojo3.xml", "ojo.en.txt", "ojo.nb.txt", "ojo.es.txt")
        browser = playwright.chromium.launch(executable_path="/usr/bin/chromium", args=["--disable-gpu", "--no-first-run"])
        photograph(browser, pair, "review-pair.png", ["ArrowDown"] * 4 + ["m"], confirm=4)
        photograph(browser, joint, "review-joint.png", ["w"], confirm=6)
        photograph(browser, joint, "review-help.png", ["?"])
        browser.close()


if __name__ == "__main__":
    main()
