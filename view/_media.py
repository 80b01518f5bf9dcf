"""The archive's media folder (``--media``): which attachments it holds, and how to serve them.

DCE writes an archived attachment's ``url`` as a path to the file in ``media/`` (absolute,
since that folder lies outside the export's). The browser trusts only the file name: it
looks for ``media/<name>`` itself, so a moved archive still shows its files and a crafted
path cannot reach outside the folder. Only raster images in ``IMAGE_TYPES`` are shown
inline, with their own type; any other file is served as a download of unknown type, so a
hostile ``.html`` or ``.svg`` attachment is never rendered by the browser as a page.
"""

from __future__ import annotations

import re
from pathlib import Path

from starlette.responses import FileResponse, Response

__all__ = ["IMAGE_TYPES", "MediaFolder", "is_image"]

IMAGE_TYPES = {
    "png": "image/png",
    "jpg": "image/jpeg",
    "jpeg": "image/jpeg",
    "gif": "image/gif",
    "webp": "image/webp",
    "avif": "image/avif",
    "bmp": "image/bmp",
}
"""Extensions shown inline, with the type they are served as (no SVG: it can hold scripts)."""

_NAME = re.compile(r"[^/\\\x00]{1,255}")


class MediaFolder:
    """``media/`` of an archive (``None``: the archive has none)."""

    def __init__(self, folder: Path | None) -> None:
        self._folder = folder

    def name_of(self, url: str) -> str | None:
        """The file name under which ``media/`` holds the attachment at ``url``, or None
        (a web address, or a file the folder does not hold)."""
        if self._folder is None or "://" in url:
            return None
        name = re.split(r"[/\\]", url)[-1]
        if not _NAME.fullmatch(name) or name in (".", ".."):
            return None
        return name if (self._folder / name).is_file() else None

    def response(self, name: str) -> Response:
        """The file ``name`` of the folder (404 if it holds none)."""
        if self.name_of(name) is None or self._folder is None:
            return Response("No such file in the archive's media folder.", status_code=404)
        media_type = IMAGE_TYPES.get(name.rpartition(".")[2].lower())
        if media_type is not None:
            return FileResponse(self._folder / name, media_type=media_type)
        return FileResponse(
            self._folder / name,
            media_type="application/octet-stream",
            filename=name,
            content_disposition_type="attachment",
        )


def is_image(name: str) -> bool:
    """Whether ``name`` is shown inline (an extension of ``IMAGE_TYPES``)."""
    return "." in name and name.rpartition(".")[2].lower() in IMAGE_TYPES
