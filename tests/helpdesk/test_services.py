"""Helpdesk rules tested directly against the database: state machine, conversation, events."""

from __future__ import annotations

import pytest

from webapp.core.services import ServiceError, get_user
from webapp.extensions import db
from webapp.helpdesk import services
from webapp.helpdesk.models import TRANSITIONS, Ticket, TicketMessage, TicketStatus, TicketStatusChange


def load(ticket_ns) -> Ticket:
    return db.session.get(Ticket, ticket_ns.id)


def history(ticket) -> list[tuple]:
    rows = db.session.scalars(
        db.select(TicketStatusChange).where(TicketStatusChange.ticket_id == ticket.id).order_by(TicketStatusChange.id)
    )
    return [(r.old_status, r.new_status) for r in rows]


ROLES = {"customer": "user", "other": "user", "helper": "helper", "helper2": "helper", "admin": "admin"}


class People(dict):
    """Users made on first mention (password hashing makes each one cost a little)."""

    def __init__(self, make_user):
        super().__init__()
        self.make_user = make_user

    def __missing__(self, key):
        self[key] = self.make_user(ROLES.get(key, key))
        return self[key]


@pytest.fixture
def people(make_user):
    return People(make_user)


def test_transition_table_is_exactly_the_legal_moves():
    s = TicketStatus
    assert TRANSITIONS[s.CLOSED] == frozenset()
    assert s.OPEN not in set().union(*TRANSITIONS.values())  # nothing goes back to OPEN
    assert TRANSITIONS[s.RESOLVED] == {s.IN_PROGRESS, s.CLOSED}


@pytest.mark.parametrize("start", list(TicketStatus))
@pytest.mark.parametrize("target", list(TicketStatus))
def test_every_move_is_allowed_or_refused_by_the_table(app_ctx, people, hd_ticket, start, target):
    ticket = load(hd_ticket(people["customer"]))
    helper = get_user(people["helper"].id)
    # Walk to the start state along legal moves.
    path = {
        TicketStatus.OPEN: [],
        TicketStatus.IN_PROGRESS: [TicketStatus.IN_PROGRESS],
        TicketStatus.WAITING_RESPONSE: [TicketStatus.WAITING_RESPONSE],
        TicketStatus.RESOLVED: [TicketStatus.RESOLVED],
        TicketStatus.CLOSED: [TicketStatus.CLOSED],
    }[start]
    for step in path:
        services.set_status(ticket, step, helper)
    if target == start:
        assert services.set_status(ticket, target, helper) is None
    elif target in TRANSITIONS[start]:
        change = services.set_status(ticket, target, helper)
        assert (change.old_status, change.new_status) == (start.value, target.value)
        assert ticket.status == target.value
    else:
        with pytest.raises(ServiceError) as err:
            services.set_status(ticket, target, helper)
        assert err.value.status == 422 and err.value.field == "status"
        assert ticket.status == start.value


def test_closing_stamps_closed_at_and_history(app_ctx, people, hd_ticket):
    ticket = load(hd_ticket(people["customer"]))
    helper = get_user(people["helper"].id)
    services.start_work(ticket, helper)
    services.resolve(ticket, helper)
    assert ticket.closed_at is None
    services.close(ticket, helper)
    assert ticket.closed_at is not None and ticket.closed_at.tzinfo is not None
    assert history(ticket) == [
        (None, "OPEN"),
        ("OPEN", "IN_PROGRESS"),
        ("IN_PROGRESS", "RESOLVED"),
        ("RESOLVED", "CLOSED"),
    ]


def test_customer_may_only_close_their_own_ticket(app_ctx, people, hd_ticket):
    ticket = load(hd_ticket(people["customer"]))
    customer, other = get_user(people["customer"].id), get_user(people["other"].id)
    with pytest.raises(ServiceError) as err:
        services.set_status(ticket, "RESOLVED", customer)
    assert err.value.status == 403
    with pytest.raises(ServiceError) as err:
        services.update_ticket(ticket, other, status="CLOSED")
    assert err.value.status == 403
    services.set_status(ticket, "CLOSED", customer)
    assert ticket.status == "CLOSED"


def test_customer_cannot_change_staff_fields(app_ctx, people, hd_ticket):
    ticket = load(hd_ticket(people["customer"]))
    customer = get_user(people["customer"].id)
    for field, value in (("priority", "HIGH"), ("assigned_to", people["helper"].id), ("category_id", None)):
        with pytest.raises(ServiceError) as err:
            services.update_ticket(ticket, customer, **{field: value})
        assert err.value.status == 403 and err.value.field == field
    services.update_ticket(ticket, customer, title="  Новый заголовок ")
    assert ticket.title == "Новый заголовок"


def test_assignee_must_be_helpdesk_staff(app_ctx, people, hd_ticket):
    ticket = load(hd_ticket(people["customer"]))
    admin = get_user(people["admin"].id)
    for who in ("customer", "doctor"):
        with pytest.raises(ServiceError) as err:
            services.update_ticket(ticket, admin, assigned_to=people[who].id)
        assert err.value.status == 422 and err.value.field == "assigned_to"
    services.update_ticket(ticket, admin, assigned_to=people["helper"].id)
    assert ticket.assigned_to_id == people["helper"].id
    services.update_ticket(ticket, admin, assigned_to=None)
    assert ticket.assigned_to_id is None


def test_first_public_staff_reply_is_the_first_response(app_ctx, people, hd_ticket):
    ticket = load(hd_ticket(people["customer"]))
    customer, helper, helper2 = (get_user(people[k].id) for k in ("customer", "helper", "helper2"))
    services.add_message(ticket, customer, "Ещё подробности")
    services.add_message(ticket, helper, "Внутренняя заметка", is_internal=True)
    assert ticket.first_response_at is None and ticket.status == "OPEN" and ticket.assigned_to_id is None
    reply = services.add_message(ticket, helper, "Здравствуйте! Проверяем.")
    assert ticket.first_response_at == reply.created_at
    assert ticket.assigned_to_id == helper.id  # answering an unassigned ticket takes it
    assert ticket.status == "WAITING_RESPONSE"
    services.add_message(ticket, helper2, "Второй ответ")
    assert ticket.first_response_at == reply.created_at and ticket.assigned_to_id == helper.id
    services.add_message(ticket, customer, "Спасибо, но не работает")
    assert ticket.status == "IN_PROGRESS"


def test_customer_writing_to_resolved_ticket_reopens_it_but_closed_refuses(app_ctx, people, hd_ticket):
    ticket = load(hd_ticket(people["customer"]))
    customer, helper = get_user(people["customer"].id), get_user(people["helper"].id)
    services.resolve(ticket, helper)
    services.add_message(ticket, customer, "Снова не работает")
    assert ticket.status == "IN_PROGRESS"
    services.close(ticket, helper)
    with pytest.raises(ServiceError) as err:
        services.add_message(ticket, customer, "Алло?")
    assert err.value.status == 422
    note = services.add_message(ticket, helper, "Закрыли по просьбе клиента", is_internal=True)
    assert note.is_internal


def test_message_rules(app_ctx, people, hd_ticket):
    ticket = load(hd_ticket(people["customer"]))
    customer, other = get_user(people["customer"].id), get_user(people["other"].id)
    with pytest.raises(ServiceError) as err:
        services.add_message(ticket, customer, "секрет", is_internal=True)
    assert err.value.status == 403
    with pytest.raises(ServiceError) as err:
        services.add_message(ticket, other, "чужой тикет")
    assert err.value.status == 403
    with pytest.raises(ServiceError) as err:
        services.add_message(ticket, customer, "   ")
    assert err.value.status == 422 and err.value.field == "content"
    # NUL characters (which PostgreSQL cannot store) are dropped, not turned into a database error.
    assert services.add_message(ticket, customer, "a\x00b").content == "ab"
    db.session.commit()


def test_customer_never_sees_internal_notes(app_ctx, people, hd_ticket):
    ticket = load(hd_ticket(people["customer"]))
    customer, helper = get_user(people["customer"].id), get_user(people["helper"].id)
    services.add_message(ticket, customer, "Вопрос")
    services.add_message(ticket, helper, "Похоже на баг биллинга", is_internal=True)
    services.add_message(ticket, helper, "Ответ клиенту")
    db.session.commit()
    as_customer = db.session.scalars(services.messages_query(ticket, customer)).all()
    as_helper = db.session.scalars(services.messages_query(ticket, helper)).all()
    assert [m.content for m in as_customer] == ["Вопрос", "Ответ клиенту"]
    assert [m.content for m in as_helper] == ["Вопрос", "Похоже на баг биллинга", "Ответ клиенту"]
    counts_customer = services.message_stats([ticket.id], include_internal=False)[ticket.id]
    counts_staff = services.message_stats([ticket.id], include_internal=True)[ticket.id]
    assert counts_customer[0] == 2 and counts_staff[0] == 3
    assert counts_customer[1] == as_customer[-1].created_at


def test_events_leave_only_on_commit_and_notes_are_staff_only(app_ctx, people, hd_ticket, ticket_events):
    ticket = load(hd_ticket(people["customer"]))
    helper = get_user(people["helper"].id)
    listener = ticket_events(ticket.id)
    services.add_message(ticket, helper, "черновик")
    db.session.rollback()
    assert listener.read() == []
    ticket, helper = load(ticket), get_user(people["helper"].id)
    services.add_message(ticket, helper, "заметка", is_internal=True)
    services.add_message(ticket, helper, "ответ")
    db.session.commit()
    envelopes = listener.read()
    messages = [
        (e["audience"], e["event"]["data"]["content"]) for e in envelopes if e["event"]["type"] == "new_message"
    ]
    assert messages == [("staff", "заметка"), ("all", "ответ")]
    changes = [e for e in envelopes if e["event"]["type"] == "status_changed"]
    assert len(changes) == 1 and changes[0]["audience"] == "all"
    data = changes[0]["event"]["data"]
    assert (data["ticket_id"], data["old_status"], data["new_status"]) == (str(ticket.id), "OPEN", "WAITING_RESPONSE")
    assert data["changed_by"] == {"id": str(helper.id), "first_name": "Helper", "role": "HELPER"}


def test_delete_is_admin_only_and_removes_files(app_ctx, people, hd_ticket):
    from tests.fixtures.helpdesk import PNG_BYTES
    from webapp.helpdesk.storage import get_storage

    ticket = load(hd_ticket(people["customer"]))
    customer, helper, admin = (get_user(people[k].id) for k in ("customer", "helper", "admin"))
    upload = services.store_upload(customer, PNG_BYTES, "screen.png")
    services.add_message(ticket, customer, "скрин", attachment_ids=[upload.id])
    db.session.commit()
    key = upload.storage_key
    assert get_storage().load(key) == PNG_BYTES
    with pytest.raises(ServiceError) as err:
        services.delete_ticket(ticket, helper)
    assert err.value.status == 403
    services.delete_ticket(ticket, admin)
    db.session.commit()
    assert db.session.get(Ticket, ticket.id) is None
    assert db.session.scalar(db.select(db.func.count(TicketMessage.id))) == 0
    with pytest.raises(FileNotFoundError):
        get_storage().load(key)


def test_reply_to_finds_the_ticket_only_for_its_recipient(app_ctx, people, hd_ticket):
    from webapp.helpdesk.services.notify import ticket_subject
    from webapp.helpdesk.services.telegram import set_alerts, ticket_for_reply
    from webapp.telegram.models import Bot, OutboundMessage

    ticket = load(hd_ticket(people["customer"]))
    helper, other = get_user(people["helper"].id), get_user(people["other"].id)
    bot = Bot(name="hd", vertical="helpdesk", token_encrypted="x", token_fingerprint="f" * 64)
    db.session.add(bot)
    db.session.flush()
    db.session.add(
        OutboundMessage(
            dedupe_key="ticket-new:1",
            kind="helpdesk",
            subject=ticket_subject(ticket.id),
            user_id=helper.id,
            bot_id=bot.id,
            chat_id=5,
            status="sent",
            telegram_message_id=77,
        )
    )
    db.session.flush()
    assert ticket_for_reply(helper, bot.id, 5, 77) is ticket
    assert ticket_for_reply(helper, bot.id, 5, 78) is None
    assert ticket_for_reply(helper, bot.id, 6, 77) is None
    assert ticket_for_reply(other, bot.id, 5, 77) is None
    with pytest.raises(ServiceError):
        set_alerts(other, bot.id, True)
    assert set_alerts(helper, bot.id, True).enabled
