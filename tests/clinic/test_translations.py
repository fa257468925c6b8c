"""Every clinic text has its Russian, Kazakh, Uzbek and English translation (the bot offers all four),
and the seed's texts are reproduced exactly."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from babel.messages.extract import extract_from_file
from babel.messages.pofile import read_po

from botworker.clinic import booking as bot_booking
from botworker.clinic import registration, texts
from webapp.clinic.services.consents import CONSENT_DOCUMENTS
from webapp.clinic.services.documents import TITLES
from webapp.clinic.services.iin import REASONS
from webapp.clinic.services.reminders import REMINDER_TEXTS
from webapp.clinic.services.render import STATUS_LABELS

ROOT = Path(__file__).resolve().parents[2]


def used_messages() -> set[str]:
    found = set()
    for base in ("webapp/clinic", "botworker/clinic"):
        for path in (ROOT / base).rglob("*.py"):
            keywords = {"t": (2,), "tr": None, "_l": None, "gettext": None}
            for _line, message, _comments, _context in extract_from_file("python", str(path), keywords=keywords):
                found.add(message[0] if isinstance(message, tuple) else message)
    for path in (ROOT / "webapp" / "templates" / "clinic").glob("*.html"):
        found |= set(re.findall(r"t\('([^']+)'", path.read_text()))
    tables = (REASONS, REMINDER_TEXTS, STATUS_LABELS, TITLES, registration.CONSENT_LABELS, registration.QUESTIONS)
    for table in (*tables, registration.BIRTH_DATE_REASONS, bot_booking.REFUSALS):
        found |= set(table.values())
    found |= set(texts.ALL_MESSAGES) | {registration.CONSENTS_TEXT, registration.IIN_CONFIRM_TEXT}
    found |= {message for document in CONSENT_DOCUMENTS.values() for message in document}
    return {m for m in found if m}


@pytest.mark.parametrize("language", ["ru", "kk", "uz", "en"])
def test_every_message_is_translated(language):
    with (ROOT / "translations" / language / "LC_MESSAGES" / "clinic.po").open("rb") as fh:
        catalog = read_po(fh, locale=language)
    translated = {m.id for m in catalog if m.id and m.string and not m.fuzzy}
    assert sorted(used_messages() - translated) == []


@pytest.mark.parametrize(
    "language,welcome,menu",
    [
        (
            "ru",
            "Добро пожаловать в клинику!\n\nЯ помогу вам записаться на приём, получить документы и многое другое.",
            ["📅 Записаться", "📋 Мои записи", "📄 Документы", "💳 Оплата", "👤 Профиль", "❓ Поддержка"],
        ),
        (
            "kk",
            "Клиникаға қош келдіңіз!\n\nМен сізге қабылдауға жазылуға, құжаттарды алуға және т.б. көмектесемін.",
            ["📅 Жазылу", "📋 Менің жазулартым", "📄 Құжаттар", "💳 Төлемдер", "👤 Профиль", "❓ Көмек"],
        ),
    ],
)
def test_seed_texts_exactly(app_ctx, language, welcome, menu):
    from webapp.clinic.services.common import t

    assert t(language, texts.WELCOME) == welcome
    assert [t(language, label) for label in texts.MENU] == menu


@pytest.mark.parametrize("language", ["ru", "kk", "uz", "en"])
def test_menu_labels_are_not_the_common_buttons(app_ctx, language):
    """The common handlers answer their buttons first: a clinic menu label equal to one of them (the
    Uzbek "❓ Yordam" once was both Support and Help) would never reach its clinic handler."""
    from botworker.common import help_button, language_button
    from webapp.clinic.services.common import t

    menu = {t(language, label) for label in texts.MENU}
    assert not menu & {help_button(language), language_button(language)}
