"""The clinic FAQ belongs to organizations (issue 12) and speaks every language the bot offers (issue 14).

A row with an organization is that clinic group's own; one without is the platform's general FAQ.
The bot API shows the clinic's own entries first, then the platform's, never another organization's;
the console lets an organization's admin manage only their own entries (the platform's are not
listed to them) and a superuser every entry, choosing its organization."""

from __future__ import annotations

from types import SimpleNamespace

import pytest
import sqlalchemy as sa

from tests.conftest import csrf_from
from tests.fixtures.clinic import build_clinic

FAQ_URL = "/api/bot/support/faq/"


def _texts(prefix: str, languages=("ru",)) -> dict:
    return {
        f"{part}_{language}": f"{prefix} {part} {language}" for language in languages for part in ("question", "answer")
    }


@pytest.fixture
def faqs(app, clinic_data, make_organization, make_user, auth_header):
    """Clinic A (the test organization) and clinic B, each with its own entry, and two platform entries
    (one written in every language, one in Russian only); an admin for each organization."""
    from webapp.clinic.models import Faq
    from webapp.extensions import db

    organization_b = make_organization("FAQ group B")
    with app.app_context():
        b = build_clinic(organization_id=organization_b, name="Клиника B")
        db.session.execute(sa.delete(Faq))  # the fixtures' entries: only this module's below
        rows = {
            "a": Faq(organization_id=clinic_data.organization_id, position=5, **_texts("A", ("ru", "uz"))),
            "b": Faq(organization_id=organization_b, position=1, **_texts("B")),
            "general": Faq(position=1, **_texts("General", ("ru", "kk", "uz", "en"))),
            "russian": Faq(position=2, **_texts("Russian")),
        }
        db.session.add_all(rows.values())
        db.session.commit()
        ids = {name: row.id for name, row in rows.items()}
    admin_a, admin_b = make_user("admin"), make_user("admin", organization=organization_b)
    return SimpleNamespace(
        a=clinic_data,
        b=b,
        organization_b=organization_b,
        ids=ids,
        admin_a=admin_a,
        admin_b=admin_b,
        as_a=auth_header(admin_a),
        as_b=auth_header(admin_b),
    )


def _questions(client, headers, **query) -> list[str]:
    response = client.get(FAQ_URL, headers=headers, query_string=query)
    assert response.status_code == 200, response.text
    return [item["question"] for item in response.get_json()["faqs"]]


# --- the model -------------------------------------------------------------------------------------


def test_localized_falls_back_to_russian_unless_both_texts_are_written():
    from webapp.clinic.models import Faq

    row = Faq(**_texts("X", ("ru", "en")), question_kk="Сұрақ", question_uz="Savol", answer_uz="Javob")
    assert row.localized("en") == ("X question en", "X answer en")
    assert row.localized("uz") == ("Savol", "Javob")
    assert row.localized("kk") == ("X question ru", "X answer ru")  # a question without its answer
    assert row.localized("de") == row.localized(None) == ("X question ru", "X answer ru")


# --- the bot API -----------------------------------------------------------------------------------


def test_the_api_shows_the_clinics_own_entries_then_the_platforms(client, bot_headers, faqs):
    a_then_platform = ["A question ru", "General question ru", "Russian question ru"]
    assert _questions(client, bot_headers, clinic_id=faqs.a.clinic_id) == a_then_platform
    assert _questions(client, bot_headers) == a_then_platform  # no clinic named: the default clinic's
    assert _questions(client, bot_headers, organization_id=faqs.b.clinic_id) == [
        "B question ru",
        "General question ru",
        "Russian question ru",
    ]
    assert _questions(client, faqs.as_a) == a_then_platform  # staff: their own organization's
    assert _questions(client, faqs.as_b)[0] == "B question ru"


@pytest.mark.parametrize(
    "language,expected",
    [
        ("uz", ["A question uz", "General question uz", "Russian question ru"]),
        ("en", ["A question ru", "General question en", "Russian question ru"]),
        ("kk", ["A question ru", "General question kk", "Russian question ru"]),
    ],
)
def test_the_api_answers_in_every_bot_language(client, bot_headers, faqs, language, expected):
    response = client.get(FAQ_URL, headers=bot_headers, query_string={"language": language})
    items = response.get_json()["faqs"]
    assert [item["question"] for item in items] == expected
    assert set(items[1]) == {"id", "question", "answer"}  # seed 002's payload, unchanged
    assert items[1]["answer"] == f"General answer {language}"


def test_another_organizations_faq_is_not_found_or_absent(client, bot_headers, faqs):
    assert "B question ru" not in _questions(client, faqs.as_a)
    assert "A question ru" not in _questions(client, faqs.as_b)
    across = client.get(FAQ_URL, headers=faqs.as_a, query_string={"clinic_id": faqs.b.clinic_id})
    assert across.status_code == 404 and "B question" not in across.text
    assert client.get(FAQ_URL, headers=bot_headers, query_string={"clinic_id": 999999}).status_code == 404
    assert client.get(FAQ_URL, headers=bot_headers, query_string={"language": "de"}).status_code == 422


def test_inactive_entries_are_not_shown(app, client, bot_headers, faqs):
    from webapp.clinic.models import Faq
    from webapp.extensions import db

    with app.app_context():
        db.session.get(Faq, faqs.ids["a"]).is_active = False
        db.session.commit()
    assert _questions(client, bot_headers) == ["General question ru", "Russian question ru"]


# --- the console -----------------------------------------------------------------------------------


def _console(app, console_login, user):
    client = app.test_client()
    console_login(client, user)
    return client


def _form(page: str, **fields) -> dict:
    return {"csrf_token": csrf_from(page), "position": "3", **fields}


def _row(app, faq_id):
    from webapp.clinic.models import Faq
    from webapp.extensions import db

    with app.app_context():
        return db.session.get(Faq, faq_id)


def test_an_admin_lists_only_their_organizations_entries(app, console_login, faqs):
    listing = _console(app, console_login, faqs.admin_a).get("/admin/clinic_faq/")
    assert listing.status_code == 200
    assert "A question ru" in listing.text
    assert "B question ru" not in listing.text and "FAQ group B" not in listing.text
    assert "General question ru" not in listing.text  # the platform's entries are not theirs to list
    exported = _console(app, console_login, faqs.admin_b).get("/admin/clinic_faq/export/csv/")
    assert "B question ru" in exported.text and "A question" not in exported.text


def test_an_admin_cannot_open_edit_or_delete_another_organizations_or_the_platforms_entry(app, console_login, faqs):
    a = _console(app, console_login, faqs.admin_a)
    page = a.get("/admin/clinic_faq/").text
    for name in ("b", "general"):
        faq_id = faqs.ids[name]
        before = _row(app, faq_id)
        assert a.get(f"/admin/clinic_faq/edit/?id={faq_id}").status_code == 302  # "record does not exist"
        assert a.get(f"/admin/clinic_faq/details/?id={faq_id}").status_code in (302, 404)
        a.post(f"/admin/clinic_faq/edit/?id={faq_id}", data=_form(page, question_ru="Hacked", answer_ru="Hacked"))
        a.post("/admin/clinic_faq/delete/", data={"csrf_token": csrf_from(page), "id": faq_id})
        after = _row(app, faq_id)
        assert after is not None and (after.question_ru, after.organization_id) == (
            before.question_ru,
            before.organization_id,
        )


def test_an_admin_creates_edits_and_deletes_their_own_entries(app, console_login, faqs):
    from webapp.clinic.models import Faq
    from webapp.extensions import db

    a = _console(app, console_login, faqs.admin_a)
    page = a.get("/admin/clinic_faq/new/").text
    assert 'name="organization"' not in page and 'name="question_uz"' in page and 'name="answer_en"' in page
    # An organization posted anyway is ignored: the entry is the admin's organization's.
    fields = _texts("Own", ("ru", "kk", "uz", "en"))
    created = a.post("/admin/clinic_faq/new/", data=_form(page, organization=faqs.organization_b, **fields))
    assert created.status_code == 302, created.text
    with app.app_context():
        row = db.session.scalar(sa.select(Faq).where(Faq.question_ru == "Own question ru"))
        assert row.organization_id == faqs.a.organization_id
        assert row.localized("en") == ("Own question en", "Own answer en")
        own_id = row.id

    edit_page = a.get(f"/admin/clinic_faq/edit/?id={own_id}").text
    assert "Own question uz" in edit_page
    edited = a.post(
        f"/admin/clinic_faq/edit/?id={own_id}",
        data=_form(edit_page, organization=faqs.organization_b, **{**fields, "answer_uz": "Yangi javob"}),
    )
    assert edited.status_code == 302, edited.text
    row = _row(app, own_id)
    assert (row.answer_uz, row.organization_id) == ("Yangi javob", faqs.a.organization_id)

    a.post("/admin/clinic_faq/delete/", data={"csrf_token": csrf_from(edit_page), "id": own_id})
    assert _row(app, own_id) is None


def test_half_a_translation_is_refused_and_nothing_is_saved(app, console_login, faqs):
    from webapp.clinic.models import Faq
    from webapp.extensions import db

    a = _console(app, console_login, faqs.admin_a)
    page = a.get("/admin/clinic_faq/new/").text
    refused = a.post("/admin/clinic_faq/new/", data=_form(page, **_texts("Half"), question_en="Only a question"))
    assert refused.status_code == 200
    assert "Заполните и вопрос, и ответ" in refused.text  # the console speaks the admin's Russian
    blank = a.post("/admin/clinic_faq/new/", data=_form(page, question_ru="   ", answer_ru="Ответ"))
    assert blank.status_code == 200
    with app.app_context():
        assert db.session.scalar(sa.select(sa.func.count()).select_from(Faq)) == 4


@pytest.mark.parametrize(
    "language,labels",
    [
        ("ru", ("Вопрос (узб.)", "Ответ (англ.)", "Организация", "общий FAQ платформы")),
        ("uz", ("Savol (oʻzbekcha)", "Javob (inglizcha)", "Tashkilot", "platformaning umumiy FAQ")),
    ],
)
def test_the_form_is_translated(app, console_login, make_user, faqs, language, labels):
    client = _console(app, console_login, make_user("superuser"))
    home = client.get("/admin/").text
    client.post("/admin/language", data={"language": language, "next": "/admin/", "csrf_token": csrf_from(home)})
    page = client.get("/admin/clinic_faq/new/").text
    for label in labels:
        assert label in page, label


def test_a_superuser_manages_every_entry_and_chooses_its_organization(app, console_login, make_user, faqs):
    from webapp.clinic.models import Faq
    from webapp.extensions import db

    root = _console(app, console_login, make_user("superuser"))
    listing = root.get("/admin/clinic_faq/").text
    for question in ("A question ru", "B question ru", "General question ru"):
        assert question in listing
    page = root.get("/admin/clinic_faq/new/").text
    assert 'name="organization"' in page
    for prefix, organization in (("Platform", ""), ("ForB", faqs.organization_b)):
        created = root.post("/admin/clinic_faq/new/", data=_form(page, organization=organization, **_texts(prefix)))
        assert created.status_code == 302, created.text
    with app.app_context():
        chosen = dict(db.session.execute(sa.select(Faq.question_ru, Faq.organization_id)).all())
    assert chosen["Platform question ru"] is None and chosen["ForB question ru"] == faqs.organization_b
    edit_page = root.get(f"/admin/clinic_faq/edit/?id={faqs.ids['general']}").text
    edited = root.post(
        f"/admin/clinic_faq/edit/?id={faqs.ids['general']}",
        data=_form(edit_page, organization=faqs.organization_b, **_texts("Moved")),
    )
    assert edited.status_code == 302, edited.text
    assert _row(app, faqs.ids["general"]).organization_id == faqs.organization_b


@pytest.mark.parametrize("role", ["doctor", "helper", "marketer", "moderator"])
def test_other_roles_do_not_reach_the_faq_console(app, console_login, make_user, faqs, role):
    client = _console(app, console_login, make_user(role))
    assert client.get("/admin/clinic_faq/").status_code == 403
    assert client.get(f"/admin/clinic_faq/edit/?id={faqs.ids['a']}").status_code == 403


def test_the_access_rule_the_console_uses(app, faqs):
    from webapp.clinic import access
    from webapp.clinic.models import Faq
    from webapp.core.services import get_user
    from webapp.extensions import db

    with app.app_context():
        admin_a, admin_b = get_user(faqs.admin_a.id), get_user(faqs.admin_b.id)
        assert db.session.scalars(access.scope(sa.select(Faq.id), admin_a, Faq)).all() == [faqs.ids["a"]]
        assert db.session.scalars(access.scope(sa.select(Faq.id), admin_b, Faq)).all() == [faqs.ids["b"]]
        assert access.can_change(admin_a, db.session.get(Faq, faqs.ids["general"])) is False
        assert len(db.session.scalars(access.scope(sa.select(Faq), access.SYSTEM)).all()) == 4
