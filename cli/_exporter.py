"""The driver's ``Exporter`` port: DCE exports into ``tmp/``, the archive keeps what verified.

DCE writes into ``tmp/<export_id>/`` (DCE may leave a half-written file behind when it
crashes); once the runner verified the output, its files are synced, the folder is renamed to
``exports/<channel_id>/<export_id>/`` and the directories are synced. Only then does the
driver journal ``ChannelExported`` with that path, so a recorded export is always complete
and durable.
"""

from __future__ import annotations

import os
import shutil
from pathlib import Path

from dmj.adapters import DceRunner
from dmj.machine.errors import ChannelExportError, FileWriteFailed
from dmj.machine.ports import ExportedChannel
from dmj.projections import fsync_path, make_dirs

from ._archive import Archive

__all__ = ["ArchiveExporter"]


class ArchiveExporter:
    """Exports one channel at a time with DCE into the archive."""

    def __init__(self, runner: DceRunner, archive: Archive, *, media: bool) -> None:
        self._runner = runner
        self._archive = archive
        self._media = media

    def __repr__(self) -> str:
        return f"ArchiveExporter({str(self._archive.root)!r}, media={self._media})"

    async def export(
        self, channel_id: str, *, after: str | None, export_id: str
    ) -> ExportedChannel:
        out = self._archive.tmp / export_id
        shutil.rmtree(out, ignore_errors=True)  # left by an earlier process with this seq
        make_dirs(self._archive.tmp)
        media = self._archive.media if self._media else None
        if media is not None:
            make_dirs(media)
        try:
            result = await self._runner.export(channel_id, out, after=after, media_dir=media)
        except ChannelExportError:
            shutil.rmtree(out, ignore_errors=True)  # what a failed DCE left is of no use
            raise
        relative = f"exports/{channel_id}/{export_id}"
        _file_away(out, self._archive.root / relative)
        return ExportedChannel(
            path=relative,
            message_count=result.message_count,
            last_message_id=result.last_message_id,
        )


def _file_away(source: Path, target: Path) -> None:
    """Make ``source``'s files durable, then move the folder to ``target`` durably."""
    try:
        for path in sorted(source.rglob("*")):
            if path.is_file():
                fsync_path(path)
        make_dirs(target.parent)
        os.rename(source, target)
        fsync_path(target.parent)
        fsync_path(source.parent)
    except OSError as exc:
        raise FileWriteFailed(
            f"The export in {source} could not be moved to {target} ({exc.strerror or exc}). "
            "Check the free space and permissions of the archive, then run `dmj resume`."
        ) from exc
