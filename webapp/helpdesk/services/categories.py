"""Ticket categories (admin-managed), each in one organization's desk; a name is unique per desk."""

from __future__ import annotations

import uuid

from webapp.core.db import insert_missing, utcnow
from webapp.core.models import User
from webapp.core.services import ServiceError, record_audit
from webapp.extensions import db
from webapp.helpdesk.access import scope
from webapp.helpdesk.models import Ticket, TicketCategory

CATEGORY_FIELDS = ("name", "description", "icon", "color", "is_active", "sort_order")


def list_categories(include_inactive: bool = True, viewer: User | None = None, organization_id: int | None = None):
    """Categories in display order: those ``viewer`` may see (None: every desk's, for the platform
    itself), optionally of one organization."""
    query = db.select(TicketCategory).order_by(TicketCategory.sort_order, TicketCategory.name, TicketCategory.id)
    if viewer is not None:
        query = scope(query, viewer, TicketCategory)
    if organization_id is not None:
        query = query.where(TicketCategory.organization_id == organization_id)
    if not include_inactive:
        query = query.where(TicketCategory.is_active.is_(True))
    return list(db.session.scalars(query))


def get_category(category_id: uuid.UUID | str | None, viewer: User | None = None) -> TicketCategory | None:
    """The category, if ``viewer`` (None: the platform itself) may see it."""
    try:
        key = category_id if isinstance(category_id, uuid.UUID) else uuid.UUID(str(category_id))
    except ValueError:
        return None
    if viewer is None:
        return db.session.get(TicketCategory, key)
    return db.session.scalar(scope(db.select(TicketCategory).where(TicketCategory.id == key), viewer, TicketCategory))


def _name_taken() -> ServiceError:
    return ServiceError("A category with this name exists", 422, "VALIDATION_ERROR", "name")


def _check_name_free(organization_id: int, name: str, exclude: uuid.UUID | None = None) -> None:
    # Compared in Python: SQLite's lower() folds ASCII letters only, and names are mostly Cyrillic.
    wanted = name.strip().casefold()
    rows = db.session.execute(
        db.select(TicketCategory.id, TicketCategory.name).where(TicketCategory.organization_id == organization_id)
    )
    for other_id, other_name in rows:
        if other_id != exclude and other_name.strip().casefold() == wanted:
            raise _name_taken()


def create_category(organization_id: int, **fields) -> TicketCategory:
    """A new category in ``organization_id``'s desk. Race-safe: of two concurrent creations of one
    name, the second inserts nothing (the per-desk unique key) and is told the name exists."""
    _check_name_free(organization_id, fields["name"])
    values = {k: v for k, v in fields.items() if k in CATEGORY_FIELDS and v is not None}
    category_id = uuid.uuid4()
    defaults = {"color": "#6c757d", "is_active": True, "sort_order": 0}
    stamp = utcnow()
    row = {
        **defaults,
        **values,
        "id": category_id,
        "organization_id": organization_id,
        "created_at": stamp,
        "updated_at": stamp,
    }
    if not insert_missing(TicketCategory, row, ("organization_id", "name")):
        raise _name_taken()
    return db.session.get(TicketCategory, category_id)


def ensure_category(organization_id: int, name: str, **fields) -> tuple[TicketCategory, bool]:
    """The desk's category called ``name``, created on first use (race-safe); True when created now."""
    created = insert_missing(
        TicketCategory,
        {
            "color": "#6c757d",
            "is_active": True,
            "sort_order": 0,
            **{k: v for k, v in fields.items() if k in CATEGORY_FIELDS and v is not None},
            "id": uuid.uuid4(),
            "name": name,
            "organization_id": organization_id,
            "created_at": utcnow(),
            "updated_at": utcnow(),
        },
        ("organization_id", "name"),
    )
    category = db.session.scalar(
        db.select(TicketCategory).where(TicketCategory.organization_id == organization_id, TicketCategory.name == name)
    )
    return category, created


def update_category(category: TicketCategory, **changes) -> TicketCategory:
    if changes.get("name") is not None:
        _check_name_free(category.organization_id, changes["name"], category.id)
    for key, value in changes.items():
        if key not in CATEGORY_FIELDS:
            continue
        if value is None and key in ("name", "color", "is_active", "sort_order"):
            raise ServiceError(f"{key} cannot be empty", 422, "VALIDATION_ERROR", key)
        setattr(category, key, value)
    db.session.flush()
    return category


def delete_category(category: TicketCategory) -> None:
    """Only an unused category can go; one with tickets is deactivated instead, keeping its history."""
    used = db.session.scalar(db.select(db.func.count(Ticket.id)).where(Ticket.category_id == category.id))
    if used:
        raise ServiceError(
            f"The category has {used} ticket(s); deactivate it instead (is_active: false)",
            422,
            "VALIDATION_ERROR",
            "id",
        )
    db.session.delete(category)
    db.session.flush()


def save_category(
    actor: User | None,
    category: TicketCategory | None,
    fields: dict,
    *,
    organization_id: int | None = None,
    source: str = "console",
) -> TicketCategory:
    """A desk admin creates a category in ``organization_id``'s desk (``category`` None) or changes
    one; audited (each changed field with its before and after). Flushes only."""
    if category is None:
        category = create_category(organization_id, **fields)
        record_audit(actor, "ticket_category.create", "ticket_category", category.id, None, category.name, source)
        return category
    before = {name: getattr(category, name) for name in CATEGORY_FIELDS if name in fields}
    update_category(category, **fields)
    for name, old in before.items():
        new = getattr(category, name)
        if new != old:
            record_audit(
                actor,
                "ticket_category.update",
                "ticket_category",
                category.id,
                f"{name}: {old}",
                f"{name}: {new}",
                source,
            )
    return category
