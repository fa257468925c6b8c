"""The clinic bot end to end through the Telegram sandbox: the real runner and handlers, over HTTP."""

from __future__ import annotations

import re
from datetime import UTC, datetime

import pytest
import requests
from icalendar import Calendar

from tests.fixtures.clinic import (
    MONDAY,
    VALID_IIN_FEMALE_1995,
    VALID_IIN_MALE_1990,
    at,
    build_patient,
    fresh,
    message_by_id,
    press_and_edit,
    press_and_wait,
)
from tests.fixtures.telegram import buttons, eventually, inline_data, press, say

RU_MENU = ["📅 Записаться", "📋 Мои записи", "📄 Документы", "💳 Оплата", "👤 Профиль", "❓ Поддержка"]
KK_MENU = ["📅 Жазылу", "📋 Менің жазулартым", "📄 Құжаттар", "💳 Төлемдер", "👤 Профиль", "❓ Көмек"]
RU_WELCOME = "Добро пожаловать в клинику!\n\nЯ помогу вам записаться на приём, получить документы и многое другое."
UZ_MENU = ["📅 Qabulga yozilish", "📋 Qabullarim", "📄 Hujjatlar", "💳 Toʻlovlar", "👤 Profil", "❓ Qoʻllab-quvvatlash"]
UZ_WELCOME = "Klinikaga xush kelibsiz!\n\nQabulga yozilish, hujjatlarni olish va boshqa koʻp narsalarda yordam beraman."
KK_WELCOME = "Клиникаға қош келдіңіз!\n\nМен сізге қабылдауға жазылуға, құжаттарды алуға және т.б. көмектесемін."


def register(sandbox, bot, user, language="ru"):
    """/start and the language choice of a first contact; returns the first question."""
    offer = say(sandbox, bot, user, "/start")
    first = press_and_wait(sandbox, bot, user, offer, f"lang:start:{language}")
    return first


# --- registration ----------------------------------------------------------------------------------

RU_IIN_CONFIRM_MALE_1990 = "🆔 ИИН: 900101300017\n🎂 Дата рождения: 01.01.1990\n👤 Пол: 👨 Мужской\n\nВсё верно?"
RU_CONFIRM_BUTTONS = ["✅ Да, верно", "✏️ Нет, ввести ИИН заново", "⬅️ Назад"]
CYRILLIC = re.compile("[\u0400-\u04ff]")


def consent_link(message: dict) -> str:
    """The URL of the first inline button (the link to the full consent texts)."""
    return message["reply_markup"]["inline_keyboard"][0][0]["url"]


def test_registration_in_russian_asks_the_iin_first_and_confirms_what_it_says(app, sandbox, clinic_bot, tg_user):
    bot, user = clinic_bot, tg_user(clinic_bot, first_name="Erlan", language_code="ru")
    first = register(sandbox, bot, user, "ru")
    assert first["text"] == RU_WELCOME + "\n\nВведите ваш ИИН (12 цифр):"
    wrong = say(sandbox, bot, user, "900101300018")
    assert wrong["text"] == "❌ Неверный ИИН: Неверная контрольная цифра ИИН.\nПожалуйста, проверьте и введите ещё раз:"
    # A valid IIN: the date of birth and the sex are read from it, the patient only confirms them.
    confirm = say(sandbox, bot, user, VALID_IIN_FEMALE_1995)
    assert confirm["text"] == ("🆔 ИИН: 950520401237\n🎂 Дата рождения: 20.05.1995\n👤 Пол: 👩 Женский\n\nВсё верно?")
    assert buttons(confirm) == RU_CONFIRM_BUTTONS
    # "No": the IIN is asked again.
    assert say(sandbox, bot, user, "✏️ Нет, ввести ИИН заново")["text"] == "Введите ваш ИИН (12 цифр):"
    confirm = say(sandbox, bot, user, VALID_IIN_MALE_1990)
    assert confirm["text"] == RU_IIN_CONFIRM_MALE_1990 and buttons(confirm) == RU_CONFIRM_BUTTONS
    assert say(sandbox, bot, user, "Наверное")["text"] == "Пожалуйста, выберите кнопкой ниже."
    assert say(sandbox, bot, user, "✅ Да, верно")["text"] == "Введите ваше имя:"
    assert say(sandbox, bot, user, "Ерлан")["text"] == "Введите вашу фамилию:"
    middle = say(sandbox, bot, user, "Жумабаев")
    assert middle["text"] == "Введите ваше отчество (или /skip чтобы пропустить):"
    assert buttons(middle) == ["➡️ Пропустить", "⬅️ Назад"]
    phone = say(sandbox, bot, user, "/skip")
    assert phone["text"] == "Отправьте ваш номер телефона:"
    assert phone["reply_markup"]["keyboard"][0][0]["request_contact"] is True
    assert say(sandbox, bot, user, "12345")["text"] == "Это не похоже на номер телефона. Пример: +7 701 123 45 67"
    sent = sandbox.send_contact(bot.token, user.user_id, "+77011234567", first_name="Erlan")
    consents = sandbox.wait_for_bot_message(bot.token, user.chat_id, after_message_id=sent["message_id"])
    assert consents["text"] == (
        "Пожалуйста, ознакомьтесь с согласиями:\n\n1. Обработка персональных данных\n"
        "2. Медицинское вмешательство\n3. Маркетинговые рассылки"
    )
    assert buttons(consents)[0] == "📄 Полные тексты согласий"
    assert consent_link(consents).endswith(f"/clinic/{bot.ids.clinic_id}/consents/ru/")
    texts_page = requests.get(consent_link(consents), timeout=10)  # the link opens the full texts
    assert texts_page.status_code == 200 and "1. Согласие на обработку персональных данных" in texts_page.text
    typed = say(sandbox, bot, user, "Согласен")
    assert typed["text"].startswith("Пожалуйста, выберите кнопкой ниже.\n\nПожалуйста, ознакомьтесь с согласиями:")
    consents = typed
    refused = press(sandbox, bot, user, consents, "cl:reg:ok")  # nothing ticked yet
    assert eventually(lambda: sandbox.callback_answer(bot.token, refused["callback_query_id"])["answered"])
    ticked = press_and_edit(
        sandbox, bot, user, consents, "cl:reg:c:personal_data", lambda m: buttons(m)[1].startswith("☑️")
    )
    assert buttons(ticked)[:4] == [
        "📄 Полные тексты согласий",
        "☑️ 1. Обработка персональных данных",
        "⬜ 2. Медицинское вмешательство",
        "⬜ 3. Маркетинговые рассылки",
    ]
    done = press_and_wait(sandbox, bot, user, ticked, "cl:reg:ok")
    assert done["text"] == "✅ Регистрация завершена! Добро пожаловать, Ерлан!"
    assert buttons(done) == RU_MENU

    from webapp.clinic.models import Patient
    from webapp.extensions import db

    with app.app_context():
        patient = fresh(db.select(Patient))
        assert (patient.full_name, patient.phone, patient.iin) == (
            "Жумабаев Ерлан",
            "+77011234567",
            VALID_IIN_MALE_1990,
        )
        assert patient.consents == {"personal_data": True, "medical": False, "marketing": False}
        assert (patient.sex, patient.language, str(patient.birth_date)) == ("M", "ru", "1990-01-01")
    again = say(sandbox, bot, user, "/start")
    assert again["text"] == RU_WELCOME and buttons(again) == RU_MENU


def test_registration_in_kazakh_with_a_way_back(app, sandbox, clinic_bot, tg_user):
    bot, user = clinic_bot, tg_user(clinic_bot, first_name="Aigerim", language_code="kk")
    first = register(sandbox, bot, user, "kk")
    assert first["text"] == KK_WELCOME + "\n\nЖСН енгізіңіз (12 сан):"
    wrong = say(sandbox, bot, user, "95052040123")
    assert wrong["text"] == "❌ Қате ЖСН: ЖСН дәл 12 цифрдан тұруы керек.\nТексеріп, қайта енгізіңіз:"
    kk_confirm = "🆔 ЖСН: 950520401237\n🎂 Туған күні: 20.05.1995\n👤 Жынысы: 👩 Әйел\n\nБәрі дұрыс па?"
    confirm = say(sandbox, bot, user, VALID_IIN_FEMALE_1995)
    assert confirm["text"] == kk_confirm
    assert buttons(confirm) == ["✅ Иә, дұрыс", "✏️ Жоқ, ЖСН-ді қайта енгізу", "⬅️ Артқа"]
    assert say(sandbox, bot, user, "✅ Иә, дұрыс")["text"] == "Атыңызды енгізіңіз:"
    assert say(sandbox, bot, user, "⬅️ Артқа")["text"] == kk_confirm  # back to the confirmation
    assert say(sandbox, bot, user, "⬅️ Артқа")["text"] == "ЖСН енгізіңіз (12 сан):"  # and to the IIN
    assert say(sandbox, bot, user, VALID_IIN_FEMALE_1995)["text"] == kk_confirm
    assert say(sandbox, bot, user, "✅ Иә, дұрыс")["text"] == "Атыңызды енгізіңіз:"
    assert say(sandbox, bot, user, "Әйгерім")["text"] == "Тегіңізді енгізіңіз:"
    assert say(sandbox, bot, user, "⬅️ Артқа")["text"] == "Атыңызды енгізіңіз:"  # back to the first name
    assert say(sandbox, bot, user, "Айгерім")["text"] == "Тегіңізді енгізіңіз:"
    assert say(sandbox, bot, user, "Сәрсенбаева")["text"] == "Әкеңізді атын енгізіңіз (немесе өткізу үшін /skip):"
    assert say(sandbox, bot, user, "Нұрланқызы")["text"] == "Телефон нөміріңізді жіберіңіз:"
    consents = say(sandbox, bot, user, "+7 (707) 555-12-34")
    assert consents["text"].startswith("Келісімдермен танысыңыз:")
    assert buttons(consents)[0] == "📄 Келісімдердің толық мәтіні"
    assert consent_link(consents).endswith(f"/clinic/{bot.ids.clinic_id}/consents/kk/")
    ticked = press_and_edit(sandbox, bot, user, consents, "cl:reg:c:personal_data", lambda m: "☑️" in buttons(m)[1])
    ticked = press_and_edit(sandbox, bot, user, ticked, "cl:reg:c:marketing", lambda m: "☑️" in buttons(m)[3])
    done = press_and_wait(sandbox, bot, user, ticked, "cl:reg:ok")
    assert done["text"] == "✅ Тіркеу аяқталды! Қош келдіңіз, Айгерім!"
    assert buttons(done) == KK_MENU

    from webapp.clinic.models import Patient
    from webapp.extensions import db

    with app.app_context():
        patient = fresh(db.select(Patient))
        assert (patient.language, patient.sex, patient.middle_name) == ("kk", "F", "Нұрланқызы")
        assert str(patient.birth_date) == "1995-05-20"
        assert patient.consents == {"personal_data": True, "medical": False, "marketing": True}


def test_uzbek_chosen_at_first_contact_registers_and_books_in_uzbek(app, sandbox, clinic_bot, tg_user):
    """Oʻzbekcha from the first-contact keyboard is kept (it used to re-offer only RU/KK), and every
    text of registration and of the booking menus reads in Uzbek: no Cyrillic but the clinic's data."""
    bot, ids = clinic_bot, clinic_bot.ids
    user = tg_user(bot, first_name="Dilshod", language_code="uz")
    offer = say(sandbox, bot, user, "/start")
    assert "Oʻzbekcha" in buttons(offer)
    first = press_and_wait(sandbox, bot, user, offer, "lang:start:uz")
    assert first["text"] == UZ_WELCOME + "\n\nIIN raqamingizni kiriting (12 ta raqam):"
    chosen = message_by_id(sandbox, bot, user, offer["message_id"], lambda m: m.get("text") == "Til: Oʻzbekcha")
    assert "reply_markup" not in chosen
    replies = [first]
    replies.append(say(sandbox, bot, user, "900101300018"))
    assert replies[-1]["text"] == "❌ IIN notoʻgʻri: IIN nazorat raqami notoʻgʻri.\nIltimos, tekshirib, qayta kiriting:"
    replies.append(say(sandbox, bot, user, VALID_IIN_MALE_1990))
    assert replies[-1]["text"] == (
        "🆔 IIN: 900101300017\n🎂 Tugʻilgan sana: 01.01.1990\n👤 Jinsi: 👨 Erkak\n\nHammasi toʻgʻrimi?"
    )
    assert buttons(replies[-1]) == ["✅ Ha, toʻgʻri", "✏️ Yoʻq, IIN ni qayta kiritish", "⬅️ Orqaga"]
    replies.append(say(sandbox, bot, user, "✅ Ha, toʻgʻri"))
    assert replies[-1]["text"] == "Ismingizni kiriting:"
    replies.append(say(sandbox, bot, user, "Dilshod"))
    assert replies[-1]["text"] == "Familiyangizni kiriting:"
    replies.append(say(sandbox, bot, user, "Karimov"))
    assert buttons(replies[-1]) == ["➡️ Oʻtkazib yuborish", "⬅️ Orqaga"]
    replies.append(say(sandbox, bot, user, "➡️ Oʻtkazib yuborish"))
    assert replies[-1]["text"] == "Telefon raqamingizni yuboring:"
    consents = say(sandbox, bot, user, "+998 90 123 45 67")
    replies.append(consents)
    assert consents["text"].startswith("Iltimos, roziliklar bilan tanishing:")
    assert consent_link(consents).endswith(f"/clinic/{ids.clinic_id}/consents/uz/")
    ticked = press_and_edit(sandbox, bot, user, consents, "cl:reg:c:personal_data", lambda m: "☑️" in buttons(m)[1])
    replies.append(ticked)
    done = press_and_wait(sandbox, bot, user, ticked, "cl:reg:ok")
    replies.append(done)
    assert done["text"] == "✅ Roʻyxatdan oʻtish yakunlandi! Xush kelibsiz, Dilshod!"
    assert buttons(done) == UZ_MENU
    for reply in replies:
        shown = reply["text"] + " ".join(buttons(reply))
        assert not CYRILLIC.search(shown), shown

    branches = say(sandbox, bot, user, "📅 Qabulga yozilish")
    assert branches["text"] == "Filialni tanlang:"
    services = press_and_edit(sandbox, bot, user, branches, f"cl:bk:b:{ids.central_id}")
    assert services["text"] == "Xizmatni tanlang:"
    assert buttons(services) == [
        "Консультация терапевта — 15 000 ₸ · 30 daq",  # the clinic names its services in Russian only
        "УЗИ — 20 000 ₸ · 60 daq",
        "⬅️ Orqaga",
    ]
    doctors = press_and_edit(sandbox, bot, user, services, f"cl:bk:s:{ids.central_id}:{ids.consult_id}")
    assert doctors["text"] == "Shifokorni tanlang:" and buttons(doctors)[-1] == "⬅️ Orqaga"
    prefix = f"{ids.central_id}:{ids.consult_id}:{ids.doctor_id}"
    calendar = press_and_edit(sandbox, bot, user, doctors, f"cl:bk:d:{prefix}")
    assert calendar["text"] == "Sanani tanlang:" and buttons(calendar)[0] == "Yanvar 2030"
    times = press_and_edit(sandbox, bot, user, calendar, f"cl:bk:t:{prefix}:20300107")
    assert times["text"] == "Qulay vaqtni tanlang (07.01.2030):"
    confirm = press_and_edit(sandbox, bot, user, times, f"cl:bk:c:{prefix}:{int(at(MONDAY, 10).timestamp())}")
    assert confirm["text"] == (
        "Qabulni tasdiqlang:\n\n📍 Filial: Центральный\n🏥 Xizmat: Консультация терапевта\n"
        "👨\u200d⚕️ Shifokor: Ахметова Айгуль Сериковна\n🗓 Sana: 07.01.2030\n🕐 Vaqt: 10:00\n💰 Narxi: 15 000 ₸"
    )
    profile = say(sandbox, bot, user, "👤 Profil")
    assert profile["text"] == "👤 Karimov Dilshod\n📱 +998901234567\n🆔 IIN: 900101300017\n🌐 Til: Oʻzbekcha"

    from webapp.clinic.models import Patient
    from webapp.extensions import db

    with app.app_context():
        patient = fresh(db.select(Patient))
        assert (patient.language, patient.sex, str(patient.birth_date)) == ("uz", "M", "1990-01-01")


def test_consent_texts_page_in_the_patients_language(app, live_server, clinic_data):
    """The link of the consent step opens the clinic's full consent texts, naming the clinic."""
    base = f"{live_server.url}/clinic/{clinic_data.clinic_id}/consents"
    expected = {
        "ru": ("Согласие на обработку персональных данных", "Я соглашаюсь, что Клиника Тест (далее — клиника)"),
        "kk": ("Дербес деректерді өңдеуге келісім", "Мен Клиника Тест (бұдан әрі — клиника)"),
        "uz": ("Shaxsiy maʼlumotlarni qayta ishlashga rozilik", "Men Клиника Тест (keyingi oʻrinlarda — klinika)"),
        "en": ("Informed voluntary consent to medical intervention", "I agree that Клиника Тест (“the clinic”)"),
    }
    for language, (title, opening) in expected.items():
        page = requests.get(f"{base}/{language}/", timeout=10)
        assert page.status_code == 200 and page.headers["Content-Type"].startswith("text/html")
        assert f'<html lang="{language}">' in page.text
        assert title in page.text and opening in page.text
    assert requests.get(f"{base}/de/", timeout=10).status_code == 404
    assert requests.get(f"{live_server.url}/clinic/999999/consents/ru/", timeout=10).status_code == 404


# --- booking, rescheduling, cancelling -------------------------------------------------------------


def _registered(app, bot, user, language="ru"):
    with app.app_context():
        return build_patient(telegram_user_id=user.user_id, language=language)


def _ics(sandbox, bot, user, after):
    document = sandbox.wait_for_bot_message(
        bot.token, user.chat_id, after_message_id=after, timeout=10, predicate=lambda m: "document" in m
    )
    assert document["document"]["file_name"].endswith(".ics")
    event = next(
        c for c in Calendar.from_ical(sandbox.download(bot.token, document["document"]["file_id"])).walk("VEVENT")
    )
    return document, event


def test_booking_through_prepayment_to_the_ics_ticket(app, sandbox, clinic_bot, tg_user):
    bot, ids = clinic_bot, clinic_bot.ids
    user = tg_user(bot, first_name="Erlan")
    _registered(app, bot, user)
    branches = say(sandbox, bot, user, "📅 Записаться")
    assert branches["text"] == "Выберите филиал:" and buttons(branches) == ["Восточный", "Центральный"]
    services = press_and_edit(sandbox, bot, user, branches, f"cl:bk:b:{ids.central_id}")
    assert services["text"] == "Выберите услугу:"
    assert buttons(services) == ["Консультация терапевта — 15 000 ₸ · 30 мин", "УЗИ — 20 000 ₸ · 60 мин", "⬅️ Назад"]
    doctors = press_and_edit(sandbox, bot, user, services, f"cl:bk:s:{ids.central_id}:{ids.consult_id}")
    assert doctors["text"] == "Выберите врача:" and buttons(doctors)[0] == "Ахметова Айгуль Сериковна — Терапевт"
    prefix = f"{ids.central_id}:{ids.consult_id}:{ids.doctor_id}"
    calendar = press_and_edit(sandbox, bot, user, doctors, f"cl:bk:d:{prefix}")
    assert calendar["text"] == "Выберите дату:" and buttons(calendar)[0] == "Январь 2030"
    days = inline_data(calendar)
    assert f"cl:bk:t:{prefix}:20300107" in days  # Monday
    assert f"cl:bk:t:{prefix}:20300109" not in days  # Wednesday: the doctor's day off
    assert f"cl:bk:t:{prefix}:20300106" not in days  # today, Sunday: no schedule
    month_is = lambda title: lambda m: buttons(m)[0] == title  # noqa: E731 - the text stays, the grid changes
    february = press_and_edit(sandbox, bot, user, calendar, f"cl:bk:m:{prefix}:203002", month_is("Февраль 2030"))
    assert f"cl:bk:t:{prefix}:20300201" in inline_data(february)  # a Friday
    calendar = press_and_edit(sandbox, bot, user, february, f"cl:bk:m:{prefix}:203001", month_is("Январь 2030"))
    times = press_and_edit(sandbox, bot, user, calendar, f"cl:bk:t:{prefix}:20300107")
    assert times["text"] == "Выберите удобное время (07.01.2030):"
    assert buttons(times)[:3] == ["09:00", "09:30", "10:00"] and "13:00" not in buttons(times)
    ten = int(at(MONDAY, 10).timestamp())
    confirm = press_and_edit(sandbox, bot, user, times, f"cl:bk:c:{prefix}:{ten}")
    assert confirm["text"] == (
        "Подтвердите запись:\n\n📍 Филиал: Центральный\n🏥 Услуга: Консультация терапевта\n"
        "👨\u200d⚕️ Врач: Ахметова Айгуль Сериковна\n🗓 Дата: 07.01.2030\n🕐 Время: 10:00\n💰 Стоимость: 15 000 ₸"
    )
    offer = press_and_wait(sandbox, bot, user, confirm, f"cl:bk:ok:{prefix}:{ten}")
    assert offer["text"].startswith("Запись #") and "5 000 ₸" in offer["text"]
    paid = press_and_wait(
        sandbox, bot, user, offer, inline_data(offer)[0], predicate=lambda m: "🎫" in m.get("text", "")
    )
    assert paid["text"].startswith("🎫 Талон #") and "Ахметова Айгуль Сериковна" in paid["text"]
    _document, event = _ics(sandbox, bot, user, paid["message_id"])
    assert event.decoded("dtstart") == datetime(2030, 1, 7, 5, 0, tzinfo=UTC)
    assert event.decoded("dtend") == datetime(2030, 1, 7, 5, 30, tzinfo=UTC)
    assert "Консультация терапевта" in str(event["summary"])
    done = sandbox.wait_for_bot_message(
        bot.token, user.chat_id, after_message_id=_document["message_id"], predicate=lambda m: "text" in m
    )
    assert done["text"].startswith("✅ Запись создана!") and buttons(done) == RU_MENU
    edited_offer = message_by_id(sandbox, bot, user, offer["message_id"], lambda m: "✅" in m["text"])
    assert edited_offer["text"] == "✅ Предоплата 5 000 ₸ получена."

    from webapp.clinic.models import Appointment, Invoice
    from webapp.extensions import db

    with app.app_context():  # the update committed before its replies went
        appointment = fresh(db.select(Appointment).filter_by(prepayment_status="paid"))
        assert appointment.status == "booked"
        assert db.session.scalar(db.select(Invoice)).status == "paid"


def test_my_appointments_reschedule_and_cancel_in_kazakh(app, sandbox, clinic_bot, tg_user):
    from webapp.clinic.models import Appointment, Branch, Doctor, Patient, Service
    from webapp.clinic.services.booking import book_appointment
    from webapp.extensions import db

    bot, ids = clinic_bot, clinic_bot.ids
    user = tg_user(bot, first_name="Aigerim", language_code="kk")
    patient = _registered(app, bot, user, language="kk")
    with app.app_context():
        appointment = book_appointment(
            db.session.get(Patient, patient.id),
            db.session.get(Doctor, ids.doctor_id),
            db.session.get(Service, ids.ultrasound_id),  # no prepayment: straight to the ticket
            db.session.get(Branch, ids.central_id),
            at(MONDAY, 10),
        )
        db.session.commit()
        key = appointment.id
    heading = say(sandbox, bot, user, "📋 Менің жазулартым")
    assert heading["text"] == "Сіздің жазуларыңыз:"
    card = sandbox.wait_for_bot_message(bot.token, user.chat_id, after_message_id=heading["message_id"])
    assert card["text"].startswith(f"📋 Жазу #{key}") and "07.01.2030 сағат 10:00" in card["text"]
    assert inline_data(card) == [f"cl:rs:go:{key}", f"cl:ca:ask:{key}", f"cl:doc:t:{key}"]

    calendar = press_and_edit(sandbox, bot, user, card, f"cl:rs:go:{key}")
    assert calendar["text"] == f"#{key} жазылу үшін жаңа күнді таңдаңыз:" and buttons(calendar)[0] == "Қаңтар 2030"
    times = press_and_edit(sandbox, bot, user, calendar, f"cl:rs:t:{key}:20300108")
    eleven = int(at(MONDAY.replace(day=8), 11).timestamp())
    moved = press_and_wait(sandbox, bot, user, times, f"cl:rs:ok:{key}:{eleven}")
    assert moved["text"].startswith(f"🎫 Талон #{key}")
    _document, event = _ics(sandbox, bot, user, moved["message_id"])
    assert event.decoded("dtstart") == datetime(2030, 1, 8, 6, 0, tzinfo=UTC)
    assert int(event["sequence"]) == 1
    done = sandbox.wait_for_bot_message(
        bot.token, user.chat_id, after_message_id=_document["message_id"], predicate=lambda m: "text" in m
    )
    assert done["text"].startswith("✅ Жазылу жасалды!") and buttons(done) == KK_MENU
    edited = message_by_id(sandbox, bot, user, times["message_id"], lambda m: m["text"].startswith("🔁"))
    assert edited["text"] == f"🔁 #{key} жазылу 08.01.2030 күні сағат 11:00-ге ауыстырылды."

    heading = say(sandbox, bot, user, "📋 Менің жазулартым")
    card = sandbox.wait_for_bot_message(bot.token, user.chat_id, after_message_id=heading["message_id"])
    ask = press_and_edit(sandbox, bot, user, card, f"cl:ca:ask:{key}")
    assert ask["text"].endswith("Бұл жазылудан бас тартасыз ба?")
    cancelled = press_and_edit(sandbox, bot, user, ask, f"cl:ca:ok:{key}")
    assert cancelled["text"].endswith("Жазу болдырылмады") and "Мәртебесі: Болдырылмады" in cancelled["text"]
    with app.app_context():
        assert fresh(db.select(Appointment).filter_by(id=key, status="cancelled"))
    assert say(sandbox, bot, user, "📋 Менің жазулартым")["text"] == "Сізде жазулар жоқ"


def test_unregistered_user_is_sent_to_registration(sandbox, clinic_bot, tg_user):
    bot = clinic_bot
    user = tg_user(bot)
    say(sandbox, bot, user, "/help")  # first contact is handled by the common handlers
    assert (
        say(sandbox, bot, user, "📅 Записаться")["text"] == "Вы не зарегистрированы. Используйте /start для регистрации"
    )


def test_language_command_switches_a_registered_patient_to_uzbek(app, sandbox, clinic_bot, tg_user):
    """/language offers four languages; choosing one switches the whole bot for a patient, not just the menu."""
    bot, user = clinic_bot, tg_user(clinic_bot, first_name="Erlan")
    _registered(app, bot, user)
    offer = say(sandbox, bot, user, "/language")
    assert buttons(offer) == ["Русский", "Қазақша", "Oʻzbekcha", "English"]
    menu = press_and_wait(sandbox, bot, user, offer, "lang:set:uz")
    assert buttons(menu) == UZ_MENU
    profile = say(sandbox, bot, user, "👤 Profil")
    assert profile["text"] == "👤 Жумабаев Ерлан\n📱 +77011234567\n🆔 IIN: —\n🌐 Til: Oʻzbekcha"

    from webapp.clinic.models import Patient
    from webapp.extensions import db

    with app.app_context():
        assert fresh(db.select(Patient).filter_by(language="uz"))


# --- the FAQ in the patient's language --------------------------------------------------------------


def _faq_world(app, bot, make_organization):
    """The bot's organization's own entry, the platform's entry written in every language, and another
    organization's entry (which this bot never shows)."""
    from webapp.clinic.models import Faq
    from webapp.extensions import db

    other = make_organization("Another clinic group")
    with app.app_context():
        db.session.execute(db.delete(Faq))  # only the entries this test writes
        texts = {lang: (f"{lang} own question", f"{lang} own answer") for lang in ("ru", "kk", "uz", "en")}
        own = {
            f"{part}_{lang}": pair[i] for lang, pair in texts.items() for i, part in enumerate(("question", "answer"))
        }
        db.session.add_all(
            [
                Faq(organization_id=bot.ids.organization_id, position=9, **own),
                Faq(
                    position=1,
                    question_ru="Как записаться?",
                    answer_ru="Кнопка «Записаться».",
                    question_uz="Qanday yozilsa boʻladi?",
                    answer_uz="«Qabulga yozilish» tugmasi.",
                    question_en="How do I book?",
                    answer_en="The «Book an appointment» button.",
                ),
                Faq(organization_id=other, question_ru="Чужой вопрос", answer_ru="Чужой ответ", position=0),
            ]
        )
        db.session.commit()


@pytest.mark.parametrize(
    "language,menu_label,title,platform",
    [
        (
            "uz",
            "❓ Qoʻllab-quvvatlash",
            "Koʻp soʻraladigan savollar",
            "❓ Qanday yozilsa boʻladi?\n«Qabulga yozilish» tugmasi.",
        ),
        ("en", "❓ Support", "Frequently asked questions", "❓ How do I book?\nThe «Book an appointment» button."),
    ],
)
def test_the_faq_speaks_the_patients_language_own_entries_first(
    app, sandbox, clinic_bot, tg_user, make_organization, language, menu_label, title, platform
):
    bot, user = clinic_bot, tg_user(clinic_bot, first_name="Dilshod", language_code=language)
    _faq_world(app, bot, make_organization)
    say(sandbox, bot, user, "/help")  # the first contact makes the Telegram account the patient joins
    from webapp.core.models import TelegramAccount
    from webapp.extensions import db

    with app.app_context():
        assert fresh(db.select(TelegramAccount).filter_by(telegram_user_id=user.user_id))
    _registered(app, bot, user, language=language)
    help_menu = say(sandbox, bot, user, menu_label)
    faq = press_and_wait(sandbox, bot, user, help_menu, "cl:sup:faq")
    own = f"❓ {language} own question\n{language} own answer"
    assert faq["text"] == f"{title}\n\n{own}\n\n{platform}"
    assert not CYRILLIC.search(faq["text"])  # nothing fell back to Russian, nothing of the other organization
