"""Telegram HTML, buttons and photos as Telegram would accept them; the preview is safe HTML."""

from __future__ import annotations

import pytest

from webapp.broadcasts.services import content
from webapp.core.services import ServiceError


@pytest.mark.parametrize(
    "text",
    [
        "plain",
        "<b>bold</b> <strong>s</strong> <i>i</i> <em>e</em> <u>u</u> <ins>i</ins> <s>s</s> <del>d</del>",
        '<a href="https://example.com/x?a=1&amp;b=2">link</a> <a href="tg://user?id=1">me</a>',
        '<pre><code class="language-python">print(1)</code></pre>',
        "5 &lt; 6 &amp; 7 &gt; 2",
        "😀" * 2048,
    ],
)
def test_accepted(text):
    assert content.check_text(text) == text


@pytest.mark.parametrize(
    ("text", "fragment"),
    [
        ("", "empty"),
        ("<b></b>", "visible"),
        ("<div>x</div>", "not supported"),
        ("<b>x", "not closed"),
        ("<b><i>x</b></i>", "does not match"),
        ('<a href="javascript:alert(1)">x</a>', "href"),
        ("<a>x</a>", "href"),
        ('<b class="x">x</b>', "no attributes"),
        ("<br/>", "Self-closing"),
        ("<!-- hidden -->x", "comments"),
        ("x" * 4097, "4096"),
        ("😀" * 2049, "4096"),  # an emoji is two UTF-16 units for Telegram
    ],
)
def test_refused_with_the_reason(text, fragment):
    with pytest.raises(ServiceError) as caught:
        content.check_text(text)
    assert caught.value.status == 422 and caught.value.field == "text" and fragment in caught.value.message


def test_caption_limit_and_entities_do_not_count():
    content.check_text("<b>" + "x" * 1024 + "</b>", caption=True)
    with pytest.raises(ServiceError):
        content.check_text("x" * 1025, caption=True)
    assert content.render_preview("&amp;" * 3)["length"] == 3


def test_preview_escapes_everything_but_the_allowed_tags():
    rendered = content.render_preview('<b>a</b><img src=x onerror=alert(1)> "q" <a href="https://x.io?a=1">l</a>\nz')
    assert "<img" not in rendered["html"] and rendered["error"]
    assert rendered["html"].startswith("<b>a</b>")
    assert '<a href="https://x.io?a=1" target="_blank" rel="noopener noreferrer">l</a><br>z' in rendered["html"]
    assert content.render_preview("<strong>x</strong>")["html"] == "<b>x</b>"
    assert content.render_preview("<script>x</script>")["html"] == "x"


def test_buttons():
    rows = content.check_buttons(
        [
            [{"text": " Go ", "url": "https://example.com"}, {"text": "Later", "callback_data": "later"}],
            {"text": "Me", "url": "tg://resolve?domain=x"},
        ]
    )
    assert rows == [
        [{"text": "Go", "url": "https://example.com"}, {"text": "Later", "callback_data": "later"}],
        [{"text": "Me", "url": "tg://resolve?domain=x"}],
    ]
    assert content.reply_markup(rows) == {"inline_keyboard": rows}
    assert content.reply_markup([]) is None
    for bad, field in (
        ([[{"text": "", "url": "https://x.io"}]], "buttons.0.0.text"),
        ([[{"text": "x", "url": "ftp://x.io"}]], "buttons.0.0.url"),
        ([[{"text": "x", "url": "https://x.io", "callback_data": "y"}]], "buttons.0.0"),
        ([[{"text": "x", "callback_data": "я" * 33}]], "buttons.0.0.callback_data"),  # 66 bytes
        ([[]], "buttons.0"),
        ([[{"text": "x", "callback_data": "y"}]] * 11, "buttons"),
    ):
        with pytest.raises(ServiceError) as caught:
            content.check_buttons(bad)
        assert caught.value.field == field


def test_photos():
    jpeg = b"\xff\xd8\xff\xe0" + b"0" * 100
    assert content.check_photo(jpeg, "dir/Sale.JPEG") == (jpeg, "Sale.jpg", "image/jpeg")
    assert content.check_photo(None) is None
    with pytest.raises(ServiceError):
        content.check_photo(b"GIF89a....", "x.gif")
    with pytest.raises(ServiceError):
        content.check_photo(b"\xff\xd8\xff" + b"0" * content.PHOTO_LIMIT, "big.jpg")


def test_texts_per_language():
    assert content.check_texts({"kk": "<b>Сәлем</b>", "uz": "  "}) == {"kk": "<b>Сәлем</b>"}
    with pytest.raises(ServiceError) as caught:
        content.check_texts({"fr": "Bonjour"})
    assert caught.value.field == "texts.fr"
    with pytest.raises(ServiceError) as caught:
        content.check_texts({"kk": "<div>x</div>"})
    assert caught.value.field == "texts.kk"
