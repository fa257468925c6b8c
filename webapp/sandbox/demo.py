"""Demo bots: one sandbox bot per vertical and its ``Bot`` row, so the demo has bots to talk to.

Idempotent, and it repairs the pair when one side survived without the other: the embedded
Redis starts empty on every run while the database keeps its rows, so the sandbox bot is
re-registered under the token the row already holds.
"""

from __future__ import annotations

from collections.abc import Iterator

from flask import current_app

from webapp.extensions import db
from webapp.sandbox.store import SandboxError, current_sandbox
from webapp.telegram.models import Bot, Vertical
from webapp.telegram.services import create_bot
from webapp.telegram.tokens import decrypt_token, set_bot_token

DEMO_BOTS = {v.value: (f"botdesk_{v.value}_bot", f"Botdesk {v.value.title()}") for v in Vertical}


def seed() -> Iterator[str]:
    if not current_app.config.get("SANDBOX_ENABLED"):
        return
    sb = current_sandbox()
    for vertical, (username, title) in DEMO_BOTS.items():
        row = db.session.scalar(db.select(Bot).filter_by(name=vertical))
        if row is not None and not row.is_sandbox:
            continue  # a real bot configured for this vertical: leave it alone
        sandbox_bot = sb.bot_by_username(username)
        if row is None:
            if sandbox_bot is None:
                sandbox_bot = sb.create_bot(username, title)
            create_bot(
                vertical,
                vertical,
                sandbox_bot["token"],
                is_sandbox=True,
                enabled=True,
                username=username,
                telegram_bot_id=sandbox_bot["id"],
            )
            yield f"created demo bot {vertical}: @{username} in the Telegram sandbox"
            continue
        token = decrypt_token(row)
        if sandbox_bot is not None and sandbox_bot["token"] != token:
            set_bot_token(row, sandbox_bot["token"])  # the sandbox kept its bot; the row follows it
            row.telegram_bot_id = sandbox_bot["id"]
            yield f"demo bot {vertical}: token updated to the sandbox's @{username}"
        elif sandbox_bot is None:
            try:
                sb.create_bot(username, title, token=token)
            except SandboxError as exc:
                yield f"demo bot {vertical}: cannot register @{username} in the sandbox ({exc.message})"
                continue
            yield f"registered demo bot {vertical} (@{username}) in the Telegram sandbox again"
