"""The rest of the clinic bot end to end: the scans' messages (through the one send path) and their
buttons, documents, payments, support and profile."""

from __future__ import annotations

from tests.clinic.test_bot import KK_MENU
from tests.fixtures.clinic import MONDAY, NOW, at, build_patient, fresh, message_by_id, press_and_edit, press_and_wait
from tests.fixtures.telegram import buttons, inline_data, say


def _patient_with_appointment(app, bot, user, service="consult", spoke=True, **fields):
    from webapp.clinic.models import Branch, Doctor, Patient, Service
    from webapp.clinic.services.booking import book_appointment
    from webapp.core.models import TelegramAccount
    from webapp.extensions import db

    ids = bot.ids
    with app.app_context():
        if spoke:
            # The first contact's reply came after its update committed the account; without it the
            # patient would get a second platform user for the same Telegram id.
            assert fresh(db.select(TelegramAccount).filter_by(telegram_user_id=user.user_id))
        patient = build_patient(telegram_user_id=user.user_id, **fields)
        appointment = book_appointment(
            db.session.get(Patient, patient.id),
            db.session.get(Doctor, ids.doctor_id),
            db.session.get(Service, ids.consult_id if service == "consult" else ids.ultrasound_id),
            db.session.get(Branch, ids.central_id),
            at(MONDAY, 10),
            now=NOW,
        )
        db.session.commit()
        return appointment.id


def test_arrival_check_and_nps_answers(app, sandbox, clinic_bot, tg_user):
    from webapp.clinic import jobs
    from webapp.clinic.models import Appointment, Feedback
    from webapp.extensions import db
    from webapp.telegram.jobs import deliver_pending

    bot = clinic_bot
    user = tg_user(bot, first_name="Erlan")
    say(sandbox, bot, user, "/help")  # the patient has a chat with the clinic's bot
    key = _patient_with_appointment(app, bot, user)

    with app.app_context():
        assert jobs.send_arrived_checks(now=at(MONDAY, 10, 5)) == 1
        assert deliver_pending() == 1  # the outbox's job sends what the scan wrote
    check = sandbox.wait_for_bot_message(bot.token, user.chat_id, predicate=lambda m: "Вы пришли?" in m.get("text", ""))
    assert check["text"] == "Вы пришли? Приём у врача Ахметова Айгуль Сериковна начался в 10:00."
    assert buttons(check) == ["✅ Да, я в клинике", "❌ Нет, не смогу прийти"]
    answered = press_and_edit(sandbox, bot, user, check, f"cl:arr:{key}:y")
    assert answered["text"] == "Отлично, спасибо! Врач скоро вас примет."
    with app.app_context():
        assert fresh(db.select(Appointment).filter_by(id=key, status="arrived"))
        assert jobs.send_arrived_checks(now=at(MONDAY, 11)) == 0  # the visit is completed, nothing to ask
        assert db.session.get(Appointment, key).status == "completed"
        assert jobs.send_feedback_requests(now=at(MONDAY, 12, 29)) == 0
        assert jobs.send_feedback_requests(now=at(MONDAY, 12, 30)) == 1
        assert jobs.send_feedback_requests(now=at(MONDAY, 12, 31)) == 0
        assert deliver_pending() == 1

    survey = sandbox.wait_for_bot_message(
        bot.token,
        user.chat_id,
        after_message_id=check["message_id"],
        predicate=lambda m: "Оцените" in m.get("text", ""),
    )
    assert survey["text"] == "Оцените ваш визит от 0 до 10:"
    assert buttons(survey) == [str(n) for n in range(11)]
    comment_prompt = press_and_wait(sandbox, bot, user, survey, f"cl:nps:{key}:4")
    assert comment_prompt["text"] == "Оставьте комментарий (или /skip):"
    assert message_by_id(sandbox, bot, user, survey["message_id"], lambda m: "4/10" in m["text"])["text"] == (
        "Ваша оценка: 4/10"
    )
    thanks = say(sandbox, bot, user, "Долго ждал в очереди")
    assert thanks["text"] == (
        "Спасибо за отзыв!\n\nНам жаль, что вы остались недовольны. Мы передадим ваш отзыв руководству."
    )
    with app.app_context():
        feedback = fresh(db.select(Feedback).where(Feedback.comment.is_not(None)))
        assert (feedback.score, feedback.comment, feedback.appointment_id) == (4, "Долго ждал в очереди", key)


def test_documents_payments_support_and_profile(app, sandbox, clinic_bot, tg_user):
    from webapp.clinic.models import Invoice, Patient, SupportTicket
    from webapp.clinic.services.payments import create_invoice
    from webapp.extensions import db

    bot = clinic_bot
    user = tg_user(bot, first_name="Erlan")
    key = _patient_with_appointment(app, bot, user, spoke=False)

    menu = say(sandbox, bot, user, "📄 Документы")
    assert menu["text"] == "Выберите тип документа:"
    choose = press_and_wait(sandbox, bot, user, menu, "cl:doc:list:t")
    assert choose["text"] == "Выберите запись:" and inline_data(choose) == [f"cl:doc:t:{key}"]
    document = press_and_wait(sandbox, bot, user, choose, f"cl:doc:t:{key}", predicate=lambda m: "document" in m)
    assert document["caption"] == "Талон на приём"
    assert sandbox.download(bot.token, document["document"]["file_id"]).startswith(b"%PDF")
    link = sandbox.wait_for_bot_message(bot.token, user.chat_id, after_message_id=document["message_id"])
    assert link["text"].startswith("Ссылка на скачивание (действует до 08.01.2030 10:00):")
    assert "/api/bot/documents/download/" in link["text"]
    again = say(sandbox, bot, user, "📄 Документы")
    assert buttons(again)[3] == "📎 Талон на приём · 06.01 10:00"  # still valid: fetched without regenerating
    resent = press_and_wait(sandbox, bot, user, again, inline_data(again)[3], predicate=lambda m: "document" in m)
    assert resent["caption"] == "Талон на приём"
    # The link follows the document; let it arrive, or it would pass for the reply to the next message.
    relink = sandbox.wait_for_bot_message(bot.token, user.chat_id, after_message_id=resent["message_id"])
    assert relink["text"].startswith("Ссылка на скачивание")

    with app.app_context():
        invoice = create_invoice(db.session.get(Patient, db.session.scalar(db.select(Patient.id))), "5000")
        db.session.commit()
        number = invoice.number
    payments = say(sandbox, bot, user, "💳 Оплата")
    assert payments["text"] == "Ваш баланс: 0 ₸\n\nНеоплаченные счета:"
    paid = press_and_wait(sandbox, bot, user, payments, inline_data(payments)[0])
    assert paid["text"] == f"✅ Оплата {number} получена: 5 000 ₸"
    with app.app_context():
        assert fresh(db.select(Invoice).filter_by(status="paid"))
    assert say(sandbox, bot, user, "💳 Оплата")["text"] == "Ваш баланс: 5 000 ₸\n\nНеоплаченных счетов нет."

    help_menu = say(sandbox, bot, user, "❓ Поддержка")
    assert help_menu["text"] == "Чем мы можем помочь?"
    faq = press_and_wait(sandbox, bot, user, help_menu, "cl:sup:faq")
    assert faq["text"].startswith("Часто задаваемые вопросы\n\n❓ Как записаться?")
    prompt = press_and_wait(sandbox, bot, user, help_menu, "cl:sup:op")
    assert prompt["text"] == "Опишите ваш вопрос одним сообщением:"
    created = say(sandbox, bot, user, "Нужна справка для бассейна")
    assert created["text"].startswith("Обращение #") and created["text"].endswith("в ближайшее время.")
    with app.app_context():
        ticket = fresh(db.select(SupportTicket))
        assert (ticket.subject, ticket.telegram_user_id) == ("Нужна справка для бассейна", user.user_id)

    profile = say(sandbox, bot, user, "👤 Профиль")
    assert profile["text"] == "👤 Жумабаев Ерлан\n📱 +77011234567\n🆔 ИИН: —\n🌐 Язык: Русский"
    marketing = press_and_edit(sandbox, bot, user, profile, "cl:prof:mk", lambda m: "выкл." in " ".join(buttons(m)))
    assert buttons(marketing)[1] == "📢 Новости и акции: выкл."
    languages = press_and_wait(sandbox, bot, user, profile, "cl:prof:lang")
    changed = press_and_wait(sandbox, bot, user, languages, "cl:reg:lang:kk")
    assert changed["text"] == "Тіл қазақ тіліне өзгертілді" and buttons(changed) == KK_MENU
    with app.app_context():
        patient = fresh(db.select(Patient).filter_by(language="kk"))
        assert patient.consent_marketing_at is None
