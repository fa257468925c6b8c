"""``botapi.call``'s own HTTP: one kept-alive connection per thread, a dropped one replaced, failures
raised as requests' exceptions (what every caller catches)."""

from __future__ import annotations

import json
import socket
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest
import requests

from webapp.telegram import botapi


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def do_POST(self):  # noqa: N802 - http.server's name
        body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
        server = self.server
        server.seen.append((self.client_address[1], self.path, self.headers.get("Content-Type"), body))
        if server.mode == "garbage":
            answer, status = b"<html>bad gateway</html>", 502
        else:
            answer, status = json.dumps({"ok": True, "result": {"message_id": len(server.seen)}}).encode(), 200
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(answer)))
        self.end_headers()
        self.wfile.write(answer)
        # "idle": the server drops the kept-alive connection after answering, without saying so
        # (as a server whose keep-alive timeout ran out does).
        self.close_connection = server.mode == "idle"

    def log_message(self, *args):
        pass


@pytest.fixture
def api():
    server = ThreadingHTTPServer(("127.0.0.1", 0), _Handler)
    server.seen, server.mode = [], "keep"
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    botapi._local.__dict__.pop("connections", None)  # this thread starts without connections
    yield server, f"http://127.0.0.1:{server.server_port}/bot{{0}}/{{1}}"
    server.shutdown()
    server.server_close()


def test_calls_share_one_connection_and_a_dropped_one_is_replaced_before_sending(api):
    server, template = api
    first = botapi.call(template, "1:t", "sendMessage", {"chat_id": 5, "text": "héllo", "parse_mode": None})
    second = botapi.call(template, "1:t", "sendMessage", {"chat_id": 5, "text": "again"})
    assert first.ok and first.result == {"message_id": 1} and second.result == {"message_id": 2}
    port, path, content_type, body = server.seen[0]
    assert path == "/bot1:t/sendMessage" and content_type == "application/json"
    assert json.loads(body) == {"chat_id": 5, "text": "héllo"}  # None values are left out
    assert server.seen[1][0] == port  # the same kept-alive connection

    server.mode = "idle"
    botapi.call(template, "1:t", "sendMessage", {"chat_id": 5, "text": "then dropped"})
    server.mode = "keep"
    after = botapi.call(template, "1:t", "sendMessage", {"chat_id": 5, "text": "after the drop"})
    assert after.ok and after.result == {"message_id": 4}
    assert server.seen[3][0] != port  # a fresh connection, and the message went once
    assert [json.loads(s[3])["text"] for s in server.seen] == ["héllo", "again", "then dropped", "after the drop"]


def test_files_go_as_multipart_with_their_names(api):
    server, template = api
    reply = botapi.call(
        template,
        "1:t",
        "sendDocument",
        {"chat_id": 5, "caption": "отчёт", "reply_markup": {"inline_keyboard": []}},
        files={"document": ("report.pdf", b"%PDF-1.4", "application/pdf")},
    )
    assert reply.ok
    _, _, content_type, body = server.seen[0]
    assert content_type.startswith("multipart/form-data; boundary=")
    # pyTelegramBotAPI, once imported, makes urllib3 leave simple file names unquoted; both are valid.
    assert (b'filename="report.pdf"' in body or b"filename=report.pdf\r\n" in body) and b"%PDF-1.4" in body
    assert "отчёт".encode() in body and b'{"inline_keyboard": []}' in body


def test_an_answer_that_is_not_json_is_an_error_reply(api):
    server, template = api
    server.mode = "garbage"
    reply = botapi.call(template, "1:t", "getMe")
    assert not reply.ok and reply.status == 502 and reply.error_code == 502
    assert reply.description == "<html>bad gateway</html>"


def test_network_failures_raise_requests_exceptions():
    with socket.socket() as probe:  # a port nobody listens on
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    with pytest.raises(requests.ConnectionError):
        botapi.call(f"http://127.0.0.1:{port}/bot{{0}}/{{1}}", "1:t", "getMe")

    silent = socket.socket()  # accepts the connection, never answers
    silent.bind(("127.0.0.1", 0))
    silent.listen()
    try:
        with pytest.raises(requests.ReadTimeout):
            botapi.call(f"http://127.0.0.1:{silent.getsockname()[1]}/bot{{0}}/{{1}}", "1:t", "getMe", timeout=(1, 0.3))
    finally:
        silent.close()
