"""Where a bot's Bot API lives, and one raw HTTP call to it (for web, jobs and the bot worker alike).

URL rules, in order: a sandbox bot talks to the sandbox (``SANDBOX_BASE_URL``); otherwise
``TELEGRAM_API_URL`` when set (a self-hosted Bot API server, ``http://host:port/bot{0}/{1}``);
otherwise api.telegram.org. File downloads live next to the methods: ``.../file/bot{0}/{1}``.
"""

from __future__ import annotations

import functools
import json
import os
import threading
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlsplit

import requests
from flask import current_app

TELEGRAM_API_TEMPLATE = "https://api.telegram.org/bot{0}/{1}"
METHOD_SUFFIX = "/bot{0}/{1}"

_local = threading.local()


def api_url_template(is_sandbox: bool, config: Mapping[str, Any] | None = None) -> str:
    """The ``str.format(token, method)`` template of the Bot API a bot talks to."""
    config = current_app.config if config is None else config
    if is_sandbox:
        return config["SANDBOX_BASE_URL"].rstrip("/") + METHOD_SUFFIX
    return config.get("TELEGRAM_API_URL") or TELEGRAM_API_TEMPLATE


def file_url_template(api_template: str) -> str:
    """The ``str.format(token, file_path)`` template of file downloads next to ``api_template``."""
    if not api_template.endswith(METHOD_SUFFIX):
        raise ValueError(f"a Bot API URL must end with {METHOD_SUFFIX!r}: {api_template!r}")
    return api_template[: -len(METHOD_SUFFIX)] + "/file" + METHOD_SUFFIX


def session() -> requests.Session:
    """A keep-alive HTTP session per thread (requests' sessions are not meant to be shared).

    It reads the environment's proxy and CA-bundle settings once (see ``proxies_for``), not on
    every request as requests does by default: scanning ``os.environ`` per call was a fifth of a
    broadcast sender's CPU.
    """
    current = getattr(_local, "session", None)
    if current is None:
        current = _local.session = requests.Session()
        current.trust_env = False
        current.verify = os.environ.get("REQUESTS_CA_BUNDLE") or os.environ.get("CURL_CA_BUNDLE") or True
    return current


@functools.lru_cache(maxsize=64)
def _environ_proxies(origin: str) -> dict[str, str]:
    return requests.utils.get_environ_proxies(origin)


def proxies_for(url: str) -> dict[str, str]:
    """The HTTP(S)_PROXY / NO_PROXY answer for ``url``'s origin, as requests would find it."""
    parts = urlsplit(url)
    return _environ_proxies(f"{parts.scheme}://{parts.netloc}")


@dataclass(frozen=True)
class ApiReply:
    """What the Bot API answered: ``ok``/``result`` or ``error_code``/``description``/``retry_after``."""

    status: int
    ok: bool
    result: Any = None
    error_code: int | None = None
    description: str | None = None
    retry_after: float | None = None

    @classmethod
    def from_response(cls, response: requests.Response) -> ApiReply:
        try:
            body = response.json()
        except ValueError:
            body = None
        if not isinstance(body, dict):
            return cls(response.status_code, False, error_code=response.status_code, description=response.text[:200])
        params = body.get("parameters") or {}
        return cls(
            status=response.status_code,
            ok=bool(body.get("ok")),
            result=body.get("result"),
            error_code=body.get("error_code"),
            description=body.get("description"),
            retry_after=params.get("retry_after") if isinstance(params, dict) else None,
        )


def encode_field(value: Any) -> Any:
    """Multipart fields are strings: nested objects (reply_markup, entities) travel as JSON."""
    if isinstance(value, dict | list):
        return json.dumps(value, ensure_ascii=False)
    if isinstance(value, bool):
        return "true" if value else "false"
    return value


def call(
    api_template: str,
    token: str,
    method: str,
    data: Mapping[str, Any] | None = None,
    files: Mapping[str, Any] | None = None,
    timeout: float | tuple[float, float] = (5, 30),
) -> ApiReply:
    """One Bot API request. Network failures raise ``requests.RequestException``; API errors do not."""
    url = api_template.format(token, method)
    payload = {k: v for k, v in (data or {}).items() if v is not None}
    proxies = proxies_for(url)
    if files:
        data = {k: encode_field(v) for k, v in payload.items()}
        response = session().post(url, data=data, files=files, timeout=timeout, proxies=proxies)
    else:
        response = session().post(url, json=payload, timeout=timeout, proxies=proxies)
    return ApiReply.from_response(response)
