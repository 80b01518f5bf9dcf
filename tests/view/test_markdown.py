"""``render_markdown``: Discord markdown as HTML that shows everything and runs nothing."""

from __future__ import annotations

from html.parser import HTMLParser

import pytest
from dmj.view import render_markdown, words_highlighter
from dmj.view._markdown import ALLOWED_ATTRIBUTES, ALLOWED_TAGS, MAX_DEPTH
from hypothesis import given
from hypothesis import strategies as st

from tests.view.worlds import HOSTILE_CONTENTS, HOSTILE_NAME

LINK = 'rel="noopener noreferrer" target="_blank"'


@pytest.mark.parametrize(
    ("source", "html"),
    [
        ("plain text", "plain text"),
        ("**bold**", "<strong>bold</strong>"),
        ("*italics* and _italics_", "<em>italics</em> and <em>italics</em>"),
        ("__underline__", "<u>underline</u>"),
        ("~~strike~~", "<s>strike</s>"),
        ("||spoiler||", '<span class="spoiler">spoiler</span>'),
        ("***both***", "<strong><em>both</em></strong>"),
        ("**bold _and italic_**", "<strong>bold <em>and italic</em></strong>"),
        ("`code **not bold**`", "<code>code **not bold**</code>"),
        ("``a `tick` inside``", "<code>a `tick` inside</code>"),
        ("```py\nprint('**x**')\n```", "<pre><code>print(&#x27;**x**&#x27;)</code></pre>"),
        ("```\n<b>raw</b>\n```after", "<pre><code>&lt;b&gt;raw&lt;/b&gt;</code></pre>after"),
        ("> quoted\n> twice\nnot quoted", "<blockquote>quoted<br>twice</blockquote>not quoted"),
        (">>> all\nthe rest", "<blockquote>all<br>the rest</blockquote>"),
        ("a > b", "a &gt; b"),
        ("**> not a quote**", "<strong>&gt; not a quote</strong>"),
        ("line one\nline two", "line one<br>line two"),
        ("snake_case_name", "snake_case_name"),
        (r"\*not italic\*", "*not italic*"),
        ("2 * 3 * 4", "2 * 3 * 4"),
        ("https://example.com/a?b=1&c=2.", f'<a href="https://example.com/a?b=1&amp;c=2" {LINK}>'
         "https://example.com/a?b=1&amp;c=2</a>."),
        ("<https://example.com>", f'<a href="https://example.com" {LINK}>https://example.com</a>'),
        ("[the **flat**](https://example.com/flat)",
         f'<a href="https://example.com/flat" {LINK}>the <strong>flat</strong></a>'),
        ("[wiki](https://en.wikipedia.org/wiki/Rust_(language))",
         f'<a href="https://en.wikipedia.org/wiki/Rust_(language)" {LINK}>wiki</a>'),
        ("[a [nested](https://x.example) link](https://y.example)",
         f'[a <a href="https://x.example" {LINK}>nested</a> link](<a href="https://y.example" '
         f'{LINK}>https://y.example</a>)'),
        ("<@1> <@!2> <@3>", '<span class="mention">@alice</span> <span class="mention">@Bob B'
         '</span> <span class="mention">@unknown-user</span>'),
        ("<#9> <@&7>", '<span class="mention">#unknown-channel</span> <span class="mention">'
         "@role</span>"),
        ("<:blob:123> <a:dance:456>", '<span class="emoji">:blob:</span> <span class="emoji">'
         ":dance:</span>"),
        ("<t:1700000000:R>", '<time datetime="2023-11-14T22:13:20+00:00">2023-11-14 22:13 UTC'
         "</time>"),
        ("<t:99999999999999>", "&lt;t:99999999999999&gt;"),
    ],
    ids=lambda value: value[:40] if isinstance(value, str) else None,
)  # fmt: skip
def test_discord_markdown_renders_as_discord_shows_it(source: str, html: str) -> None:
    assert render_markdown(source, {"1": "alice", "2": "Bob B"}) == html


@pytest.mark.parametrize(
    ("source", "html"),
    [
        ("<script>alert(1)</script>", "&lt;script&gt;alert(1)&lt;/script&gt;"),
        ('<img src=x onerror="alert(1)">', "&lt;img src=x onerror=&quot;alert(1)&quot;&gt;"),
        ("[click](javascript:alert(1))", "[click](javascript:alert(1))"),
        ("[click](JAVASCRIPT:alert(1))", "[click](JAVASCRIPT:alert(1))"),
        ("<javascript:alert(1)>", "&lt;javascript:alert(1)&gt;"),
        ("[x](data:text/html,hi)", "[x](data:text/html,hi)"),
        ('[x](https://a.example/"onmouseover="alert(1))',
         f'<a href="https://a.example/&quot;onmouseover=&quot;alert(1)" {LINK}>x</a>'),
        ("`</code><script>x</script>`", "<code>&lt;/code&gt;&lt;script&gt;x&lt;/script&gt;</code>"),
        ("**\"><svg onload=alert(1)>**", "<strong>&quot;&gt;&lt;svg onload=alert(1)&gt;</strong>"),
        ("http:///etc/passwd", "http:///etc/passwd"),
        ("[x](http://:80/)", "[x](http://:80/)"),
        ("<http://[::1>", "&lt;http://[::1&gt;"),
        ("https://x.example/<script>", f'<a href="https://x.example/" {LINK}>https://x.example/'
         "</a>&lt;script&gt;"),
    ],
    ids=lambda value: value[:40] if isinstance(value, str) else None,
)  # fmt: skip
def test_hostile_content_is_shown_as_text(source: str, html: str) -> None:
    assert render_markdown(source) == html


def test_a_hostile_name_in_a_mention_is_escaped() -> None:
    html = render_markdown("<@9>", {"9": HOSTILE_NAME})
    assert "<img" not in html
    assert "<script" not in html
    assert html.startswith('<span class="mention">@&lt;img src=x onerror=&quot;')


def test_nesting_deeper_than_the_limit_is_text_not_a_crash() -> None:
    source = "**" * 2000 + "x" + "**" * 2000
    parsed = tags_of(render_markdown(source))
    assert parsed.deepest == MAX_DEPTH + 1
    assert "x" in "".join(parsed.text)


def test_highlight_marks_whole_words_ignoring_case_but_never_inside_code() -> None:
    mark = words_highlighter(["flat"])
    assert render_markdown("The Flat, flatten `flat`", highlight=mark) == (
        "The <mark>Flat</mark>, flatten <code>flat</code>"
    )
    assert words_highlighter(["", " "]) is None


class _Tags(HTMLParser):
    """Every tag and attribute of a piece of HTML, and its text."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.tags: list[tuple[str, list[tuple[str, str | None]]]] = []
        self.text: list[str] = []
        self.depth = self.deepest = 0

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.tags.append((tag, attrs))
        if tag != "br":
            self.depth += 1
            self.deepest = max(self.deepest, self.depth)

    def handle_endtag(self, tag: str) -> None:
        self.depth -= 1

    def handle_data(self, data: str) -> None:
        self.text.append(data)


def tags_of(html: str) -> _Tags:
    parser = _Tags()
    parser.feed(html)
    parser.close()
    return parser


def assert_safe(html: str) -> None:
    for tag, attrs in tags_of(html).tags:
        assert tag in ALLOWED_TAGS, f"<{tag}> in {html!r}"
        for name, value in attrs:
            assert name in ALLOWED_ATTRIBUTES, f"{name}= in {html!r}"
            if name == "href":
                assert value is not None
                assert value.startswith(("http://", "https://")), html
                assert ("rel", "noopener noreferrer") in attrs


@pytest.mark.parametrize("source", [*HOSTILE_CONTENTS, HOSTILE_NAME])
def test_the_hostile_corpus_yields_only_allowed_tags_and_web_links(source: str) -> None:
    assert_safe(render_markdown(source, {"9": HOSTILE_NAME}))


MARKUP = st.sampled_from(
    ["*", "**", "_", "__", "~~", "||", "`", "```", "> ", ">>> ", "\n", "<", ">", '"', "'", "&",
     "[", "](", ")", "(", "\\", "<@1>", "<#2>", "<t:5>", "https://", "javascript:", "a", " ",
     "<script>", "onerror=", "é", "😀"]
)  # fmt: skip


@given(st.lists(MARKUP, max_size=40).map("".join))
def test_any_mix_of_markup_yields_only_allowed_tags_and_web_links(source: str) -> None:
    assert_safe(render_markdown(source, {"1": '<b x="y">'}, highlight=words_highlighter(["a"])))


@given(st.text(alphabet=st.characters(exclude_categories=["Cs"]), max_size=60))
def test_text_without_markup_reads_back_exactly(source: str) -> None:
    """Whatever is not markup survives: escaping loses no character of plain text."""
    plain = "".join(c for c in source if c.isalnum() or c == " ")
    html = render_markdown(plain)
    assert "".join(tags_of(html).text) == plain
