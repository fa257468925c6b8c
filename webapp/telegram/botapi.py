"""Where a bot's Bot API lives, and one raw HTTP call to it (for web, jobs and the bot worker alike).

URL rules, in order: a sandbox bot talks to the sandbox (``SANDBOX_BASE_URL``); otherwise
``TELEGRAM_API_URL`` when set (a self-hosted Bot API server, ``http://host:port/bot{0}/{1}``);
otherwise api.telegram.org. File downloads live next to the methods: ``.../file/bot{0}/{1}``.

``call`` speaks HTTP/1.1 itself over one kept-alive ``http.client`` connection per thread and
origin: a broadcast makes hundreds of calls a second, and requests' machinery (hooks, cookie jars,
adapters, header merging) cost three times the CPU of the call itself. Only an origin reached
through a proxy (``HTTPS_PROXY``…) goes through requests, which knows every proxy scheme. Failures
still raise ``requests.RequestException``, as before, whichever way the call went.
"""

from __future__ import annotations

import functools
import http.client
import json
import os
import select
import socket
import ssl
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


USER_AGENT = f"botdesk {requests.utils.default_user_agent()}"


def _verify() -> str | bool:
    return os.environ.get("REQUESTS_CA_BUNDLE") or os.environ.get("CURL_CA_BUNDLE") or True


@functools.lru_cache(maxsize=8)
def _tls_context(verify: str | bool) -> ssl.SSLContext:
    """Certificates checked as requests checks them: the CA bundle it would use (certifi's by default)."""
    return ssl.create_default_context(cafile=requests.certs.where() if verify is True else verify)


def _dropped(sock: socket.socket) -> bool:
    """An idle kept-alive connection the server has closed (readable with nothing asked = EOF)."""
    poller = select.poll()
    poller.register(sock, select.POLLIN)
    return bool(poller.poll(0))


def _connection(scheme: str, host: str, port: int | None) -> http.client.HTTPConnection:
    """This thread's connection to the origin (a process forked from ours opens its own)."""
    pool = getattr(_local, "connections", None)
    if pool is None or pool[0] != os.getpid():
        pool = _local.connections = (os.getpid(), {})
    connections = pool[1]
    origin = (scheme, host, port)
    connection = connections.get(origin)
    if connection is None:
        if scheme == "https":
            connection = http.client.HTTPSConnection(host, port, context=_tls_context(_verify()))
        else:
            connection = http.client.HTTPConnection(host, port)
        connections[origin] = connection
    elif connection.sock is not None and _dropped(connection.sock):
        connection.close()  # reconnects below, before anything is sent
    return connection


def _post(url: str, body: bytes, content_type: str, timeout: float | tuple[float, float]) -> tuple[int, bytes]:
    """POST ``body`` on this thread's kept-alive connection; (status, response body).

    Like requests, nothing is sent twice here: a failure raises ``requests.ConnectionError`` (or a
    timeout) and the caller decides. A connection the server closed while idle is noticed and
    replaced before the request goes out.
    """
    connect_timeout, read_timeout = timeout if isinstance(timeout, tuple) else (timeout, timeout)
    parts = urlsplit(url)
    connection = _connection(parts.scheme, parts.hostname or "", parts.port)
    path = parts.path + (f"?{parts.query}" if parts.query else "")
    headers = {"Content-Type": content_type, "User-Agent": USER_AGENT, "Accept": "*/*"}
    try:
        if connection.sock is None:
            connection.timeout = connect_timeout
            try:
                connection.connect()
            except TimeoutError as exc:
                raise requests.ConnectTimeout(f"connecting to {parts.hostname}: {exc}") from exc
        connection.sock.settimeout(read_timeout)
        connection.request("POST", path, body, headers)
        response = connection.getresponse()
        data = response.read()
    except requests.RequestException:
        connection.close()
        raise
    except TimeoutError as exc:
        connection.close()
        raise requests.ReadTimeout(f"{parts.hostname}: {exc}") from exc
    except (OSError, http.client.HTTPException) as exc:
        connection.close()  # its state is unknown: the next call starts a fresh one
        raise requests.ConnectionError(f"{parts.hostname}: {exc.__class__.__name__}: {exc}") from exc
    if response.will_close:
        connection.close()
    return response.status, data


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
        return cls.from_body(response.status_code, response.content)

    @classmethod
    def from_body(cls, status: int, content: bytes) -> ApiReply:
        try:
            body = json.loads(content)
        except ValueError:
            body = None
        if not isinstance(body, dict):
            text = content.decode("utf-8", errors="replace")[:200]
            return cls(status, False, error_code=status, description=text)
        params = body.get("parameters") or {}
        return cls(
            status=status,
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
    if proxies and requests.utils.select_proxy(url, proxies):
        if files:
            fields = {k: encode_field(v) for k, v in payload.items()}
            response = session().post(url, data=fields, files=files, timeout=timeout, proxies=proxies)
        else:
            response = session().post(url, json=payload, timeout=timeout, proxies=proxies)
        return ApiReply.from_response(response)
    if files:
        fields = {k: encode_field(v) for k, v in payload.items()}
        # requests' own multipart encoder: the same parts, names and file names as before.
        body, content_type = requests.models.RequestEncodingMixin._encode_files(files, fields)
    else:
        body, content_type = json.dumps(payload).encode(), "application/json"
    return ApiReply.from_body(*_post(url, body, content_type, timeout))
