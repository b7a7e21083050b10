"""polyalign review on a large alignment: how long a 5,000-row TEI takes to open, and how smoothly it scrolls.

Builds a made-up TEI of ROWS 1-1 links (two versions), serves it as ``polyalign review`` does and opens it in
Debian's headless Chromium (Playwright, ``executable_path``; nothing is downloaded). Prints: reading the file
into a session; the page from navigation to its first rows drawn; the size of the state it loads; a programmatic
scroll from top to bottom over SECONDS, in frames (intervals between animation frames: median, 95th percentile,
longest, and how many took over 50 ms); a jump to the end; and one edit (confirm) saved, round trip. Not a test:
figures only, so run it on a quiet machine.

    .venv/bin/python tests/benchmarks/review_open.py [ROWS]
"""
from __future__ import annotations

import statistics
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(REPO))

from playwright.sync_api import expect, sync_playwright  # noqa: E402

from polyalign.align.review.server import ReviewServer  # noqa: E402
from polyalign.align.review.session import ReviewSession  # noqa: E402
from tests.review_samples import large_tei  # noqa: E402

SECONDS = 3.0
SCROLL = """async (seconds) => {
  const port = document.getElementById('viewport');
  const end = port.scrollHeight - port.clientHeight;
  const frames = [];
  let last = performance.now();
  const start = last;
  await new Promise((done) => {
    function frame(now) {
      frames.push(now - last); last = now;
      const t = Math.min(1, (now - start) / (seconds * 1000));
      port.scrollTop = t * end;
      if (t < 1) requestAnimationFrame(frame); else done();
    }
    requestAnimationFrame(frame);
  });
  await new Promise((done) => requestAnimationFrame(() => requestAnimationFrame(done)));  // the last draw
  return { frames, rowsInDom: document.querySelectorAll('.row').length, lastRow: document.querySelector('.row:last-child').dataset.row };
}"""


def main(rows: int = 5000) -> None:
    with tempfile.TemporaryDirectory() as folder:
        path = large_tei(Path(folder) / "large.xml", rows)
        print(f"{rows} rows, TEI {path.stat().st_size / 1e6:.1f} MB")
        started = time.perf_counter()
        session = ReviewSession.open(path, "bench")
        print(f"read into a session: {time.perf_counter() - started:.2f} s")
        server = ReviewServer(session).start()
        try:
            with sync_playwright() as playwright:
                browser = playwright.chromium.launch(executable_path="/usr/bin/chromium",
                                                     args=["--disable-gpu", "--no-first-run"])
                page = browser.new_page(viewport={"width": 1400, "height": 900})
                started = time.perf_counter()
                with page.expect_response(lambda r: r.url.endswith("api/state")) as state:
                    page.goto(server.url)
                expect(page.locator(".row").first).to_be_visible(timeout=60_000)
                opened = time.perf_counter() - started
                state_size = len(state.value.body())
                print(f"page opened, first rows drawn: {opened:.2f} s (state {state_size / 1e6:.2f} MB JSON); "
                      f"{page.locator('.row').count()} rows in the DOM")
                result = page.evaluate(SCROLL, SECONDS)
                frames = result["frames"][1:]
                print(f"scroll top to bottom in {SECONDS:.0f} s: {len(frames)} frames, interval median "
                      f"{statistics.median(frames):.1f} ms, p95 {sorted(frames)[int(0.95 * len(frames))]:.1f} ms, "
                      f"longest {max(frames):.1f} ms, {sum(f > 50 for f in frames)} over 50 ms; "
                      f"{result['rowsInDom']} rows in the DOM at the end (last drawn: row {int(result['lastRow']) + 1})")
                started = time.perf_counter()
                page.keyboard.press("End")
                expect(page.locator(f'.row[data-row="{rows - 1}"]')).to_contain_class("selected")
                print(f"jump to the last row (End): {time.perf_counter() - started:.2f} s")
                started = time.perf_counter()
                page.keyboard.press("Enter")
                expect(page.locator("#message")).to_contain_text("confirm: saved", timeout=60_000)
                print(f"one edit (confirm), saved to the TEI and drawn: {time.perf_counter() - started:.2f} s")
                browser.close()
        finally:
            server.stop()


if __name__ == "__main__":
    main(int(sys.argv[1]) if len(sys.argv) > 1 else 5000)
