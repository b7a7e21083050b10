"""The review page's local web server (tornado): the page's files and a small JSON API over a ReviewSession.

Safe by default: it listens on 127.0.0.1 only; every URL starts with a random token (``secrets``), so another
user of the machine or a web page cannot guess it; a request whose Host is not this server's (DNS rebinding)
or whose Origin is another site's is refused with 403, as is anything without the token. Edits are JSON
POSTs, which a foreign page cannot send without a preflight this server never grants.

API, under ``/<token>/``: ``GET api/state`` (the page's data), ``POST api/edit`` ``{op, args, rev}``,
``POST api/undo`` and ``api/redo`` ``{rev}``, ``POST api/realign`` ``{rev}``, ``POST api/reload``,
``GET api/export.tmx``. An edit against a stale ``rev`` answers 409 with ``conflict: true``.
"""
from __future__ import annotations

import asyncio
import json
import secrets
import threading
from importlib import resources
from pathlib import Path
from typing import Any, Callable

import tornado.web
from tornado.httpserver import HTTPServer
from tornado.netutil import bind_sockets

from polyalign.align.review.operations import EditError
from polyalign.align.review.session import Conflict, ReviewError, ReviewSession

HOST = "127.0.0.1"
STATIC = resources.files("polyalign.align.review") / "static"


class Guarded(tornado.web.RequestHandler):
    """Every handler: the token, the Host and the Origin are checked before anything else is done."""

    def initialize(self, review: "ReviewServer") -> None:
        self.review = review

    def prepare(self) -> None:
        token = self.path_kwargs.get("token", "")
        if not secrets.compare_digest(token.encode(), self.review.token.encode()):
            raise tornado.web.HTTPError(403, "no or wrong token")
        if self.request.headers.get("Host", "") not in self.review.hosts:
            raise tornado.web.HTTPError(403, "wrong Host")
        origin = self.request.headers.get("Origin")
        if origin is not None and origin not in self.review.origins:
            raise tornado.web.HTTPError(403, "wrong Origin")

    def set_default_headers(self) -> None:
        self.set_header("Cache-Control", "no-store")
        self.set_header("Referrer-Policy", "no-referrer")
        self.set_header("X-Content-Type-Options", "nosniff")
        self.set_header("Content-Security-Policy", "default-src 'self'; style-src 'self' 'unsafe-inline'")

    def write_error(self, status_code: int, **kwargs: Any) -> None:
        self.finish({"error": self._reason})

    def body(self) -> dict[str, Any]:
        if not self.request.headers.get("Content-Type", "").startswith("application/json"):
            raise tornado.web.HTTPError(415, "send JSON")
        try:
            data = json.loads(self.request.body or b"{}")
        except ValueError:
            raise tornado.web.HTTPError(400, "not JSON") from None
        if not isinstance(data, dict):
            raise tornado.web.HTTPError(400, "send a JSON object")
        return data

    def answer(self, message: str = "") -> None:
        self.write({**self.review.session.state(), "message": message})

    async def guarded_edit(self, edit: Callable[[], Any], message: Callable[[Any], str] = lambda _: "") -> None:
        """Run an edit of the session, one at a time; a conflict is 409, a refused edit 400."""
        async with self.review.lock:
            try:
                result = await edit()
            except Conflict as err:
                self.set_status(409)
                self.finish({"error": str(err), "conflict": True})
                return
            except (EditError, ReviewError) as err:
                self.set_status(400)
                self.finish({"error": str(err)})
                return
            self.answer(message(result))


class Refused(Guarded):
    """Any path without the token."""

    def prepare(self) -> None:
        raise tornado.web.HTTPError(403, "no or wrong token")


class Page(Guarded):
    def get(self, token: str) -> None:
        self.set_header("Content-Type", "text/html; charset=utf-8")
        self.write((STATIC / "index.html").read_bytes())


class Static(Guarded):
    TYPES = {".js": "text/javascript", ".css": "text/css", ".html": "text/html", ".svg": "image/svg+xml"}

    def get(self, token: str, name: str) -> None:
        names = {p.name for p in STATIC.iterdir()}
        if name not in names:  # only the shipped files, never a path outside the folder
            raise tornado.web.HTTPError(404, "no such file")
        self.set_header("Content-Type", self.TYPES.get(Path(name).suffix, "application/octet-stream") + "; charset=utf-8")
        self.write((STATIC / name).read_bytes())


class State(Guarded):
    def get(self, token: str) -> None:
        self.answer()


class Edit(Guarded):
    async def post(self, token: str) -> None:
        data = self.body()
        session = self.review.session

        async def edit() -> None:
            session.apply(str(data.get("op", "")), dict(data.get("args") or {}), data.get("rev"))
        await self.guarded_edit(edit)


class Step(Guarded):
    """Undo and redo (the server keeps the history, so every tab shares it and each step is saved)."""

    def initialize(self, review: "ReviewServer", op: str) -> None:
        super().initialize(review)
        self.op = op

    async def post(self, token: str) -> None:
        rev = self.body().get("rev")

        async def step() -> None:
            self.review.session.apply(self.op, {}, rev)
        await self.guarded_edit(step)


class Realign(Guarded):
    async def post(self, token: str) -> None:
        rev = self.body().get("rev")
        loop = asyncio.get_running_loop()

        def run() -> int:
            try:
                encoder = self.review.encoder()
            except Exception as err:  # a model that cannot load: say so on the page, keep serving
                raise ReviewError(f"cannot load the model to re-align: {err}") from None
            return self.review.session.realign(encoder, rev)

        async def realign() -> int:  # the model loads and aligns in a thread, so the page stays served
            return await loop.run_in_executor(None, run)
        await self.guarded_edit(realign, lambda count: f"re-aligned around the confirmed rows: {count} rows changed")


class Reload(Guarded):
    async def post(self, token: str) -> None:
        self.body()

        async def reload() -> None:  # another tab of this server saved: the session is current already
            if self.review.session.on_disk_changed():
                self.review.session.reload()
        await self.guarded_edit(reload, lambda _: "reloaded the saved file")


class Export(Guarded):
    def get(self, token: str) -> None:
        stem = self.review.session.path.stem
        self.set_header("Content-Type", "application/x-tmx+xml")
        self.set_header("Content-Disposition", f'attachment; filename="{stem}.confirmed.tmx"')
        self.write(self.review.session.export_tmx())


class ReviewServer:
    """A review of ``session`` served on 127.0.0.1:``port`` (0: any free port). ``encoder_factory`` makes the
    encoder for re-alignment, on the first request that needs one (loading a model takes seconds)."""

    def __init__(self, session: ReviewSession, port: int = 0,
                 encoder_factory: Callable[[], Any] | None = None) -> None:
        self.session = session
        self.token = secrets.token_urlsafe(24)
        self.sockets = bind_sockets(port, address=HOST)
        self.port = self.sockets[0].getsockname()[1]
        self.hosts = {f"{HOST}:{self.port}", f"localhost:{self.port}"}
        self.origins = {f"http://{host}" for host in self.hosts}
        self.lock = asyncio.Lock()
        self._encoder_factory = encoder_factory or _default_encoder
        self._encoder = None
        self._stopped: asyncio.Event | None = None
        self._loop: asyncio.AbstractEventLoop | None = None
        self._thread: threading.Thread | None = None

    @property
    def url(self) -> str:
        return f"http://{HOST}:{self.port}/{self.token}/"

    def encoder(self):
        if self._encoder is None:
            self._encoder = self._encoder_factory()
        return self._encoder

    def application(self) -> tornado.web.Application:
        kw = {"review": self}
        prefix = r"/(?P<token>[^/]+)/"
        return tornado.web.Application([
            (prefix, Page, kw),
            (prefix + r"static/(?P<name>[\w.-]+)", Static, kw),
            (prefix + r"api/state", State, kw),
            (prefix + r"api/edit", Edit, kw),
            (prefix + r"api/undo", Step, {**kw, "op": "undo"}),
            (prefix + r"api/redo", Step, {**kw, "op": "redo"}),
            (prefix + r"api/realign", Realign, kw),
            (prefix + r"api/reload", Reload, kw),
            (prefix + r"api/export\.tmx", Export, kw),
            (r".*", Refused, kw),
        ])

    async def serve(self, ready: Callable[[], None] = lambda: None) -> None:
        """Serve until ``stop``; every edit is saved when made, so stopping loses nothing."""
        self._loop = asyncio.get_running_loop()
        self._stopped = asyncio.Event()
        server = HTTPServer(self.application())
        server.add_sockets(self.sockets)
        ready()
        try:
            await self._stopped.wait()
        finally:
            server.stop()
            await server.close_all_connections()

    def run(self) -> None:
        """Serve in this thread until Ctrl-C."""
        try:
            asyncio.run(self.serve())
        except KeyboardInterrupt:
            pass

    def start(self) -> "ReviewServer":
        """Serve in a background thread (tests, the benchmark); returns once it accepts requests."""
        ready = threading.Event()
        self._thread = threading.Thread(target=lambda: asyncio.run(self.serve(ready.set)), daemon=True)
        self._thread.start()
        ready.wait(10)
        return self

    def stop(self) -> None:
        if self._loop is not None and self._stopped is not None:
            self._loop.call_soon_threadsafe(self._stopped.set)
        if self._thread is not None:
            self._thread.join(10)


def _default_encoder():
    from polyalign.align.embed import Encoder

    return Encoder()
