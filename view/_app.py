"""The archive browser as a Starlette app: the page, its JSON endpoints, media and assets.

Routes only parse the request, ask the ``Archive`` (one snapshot per request, ``read()``),
and render: the page through a Jinja2 template (autoescaped), data as the JSON of ``_wire``.
Loading the page (``/``) is the one moment the archive catches up (``refresh()``): a reload
shows what ``dmj run`` has archived since. Endpoints are plain functions, so Starlette runs
them in its thread pool and a slow reader never blocks another request. docs/view.md lists
the endpoints.
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any, cast

import msgspec
from dmj.machine.errors import DmjError, UsageError
from jinja2 import Environment, FileSystemLoader, StrictUndefined, select_autoescape
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import HTMLResponse, Response, StreamingResponse
from starlette.routing import Mount, Route
from starlette.staticfiles import StaticFiles
from starlette.types import ASGIApp

from ._guard import Guard
from ._highlight import words_highlighter
from ._media import MediaFolder
from ._pages import page_after, page_around, page_before
from ._source import EXPORT_FORMATS, Archive, Cursor
from ._wire import ErrorBody, conversation_list, message_page, search_page

__all__ = ["DEFAULT_LIMIT", "MAX_LIMIT", "build_app"]

HERE = Path(__file__).parent
DEFAULT_LIMIT = 50
MAX_LIMIT = 200
_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)


class BadRequest(Exception):
    """A request the endpoints refuse (400), with the reason in words."""

    def __init__(self, message: str, *, start: int | None = None, end: int | None = None):
        super().__init__(message)
        self.body = ErrorBody(error=message, start=start, end=end)


def build_app(archive: Archive, *, port: int, secret: str, media: Path | None) -> ASGIApp:
    """The viewer for ``archive`` at ``http://127.0.0.1:<port>/``, behind its ``Guard``."""
    routes = _Routes(archive, MediaFolder(media))
    app = Starlette(
        routes=[
            Route("/", routes.home),
            Route("/api/conversations", routes.conversations),
            Route("/api/c/{channel:int}/messages", routes.messages),
            Route("/api/c/{channel:int}/around", routes.around),
            Route("/api/search", routes.search),
            Route("/api/export", routes.export),
            Route("/media/{name:str}", routes.media),
            Mount("/static", StaticFiles(directory=HERE / "static")),
        ],
        exception_handlers={BadRequest: _bad_request},
    )
    return Guard(app, port=port, secret=secret)


class _Routes:
    def __init__(self, archive: Archive, media: MediaFolder) -> None:
        self._archive = archive
        self._media = media
        self._templates = Environment(
            loader=FileSystemLoader(HERE / "templates"),
            autoescape=select_autoescape(default=True, default_for_string=True),
            undefined=StrictUndefined,
        )
        self._templates.filters["utc"] = _utc

    def home(self, request: Request) -> Response:
        try:
            self._archive.refresh()
            failed: list[str] = []
        except DmjError as error:
            failed = [f"What was archived since the viewer started cannot be shown: {error}"]
        with self._archive.read() as reader:
            listing = conversation_list(reader.conversations(), [*failed, *reader.notices()])
        page = self._templates.get_template("index.html").render(listing=listing)
        return HTMLResponse(page)

    def conversations(self, request: Request) -> Response:
        with self._archive.read() as reader:
            return _json(conversation_list(reader.conversations(), reader.notices()))

    def messages(self, request: Request) -> Response:
        channel = request.path_params["channel"]
        before, after = _cursor(request, "before"), _cursor(request, "after")
        limit = _limit(request)
        if before is not None and after is not None:
            raise BadRequest("Ask for the page before a cursor or after one, not both.")
        with self._archive.read() as reader:
            if after is not None:
                page = page_after(reader, channel, after, limit)
            else:
                page = page_before(reader, channel, before, limit)
            return _json(message_page(channel, page, self._media.name_of))

    def around(self, request: Request) -> Response:
        channel = request.path_params["channel"]
        message, at = request.query_params.get("message"), request.query_params.get("at")
        limit = _limit(request)
        if (message is None) == (at is None):
            raise BadRequest("Give either message=<id> or at=<ISO 8601 time>.")
        with self._archive.read() as reader:
            if message is not None:
                if (
                    not message.isdigit()
                    or (center := reader.locate(channel, int(message))) is None
                ):
                    return _json(ErrorBody(error=f"There is no message {message} in that "
                                           "conversation."), status=404)  # fmt: skip
            else:
                center = Cursor(_moment(cast(str, at)), 0)
            page = page_around(reader, channel, center, limit)
            return _json(message_page(channel, page, self._media.name_of))

    def search(self, request: Request) -> Response:
        query = request.query_params.get("q", "")
        before, limit = _cursor(request, "before"), _limit(request)
        with self._archive.read() as reader:
            try:
                hits = reader.search(query, before, limit + 1)
            except UsageError as error:
                raise _query_error(error) from None
            shown = hits.messages[:limit]
            answered = {m.reply_to for m in shown if m.reply_to is not None}
            next_cursor = str(Cursor.of(shown[-1])) if len(hits.messages) > limit else None
            return _json(search_page(
                query, hits.count, shown, next_cursor=next_cursor, media=self._media.name_of,
                highlight=words_highlighter(hits.terms), replies=reader.messages(answered),
                at_least=hits.at_least,
            ))  # fmt: skip

    def export(self, request: Request) -> Response:
        query = request.query_params.get("q", "")
        fmt = request.query_params.get("format", "json")
        if fmt not in EXPORT_FORMATS:
            raise BadRequest(f"Unknown export format {fmt!r}: choose json, md or txt.")
        stack = contextlib.ExitStack()
        try:
            reader = stack.enter_context(self._archive.read())
            download = reader.export(query, fmt)
        except UsageError as error:
            stack.close()
            raise _query_error(error) from None
        except BaseException:
            stack.close()
            raise
        return StreamingResponse(
            _closing(download.chunks, stack),
            media_type=download.media_type,
            headers={"content-disposition": f'attachment; filename="{download.filename}"'},
        )

    def media(self, request: Request) -> Response:
        return self._media.response(request.path_params["name"])


def _closing(chunks: Iterator[bytes], stack: contextlib.ExitStack) -> Iterator[bytes]:
    """``chunks``, then the reader they come from is closed (also when the client leaves)."""
    with stack:
        yield from chunks


def _json(body: Any, status: int = 200) -> Response:
    return Response(msgspec.json.encode(body), status_code=status, media_type="application/json")


async def _bad_request(request: Request, exc: Exception) -> Response:
    return _json(cast(BadRequest, exc).body, status=400)


def _query_error(error: UsageError) -> BadRequest:
    """A malformed query: the CLI's message, and where the problem is if the error says."""
    start, end = getattr(error, "start", None), getattr(error, "end", None)
    return BadRequest(str(error), start=start, end=end)


def _cursor(request: Request, name: str) -> Cursor | None:
    text = request.query_params.get(name)
    if text is None:
        return None
    cursor = Cursor.parse(text)
    if cursor is None:
        raise BadRequest(f"{name}={text!r} is not a cursor (<ts>_<id>, as the pages give them).")
    return cursor


def _limit(request: Request) -> int:
    text = request.query_params.get("limit", str(DEFAULT_LIMIT))
    if not text.isdigit() or not 1 <= int(text) <= MAX_LIMIT:
        raise BadRequest(f"limit={text!r} must be a whole number from 1 to {MAX_LIMIT}.")
    return int(text)


def _moment(text: str) -> int:
    """An ISO 8601 time with its offset → UTC microseconds."""
    try:
        moment = datetime.fromisoformat(text)
    except ValueError:
        moment = None
    if moment is None or moment.tzinfo is None:
        raise BadRequest(f"at={text!r} is not an ISO 8601 time with an offset (…Z or …+02:00).")
    return (moment - _EPOCH) // timedelta(microseconds=1)


def _utc(ts: int | None) -> str:
    """A ``ts`` (UTC microseconds) as ISO 8601, for ``<time datetime>``."""
    if ts is None:
        return ""
    return (_EPOCH + timedelta(microseconds=ts)).isoformat()
