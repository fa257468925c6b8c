"""The one pagination helper: seed 003's page for the API, a clamped page for the console."""

from __future__ import annotations

import uuid

from webapp.core.pagination import count_pages, fetch_page, page_of, page_window, paginate


def test_api_shape_counts_no_pages_for_nothing():
    assert page_of([], 0, 1, 20) == {"items": [], "total": 0, "page": 1, "size": 20, "pages": 0}
    assert page_of(["a"], 41, 3, 20)["pages"] == 3
    assert count_pages(0, 20, "console") == 1
    assert page_window(3, 20) == (20, 40)


def test_pages_of_a_query(app_ctx, make_user):
    from webapp.core.models import User
    from webapp.extensions import db

    ids = sorted(str(make_user("user").id) for _ in range(5))
    query = db.select(User).where(User.id.in_([uuid.UUID(i) for i in ids])).order_by(User.id)

    page = paginate(query, 2, 2, lambda user: str(user.id))
    assert page == {"items": ids[2:4], "total": 5, "page": 2, "size": 2, "pages": 3}
    assert paginate(query, 9, 2)["items"] == []  # the API answers a page past the end empty

    clamped = fetch_page(query, 9, 2, shape="console")  # the console shows the last page
    assert (clamped.page, clamped.pages, [str(u.id) for u in clamped.items]) == (3, 3, ids[4:])
    assert fetch_page(query, 9, 2, shape="console", max_page=2).page == 2
