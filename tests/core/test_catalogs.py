"""The catalog check CI runs (scripts/compile_translations.py --check): complete today, and it names
a missing, an empty and a fuzzy translation when one appears."""

from __future__ import annotations

import importlib.util
import shutil
from pathlib import Path

from babel.messages.pofile import read_po, write_po

ROOT = Path(__file__).resolve().parents[2]
spec = importlib.util.spec_from_file_location("compile_translations", ROOT / "scripts" / "compile_translations.py")
compile_translations = importlib.util.module_from_spec(spec)
spec.loader.exec_module(compile_translations)


def test_every_catalog_translates_every_message():
    assert compile_translations.check_catalogs() == []


def test_flask_admin_strings_are_required_in_kazakh_and_uzbek():
    wanted = compile_translations.expected_messages()["admin"]
    assert {"List", "Create", "Save", "Search", "Add Filter"} <= set(wanted)


def test_a_gap_in_a_copy_of_the_catalogs_is_reported(tmp_path):
    root = tmp_path / "translations"
    shutil.copytree(ROOT / "translations", root, ignore=shutil.ignore_patterns("*.mo"))
    path = root / "kk" / "LC_MESSAGES" / "clinic.po"
    with path.open("rb") as fh:
        catalog = read_po(fh, locale="kk")
    del catalog["Day schedule"]  # used by the clinic's console code
    catalog["Doctor"].string = ""
    catalog["Patient"].flags.add("fuzzy")
    with path.open("wb") as fh:
        write_po(fh, catalog)

    problems = compile_translations.check_catalogs(root)

    missing = "translations/kk/LC_MESSAGES/clinic.po: no entry for 'Day schedule' (webapp/"
    assert any(line.startswith(missing) for line in problems)
    assert "translations/kk/LC_MESSAGES/clinic.po: empty translation of 'Doctor'" in problems
    assert "translations/kk/LC_MESSAGES/clinic.po: fuzzy 'Patient'" in problems
    assert len(problems) == 3


def test_uzbek_apostrophes_other_than_the_two_letters_are_reported(tmp_path):
    root = tmp_path / "translations"
    shutil.copytree(ROOT / "translations", root, ignore=shutil.ignore_patterns("*.mo"))
    path = root / "uz" / "LC_MESSAGES" / "clinic.po"
    with path.open("rb") as fh:
        catalog = read_po(fh, locale="uz")
    catalog["Payments"].string = "To'lovlar"
    with path.open("wb") as fh:
        write_po(fh, catalog)

    assert compile_translations.check_catalogs(root) == [
        "translations/uz/LC_MESSAGES/clinic.po: write oʻ, gʻ with ʻ and other apostrophes with ʼ in 'Payments'"
    ]
