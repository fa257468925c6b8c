"""A segment's filter definition in words, in the reader's language: "Language: Russian · Age 25–40".

The console shows this wherever a segment or a broadcast's audience appears (segment list, compose,
broadcast page) instead of the stored JSON. ``PARTS`` has one describer per filter of
``segments.SegmentFilters``; a range's two ends are one part ("Age 25–40", "Last visit: 1 Mar 2026 –
31 Mar 2026"). Codes (languages, sex, insurance, roles) become words; dates follow the reader's locale.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from datetime import date
from typing import Any

from flask_babel import format_date

from webapp.admin import words
from webapp.core.i18n import Catalog

catalog = Catalog("broadcasts")
_ = catalog.gettext
_l = catalog.lazy_gettext
SEPARATOR = " · "

# "… language" msgids: the bare names (the navigation bar's "English") must not read as untranslated.
LANGUAGE_WORDS = {
    "ru": _l("Russian language"),
    "kk": _l("Kazakh language"),
    "uz": _l("Uzbek language"),
    "en": _l("English language"),
}


def _day(value: Any) -> str:
    try:
        day = value if isinstance(value, date) else date.fromisoformat(str(value))
    except ValueError:
        return str(value)
    return format_date(day, "medium")


def _listed(values: Any) -> str:
    return ", ".join(str(v) for v in (values if isinstance(values, list) else [values]))


def _between(label: str, start: Any, end: Any) -> str:
    if start and end:
        return _("%(label)s: %(start)s – %(end)s", label=label, start=_day(start), end=_day(end))
    if start:
        return _("%(label)s: from %(start)s", label=label, start=_day(start))
    return _("%(label)s: until %(end)s", label=label, end=_day(end))


def _language(f: Mapping) -> str:
    names = [str(LANGUAGE_WORDS.get(code, code)) for code in _as_list(f["language"])]
    return _("Language: %(names)s", names=", ".join(names))


def _age(f: Mapping) -> str:
    low, high = f.get("age_min"), f.get("age_max")
    if low is not None and high is not None:
        return _("Age %(low)s–%(high)s", low=low, high=high)
    if low is not None:
        return _("Age %(low)s or older", low=low)
    return _("Age %(high)s or younger", high=high)


def _sex(f: Mapping) -> str:
    return _("Sex: %(sex)s", sex=words.word(str(f["sex"]).upper(), "clinic_sex"))


def _services(f: Mapping, names: Mapping[int, str]) -> str:
    listed = [names.get(int(s), f"#{s}") if str(s).isdigit() else str(s) for s in _as_list(f["services"])]
    return catalog.ngettext(
        "Used the service: %(names)s", "Used the services: %(names)s", len(listed), names=", ".join(listed)
    )


def _tags(f: Mapping) -> str:
    tags = _as_list(f["tags"])
    return catalog.ngettext("Has tag: %(tags)s", "Has all tags: %(tags)s", len(tags), tags=_listed(tags))


def _osms(f: Mapping) -> str:
    return _("Insurance (OSMS): %(status)s", status=words.word(f["osms_status"], "clinic_osms_status"))


def _min_visits(f: Mapping) -> str:
    count = f["min_visits"]
    return catalog.ngettext("At least %(num)s visit", "At least %(num)s visits", int(count))


def _cities(f: Mapping) -> str:
    return _("Booked in: %(cities)s", cities=_listed(_as_list(f["cities"])))


def _roles(f: Mapping) -> str:
    return _("Role: %(roles)s", roles=", ".join(str(words.word(r, "user_role")) for r in _as_list(f["roles"])))


def _active_days(f: Mapping) -> str:
    days = f["active_days"]
    return catalog.ngettext(
        "Recorded something in the last %(num)s day",
        "Recorded something in the last %(num)s days",
        int(days),
    )


def _as_list(value: Any) -> list:
    return value if isinstance(value, list) else [value]


def _range(label, low: str, high: str) -> Callable[[Mapping], str]:
    return lambda f: _between(str(label), f.get(low), f.get(high))


# (the fields a part describes, how). Every field of SegmentFilters is in exactly one part.
PARTS: tuple[tuple[tuple[str, ...], Callable[..., str]], ...] = (
    (("language",), _language),
    (("last_seen_from", "last_seen_to"), _range(_l("Last active"), "last_seen_from", "last_seen_to")),
    (("registered_from", "registered_to"), _range(_l("Registered"), "registered_from", "registered_to")),
    (("has_not_blocked",), lambda f: _("Has not blocked the bot")),
    (("age_min", "age_max"), _age),
    (("sex",), _sex),
    (("services",), _services),
    (("tags",), _tags),
    (("osms_status",), _osms),
    (("last_visit_from", "last_visit_to"), _range(_l("Last visit"), "last_visit_from", "last_visit_to")),
    (("min_visits",), _min_visits),
    (("cities",), _cities),
    (("roles",), _roles),
    (("active_days",), _active_days),
)


def describe_parts(filters: Mapping[str, Any] | None, service_names: Mapping[int, str] | None = None) -> list[str]:
    """One phrase per filter that is set, in ``PARTS`` order."""
    filters = {k: v for k, v in (filters or {}).items() if v not in (None, "", [], False)}
    parts = []
    for fields, describer in PARTS:
        if not any(name in filters for name in fields):
            continue
        if describer is _services:
            parts.append(_services(filters, service_names or {}))
        else:
            parts.append(describer(filters))
    return parts


def describe_filters(filters: Mapping[str, Any] | None, service_names: Mapping[int, str] | None = None) -> str:
    """The whole definition as one line; no filters: everyone the bot can reach."""
    parts = describe_parts(filters, service_names)
    return SEPARATOR.join(parts) if parts else _("Everyone who can receive the bot's messages")
