"""An organization's staff see the console of the verticals their organization runs, not empty pages
of the others: a clinic's admin has no Finance menu, a finance service's admin no Clinic menu."""

from __future__ import annotations

import itertools
import re

import pytest

from webapp.extensions import db

pytestmark = pytest.mark.embedded

_tokens = itertools.count(1)


def _menu(html: str) -> set[str]:
    """The navbar's dropdown categories."""
    toggles = re.findall(r'class="dropdown-toggle nav-link"[^>]*>(.*?)<i class="glyphicon', html, re.S)
    return {re.sub(r"<!--.*?-->|<[^>]+>", "", toggle, flags=re.S).strip() for toggle in toggles}


@pytest.fixture
def organizations(app, make_organization):
    """A clinic, a finance service and an organization being set up (running nothing yet)."""
    from webapp.clinic.models import Clinic
    from webapp.telegram.models import Bot
    from webapp.telegram.tokens import set_bot_token

    clinic_org = make_organization("Menu clinic")
    finance_org = make_organization("Menu finance service")
    new_org = make_organization("Menu newcomer")
    with app.app_context():
        db.session.add(Clinic(name="Menu clinic", organization_id=clinic_org))
        bot = Bot(name="Menu finance bot", vertical="finance", organization_id=finance_org)
        set_bot_token(bot, f"{880000 + next(_tokens)}:menu-finance-token-abcdefghijkl")
        db.session.add(bot)
        db.session.commit()
    return {"clinic": clinic_org, "finance": finance_org, "new": new_org}


def _signed_in(app, console_login, user):
    client = app.test_client()
    console_login(client, user)
    return client


def test_clinic_admin_sees_no_finance_and_finance_admin_no_clinic(app, make_user, console_login, organizations):
    clinic_admin = make_user("admin", organization=organizations["clinic"], language="en")
    finance_admin = make_user("admin", organization=organizations["finance"], language="en")

    clinic_client = _signed_in(app, console_login, clinic_admin)
    clinic_menu = _menu(clinic_client.get("/admin/").text)
    assert "Clinic" in clinic_menu
    assert not clinic_menu & {"Finance", "Realty", "Helpdesk"}
    # Hidden is also closed: the address of another vertical's page is refused, not an empty page.
    assert clinic_client.get("/admin/finance_transactions/").status_code == 403
    assert clinic_client.get("/admin/finance_dashboard/").status_code == 403

    finance_client = _signed_in(app, console_login, finance_admin)
    finance_menu = _menu(finance_client.get("/admin/").text)
    assert "Finance" in finance_menu
    assert not finance_menu & {"Clinic", "Realty", "Helpdesk"}
    assert finance_client.get("/admin/clinic_dashboard/").status_code == 403
    assert finance_client.get("/admin/finance_transactions/").status_code == 200


def test_home_cards_follow_the_verticals(app, make_user, console_login, organizations):
    finance_admin = make_user("admin", organization=organizations["finance"], language="en")
    home = _signed_in(app, console_login, finance_admin).get("/admin/").text
    assert "Finance: expenses this month" in home
    for other in ("Clinic: appointments today", "Realty: bookings to confirm", "Open tickets"):
        assert other not in home


def test_an_organization_being_set_up_and_the_platform_see_every_vertical(app, make_user, console_login, organizations):
    newcomer_admin = make_user("admin", organization=organizations["new"], language="en")
    superuser = make_user("superuser", language="en")
    for user in (newcomer_admin, superuser):
        menu = _menu(_signed_in(app, console_login, user).get("/admin/").text)
        assert {"Clinic", "Finance", "Realty", "Helpdesk"} <= menu, (user.role, menu)
