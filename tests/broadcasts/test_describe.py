"""A filter definition in words (``webapp.broadcasts.describe``): every filter the segment service
supports, enum codes as words, in ru, kk, uz and en."""

from __future__ import annotations

import pytest
from flask_babel import force_locale

from webapp.broadcasts.describe import PARTS, describe_filters, describe_parts
from webapp.broadcasts.services.segments import SegmentFilters

# One value for every filter of SegmentFilters, each with what its part says in English.
EVERY_FILTER = {
    "language": (["ru", "kk"], "Language: Russian, Kazakh"),
    "last_seen_from": ("2026-03-01", None),
    "last_seen_to": ("2026-03-31", "Last active: Mar 1, 2026 – Mar 31, 2026"),
    "registered_from": ("2025-01-10", "Registered: from Jan 10, 2025"),
    "has_not_blocked": (True, "Has not blocked the bot"),
    "age_min": (25, None),
    "age_max": (40, "Age 25–40"),
    "sex": ("F", "Sex: Female"),
    "services": ([7, 8], "Used the services: Consultation, #8"),
    "tags": (["diabetes"], "Has tag: diabetes"),
    "osms_status": ("not_insured", "Insurance (OSMS): Not insured"),
    "last_visit_to": ("2026-02-01", "Last visit: until Feb 1, 2026"),
    "min_visits": (3, "At least 3 visits"),
    "cities": (["Almaty", "Astana"], "Booked in: Almaty, Astana"),
    "roles": (["marketer"], "Role: Marketer"),
    "active_days": (1, "Recorded something in the last 1 day"),
}
SERVICE_NAMES = {7: "Consultation"}


def test_every_filter_of_the_segment_service_has_a_describer():
    described = [name for fields, _describer in PARTS for name in fields]
    assert sorted(described) == sorted(SegmentFilters.model_fields)
    assert len(described) == len(set(described))


def test_every_filter_kind_in_english(app_ctx):
    filters = {name: value for name, (value, _words) in EVERY_FILTER.items()}
    SegmentFilters.model_validate(filters)  # the sample is a definition the service accepts
    with force_locale("en"):
        parts = describe_parts(filters, SERVICE_NAMES)
    assert parts == [words for _value, words in EVERY_FILTER.values() if words]


@pytest.mark.parametrize(
    ("language", "expected"),
    [
        ("en", "Language: Russian · Age 25–40 · Has tag: diabetes"),
        ("ru", "Язык: русский · Возраст 25–40 · Есть метка: diabetes"),
        ("kk", "Тілі: орыс тілі · Жасы 25–40 · Белгісі бар: diabetes"),
        ("uz", "Til: rus tili · Yoshi 25–40 · Belgisi bor: diabetes"),
    ],
)
def test_the_issue_example_in_each_language(app_ctx, language, expected):
    with force_locale(language):
        assert describe_filters({"language": ["ru"], "age_min": 25, "age_max": 40, "tags": ["diabetes"]}) == expected


@pytest.mark.parametrize(
    ("filters", "expected"),
    [
        ({"sex": "M", "osms_status": "insured"}, "Пол: Мужской · Страховка (ОСМС): Застрахован"),
        ({"age_min": 60}, "Возраст от 60"),
        ({"age_max": 17}, "Возраст до 17"),
        ({"min_visits": 2}, "Не менее 2 визитов"),
        ({"active_days": 21}, "Вносили записи за последний 21 день"),
        ({"tags": ["a", "b"]}, "Есть все метки: a, b"),
        ({"roles": ["user", "realtor"]}, "Роль: Клиент, Риелтор"),
        (
            {"last_seen_from": "2026-03-01", "last_seen_to": "2026-03-31"},
            "Последняя активность: 1 мар. 2026\u202fг. – 31 мар. 2026\u202fг.",
        ),
        ({}, "Все, кто может получать сообщения бота"),
    ],
)
def test_codes_become_words_in_russian(app_ctx, filters, expected):
    with force_locale("ru"):
        assert describe_filters(filters) == expected


def test_no_field_name_or_code_shows(app_ctx):
    filters = {name: value for name, (value, _words) in EVERY_FILTER.items()}
    for language in ("ru", "kk", "uz", "en"):
        with force_locale(language):
            text = describe_filters(filters, SERVICE_NAMES)
        codes = [name for name in SegmentFilters.model_fields if "_" in name] + ["not_insured", "marketer"]
        if language != "en":  # English words may be field names ("services"), other languages' not
            codes += list(SegmentFilters.model_fields)
        for code in codes:
            assert code not in text, (language, code)
