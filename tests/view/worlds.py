"""Small archives for the browser's tests, as ``MemoryArchive``s of index-shaped records.

- ``everyday_archive``: a long 1-on-1 DM (``LONG`` messages, one every ``STEP``), a group DM with a
  reply, an edit, mentions, markdown and attachments (one image in the media folder), and
  the conversations a run can leave empty: refused, failed, never reached.
- ``hostile_archive``: names, file names and contents that try to run script or break out of
  the page. Each payload that ran would set ``window.__pwned`` or open a dialog.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

from dmj.view import Attachment, Conversation, MemoryArchive, Mention, Message

from tests.projections.history.chats import Chat, dce_message, person, write_archive
from tests.projections.history.chats import snowflake as flake

DISCORD_EPOCH_MS = 1_420_070_400_000
START = datetime(2024, 3, 1, 9, 0, tzinfo=UTC)
LONG = 600
STEP = timedelta(hours=2)
"""Time between two messages of the long DM: it spans 50 days."""
ALICE_DM, GROUP, BOB_DM, CAROL_DM, DAVE_DM, HOSTILE_DM = 101, 202, 303, 404, 505, 666
ME, ALICE, BOB, EVE = 1, 2, 3, 4
IMAGE = "holiday-3f9a0c1d2b4e5f60.png"
PNG = (
    b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR\x00\x00\x00\x01\x00\x00\x00\x01\x08\x06\x00\x00\x00"
    b"\x1f\x15\xc4\x89\x00\x00\x00\rIDATx\x9cc\xf8\xff\xff?\x00\x05\xfe\x02\xfe\xa7\x35\x81"
    b"\x84\x00\x00\x00\x00IEND\xaeB`\x82"
)
"""A PNG of one pixel."""


def snowflake(moment: datetime, n: int = 0) -> int:
    return ((int(moment.timestamp() * 1000) - DISCORD_EPOCH_MS) << 22) + n


def message(
    channel: int, name: str, moment: datetime, author: int, author_name: str, content: str,
    *, n: int = 0, kind: str = "dm", edited_at: str | None = None, **extra: object,
) -> Message:  # fmt: skip
    return Message(
        id=snowflake(moment, n), channel_id=channel, channel_name=name,
        channel_kind=kind,  # type: ignore[arg-type]
        ts=int(moment.timestamp()) * 1_000_000, created_at=moment.isoformat(),
        edited_at=edited_at,
        author_id=author, author_name=author_name.lower(), author_display=author_name,
        content=content, **extra,  # type: ignore[arg-type]
    )  # fmt: skip


def long_dm() -> list[Message]:
    """Alice's DM: ``LONG`` messages, one every ``STEP`` from ``START``, alternating authors."""
    return [
        message(ALICE_DM, "Alice", START + i * STEP, *((ME, "Me") if i % 2 else
                (ALICE, "Alice")), f"Message number {i}")
        for i in range(LONG)
    ]  # fmt: skip


def group_dm() -> list[Message]:
    at = START + timedelta(days=2, minutes=30)
    first = message(GROUP, "Trip crew", at, BOB, "Bob", "Who books the **flat**?", kind="group")
    return [
        first,
        message(GROUP, "Trip crew", at + timedelta(minutes=1), ALICE, "Alice",
                "I do, <@3>. See https://example.com/flat and ||the price||", kind="group",
                mentions=(Mention(id="3", name="Bob"),), reply_to=first.id,
                edited_at=(at + timedelta(minutes=5)).isoformat()),
        message(GROUP, "Trip crew", at + timedelta(minutes=2), ME, "Me", "> pics\nhere",
                kind="group",
                attachments=(Attachment(file_name="holiday.png", url=f"/old/place/media/{IMAGE}",
                                        size_bytes=70),
                             Attachment(file_name="plan.pdf", url="https://cdn.example/plan.pdf",
                                        size_bytes=2048),
                             Attachment(file_name="lost.txt", url="/gone/lost-0000.txt",
                                        size_bytes=5))),
    ]  # fmt: skip


def conversations() -> list[Conversation]:
    return [
        Conversation(id=ALICE_DM, kind="dm", name="Alice", verdict="exported"),
        Conversation(id=GROUP, kind="group", name="Trip crew", verdict="exported"),
        Conversation(id=BOB_DM, kind="dm", name="Bob", verdict="unreachable",
                     reason="Discord refused to open this DM (50007: Cannot send messages)."),
        Conversation(id=CAROL_DM, kind="dm", name="Carol", verdict="failed",
                     reason="DiscordChatExporter stopped after 3 attempts."),
        Conversation(id=DAVE_DM, kind="dm", name="Dave"),
    ]  # fmt: skip


def everyday_archive(media: Path | None = None) -> MemoryArchive:
    """The everyday archive; with ``media``, its image is written there."""
    if media is not None:
        media.mkdir(parents=True, exist_ok=True)
        (media / IMAGE).write_bytes(PNG)
    return MemoryArchive(conversations(), [*long_dm(), *group_dm()])


PWN = "window.__pwned=1;alert(1)"
HOSTILE_NAME = f'<img src=x onerror="{PWN}"><script>{PWN}</script>'
HOSTILE_TITLE = f'<img src=x onerror="{PWN}"><svg onload="{PWN}">'
"""A name as hostile, without the ``/`` a file name cannot hold (DCE names its files after
the conversation)."""
HOSTILE_CONTENTS = (
    f"<script>{PWN}</script>",
    f'<img src=x onerror="{PWN}">',
    f"[click me](javascript:{PWN})",
    "[data](data:text/html,<script>alert(1)</script>)",
    f"<javascript:{PWN}>",
    f'**bold"><img src=x onerror={PWN}>**',
    f'[x](https://example.com/"onmouseover="{PWN})',
    f"`</code><script>{PWN}</script>`",
    f"```\n</pre><img src=x onerror={PWN}>\n```",
    f"> </blockquote><svg onload={PWN}>",
    f"||</span><iframe src=javascript:{PWN}>||",
    "<@9> <#9> <:x:1> <t:99999999999999>",
    f"https://example.com/<script>{PWN}</script>",
    "<style>body{display:none}</style><link rel=stylesheet href=https://evil.example/x.css>",
)


def hostile_archive() -> MemoryArchive:
    at = START
    messages = [
        message(HOSTILE_DM, HOSTILE_NAME, at + timedelta(minutes=i), EVE, HOSTILE_NAME, content,
                mentions=(Mention(id="9", name=HOSTILE_NAME),),
                attachments=(Attachment(file_name=f'"><img src=x onerror="{PWN}">.png',
                                        url=f"javascript:{PWN}", size_bytes=1),))
        for i, content in enumerate(HOSTILE_CONTENTS)
    ]  # fmt: skip
    reply = message(HOSTILE_DM, HOSTILE_NAME, at + timedelta(hours=1), EVE, HOSTILE_NAME,
                    "a reply", reply_to=messages[0].id)  # fmt: skip
    return MemoryArchive(
        [Conversation(id=HOSTILE_DM, kind="dm", name=HOSTILE_NAME, verdict="exported"),
         Conversation(id=BOB_DM, kind="dm", name=HOSTILE_NAME + " 2", verdict="failed",
                      reason=HOSTILE_NAME)],
        [*messages, reply],
        notices=(HOSTILE_NAME,),
    )  # fmt: skip


def hostile_index_archive(root: Path) -> Path:
    """The hostile payloads as an archive on disk (DCE files and a journal), for the index.

    A DM and a group DM whose people, names, contents, mentions and attachment names are
    the payloads above (``HOSTILE_TITLE`` for names), and a failed DM named like them."""
    eve = person("9", HOSTILE_TITLE, HOSTILE_TITLE)
    files = [(f'"><img src=x onerror="{PWN}">.png', 1), (f"<script>{PWN}</script>.html", 2)]
    said, group = (
        [dce_message(flake(START + timedelta(minutes=i), n), eve, content, mentions=[eve],
                     attachments=files)
         for i, content in enumerate(HOSTILE_CONTENTS)]
        for n in (0, 1)
    )  # fmt: skip
    answer = dce_message(flake(START + timedelta(hours=1)), eve, "a reply", kind="Reply",
                         reply_to=int(said[0]["id"]))  # fmt: skip
    return write_archive(root, [
        Chat(str(HOSTILE_DM), (eve,), [*said, answer]),
        Chat("777", (eve, person("8", "x")), group[:2], kind="group", name=HOSTILE_TITLE),
        Chat("888", (person("7", HOSTILE_TITLE),), fate="failed"),
    ])  # fmt: skip
