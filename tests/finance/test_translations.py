"""Every finance text has a Russian and an Uzbek translation with the same placeholders."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from babel.messages.extract import extract_from_dir
from babel.messages.pofile import read_po

ROOT = Path(__file__).resolve().parents[2]
KEYWORDS = {"_": None, "t": None, "for_language": (2,), "lazy_gettext": None, "_l": None}
SOURCES = (
    ("webapp/finance", [("**.py", "python")]),
    ("botworker/finance", [("**.py", "python")]),
    ("webapp/templates/finance", [("**.html", "jinja2")]),
)
PLACEHOLDER = re.compile(r"%\((\w+)\)s")


def finance_message_ids() -> list[str]:
    ids: list[str] = []
    for folder, method_map in SOURCES:
        for _file, _line, message, _comments, _context in extract_from_dir(
            str(ROOT / folder), method_map=method_map, keywords=KEYWORDS
        ):
            message = message[0] if isinstance(message, tuple) else message
            if message and message not in ids:
                ids.append(message)
    return ids


def test_the_sources_have_texts():
    ids = finance_message_ids()
    assert "Is it an expense or an income?" in ids and "Finance dashboard" in ids
    assert "Expenses by category, %(month)s" in ids  # from the dashboard template


@pytest.mark.parametrize("language", ["ru", "uz"])
def test_every_text_is_translated(language):
    with (ROOT / f"translations/{language}/LC_MESSAGES/finance.po").open("rb") as fh:
        catalog = read_po(fh, locale=language)
    missing, broken = [], []
    for message_id in finance_message_ids():
        entry = catalog.get(message_id)
        if entry is None or not entry.string or entry.fuzzy:
            missing.append(message_id)
        elif set(PLACEHOLDER.findall(message_id)) != set(PLACEHOLDER.findall(entry.string)):
            broken.append(message_id)
    assert missing == [] and broken == []
