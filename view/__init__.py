"""``dmj view``: the archive browser, a local web page over the archive (docs/view.md).

A Starlette app (``build_app``) behind a guard that keeps it private (the launch's secret,
the loopback ``Host``, a strict Content-Security-Policy), served on 127.0.0.1 by uvicorn
(``listen``, ``serving``). It reads the archive only through the ``Archive`` port (the
message index: ``IndexArchive``; tests also use ``MemoryArchive``); the pages, cursors and
JSON are the same for every source. Message content becomes HTML only
through ``render_markdown``, which escapes everything it is given.

May import ``dmj.machine`` and ``dmj.projections`` (the message index); never the journal,
so it cannot take the journal's writer lock.
"""

from ._app import DEFAULT_LIMIT, MAX_LIMIT, build_app
from ._guard import cookie_name, security_headers
from ._highlight import words_highlighter
from ._index import IndexArchive
from ._markdown import render_markdown
from ._memory import MemoryArchive
from ._pages import Page, page_after, page_around, page_before
from ._records import Attachment, Conversation, Mention, Message, Person, channel_path
from ._server import listen, serving
from ._source import EXPORT_FORMATS, Archive, Cursor, Download, ExportFormat, Reader, SearchHits

__all__ = [
    "DEFAULT_LIMIT",
    "EXPORT_FORMATS",
    "MAX_LIMIT",
    "Archive",
    "Attachment",
    "Conversation",
    "Cursor",
    "Download",
    "ExportFormat",
    "IndexArchive",
    "MemoryArchive",
    "Mention",
    "Message",
    "Page",
    "Person",
    "Reader",
    "SearchHits",
    "build_app",
    "channel_path",
    "cookie_name",
    "listen",
    "page_after",
    "page_around",
    "page_before",
    "render_markdown",
    "security_headers",
    "serving",
    "words_highlighter",
]
