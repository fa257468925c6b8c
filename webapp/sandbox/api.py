"""HTTP face of the sandbox: the Bot API (``/sandbox/bot<token>/<method>``, file downloads) and
the test/ops JSON API (``/sandbox/api/...``). Everything answers 404 unless SANDBOX_ENABLED.

The Bot API views are Telegram's interface, not ours: they answer in Telegram's envelope and
are not part of /api/openapi.json; its everyday calls are answered by ``BotApiShortcut`` ahead of
the platform's request pipeline. The ops API uses the platform's error format.
"""

from __future__ import annotations

import io
import json
import logging
import re
import time
from typing import Any

from flask import Blueprint, Flask, Response, current_app, jsonify, request
from pydantic import BaseModel, ValidationError
from werkzeug.exceptions import HTTPException
from werkzeug.http import HTTP_STATUS_CODES
from werkzeug.wrappers import Request

from webapp.core.errors import ApiError, pydantic_details
from webapp.core.limits import carries_files, json_depth
from webapp.core.permissions import public
from webapp.extensions import limiter
from webapp.metrics import REQUEST_LATENCY
from webapp.sandbox import access, botapi, userside
from webapp.sandbox.errors import TelegramError
from webapp.sandbox.params import Params
from webapp.sandbox.schemas import BotIn, CallbackIn, LimitsIn, MessageIn, UserIn
from webapp.sandbox.store import Sandbox, SandboxError, current_sandbox, sandbox_of

log = logging.getLogger(__name__)
bp = Blueprint("sandbox_api", __name__)
# The sandbox is Telegram: it enforces Telegram's own limits (429 + retry_after), not the platform's.
limiter.exempt(bp)


@limiter.request_filter
def _not_ours_to_limit() -> bool:
    """The exemption decided before Flask-Limiter resolves any limit: it costs a tenth of a Bot API
    call otherwise, on every message a broadcast sends."""
    return request.blueprint == bp.name


TRANSCRIPT_LIMIT = 500  # the chat page and state polls show the latest messages only


def _is_bot_api_path() -> bool:
    return request.path.startswith(("/sandbox/bot", "/sandbox/file/"))


def _telegram(error: TelegramError) -> Response:
    response = jsonify(error.body())
    response.status_code = error.error_code
    return response


@bp.before_request
def _enabled():
    if not current_app.config.get("SANDBOX_ENABLED"):
        if _is_bot_api_path():
            return _telegram(TelegramError(404, "Not Found"))
        raise ApiError(404, "The Telegram sandbox is not enabled", "NOT_FOUND")
    if request.path.startswith("/sandbox/api/"):
        access.require_credential()
    return None


@bp.errorhandler(SandboxError)
def _sandbox_error(exc: SandboxError):
    return ApiError(exc.status, exc.message).to_response()


@bp.errorhandler(HTTPException)
def _http_error(exc: HTTPException):
    if _is_bot_api_path():
        return _telegram(TelegramError(exc.code or 500, exc.name))
    return ApiError(exc.code or 500, exc.description or exc.name).to_response()


# --- the Bot API ------------------------------------------------------------------------------


BOT_API_RULE = "/sandbox/bot<token>/<method_name>"


@bp.route(BOT_API_RULE, methods=["GET", "POST"])
@public
def bot_api(token: str, method_name: str):
    return _answer(token, method_name, request)


def _answer(token: str, method_name: str, req: Request) -> Response:
    """One Bot API call, answered in Telegram's envelope (whichever way it came, see BotApiShortcut)."""
    try:
        sb = current_sandbox()
        try:
            params, unreadable = Params.from_request(req), None
        except TelegramError as exc:  # told after the token is checked, as before
            params, unreadable = Params({}, {}), exc
        bot, member = sb.bot_and_chat(token, params.raw("chat_id"))  # one round trip for both
        if bot is None:
            raise TelegramError(401, "Unauthorized")
        if method_name.lower() == "sendmessage":
            sb.remember_bot(bot)  # its next sends take one round trip (_answer_known)
        if unreadable is not None:
            raise unreadable
        result = botapi.dispatch(sb, bot, method_name, params, member)
        return jsonify(botapi.envelope(result))
    except TelegramError as exc:
        return _telegram(exc)
    except HTTPException:
        raise
    except Exception:  # Telegram answers its own envelope even when it fails
        log.exception("sandbox Bot API %s failed", method_name)
        return _telegram(TelegramError(500, "Internal Server Error"))


_BOT_API_PATH = re.compile(r"/sandbox/bot([^/]+)/([^/]+)")


class BotApiShortcut:
    """WSGI middleware: the Bot API's everyday calls (GET, or POST with a JSON body or none) are
    answered here, ahead of the platform's request pipeline, by the same ``_answer`` as the view.

    The Bot API is Telegram's interface, not ours: no session, CSRF, login, locale, security headers
    or platform rate limit applies to it, yet that pipeline cost more CPU than the call itself — on
    every message a broadcast sends. What it does need is kept: 404 unless SANDBOX_ENABLED (via the
    view), the JSON size and depth limits (a body over them, or any other body — multipart, form,
    chunked — takes the long way, through Flask, with its limits and errors) and the latency metric.
    A sendMessage of a bot this process knows is answered without even an app context
    (``_answer_known``); everything else by ``_answer``.
    """

    def __init__(self, app: Flask, wsgi_app) -> None:
        self.app = app
        self.wsgi_app = wsgi_app

    def __call__(self, environ: dict, start_response):
        path = environ.get("PATH_INFO", "")
        method = environ.get("REQUEST_METHOD", "")
        match = _BOT_API_PATH.fullmatch(path) if path.startswith("/sandbox/bot") else None
        if (
            match is None
            or method not in ("GET", "POST")
            or not path.isascii()
            or not self.app.config.get("SANDBOX_ENABLED")
            or (body := _plain_body(environ, self.app.config)) is None
        ):
            return self.wsgi_app(environ, start_response)
        started = time.perf_counter()
        known = _answer_known(self.app, match[1], match[2], environ, body)
        if known is not None:
            status, answer = known
            payload = _json_body(self.app, answer)
            REQUEST_LATENCY.labels(endpoint=BOT_API_RULE, method=method, status=str(status)).observe(
                time.perf_counter() - started
            )
            headers = [("Content-Type", self.app.json.mimetype), ("Content-Length", str(len(payload)))]
            start_response(f"{status} {HTTP_STATUS_CODES[status].upper()}", headers)
            return [payload]
        with self.app.app_context():
            try:
                response = _answer(match[1], match[2], Request(environ))
            except HTTPException as exc:
                response = _telegram(TelegramError(exc.code or 500, exc.name))
            REQUEST_LATENCY.labels(endpoint=BOT_API_RULE, method=method, status=str(response.status_code)).observe(
                time.perf_counter() - started
            )
            return response(environ, start_response)


def _plain_body(environ: dict, config) -> bytes | None:
    """The body when the request has none (b"") or a JSON one within the platform's JSON limits (read
    here and put back, so the long way still sees it); None for any other."""
    if environ.get("HTTP_TRANSFER_ENCODING"):
        return None
    try:
        length = int(environ.get("CONTENT_LENGTH") or 0)
    except ValueError:
        return None
    mimetype = environ.get("CONTENT_TYPE", "").split(";", 1)[0].strip().lower()
    if length == 0:
        return b"" if mimetype in ("", "application/json") else None
    if mimetype != "application/json" or not 0 < length <= config["JSON_MAX_BYTES"]:
        return None
    body = environ["wsgi.input"].read(length)
    environ["wsgi.input"] = io.BytesIO(body)
    limit = config["JSON_MAX_DEPTH"]
    return body if len(body) == length and json_depth(body, limit) <= limit else None


def _answer_known(app: Flask, token: str, method_name: str, environ: dict, body: bytes) -> tuple[int, dict] | None:
    """(status, Telegram's envelope) of a sendMessage of a bot this process knows, in one Redis round
    trip and without an app context (see botapi.send_message_known); None when ``_answer`` must answer
    it, as it answers everything else (nothing was charged or stored then)."""
    if method_name.lower() != "sendmessage":
        return None
    sb = sandbox_of(app)
    known = sb.known_bot(token)
    if known is None:
        return None
    params = _known_params(environ, body)
    if params is None:
        return None
    try:
        result = botapi.send_message_known(sb, known, params)
    except TelegramError as exc:
        return exc.error_code, exc.body()
    except Exception:  # as _answer: Telegram answers its own envelope even when it fails
        log.exception("sandbox Bot API %s failed", method_name)
        return 500, TelegramError(500, "Internal Server Error").body()
    return None if result is None else (200, botapi.envelope(result))


def _known_params(environ: dict, body: bytes) -> Params | None:
    """A JSON object body as ``Params.from_request`` reads it (a broadcast's call); with a query string
    (pyTelegramBotAPI's) or no body, ``Params.from_request`` itself. None when it refuses the body."""
    if not environ.get("QUERY_STRING") and body:
        try:
            values = json.loads(body)
        except ValueError:
            return None
        return Params(values, {}) if isinstance(values, dict) else None
    try:
        return Params.from_request(Request(environ))
    except (TelegramError, HTTPException):
        return None
    finally:
        environ["wsgi.input"] = io.BytesIO(body)  # the long way reads it again


def _json_body(app: Flask, answer: dict) -> bytes:
    """The body ``jsonify(answer)`` answers with (DefaultJSONProvider.response's arguments), without the
    Response object."""
    provider = app.json
    compact = getattr(provider, "compact", None)
    pretty = (compact is None and app.debug) or compact is False
    text = provider.dumps(answer, **({"indent": 2} if pretty else {"separators": (",", ":")}))
    return f"{text}\n".encode()


@bp.record_once
def _install_shortcut(state) -> None:
    state.app.wsgi_app = BotApiShortcut(state.app, state.app.wsgi_app)


@bp.route("/sandbox/bot<path:rest>", methods=["GET", "POST"])
@public
def bot_api_unknown(rest: str):
    return _telegram(TelegramError(404, "Not Found"))


@bp.get("/sandbox/file/bot<token>/<path:file_path>")
@public
def file_download(token: str, file_path: str):
    sb = current_sandbox()
    bot = sb.bot_by_token(token)
    if bot is None:
        return _telegram(TelegramError(401, "Unauthorized"))
    meta = sb.file_by_path(bot, file_path)
    content = sb.file_content(meta) if meta else None
    if content is None:
        return _telegram(TelegramError(404, "Not Found"))
    return Response(content, mimetype=meta.get("mime_type") or "application/octet-stream")


# --- the test/ops API -------------------------------------------------------------------------


def _body(model: type[BaseModel]) -> Any:
    raw = request.get_json(silent=True)
    if not isinstance(raw, dict):
        raise ApiError(400, "Request body must be a JSON object", "BAD_REQUEST")
    try:
        return model.model_validate(raw)
    except ValidationError as exc:
        raise ApiError(400, "Invalid data", "BAD_REQUEST", pydantic_details(exc.errors())) from None


def _bot(sb: Sandbox, token: str) -> dict:
    bot = sb.bot_by_token(token)
    if bot is None:
        raise ApiError(404, "No sandbox bot has this token", "NOT_FOUND")
    return bot


def _chat_user(sb: Sandbox, bot: dict, chat_id: int) -> dict:
    user = sb.member(bot, chat_id)
    if user is None:
        raise ApiError(404, f"Chat {chat_id} does not exist for this bot", "NOT_FOUND")
    return user


def _created(data: Any) -> tuple[Response, int]:
    return jsonify(data), 201


@bp.post("/sandbox/api/bots")
@public
def create_bot():
    body = _body(BotIn)
    sb = current_sandbox()
    return _created(sb.public_bot(sb.create_bot(body.username, body.first_name, body.token)))


@bp.get("/sandbox/api/bots")
@public
def list_bots():
    sb = current_sandbox()
    return jsonify([sb.public_bot(bot) for bot in sb.bots()])


@bp.get("/sandbox/api/bots/<token>")
@public
def bot_detail(token: str):
    sb = current_sandbox()
    bot = _bot(sb, token)
    return jsonify(
        {
            **sb.public_bot(bot),
            "limits": sb.limits(bot).as_dict(),
            "webhook_url": bot.get("webhook_url") or None,
            "pending_update_count": sb.pending_count(bot),
        }
    )


@bp.post("/sandbox/api/bots/<token>/users")
@public
def create_user(token: str):
    body = _body(UserIn)
    sb = current_sandbox()
    user = sb.create_user(
        _bot(sb, token),
        body.first_name,
        username=body.username,
        last_name=body.last_name,
        language_code=body.language_code,
        phone_number=body.phone_number,
        user_id=body.user_id,
    )
    return _created(sb.public_user(user))


@bp.get("/sandbox/api/bots/<token>/users")
@public
def list_users(token: str):
    sb = current_sandbox()
    return jsonify(sb.bot_users(_bot(sb, token)))


@bp.post("/sandbox/api/bots/<token>/messages")
@carries_files
@public
def user_sends(token: str):
    body = _body(MessageIn)
    sb = current_sandbox()
    return _created(userside.send(sb, _bot(sb, token), body))


@bp.post("/sandbox/api/bots/<token>/callbacks")
@public
def user_presses(token: str):
    body = _body(CallbackIn)
    sb = current_sandbox()
    return _created(userside.press(sb, _bot(sb, token), body))


@bp.get("/sandbox/api/bots/<token>/callbacks/<query_id>")
@public
def callback_answer(token: str, query_id: str):
    sb = current_sandbox()
    query = sb.callback_query(_bot(sb, token), query_id)
    if query is None:
        raise ApiError(404, "No such callback query", "NOT_FOUND")
    return jsonify(
        {
            "callback_query_id": query_id,
            "answered": query["answered"],
            "text": query.get("text") or None,
            "show_alert": query["show_alert"],
            "url": query.get("url") or None,
        }
    )


@bp.get("/sandbox/api/bots/<token>/chats/<int:chat_id>/messages")
@public
def transcript(token: str, chat_id: int):
    sb = current_sandbox()
    bot = _bot(sb, token)
    _chat_user(sb, bot, chat_id)
    return jsonify(sb.transcript(bot, chat_id))


@bp.get("/sandbox/api/bots/<token>/chats/<int:chat_id>/state")
@public
def chat_state(token: str, chat_id: int):
    """The chat as a client shows it; with ``rev`` and ``wait`` it long-polls until something changes."""
    sb = current_sandbox()
    bot = _bot(sb, token)
    user = _chat_user(sb, bot, chat_id)
    try:
        rev = int(request.args.get("rev", -1))
        wait = min(max(float(request.args.get("wait", 0)), 0), 30)
    except ValueError:
        raise ApiError(400, "rev must be an integer and wait a number of seconds", "BAD_REQUEST") from None
    current = sb.wait_chat_change(bot, chat_id, rev, wait) if rev >= 0 else sb.chat_rev(bot, chat_id)
    return jsonify(
        {
            "rev": current,
            "messages": sb.transcript(bot, chat_id, TRANSCRIPT_LIMIT),
            "keyboard": sb.keyboard(bot, chat_id),
            "action": sb.chat_action(bot, chat_id),
            "blocked": sb.is_blocked(bot, user["id"]),
        }
    )


@bp.get("/sandbox/api/bots/<token>/files/<file_id>")
@public
def user_download(token: str, file_id: str):
    """A file in the bot's chats, as the user's Telegram app downloads it (the chat page's links)."""
    sb = current_sandbox()
    meta = sb.file(_bot(sb, token), file_id)
    content = sb.file_content(meta) if meta else None
    if content is None:
        raise ApiError(404, "No such file", "NOT_FOUND")
    inline = meta["kind"] == "photo" or request.args.get("inline") == "1"
    response = Response(
        content,
        mimetype=meta.get("mime_type") or ("image/jpeg" if meta["kind"] == "photo" else "application/octet-stream"),
    )
    name = meta.get("file_name") or meta["file_path"].rsplit("/", 1)[-1]
    response.headers.set("Content-Disposition", "inline" if inline else "attachment", filename=name)
    return response


def _set_blocked(token: str, user_id: int, blocked: bool):
    sb = current_sandbox()
    bot = _bot(sb, token)
    user = _chat_user(sb, bot, user_id)
    sb.set_blocked(bot, user, blocked)
    return jsonify({"user_id": user_id, "blocked": blocked})


@bp.post("/sandbox/api/bots/<token>/users/<int:user_id>/block")
@public
def block_user(token: str, user_id: int):
    return _set_blocked(token, user_id, True)


@bp.post("/sandbox/api/bots/<token>/users/<int:user_id>/unblock")
@public
def unblock_user(token: str, user_id: int):
    return _set_blocked(token, user_id, False)


@bp.get("/sandbox/api/bots/<token>/limits")
@public
def get_limits(token: str):
    sb = current_sandbox()
    return jsonify(sb.limits(_bot(sb, token)).as_dict())


@bp.put("/sandbox/api/bots/<token>/limits")
@public
def put_limits(token: str):
    body = _body(LimitsIn)
    sb = current_sandbox()
    bot = _bot(sb, token)
    return jsonify(sb.set_limits(bot, body.per_second, body.per_chat_per_second, body.per_chat_burst))
