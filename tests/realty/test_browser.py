"""Realty console flows in headless Chromium: a moderator reading Kazakh approves one listing and
rejects another with a reason; a realtor reading Uzbek adds a listing with a photo from disk.

Screenshots go to ``screenshots/`` (git-ignored) for a person to look at.
"""

from __future__ import annotations

from tests.fixtures.browser import SCREENSHOTS, needs_chromium, sign_in
from tests.realty.test_console_listings import png_bytes

pytestmark = needs_chromium


def listing(app, listing_id):
    from webapp.extensions import db
    from webapp.realty.models import Listing

    with app.app_context():
        return db.session.get(Listing, listing_id)


def test_moderator_approves_and_rejects_in_kazakh(app, live_server, realty, make_user, browser_page):
    agency = realty.agency("Qala Homes")
    realtor = realty.realtor(agency)
    good = realty.listing(agency, realtor, status="pending", title="Жарық пәтер", amenities=("balcony", "wifi"))
    bad = realty.listing(agency, realtor, status="pending", title="Күмәнді пәтер")
    moderator = make_user("moderator", language="kk")
    page = browser_page
    page.set_viewport_size({"width": 1280, "height": 900})
    SCREENSHOTS.mkdir(exist_ok=True)
    sign_in(page, live_server.url, moderator)

    page.goto(f"{live_server.url}/admin/realty_moderation/")
    page.screenshot(path=str(SCREENSHOTS / "moderation-kk-queue.png"), full_page=True)
    page.click(f"a[href*='/admin/realty_moderation/details/?id={good.id}']")
    page.wait_for_selector("#listing-approve")
    assert "Балкон" in page.inner_text("#listing-amenities")
    page.screenshot(path=str(SCREENSHOTS / "moderation-kk-listing.png"), full_page=True)
    page.click("#listing-approve")
    page.wait_for_selector(".alert-success")
    assert page.query_selector("#listing-approve") is None  # approved: nothing left to moderate
    page.screenshot(path=str(SCREENSHOTS / "moderation-kk-approved.png"), full_page=True)

    page.goto(f"{live_server.url}/admin/realty_moderation/details/?id={bad.id}")
    page.fill("#listing-reason", "Фотосуреттер жоқ, мекенжай толық емес")
    page.click("#listing-reject")
    page.wait_for_selector("#listing-rejection")
    page.screenshot(path=str(SCREENSHOTS / "moderation-kk-rejected.png"), full_page=True)

    approved, rejected = listing(app, good.id), listing(app, bad.id)
    assert (approved.status, approved.moderated_by_id) == ("approved", moderator.id)
    assert (rejected.status, rejected.rejection_reason) == ("rejected", "Фотосуреттер жоқ, мекенжай толық емес")


def test_realtor_adds_a_listing_with_a_photo_in_uzbek(app, live_server, realty, browser_page):
    from webapp.extensions import db
    from webapp.realty.models import Listing

    agency = realty.agency("Shahar Uylari")
    realtor = realty.realtor(agency, language="uz")
    page = browser_page
    page.set_viewport_size({"width": 1280, "height": 900})
    SCREENSHOTS.mkdir(exist_ok=True)
    sign_in(page, live_server.url, realtor)

    page.goto(f"{live_server.url}/admin/realty_listings/")
    page.click("a[href*='/admin/realty_listings/new/']")
    page.fill("#f-title", "Chilonzordagi shinam kvartira")
    page.fill("#f-city", "Toshkent")
    page.fill("#f-district", "Chilonzor")
    page.fill("#f-price", "350000")
    page.fill("#f-guests", "3")
    page.fill("#f-description", "Ikki xonali, balkonli, metroga yaqin.")
    page.check("#f-amenity-wifi")
    page.check("#f-amenity-balcony")
    page.set_input_files("#f-photos", {"name": "xona.png", "mimeType": "image/png", "buffer": png_bytes()})
    page.screenshot(path=str(SCREENSHOTS / "realtor-uz-form.png"), full_page=True)
    page.click("#listing-save")
    page.wait_for_selector("#listing-photos img")
    page.wait_for_function("() => document.querySelector('#listing-photos img').naturalWidth > 0")
    page.screenshot(path=str(SCREENSHOTS / "realtor-uz-listing.png"), full_page=True)

    with app.app_context():
        row = db.session.scalar(db.select(Listing).where(Listing.title == "Chilonzordagi shinam kvartira"))
        assert (row.status, row.agency_id, row.realtor_id, row.city) == ("pending", agency.id, realtor.id, "Toshkent")
        assert row.amenities == ["balcony", "wifi"] and len(row.photos) == 1
