"""The SQL engine selects exactly what a plain Python predicate selects (hypothesis).

Random messages (names with case and accent variants, renamed authors, words in several
spellings, emoji, links, attachments, edits) in random conversations, and random queries of
every kind of term: the index (SQLite, FTS5, the compiled SQL) and ``reference`` below must
select the same messages, in the same order for both orders, with the same count, and the
same gaps. Carol's DM is unreachable: its messages are the owner's own, from the data package
(``source = 'package'``). The reference is written from docs/index.md, not from the SQL.
"""

from __future__ import annotations

import random
import re
import sqlite3
import unicodedata
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta, timezone

import msgspec
from dmj.machine.events import UserInfo
from dmj.projections.history import Conversation, History, Person, parse_query
from dmj.projections.history._dce import decode_export, rows_of
from dmj.projections.history._ingest import Loader, store_conversations
from dmj.projections.history._sql import (
    FRESH_INDEXES,
    SCHEMA,
    SQL,
    Compiled,
    compile_query,
    search_count_sql,
    search_sql,
    select_sql,
)
from hypothesis import given, settings
from hypothesis import strategies as st

from tests.projections.history.chats import ME, dce_message, person, snowflake

ZONE = timezone(timedelta(hours=5, minutes=30))
"""Local time for the test: local dates differ from UTC dates near midnight."""

ALICE = person("100", "alice", "Zoë")
BOB = person("200", "bob_k", "Ólafur")
CAROL = person("300", "carol", None)
RENAMED_ALICE = person("100", "alice_w", "Ana María")
CONVERSATIONS = [
    Conversation(id=1000, kind="dm", name="Zoë", recipients=(Person(id="100", username="alice",
                 global_name="Zoë"),), verdict="exported"),
    Conversation(id=2000, kind="group", name="Trip crew", recipients=(
        Person(id="100", username="alice", global_name="Zoë"),
        Person(id="200", username="bob_k", global_name="Ólafur")), verdict="exported"),
    Conversation(id=3000, kind="deleted", name="deleted user", verdict="exported"),
    Conversation(id=4000, kind="dm", name="carol", recipients=(Person(id="300", username="carol"),),
                 verdict="unreachable", reason="Discord forbids reading this channel"),
    Conversation(id=5000, kind="group", name="Old friends", recipients=(
        Person(id="200", username="bob_k", global_name="Ólafur"),), verdict="failed",
        reason="DCE crashed"),
]  # fmt: skip
AUTHORS = {1000: [ALICE, RENAMED_ALICE, ME], 2000: [ALICE, BOB, ME],
           3000: [person("456226577798135808", "Deleted User"), ME], 4000: [ME]}  # fmt: skip
FROM_PACKAGE = {4000}
"""Conversations Discord refuses whose messages are the owner's, from the data package."""

WORDS = ["café", "CAFE", "Cafe", "cafés", "flat", "Flat!", "rent", "don't", "naïve", "NAIVE",
         "Straße", "strasse", "ιωάννα", "ΙΩΑΝΝΑ", "2023", "🎉", "x", "```", "https://x.y/z",
         "under_score", "ﬁne", "fine"]  # fmt: skip
SEPARATORS = [" ", "  ", "\n", "\r\n", "\t", ", ", "-", "…"]
FILES = {"a.png": "image", "b.MP4": "video", "c.pdf": "file", "README": "file"}
NAMES = [
    "alice",
    "ALICE",
    "alice_w",
    "zoe",
    "Zoë",
    "ana maria",
    "Ana María",
    "bob_k",
    "olafur",
    "Ólafur",
    "carol",
    "me",
    "100",
    "200",
    "nobody",
    "Deleted User",
]
CONVERSATION_NAMES = [
    "Zoë", "zoe", "trip crew", "Trip Crew", "1000", "2000", "3000", "4000", "deleted user",
    "alice", "olafur", "carol", "old friends", "nowhere",
]  # fmt: skip
DAYS = [date(2023, 1, 1) + timedelta(days=n) for n in range(0, 730, 11)]


@dataclass(frozen=True)
class Sent:
    """A generated message and the facts the reference predicate reads."""

    id: int
    channel: int
    author: UserInfo
    content: str
    files: tuple[str, ...]
    embeds: int
    edited: bool

    @property
    def source(self) -> str:
        return "package" if self.channel in FROM_PACKAGE else "discord"

    @property
    def when(self) -> datetime:
        return datetime.fromtimestamp(((self.id >> 22) + 1420070400000) / 1000, tz=UTC)


@st.composite
def messages(draw: st.DrawFn) -> list[Sent]:
    count = draw(st.integers(3, 30))
    sent = []
    for n in range(count):
        channel = draw(st.sampled_from(sorted(AUTHORS)))
        moment = datetime(2023, 1, 1, tzinfo=UTC) + timedelta(
            minutes=draw(st.integers(0, 730 * 24 * 60))
        )
        parts = draw(st.lists(st.sampled_from(WORDS), max_size=5))
        glue = draw(st.lists(st.sampled_from(SEPARATORS), min_size=len(parts), max_size=len(parts)))
        content = "".join(p + g for p, g in zip(parts, glue, strict=True))
        sent.append(Sent(
            id=snowflake(moment, n), channel=channel,
            author=draw(st.sampled_from(AUTHORS[channel])), content=content,
            files=tuple(draw(st.lists(st.sampled_from(sorted(FILES)), max_size=2))),
            embeds=draw(st.integers(0, 1)), edited=draw(st.booleans()),
        ))  # fmt: skip
    return sent


def _terms_by_kind() -> list[list[str]]:
    """Every term the queries draw from, by kind."""

    def quoted(name: str) -> str:
        return f'"{name}"' if " " in name else name

    phrases = ['"cafe flat"', '"don\'t"', '"naive rent"', '"flat"', '"2023 cafe"', '"rent rent"']
    words = [w for w in WORDS if not w.startswith("`")]
    dates = [v for d in DAYS[::2] for v in (f"{d.year}", f"{d.year}-{d.month:02d}", d.isoformat())]
    signs = ("", "-")
    return [
        [f"{sign}{w}" for sign in signs for w in words],
        [f"{sign}{p}" for sign in signs for p in phrases],
        [f"{sign}from:{quoted(n)}" for sign in signs for n in NAMES],
        [f"{sign}in:{quoted(n)}" for sign in signs for n in CONVERSATION_NAMES],
        [f"{sign}has:{h}" for sign in signs
         for h in ("attachment", "image", "video", "file", "link", "embed")],
        ["is:edited", "-is:edited"],
        [f"{sign}source:{s}" for sign in signs for s in ("discord", "package", "PACKAGE")],
        [f"{relation}:{value}" for relation in ("before", "after", "during") for value in dates],
    ]  # fmt: skip


TERMS = _terms_by_kind()


QUERIES_PER_EXAMPLE = 30


def random_query(rng: random.Random) -> list[str]:
    """1-3 terms, each of a kind picked evenly, and ``last:N`` one time in four.

    Queries come from a seeded ``random.Random``, many per example: hypothesis's own draws
    favour a few choices, and a few hundred examples would never meet most of the terms."""
    terms = [rng.choice(rng.choice(TERMS)) for _ in range(rng.randint(1, 3))]
    return terms + ([f"last:{rng.randint(1, 6)}"] if rng.random() < 0.25 else [])


# --- the reference: docs/index.md in plain Python ------------------------------------------


def fold(text: str) -> str:
    decomposed = unicodedata.normalize("NFKD", text.casefold())
    return "".join(c for c in decomposed if not unicodedata.combining(c))


def tokens(text: str) -> list[str]:
    return re.findall(r"[^\W_]+", fold(text))


def contains(haystack: list[str], needle: list[str]) -> bool:
    return any(haystack[i : i + len(needle)] == needle for i in range(len(haystack)))


def conversation_keys(c: Conversation) -> set[str]:
    keys = {fold(c.name), str(c.id)}
    if c.kind != "group":
        for r in c.recipients:
            keys |= {fold(r.username), r.id} | ({fold(r.global_name)} if r.global_name else set())
    return keys


def participant_keys(c: Conversation) -> set[str]:
    keys: set[str] = set()
    for r in c.recipients:
        keys |= {fold(r.username), r.id} | ({fold(r.global_name)} if r.global_name else set())
    return keys


def period(value: str) -> tuple[date, date]:
    parts = [int(p) for p in value.split("-")]
    if len(parts) == 3:
        first = date(*parts)
        return first, first
    if len(parts) == 2:
        first = date(parts[0], parts[1], 1)
        following = date(parts[0] + parts[1] // 12, parts[1] % 12 + 1, 1)
        return first, following - timedelta(days=1)
    return date(parts[0], 1, 1), date(parts[0], 12, 31)


def matches(term: str, m: Sent, names: dict[str, set[str]]) -> bool:
    negated = term.startswith("-")
    body = term[1:] if negated else term
    key, _, value = body.partition(":")
    value = value.strip('"')
    conversation = next(c for c in CONVERSATIONS if c.id == m.channel)
    local_day = m.when.astimezone(ZONE).date()
    if key == "from":
        hit = m.author.id == ME.id if value.lower() == "me" else fold(value) in names[m.author.id]
    elif key == "in":
        hit = fold(value) in conversation_keys(conversation)
    elif key == "has":
        kinds = {FILES[f] for f in m.files}
        link = re.search(r"(?i)https?://\S", m.content) is not None
        hit = {
            "attachment": bool(m.files), "link": link, "embed": m.embeds > 0,
        }.get(value, value in kinds)  # fmt: skip
    elif key == "is":
        hit = m.edited
    elif key == "source":
        hit = m.source == value.lower()
    elif key in ("before", "after", "during"):
        first, last = period(value)
        hit = {"before": local_day < first, "after": local_day > last,
               "during": first <= local_day <= last}[key]  # fmt: skip
    else:
        words = tokens(body.strip('"'))
        hit = contains(tokens(m.content), words) if words else body in m.content
    return hit != negated


def reference(terms: list[str], sent: list[Sent]) -> tuple[list[int], list[int], set[int]]:
    """The ids ``terms`` select in time order and in channel order, and the gap channels."""
    last = next((int(t[5:]) for t in terms if t.startswith("last:")), None)
    terms = [t for t in terms if not t.startswith("last:")]
    names: dict[str, set[str]] = {}
    for m in sent:
        names.setdefault(m.author.id, {m.author.id}).update(
            {fold(m.author.username), fold(m.author.global_name or m.author.username)}
        )
    by_kind: dict[str, list[str]] = {}
    for t in terms:
        by_kind.setdefault(
            t.lstrip("-").split(":")[0] if ":" in t and not t.startswith(('"', '-"')) else "word",
            [],
        ).append(t)
    chosen = [m for m in sent if _all_hold(by_kind, m, names)]
    chosen.sort(key=lambda m: (m.when, m.id))
    if last is not None:
        chosen = chosen[-last:]
    sort_key = {c.id: (fold(c.name), c.id) for c in CONVERSATIONS}
    by_channel = sorted(chosen, key=lambda m: (sort_key[m.channel], m.when, m.id))
    return [m.id for m in chosen], [m.id for m in by_channel], _gaps(by_kind, sent)


def _all_hold(by_kind: dict[str, list[str]], m: Sent, names: dict[str, set[str]]) -> bool:
    for kind, terms in by_kind.items():
        if kind in ("from", "in"):  # any of the names, none of the excluded ones
            wanted = [t for t in terms if not t.startswith("-")]
            if wanted and not any(matches(t, m, names) for t in wanted):
                return False
            if not all(matches(t, m, names) for t in terms if t.startswith("-")):
                return False
        elif not all(matches(t, m, names) for t in terms):
            return False
    return True


def _gaps(by_kind: dict[str, list[str]], sent: list[Sent]) -> set[int]:
    with_messages = {m.channel for m in sent if m.source == "discord"}
    gaps = set()
    for c in CONVERSATIONS:
        if c.verdict not in ("skipped", "unreachable", "failed") or c.id in with_messages:
            continue
        places = by_kind.get("in", [])
        wanted = [t.split(":", 1)[1].strip('"') for t in places if not t.startswith("-")]
        unwanted = [t.split(":", 1)[1].strip('"') for t in places if t.startswith("-")]
        if wanted and not any(fold(n) in conversation_keys(c) for n in wanted):
            continue
        if any(fold(n) in conversation_keys(c) for n in unwanted):
            continue
        people = [t.split(":", 1)[1].strip('"') for t in by_kind.get("from", [])
                  if not t.startswith("-")]  # fmt: skip
        if (
            people
            and all(p.lower() != "me" for p in people)
            and not any(fold(p) in participant_keys(c) for p in people)
        ):
            continue
        gaps.add(c.id)
    return gaps


# --- the engine ------------------------------------------------------------------------------


def index_of(sent: list[Sent]) -> sqlite3.Connection:
    conn = sqlite3.connect(":memory:", isolation_level=None)
    for statement in (*SCHEMA, *FRESH_INDEXES):
        conn.execute(statement)
    loader = Loader(conn, fresh=False)
    for channel in sorted({m.channel for m in sent}):
        document = {
            "channel": {"id": str(channel), "type": "DirectTextChat", "name": "x"},
            "messages": [_dce(m) for m in sent if m.channel == channel],
        }
        messages = decode_export(msgspec.json.encode(document)).messages
        if channel in FROM_PACKAGE:
            rows = rows_of(messages, channel, loader.next_row, set())
            loader.next_row += len(rows.messages)
            conn.executemany(SQL.own_messages, rows.messages)
            conn.executemany(SQL.words, rows.words())
            conn.executemany(SQL.people, rows.people)
        else:
            loader.add(messages, channel)
    store_conversations(conn, CONVERSATIONS)
    conn.execute(SQL.meta_set, ("owner", ME.id))
    return conn


def _dce(m: Sent) -> dict[str, object]:
    edited = m.when + timedelta(minutes=3) if m.edited else None
    return dce_message(m.id, m.author, m.content, edited=edited, embeds=m.embeds,
                       attachments=[(f, 100) for f in m.files])  # fmt: skip


def selected(history: History, text: str, order: str) -> Iterator[int]:
    selection = history.select(parse_query(text), order)  # type: ignore[arg-type]
    return (m.id for m in selection.messages())


@settings(max_examples=150)
@given(sent=messages(), seed=st.integers(0, 2**32 - 1))
def test_the_sql_engine_selects_what_the_reference_predicate_selects(
    sent: list[Sent], seed: int
) -> None:
    history_conn = index_of(sent)
    history = History(history_conn, ZONE)
    rng = random.Random(seed + sum(m.id for m in sent))
    for _ in range(QUERIES_PER_EXAMPLE):
        terms = random_query(rng)
        text = " ".join(terms)
        in_time, in_channels, gaps = reference(terms, sent)
        selection = history.select(parse_query(text), "time")
        assert [m.id for m in selection.messages()] == in_time, text
        assert selection.count == len(in_time), text
        assert list(selected(history, text, "channel")) == in_channels, text
        assert {g.channel_id for g in selection.gaps} == gaps, text
        partial = {m.channel for m in sent if m.source == "package"}
        assert {g.channel_id for g in selection.gaps if g.partial} == gaps & partial, text
        compiled = compile_query(parse_query(text), zone=ZONE, owner=int(ME.id))
        for probe in (False, True):  # both plans: one lookup, or per candidate
            sql, params = select_sql(compiled, "time", probe=probe)
            assert [row[0] for row in history_conn.execute(sql, params)] == in_time, text
        assert_search_plans_agree(history_conn, compiled, in_time, text=text)


def assert_search_plans_agree(
    conn: sqlite3.Connection, compiled: Compiled, in_time: list[int], *, text: str
) -> None:
    """A search page is the selection newest first, whether it sorts the matches or walks
    the time index (``many``: the full-text lookup as a set), and its count stops where it
    is told to, exact below, with either full-text plan."""
    newest_first = in_time[::-1]
    for many in (False, True):
        sql, params = search_sql(compiled, None, len(in_time) + 1, probe=False, many=many)
        found = conn.execute(sql, params).fetchall()  # _SELECTED: id, channel, ts, …
        assert [row[0] for row in found] == newest_first, text
        if len(found) > 2:
            sql, params = search_sql(
                compiled, (found[0][2], found[0][0]), 2, probe=False, many=many
            )
            assert [row[0] for row in conn.execute(sql, params)] == newest_first[1:3], text
    for probe in (False, True):
        sql, params = search_count_sql(compiled, probe=probe, up_to=2)
        assert conn.execute(sql, params).fetchone()[0] == min(len(in_time), 2), text
