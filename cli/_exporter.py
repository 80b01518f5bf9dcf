"""The driver's ``Exporter`` port: DCE exports into ``tmp/``, the archive keeps what verified.

DCE writes into ``tmp/<export id>/`` (DCE may leave a half-written file behind when it
crashes). Once the runner verified the output, dmj measures and digests its files, syncs
them and the folder, renames it to ``exports/<channel_id>/<export id>/`` and syncs the
directories, all through the archive's ``Storage``. Only then does the driver journal
``ChannelExported`` with that path and those files, so a recorded export is always complete,
durable and checkable later (``dmj replay --inspect``).

An export that holds no message keeps no folder, incremental or not: its outcome is
journaled with 0 messages and an empty path. (A conversation whose messages were all deleted
has no last message id to go on from, so every run exports it whole again; a folder kept each
time would pile up empty exports. Its verdict and name live in the journal and the index.)

With ``--media`` DCE downloads into the shared ``media/`` and reuses what is there. DCE
writes a download straight to its final name, so a DCE killed mid-download leaves a cut-off
file that every later export would reuse. Each attachment the export refers to is therefore
checked against the size Discord gives for it (``fileSizeBytes``); a file of another size is
removed and the export fails as transient, so the next attempt downloads it whole. The media
files the export refers to and ``media/`` itself are synced before the export is filed.
(Staging media under ``tmp/`` instead would not work: DCE writes absolute paths into the
export for a media folder outside the output folder, so every reference would point into
``tmp/``.)
"""

from __future__ import annotations

from pathlib import Path

from dmj.adapters import DceRunner, ExportResult
from dmj.machine.errors import ChannelExportError, FileWriteFailed
from dmj.machine.ports import ExportedChannel
from dmj.projections import describe_files, make_dirs, move_folder, remove_durably, remove_tree

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
        archive = self._archive
        out = archive.tmp / export_id
        self._discard(out)  # left by an earlier process with this id
        media = archive.media if self._media else None
        self._make_dirs(archive.tmp, *([media] if media is not None else []))
        try:
            result = await self._runner.export(channel_id, out, after=after, media_dir=media)
            if media is not None:
                self._check_media(channel_id, result)
        except ChannelExportError:
            self._discard(out)  # what a failed DCE left is of no use
            raise
        if result.message_count == 0:
            self._discard(out)  # nothing (new) to archive: no empty folder
            return ExportedChannel(path="", message_count=0, last_message_id=None)
        relative = f"exports/{channel_id}/{export_id}"
        files = describe_files(out)
        self._file_away(out, archive.root / relative, result if media is not None else None)
        return ExportedChannel(
            path=relative,
            message_count=result.message_count,
            last_message_id=result.last_message_id,
            files=files,
        )

    def _make_dirs(self, *folders: Path) -> None:
        for folder in folders:
            make_dirs(folder, storage=self._archive.storage)

    def _discard(self, folder: Path) -> None:
        if folder.exists():
            try:
                remove_tree(folder, storage=self._archive.storage)
            except OSError as exc:
                raise FileWriteFailed(
                    f"{folder} could not be removed ({exc.strerror or exc}); it holds what an "
                    "unfinished export left. Remove it by hand, then run `dmj resume`."
                ) from exc

    def _check_media(self, channel_id: str, result: ExportResult) -> None:
        """Remove every attachment whose size is not Discord's; fail (transient) if any."""
        wrong = []
        for media in result.media:
            size = _size(media.path)
            if size is None or (media.size is not None and size != media.size):
                wrong.append(f"{media.path.name} ({_sizes(size, media.size)})")
                if size is not None:
                    remove_durably(media.path, storage=self._archive.storage)
        if wrong:
            raise ChannelExportError(
                f"The media of channel {channel_id} are incomplete: {', '.join(wrong)}; the "
                "cut-off files were removed, so the next attempt downloads them again.",
                channel_id=channel_id,
                error_class="transient",
            )

    def _file_away(self, source: Path, target: Path, result: ExportResult | None) -> None:
        """Make the media the export refers to durable, then move the export into place."""
        storage = self._archive.storage
        try:
            if result is not None:
                for media in result.media:
                    storage.sync_file(media.path)
                storage.sync_dir(self._archive.media)
            move_folder(source, target, storage=storage)
        except OSError as exc:
            raise FileWriteFailed(
                f"The export in {source} could not be moved to {target} "
                f"({exc.strerror or exc}). Check the free space and permissions of the "
                "archive, then run `dmj resume`."
            ) from exc


def _size(path: Path) -> int | None:
    try:
        return path.stat().st_size
    except OSError:
        return None


def _sizes(found: int | None, expected: int | None) -> str:
    if found is None:
        return "missing"
    return f"{found} bytes of {expected}"
