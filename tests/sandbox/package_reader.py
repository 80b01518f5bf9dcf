"""A small data-package reader for the sandbox's round-trip test.

It stands in for ``dmj.adapters``' reader until that lands on main; the round-trip test
should then read packages with the real one. It follows discord-api.md §5's robust rule:
find ``<root>/c?<id>/channel.json`` anywhere (any casing or language), read ``<root>/index.json``
and the single-level ``*/user.json``.
"""

from __future__ import annotations

import csv
import io
import json
import re
import zipfile
from collections.abc import Callable
from pathlib import Path
from typing import Any, NamedTuple

CHANNEL_JSON = re.compile(r"^(?:(.*)/)?c?(\d{15,21})/channel\.json$", re.IGNORECASE)
USER_JSON = re.compile(r"^[^/]+/user\.json$", re.IGNORECASE)


class ReadDm(NamedTuple):
    channel_id: str
    kind: str  # dm | group | deleted
    user_id: str | None
    recipients: tuple[str, ...]
    name: str | None
    messages: int
    older_channel_ids: tuple[str, ...] = ()


def _files(package: Path) -> dict[str, Callable[[], bytes]]:
    if package.is_file():
        archive = zipfile.ZipFile(package)
        return {n: (lambda n=n: archive.read(n)) for n in archive.namelist()}  # type: ignore[misc]
    return {
        p.relative_to(package).as_posix(): p.read_bytes for p in package.rglob("*") if p.is_file()
    }


def _count_messages(files: dict[str, Callable[[], bytes]], folder: str) -> int:
    for name, load in files.items():
        if name.lower() == f"{folder}/messages.json".lower():
            return len(json.loads(load()))
        if name.lower() == f"{folder}/messages.csv".lower():
            return len(list(csv.DictReader(io.StringIO(load().decode()))))
    raise AssertionError(f"no messages file in {folder}")


def read_package(package: Path) -> tuple[str, list[ReadDm]]:
    """The owner's id and the package's DMs (duplicates merged into the newest)."""
    files = _files(package)
    owner = next(json.loads(load())["id"] for n, load in files.items() if USER_JSON.match(n))
    dms: list[ReadDm] = []
    for name, load in sorted(files.items()):
        match = CHANNEL_JSON.match(name)
        if not match:
            continue
        root = match.group(1) or ""
        index = json.loads(files[f"{root}/index.json"]())
        doc: dict[str, Any] = json.loads(load())
        kind = {"DM": "dm", 1: "dm", "GROUP_DM": "group", 3: "group"}.get(doc["type"])
        if kind is None:
            continue
        others = tuple(r for r in doc.get("recipients", []) if r != owner)
        if kind == "dm" and "Deleted User" in others:
            kind = "deleted"
        ids = tuple(r for r in others if r.isdigit())
        dms.append(
            ReadDm(
                channel_id=doc["id"],
                kind=kind,
                user_id=ids[0] if kind == "dm" else None,
                recipients=ids,
                name=index.get(doc["id"]),
                messages=_count_messages(files, name.rsplit("/", 1)[0]),
            )
        )
    return owner, _merge_duplicates(dms)


def _merge_duplicates(dms: list[ReadDm]) -> list[ReadDm]:
    by_user: dict[str, list[ReadDm]] = {}
    for dm in dms:
        if dm.kind == "dm" and dm.user_id:
            by_user.setdefault(dm.user_id, []).append(dm)
    merged = [dm for dm in dms if not (dm.kind == "dm" and dm.user_id)]
    for same in by_user.values():
        same.sort(key=lambda d: int(d.channel_id))
        newest = same[-1]
        merged.append(newest._replace(older_channel_ids=tuple(d.channel_id for d in same[:-1])))
    return sorted(merged, key=lambda d: int(d.channel_id))
