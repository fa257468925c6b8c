"""Python client of the sandbox's test/ops API, for tests, benchmarks and scripts.

sandbox = SandboxClient(live_server.sandbox_url, key=app.config["SANDBOX_KEY"])
bot = sandbox.create_bot("clinic_test_bot")
user = sandbox.create_user(bot["token"], "Aigerim", language_code="kk")
sent = sandbox.send_text(bot["token"], user["user_id"], "/start")
reply = sandbox.wait_for_bot_message(bot["token"], user["chat_id"], after_message_id=sent["message_id"])
"""

from __future__ import annotations

import base64
import time
from collections.abc import Callable
from typing import Any

import requests


class SandboxAPIError(RuntimeError):
    """The sandbox refused a request; ``status`` and ``body`` say why."""

    def __init__(self, status: int, body: Any, method: str, url: str) -> None:
        message = body.get("error", {}).get("message") if isinstance(body, dict) and "error" in body else body
        if isinstance(body, dict) and body.get("description"):
            message = body["description"]
        super().__init__(f"{method} {url} -> {status}: {message}")
        self.status = status
        self.body = body


class SandboxClient:
    def __init__(self, base_url: str, key: str, timeout: float = 30) -> None:
        """``key``: the sandbox's SANDBOX_KEY (app.config), which its ops API requires."""
        self.base_url = base_url.rstrip("/")
        self.timeout = timeout
        self.http = requests.Session()
        self.http.headers["X-Sandbox-Key"] = key

    # --- plumbing ---------------------------------------------------------------------------

    def _request(self, method: str, path: str, **kwargs: Any) -> Any:
        url = f"{self.base_url}{path}"
        response = self.http.request(method, url, timeout=kwargs.pop("timeout", self.timeout), **kwargs)
        try:
            body = response.json()
        except ValueError:
            body = response.text
        if response.status_code >= 400:
            raise SandboxAPIError(response.status_code, body, method, url)
        return body

    def _bot_path(self, token: str, rest: str = "") -> str:
        return f"/api/bots/{token}{rest}"

    # --- bots and users ---------------------------------------------------------------------

    def create_bot(self, username: str, first_name: str | None = None, token: str | None = None) -> dict:
        body = {"username": username, "first_name": first_name, "token": token}
        return self._request("POST", "/api/bots", json={k: v for k, v in body.items() if v is not None})

    def bots(self) -> list[dict]:
        return self._request("GET", "/api/bots")

    def create_user(
        self,
        token: str,
        first_name: str,
        username: str | None = None,
        language_code: str | None = None,
        **fields: Any,
    ) -> dict:
        body = {"first_name": first_name, "username": username, "language_code": language_code, **fields}
        return self._request(
            "POST", self._bot_path(token, "/users"), json={k: v for k, v in body.items() if v is not None}
        )

    def users(self, token: str) -> list[dict]:
        return self._request("GET", self._bot_path(token, "/users"))

    # --- what a user does -------------------------------------------------------------------

    def _send(self, token: str, user_id: int, **content: Any) -> dict:
        body = {"user_id": user_id, **{k: v for k, v in content.items() if v is not None}}
        return self._request("POST", self._bot_path(token, "/messages"), json=body)

    def send_text(self, token: str, user_id: int, text: str) -> dict:
        return self._send(token, user_id, text=text)

    def send_contact(self, token: str, user_id: int, phone_number: str, first_name: str | None = None) -> dict:
        contact = {"phone_number": phone_number, **({"first_name": first_name} if first_name else {})}
        return self._send(token, user_id, contact=contact)

    def send_document(
        self,
        token: str,
        user_id: int,
        content: bytes,
        file_name: str,
        mime_type: str | None = None,
        caption: str | None = None,
    ) -> dict:
        document = {"content": _b64(content), "file_name": file_name, **({"mime_type": mime_type} if mime_type else {})}
        return self._send(token, user_id, document=document, caption=caption)

    def send_photo(self, token: str, user_id: int, content: bytes, caption: str | None = None) -> dict:
        return self._send(token, user_id, photo={"content": _b64(content)}, caption=caption)

    def send_voice(self, token: str, user_id: int, content: bytes, duration: int, mime_type: str = "audio/ogg") -> dict:
        voice = {"content": _b64(content), "duration": duration, "mime_type": mime_type}
        return self._send(token, user_id, voice=voice)

    def press(self, token: str, user_id: int, message_id: int, data: str) -> dict:
        body = {"user_id": user_id, "message_id": message_id, "data": data}
        return self._request("POST", self._bot_path(token, "/callbacks"), json=body)

    def callback_answer(self, token: str, callback_query_id: str) -> dict:
        return self._request("GET", self._bot_path(token, f"/callbacks/{callback_query_id}"))

    def block(self, token: str, user_id: int) -> dict:
        return self._request("POST", self._bot_path(token, f"/users/{user_id}/block"))

    def unblock(self, token: str, user_id: int) -> dict:
        return self._request("POST", self._bot_path(token, f"/users/{user_id}/unblock"))

    def set_limits(
        self, token: str, per_second: int, per_chat_per_second: float, per_chat_burst: int | None = None
    ) -> dict:
        body = {"per_second": per_second, "per_chat_per_second": per_chat_per_second}
        if per_chat_burst is not None:
            body["per_chat_burst"] = per_chat_burst
        return self._request("PUT", self._bot_path(token, "/limits"), json=body)

    # --- what the user sees -----------------------------------------------------------------

    def transcript(self, token: str, chat_id: int) -> list[dict]:
        return self._request("GET", self._bot_path(token, f"/chats/{chat_id}/messages"))

    def state(self, token: str, chat_id: int, rev: int | None = None, wait: float = 0) -> dict:
        params = {"rev": rev, "wait": wait} if rev is not None else {}
        return self._request(
            "GET", self._bot_path(token, f"/chats/{chat_id}/state"), params=params, timeout=wait + self.timeout
        )

    def wait_for_bot_message(
        self,
        token: str,
        chat_id: int,
        after_message_id: int = 0,
        timeout: float = 10,
        predicate: Callable[[dict], bool] | None = None,
    ) -> dict:
        """The first bot message newer than ``after_message_id`` (and matching ``predicate``)."""
        deadline = time.monotonic() + timeout
        rev = None
        while True:
            remaining = deadline - time.monotonic()
            state = self.state(token, chat_id, rev, max(0.0, min(remaining, 10)) if rev is not None else 0)
            for message in state["messages"]:
                if (
                    message["from_bot"]
                    and message["message_id"] > after_message_id
                    and (predicate is None or predicate(message))
                ):
                    return message
            if remaining <= 0:
                raise TimeoutError(
                    f"no bot message after #{after_message_id} in chat {chat_id} within {timeout}s; "
                    f"last messages: {[_summary(m) for m in state['messages'][-5:]]}"
                )
            rev = state["rev"]

    def download(self, token: str, file_id: str) -> bytes:
        """The bytes of a file, fetched the way a bot does: getFile, then the file URL."""
        info = self._request("GET", f"/bot{token}/getFile", params={"file_id": file_id})
        response = self.http.get(f"{self.base_url}/file/bot{token}/{info['result']['file_path']}", timeout=self.timeout)
        if response.status_code != 200:
            raise SandboxAPIError(response.status_code, response.text, "GET", response.url)
        return response.content


def _b64(content: bytes) -> str:
    return base64.b64encode(content).decode()


def _summary(message: dict) -> str:
    who = "bot" if message.get("from_bot") else "user"
    body = (
        message.get("text")
        or message.get("caption")
        or next((k for k in ("document", "photo", "voice", "contact") if k in message), "?")
    )
    return f"#{message['message_id']} {who}: {str(body)[:60]}"
