"""Ticket categories (admin-managed)."""

from __future__ import annotations

import uuid

from webapp.core.services import ServiceError
from webapp.extensions import db
from webapp.helpdesk.models import Ticket, TicketCategory

CATEGORY_FIELDS = ("name", "description", "icon", "color", "is_active", "sort_order")


def list_categories(include_inactive: bool = True) -> list[TicketCategory]:
    query = db.select(TicketCategory).order_by(TicketCategory.sort_order, TicketCategory.name)
    if not include_inactive:
        query = query.where(TicketCategory.is_active.is_(True))
    return list(db.session.scalars(query))


def get_category(category_id: uuid.UUID | str | None) -> TicketCategory | None:
    try:
        key = category_id if isinstance(category_id, uuid.UUID) else uuid.UUID(str(category_id))
    except ValueError:
        return None
    return db.session.get(TicketCategory, key)


def _check_name_free(name: str, exclude: uuid.UUID | None = None) -> None:
    # Compared in Python: SQLite's lower() folds ASCII letters only, and names are mostly Cyrillic.
    wanted = name.strip().casefold()
    for other_id, other_name in db.session.execute(db.select(TicketCategory.id, TicketCategory.name)):
        if other_id != exclude and other_name.strip().casefold() == wanted:
            raise ServiceError("A category with this name exists", 422, "VALIDATION_ERROR", "name")


def create_category(**fields) -> TicketCategory:
    _check_name_free(fields["name"])
    category = TicketCategory(**{k: v for k, v in fields.items() if k in CATEGORY_FIELDS and v is not None})
    db.session.add(category)
    db.session.flush()
    return category


def update_category(category: TicketCategory, **changes) -> TicketCategory:
    if changes.get("name") is not None:
        _check_name_free(changes["name"], category.id)
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
