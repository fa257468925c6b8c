"""A category's name is unique per desk, and concurrent creations of one name leave one row: the
loser is told the name exists (422), never a 500 from the unique key."""

from __future__ import annotations

from tests.core.test_races import N, count, post_all, statuses


def test_concurrent_creations_of_one_name_over_http(app, live_server, make_user, make_organization, auth_header):
    from webapp.helpdesk.models import TicketCategory

    admin = make_user("admin")
    responses = post_all(f"{live_server.url}/api/v1/categories", {"name": "Оплата"}, auth_header(admin))
    assert statuses(responses) == [201] + [422] * (N - 1)
    assert count(app, TicketCategory, TicketCategory.name == "Оплата") == 1
    # Another desk may have a category of the same name.
    other_admin = make_user("admin", organization=make_organization())
    responses = post_all(f"{live_server.url}/api/v1/categories", {"name": "Оплата"}, auth_header(other_admin))
    assert statuses(responses) == [201] + [422] * (N - 1)
    assert count(app, TicketCategory, TicketCategory.name == "Оплата") == 2
