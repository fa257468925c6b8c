"""Console edits of finance categories: validated, audited, flushed (the request commits).

A built-in category (no owner) is every finance service's parser vocabulary: the parser finds it by
its code and type (``categories.CATEGORY_BY_CODE``), so a built-in one of that table keeps its code
and type; its names and keywords are staff's to fix. Codes are unique per owner and type — the
database's unique keys decide, so of two simultaneous saves one is refused, never both written.
"""

from __future__ import annotations

import sqlalchemy as sa
from sqlalchemy.exc import IntegrityError

from webapp.core.models import User
from webapp.core.services import ServiceError, record_audit
from webapp.extensions import db
from webapp.finance import access
from webapp.finance.models import Category, TxType
from webapp.finance.services.categories import CATEGORY_BY_CODE

CATEGORY_FIELDS = ("code", "type", "name_ru", "name_uz", "name_en", "keywords")
NAME_FIELDS = ("name_ru", "name_uz", "name_en")
CODE_RE_TEXT = "abcdefghijklmnopqrstuvwxyz0123456789_"


def _(message: str) -> str:
    """Marks a message id of the finance catalog (the console translates the refusal)."""
    return message


def _invalid(message: str, field: str) -> ServiceError:
    return ServiceError(message, 422, "VALIDATION_ERROR", field)


def _clean(fields: dict, current: Category | None = None) -> dict:
    """The fields trimmed and checked; a code kept as it is (a user's own may predate these rules) passes."""
    values = {name: (fields.get(name) or "").strip() for name in CATEGORY_FIELDS if name in fields}
    code = values.get("code")
    if code is not None and (current is None or code != current.code):
        values["code"] = code = code.lower()
        if not code or len(code) > 32 or any(ch not in CODE_RE_TEXT for ch in code):
            raise _invalid(_("A code is 1-32 Latin letters, digits and _"), "code")
    if "type" in values and values["type"] not in {t.value for t in TxType}:
        raise _invalid(_("Choose expense or income"), "type")
    for name in NAME_FIELDS:
        if name in values and not (1 <= len(values[name]) <= 64):
            raise _invalid(_("A name is 1-64 characters"), name)
    if "keywords" in values:
        values["keywords"] = " ".join(values["keywords"].lower().split())
    return values


def _taken() -> ServiceError:
    return ServiceError(_("A category with this code and type exists"), 409, "CONFLICT", "code")


def _code_taken(user_id, code: str, tx_type: str, own_id: int | None) -> bool:
    owner = Category.user_id.is_(None) if user_id is None else Category.user_id == user_id
    query = sa.select(Category.id).where(owner, Category.code == code, Category.type == tx_type)
    if own_id is not None:
        query = query.where(Category.id != own_id)
    return db.session.scalar(query) is not None


def _flush_unique() -> None:
    """Flush in a savepoint: a unique key a concurrent save took first is a refusal, not a 500."""
    try:
        with db.session.begin_nested():
            db.session.flush()
    except IntegrityError as exc:
        raise _taken() from exc


def create_category(actor: User, fields: dict, source: str = "console") -> Category:
    """A new built-in category (the console creates no user's own): a superuser's."""
    if not access.can_create_category(actor):
        raise ServiceError(_("Only superusers create built-in categories"), 403, "FORBIDDEN")
    values = _clean({name: fields.get(name) for name in CATEGORY_FIELDS})
    if _code_taken(None, values["code"], values["type"], None):
        raise _taken()
    category = Category(user_id=None, **values)
    db.session.add(category)
    _flush_unique()
    record_audit(actor, "finance_category.create", "finance_category", category.id, None,
                 f"{category.type}:{category.code}", source)  # fmt: skip
    return category


def update_category(actor: User, category: Category, fields: dict, source: str = "console") -> Category:
    """Change a category's card; each changed field leaves an audit row with its before and after."""
    if not access.can_edit_category(actor, category):
        raise ServiceError(_("Category not found"), 404, "NOT_FOUND")
    values = _clean(fields, category)
    code, tx_type = values.get("code", category.code), values.get("type", category.type)
    builtin = category.user_id is None and category.code in CATEGORY_BY_CODE
    if builtin and (code, tx_type) != (category.code, category.type):
        raise _invalid(_("A built-in category keeps its code and type: the parser finds it by them"), "code")
    if (code, tx_type) != (category.code, category.type) and _code_taken(category.user_id, code, tx_type, category.id):
        raise _taken()
    changed = []
    for name, value in values.items():
        old = getattr(category, name)
        if old != value:
            changed.append((name, old, value))
            setattr(category, name, value)
    _flush_unique()
    for name, old, value in changed:
        record_audit(actor, "finance_category.update", "finance_category", category.id,
                     f"{name}: {old}", f"{name}: {value}", source)  # fmt: skip
    return category
