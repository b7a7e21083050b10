"""polyalign review's server: the token, Host and Origin checks, the JSON API, conflicts, the TMX download, and
the command that starts it."""
from __future__ import annotations

import http.client
import json
import os
import signal
import subprocess
import sys
from pathlib import Path
from urllib.parse import urlsplit

import pytest

from polyalign.align.review.server import ReviewServer
from polyalign.align.review.session import ReviewSession
from polyalign.tei.validate import validate
from tests.review_samples import pair_tei


@pytest.fixture
def server(tmp_path: Path):
    running = ReviewServer(ReviewSession.open(pair_tei(tmp_path / "pair.xml"), "Kari")).start()
    yield running
    running.stop()


def request(server: ReviewServer, method: str, path: str, body: object = None, **headers: str):
    """One request; ``path`` relative to the page's URL unless it starts with /. Returns (status, JSON or bytes)."""
    connection = http.client.HTTPConnection("127.0.0.1", server.port, timeout=30)
    url = path if path.startswith("/") else urlsplit(server.url).path + path
    data = None if body is None else json.dumps(body).encode()
    headers = {k.replace("_", "-"): v for k, v in headers.items()}
    if data is not None:
        headers.setdefault("Content-Type", "application/json")
    connection.request(method, url, body=data, headers=headers)
    response = connection.getresponse()
    raw = response.read()
    connection.close()
    try:
        return response.status, json.loads(raw)
    except ValueError:
        return response.status, raw


def test_listens_on_loopback_only(server: ReviewServer) -> None:
    assert server.sockets[0].getsockname()[0] == "127.0.0.1"
    assert server.url.startswith(f"http://127.0.0.1:{server.port}/") and len(server.token) >= 32


def test_the_page_and_its_files_need_the_token(server: ReviewServer) -> None:
    status, page = request(server, "GET", "")
    assert status == 200 and b"review.js" in page
    assert request(server, "GET", "static/review.js")[0] == 200
    for path in ("/", "/static/review.js", "/api/state", "/wrong-token/api/state", f"/{server.token[:-1]}x/"):
        assert request(server, "GET", path)[0] == 403, path
    assert request(server, "POST", "/wrong/api/edit", {"op": "confirm", "args": {"row": 0}})[0] == 403
    assert request(server, "GET", "static/../session.py")[0] in (403, 404)


def test_another_host_or_origin_is_refused(server: ReviewServer) -> None:
    assert request(server, "GET", "api/state", Host=f"evil.example:{server.port}")[0] == 403
    assert request(server, "GET", "api/state", Host=f"localhost:{server.port}")[0] == 200
    rev = request(server, "GET", "api/state")[1]["rev"]
    edit = {"op": "confirm", "args": {"row": 0}, "rev": rev}
    assert request(server, "POST", "api/edit", edit, Origin="http://evil.example")[0] == 403
    assert request(server, "POST", "api/edit", edit, Origin=f"http://127.0.0.2:{server.port}")[0] == 403
    assert server.session.joint.rows[0].status.value == "auto"  # nothing refused was done
    status, state = request(server, "POST", "api/edit", edit, Origin=f"http://127.0.0.1:{server.port}")
    assert status == 200 and state["rows"][0]["status"] == "confirmed"


def test_an_edit_must_be_json(server: ReviewServer) -> None:
    rev = request(server, "GET", "api/state")[1]["rev"]
    body = {"op": "confirm", "args": {"row": 0}, "rev": rev}
    assert request(server, "POST", "api/edit", body, Content_Type="text/plain")[0] == 415


def test_edits_undo_and_a_stale_revision(server: ReviewServer) -> None:
    state = request(server, "GET", "api/state")[1]
    rows = len(state["rows"])
    status, merged = request(server, "POST", "api/edit", {"op": "merge", "args": {"row": 0}, "rev": state["rev"]})
    assert status == 200 and len(merged["rows"]) == rows - 1 and merged["canUndo"]
    assert validate(server.session.path) == []
    # a second tab still holding the first revision is told, and its edit is not made
    status, answer = request(server, "POST", "api/edit", {"op": "confirm", "args": {"row": 3}, "rev": state["rev"]})
    assert status == 409 and answer["conflict"] and server.session.joint.rows[3].status.value == "auto"
    status, undone = request(server, "POST", "api/undo", {"rev": merged["rev"]})
    assert status == 200 and len(undone["rows"]) == rows and undone["canRedo"]
    status, answer = request(server, "POST", "api/edit", {"op": "merge", "args": {"row": 999}, "rev": undone["rev"]})
    assert status == 400 and "no row 1000" in answer["error"]


def test_a_file_changed_by_another_process_is_a_conflict_until_reloaded(server: ReviewServer) -> None:
    rev = request(server, "GET", "api/state")[1]["rev"]
    other = ReviewSession.open(server.session.path, "Ola")
    other.apply("confirm", {"row": 2}, other.digest)
    status, answer = request(server, "POST", "api/edit", {"op": "confirm", "args": {"row": 0}, "rev": rev})
    assert status == 409 and "another process" in answer["error"]
    status, state = request(server, "POST", "api/reload", {})
    assert status == 200 and state["rows"][2]["status"] == "confirmed" and state["rev"] != rev


def test_export_downloads_the_confirmed_rows(server: ReviewServer) -> None:
    rev = request(server, "GET", "api/state")[1]["rev"]
    request(server, "POST", "api/edit", {"op": "confirm", "args": {"row": 1}, "rev": rev})
    status, tmx = request(server, "GET", "api/export.tmx")
    assert status == 200 and tmx.count(b"<tu ") == 1 and b"<tmx" in tmx


def test_the_command_serves_until_ctrl_c(tmp_path: Path) -> None:
    tei = pair_tei(tmp_path / "pair.xml")
    process = subprocess.Popen([sys.executable, "-m", "polyalign.align.cli", "review", str(tei), "--no-browser",
                                "--reviewer", "Kari"], stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                               env={**os.environ, "PYTHONUNBUFFERED": "1"})
    try:
        url = process.stdout.readline().strip()
        parts = urlsplit(url)
        assert parts.hostname == "127.0.0.1" and len(parts.path.strip("/")) >= 32
        connection = http.client.HTTPConnection(parts.hostname, parts.port, timeout=30)
        connection.request("GET", parts.path + "api/state")
        assert json.loads(connection.getresponse().read())["reviewer"] == "Kari"
    finally:
        process.send_signal(signal.SIGINT)
        _, err = process.communicate(timeout=30)
    assert process.returncode == 0 and "stopped" in err and "Traceback" not in err


def test_the_command_refuses_what_it_cannot_review(tmp_path: Path) -> None:
    text = tmp_path / "a.txt"
    text.write_text("Hello.", encoding="utf-8")
    result = subprocess.run([sys.executable, "-m", "polyalign.align.cli", "review", str(text), "--no-browser"],
                            capture_output=True, text=True, timeout=60)
    assert result.returncode == 1 and result.stderr.strip().startswith("polyalign: error:")
    assert str(text) in result.stderr and len(result.stderr.strip().splitlines()) == 1


def test_the_command_has_an_example_in_its_help() -> None:
    result = subprocess.run([sys.executable, "-m", "polyalign.align.cli", "review", "--help"], capture_output=True,
                            text=True, timeout=60)
    assert result.returncode == 0 and "Example:" in result.stdout and "--reviewer" in result.stdout
