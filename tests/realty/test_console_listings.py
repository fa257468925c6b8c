"""The console's listing page (words, photos, the agency's clock, Approve / Reject with a reason),
realtors' create and edit with photo upload, agency admins adding realtors, and who may do which."""

from __future__ import annotations

import io
from datetime import UTC, datetime
from pathlib import Path

import pytest

from tests.conftest import csrf_from

FIXED = datetime(2026, 3, 9, 4, 5, 59, 123456, tzinfo=UTC)  # 09:05 in Tashkent


def png_bytes(colour=(200, 40, 40)) -> bytes:
    from PIL import Image

    out = io.BytesIO()
    Image.new("RGB", (8, 6), colour).save(out, format="PNG")
    return out.getvalue()


def listing_row(app, listing_id):
    from webapp.extensions import db
    from webapp.realty.models import Listing

    with app.app_context():
        row = db.session.get(Listing, listing_id)
        return None if row is None else (row.status, row.rejection_reason, row.title, list(row.photos))


def set_fields(app, listing_id, **fields):
    from webapp.extensions import db
    from webapp.realty.models import Listing

    with app.app_context():
        row = db.session.get(Listing, listing_id)
        for name, value in fields.items():
            setattr(row, name, value)
        db.session.commit()


def in_english(app, *users) -> None:
    """The world's staff read Russian by default; these tests read the English msgids."""
    from webapp.core.models import User
    from webapp.extensions import db

    with app.app_context():
        db.session.execute(db.update(User).where(User.id.in_([u.id for u in users])).values(language="en"))
        db.session.commit()


def form_of(listing=None, **changes) -> dict:
    values = {
        "title": "Sunny flat",
        "city": "tashkent",
        "district": "Chilanzar",
        "address": "Bunyodkor 1",
        "price_per_night": "450000",
        "max_guests": "3",
        "description": "Two rooms, a balcony.",
        "amenities": ["wifi", "balcony"],
    }
    return {**values, **changes}


def post_form(client, url, data, files=()):
    page = client.get(url)
    payload = {**data, "csrf_token": csrf_from(page.text)}
    if files:
        payload["photos"] = [(io.BytesIO(content), name) for name, content in files]
    return client.post(url, data=payload, content_type="multipart/form-data", follow_redirects=True)


# --- the listing page ------------------------------------------------------------------------------


def test_listing_page_shows_words_photos_money_and_the_agency_clock(app, client, console_login, realty, make_user):
    agency = realty.agency("Clock Homes", timezone="Asia/Tashkent", currency="KZT")
    realtor = realty.realtor(agency)
    listing = realty.listing(agency, realtor, status="pending", title="Clock flat", amenities=("balcony", "wifi"))
    set_fields(
        app,
        listing.id,
        created_at=FIXED,
        photos=["https://cdn.example.test/a.jpg", "AgACAgIAAxkBAAfile"],
        price_per_night="25000.00",
    )
    console_login(client, make_user("moderator", language="en"))
    page = client.get(f"/admin/realty_listings/details/?id={listing.id}")
    assert page.status_code == 200
    text = page.text
    assert "Balcony, Wi-Fi" in text and "ListingAmenity" not in text
    assert "2026-03-09 09:05 Asia/Tashkent" in text and ".123456" not in text
    assert ">True<" not in text and 'id="listing-active">Yes<' in text
    assert "KZT" in text and "25,000" in text
    assert 'src="https://cdn.example.test/a.jpg"' in text and "Photo in Telegram" in text
    assert 'id="listing-approve"' in text and 'name="reason"' in text and "required" in text
    assert 'id="listing-edit"' not in text  # a moderator reads and moderates, never edits


@pytest.mark.parametrize("language,word", [("ru", "Балкон"), ("kk", "Балкон"), ("uz", "Balkon")])
def test_listing_page_speaks_the_readers_language(client, console_login, realty, make_user, language, word):
    agency = realty.agency()
    listing = realty.listing(agency, realty.realtor(agency), amenities=("balcony",))
    console_login(client, make_user("moderator", language=language))
    assert word in client.get(f"/admin/realty_moderation/details/?id={listing.id}").text


def test_moderator_approves_and_rejects_with_a_reason(app, client, console_login, realty, realty_world):
    from webapp.extensions import db
    from webapp.realty.models import Notification

    w = realty_world
    in_english(app, w.moderator, w.realtor_a)
    first = realty.listing(w.b, w.realtor_b, status="pending", title="To approve")
    second = realty.listing(w.a, w.realtor_a, status="pending", title="To reject")
    console_login(client, w.moderator)  # every agency's listings
    page = client.get(f"/admin/realty_moderation/details/?id={first.id}")
    token = csrf_from(page.text)
    done = client.post(f"/admin/realty_moderation/{first.id}/approve/", data={"csrf_token": token})
    assert done.status_code == 302 and listing_row(app, first.id)[0] == "approved"
    reject, approve = f"/admin/realty_moderation/{second.id}/reject/", f"/admin/realty_moderation/{first.id}/approve/"
    empty = client.post(reject, data={"csrf_token": token, "reason": "  "}, follow_redirects=True)
    assert empty.status_code == 200 and "Give a reason for the rejection" in empty.text
    assert listing_row(app, second.id)[:2] == ("pending", None)
    client.post(reject, data={"csrf_token": token, "reason": "Blurry photos"})
    assert listing_row(app, second.id)[:2] == ("rejected", "Blurry photos")
    again = client.post(approve, data={"csrf_token": token}, follow_redirects=True)
    assert "no longer awaiting moderation" in again.text
    with app.app_context():
        texts = db.session.scalars(db.select(Notification.text).where(Notification.user_id == w.realtor_a.id)).all()
    assert any("Blurry photos" in text for text in texts)
    # The realtor reads the reason on their listing's page.
    realtor = app.test_client()
    console_login(realtor, w.realtor_a)
    assert "Blurry photos" in realtor.get(f"/admin/realty_listings/details/?id={second.id}").text


def test_agency_staff_cannot_moderate_and_posts_need_the_token(app, client, console_login, realty, realty_world):
    w = realty_world
    in_english(app, w.admin_a)
    pending = realty.listing(w.a, w.realtor_a, status="pending")
    console_login(client, w.admin_a)
    page = client.get(f"/admin/realty_listings/details/?id={pending.id}")
    assert 'id="listing-approve"' not in page.text
    url, token = f"/admin/realty_listings/{pending.id}/approve/", csrf_from(page.text)
    refused = client.post(url, data={"csrf_token": token}, follow_redirects=True)
    assert refused.status_code == 200 and "You do not have permission" in refused.text
    assert listing_row(app, pending.id)[0] == "pending"
    moderator = app.test_client()
    console_login(moderator, w.moderator)
    assert moderator.post(f"/admin/realty_moderation/{pending.id}/approve/").status_code == 400
    assert listing_row(app, pending.id)[0] == "pending"


# --- create and edit -------------------------------------------------------------------------------


def test_realtor_creates_a_listing_with_a_photo(app, client, console_login, realty, realty_world):
    from webapp.extensions import db
    from webapp.realty.models import Listing
    from webapp.realty.services.photos import URL_PREFIX

    w = realty_world
    in_english(app, w.realtor_a)
    console_login(client, w.realtor_a)
    assert 'href="/admin/realty_listings/new/' in client.get("/admin/realty_listings/").text
    done = post_form(client, "/admin/realty_listings/new/", form_of(), files=[("flat.png", png_bytes())])
    assert done.status_code == 200 and "sent to moderation" in done.text
    with app.app_context():
        row = db.session.scalar(db.select(Listing).where(Listing.title == "Sunny flat"))
        assert (row.status, row.agency_id, row.realtor_id, row.city) == ("pending", w.a.id, w.realtor_a.id, "Tashkent")
        assert row.amenities == ["balcony", "wifi"] and len(row.photos) == 1
        url = row.photos[0]
        stored = Path(app.config["UPLOAD_DIR"]) / "realty" / "photos" / url.removeprefix(URL_PREFIX)
    assert url.startswith(URL_PREFIX) and stored.read_bytes() == png_bytes()
    served = app.test_client().get(url)  # no login: the random key is the credential
    assert served.status_code == 200 and served.mimetype == "image/png" and served.data == png_bytes()
    assert served.headers["X-Content-Type-Options"] == "nosniff"
    assert f'src="{url}"' in done.text
    assert app.test_client().get(URL_PREFIX + "ab/" + "0" * 32).status_code == 404
    assert app.test_client().get(URL_PREFIX + "..%2F..%2Fetc/passwd").status_code == 404


@pytest.mark.parametrize(
    "name,content,message",
    [
        ("notes.png", b"just some text, not a picture", "Upload a PNG, JPEG or WebP picture"),
        ("broken.png", png_bytes()[:40], "This picture cannot be read"),
        ("empty.png", b"", "The file is empty"),
        ("anim.gif", b"GIF89a" + b"\0" * 40, "Upload a PNG, JPEG or WebP picture"),
    ],
)
def test_bad_upload_is_refused_clearly(app, client, console_login, realty_world, name, content, message):
    from webapp.extensions import db
    from webapp.realty.models import Listing

    in_english(app, realty_world.realtor_a)
    console_login(client, realty_world.realtor_a)
    answer = post_form(client, "/admin/realty_listings/new/", form_of(title="Bad upload"), files=[(name, content)])
    assert answer.status_code == 200
    with app.app_context():
        created = db.session.scalar(db.select(Listing).where(Listing.title == "Bad upload"))
    assert message in answer.text and created is None
    assert 'value="Bad upload"' in answer.text  # the form keeps what was typed


def test_too_large_a_photo_is_refused(app, client, console_login, realty_world, monkeypatch):
    from webapp.realty.services import photos

    monkeypatch.setattr(photos, "MAX_PHOTO_BYTES", 50)
    in_english(app, realty_world.realtor_a)
    console_login(client, realty_world.realtor_a)
    answer = post_form(client, "/admin/realty_listings/new/", form_of(title="Huge"), files=[("big.png", png_bytes())])
    assert "at most 5 MB" in answer.text


def test_bad_fields_are_refused_without_a_500(app, client, console_login, realty_world):
    in_english(app, realty_world.realtor_a)
    console_login(client, realty_world.realtor_a)
    for change, message in (
        ({"price_per_night": "lots"}, "Enter a price as a number"),
        ({"max_guests": "99"}, "Guests must be between 1 and 50"),
        ({"title": "x" * 201}, "At most 200 characters"),
        ({"title": ""}, "This field is required"),
    ):
        answer = post_form(client, "/admin/realty_listings/new/", form_of(**change))
        assert answer.status_code == 200 and message in answer.text


def test_edit_of_a_moderated_field_sends_an_approved_listing_back(app, client, console_login, realty, realty_world):
    w = realty_world
    in_english(app, w.realtor_a, w.admin_a)
    console_login(client, w.realtor_a)
    url = f"/admin/realty_listings/edit/?id={w.listing_a.id}"
    form = {**form_of(title="Alpha flat"), "max_guests": "4"}
    post_form(client, url, form)
    assert listing_row(app, w.listing_a.id)[0] == "pending"  # city, price, text changed
    set_fields(app, w.listing_a.id, status="approved")
    post_form(client, url, {**form, "max_guests": "5"})  # capacity is not moderated
    assert listing_row(app, w.listing_a.id)[0] == "approved"
    admin = app.test_client()
    console_login(admin, w.admin_a)  # the same rule for the agency's admin
    done = post_form(admin, url, {**form, "title": "Alpha flat, renovated"}, files=[("new.png", png_bytes())])
    status, _, title, pictures = listing_row(app, w.listing_a.id)
    assert (status, title, len(pictures)) == ("pending", "Alpha flat, renovated", 1)
    assert "back in moderation" in done.text
    post_form(admin, url, {**form, "title": "Alpha flat, renovated", "remove_photo": pictures[0]})
    assert listing_row(app, w.listing_a.id)[3] == []


def test_nobody_edits_outside_their_reach(app, client, console_login, realty, realty_world):
    w = realty_world
    in_english(app, w.realtor_a, w.admin_a, w.moderator)
    colleague = realty.realtor(w.a)
    theirs = realty.listing(w.a, colleague, title="Colleague flat")
    for user, listing in ((w.realtor_a, w.listing_b), (w.admin_a, w.listing_b), (w.realtor_a, theirs)):
        c = app.test_client()
        console_login(c, user)
        url = f"/admin/realty_listings/edit/?id={listing.id}"
        page = c.get(url, follow_redirects=True)
        assert "Listing not found" in page.text and listing.title not in page.text
        c.post(url, data={**form_of(title="Hijacked"), "csrf_token": csrf_from(page.text)})
        assert listing_row(app, listing.id)[2] == listing.title
        details = c.get(f"/admin/realty_listings/details/?id={listing.id}", follow_redirects=True)
        assert "Listing not found" in details.text
    moderator = app.test_client()
    console_login(moderator, w.moderator)
    assert "permission" in moderator.get("/admin/realty_listings/new/", follow_redirects=True).text


# --- realtors --------------------------------------------------------------------------------------


def member_of(app, username):
    from webapp.core.models import Membership, User
    from webapp.extensions import db

    with app.app_context():
        user = db.session.scalar(db.select(User).where(User.username == username))
        if user is None:
            return None
        member = db.session.get(Membership, user.id)
        return user.role, user.first_name, user.phone, member.organization_id if member else None


def test_agency_admin_adds_a_realtor_to_their_own_agency(app, client, console_login, realty_world):
    w = realty_world
    in_english(app, w.admin_a)
    console_login(client, w.admin_a)
    form = {"username": "aziza", "first_name": "Aziza", "phone": "+998 90 765 43 21", "password": "long-enough-1"}
    done = post_form(client, "/admin/realty_realtors/new/", {**form, "agency_id": str(w.b.id), "role": "admin"})
    assert done.status_code == 200 and "Aziza" in done.text
    assert member_of(app, "aziza") == ("realtor", "Aziza", "+998907654321", w.a.organization_id)
    again = post_form(client, "/admin/realty_realtors/new/", {**form, "phone": ""})
    assert "This username is taken" in again.text
    short = post_form(client, "/admin/realty_realtors/new/", {**form, "username": "bek", "password": "short"})
    assert "At least 8 characters" in short.text and member_of(app, "bek") is None


def test_realtors_cannot_add_realtors(app, client, console_login, realty_world):
    console_login(client, realty_world.realtor_a)
    assert client.get("/admin/realty_realtors/new/").status_code == 403
    assert client.post("/admin/realty_realtors/new/", data={"username": "x"}).status_code in (400, 403)
    assert member_of(app, "x") is None


def test_superuser_names_the_agency(app, client, console_login, realty_world):
    console_login(client, realty_world.superuser)
    form = {"username": "timur", "first_name": "Timur", "password": "long-enough-1", "agency_id": realty_world.b.id}
    post_form(client, "/admin/realty_realtors/new/", form)
    assert member_of(app, "timur")[3] == realty_world.b.organization_id


def test_revenue_is_shown_per_currency(app, client, console_login, realty, make_user):
    from tests.fixtures.realty import future

    uzs, kzt = realty.agency("Som Homes"), realty.agency("Tenge Homes", currency="KZT")
    guest = make_user("user")
    for agency, price in ((uzs, "100000.00"), (kzt, "8000.00")):
        listing = realty.listing(agency, realty.realtor(agency), price=price)
        realty.booking(listing, guest, future(1), future(2), status="confirmed")
    console_login(client, make_user("superuser", language="en"))
    page = client.get("/admin/realty_dashboard/").text
    revenue = page.split('id="realty-revenue">', 1)[1].split("</div></div></div>", 1)[0]
    assert "UZS" in revenue and "KZT" in revenue and "108" not in revenue


def test_superuser_names_the_listings_agency_and_photos_are_capped(app, client, console_login, realty_world):
    from webapp.extensions import db
    from webapp.realty.models import Listing

    in_english(app, realty_world.superuser)
    console_login(client, realty_world.superuser)
    post_form(client, "/admin/realty_listings/new/", {**form_of(title="Platform flat"), "agency_id": realty_world.b.id})
    with app.app_context():
        assert (
            db.session.scalar(db.select(Listing.agency_id).where(Listing.title == "Platform flat")) == realty_world.b.id
        )
    set_fields(app, realty_world.listing_a.id, photos=[f"https://cdn.example.test/{n}.jpg" for n in range(10)])
    url = f"/admin/realty_listings/edit/?id={realty_world.listing_a.id}"
    answer = post_form(client, url, form_of(title="Eleven photos"), files=[("one.png", png_bytes())])
    assert "At most 10 photos" in answer.text and listing_row(app, realty_world.listing_a.id)[2] == "Alpha flat"
