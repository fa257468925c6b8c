"""The one pagination helper: count, cut one page, and give it in the shape its reader expects.

Two shapes: the API's (seed 003: ``items``, ``total``, ``page``, ``size``, ``pages``; ``pages`` is 0
when there is nothing, a page past the end is empty) and the console's (``pages`` at least 1, the
requested page clamped into range, so a stale ``?page=9`` link shows the last page).
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, Literal

Shape = Literal["api", "console"]


@dataclass(frozen=True)
class Page:
    items: list
    total: int
    page: int
    size: int
    pages: int

    def as_dict(self) -> dict[str, Any]:
        return {"items": self.items, "total": self.total, "page": self.page, "size": self.size, "pages": self.pages}


def count_pages(total: int, size: int, shape: Shape = "api") -> int:
    pages = math.ceil(total / size) if total else 0
    return max(pages, 1) if shape == "console" else pages


def page_window(page: int, size: int) -> tuple[int, int]:
    """``(limit, offset)`` of page ``page`` (1-based) of ``size`` rows."""
    return size, (page - 1) * size


def count(query) -> int:
    """The rows ``query`` would return, counted without its ORDER BY."""
    from webapp.extensions import db

    return db.session.scalar(db.select(db.func.count()).select_from(query.order_by(None).subquery())) or 0


def fetch_page(
    query,
    page: int,
    size: int,
    *,
    shape: Shape = "api",
    max_page: int | None = None,
    unique: bool = False,
) -> Page:
    """One page of the entities ``query`` selects. ``unique``: the query joins eager collections."""
    from webapp.extensions import db

    total = count(query)
    pages = count_pages(total, size, shape)
    if shape == "console":
        page = min(max(page, 1), pages)
    if max_page is not None:
        page = min(page, max_page)
    limit, offset = page_window(page, size)
    result = db.session.scalars(query.limit(limit).offset(offset))
    rows = list(result.unique() if unique else result)
    return Page(rows, total, page, size, pages)


def paginate(query, page: int, size: int, serialize: Callable[[Any], Any] = lambda row: row) -> dict[str, Any]:
    """Seed 003's page of ``query``'s rows, each through ``serialize``."""
    found = fetch_page(query, page, size)
    return page_of([serialize(row) for row in found.items], found.total, page, size)


def page_of(items: list, total: int, page: int, size: int) -> dict[str, Any]:
    """Seed 003's page shape around items already fetched."""
    return Page(items, total, page, size, count_pages(total, size)).as_dict()
