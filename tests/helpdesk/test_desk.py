"""Issue 14: canned replies per desk, the desk's settings, the first-response deadline and the
Overdue queue. Times are fixed (no test depends on today's date): services take ``now=``, and
console tests put tickets' creation far in the past or the future."""

from __future__ import annotations

import json
import re
from datetime import UTC, datetime, timedelta
from types import SimpleNamespace

import pytest

from tests.conftest import csrf_from

NOW = datetime(2030, 3, 4, 9, 0, tzinfo=UTC)
LONG_AGO = datetime(2020, 1, 1, 8, 0, tzinfo=UTC)
FAR_AHEAD = datetime(2999, 1, 1, 8, 0, tzinfo=UTC)


def set_created(app, ticket_id, when):
    from webapp.extensions import db
    from webapp.helpdesk.models import Ticket

    with app.app_context():
        db.session.get(Ticket, ticket_id).created_at = when
        db.session.commit()


def canned_rows(app, organization_id=None):
    from webapp.extensions import db
    from webapp.helpdesk.models import CannedReply

    with app.app_context():
        query = db.select(CannedReply).order_by(CannedReply.short_code)
        if organization_id is not None:
            query = query.where(CannedReply.organization_id == organization_id)
        return [(r.organization_id, r.short_code, r.content) for r in db.session.scalars(query)]


def add_canned(app, organization_id, code, text):
    from webapp.extensions import db
    from webapp.helpdesk.models import CannedReply

    with app.app_context():
        row = CannedReply(organization_id=organization_id, short_code=code, content=text)
        db.session.add(row)
        db.session.commit()
        return row.id


def settings_row(app, organization_id):
    from webapp.extensions import db
    from webapp.helpdesk.models import DeskSettings

    with app.app_context():
        row = db.session.get(DeskSettings, organization_id)
        return (row.timezone, row.first_response_minutes) if row else None


@pytest.fixture
def desks(app, make_user, make_organization, console_login, hd_ticket):
    from tests.organizations import default_organization_id

    with app.app_context():
        a_org = default_organization_id()
    b_org = make_organization("Desk B")

    def side(org, name):
        admin = make_user("admin", organization=org, first_name=f"Admin{name}", language="en")
        helper = make_user("helper", organization=org, first_name=f"Helper{name}", language="en")
        clients = {}
        for role, user in (("admin", admin), ("helper", helper)):
            clients[role] = app.test_client()
            console_login(clients[role], user)
        return SimpleNamespace(org=org, admin_user=admin, helper_user=helper, **clients)

    a, b = side(a_org, "A"), side(b_org, "B")
    customer = make_user("user", first_name="Клиент")
    a.ticket = hd_ticket(customer, title="Вопрос desk A", organization=a_org)
    b.ticket = hd_ticket(customer, title="Вопрос desk B", organization=b_org)
    return SimpleNamespace(a=a, b=b, customer=customer)


def post_form(client, path, data, page=None):
    token = csrf_from(client.get(page or path).text)
    return client.post(path, data={**data, "csrf_token": token})


# --- the first-response deadline, on a fixed clock ---------------------------------------------------


def test_due_counts_down_then_overdue_then_disappears_on_the_first_staff_reply(app, desks):
    from flask_babel import force_locale

    from webapp.core.services import get_user
    from webapp.extensions import db
    from webapp.helpdesk.services import add_message, get_ticket
    from webapp.helpdesk.services.due import due_text, first_response_due

    set_created(app, desks.a.ticket.id, NOW)
    with app.test_request_context():
        ticket = get_ticket(desks.a.ticket.id)
        due = first_response_due(ticket, now=NOW + timedelta(minutes=35))
        assert due.at == NOW + timedelta(minutes=60) and not due.overdue  # the platform default: an hour
        with force_locale("en"):
            assert due_text(due) == "due in 25 min"
            late = first_response_due(ticket, now=NOW + timedelta(hours=2, minutes=10, seconds=30))
            assert late.overdue and due_text(late) == "overdue by 1 hr 10 min"
            assert (
                due_text(first_response_due(ticket, now=NOW + timedelta(days=2, hours=4))) == "overdue by 2 days 3 hr"
            )
            # Babel alone would say "1 week" here and drop three days, and round 50 minutes up to an hour.
            ten_days = first_response_due(ticket, now=NOW + timedelta(days=10, hours=4))
            assert due_text(ten_days) == "overdue by 10 days 3 hr"
            assert due_text(first_response_due(ticket, now=NOW + timedelta(minutes=50))) == "due in 10 min"
            assert due_text(first_response_due(ticket, now=NOW + timedelta(minutes=10))) == "due in 50 min"
        with force_locale("ru"):
            assert due_text(late) == "просрочено на 1 ч 10 мин"
        with force_locale("uz"):
            assert due_text(due) == "25 daq. qoldi"
        # An internal note is no answer; a public staff reply is.
        add_message(ticket, get_user(desks.a.helper_user.id), "смотрю", is_internal=True)
        assert first_response_due(ticket, now=NOW) is not None
        add_message(ticket, get_user(desks.a.helper_user.id), "Здравствуйте!")
        db.session.commit()
        assert first_response_due(ticket, now=NOW + timedelta(hours=3)) is None


def test_a_desk_sets_its_own_deadline_and_the_overdue_filter_follows_each_desk(app, desks, hd_ticket):
    from webapp.core.services import get_user
    from webapp.extensions import db
    from webapp.helpdesk.models import Ticket
    from webapp.helpdesk.services.desk import save_settings
    from webapp.helpdesk.services.due import first_response_due, overdue_condition

    # Opened 45 minutes before NOW in both desks; A answers within 30 minutes, B within the default hour.
    for ticket in (desks.a.ticket, desks.b.ticket):
        set_created(app, ticket.id, NOW - timedelta(minutes=45))
    fresh = hd_ticket(desks.customer, title="Свежий A", organization=desks.a.org)
    set_created(app, fresh.id, NOW - timedelta(minutes=5))
    closed = hd_ticket(desks.customer, title="Закрыт A", organization=desks.a.org)
    set_created(app, closed.id, LONG_AGO)
    with app.test_request_context():
        save_settings(get_user(desks.a.admin_user.id), desks.a.org, "", "30")
        db.session.get(Ticket, closed.id).status = "CLOSED"
        db.session.commit()
        overdue = set(db.session.scalars(db.select(Ticket.id).where(overdue_condition(now=NOW))))
        assert overdue == {desks.a.ticket.id}
        assert first_response_due(db.session.get(Ticket, desks.a.ticket.id), now=NOW).overdue
        assert not first_response_due(db.session.get(Ticket, desks.b.ticket.id), now=NOW).overdue
        # An hour later B's ticket is late too; the closed one never is.
        later = set(db.session.scalars(db.select(Ticket.id).where(overdue_condition(now=NOW + timedelta(hours=1)))))
        assert later == {desks.a.ticket.id, desks.b.ticket.id, fresh.id}


def test_inbox_shows_due_and_overdue_and_the_overdue_queue(app, desks, hd_ticket):
    late = desks.a.ticket
    set_created(app, late.id, LONG_AGO)
    upcoming = hd_ticket(desks.customer, title="Ещё не поздно", organization=desks.a.org)
    set_created(app, upcoming.id, FAR_AHEAD)
    assert 'id="hd-due"' in desks.a.helper.get(f"/admin/helpdesk/ticket/{late.id}").text
    everything = desks.a.helper.get("/admin/helpdesk/?queue=all").text
    assert "overdue by" in everything and "due in" in everything
    overdue = desks.a.helper.get("/admin/helpdesk/?queue=overdue").text
    assert "Вопрос desk A" in overdue and "Ещё не поздно" not in overdue
    assert re.search(r'data-queue="overdue">\s*Overdue <span class="badge badge-light">1</span>', overdue)
    assert "Вопрос desk B" not in overdue  # B's overdue ticket is B's
    # Answered: the ticket leaves the queue and its badge goes.
    reply = post_form(
        desks.a.helper,
        f"/admin/helpdesk/ticket/{late.id}/reply",
        {"content": "Отвечаем"},
        f"/admin/helpdesk/ticket/{late.id}",
    )
    assert reply.status_code == 302
    assert "Вопрос desk A" not in desks.a.helper.get("/admin/helpdesk/?queue=overdue").text
    assert 'id="hd-due"' not in desks.a.helper.get(f"/admin/helpdesk/ticket/{late.id}").text


def test_ticket_times_are_in_the_desks_zone_with_the_zone_named(app, desks):
    from webapp.core.services import get_user
    from webapp.extensions import db
    from webapp.helpdesk.services.desk import save_settings

    set_created(app, desks.a.ticket.id, datetime(2030, 1, 1, 10, 0, tzinfo=UTC))
    with app.test_request_context():
        save_settings(get_user(desks.a.admin_user.id), desks.a.org, "Europe/Moscow", None)
        db.session.commit()
    page = desks.a.helper.get(f"/admin/helpdesk/ticket/{desks.a.ticket.id}").text
    assert "2030-01-01 13:00 MSK" in page


# --- canned replies ------------------------------------------------------------------------------


def test_admin_manages_canned_replies_and_bad_input_changes_nothing(app, desks):
    admin = desks.a.admin
    new = "/admin/helpdesk_canned/new/"
    created = post_form(admin, new, {"short_code": " /Greet ", "content": "Здравствуйте! Чем помочь?"})
    assert created.status_code == 302
    assert canned_rows(app) == [(desks.a.org, "greet", "Здравствуйте! Чем помочь?")]
    assert "/greet" in admin.get("/admin/helpdesk_canned/").text
    for bad in (
        {"short_code": "greet", "content": "дубль"},  # taken in this desk
        {"short_code": "two words", "content": "x"},
        {"short_code": "_x", "content": "x"},
        {"short_code": "x" * 33, "content": "x"},
        {"short_code": "ok", "content": "   "},
        {"short_code": "ok", "content": "x" * 4001},
        {"short_code": "", "content": ""},
    ):
        response = post_form(admin, new, bad)
        assert response.status_code == 200, bad  # the form again, with its error
        assert canned_rows(app) == [(desks.a.org, "greet", "Здравствуйте! Чем помочь?")], bad
    taken = post_form(admin, new, {"short_code": "greet", "content": "дубль"})
    assert "This desk already has a canned reply /greet." in taken.text
    # Another desk may use the same code.
    assert post_form(desks.b.admin, new, {"short_code": "greet", "content": "Hello from B"}).status_code == 302
    reply_id = canned_rows_ids(app, desks.a.org)[0]
    edit = f"/admin/helpdesk_canned/edit/?id={reply_id}"
    assert post_form(admin, edit, {"short_code": "hello", "content": "Добрый день!"}).status_code == 302
    assert canned_rows(app, desks.a.org) == [(desks.a.org, "hello", "Добрый день!")]
    deleted = post_form(admin, "/admin/helpdesk_canned/delete/", {"id": reply_id}, "/admin/helpdesk_canned/")
    assert deleted.status_code == 302 and canned_rows(app, desks.a.org) == []


def canned_rows_ids(app, organization_id):
    from webapp.extensions import db
    from webapp.helpdesk.models import CannedReply

    with app.app_context():
        return list(db.session.scalars(db.select(CannedReply.id).where(CannedReply.organization_id == organization_id)))


@pytest.mark.parametrize("role", ["helper", "doctor", "marketer", "moderator", "user"])
def test_only_admins_manage_canned_replies_and_settings(app, make_user, console_login, desks, role):
    client = app.test_client()
    if role != "user":
        console_login(client, make_user(role))
        expected = (403,)
    else:
        expected = (302,)  # a customer has no console: the login page
    reply_id = add_canned(app, desks.a.org, "greet", "Здравствуйте")
    for path in ("/admin/helpdesk_canned/", "/admin/helpdesk_canned/new/", "/admin/helpdesk/settings/"):
        assert client.get(path).status_code in expected, path
    token = csrf_from(client.get("/admin/").text) if role != "user" else ""
    client.post("/admin/helpdesk_canned/delete/", data={"id": reply_id, "csrf_token": token})
    client.post("/admin/helpdesk/settings/", data={"timezone": "UTC", "csrf_token": token})
    assert canned_rows(app) == [(desks.a.org, "greet", "Здравствуйте")]
    assert settings_row(app, desks.a.org) is None


def test_another_desk_neither_sees_nor_changes_canned_replies(app, desks):
    a_reply = add_canned(app, desks.a.org, "greet", "Секретный шаблон A")
    add_canned(app, desks.b.org, "bye", "Шаблон B")
    b = desks.b.admin
    listing = b.get("/admin/helpdesk_canned/").text
    assert "Секретный шаблон A" not in listing and "Шаблон B" in listing
    assert b.get(f"/admin/helpdesk_canned/edit/?id={a_reply}").status_code in (302, 404)
    assert b.get(f"/admin/helpdesk_canned/details/?id={a_reply}").status_code in (302, 403, 404)
    post_form(
        b,
        f"/admin/helpdesk_canned/edit/?id={a_reply}",
        {"short_code": "x", "content": "взлом"},
        "/admin/helpdesk_canned/",
    )
    post_form(b, "/admin/helpdesk_canned/delete/", {"id": a_reply}, "/admin/helpdesk_canned/")
    assert canned_rows(app, desks.a.org) == [(desks.a.org, "greet", "Секретный шаблон A")]
    # The ticket page offers a desk's own replies to its helpers, and nobody else's.
    a_page = desks.a.helper.get(f"/admin/helpdesk/ticket/{desks.a.ticket.id}").text
    offered = json.loads(re.search(r'id="hd-canned-data">(.*?)</script>', a_page).group(1))
    assert offered == [{"code": "greet", "text": "Секретный шаблон A"}]
    assert "canned.js" in a_page
    b_page = desks.b.helper.get(f"/admin/helpdesk/ticket/{desks.b.ticket.id}").text
    assert json.loads(re.search(r'id="hd-canned-data">(.*?)</script>', b_page).group(1)) == [
        {"code": "bye", "text": "Шаблон B"}
    ]
    assert desks.b.helper.get(f"/admin/helpdesk/ticket/{desks.a.ticket.id}").status_code == 404


def test_canned_scope_by_role(app, make_user, desks):
    from webapp.core.services import get_user
    from webapp.helpdesk.services.desk import canned_replies

    add_canned(app, desks.a.org, "greet", "Здравствуйте")
    doctor = make_user("doctor")
    with app.app_context():
        assert [r.short_code for r in canned_replies(get_user(desks.a.helper_user.id), desks.a.org)] == ["greet"]
        assert canned_replies(get_user(desks.b.helper_user.id), desks.a.org) == []
        assert canned_replies(get_user(doctor.id), desks.a.org) == []
        assert canned_replies(get_user(desks.customer.id), desks.a.org) == []


# --- settings ------------------------------------------------------------------------------------


def test_admin_saves_settings_and_bad_input_changes_nothing(app, desks):
    path = "/admin/helpdesk/settings/"
    assert "Desk settings" in desks.a.admin.get(path).text
    assert (
        post_form(desks.a.admin, path, {"timezone": "Asia/Almaty", "first_response_minutes": "30"}).status_code == 302
    )
    assert settings_row(app, desks.a.org) == ("Asia/Almaty", 30)
    for bad in (
        {"timezone": "Mars/Olympus", "first_response_minutes": "15"},
        {"timezone": "UTC", "first_response_minutes": "0"},
        {"timezone": "UTC", "first_response_minutes": "abc"},
        {"timezone": "UTC", "first_response_minutes": "10081"},
        {"timezone": "UTC", "first_response_minutes": "99999999999999999999"},
        {"timezone": "\x00", "first_response_minutes": "-5"},
    ):
        response = post_form(desks.a.admin, path, bad)
        assert response.status_code == 200, bad
        assert settings_row(app, desks.a.org) == ("Asia/Almaty", 30), bad
    # Blank fields go back to the platform's defaults.
    assert post_form(desks.a.admin, path, {"timezone": "", "first_response_minutes": ""}).status_code == 302
    assert settings_row(app, desks.a.org) == (None, None)
    # B's admin naming A's organization still edits B's own desk.
    post_form(desks.b.admin, f"{path}?organization={desks.a.org}", {"timezone": "UTC", "first_response_minutes": "5"})
    assert settings_row(app, desks.a.org) == (None, None)
    assert settings_row(app, desks.b.org) == ("UTC", 5)


# --- assignees -----------------------------------------------------------------------------------


def test_console_assigns_only_the_desks_own_staff(app, make_user, desks):
    from webapp.extensions import db
    from webapp.helpdesk.models import Ticket

    doctor = make_user("doctor", first_name="DoctorA")  # same organization, not desk staff
    url = f"/admin/helpdesk/ticket/{desks.a.ticket.id}"
    page = desks.a.admin.get(url).text
    options = re.search(r'id="hd-assignee">(.*?)</select>', page, re.S).group(1)
    assert "HelperA" in options and "AdminA" in options
    assert "HelperB" not in options and "DoctorA" not in options
    for outsider in (desks.b.helper_user, doctor):
        post_form(desks.a.admin, f"{url}/update", {"assigned_to": str(outsider.id)}, url)
        with app.app_context():
            assert db.session.get(Ticket, desks.a.ticket.id).assigned_to_id is None
    post_form(desks.a.admin, f"{url}/update", {"assigned_to": str(desks.a.helper_user.id)}, url)
    with app.app_context():
        assert db.session.get(Ticket, desks.a.ticket.id).assigned_to_id == desks.a.helper_user.id
