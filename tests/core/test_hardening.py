"""Console hardening, tried as an attacker would: framing, sniffing, leaking referrers, plain-HTTP
session cookies, formula cells in CSV exports, and Werkzeug's English error pages."""

from __future__ import annotations

import csv
import io

import pytest

from config import GENERATED_SECRETS, load_config

HTML_PAGES = ("/admin/login", "/sandbox", "/api/docs", "/admin/no-such-page")


@pytest.mark.parametrize("path", (*HTML_PAGES, "/api/openapi.json", "/api/v1/no-such-route"))
def test_every_response_refuses_framing_and_sniffing(client, path):
    response = client.get(path)
    policy = response.headers.get("Content-Security-Policy", "")
    assert "frame-ancestors 'none'" in policy, (path, policy)
    assert "default-src 'self'" in policy and "object-src 'none'" in policy
    assert response.headers.get("X-Content-Type-Options") == "nosniff"
    assert response.headers.get("Referrer-Policy") == "strict-origin-when-cross-origin"
    assert response.headers.get("X-Frame-Options") == "DENY"


def test_scripts_run_only_from_our_origin_or_with_the_page_nonce(client):
    page = client.get("/admin/login")
    policy = page.headers["Content-Security-Policy"]
    script_src = next(part for part in policy.split(";") if part.strip().startswith("script-src"))
    assert "'unsafe-inline'" not in script_src and "'unsafe-eval'" not in script_src
    assert "'nonce-" in script_src
    # The nonce changes per response: a page cannot be replayed with an injected script.
    assert policy != client.get("/admin/login").headers["Content-Security-Policy"]


def test_swagger_ui_gets_the_assets_it_needs_and_nothing_else(client):
    page = client.get("/apidoc/swagger/")
    assert page.status_code == 200
    policy = page.headers["Content-Security-Policy"]
    assert "worker-src 'self' blob:" in policy and "frame-ancestors 'none'" in policy
    assert "unpkg" not in policy
    assert "worker-src" not in client.get("/admin/login").headers["Content-Security-Policy"]


def _config(tmp_path, **env):
    secrets = {name: f"test-{name.lower()}-value-0123456789abcdef" for name in GENERATED_SECRETS}
    secrets["TOKEN_ENCRYPTION_KEY"] = "kXq0gX2mJcV8bY1d9lH8M4W0kz2P3Yc0xQd2Z9vM1nE="
    return load_config({"BOTDESK_INSTANCE_DIR": str(tmp_path), **secrets, **env})


def test_session_cookie_is_secure_outside_embedded_mode(tmp_path):
    assert _config(tmp_path)["SESSION_COOKIE_SECURE"] is False  # embedded default: plain http://localhost
    served = _config(tmp_path, DATABASE_URL="postgresql://u:p@db/botdesk", REDIS_URL="redis://redis:6379/0")
    assert served["SESSION_COOKIE_SECURE"] is True
    assert served["REMEMBER_COOKIE_SECURE"] is True
    forced_off = _config(tmp_path, DATABASE_URL="postgresql://u:p@db/botdesk", SESSION_COOKIE_SECURE="0")
    assert forced_off["SESSION_COOKIE_SECURE"] is False


# --- CSV exports -----------------------------------------------------------------------------------

FORMULA = '=HYPERLINK("http://x","y")'


def _rows(response) -> list[list[str]]:
    assert response.status_code == 200, response.status_code
    return list(csv.reader(io.StringIO(response.get_data(as_text=True))))


def _cells(response) -> list[str]:
    return [cell for row in _rows(response)[1:] for cell in row]


def test_listing_title_formula_is_neutralised(client, console_login, realty, make_user):
    agency = realty.agency("Alpha")
    realty.listing(agency, realty.realtor(agency), title=FORMULA)
    console_login(client, make_user("superuser"))
    cells = _cells(client.get("/admin/realty_listings/export/csv/"))
    assert "'" + FORMULA in cells
    assert not any(cell.startswith(("=", "+", "-", "@", "\t", "\r")) for cell in cells)


def test_user_name_formula_is_neutralised(client, console_login, make_user):
    make_user("helper", first_name="+cmd|' /C calc'!A0", last_name="@SUM(A1)")
    console_login(client, make_user("superuser"))
    cells = _cells(client.get("/admin/users/export/csv/"))
    assert "'+cmd|' /C calc'!A0" in cells and "'@SUM(A1)" in cells


def test_transaction_description_formula_is_neutralised(app, client, console_login, make_user, fin_user, load_user):
    from datetime import UTC, datetime

    from webapp.extensions import db
    from webapp.finance.services import ledger

    with app.app_context():
        ledger.add_transaction(
            load_user(fin_user),
            "expense",
            "100",
            category="food",
            description="-2+3+cmd|' /C calc'!A0",
            occurred_at=datetime(2026, 5, 1, tzinfo=UTC),
        )
        db.session.commit()
    console_login(client, make_user("superuser"))
    cells = _cells(client.get("/admin/finance_transactions/export/csv/"))
    assert "'-2+3+cmd|' /C calc'!A0" in cells
    assert "100.00" in cells  # plain numbers stay numbers


def test_helpdesk_export_has_plain_neutralised_titles(client, console_login, make_user, hd_ticket):
    hd_ticket(make_user("user"), title="=1+1 <b>bold</b> & co")
    console_login(client, make_user("superuser"))
    rows = _rows(client.get("/admin/helpdesk_tickets/export/csv/"))
    titles = [row[0] for row in rows[1:]]
    assert titles == ["'=1+1 <b>bold</b> & co"]  # the customer's own text, not our link markup
    assert not any("<a " in cell for row in rows for cell in row)


# --- error pages -----------------------------------------------------------------------------------

NOT_FOUND = {"ru": "Страница не найдена", "kk": "Бет табылмады", "uz": "Sahifa topilmadi", "en": "Page not found"}
FORBIDDEN = {"ru": "Доступ запрещён", "kk": "Қол жеткізу жабық", "uz": "Kirish taqiqlangan", "en": "Access denied"}


@pytest.mark.parametrize("language", sorted(NOT_FOUND))
def test_not_found_page_is_translated_and_styled(client, language):
    response = client.get("/admin/no-such-page/", headers={"Accept-Language": language})
    assert response.status_code == 404
    assert NOT_FOUND[language] in response.text and "Not Found" not in response.text
    assert "bootstrap" in response.text  # the console's own stylesheet, not Werkzeug's bare page


@pytest.mark.parametrize("language", sorted(FORBIDDEN))
def test_forbidden_console_page_is_translated_and_styled(client, console_login, make_user, language):
    console_login(client, make_user("helper", language=language))
    response = client.get("/admin/finance_transactions/")
    assert response.status_code == 403
    assert FORBIDDEN[language] in response.text and "Forbidden" not in response.text
    assert "navbar" in response.text and 'href="/admin/"' in response.text  # the console's menu


def test_json_apis_keep_their_json_errors(client):
    missing = client.get("/api/v1/no-such-route")
    assert missing.status_code == 404 and missing.json["error"]["code"] == "NOT_FOUND"
