"""The export formats: meta, verbatim bodies (round trips), fences, gaps, local times."""

from __future__ import annotations

import json
import re
from datetime import UTC, datetime, timedelta, timezone
from zoneinfo import ZoneInfo

import msgspec
import pytest
from dmj.projections.history import (
    Attachment,
    ExportMeta,
    Gap,
    Message,
    fence_for,
    write_json,
    write_markdown,
    write_text,
)
from dmj.projections.history._writers import LocalClock
from hypothesis import given
from hypothesis import strategies as st

META = ExportMeta(
    app="dmj 1.2.3", generated_at=datetime(2024, 1, 2, 3, 4, 5, tzinfo=UTC),
    filter_input='export md from:"Ada L" --order channel', order="channel", count=2,
)  # fmt: skip
GAPS = [
    Gap(channel_id=7, channel_kind="group", channel_name="Old friends", verdict="failed",
        reason="DCE crashed (exit code 134)."),
    Gap(channel_id=8, channel_kind="dm", channel_name="carol", verdict="skipped", reason=""),
    Gap(channel_id=9, channel_kind="dm", channel_name="erin", verdict="unreachable",
        reason="Discord forbids reading this channel.", partial=True),
]  # fmt: skip
ZONE = timezone(timedelta(hours=-5))


def message(content: str, *, n: int = 1, **fields: object) -> Message:
    values: dict[str, object] = {
        "id": 1000 + n, "channel_id": 5, "channel_name": "alice", "channel_kind": "dm",
        "ts": 1_700_000_000_000_000 + n * 60_000_000, "created_at": "2023-11-14T22:13:20+00:00",
        "edited_at": None, "author_id": 9, "author_name": "ada", "author_display": "Ada L",
        "content": content,
    }  # fmt: skip
    values.update(fields)
    return Message(**values)  # type: ignore[arg-type]


def written(writer: object, messages: list[Message], gaps: list[Gap] = GAPS) -> str:
    meta = msgspec.structs.replace(META, count=len(messages))
    return b"".join(writer(meta, iter(messages), gaps, ZONE)).decode()  # type: ignore[operator]


bodies = st.lists(
    st.one_of(
        st.sampled_from(["`", "``", "```", "````", "`````````", "\r\n", "\n", "\r", " ", "\t",
                         "😀", "\U0001d518", "é", "e\u0301", "\u200b", "---", "#", ">", "~~~",
                         "\\"]),
        st.text(max_size=5),
    ),
    max_size=12,
).map("".join)  # fmt: skip


# --- JSON --------------------------------------------------------------------------------


def expected_json(messages: list[Message], gaps: list[Gap]) -> str:
    """The document built independently and laid out by msgspec, 2-space indent."""
    document = {
        "schemaVersion": "1", "app": "dmj 1.2.3", "generatedAt": "2024-01-02T03:04:05Z",
        "filterInput": META.filter_input, "orderApplied": "channel", "count": len(messages),
        "messages": [
            {"id": str(m.id), "createdAt": m.created_at,
             **({"editedAt": m.edited_at} if m.edited_at else {}),
             "channelPath": m.channel_path, "channelId": str(m.channel_id),
             "author": {"id": str(m.author_id), "name": m.author_display}, "content": m.content,
             "attachments": [{"fileName": a.file_name, "url": a.url, "sizeBytes": a.size_bytes}
                             for a in m.attachments],
             **({"type": m.kind} if m.kind else {}),
             **({"source": "package"} if m.source == "package" else {})}
            for m in messages
        ],
        "gaps": [
            {"channelId": str(g.channel_id), "channelPath": g.channel_path, "errorState": True,
             "errorMessage": g.reason or g.verdict, "verdict": g.verdict, "partial": g.partial}
            for g in gaps
        ],
    }  # fmt: skip
    return msgspec.json.format(msgspec.json.encode(document), indent=2).decode() + "\n"


@given(st.lists(st.tuples(bodies, st.booleans(), st.integers(0, 2), st.booleans()), max_size=6))
def test_the_json_export_is_the_document_laid_out_with_two_spaces_and_bodies_verbatim(
    specs: list[tuple[str, bool, int, bool]],
) -> None:
    messages = [
        message(
            body,
            n=n,
            edited_at="2023-11-15T01:00:00.5+00:00" if edited else None,
            attachments=tuple(
                Attachment(file_name=f"f{k} {body}.png", url=f"https://x/{k}{body}", size_bytes=k)
                for k in range(files)
            ),
            kind="Reply" if reply else None,
            source="package" if n % 3 == 2 else "discord",
        )
        for n, (body, edited, files, reply) in enumerate(specs)
    ]
    for gaps in (GAPS, []):
        text = written(write_json, messages, gaps)
        assert text == expected_json(messages, gaps)
        assert [m["content"] for m in json.loads(text)["messages"]] == [m.content for m in messages]


def test_the_json_meta_says_what_made_the_export_and_how_many_messages_it_holds() -> None:
    head = json.loads(written(write_json, [message("a"), message("b", n=2)]))
    del head["messages"], head["gaps"]
    assert head == {
        "schemaVersion": "1", "app": "dmj 1.2.3", "generatedAt": "2024-01-02T03:04:05Z",
        "filterInput": 'export md from:"Ada L" --order channel', "orderApplied": "channel",
        "count": 2,
    }  # fmt: skip


# --- Markdown ----------------------------------------------------------------------------


FENCES = [
    ("plain", "```"), ("", "```"), ("`", "```"), ("``", "```"), ("```", "````"),
    ("a ```` b", "`````"), ("```start", "````"), ("end``````", "```````"),
    ("`````````", "``````````"), ("``` and `````", "``````"),
]  # fmt: skip


@pytest.mark.parametrize(("content", "fence"), FENCES, ids=[f[0] or "empty" for f in FENCES])
def test_the_fence_is_one_backtick_longer_than_the_longest_run_and_at_least_three(
    content: str, fence: str
) -> None:
    assert fence_for(content) == fence


def bodies_from_markdown(text: str) -> list[str]:
    """Each message's body, read back from its fenced block (after its heading)."""
    found = []
    for block in re.split(r"\n## \d+\. ", text)[1:]:
        opening = re.search(r"\n\n(`{3,})\n", block)
        assert opening is not None
        end = block.index(f"\n{opening[1]}\n", opening.end())
        found.append(block[opening.end() : end])
    return found


@given(st.lists(bodies, min_size=1, max_size=5))
def test_markdown_bodies_read_back_byte_for_byte(contents: list[str]) -> None:
    messages = [message(c, n=n) for n, c in enumerate(contents)]
    assert bodies_from_markdown(written(write_markdown, messages, [])) == contents


def test_the_markdown_export_has_its_meta_block_headings_attachments_and_gaps() -> None:
    picture = Attachment(file_name="IMG [1].png", url="https://cdn/x (1).png", size_bytes=2_483_991)
    group = message("", n=2, channel_id=6, channel_kind="group", channel_name="Crew",
                    source="package")  # fmt: skip
    text = written(write_markdown, [message("```py\nx\n```", attachments=(picture,)), group])
    assert text == (
        "```json meta\n{\n  \"generatedAt\": \"2024-01-02T03:04:05Z\",\n  \"app\": \"dmj 1.2.3\",\n"
        "  \"filterInput\": \"export md from:\\\"Ada L\\\" --order channel\",\n"
        "  \"orderApplied\": \"channel\",\n  \"count\": 2\n}\n```\n"
        "\n## 1. Direct Messages > alice — Ada L — 2023-11-14 17:14\n\n"
        "Attachments: [IMG \\[1\\].png](<https://cdn/x (1).png>) (2.5 MB)\n\n"
        "````\n```py\nx\n```\n````\n"
        "\n## 2. Group DMs > Crew — Ada L — 2023-11-14 17:15 (from your data package)\n\n"
        "```\n\n```\n"
        "\n## 3. Group DMs > Old friends — error\n\n> Error: DCE crashed (exit code 134).\n"
        "\n## 4. Direct Messages > carol — error\n\n> Error: skipped\n"
        "\n## 5. Direct Messages > erin — error\n\n> Error: Discord forbids reading this "
        "channel.\n>\n> Only your own messages are kept here, from your data package: the other "
        "side of this conversation is not available.\n"
    )  # fmt: skip


# --- Text --------------------------------------------------------------------------------


def test_the_text_export_has_its_meta_entries_between_rules_and_gaps() -> None:
    picture = Attachment(file_name="a.pdf", url="https://cdn/a.pdf", size_bytes=812)
    text = written(write_text, [message("  two\r\nlines  ", attachments=(picture,)),
                                message("", n=2, source="package")])  # fmt: skip
    rule = "-" * 80
    assert text == (
        "Meta:\n  generatedAt: 2024-01-02T03:04:05Z\n  app: dmj 1.2.3\n"
        '  filterInput: export md from:"Ada L" --order channel\n  orderApplied: channel\n'
        "  count: 2\n\n---\n"
        "#1 Direct Messages > alice — Ada L — 2023-11-14 17:14\n  two\r\nlines  \n"
        "Attachment: a.pdf (812 bytes) https://cdn/a.pdf\n"
        f"{rule}\n#2 Direct Messages > alice — Ada L — 2023-11-14 17:15 (from your data "
        "package)\n\n"
        f"{rule}\n#3 Group DMs > Old friends [error]\nError: DCE crashed (exit code 134).\n"
        f"{rule}\n#4 Direct Messages > carol [error]\nError: skipped\n"
        f"{rule}\n#5 Direct Messages > erin [error]\nError: Discord forbids reading this "
        "channel.\nOnly your own messages are kept here, from your data package: the other side "
        "of this conversation is not available.\n"
    )


@given(st.lists(bodies, min_size=1, max_size=4))
def test_text_bodies_are_written_verbatim_after_their_heading(contents: list[str]) -> None:
    text = written(write_text, [message(c, n=n) for n, c in enumerate(contents)], [])
    position = 0
    for n, content in enumerate(contents, start=1):
        heading = f"#{n} Direct Messages > alice — Ada L — "
        position = text.index(heading, position)
        body_start = text.index("\n", position) + 1
        assert text[body_start : body_start + len(content) + 1] == content + "\n"
        position = body_start + len(content)


def test_an_empty_selection_still_has_its_meta_and_gaps_in_every_format() -> None:
    assert json.loads(written(write_json, []))["messages"] == []
    assert written(write_markdown, []).endswith("\n## 2. Direct Messages > carol — error\n\n"
                                                "> Error: skipped\n\n## 3. Direct Messages > "
                                                "erin — error\n\n> Error: Discord forbids "
                                                "reading this channel.\n>\n> Only your own "
                                                "messages are kept here, from your data package: "
                                                "the other side of this conversation is not "
                                                "available.\n")  # fmt: skip
    assert written(write_text, [], []).endswith("count: 0\n\n---\n")


# --- local time --------------------------------------------------------------------------


@pytest.mark.parametrize(
    "zone_name", ["Europe/Berlin", "America/St_Johns", "Asia/Kathmandu", "UTC"]
)
@given(st.integers(1_420_070_400, 2_000_000_000))
def test_local_times_are_the_zones_own_daylight_saving_included(
    zone_name: str, seconds: int
) -> None:
    zone = ZoneInfo(zone_name)
    clock = LocalClock(zone)
    expected = datetime.fromtimestamp(seconds, zone).strftime("%Y-%m-%d %H:%M")
    assert clock(seconds * 1_000_000 + 123) == expected


def test_local_times_around_a_daylight_saving_change_follow_it() -> None:
    zone = ZoneInfo("Europe/Berlin")
    clock = LocalClock(zone)
    change = int(datetime(2024, 3, 31, 1, 0, tzinfo=UTC).timestamp())  # 02:00 → 03:00 local
    times = [clock((change + minutes * 60) * 1_000_000) for minutes in (-1, 0, 59)]
    assert times == ["2024-03-31 01:59", "2024-03-31 03:00", "2024-03-31 03:59"]
