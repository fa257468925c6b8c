"""The console's words: labels derived for every view, stored codes as words, money and plurals per language."""

from __future__ import annotations

from flask_babel import force_locale

from webapp.admin import words
from webapp.core.i18n import format_money


def test_a_view_without_its_own_labels_gets_the_vocabulary(app_ctx):
    from flask import current_app

    users = next(v for v in current_app.extensions["botdesk_admin"]._views if v.endpoint == "users")
    with force_locale("kk"):
        assert str(users.column_labels["username"]) == "Пайдаланушы аты"
        assert str(users.column_labels["first_name"]) == "Аты"  # the view's own label still wins
        assert dict(users.column_choices["role"])["helper"] == "Қолдау қызметкері"


def test_codes_are_words_in_each_language(app_ctx):
    with force_locale("uz"):
        assert str(words.word("no_show", "clinic_appointment_status")) == "Kelmadi"
        assert str(words.word("WAITING_RESPONSE", "helpdesk_ticket_status")) == "Mijoz kutilmoqda"
        assert str(words.word("F", "clinic_sex")) == "Ayol"
        assert words.word("something-new", "clinic_sex") == "something-new"
    with force_locale("ru"):
        assert str(words.word("user.create", "audit_action")) == "Пользователь создан"
        assert str(words.word("draft", "broadcast_status")) == "Черновик"


def test_money_always_shows_its_currency_in_the_readers_format(app_ctx):
    assert format_money(8000, "KZT", "kk") == "8\xa0000\xa0₸"
    assert format_money(392000, "UZS", "uz") == "392\xa0000\xa0soʻm"
    assert format_money("54000.00", "KZT", "ru") == "54\xa0000\xa0KZT"
    assert format_money("1250.5", "UZS", "en") == "UZS1,250.50"


def test_row_counts_follow_each_languages_plural_forms(app_ctx):
    with force_locale("ru"):
        assert [words.count_rows(n) for n in (1, 3, 50)] == ["1 строка", "3 строки", "50 строк"]
    with force_locale("uz"):
        assert words.count_rows(50) == "50 ta qator"


def test_the_tax_certificate_names_a_prepayment_in_the_readers_language(app_ctx, clinic_data):
    """The stored description is English ("Prepayment: …"); the certificate line is the reader's."""
    from tests.fixtures.clinic import MONDAY, NOW, at, build_patient
    from webapp.clinic.models import Branch, Doctor, Patient, Service
    from webapp.clinic.services import booking, documents, payments
    from webapp.extensions import db

    ids = clinic_data
    patient = db.session.get(Patient, build_patient().id)
    service = db.session.get(Service, ids.consult_id)
    appointment = booking.book_appointment(
        patient,
        db.session.get(Doctor, ids.doctor_id),
        service,
        db.session.get(Branch, ids.central_id),
        at(MONDAY, 10),
        now=NOW,
    )
    invoice = payments.request_prepayment(appointment)
    assert invoice.description.startswith("Prepayment: ")
    assert documents.invoice_text(invoice, "ru") == f"Предоплата: {service.display_name('ru')}"
    assert documents.invoice_text(invoice, "uz") == f"Oldindan toʻlov: {service.display_name('uz')}"


def test_the_audit_log_names_people_and_organizations_not_their_ids(app, make_user, make_organization, console_login):
    """A membership change read as "Organization changed: User dana, Clinic A → Clinic B", not as
    a UUID and two numbers."""
    from webapp.core.models import Organization, User
    from webapp.core.tenancy import set_membership
    from webapp.extensions import db

    first = make_organization("Audit clinic A")
    second = make_organization("Audit clinic B")
    admin = make_user("superuser", language="en")
    moved = make_user("doctor", organization=first, username="dana_moved")
    with app.app_context():
        actor = db.session.get(User, admin.id)
        set_membership(actor, db.session.get(User, moved.id), db.session.get(Organization, second), "console")
        db.session.commit()
    client = app.test_client()
    console_login(client, admin)
    for page in ("/admin/audit/", "/admin/"):
        html = client.get(page).text
        assert "dana_moved" in html and "Audit clinic A" in html and "Audit clinic B" in html, page
        assert str(moved.id) not in html, page
