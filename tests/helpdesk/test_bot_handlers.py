"""The helpdesk bot's ticket buttons registered alone on a sandbox bot (module-level handlers), and
buttons forged with another customer's ticket or another desk's category."""

from __future__ import annotations

import pytest

from tests.fixtures.handlers import press_forged
from tests.fixtures.telegram import say

STALE_RU = "Эта кнопка больше не действует."  # the helpdesk catalog's wording


@pytest.fixture
def ticket_buttons_bot(handler_bot):
    from botworker.helpdesk import handlers

    def register(bot) -> None:
        for handler, kind in handlers.BUTTONS:
            bot.register_callback_query_handler(handler, func=kind.matches, pass_bot=True)

    return handler_bot("helpdesk", register)


@pytest.mark.parametrize("button", ["hd:t", "hd:w", "hd:x"])
def test_a_forged_button_with_another_customers_ticket_is_refused(
    app, sandbox, ticket_buttons_bot, tg_user, make_user, hd_ticket, button
):
    from webapp.extensions import db
    from webapp.helpdesk.models import Ticket

    ticket = hd_ticket(make_user("user"))
    user = tg_user(ticket_buttons_bot)
    say(sandbox, ticket_buttons_bot, user, "/help")
    _, answer = press_forged(sandbox, ticket_buttons_bot, user, f"{button}:{ticket.id}")
    assert answer["answered"] and answer["text"] == STALE_RU
    with app.app_context():
        assert db.session.get(Ticket, ticket.id).status != "CLOSED"


def test_a_forged_category_of_another_desk_is_refused(
    sandbox, ticket_buttons_bot, tg_user, hd_category, make_organization
):
    other_desk = hd_category(organization=make_organization("Other desk"))
    user = tg_user(ticket_buttons_bot)
    say(sandbox, ticket_buttons_bot, user, "/help")
    for data in (f"hd:cat:{other_desk.id}", "hd:cat:not-a-uuid", "hd:t:"):
        _, answer = press_forged(sandbox, ticket_buttons_bot, user, data)
        assert answer["answered"] and answer["text"] == STALE_RU
