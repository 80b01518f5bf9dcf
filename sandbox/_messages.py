"""A channel's messages, generated one at a time from ``(seed, channel, index)``.

Message ``i`` of a channel with ``n`` messages is sent inside the ``i``-th of ``n`` equal time
slots between the channel's first and last message times, so ids grow with ``i`` and any id
maps back to its slot in O(1): pages ``before``/``after``/``around`` any id cost only the
messages they return, and a million-message world never sits in memory.
"""

from __future__ import annotations

from datetime import UTC, datetime
from urllib.parse import quote

import msgspec

from ._names import ATTACHMENTS, SNIPPETS, UNICODE_LINES, WORDS
from ._shapes import Json, api_user, api_user_by_id
from ._snowflake import api_timestamp, mix, snowflake_at, snowflake_ms
from ._world import World, WorldChannel

__all__ = ["Growth", "MessageLog", "PackageRow", "package_timestamp"]

PackageRow = tuple[int, int, str, str]
"""One line of the package's messages file: id, time (Unix ms), contents, attachment URLs."""


class Growth(msgspec.Struct, frozen=True):
    """Messages sent since the world was built: ``count`` of them, one a second from
    ``from_ms`` (after every message the world started with)."""

    from_ms: int
    count: int


_GROWTH_STEP_MS = 1000


class MessageLog:
    """The messages of one channel, oldest first, generated on demand (plus ``growth``)."""

    def __init__(self, world: World, channel: WorldChannel, growth: Growth | None = None) -> None:
        self._world = world
        self._channel = channel
        self._n = channel.message_count
        self._growth = growth or Growth(0, 0)
        self._first = channel.first_ms
        self._step = max(1, (channel.last_ms - channel.first_ms) // max(self._n, 1))
        self._seed = mix(world.spec.seed, int(channel.id))
        self._channel_id = int(channel.id)
        self._others = [api_user_by_id(world, uid) for uid in channel.recipients]
        self._self = api_user(world.self_user)

    def __len__(self) -> int:
        return self._n + self._growth.count

    def ms_at(self, index: int) -> int:
        jitter = mix(self._seed, index, 1)
        if index >= self._n:
            return self._growth.from_ms + (index - self._n) * _GROWTH_STEP_MS + jitter % 1000
        return self._first + index * self._step + jitter % self._step

    def id_at(self, index: int) -> int:
        return snowflake_at(self.ms_at(index), mix(self._seed, index, 2))

    @property
    def last_id(self) -> int | None:
        return self.id_at(len(self) - 1) if len(self) else None

    def _slot(self, snowflake: int) -> int:
        return max(-1, (snowflake_ms(snowflake) - self._first) // self._step)

    def count_before(self, snowflake: int) -> int:
        """How many messages have an id lower than ``snowflake``."""
        grown = self._growth
        if grown.count and snowflake_ms(snowflake) >= grown.from_ms:
            slot = (snowflake_ms(snowflake) - grown.from_ms) // _GROWTH_STEP_MS
            if slot >= grown.count:
                return len(self)
            return self._n + (slot if self.id_at(self._n + slot) >= snowflake else slot + 1)
        slot = self._slot(snowflake)
        if slot < 0 or self._n == 0:
            return 0
        if slot >= self._n:
            return self._n
        return slot if self.id_at(slot) >= snowflake else slot + 1

    def count_through(self, snowflake: int) -> int:
        """How many messages have an id lower than or equal to ``snowflake``."""
        return self.count_before(snowflake + 1)

    def page(
        self,
        *,
        limit: int,
        before: int | None = None,
        after: int | None = None,
        around: int | None = None,
    ) -> list[Json]:
        """``GET /channels/{id}/messages``: up to ``limit`` messages, newest first.

        Discord takes one cursor; given several, this honours ``around``, then ``before``,
        then ``after`` (the real precedence is unverified, discord-api.md §8).
        """
        if around is not None:
            centre = self.count_before(around)
            start = max(0, min(centre - limit // 2, len(self) - limit))
            end = min(len(self), start + limit)
        elif before is not None:
            end = self.count_before(before)
            start = max(0, end - limit)
        elif after is not None:
            start = self.count_through(after)
            end = min(len(self), start + limit)
        else:
            end = len(self)
            start = max(0, end - limit)
        return [self.message(i) for i in range(end - 1, start - 1, -1)]

    # --- one message -------------------------------------------------------------------

    def _hash(self, index: int) -> int:
        return mix(self._seed, index, 3)

    def _kind(self, index: int, h: int) -> int:
        roll = h % 100
        if self._channel.type == 3 and roll < 6:
            return (1, 1, 2, 4, 3, 6)[roll] if index else 0
        if roll < 3:
            return 3
        if roll < 5 and index:
            return 6
        return 19 if index and (h >> 8) % 100 < 12 else 0

    def _author(self, index: int, h: int) -> Json:
        if self._channel.type == 3:
            people = [self._self, *self._others]
            return people[(h >> 52) % len(people)]
        if self._channel.in_package and (index == 0 or (h >> 52) % 100 < 45):
            return self._self
        return self._others[0]

    def package_row(self, index: int) -> PackageRow | None:
        """The package's line for message ``index`` if the owner wrote it, else None."""
        h = self._hash(index)
        if self._kind(index, h) not in (0, 19) or self._author(index, h) is not self._self:
            return None
        urls = " ".join(a["url"] for a in self._attachments(index, h))
        return self.id_at(index), self.ms_at(index), self._content(h), urls

    def package_rows(self) -> list[PackageRow]:
        """Every line of the package's messages file: the owner's messages, and those the
        owner deleted after the package was made (``deleted_later``: still in the package,
        never served), in id order."""
        rows = [row for i in range(len(self)) if (row := self.package_row(i)) is not None]
        return sorted(rows + self.deleted_rows(), key=lambda row: row[0])

    def deleted_rows(self) -> list[PackageRow]:
        """The owner's messages deleted after the package was made: spread over the
        channel's time, each one id apart from a message that stayed."""
        count = self._channel.deleted_later
        rows = []
        for k in range(count):
            index = (k + 1) * self._n // (count + 1)
            ms, h = self.ms_at(index), self._hash(index)
            rows.append((self.id_at(index) ^ 1, ms, f"(deleted later) {self._content(h)}", ""))
        return rows

    def message(self, index: int, *, nested: bool = False) -> Json:
        """Message ``index`` as the API returns it (``nested``: as a ``referenced_message``)."""
        h = self._hash(index)
        kind = self._kind(index, h)
        ms = self.ms_at(index)
        author = self._author(index, h)
        edited = ms + 1000 * (1 + (h >> 48) % 3600) if (h >> 40) % 100 < 10 else None
        content = self._content(h) if kind in (0, 19) else ""
        mentions: list[Json] = []
        if kind in (1, 2):
            mentions = [author if kind == 2 and (h >> 20) % 2 else self._others[0]]
        if kind == 4:
            content = f"{self._channel.name or 'group'} ✨"
        body: Json = {
            "type": kind, "content": content, "mentions": mentions, "mention_roles": [],
            "attachments": self._attachments(index, h) if kind in (0, 19) else [],
            "embeds": [], "timestamp": api_timestamp(ms),
            "edited_timestamp": api_timestamp(edited) if edited and kind in (0, 19) else None,
            "flags": 0, "components": [], "id": str(self.id_at(index)),
            "channel_id": self._channel.id, "author": author,
            "pinned": kind in (0, 19) and (h >> 44) % 100 < 2,
            "mention_everyone": False, "tts": False,
        }  # fmt: skip
        self._add_extras(body, index, h, kind, nested=nested)
        return body

    def _add_extras(self, body: Json, index: int, h: int, kind: int, *, nested: bool) -> None:
        if kind == 3:
            ended = self.ms_at(index) + 1000 * (30 + (h >> 28) % 5400)
            participants = [self._self["id"], self._others[0]["id"]]
            body["call"] = {"participants": participants, "ended_timestamp": api_timestamp(ended)}
        if kind in (6, 19):
            target = index - 1 - (h >> 16) % min(index, 20)
            body["message_reference"] = {
                "type": 0, "channel_id": self._channel.id, "message_id": str(self.id_at(target)),
            }  # fmt: skip
            if kind == 19 and not nested:
                body["referenced_message"] = self.message(target, nested=True)

    def _attachments(self, index: int, h: int) -> list[Json]:
        wanted = (h >> 32) % 100
        forced = (h >> 24) % 100 in range(80, 85)
        count = 1 + (h >> 36) % 2 if wanted < 8 or forced else 0
        files = []
        for k in range(count):
            name, content_type = ATTACHMENTS[(h >> (8 + 4 * k)) % len(ATTACHMENTS)]
            filename = name.replace(" ", "_")
            attachment_id = snowflake_at(self.ms_at(index), mix(h, k))
            size = 200 + mix(h, k, 1) % 8_000_000
            path = f"{self._channel.id}/{attachment_id}/{quote(filename)}"
            signed = f"?ex={mix(h, k, 2) % 2**32:08x}&is={mix(h, k, 3) % 2**32:08x}"
            signed += f"&hm={mix(h, k, 4):016x}{mix(h, k, 5):016x}&"
            entry: Json = {
                "id": str(attachment_id), "filename": filename, "size": size,
                "url": f"https://cdn.discordapp.com/attachments/{path}{signed}",
                "proxy_url": f"https://media.discordapp.net/attachments/{path}{signed}",
                "content_type": content_type,
            }  # fmt: skip
            if content_type.startswith("image/"):
                entry |= {"width": 1280, "height": 960}
            files.append(entry)
        return files

    def _content(self, h: int) -> str:
        kind = (h >> 24) % 100
        words = [WORDS[mix(h, k) % len(WORDS)] for k in range(3 + (h >> 4) % 10)]
        sentence = " ".join(words).capitalize()
        if kind < 50:
            return sentence
        if kind < 65:
            return UNICODE_LINES[(h >> 12) % len(UNICODE_LINES)]
        if kind < 75:
            return _fenced(h, sentence)
        if kind < 80:
            return f"use `{words[0]}` or ``{words[-1]}``\nsecond line\n\nthird after a blank"
        if kind < 85:
            return ""
        return f"{sentence} 🎉" if kind % 2 else f"{sentence}!"


def _fenced(h: int, sentence: str) -> str:
    """A code block whose fence is 3 to 6 backticks, nesting shorter fences inside it."""
    run = 3 + (h >> 16) % 4
    snippet = SNIPPETS[(h >> 20) % len(SNIPPETS)]
    inner = f"{'`' * (run - 1)}\n{snippet}\n{'`' * (run - 1)}" if run > 3 else snippet
    language = "py" if run == 3 else ""
    return f"{sentence}:\n{'`' * run}{language}\n{inner}\n{'`' * run}"


def package_timestamp(ms: int, *, csv_style: bool) -> str:
    """The package's timestamp: ``2023-12-11 02:01:09`` (json) or with µs and offset (csv)."""
    moment = datetime.fromtimestamp(ms / 1000, tz=UTC)
    if csv_style:
        return moment.isoformat(sep=" ")
    return moment.strftime("%Y-%m-%d %H:%M:%S")
