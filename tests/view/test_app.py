"""The viewer's HTTP face, through Starlette's test client: privacy, endpoints, escaping."""

from __future__ import annotations

import re
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import httpx
import msgspec
import pytest
from dmj.machine.errors import JournalNotFound
from dmj.view import Conversation, MemoryArchive, cookie_name

from tests.view.support import SECRET, Viewer, serve_viewer
from tests.view.worlds import (
    ALICE_DM,
    GROUP,
    HOSTILE_DM,
    IMAGE,
    LONG,
    PNG,
    conversations,
    everyday_archive,
    hostile_archive,
    long_dm,
)

BOB_DM = 303


@pytest.fixture(scope="module")
def media(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("archive") / "media"


@pytest.fixture(scope="module")
def viewer(media: Path) -> Iterator[Viewer]:
    """The everyday archive served on loopback, for the whole module (it is read-only)."""
    with serve_viewer(everyday_archive(media), media) as running:
        yield running


@contextmanager
def client_of(viewer: Viewer, *, signed_in: bool) -> Iterator[httpx.Client]:
    # A plain-HTTP transport: the default one loads the CA bundle each time (50 ms).
    transport = httpx.HTTPTransport(verify=False)
    with httpx.Client(
        base_url=viewer.origin, transport=transport, follow_redirects=False
    ) as client:
        if signed_in:
            assert client.get(viewer.url).status_code == 303
        yield client


@pytest.fixture
def anonymous(viewer: Viewer) -> Iterator[httpx.Client]:
    with client_of(viewer, signed_in=False) as client:
        yield client


@pytest.fixture
def client(viewer: Viewer) -> Iterator[httpx.Client]:
    """A client that opened the printed address: it holds the cookie."""
    with client_of(viewer, signed_in=True) as client:
        yield client


@contextmanager
def client_for(archive: MemoryArchive) -> Iterator[httpx.Client]:
    with serve_viewer(archive) as other, client_of(other, signed_in=True) as client:
        yield client


def body(response: httpx.Response) -> Any:
    """The JSON of ``response`` (tests index into it freely)."""
    return msgspec.json.decode(response.content)


# ---- private by default -----------------------------------------------------------------


def test_the_printed_address_sets_a_strict_httponly_cookie_and_drops_the_secret(
    anonymous: httpx.Client, viewer: Viewer
) -> None:
    response = anonymous.get(viewer.url)
    assert response.status_code == 303
    assert response.headers["location"] == "/"
    cookie = response.headers["set-cookie"]
    assert cookie.startswith(f"{cookie_name(viewer.port)}={SECRET};")
    assert "HttpOnly" in cookie
    assert "samesite=strict" in cookie.lower()
    assert anonymous.get("/").status_code == 200


@pytest.mark.parametrize(
    "path", ["/", "/api/conversations", f"/api/c/{ALICE_DM}/messages", "/static/app.js",
             f"/media/{IMAGE}", "/api/search?q=x", "/api/export"],
)  # fmt: skip
def test_without_the_secret_every_path_is_403(anonymous: httpx.Client, path: str) -> None:
    response = anonymous.get(path)
    assert response.status_code == 403
    assert "needs the address `dmj view` printed" in response.text


@pytest.mark.parametrize("key", ["wrong", SECRET + "x", SECRET[:-1], "", "ünïcode"])
def test_a_wrong_secret_is_403_and_sets_no_cookie(anonymous: httpx.Client, key: str) -> None:
    response = anonymous.get("/", params={"key": key})
    assert response.status_code == 403
    assert "set-cookie" not in response.headers


def test_the_secret_from_another_launch_or_port_is_refused(
    anonymous: httpx.Client, viewer: Viewer
) -> None:
    anonymous.cookies.set(cookie_name(viewer.port + 1), SECRET)
    anonymous.cookies.set(cookie_name(viewer.port), "the-secret-of-an-earlier-launch")
    assert anonymous.get("/").status_code == 403


@pytest.mark.parametrize(
    "host", ["evil.example", "evil.example:{port}", "localhost:{port}", "127.0.0.1:{other}",
             "127.0.0.1", "127.0.0.2:{port}", "[::1]:{port}"],
)  # fmt: skip
def test_a_host_other_than_the_loopback_address_and_port_is_refused(
    client: httpx.Client, viewer: Viewer, host: str
) -> None:
    """DNS rebinding: a foreign page's name resolving to 127.0.0.1 gets nothing, cookie or not."""
    sent = host.format(port=viewer.port, other=viewer.port + 1)
    response = client.get("/api/conversations", headers={"host": sent})
    assert response.status_code == 403
    assert response.text == f"This dmj viewer answers only at {viewer.origin}/."


@pytest.mark.parametrize("method", ["POST", "PUT", "PATCH", "DELETE"])
def test_nothing_can_be_written(client: httpx.Client, method: str) -> None:
    response = client.request(method, "/api/conversations")
    assert response.status_code == 405
    assert response.headers["allow"] == "GET, HEAD"


@pytest.mark.parametrize("path", ["/", "/api/conversations", "/static/app.css", "/nowhere"])
def test_every_answer_carries_the_security_headers(
    client: httpx.Client, anonymous: httpx.Client, viewer: Viewer, path: str
) -> None:
    for response in (client.get(path), anonymous.get(path)):
        policy = response.headers["content-security-policy"]
        assert f"script-src {viewer.origin}/static/;" in policy
        assert "default-src 'none'" in policy
        assert "unsafe-inline" not in policy
        assert "frame-ancestors 'none'" in policy
        assert response.headers["x-content-type-options"] == "nosniff"
        assert response.headers["referrer-policy"] == "no-referrer"
        assert response.headers["cache-control"] == "no-store"


def test_the_page_has_no_inline_script_and_loads_nothing_from_elsewhere(
    client: httpx.Client,
) -> None:
    html = client.get("/").text
    scripts = re.findall(r"<script[^>]*>", html)
    assert scripts == ['<script src="/static/app.js" defer>']
    assert "</script>" in html.split(scripts[0], 1)[1][:10]
    assert re.findall(r'(?:src|href)="(?!/|#)', html) == []
    assert not re.search(r"<[^>]+\son[a-z]+=", html)


# ---- the page and the endpoints ---------------------------------------------------------


def test_the_page_lists_every_conversation_gaps_with_their_reason(client: httpx.Client) -> None:
    html = client.get("/").text
    names = re.findall(r'<span class="name">([^<]*)</span>', html)
    assert names == ["Alice", "Bob", "Carol", "Dave", "Trip crew"]
    assert "Discord refused to open this DM (50007: Cannot send messages)." in html
    assert 'class="conversation gap" data-id="303"' in html
    assert f"{LONG} messages" in html


def test_conversations_endpoint_gives_status_reason_and_counts(client: httpx.Client) -> None:
    listed = body(client.get("/api/conversations"))
    by_name = {c["name"]: c for c in listed["conversations"]}
    assert by_name["Bob"] == {
        "id": str(BOB_DM), "name": "Bob", "path": "Direct Messages > Bob", "kind": "dm",
        "messages": 0, "lastTs": None, "status": "unreachable", "verdict": "unreachable",
        "reason": "Discord refused to open this DM (50007: Cannot send messages).", "gap": True,
    }  # fmt: skip
    assert by_name["Trip crew"]["path"] == "Group DMs > Trip crew"
    assert by_name["Dave"]["status"] == "not archived yet"
    assert by_name["Dave"]["gap"] is False
    assert listed["notices"] == []


def test_messages_come_newest_first_page_with_string_ids_and_cursors(client: httpx.Client) -> None:
    page = body(client.get(f"/api/c/{ALICE_DM}/messages", params={"limit": 3}))
    last = long_dm()[-1]
    assert [m["content"] if "content" in m else m["html"] for m in page["messages"]] == [
        f"Message number {i}" for i in (LONG - 3, LONG - 2, LONG - 1)
    ]
    newest = page["messages"][-1]
    assert newest["id"] == str(last.id)
    assert newest["channelId"] == str(ALICE_DM)
    assert newest["cursor"] == f"{last.ts}_{last.id}"
    assert newest["author"] == {"id": "1", "name": "Me", "username": "me", "initial": "M", "hue": 1}
    assert page["newer"] is None
    assert page["older"] == page["messages"][0]["cursor"]
    older = body(
        client.get(f"/api/c/{ALICE_DM}/messages", params={"before": page["older"], "limit": 3})
    )
    assert older["newer"] == older["messages"][-1]["cursor"]
    again = body(
        client.get(f"/api/c/{ALICE_DM}/messages", params={"after": older["newer"], "limit": 3})
    )
    assert again["messages"] == page["messages"]


def test_a_group_message_shows_reply_edit_mentions_links_and_attachments(
    client: httpx.Client,
) -> None:
    messages = body(client.get(f"/api/c/{GROUP}/messages"))["messages"]
    first, reply, pics = messages
    assert reply["reply"] == {
        "id": first["id"],
        "author": "Bob",
        "excerpt": "Who books the **flat**?",
    }
    assert reply["editedAt"] is not None
    assert '<span class="mention">@Bob</span>' in reply["html"]
    assert '<a href="https://example.com/flat" rel="noopener noreferrer"' in reply["html"]
    assert pics["attachments"] == [
        {"fileName": "holiday.png", "sizeBytes": 70, "href": f"/media/{IMAGE}", "image": True,
         "external": False},
        {"fileName": "plan.pdf", "sizeBytes": 2048, "href": "https://cdn.example/plan.pdf",
         "image": False, "external": True},
        {"fileName": "lost.txt", "sizeBytes": 5, "href": None, "image": False, "external": False},
    ]  # fmt: skip


def test_around_a_message_and_around_a_date(client: httpx.Client) -> None:
    target = long_dm()[200]
    page = body(client.get(f"/api/c/{ALICE_DM}/around", params={"message": target.id, "limit": 4}))
    assert page["focus"] == str(target.id)
    assert [m["id"] for m in page["messages"]][2] == str(target.id)
    dated = body(client.get(f"/api/c/{ALICE_DM}/around", params={"at": "2024-03-02T00:00:00Z"}))
    assert dated["focus"] == str(long_dm()[8].id)  # 2024-03-02 01:00 UTC


@pytest.mark.parametrize(
    ("path", "error"),
    [
        (f"/api/c/{ALICE_DM}/messages?before=nope", "before='nope' is not a cursor"),
        (f"/api/c/{ALICE_DM}/messages?before=1_1&after=1_1", "not both"),
        (f"/api/c/{ALICE_DM}/messages?limit=0", "limit='0' must be a whole number from 1 to 200"),
        (f"/api/c/{ALICE_DM}/messages?limit=201", "from 1 to 200"),
        (f"/api/c/{ALICE_DM}/around", "Give either message=<id> or at="),
        (f"/api/c/{ALICE_DM}/around?at=yesterday", "at='yesterday' is not an ISO 8601 time"),
        (f"/api/c/{ALICE_DM}/around?at=2024-03-01T10:00:00", "with an offset"),
        ("/api/export?format=pdf", "Unknown export format 'pdf': choose json, md or txt."),
        ("/api/search?q=bogus:key", "The query cannot be read"),
    ],
)
def test_a_bad_request_is_400_saying_what_is_wrong(
    client: httpx.Client, path: str, error: str
) -> None:
    response = client.get(path)
    assert response.status_code == 400
    assert error in body(response)["error"]


def test_a_message_not_in_the_conversation_is_404(client: httpx.Client) -> None:
    response = client.get(f"/api/c/{GROUP}/around", params={"message": long_dm()[0].id})
    assert response.status_code == 404
    assert "There is no message" in body(response)["error"]


def test_search_pages_newest_first_with_the_words_marked(client: httpx.Client) -> None:
    first = body(client.get("/api/search", params={"q": "number", "limit": 2}))
    assert first["count"] == LONG
    assert [m["html"] for m in first["messages"]] == [
        f"Message <mark>number</mark> {i}" for i in (LONG - 1, LONG - 2)
    ]
    assert first["messages"][0]["channelPath"] == "Direct Messages > Alice"
    more = body(
        client.get("/api/search", params={"q": "number", "limit": 2, "before": first["next"]})
    )
    assert [m["html"][-3:] for m in more["messages"]] == ["597", "596"]


def test_export_downloads_the_results_as_a_file(client: httpx.Client) -> None:
    response = client.get("/api/export", params={"q": "flat", "format": "txt"})
    assert response.status_code == 200
    assert response.headers["content-disposition"] == 'attachment; filename="export_dm.txt"'
    assert response.headers["content-type"].startswith("text/plain")
    assert response.text.count("\n") == 2


def test_media_serves_images_inline_and_nothing_outside_the_folder(
    client: httpx.Client, media: Path
) -> None:
    image = client.get(f"/media/{IMAGE}")
    assert (image.status_code, image.headers["content-type"], image.content) == (
        200,
        "image/png",
        PNG,
    )
    (media / "page.html").write_text("<script>alert(1)</script>")
    (media / "x.svg").write_text("<svg onload=alert(1)/>")
    for name in ("page.html", "x.svg"):
        hostile = client.get(f"/media/{name}")
        assert hostile.headers["content-type"] == "application/octet-stream"
        assert hostile.headers["content-disposition"].startswith("attachment;")
    (media.parent / "secret.txt").write_text("not media")
    for path in (
        "/media/..%2Fsecret.txt",
        "/media/../secret.txt",
        "/media/%2E%2E",
        "/media/nope.png",
    ):
        assert client.get(path).status_code == 404, path


def test_without_a_media_folder_attachments_are_not_linked_locally() -> None:
    with client_for(everyday_archive()) as client:
        pics = body(client.get(f"/api/c/{GROUP}/messages"))["messages"][2]
        assert pics["attachments"][0]["href"] is None
        assert client.get(f"/media/{IMAGE}").status_code == 404


# ---- hostile content --------------------------------------------------------------------


def test_hostile_names_and_notices_are_escaped_in_the_page() -> None:
    with client_for(hostile_archive()) as client:
        html = client.get("/").text
    assert "<img src=x" not in html
    assert "<script>window" not in html
    assert html.count("&lt;img src=x onerror=&#34;window.__pwned=1;alert(1)&#34;&gt;") == 4


def test_hostile_content_reaches_the_json_only_as_escaped_html_or_text() -> None:
    with client_for(hostile_archive()) as client:
        page = body(client.get(f"/api/c/{HOSTILE_DM}/messages"))
    for message in page["messages"]:
        assert "<script" not in message["html"]
        assert "<img" not in message["html"]
        assert all(h.startswith("https://") for h in re.findall(r'href="([^"]*)"', message["html"]))
        assert all(a["href"] is None for a in message["attachments"])


def test_a_message_from_the_data_package_is_marked_by_its_source() -> None:
    """The user's own messages the index took from the data package (a conversation Discord
    refused) reach the page as the index returns them, with ``source: package``."""
    own = long_dm()[0]
    archive = MemoryArchive(
        [Conversation(id=ALICE_DM, kind="dm", name="Alice", verdict="unreachable")],
        [msgspec.structs.replace(own, source="package")],
    )
    with client_for(archive) as client:
        [shown] = body(client.get(f"/api/c/{ALICE_DM}/messages"))["messages"]
        assert (shown["id"], shown["source"]) == (str(own.id), "package")
        assert body(client.get(f"/api/c/{GROUP}/messages"))["messages"] == []


class _Unrefreshable(MemoryArchive):
    """An archive that cannot catch up (its journal gone since the launch)."""

    def refresh(self) -> None:
        raise JournalNotFound("There is no dmj archive at /gone (no such directory).")


def test_a_reload_that_cannot_refresh_says_why_and_shows_the_archive_as_it_was() -> None:
    with client_for(_Unrefreshable(conversations(), long_dm())) as client:
        page = client.get("/")
    assert page.status_code == 200
    assert re.findall(r'<p class="notice">([^<]*)</p>', page.text) == [
        "What was archived since the viewer started cannot be shown: There is no dmj archive "
        "at /gone (no such directory)."
    ]
    assert f"{LONG} messages" in page.text
