"""Telegram's HTML parse mode (``bot.chat.telegram_html``): tdlib's rules, offsets in UTF-16,
and the plain text a terminal shows."""

from __future__ import annotations

import pytest

from bot.chat.telegram_html import HtmlParseError, html_to_text, parse_html


def test_html_parser_nests_tags_with_utf16_offsets() -> None:
    text, entities = parse_html(
        '😀 <b>bold <i>both</i></b> <a href="https://smsc.ru/?a=1&amp;b=2">link</a> '
        '<pre><code class="language-json">{}</code></pre> <code class="language-x">c</code>'
    )

    assert text == "😀 bold both link {} c"
    assert entities == [
        {"type": "bold", "offset": 3, "length": 9},
        {"type": "italic", "offset": 8, "length": 4},
        {"type": "text_link", "offset": 13, "length": 4, "url": "https://smsc.ru/?a=1&b=2"},
        {"type": "pre", "offset": 18, "length": 2, "language": "json"},
        {"type": "code", "offset": 21, "length": 1},
    ]


@pytest.mark.parametrize(
    ("html", "error"),
    [
        ("a < b", 'Unsupported start tag "" at byte offset 2'),
        ("<p>x</p>", 'Unsupported start tag "p" at byte offset 0'),
        ("<b>x", "Can't find end tag corresponding to start tag b"),
        ("x</b>", "Unexpected end tag at byte offset 1"),
        ("<b>x</i>", 'Unmatched end tag at byte offset 4, expected "</b>", found "</i>"'),
        ("<b", "Unclosed start tag at byte offset 0"),
        ('<span class="x">y</span>', 'Tag "span" must have class "tg-spoiler"'),
        ("я<u>", "Can't find end tag corresponding to start tag u"),
        ("я<x>", 'Unsupported start tag "x" at byte offset 2'),
    ],
)
def test_html_parser_refuses_what_telegram_refuses(html: str, error: str) -> None:
    with pytest.raises(HtmlParseError, match="can't parse entities") as caught:
        parse_html(html)
    assert error in str(caught.value)


def test_html_parser_keeps_unknown_ampersands_literal() -> None:
    assert parse_html("AT&T &nbsp; &#65;&#x42;&lt;") == ("AT&T &nbsp; AB<", [])


def test_plain_text_shows_a_links_address_unless_the_text_is_the_address() -> None:
    assert html_to_text('😀 <b>A &lt;b&gt;</b> <a href="https://x.example">c</a>!') == (
        "😀 A <b> c (https://x.example)!"
    )
    assert html_to_text('<a href="https://x.example">https://x.example</a>') == "https://x.example"
    assert html_to_text("<a>https://y.example</a> and <i>x</i>") == "https://y.example and x"


def test_plain_text_of_html_telegram_refuses_is_refused() -> None:
    with pytest.raises(HtmlParseError, match='Unsupported start tag "p"'):
        html_to_text("<p>x</p>")
