"""The reception in headless Chromium, in Russian: the clinic's admin opens the calendar, clicks a
free cell, finds a patient who phoned in by their phone number, books them, sees the booked cell,
opens it and marks the arrival. The screenshots land in screenshots/reception-ru-*.png."""

from __future__ import annotations

import sqlalchemy as sa

from tests.fixtures.browser import SCREENSHOTS, needs_chromium, sign_in
from tests.fixtures.clinic import MONDAY, VALID_IIN_MALE_1990, at, build_patient

pytestmark = needs_chromium


def _shot(page, name: str) -> None:
    SCREENSHOTS.mkdir(exist_ok=True)
    page.screenshot(path=str(SCREENSHOTS / f"reception-ru-{name}.png"), full_page=True)


def test_reception_books_a_phoned_in_patient_and_marks_the_arrival(
    app, live_server, clinic_data, make_user, frozen_clock, browser_page
):
    from webapp.clinic.models import Appointment, Branch, Doctor, Patient, Service
    from webapp.clinic.services.booking import book_appointment
    from webapp.extensions import db

    with app.app_context():
        caller = build_patient(iin=VALID_IIN_MALE_1990, phone="+7 701 123 45 67")
        regular = build_patient(first_name="Асель", last_name="Нурланова", phone="+77015550022")
        booked = book_appointment(  # an earlier visit makes both patients the clinic's own
            db.session.get(Patient, caller.id),
            db.session.get(Doctor, clinic_data.doctor_id),
            db.session.get(Service, clinic_data.consult_id),
            db.session.get(Branch, clinic_data.central_id),
            at(MONDAY, 16),
        )
        book_appointment(
            db.session.get(Patient, regular.id),
            db.session.get(Doctor, clinic_data.doctor_id),
            db.session.get(Service, clinic_data.consult_id),
            db.session.get(Branch, clinic_data.central_id),
            at(MONDAY, 9),
        )
        db.session.commit()
        earlier = booked.id
    reception = make_user("admin", first_name="Регистратура", language="ru")

    page = browser_page
    page.set_viewport_size({"width": 1400, "height": 900})
    sign_in(page, live_server.url, reception)
    page.goto(f"{live_server.url}/admin/clinic_day/?day={MONDAY}&view=week")
    page.wait_for_selector("#rc-calendar")
    assert "Asia/Almaty (+05)" in page.inner_text("#rc-zone")
    _shot(page, "1-week")

    # A click on the free cell at 11:00 on Monday opens the booking form for that time.
    page.click(f"a.rc-free[data-slot='{at(MONDAY, 11).isoformat()}']")
    page.wait_for_selector("#rc-book")
    assert "07.01.2030 11:00" in page.inner_text("#rc-slot")
    page.fill("#rc-search", "8 701 123 45 67")
    page.wait_for_selector(f".rc-result[data-patient='{caller.id}']")
    _shot(page, "2-search")
    page.click(f".rc-result[data-patient='{caller.id}']")
    page.wait_for_function("() => !document.getElementById('rc-chosen').classList.contains('d-none')")
    page.click("#rc-submit")

    # The appointment's page: booked; then back in the calendar the cell holds the patient.
    page.wait_for_selector("#rc-status")
    assert page.inner_text("#rc-status") == "Записан"
    assert "Пациент записан." in page.inner_text(".alert-success")
    page.click("#rc-back")
    page.wait_for_selector("#rc-calendar")
    cell = page.locator("a.rc-appointment", has_text="Жумабаев Ерлан").first
    assert "Записан" in cell.inner_text()
    _shot(page, "3-day")
    cell.click()

    # At 11:02 the patient is at the desk: "Пациент пришёл".
    frozen_clock(at(MONDAY, 11, 2))
    page.click("#rc-arrived")
    page.wait_for_function("() => document.getElementById('rc-status').textContent.trim() === 'Пациент пришёл'")
    assert "Приход пациента отмечен." in page.inner_text(".alert-success")
    assert page.locator("#rc-confirm").count() == 0  # an arrived patient's visit can only be completed now
    _shot(page, "4-arrived")

    page.click("#rc-patient")
    page.wait_for_selector("#rc-visits")
    assert "900101300017" in page.inner_text("#rc-patient-details")
    assert page.locator("#rc-visits tr").count() == 3  # the header and both visits
    _shot(page, "5-card")

    with app.app_context():
        rows = db.session.scalars(
            sa.select(Appointment).where(Appointment.patient_id == caller.id).order_by(Appointment.starts_at)
        ).all()
        assert [(a.starts_at, a.status, a.source) for a in rows] == [
            (at(MONDAY, 11), "arrived", "console"),
            (at(MONDAY, 16), "booked", "bot"),
        ]
        assert rows[0].arrived_at == at(MONDAY, 11, 2) and rows[1].id == earlier
