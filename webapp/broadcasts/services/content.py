"""A broadcast's content: Telegram HTML (the subset Telegram parses), inline buttons, an optional photo.

Text is checked the way Telegram will parse it — allowed tags only, properly nested, ``<a>`` with an
http(s) or tg link — and its length counted on the visible text in UTF-16 units, as Telegram counts.
The same parser renders the console preview, so what the marketer sees is what Telegram accepts.
"""

from __future__ import annotations

from html import escape
from html.parser import HTMLParser
from typing import Any
from urllib.parse import urlparse

from webapp.core.services import ServiceError

TEXT_LIMIT = 4096
CAPTION_LIMIT = 1024
BUTTON_TEXT_LIMIT = 64
CALLBACK_DATA_LIMIT = 64  # bytes
URL_LIMIT = 2048
MAX_BUTTON_ROWS = 10
MAX_BUTTONS_PER_ROW = 8
PHOTO_LIMIT = 10 * 1024 * 1024  # Telegram's limit for photos sent by upload
PHOTO_SIGNATURES = {b"\xff\xd8\xff": "image/jpeg", b"\x89PNG\r\n\x1a\n": "image/png"}

# Telegram's synonyms render like the tag they stand for.
TAGS = {
    "b": "b",
    "strong": "b",
    "i": "i",
    "em": "i",
    "u": "u",
    "ins": "u",
    "s": "s",
    "strike": "s",
    "del": "s",
    "a": "a",
    "code": "code",
    "pre": "pre",
}
LINK_SCHEMES = ("http", "https", "tg")


def _invalid(field: str, message: str) -> ServiceError:
    return ServiceError(message, 422, "VALIDATION_ERROR", field)


def _valid_link(url: str) -> bool:
    parsed = urlparse(url)
    if parsed.scheme == "tg":
        return bool(parsed.netloc or parsed.path)
    return parsed.scheme in LINK_SCHEMES and bool(parsed.netloc)


def telegram_length(text: str) -> int:
    return len(text.encode("utf-16-le")) // 2


class _TelegramHTML(HTMLParser):
    """Checks Telegram's HTML subset and builds a safe HTML rendering of it for the preview."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.stack: list[str] = []
        self.visible: list[str] = []
        self.rendered: list[str] = []
        self.error: str | None = None

    def _fail(self, message: str) -> None:
        if self.error is None:
            self.error = message

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag not in TAGS:
            self._fail(f"Tag <{tag}> is not supported by Telegram (use b, i, u, s, a, code, pre)")
            return
        if tag == "a":
            href = dict(attrs).get("href") or ""
            if not _valid_link(href):
                self._fail("A link needs an href starting with http://, https:// or tg://")
                return
            self.rendered.append(f'<a href="{escape(href, quote=True)}" target="_blank" rel="noopener noreferrer">')
        elif attrs and not (tag in ("code", "pre") and all(name == "class" for name, _ in attrs)):
            self._fail(f"Tag <{tag}> takes no attributes")
            return
        else:
            self.rendered.append(f"<{TAGS[tag]}>")
        self.stack.append(tag)

    def handle_startendtag(self, tag: str, attrs) -> None:
        self._fail(f"Self-closing <{tag}/> is not supported by Telegram")

    def handle_endtag(self, tag: str) -> None:
        if not self.stack or self.stack[-1] != tag:
            self._fail(f"Closing </{tag}> does not match an open tag")
            return
        self.stack.pop()
        self.rendered.append(f"</{TAGS[tag]}>")

    def handle_data(self, data: str) -> None:
        self.visible.append(data)
        self.rendered.append(escape(data, quote=False).replace("\n", "<br>"))

    def handle_comment(self, data: str) -> None:
        self._fail("HTML comments are not supported by Telegram")

    def handle_decl(self, decl: str) -> None:
        self._fail("Declarations are not supported by Telegram")

    def handle_pi(self, data: str) -> None:
        self._fail("Processing instructions are not supported by Telegram")


def parse_html(text: str) -> _TelegramHTML:
    parser = _TelegramHTML()
    parser.feed(text)
    parser.close()
    if parser.stack:
        parser._fail(f"Tag <{parser.stack[-1]}> is not closed")
    return parser


def check_text(text: str, field: str = "text", *, caption: bool = False) -> str:
    """``text`` if Telegram will accept it as an HTML message (or photo caption), else 422."""
    if not isinstance(text, str) or not text.strip():
        raise _invalid(field, "Text must not be empty")
    parsed = parse_html(text)
    if parsed.error:
        raise _invalid(field, parsed.error)
    visible = "".join(parsed.visible)
    if not visible.strip():
        raise _invalid(field, "Text must have visible characters")
    limit = CAPTION_LIMIT if caption else TEXT_LIMIT
    length = telegram_length(visible)
    if length > limit:
        what = "A photo caption" if caption else "A message"
        raise _invalid(field, f"{what} may have at most {limit} characters; this one has {length}")
    return text


def render_preview(text: str) -> dict[str, Any]:
    """Safe HTML of ``text`` as Telegram shows it, with its length and the first problem found."""
    parsed = parse_html(text or "")
    visible = "".join(parsed.visible)
    return {"html": "".join(parsed.rendered), "length": telegram_length(visible), "error": parsed.error}


def check_texts(texts: dict[str, str] | None, *, caption: bool = False) -> dict[str, str]:
    """Per-language versions: ``{"kk": "..."}``; a recipient without one gets the main text."""
    if not texts:
        return {}
    if not isinstance(texts, dict):
        raise _invalid("texts", "Texts must be an object of language → text")
    from webapp.broadcasts.services.segments import LANGUAGES

    cleaned = {}
    for language, text in texts.items():
        if language not in LANGUAGES:
            raise _invalid(f"texts.{language}", f"Unknown language (one of {', '.join(LANGUAGES)})")
        if text is None or (isinstance(text, str) and not text.strip()):
            continue
        cleaned[language] = check_text(text, f"texts.{language}", caption=caption)
    return cleaned


def check_buttons(rows: Any) -> list[list[dict[str, str]]]:
    """Rows of inline buttons, each ``{"text", "url"}`` or ``{"text", "callback_data"}``."""
    if not rows:
        return []
    if not isinstance(rows, list) or len(rows) > MAX_BUTTON_ROWS:
        raise _invalid("buttons", f"Buttons must be a list of at most {MAX_BUTTON_ROWS} rows")
    cleaned: list[list[dict[str, str]]] = []
    for r, row in enumerate(rows):
        if isinstance(row, dict):
            row = [row]  # a flat list of buttons: one per row
        if not isinstance(row, list) or not 1 <= len(row) <= MAX_BUTTONS_PER_ROW:
            raise _invalid(f"buttons.{r}", f"A row holds 1 to {MAX_BUTTONS_PER_ROW} buttons")
        out_row = []
        for c, button in enumerate(row):
            field = f"buttons.{r}.{c}"
            if not isinstance(button, dict):
                raise _invalid(field, "A button is an object with text and url or callback_data")
            text = str(button.get("text") or "").strip()
            if not text or len(text) > BUTTON_TEXT_LIMIT:
                raise _invalid(f"{field}.text", f"Button text must have 1 to {BUTTON_TEXT_LIMIT} characters")
            url = (button.get("url") or "").strip()
            data = button.get("callback_data") or ""
            if bool(url) == bool(data):
                raise _invalid(field, "A button has exactly one of url or callback_data")
            if url:
                if len(url) > URL_LIMIT or not _valid_link(url):
                    raise _invalid(f"{field}.url", "Button link must start with http://, https:// or tg://")
                out_row.append({"text": text, "url": url})
            else:
                if not isinstance(data, str) or len(data.encode()) > CALLBACK_DATA_LIMIT:
                    raise _invalid(f"{field}.callback_data", f"callback_data is at most {CALLBACK_DATA_LIMIT} bytes")
                out_row.append({"text": text, "callback_data": data})
        cleaned.append(out_row)
    return cleaned


def reply_markup(rows: list[list[dict[str, str]]]) -> dict | None:
    return {"inline_keyboard": rows} if rows else None


def check_photo(content: bytes | None, name: str | None = None) -> tuple[bytes, str, str] | None:
    """(bytes, file name, MIME type) of a JPEG or PNG photo, or 422."""
    if not content:
        return None
    if len(content) > PHOTO_LIMIT:
        raise _invalid("photo", "A photo may be at most 10 MB")
    for signature, mime in PHOTO_SIGNATURES.items():
        if content.startswith(signature):
            extension = "jpg" if mime == "image/jpeg" else "png"
            stem = (name or "photo").rsplit("/", 1)[-1].rsplit(".", 1)[0][:100] or "photo"
            return content, f"{stem}.{extension}", mime
    raise _invalid("photo", "The photo must be a JPEG or PNG image")
