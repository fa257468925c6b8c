"""The clinic bot's words: English msgids of the "clinic" catalog, shown in Russian, Kazakh, Uzbek or English.

The main menu, welcome and registration prompts reproduce seed 002's RU/KK texts exactly.
"""

from __future__ import annotations

from datetime import date

from webapp.clinic.services.common import CLINIC_LANGUAGES, t
from webapp.core.i18n import LANGUAGE_NAMES as PLATFORM_LANGUAGE_NAMES

# Seed 002's main menu, in its order.
MENU_BOOK = "📅 Book an appointment"
MENU_MY = "📋 My appointments"
MENU_DOCUMENTS = "📄 Documents"
MENU_PAYMENTS = "💳 Payments"
MENU_PROFILE = "👤 Profile"
MENU_SUPPORT = "❓ Support"
MENU = (MENU_BOOK, MENU_MY, MENU_DOCUMENTS, MENU_PAYMENTS, MENU_PROFILE, MENU_SUPPORT)

WELCOME = "Welcome to the clinic!\n\nI will help you book an appointment, get your documents and much more."

# Asked before the user has a language, so in all of them.
WELCOME_CHOOSE_LANGUAGE = "Выберите язык · Тілді таңдаңыз · Tilni tanlang · Choose your language"
BACK = "⬅️ Back"
SKIP = "➡️ Skip"
SHARE_PHONE = "📱 Send phone number"
IIN_CORRECT = "✅ Yes, correct"
IIN_WRONG = "✏️ No, enter the IIN again"
MALE = "👨 Male"
FEMALE = "👩 Female"

MONTHS = (
    "January",
    "February",
    "March",
    "April",
    "May",
    "June",
    "July",
    "August",
    "September",
    "October",
    "November",
    "December",
)
WEEKDAYS = ("Mo", "Tu", "We", "Th", "Fr", "Sa", "Su")
# Every language the bot offers (the first-contact keyboard offers the platform's four) is complete.
LANGUAGE_NAMES = {code: PLATFORM_LANGUAGE_NAMES[code] for code in CLINIC_LANGUAGES}

# Messages kept in tables rather than literal t(...) calls, for the catalog completeness check.
ALL_MESSAGES = (*MENU, WELCOME, BACK, SKIP, SHARE_PHONE, IIN_CORRECT, IIN_WRONG, MALE, FEMALE, *MONTHS, *WEEKDAYS)


def month_title(language: str, day: date) -> str:
    return f"{t(language, MONTHS[day.month - 1])} {day.year}"


def labels(message: str) -> set[str]:
    """A button's text in every language the clinic speaks (to recognise a pressed reply button)."""
    return {t(language, message) for language in CLINIC_LANGUAGES}
