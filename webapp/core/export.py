"""CSV cells a spreadsheet shows as text and never runs: the one rule every export uses."""

from __future__ import annotations

import csv
import re
from collections.abc import Iterable
from decimal import Decimal
from typing import Any

from markupsafe import Markup

# A spreadsheet runs a cell that starts with one of these as a formula (=HYPERLINK, DDE "+cmd|…").
FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")
PLAIN_NUMBER = re.compile(r"[+-]?\d+(?:[.,]\d+)?")


def safe_cell(value: Any) -> Any:
    """One CSV cell as inert text: markup from list formatters becomes its text, and a value that
    would start a formula gets a leading apostrophe. Numbers (-5, -12.50) stay numbers: a spreadsheet
    reads them as values, and an apostrophe would turn every refund into text."""
    if value is None or isinstance(value, bool):
        return value
    if isinstance(value, (int, float, Decimal)):
        return value
    if isinstance(value, Markup):
        value = value.striptags()
    text = str(value)
    if text.startswith(FORMULA_STARTS) and not PLAIN_NUMBER.fullmatch(text):
        return "'" + text
    return text


class SafeWriter:
    """``csv.writer`` whose rows go through ``safe_cell``."""

    def __init__(self, stream, **kwargs) -> None:
        self._writer = csv.writer(stream, **kwargs)

    def writerow(self, row: Iterable[Any]):
        return self._writer.writerow([safe_cell(cell) for cell in row])


def safe_writer(stream, **kwargs) -> SafeWriter:
    return SafeWriter(stream, **kwargs)
