"""Every console page, in every language, as every demo role that may open it: no English leaks.

The pages come from the app's Flask-Admin instance and URL map (list, details and create of each
model view, every other console page without parameters), not from a hand-written list. A page
leaks when a visible text (a header, a label, a cell, a button) is
- a humanised attribute name (Flask-Admin's fallback for a missing label: ``Created At``),
- a raw enum value stored in a column (``no_show``, ``WAITING_RESPONSE``, ``admin``),
- an English message of one of our catalogs or of Flask-Admin's that this language translates.
"""

from __future__ import annotations

import re
from collections import defaultdict
from html.parser import HTMLParser
from pathlib import Path

import pytest
import sqlalchemy as sa
from babel.messages.pofile import read_po
from flask_admin.contrib.sqla import ModelView
from flask_admin.model.helpers import prettify_name

from tests.conftest import csrf_from

pytestmark = pytest.mark.slow

LANGUAGES = ("ru", "kk", "uz", "en")
ROLES = ("superuser", "admin", "moderator", "helper", "marketer", "doctor", "realtor")
PASSWORD = "botdesk-demo"
TRANSLATIONS = Path(__file__).resolve().parents[2] / "translations"
SKIPPED_ENDPOINTS = {"console.login", "console.logout", "admin.static", "static"}
DETAIL_LINK = re.compile(r'href="([^"]*/details/\?[^"]*id=[^"&]+[^"]*)"')
# Words that are the same in the language as in English (proper names, codes, units).
SAME_EVERYWHERE = {"Telegram", "Telegram id", "ID", "Email", "E-mail", "NPS", "OSMS", "IIN", "CSV", "PDF", "OK"}


class Texts(HTMLParser):
    """The visible texts of a page (and its placeholders/titles), with the tag each sits in."""

    HIDDEN = {"script", "style", "template", "noscript"}

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.stack: list[str] = []
        self.found: list[tuple[str, str]] = []

    def handle_starttag(self, tag, attrs):
        for name, value in attrs:
            if name in ("placeholder", "title", "aria-label", "data-original-title") and value:
                self.found.append((f"{tag}@{name}", value.strip()))
        if tag not in ("br", "img", "input", "meta", "link", "hr", "col", "source"):
            self.stack.append(tag)

    def handle_endtag(self, tag):
        if tag in self.stack:
            while self.stack and self.stack.pop() != tag:
                pass

    def handle_data(self, data):
        text = " ".join(data.split())
        if text and not (set(self.stack) & self.HIDDEN):
            self.found.append((self.stack[-1] if self.stack else "", text))


def page_texts(html: str) -> list[tuple[str, str]]:
    parser = Texts()
    parser.feed(html)
    return parser.found


def catalog_messages(language: str) -> set[str]:
    """English msgids this language translates to something else (short, word-like ones)."""
    found = set()
    for path in (TRANSLATIONS / language / "LC_MESSAGES").glob("*.po"):
        with path.open("rb") as fh:
            for message in read_po(fh, locale=language):
                msgid = message.id[0] if isinstance(message.id, tuple) else message.id
                string = message.string[0] if isinstance(message.string, (list, tuple)) else message.string
                if msgid and string and string != msgid and "%(" not in msgid and re.search("[A-Za-z]{2}", msgid):
                    found.add(msgid)
    if language in ("ru",):
        from flask_admin import translations

        with open(Path(translations.__path__[0]) / language / "LC_MESSAGES" / "admin.po", "rb") as fh:
            found |= {m.id for m in read_po(fh) if isinstance(m.id, str) and m.id and m.string and m.string != m.id}
    return found - SAME_EVERYWHERE


def enum_values(app) -> set[str]:
    from webapp.extensions import db

    values = set()
    with app.app_context():
        for table in db.metadata.sorted_tables:
            for column in table.columns:
                if isinstance(column.type, sa.Enum):
                    values |= {v for v in column.type.enums if re.search("[a-z_]{2}", v, re.I)}
    return values


def attribute_names(app) -> set[str]:
    """Flask-Admin's humanised fallback label of every model attribute and view column."""
    from webapp.extensions import db

    names = set()
    with app.app_context():
        for mapper in db.Model.registry.mappers:
            names |= {prettify_name(prop.key) for prop in mapper.attrs}
        for view in app.extensions["botdesk_admin"]._views:
            if isinstance(view, ModelView):
                for group in (view.column_list, view.column_details_list, view.form_columns):
                    names |= {prettify_name(str(c)) for c in group or () if isinstance(c, str)}
    return {name for name in names if len(name) > 2} - SAME_EVERYWHERE


def console_pages(app) -> list[str]:
    """Each model view's list and create page, and every other console page without parameters."""
    admin = app.extensions["botdesk_admin"]
    pages, covered = [], set()
    with app.test_request_context():
        from flask import url_for

        for view in admin._views:
            if isinstance(view, ModelView):
                pages.append(url_for(f"{view.endpoint}.index_view"))
                if view.can_create:
                    pages.append(url_for(f"{view.endpoint}.create_view"))
                covered.add(view.endpoint)
        for rule in app.url_map.iter_rules():
            blueprint = rule.endpoint.rsplit(".", 1)[0]
            if (
                rule.rule.startswith("/admin")
                and "GET" in rule.methods
                and not rule.arguments
                and rule.endpoint not in SKIPPED_ENDPOINTS
                and blueprint not in covered
                and "export" not in rule.rule
            ):
                pages.append(rule.rule)
    return sorted(set(pages))


def login(client, username: str, language: str) -> None:
    page = client.get("/admin/login")
    response = client.post(
        "/admin/login", data={"login": username, "password": PASSWORD, "csrf_token": csrf_from(page.text)}
    )
    assert response.status_code == 302, response.text
    home = client.get("/admin/")
    response = client.post(
        "/admin/language", data={"language": language, "next": "/admin/", "csrf_token": csrf_from(home.text)}
    )
    assert response.status_code == 302


def data_names(app) -> set[str]:
    """Names in the demo's data, not in the interface: the demo doctor's first name is "Doctor",
    the demo clinic bot is called "clinic"."""
    from webapp.core.models import User
    from webapp.extensions import db
    from webapp.telegram.models import Bot

    with app.app_context():
        rows = db.session.execute(db.select(User.username, User.first_name, User.last_name)).all()
        bots = db.session.scalars(db.select(Bot.name)).all()
    return {name for row in rows for name in row if name} | set(bots)


def translations(language: str) -> set[str]:
    """Every text this language's catalogs give (a word may be the same as in English: "Token")."""
    found = set()
    for path in (TRANSLATIONS / language / "LC_MESSAGES").glob("*.po"):
        with path.open("rb") as fh:
            for message in read_po(fh, locale=language):
                strings = message.string if isinstance(message.string, (list, tuple)) else [message.string]
                found |= {s for s in strings if s}
    return found


def leaks(html: str, language: str, words: dict[str, set[str]]) -> list[str]:
    found = []
    for tag, text in page_texts(html):
        if text in words["data"] or text in words["translated"]:
            continue
        if text in words["attributes"]:
            found.append(f"attribute name {text!r} in <{tag}>")
        elif text in words["enums"]:
            found.append(f"raw value {text!r} in <{tag}>")
        elif text in words["messages"]:
            found.append(f"English {text!r} in <{tag}>")
    return found


@pytest.fixture
def demo(app):
    from webapp.demo import seed_demo
    from webapp.extensions import db

    with app.app_context():
        list(seed_demo())
        db.session.commit()


def visit(client, url: str):
    response = client.get(url)
    return response.status_code, response.get_data(as_text=True)


@pytest.mark.parametrize("language", LANGUAGES)
def test_no_english_leaks_on_any_console_page(app, demo, language):
    words = {
        "attributes": attribute_names(app),
        "enums": enum_values(app),
        "messages": catalog_messages(language),
        "data": data_names(app),
        "translated": translations(language),
    }
    pages = console_pages(app)
    problems: dict[str, set[str]] = defaultdict(set)
    seen: dict[str, set[str]] = defaultdict(set)
    for role in ROLES:
        client = app.test_client()
        login(client, role, language)
        queue = list(pages)
        while queue:
            url = queue.pop(0)
            status, html = visit(client, url)
            assert status < 500, f"{url} as {role} in {language}: {status}"
            if status != 200:
                continue
            seen[url].add(role)
            for problem in leaks(html, language, words):
                problems[url].add(problem)
            if url.endswith("/") and "/details/" not in url and "/new/" not in url:
                match = DETAIL_LINK.search(html)
                if match:
                    queue.append(match.group(1).replace("&amp;", "&"))
    unseen = [url for url in pages if not seen[url]]
    assert not unseen, f"no demo role could open: {unseen}"
    report = "\n".join(f"{url}: {'; '.join(sorted(found))}" for url, found in sorted(problems.items()))
    assert not problems, f"English leaks in {language}:\n{report}"
