"""``parse_mode`` as Telegram applies it: markup becomes plain text plus MessageEntity objects.

A bot that sends ``<b>Hi</b>`` with ``parse_mode=HTML`` gets back ``text="Hi"`` with a bold
entity, and malformed markup (an unescaped ``.`` in MarkdownV2, an unknown HTML tag, an
unclosed ``*``) is refused with Telegram's "can't parse entities" error, so formatting bugs
show up in the sandbox instead of in production. Offsets and lengths are in UTF-16 code units.
"""

from __future__ import annotations

import html
import re

from webapp.sandbox.errors import TelegramError, bad_request

HTML_TAGS = {
    "b": "bold",
    "strong": "bold",
    "i": "italic",
    "em": "italic",
    "u": "underline",
    "ins": "underline",
    "s": "strikethrough",
    "strike": "strikethrough",
    "del": "strikethrough",
    "tg-spoiler": "spoiler",
    "span": "spoiler",
    "code": "code",
    "pre": "pre",
    "a": "text_link",
    "blockquote": "blockquote",
    "tg-emoji": "custom_emoji",
}
HTML_NAMED = {"lt": "<", "gt": ">", "amp": "&", "quot": '"'}
_TAG = re.compile(r"<(/?)([a-zA-Z][a-zA-Z0-9-]*)((?:\s+[a-zA-Z-]+(?:\s*=\s*(?:\"[^\"]*\"|'[^']*'|[^\s>]+))?)*)\s*/?>")
_ATTR = re.compile(r"([a-zA-Z-]+)(?:\s*=\s*(?:\"([^\"]*)\"|'([^']*)'|([^\s>]+)))?")
_CHAR_REF = re.compile(r"&(#[0-9]{1,7}|#[xX][0-9a-fA-F]{1,6}|[a-zA-Z]{2,8});")
MD2_RESERVED = set("_*[]()~`>#+-=|{}.!")
MD2_KINDS = {"*": "bold", "_": "italic", "__": "underline", "~": "strikethrough", "||": "spoiler"}
ENTITY_TITLE = {
    "bold": "Bold",
    "italic": "Italic",
    "underline": "Underline",
    "strikethrough": "Strikethrough",
    "spoiler": "Spoiler",
    "code": "Code",
    "pre": "Pre",
    "text_link": "TextUrl",
}


def utf16_len(text: str) -> int:
    return len(text.encode("utf-16-le")) // 2


def _byte_offset(source: str, index: int) -> int:
    return len(source[:index].encode("utf-8"))


def _cant_parse(detail: str) -> TelegramError:
    return bad_request(f"can't parse entities: {detail}")


class _Builder:
    """Plain text being built, with its length in UTF-16 units kept alongside."""

    def __init__(self) -> None:
        self.parts: list[str] = []
        self.offset = 0
        self.entities: list[dict] = []

    def add(self, text: str) -> None:
        self.parts.append(text)
        self.offset += utf16_len(text)

    def entity(self, kind: str, start: int, **extra: str) -> None:
        if self.offset > start:
            self.entities.append({"type": kind, "offset": start, "length": self.offset - start, **extra})

    def result(self) -> tuple[str, list[dict]]:
        return "".join(self.parts), sorted(self.entities, key=lambda e: (e["offset"], -e["length"]))


def parse(text: str, parse_mode: str | None) -> tuple[str, list[dict]]:
    """(plain text, entities) for ``text`` under ``parse_mode``; raises TelegramError on bad markup."""
    mode = (parse_mode or "").strip().lower()
    if not mode:
        return text, []
    if mode == "html":
        plain, entities = _parse_html(text)
    elif mode == "markdownv2":
        plain, entities = _parse_markdown_v2(text)
    elif mode == "markdown":
        plain, entities = _parse_markdown(text)
    else:
        raise bad_request("unsupported parse_mode")
    return _strip(plain, entities)


def _strip(text: str, entities: list[dict]) -> tuple[str, list[dict]]:
    """Telegram trims surrounding whitespace from a message; entities follow the cut."""
    stripped = text.strip()
    if stripped == text:
        return text, entities
    lead = utf16_len(text[: len(text) - len(text.lstrip())])
    end = lead + utf16_len(stripped)
    kept = []
    for entity in entities:
        start, stop = max(entity["offset"], lead), min(entity["offset"] + entity["length"], end)
        if stop > start:
            kept.append({**entity, "offset": start - lead, "length": stop - start})
    return stripped, kept


# --- HTML -------------------------------------------------------------------------------------


def _parse_html(source: str) -> tuple[str, list[dict]]:
    out = _Builder()
    stack: list[tuple[str, int, dict]] = []
    i = 0
    while i < len(source):
        ch = source[i]
        if ch == "<":
            match = _TAG.match(source, i)
            if match is None:
                name = re.match(r"</?([^\s>]*)", source[i:]).group(1)
                raise _cant_parse(f'Unsupported start tag "{name}" at byte offset {_byte_offset(source, i)}')
            closing, name = match.group(1) == "/", match.group(2).lower()
            if closing:
                if not stack:
                    raise _cant_parse(f"Unexpected end tag at byte offset {_byte_offset(source, i)}")
                open_name, start, attrs = stack.pop()
                if open_name != name:
                    raise _cant_parse(
                        f"Unmatched end tag at byte offset {_byte_offset(source, i)}, "
                        f'expected "</{open_name}>", found "</{name}>"'
                    )
                _close_html(out, open_name, start, attrs, stack)
            else:
                attrs = {
                    m.group(1).lower(): html.unescape(next((g for g in m.groups()[1:] if g is not None), ""))
                    for m in _ATTR.finditer(match.group(3))
                }
                if name not in HTML_TAGS or (name == "span" and attrs.get("class") != "tg-spoiler"):
                    raise _cant_parse(f'Unsupported start tag "{name}" at byte offset {_byte_offset(source, i)}')
                stack.append((name, out.offset, attrs))
            i = match.end()
        elif ch == "&":
            match = _CHAR_REF.match(source, i)
            if match is None:
                out.add("&")
                i += 1
                continue
            ref = match.group(1)
            if ref.startswith("#"):
                code = int(ref[2:], 16) if ref[1] in "xX" else int(ref[1:])
                out.add(chr(code) if 0 < code <= 0x10FFFF else "\ufffd")
            else:
                out.add(HTML_NAMED.get(ref.lower(), match.group(0)))
            i = match.end()
        else:
            j = i
            while j < len(source) and source[j] not in "<&":
                j += 1
            out.add(source[i:j])
            i = j
    if stack:
        raise _cant_parse(f'Can\'t find end tag corresponding to start tag "{stack[-1][0]}"')
    return out.result()


def _close_html(out: _Builder, name: str, start: int, attrs: dict, stack: list) -> None:
    kind = HTML_TAGS[name]
    if name == "a":
        if attrs.get("href"):
            out.entity("text_link", start, url=attrs["href"])
        return
    if name == "code" and stack and stack[-1][0] == "pre":
        language = attrs.get("class", "")
        if language.startswith("language-"):
            stack[-1][2]["language"] = language[len("language-") :]
        return
    if name == "pre" and attrs.get("language"):
        out.entity("pre", start, language=attrs["language"])
        return
    if name == "blockquote" and "expandable" in attrs:
        kind = "expandable_blockquote"
    if name == "tg-emoji":
        out.entity(kind, start, custom_emoji_id=attrs.get("emoji-id", ""))
        return
    out.entity(kind, start)


# --- MarkdownV2 -------------------------------------------------------------------------------


def _parse_markdown_v2(source: str) -> tuple[str, list[dict]]:
    out = _Builder()
    stack: list[tuple[str, int, int]] = []  # (token, plain offset, source index)
    i, n = 0, len(source)
    while i < n:
        ch = source[i]
        if ch == "\\":
            if i + 1 < n and 0 < ord(source[i + 1]) < 127:
                out.add(source[i + 1])
                i += 2
                continue
            raise _cant_parse("Character '\\' is reserved and must be escaped with the preceding '\\'")
        if source.startswith("```", i):
            i = _md2_pre(source, i, out)
            continue
        if ch == "`":
            i = _md2_code(source, i, out)
            continue
        token = "__" if source.startswith("__", i) else "||" if source.startswith("||", i) else ch
        if token in MD2_KINDS:
            if stack and stack[-1][0] == token:
                _, start, _ = stack.pop()
                out.entity(MD2_KINDS[token], start)
            elif any(t == token for t, _, _ in stack):
                opened = next(s for s in reversed(stack) if s[0] != token)
                raise _cant_parse(
                    f"Can't find end of {ENTITY_TITLE[_md2_kind(opened[0])]} entity at byte offset "
                    f"{_byte_offset(source, opened[2])}"
                )
            else:
                stack.append((token, out.offset, i))
            i += len(token)
            continue
        if ch == "[":
            stack.append(("[", out.offset, i))
            i += 1
            continue
        if ch == "]" and stack and stack[-1][0] == "[":
            _, start, opened_at = stack.pop()
            if not source.startswith("(", i + 1):
                raise _cant_parse(f"Can't find end of TextUrl entity at byte offset {_byte_offset(source, opened_at)}")
            url, i = _md2_url(source, i + 2, opened_at)
            out.entity("text_link", start, url=url)
            continue
        if ch == ">" and (i == 0 or source[i - 1] == "\n"):
            end = source.find("\n", i)
            end = n if end == -1 else end
            start = out.offset
            inner, entities = _parse_markdown_v2(source[i + 1 : end])
            out.entities.extend({**e, "offset": e["offset"] + start} for e in entities)
            out.add(inner)
            out.entity("blockquote", start)
            _merge_blockquotes(out.entities)
            i = end
            continue
        if ch in MD2_RESERVED:
            raise _cant_parse(f"Character '{ch}' is reserved and must be escaped with the preceding '\\'")
        out.add(ch)
        i += 1
    if stack:
        token, _, at = stack[-1]
        raise _cant_parse(
            f"Can't find end of {ENTITY_TITLE[_md2_kind(token)]} entity at byte offset {_byte_offset(source, at)}"
        )
    return out.result()


def _md2_kind(token: str) -> str:
    return "text_link" if token == "[" else MD2_KINDS[token]


def _md2_code(source: str, i: int, out: _Builder) -> int:
    start, j, buf = out.offset, i + 1, []
    while j < len(source) and source[j] != "`":
        if source[j] == "\\" and j + 1 < len(source):
            j += 1
        buf.append(source[j])
        j += 1
    if j >= len(source):
        raise _cant_parse(f"Can't find end of Code entity at byte offset {_byte_offset(source, i)}")
    out.add("".join(buf))
    out.entity("code", start)
    return j + 1


def _md2_pre(source: str, i: int, out: _Builder) -> int:
    end = source.find("```", i + 3)
    while end != -1 and source[end - 1] == "\\":
        end = source.find("```", end + 1)
    if end == -1:
        raise _cant_parse(f"Can't find end of Pre entity at byte offset {_byte_offset(source, i)}")
    body = source[i + 3 : end]
    language = ""
    first, newline, rest = body.partition("\n")
    if newline and first and re.fullmatch(r"[A-Za-z0-9_+#.-]+", first):
        language, body = first, rest
    start = out.offset
    out.add(re.sub(r"\\([`\\])", r"\1", body))
    if language:
        out.entity("pre", start, language=language)
    else:
        out.entity("pre", start)
    return end + 3


def _md2_url(source: str, j: int, opened_at: int) -> tuple[str, int]:
    buf = []
    while j < len(source) and source[j] != ")":
        if source[j] == "\\" and j + 1 < len(source):
            j += 1
        buf.append(source[j])
        j += 1
    if j >= len(source):
        raise _cant_parse(f"Can't find end of TextUrl entity at byte offset {_byte_offset(source, opened_at)}")
    return "".join(buf), j + 1


def _merge_blockquotes(entities: list[dict]) -> None:
    """Consecutive quoted lines form one blockquote (the newline between them included)."""
    quotes = [e for e in entities if e["type"] == "blockquote"]
    if len(quotes) < 2:
        return
    last, prev = quotes[-1], quotes[-2]
    if prev["offset"] + prev["length"] + 1 == last["offset"]:
        prev["length"] += 1 + last["length"]
        entities.remove(last)


# --- Markdown (legacy) ------------------------------------------------------------------------


def _parse_markdown(source: str) -> tuple[str, list[dict]]:
    out = _Builder()
    kinds = {"*": "bold", "_": "italic"}
    i, n = 0, len(source)
    while i < n:
        ch = source[i]
        if ch == "\\" and i + 1 < n and source[i + 1] in "_*`[":
            out.add(source[i + 1])
            i += 2
        elif ch in kinds or ch == "`":
            fence = "```" if source.startswith("```", i) else ch
            end = source.find(fence, i + len(fence))
            if end == -1:
                raise _cant_parse(f"Can't find end of the entity starting at byte offset {_byte_offset(source, i)}")
            start = out.offset
            body = source[i + len(fence) : end]
            if fence == "```":
                first, newline, rest = body.partition("\n")
                language = first if newline and re.fullmatch(r"[A-Za-z0-9_+#.-]+", first or "-") else ""
                out.add(rest if language else body)
                if language:
                    out.entity("pre", start, language=language)
                else:
                    out.entity("pre", start)
            else:
                out.add(body)
                out.entity(kinds.get(ch, "code"), start)
            i = end + len(fence)
        elif ch == "[":
            close = source.find("](", i)
            end = source.find(")", close + 2) if close != -1 else -1
            if close == -1 or end == -1:
                raise _cant_parse(f"Can't find end of the entity starting at byte offset {_byte_offset(source, i)}")
            start = out.offset
            out.add(source[i + 1 : close])
            out.entity("text_link", start, url=source[close + 2 : end])
            i = end + 1
        else:
            out.add(ch)
            i += 1
    return out.result()
