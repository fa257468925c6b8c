"""Compile every translations/<lang>/LC_MESSAGES/<domain>.po into its .mo (run at install/test time).

Usage: python scripts/compile_translations.py [--check]

--check also extracts the messages from the code, per gettext domain (see DOMAINS), and exits 1
when a catalog of a supported language lacks one of them, leaves it empty or marks it fuzzy, or a
.po is missing. Each problem is printed on stderr (CI discards stdout).
"""

from __future__ import annotations

import os
import re
import sys
from collections.abc import Iterator
from pathlib import Path

from babel.messages.mofile import write_mo
from babel.messages.pofile import read_po

BASE = Path(__file__).resolve().parents[1]
ROOT = BASE / "translations"
LANGUAGES = ("ru", "kk", "uz", "en")

# Which sources feed which catalog: a vertical's code, bot handlers and templates share its domain.
# "messages" is the default domain of the shared console (babel.cfg); "admin" holds Flask-Admin's own
# strings in the languages Flask-Admin ships no catalog for (its templates are the source).
DOMAINS: dict[str, tuple[str, ...]] = {
    "messages": (
        "webapp/*.py",
        "webapp/core/**/*.py",
        "webapp/admin/**/*.py",
        "webapp/telegram/**/*.py",
        "webapp/jobs/**/*.py",
        "webapp/templates/admin/**/*.html",
        "webapp/templates/console/**/*.html",
    ),
    "bot": ("botworker/*.py",),
    "clinic": ("webapp/clinic/**/*.py", "botworker/clinic/**/*.py", "webapp/templates/clinic/**/*.html"),
    "realty": ("webapp/realty/**/*.py", "botworker/realty/**/*.py", "webapp/templates/realty/**/*.html"),
    "finance": ("webapp/finance/**/*.py", "botworker/finance/**/*.py", "webapp/templates/finance/**/*.html"),
    "helpdesk": ("webapp/helpdesk/**/*.py", "botworker/helpdesk/**/*.py", "webapp/templates/helpdesk/**/*.html"),
    "broadcasts": ("webapp/broadcasts/**/*.py", "webapp/templates/broadcasts/**/*.html"),
    "reports": ("webapp/reports/**/*.py", "botworker/reports/**/*.py"),
    "sandbox": ("webapp/sandbox/**/*.py", "webapp/templates/sandbox/**/*.html"),
}
# Flask-Admin's strings our console shows: its Bootstrap 4 templates and the model views' Python.
ADMIN_SOURCES = (
    "templates/bootstrap4/admin/*.html",
    "templates/bootstrap4/admin/model/**/*.html",
    "model/*.py",
    "contrib/sqla/*.py",
    "base.py",
    "actions.py",
    "form/*.py",
)
ADMIN_LANGUAGES = ("kk", "uz")  # ru and en come with Flask-Admin
# Uzbek Latin: ʻ (U+02BB) in oʻ/gʻ, ʼ (U+02BC) for the tutuq belgisi; never ' ` ‘ ’ inside a word.
UZ_APOSTROPHE = re.compile(r"[^\W\d_]['`‘’][^\W\d_]|[^\W\d_oOgG]ʻ|[oOgG]ʼ")

# Translation functions: the message is their first string argument, or for these, which take the
# language or the user first — t(language, msg), catalog.for_language(language, msg) — the second.
KEYWORDS = (
    "_", "_l", "N_", "t", "tr", "gettext", "lazy_gettext", "_gettext",
    "ngettext", "lazy_ngettext", "_ngettext", "for_language",
)  # fmt: skip
LANGUAGE_FIRST = {"t", "tr", "for_language"}
# Flask-Admin's template functions: its "admin" domain even in our overrides of its templates.
ADMIN_ONLY = {"_gettext", "_ngettext"}
JINJA_OPTIONS = {"extensions": "jinja2.ext.do,jinja2.ext.loopcontrols", "trimmed": "false"}


def sources(base: Path, patterns: tuple[str, ...]) -> Iterator[Path]:
    seen: set[Path] = set()
    for pattern in patterns:
        for path in sorted(base.glob(pattern)):
            if path not in seen and path.is_file():
                seen.add(path)
                yield path


def calls(path: Path) -> Iterator[tuple[int, str, tuple]]:
    """(line, function, arguments) of each translation call; an argument that is no literal is None."""
    from babel.messages.extract import extract_python
    from jinja2.ext import babel_extract

    with path.open("rb") as fh:
        if path.suffix == ".html":
            found = babel_extract(fh, KEYWORDS, [], JINJA_OPTIONS)
        else:
            found = extract_python(fh, KEYWORDS, [], {})
        for lineno, funcname, arguments, _comments in found:
            yield lineno, funcname, arguments if isinstance(arguments, tuple) else (arguments,)


def extract(base: Path, patterns: tuple[str, ...], skip: set[str] = ADMIN_ONLY) -> dict[str, tuple[str, int]]:
    """msgid -> where it was first seen; a plural message contributes its singular."""
    found: dict[str, tuple[str, int]] = {}
    for path in sources(base, patterns):
        for lineno, funcname, arguments in calls(path):
            if funcname in skip:
                continue
            msgid = arguments[0] if arguments else None
            if msgid is None and funcname in LANGUAGE_FIRST and len(arguments) > 1:
                msgid = arguments[1]
            if isinstance(msgid, str) and msgid:
                found.setdefault(msgid, (str(path.relative_to(base)), lineno))
    return found


def expected_messages(root: Path = ROOT) -> dict[str, dict[str, tuple[str, int]]]:
    import flask_admin

    wanted = {domain: extract(BASE, patterns) for domain, patterns in DOMAINS.items()}
    wanted["admin"] = extract(Path(flask_admin.__file__).parent, ADMIN_SOURCES, skip=set())
    # Texts kept in constants or built at run time are not extracted: a message one language has,
    # every language needs.
    for domain, found in wanted.items():
        for language in ADMIN_LANGUAGES if domain == "admin" else LANGUAGES:
            po_path = root / language / "LC_MESSAGES" / f"{domain}.po"
            if po_path.exists():
                shown = str(po_path.relative_to(root.parent))
                for message in load(po_path):
                    if message.id:
                        msgid = message.id[0] if isinstance(message.id, tuple) else message.id
                        found.setdefault(msgid, (shown, message.lineno))
    return wanted


def load(po_path: Path):
    with po_path.open("rb") as fh:
        return read_po(fh, locale=po_path.parts[-3])


def untranslated(message) -> bool:
    strings = message.string if isinstance(message.string, (list, tuple)) else [message.string]
    return not all(strings)


def check_catalogs(root: Path = ROOT) -> list[str]:
    """Every problem of the catalogs under ``root``, one line each (empty: all complete)."""
    problems: list[str] = []
    for domain, wanted in expected_messages(root).items():
        for language in ADMIN_LANGUAGES if domain == "admin" else LANGUAGES:
            po_path = root / language / "LC_MESSAGES" / f"{domain}.po"
            shown = po_path.relative_to(root.parent)
            if not po_path.exists():
                problems.append(f"{shown}: missing ({len(wanted)} messages to translate)")
                continue
            catalog = load(po_path)
            for msgid, (source, lineno) in sorted(wanted.items()):
                message = catalog.get(msgid)
                if message is None:
                    problems.append(f"{shown}: no entry for {msgid!r} ({source}:{lineno})")
                elif message.fuzzy:
                    problems.append(f"{shown}: fuzzy {msgid!r}")
                elif untranslated(message):
                    problems.append(f"{shown}: empty translation of {msgid!r}")
    for po_path in sorted(root.glob("*/LC_MESSAGES/*.po")):
        fuzzy = [m.id for m in load(po_path) if m.id and m.fuzzy]
        problems.extend(f"{po_path.relative_to(root.parent)}: fuzzy {msgid!r}" for msgid in fuzzy)
    for po_path in sorted(root.glob("uz/LC_MESSAGES/*.po")):
        for message in load(po_path):
            strings = message.string if isinstance(message.string, (list, tuple)) else [message.string]
            if message.id and any(UZ_APOSTROPHE.search(text or "") for text in strings):
                shown = po_path.relative_to(root.parent)
                problems.append(f"{shown}: write oʻ, gʻ with ʻ and other apostrophes with ʼ in {message.id!r}")
    return sorted(set(problems))


def compile_all() -> None:
    for po_path in sorted(ROOT.glob("*/LC_MESSAGES/*.po")):
        catalog = load(po_path)
        mo_path = po_path.with_suffix(".mo")
        # Atomically: a test session running beside this one (CI runs two) may be reading the catalog.
        partial = mo_path.with_suffix(f".mo.{os.getpid()}")
        with partial.open("wb") as fh:
            write_mo(fh, catalog, use_fuzzy=False)
        partial.replace(mo_path)
        print(f"compiled {po_path.relative_to(BASE)}")


def main(argv: list[str]) -> int:
    compile_all()
    if "--check" not in argv:
        return 0
    problems = check_catalogs()
    for problem in problems:
        print(problem, file=sys.stderr)
    print(f"{len(problems)} translation problem(s)", file=sys.stderr)
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
