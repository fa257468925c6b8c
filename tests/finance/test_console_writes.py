"""Finance categories in the console are saved through ``category_edits`` (issue 13, item 7): each
change leaves a ``finance_category.*`` audit row, a refusal is shown on the form with nothing
written, and another organization's admin cannot change its customers' categories."""

from __future__ import annotations

import sqlalchemy as sa

from tests.conftest import csrf_from
from tests.finance import test_org_isolation
from webapp.extensions import db

finance = test_org_isolation.finance
signed_in = test_org_isolation.signed_in


def _audit(app):
    from webapp.core.models import AuditLog

    with app.app_context():
        query = sa.select(AuditLog.action, AuditLog.old_value, AuditLog.new_value, AuditLog.source).where(
            AuditLog.action.like("finance_category.%")
        )
        return sorted(db.session.execute(query).all())


def _category(app, category_id):
    from webapp.finance.models import Category

    with app.app_context():
        row = db.session.get(Category, category_id)
        return {n: getattr(row, n) for n in ("code", "type", "name_ru", "name_uz", "name_en", "keywords")}


def _post_edit(client, category_id, token_page=None, **fields):
    url = f"/admin/finance_categories/edit/?id={category_id}"
    page = client.get(token_page or url)
    return client.post(url, data={**fields, "csrf_token": csrf_from(page.text)})


def _builtin_food(app):
    from webapp.finance.models import Category
    from webapp.finance.services import ledger

    with app.app_context():
        ledger.ensure_builtin_categories()
        db.session.commit()
        return db.session.scalar(sa.select(Category.id).filter_by(code="food", user_id=None))


def test_an_edited_category_is_audited_field_by_field(app, finance):
    own = signed_in(app, finance["finance_admin"])
    card = _category(app, finance["category"])
    saved = _post_edit(own, finance["category"], **{**card, "name_en": "Pets and vets", "keywords": "корм вет"})
    assert saved.status_code == 302, saved.text
    assert _category(app, finance["category"])["name_en"] == "Pets and vets"
    assert _audit(app) == [
        ("finance_category.update", "keywords: корм", "keywords: корм вет", "console"),
        ("finance_category.update", "name_en: Pets", "name_en: Pets and vets", "console"),
    ]


def test_a_new_builtin_category_is_audited(app, client, make_user, console_login):
    console_login(client, make_user("superuser"))
    page = client.get("/admin/finance_categories/new/")
    fields = {"code": "pets", "type": "expense", "name_ru": "Питомцы", "name_uz": "Hayvonlar", "name_en": "Pets"}
    saved = client.post("/admin/finance_categories/new/", data={**fields, "keywords": "корм",
                                                                 "csrf_token": csrf_from(page.text)})  # fmt: skip
    assert saved.status_code == 302, saved.text
    assert _audit(app) == [("finance_category.create", None, "expense:pets", "console")]


def test_a_builtin_category_keeps_its_code_and_nothing_is_written(app, client, make_user, console_login):
    food = _builtin_food(app)
    console_login(client, make_user("superuser"))
    card = _category(app, food)
    refused = _post_edit(client, food, **{**card, "code": "groceries", "name_en": "Groceries"})
    assert refused.status_code == 200
    assert "Встроенная категория сохраняет свой код и тип" in refused.text  # the reader's language
    assert _category(app, food) == card
    assert _audit(app) == []


def test_a_taken_code_is_refused_with_nothing_written(app, client, make_user, console_login):
    _builtin_food(app)
    console_login(client, make_user("superuser"))
    page = client.get("/admin/finance_categories/new/")
    fields = {"code": "food", "type": "expense", "name_ru": "Еда", "name_uz": "Ovqat", "name_en": "Food 2"}
    refused = client.post("/admin/finance_categories/new/", data={**fields, "csrf_token": csrf_from(page.text)})
    assert refused.status_code == 200
    assert "Категория с таким кодом и типом уже есть" in refused.text
    assert _audit(app) == []


def test_another_organizations_admin_cannot_change_a_customers_category(app, finance):
    agency = signed_in(app, finance["agency_admin"])
    card = _category(app, finance["category"])
    forged = _post_edit(agency, finance["category"], "/admin/users/", **{**card, "name_en": "Hijacked"})
    assert forged.status_code == 302  # "not found": back to the list
    assert _category(app, finance["category"]) == card
    assert _audit(app) == []
