"""The clinic's booking handlers alone: module-level functions registered on a bot by themselves
(no other clinic handler), talking to the sandbox; and buttons forged with another organization's
branch, service or doctor, which are refused as stale buttons."""

from __future__ import annotations

import pytest

from tests.fixtures.clinic import build_clinic, build_patient, fresh
from tests.fixtures.handlers import press_forged
from tests.fixtures.telegram import eventually, say

STALE_RU = "Эта кнопка больше не активна."


@pytest.fixture
def booking_bot(app, handler_bot, frozen_clock, make_organization):
    """A clinic bot running the booking handlers and nothing else of the clinic's, plus another
    organization's clinic whose ids it must never book."""
    from botworker.clinic import booking

    other_organization = make_organization("Other clinic organization")

    def clinics(bot) -> None:
        with app.app_context():
            bot.ids = build_clinic(bot_id=bot.bot_id)
            bot.other = build_clinic(organization_id=other_organization, name="Чужая клиника")

    return handler_bot("clinic", booking.register, before=clinics)


def _patient(app, bot, sandbox, user):
    from webapp.core.models import TelegramAccount
    from webapp.extensions import db

    say(sandbox, bot, user, "/help")  # the first contact creates the Telegram account
    with app.app_context():
        assert eventually(lambda: fresh(db.select(TelegramAccount).filter_by(telegram_user_id=user.user_id)))
        return build_patient(telegram_user_id=user.user_id)


def test_the_booking_handlers_alone_list_the_bots_own_branches(app, sandbox, booking_bot, tg_user):
    bot, user = booking_bot, tg_user(booking_bot)
    _patient(app, bot, sandbox, user)
    branches = say(sandbox, bot, user, "📅 Записаться")
    assert branches["text"] == "Выберите филиал:"
    data = [b["callback_data"] for row in branches["reply_markup"]["inline_keyboard"] for b in row]
    assert sorted(data) == sorted([f"cl:bk:b:{bot.ids.central_id}", f"cl:bk:b:{bot.ids.east_id}"])


@pytest.mark.parametrize("which", ["branch", "service", "doctor"])
def test_a_forged_button_of_another_organization_is_refused(app, sandbox, booking_bot, tg_user, which):
    bot, user, own, other = booking_bot, tg_user(booking_bot), booking_bot.ids, booking_bot.other
    _patient(app, bot, sandbox, user)
    data = {
        "branch": f"cl:bk:b:{other.central_id}",
        "service": f"cl:bk:s:{own.central_id}:{other.consult_id}",
        "doctor": f"cl:bk:d:{own.central_id}:{own.consult_id}:{other.doctor_id}",
    }[which]
    forged, answer = press_forged(sandbox, bot, user, data)
    assert answer["answered"] and answer["text"] == STALE_RU
    # Nothing of the other clinic was shown: the forged message was not edited into a step.
    message = next(m for m in sandbox.transcript(bot.token, user.chat_id) if m["message_id"] == forged["message_id"])
    assert message["text"] == "forged"


@pytest.mark.parametrize("data", ["cl:bk:zz:1", "cl:bk:b:notanumber", "cl:bk:t:1:2", "cl:bk:c:{own}:bad"])
def test_unknown_or_malformed_booking_buttons_get_a_polite_answer(app, sandbox, booking_bot, tg_user, data):
    bot, user, ids = booking_bot, tg_user(booking_bot), booking_bot.ids
    _patient(app, bot, sandbox, user)
    data = data.format(own=f"{ids.central_id}:{ids.consult_id}:{ids.doctor_id}")
    _, answer = press_forged(sandbox, bot, user, data)
    assert answer["answered"] and answer["text"] == STALE_RU


def test_booking_choice_loads_only_the_organizations_own_rows(app, make_organization):
    from webapp.clinic.services.directory import booking_choice
    from webapp.core.services import ServiceError

    other_organization = make_organization("Another")
    with app.app_context():
        own = build_clinic()
        other = build_clinic(organization_id=other_organization, name="Чужая")
        choice = booking_choice(own.organization_id, own.central_id, own.consult_id, own.doctor_id)
        assert (choice.branch.id, choice.service.id, choice.doctor.id) == (
            own.central_id,
            own.consult_id,
            own.doctor_id,
        )
        for ids in [
            (other.central_id,),
            (own.central_id, other.consult_id),
            (own.central_id, own.consult_id, other.doctor_id),
        ]:
            with pytest.raises(ServiceError) as refused:
                booking_choice(own.organization_id, *ids)
            assert refused.value.status == 404


# --- 💳 payments alone: the unpaid invoices come from payments.unpaid_invoices ---------------------


@pytest.fixture
def payments_bot(app, handler_bot, frozen_clock):
    from botworker.clinic import payments

    def clinic(bot) -> None:
        with app.app_context():
            bot.ids = build_clinic(bot_id=bot.bot_id)

    return handler_bot("clinic", payments.register, before=clinic)


def _invoice_of(app, patient, ids, hour: int) -> int:
    """A pending prepayment invoice of a new appointment of ``patient``."""
    from tests.fixtures.clinic import MONDAY, NOW, at
    from webapp.clinic.models import Branch, Doctor, Patient, Service
    from webapp.clinic.services.booking import book_appointment
    from webapp.clinic.services.payments import request_prepayment
    from webapp.extensions import db

    with app.app_context():
        appointment = book_appointment(
            db.session.get(Patient, patient.id),
            db.session.get(Doctor, ids.doctor_id),
            db.session.get(Service, ids.consult_id),
            db.session.get(Branch, ids.central_id),
            at(MONDAY, hour),
            now=NOW,
        )
        invoice = request_prepayment(appointment)
        db.session.commit()
        return invoice.id


def test_payments_alone_list_only_the_patients_own_unpaid_invoices(app, sandbox, payments_bot, tg_user):
    bot, user = payments_bot, tg_user(payments_bot)
    own = _invoice_of(app, _patient(app, bot, sandbox, user), bot.ids, 10)
    with app.app_context():
        someone_else = build_patient()
    other = _invoice_of(app, someone_else, bot.ids, 11)
    menu = say(sandbox, bot, user, "💳 Оплата")
    data = [b["callback_data"] for row in menu["reply_markup"]["inline_keyboard"] for b in row]
    assert data == [f"cl:pay:{own}"]
    _, answer = press_forged(sandbox, bot, user, f"cl:pay:{other}")  # another patient's invoice
    assert answer["answered"] and answer["text"] == STALE_RU
    _, answer = press_forged(sandbox, bot, user, "cl:pay:x")
    assert answer["answered"] and answer["text"] == STALE_RU


def test_the_booking_cancel_button_reaches_its_step(app, sandbox, booking_bot, tg_user):
    """cl:bk:x is a step of the dispatch: the cl:bk: prefix used to take it for a malformed step."""
    from tests.fixtures.clinic import message_by_id
    from tests.fixtures.telegram import press

    bot, user = booking_bot, tg_user(booking_bot)
    _patient(app, bot, sandbox, user)
    forged = say(sandbox, bot, user, "/forge cl:bk:x")
    press(sandbox, bot, user, forged, "cl:bk:x")
    edited = message_by_id(sandbox, bot, user, forged["message_id"], lambda m: m["text"] != "forged")
    assert edited["text"] == "Запись отменена"
