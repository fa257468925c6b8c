"""``flask --app wsgi bot ...``: bots from the command line (list, add, check, webhook on/off)."""

from __future__ import annotations

import click
from flask import Flask, current_app
from flask.cli import AppGroup

from webapp.core.services import ServiceError
from webapp.extensions import db
from webapp.telegram import services
from webapp.telegram.models import Bot, Vertical

bot_cli = AppGroup("bot", help="Telegram bots: list, add, check a token, switch webhook mode.")


def _bot(name: str) -> Bot:
    bot = services.get_bot_by_name(name)
    if bot is None:
        raise click.ClickException(f"no bot named {name!r}")
    return bot


def _run(step, *args):
    """One step of a command, committed on its own: a command is a boundary like a request
    (webapp.core.unit_of_work). ``bot add`` takes two steps so that a bot whose token check fails
    stays added, as it says."""
    try:
        result = step(*args)
    except ServiceError as exc:
        db.session.rollback()
        raise click.ClickException(exc.message) from exc
    db.session.commit()
    return result


@bot_cli.command("list")
def list_bots() -> None:
    """Every bot with its vertical, mode and state."""
    for bot in db.session.scalars(db.select(Bot).order_by(Bot.name)):
        state = "enabled" if bot.enabled else "disabled"
        where = "sandbox" if bot.is_sandbox else "telegram"
        click.echo(f"{bot.name}\t{bot.vertical}\t{bot.mode}\t{state}\t{where}\t@{bot.username or '?'}")


@bot_cli.command("add")
@click.argument("name")
@click.option("--vertical", type=click.Choice([v.value for v in Vertical]), required=True)
@click.option("--token", prompt=True, hide_input=True, help="BotFather's token (prompted, not echoed)")
@click.option("--sandbox", is_flag=True, help="a bot of the local Telegram sandbox")
def add_bot(name: str, vertical: str, token: str, sandbox: bool) -> None:
    """Add a bot and check its token with getMe."""
    bot = _run(lambda: services.create_bot(name, vertical, token, is_sandbox=sandbox))
    try:
        _run(services.check_token, bot)
    except click.ClickException as exc:
        click.echo(f"added {name}, but the token check failed: {exc.message}", err=True)
        return
    click.echo(f"added {name} (@{bot.username})")


@bot_cli.command("check")
@click.argument("name")
def check_bot(name: str) -> None:
    """getMe: store the bot's username and Telegram id."""
    bot = _run(services.check_token, _bot(name))
    click.echo(f"{bot.name}: @{bot.username} (id {bot.telegram_bot_id})")


@bot_cli.command("set-webhook")
@click.argument("name")
@click.argument("url", required=False)
def set_webhook(name: str, url: str | None) -> None:
    """Switch NAME to webhook mode at URL (default: TELEGRAM_WEBHOOK_BASE_URL/telegram/webhook/NAME)."""
    if not url:
        base = current_app.config.get("TELEGRAM_WEBHOOK_BASE_URL") or current_app.config["PUBLIC_BASE_URL"]
        url = f"{base.rstrip('/')}/telegram/webhook/{name}"
    bot = _run(services.set_webhook, _bot(name), url)
    click.echo(f"{bot.name}: webhook set to {url}")


@bot_cli.command("delete-webhook")
@click.argument("name")
def delete_webhook(name: str) -> None:
    """Switch NAME back to long polling (the bot worker picks it up)."""
    bot = _run(services.delete_webhook, _bot(name))
    click.echo(f"{bot.name}: webhook deleted; polling mode")


def register(app: Flask) -> None:
    app.cli.add_command(bot_cli)
