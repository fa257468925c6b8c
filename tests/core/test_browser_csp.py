"""The console under its Content-Security-Policy in headless Chromium: every page's scripts still run,
the list actions, delete confirmations, filters, inline forms and the language switch still work,
and the browser reports no CSP violation anywhere.

Needs Debian's chromium and the ``playwright`` package; skipped without them.
"""

from __future__ import annotations

from tests.fixtures.browser import needs_chromium

pytestmark = needs_chromium


class Watched:
    """A page that records every CSP violation (console message or securitypolicyviolation event)."""

    def __init__(self, browser, base_url: str) -> None:
        self.base_url = base_url
        self.violations: list[str] = []
        self.page = browser.new_page()
        self.page.set_default_timeout(20_000)
        self.page.on("console", self._console)
        self.page.add_init_script(
            "document.addEventListener('securitypolicyviolation', e => "
            "console.error('CSP-VIOLATION ' + e.violatedDirective + ' ' + e.blockedURI));"
        )

    def _console(self, message) -> None:
        text = message.text
        if "Content Security Policy" in text or "CSP-VIOLATION" in text:
            self.violations.append(f"{self.page.url}: {text}")

    def goto(self, path: str) -> None:
        response = self.page.goto(self.base_url + path)
        assert response.status < 400, (path, response.status)
        self.page.wait_for_load_state("load")

    def login(self, user) -> None:
        self.goto("/admin/login")
        self.page.fill("input[name=login]", user.username)
        self.page.fill("input[name=password]", user.password)
        self.page.click("button[type=submit]")
        self.page.wait_for_url("**/admin/**")


def listing_status(app, listing_id: int) -> str:
    from webapp.extensions import db
    from webapp.realty.models import Listing

    with app.app_context():
        return db.session.get(Listing, listing_id).status


def add_faq(app, question: str) -> None:
    from webapp.clinic.models import Faq
    from webapp.extensions import db

    with app.app_context():
        db.session.add(Faq(question_ru=question, answer_ru="Answer"))
        db.session.commit()


def test_console_works_under_the_csp(app, live_server, browser, make_user, realty, sandbox_bot_ns):
    agency = realty.agency("Alpha")
    listing = realty.listing(agency, realty.realtor(agency), status="pending", title="Queue flat")
    add_faq(app, "Deletable")
    watched = Watched(browser, live_server.url)
    page = watched.page
    watched.login(make_user("superuser", language="en"))

    # List actions ("With selected" → Approve, with its confirmation) run from console.js.
    watched.goto("/admin/realty_listings/")
    page.check(f"input.action-checkbox[value='{listing.id}']")
    page.click("text=With selected")
    page.once("dialog", lambda dialog: dialog.accept())
    page.click("a[data-fa-action='approve']")
    page.wait_for_selector(".alert-success")
    assert listing_status(app, listing.id) == "approved"

    # Filters are added by Flask-Admin's own script without following the placeholder link. The
    # alert is drawn before the page's scripts have run: on a busy machine the dropdown is not wired yet.
    page.wait_for_load_state("load")
    page.click("text=Add Filter")
    page.wait_for_selector("a.filter >> nth=0", state="visible")
    page.click("a.filter >> nth=0")
    page.wait_for_selector(".filters tr, #filter_form .filter-op, .filter-op")

    # A refused delete confirmation keeps the row.
    watched.goto("/admin/clinic_faq/")
    page.once("dialog", lambda dialog: dialog.dismiss())
    page.locator("tr:has-text('Deletable') button[data-confirm]").click()
    assert "Deletable" in page.content()

    # Inline forms (a doctor's weekly schedule) grow from the "Add" button.
    watched.goto("/admin/clinic_doctors/new/")
    page.click("[data-fa-inline-add='schedules']")
    page.wait_for_selector("#schedules-0-weekday")

    # The language switch submits itself.
    page.select_option("select[name=language]", "ru")
    page.wait_for_selector("text=Выйти")

    pages = (
        "/admin/",
        "/admin/broadcasts/",
        "/admin/broadcasts/new",
        "/admin/helpdesk/",
        "/admin/helpdesk/statistics",
        "/admin/realty_dashboard/",
        "/admin/realty_calendar/",
        "/admin/clinic_dashboard/",
        "/admin/clinic_day/",
        "/admin/clinic_doctors/",
        "/api/docs",
        "/apidoc/swagger/",  # the packaged bundle, from our origin
        "/apidoc/redoc/",
    )
    for path in pages:
        watched.goto(path)

    # The sandbox chat page builds itself from its script.
    watched.goto("/sandbox")
    page.wait_for_function(
        "name => [...document.querySelectorAll('#bot-select option')].some(o => o.textContent.includes(name))",
        arg=sandbox_bot_ns.username,
    )

    assert watched.violations == []
