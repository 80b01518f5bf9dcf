"""``dmj export``'s work: select, then stream a format into a file or a stream (I/O).

A file is written as a whole or not at all (``write_chunks_atomic``: temp file, fsync, then
linked or renamed into place, the folder fsynced); without ``overwrite`` an existing file is
never replaced. The file is the user's, not the archive's, but its writes, syncs and renames
go through the command's ``Storage`` all the same, so tests record and check their order.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import datetime, tzinfo
from pathlib import Path
from typing import BinaryIO

import msgspec
from dmj.journal import Storage
from dmj.machine.errors import FileWriteFailed, UsageError
from dmj.machine.package import PackageOpener
from dmj.projections._atomic import write_chunks_atomic

from ._index import Notice
from ._model import Order
from ._query import Query
from ._reader import open_history
from ._writers import FORMATS, ExportMeta, Format

__all__ = ["ExportRequest", "Exported", "default_export_name", "export_history"]


def default_export_name(fmt: str, now: datetime, zone: tzinfo) -> str:
    """``export_dm-<YYYYMMDD-HHMMSS in zone>.<fmt>``: an export's file name when none is given
    (``dmj export``, the menu, the browser's download)."""
    return f"export_dm-{now.astimezone(zone):%Y%m%d-%H%M%S}.{fmt}"


class ExportRequest(msgspec.Struct, frozen=True, kw_only=True):
    """One ``dmj export``: what to select, in which order and format, and where it goes
    (``target`` None: ``stream``). ``app``, ``generated_at`` and ``filter_input`` go into
    the export's meta as given."""

    query: Query
    order: Order
    format: Format
    target: Path | None
    overwrite: bool
    app: str
    generated_at: datetime
    filter_input: str


class Exported(msgspec.Struct, frozen=True, kw_only=True):
    """What an export wrote: where (None: the stream), how many messages, how many gaps."""

    path: str | None
    count: int
    gaps: int


def export_history(
    archive: Path, request: ExportRequest, *, zone: tzinfo, notice: Notice, stream: BinaryIO,
    packages: PackageOpener, storage: Storage | None = None,
) -> Exported:  # fmt: skip
    """Export ``archive``'s messages as ``request`` says; times in ``zone``; the index is
    brought up to date first (``open_history``: ``packages``, ``storage``), and a file is
    written through ``storage`` too."""
    target = request.target
    if target is not None:
        _check_target(target, overwrite=request.overwrite)
    with open_history(
        archive, zone=zone, notice=notice, packages=packages, storage=storage
    ) as history:
        selection = history.select(request.query, request.order)
        meta = ExportMeta(
            app=request.app, generated_at=request.generated_at,
            filter_input=request.filter_input, order=request.order, count=selection.count,
        )  # fmt: skip
        chunks = FORMATS[request.format](meta, selection.messages(), selection.gaps, zone)
        if target is None:
            _stream(chunks, stream)
        else:
            _write(target, chunks, overwrite=request.overwrite, storage=storage)
    return Exported(
        path=None if target is None else str(target),
        count=selection.count,
        gaps=len(selection.gaps),
    )


def _check_target(target: Path, *, overwrite: bool) -> None:
    if target.is_dir():
        raise UsageError(f"--filename {target} is a directory; name a file to write.")
    if not target.parent.is_dir():
        raise UsageError(
            f"--filename {target}: the folder {target.parent} does not exist; create it or "
            "name a file in an existing folder."
        )
    if target.exists() and not overwrite:
        raise UsageError(
            f"{target} already exists; dmj never overwrites a file unless you add --force "
            "(or choose another --filename)."
        )


def _write(
    target: Path, chunks: Iterator[bytes], *, overwrite: bool, storage: Storage | None
) -> None:
    try:
        write_chunks_atomic(target, chunks, overwrite=overwrite, storage=storage)
    except FileExistsError:
        raise UsageError(
            f"{target} appeared while the export was written; it was left as it is. Add "
            "--force to overwrite it, or choose another --filename."
        ) from None
    except OSError as exc:
        raise FileWriteFailed(
            f"{target} could not be written ({exc.strerror or exc}); nothing was left there. "
            "Check the free space and the folder's permissions, then try again."
        ) from exc


def _stream(chunks: Iterator[bytes], stream: BinaryIO) -> None:
    for chunk in chunks:
        stream.write(chunk)
    stream.flush()
