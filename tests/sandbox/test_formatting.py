"""parse_mode handling: the text and entities Telegram would produce, and its refusals."""

from __future__ import annotations

import pytest

from webapp.sandbox.errors import TelegramError
from webapp.sandbox.formatting import parse


def test_plain_text_is_untouched():
    assert parse("  a <b> *c*  ", None) == ("  a <b> *c*  ", [])


def test_html_nested_entities_and_utf16_offsets():
    text, entities = parse("👋 <b>Hi <i>there</i></b> &lt;3 <code>x&amp;y</code>", "HTML")
    assert text == "👋 Hi there <3 x&y"
    assert entities == [
        {"type": "bold", "offset": 3, "length": 8},  # the emoji is two UTF-16 units
        {"type": "italic", "offset": 6, "length": 5},
        {"type": "code", "offset": 15, "length": 3},
    ]


def test_html_pre_with_language_and_spoiler():
    source = '<pre><code class="language-python">print(1)</code></pre> <tg-spoiler>s</tg-spoiler>'
    text, entities = parse(source, "html")
    assert text == "print(1) s"
    assert entities == [
        {"type": "pre", "offset": 0, "length": 8, "language": "python"},
        {"type": "spoiler", "offset": 9, "length": 1},
    ]


@pytest.mark.parametrize(
    "source,description",
    [
        ("<div>x</div>", 'Unsupported start tag "div" at byte offset 0'),
        ("<b>x</i>", 'Unmatched end tag at byte offset 4, expected "</b>", found "</i>"'),
        ("<b>x", 'Can\'t find end tag corresponding to start tag "b"'),
        ("x</b>", "Unexpected end tag at byte offset 1"),
        ("Цена < 5", 'Unsupported start tag "" at byte offset 9'),
    ],
)
def test_html_errors(source, description):
    with pytest.raises(TelegramError) as caught:
        parse(source, "HTML")
    assert caught.value.error_code == 400
    assert caught.value.description == f"Bad Request: can't parse entities: {description}"


def test_markdown_v2_entities_and_escapes():
    text, entities = parse(r"*Итого:* __5 000__ тг\. [чек](https://example.test/r?id=1) `a\`b`", "MarkdownV2")
    assert text == "Итого: 5 000 тг. чек a`b"
    assert entities == [
        {"type": "bold", "offset": 0, "length": 6},
        {"type": "underline", "offset": 7, "length": 5},
        {"type": "text_link", "offset": 17, "length": 3, "url": "https://example.test/r?id=1"},
        {"type": "code", "offset": 21, "length": 3},
    ]


@pytest.mark.parametrize(
    "source,description",
    [
        ("Hello!", "Character '!' is reserved and must be escaped with the preceding '\\'"),
        ("a-b", "Character '-' is reserved and must be escaped with the preceding '\\'"),
        ("*bold", "Can't find end of Bold entity at byte offset 0"),
        ("x `code", "Can't find end of Code entity at byte offset 2"),
    ],
)
def test_markdown_v2_errors(source, description):
    with pytest.raises(TelegramError) as caught:
        parse(source, "MarkdownV2")
    assert caught.value.description == f"Bad Request: can't parse entities: {description}"


def test_legacy_markdown():
    assert parse("*a* _b_ `c` [d](http://e.test) 1.5-2!", "Markdown") == (
        "a b c d 1.5-2!",
        [
            {"type": "bold", "offset": 0, "length": 1},
            {"type": "italic", "offset": 2, "length": 1},
            {"type": "code", "offset": 4, "length": 1},
            {"type": "text_link", "offset": 6, "length": 1, "url": "http://e.test"},
        ],
    )
    with pytest.raises(TelegramError, match="Can't find end of the entity starting at byte offset 2"):
        parse("a *b", "Markdown")


def test_surrounding_whitespace_is_trimmed_with_entities():
    assert parse("\n <b>x</b> \n", "HTML") == ("x", [{"type": "bold", "offset": 0, "length": 1}])
