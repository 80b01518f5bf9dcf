"""The archives the history tests share: a few conversations of every fate, and a later run.

``FIRST`` (run 1): alice's DM (exported: backtick runs, CRLF, an emoji, an attachment without
text, an edit), the "Trip crew" group (exported), bob's DM (unreachable), carol's (skipped:
a deleted account), "Old friends" (failed: DCE kept crashing). ``SECOND`` (run 2, an
incremental re-run): alice's DM again with a newer copy of one message (edited since) and a
new message; the rest as before.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from dmj.projections.history import Message

from tests.projections.history.chats import ME, Chat, dce_message, person, snowflake

__all__ = [
    "ALICE",
    "BOB",
    "FIRST",
    "ONE_SIDED",
    "SECOND",
    "T",
    "first_archive",
    "ids",
    "one_sided_archive",
    "two_run_archive",
]

ALICE = person("100", "alice", "Alice W")
BOB = person("200", "bob")
CAROL = person("300", "carol")
T = datetime(2023, 5, 1, 12, 0, tzinfo=UTC)
"""The first message's time; the others follow a few hours apart."""


def _at(hours: float, n: int = 0) -> int:
    return snowflake(T + timedelta(hours=hours), n)


HELLO = dce_message(_at(0), ALICE, "hello ``` fenced ``` and ````four````")
REPLY = dce_message(_at(1), ME, "café au lait\r\nsecond line 😀", offset=timedelta(hours=2))
PICTURE = dce_message(_at(2), ALICE, "", attachments=[("IMG 1.png", 2_483_991)])
EDITED = dce_message(_at(3), ME, "see you at 7", edited=T + timedelta(hours=3, minutes=2))
GROUP_1 = dce_message(_at(0.5), ALICE, "`start` and end`", mentions=[ME])
GROUP_2 = dce_message(_at(25), BOB, "  leading and trailing  \n", kind="Reply", reply_to=_at(0.5))
EDITED_AGAIN = dce_message(_at(3), ME, "see you at 8", edited=T + timedelta(days=2))
LATER = dce_message(_at(48), ALICE, "``````")


def _chats(alice: list[dict[str, Any]]) -> list[Chat]:
    return [
        Chat("1000", (ALICE,), alice),
        Chat("2000", (ALICE, BOB), [GROUP_1, GROUP_2], kind="group", name="Trip crew"),
        Chat("3000", (BOB,), fate="unreachable"),
        Chat("4000", (CAROL,), fate="skipped"),
        Chat("5000", (BOB, CAROL), kind="group", name="Old friends", fate="failed"),
    ]


FIRST = _chats([HELLO, REPLY, PICTURE, EDITED])
SECOND = _chats([EDITED_AGAIN, LATER])


def first_archive(root: Path) -> Path:
    from tests.projections.history.chats import write_archive  # noqa: PLC0415

    return write_archive(root, FIRST)


def two_run_archive(root: Path) -> Path:
    from tests.projections.history.chats import write_archive  # noqa: PLC0415

    return write_archive(root, FIRST, runs=[SECOND])


def ids(messages: list[Message]) -> list[int]:
    return [m.id for m in messages]


# --- one-sided: conversations Discord refuses, with the owner's messages in the package -------

DAN = person("500", "dan", "Dan")
ERIN = person("600", "erin")
FRANK = person("700", "frank")
DAN_DM, ERIN_DM, FRANK_DM, BAND = (
    "710000000000000001", "710000000000000002", "710000000000000003", "710000000000000004",
)  # fmt: skip
"""Channel ids of snowflake length: these chats are in the archive's data package."""
DAN_HI = dce_message(_at(100), DAN, "hi from dan")
DAN_MINE = dce_message(_at(101), ME, "hi dan")
DAN_GONE = dce_message(_at(102), ME, "a message I deleted later")
ERIN_1 = dce_message(_at(110), ME, "erin, are you there?")
ERIN_2 = dce_message(_at(111), ME, "", attachments=[("photo_1.jpg", 0)])
FRANK_1 = dce_message(_at(120), ME, "frank ``` ticks")
BAND_1 = dce_message(_at(130), ME, "band practice?")
ONE_SIDED = [
    Chat(DAN_DM, (DAN,), [DAN_HI, DAN_MINE], deleted_later=[DAN_GONE]),
    Chat(ERIN_DM, (ERIN,), fate="unreachable", own=[ERIN_1, ERIN_2]),
    Chat(FRANK_DM, (FRANK,), fate="skipped", own=[FRANK_1]),
    Chat(BAND, (DAN, ERIN), kind="group", name="Band", fate="failed", own=[BAND_1]),
]
"""Dan's DM is archived (one of the owner's messages there was deleted after the package);
Erin's is unreachable and Frank's skipped (a deleted account): Discord refuses both for good,
so the owner's messages there come from the package; the "Band" group failed (a passing
failure: nothing from the package)."""


def one_sided_archive(root: Path) -> Path:
    from tests.projections.history.chats import write_archive  # noqa: PLC0415

    return write_archive(root, ONE_SIDED)
