"""Bot API parameters the way clients send them: query string, form, multipart or JSON body.

pyTelegramBotAPI puts every parameter in the query string (also on POST), JSON-typed ones
(reply_markup, entities, allowed_updates) as JSON strings, and files as multipart parts whose
``filename=`` is written unquoted and unencoded (``filename=отчёт №1.pdf``). Werkzeug's form
parser drops such a part's file name, or reads the part as a text field, so multipart bodies
are parsed here.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from typing import Any
from urllib.parse import unquote

from flask import Request

from webapp.sandbox.errors import bad_request

_TRUE = {"true", "1", "yes", "on"}
_DISPOSITION_NAME = re.compile(r';\s*name="([^"]*)"|;\s*name=([^;\s]*)', re.IGNORECASE)
_DISPOSITION_FILENAME_STAR = re.compile(r";\s*filename\*=([^']*)'[^']*'([^;]*)", re.IGNORECASE)
_DISPOSITION_FILENAME = re.compile(r';\s*filename="((?:[^"\\]|\\.)*)"|;\s*filename=([^;]*?)\s*(?:;|$)', re.IGNORECASE)


@dataclass
class Upload:
    content: bytes
    file_name: str | None
    mime_type: str | None


class Params:
    def __init__(self, values: dict[str, Any], files: dict[str, Upload]) -> None:
        self.values = values
        self.files = files

    @classmethod
    def from_request(cls, request: Request) -> Params:
        values: dict[str, Any] = {k: v for k, v in request.args.items()}
        files: dict[str, Upload] = {}
        mimetype = request.mimetype or ""
        if mimetype == "multipart/form-data":
            boundary = request.mimetype_params.get("boundary")
            if not boundary:
                raise bad_request("multipart body without a boundary")
            fields, files = parse_multipart(request.get_data(cache=False), boundary)
            values.update(fields)
        elif mimetype == "application/json":
            body = request.get_json(silent=True)
            if request.get_data(cache=True) and not isinstance(body, dict):
                raise bad_request("request body must be a JSON object")
            values.update(body or {})
        elif mimetype == "application/x-www-form-urlencoded":
            values.update(request.form.to_dict())
        return cls(values, files)

    def raw(self, name: str) -> Any:
        return self.values.get(name)

    def text(self, name: str) -> str | None:
        value = self.values.get(name)
        if value is None:
            return None
        return value if isinstance(value, str) else json.dumps(value) if isinstance(value, dict | list) else str(value)

    def integer(self, name: str, default: int | None = None, error: str | None = None) -> int | None:
        value = self.values.get(name)
        if value is None or value == "":
            return default
        if isinstance(value, bool):
            value = int(value)
        try:
            return int(value)
        except (TypeError, ValueError):
            raise bad_request(error or f"{name} must be an integer") from None

    def boolean(self, name: str) -> bool:
        value = self.values.get(name)
        if isinstance(value, bool):
            return value
        return value is not None and str(value).strip().lower() in _TRUE

    def json(self, name: str, error: str) -> Any:
        """A JSON-typed parameter: sent as a JSON string (form, query) or as a value (JSON body)."""
        value = self.values.get(name)
        if value is None or value == "":
            return None
        if isinstance(value, str):
            try:
                return json.loads(value)
            except ValueError:
                raise bad_request(error) from None
        return value

    def file(self, name: str) -> Upload | str | None:
        """An uploaded part, or the string given instead (a file_id or an HTTP URL)."""
        if name in self.files:
            return self.files[name]
        value = self.values.get(name)
        return value if isinstance(value, str) and value else None


def parse_multipart(body: bytes, boundary: str) -> tuple[dict[str, str], dict[str, Upload]]:
    fields: dict[str, str] = {}
    files: dict[str, Upload] = {}
    delimiter = b"--" + boundary.encode("latin-1")
    for chunk in body.split(delimiter)[1:]:
        if chunk.startswith(b"--"):
            break
        chunk = chunk[2:] if chunk.startswith(b"\r\n") else chunk
        head, sep, content = chunk.partition(b"\r\n\r\n")
        if not sep:
            continue
        if content.endswith(b"\r\n"):
            content = content[:-2]
        headers = {}
        for line in head.decode("utf-8", "replace").split("\r\n"):
            name, _, value = line.partition(":")
            headers[name.strip().lower()] = value.strip()
        disposition = headers.get("content-disposition", "")
        name_match = _DISPOSITION_NAME.search(disposition)
        if not name_match:
            continue
        name = name_match.group(1) if name_match.group(1) is not None else name_match.group(2)
        file_name = _file_name(disposition)
        if file_name is None:
            fields[name] = content.decode("utf-8", "replace")
        else:
            files[name] = Upload(content, file_name or None, headers.get("content-type"))
    return fields, files


def _file_name(disposition: str) -> str | None:
    star = _DISPOSITION_FILENAME_STAR.search(disposition)
    if star:
        return unquote(star.group(2), encoding=star.group(1) or "utf-8", errors="replace")
    plain = _DISPOSITION_FILENAME.search(disposition)
    if not plain:
        return None
    if plain.group(1) is not None:
        return re.sub(r"\\(.)", r"\1", plain.group(1))
    return plain.group(2)
