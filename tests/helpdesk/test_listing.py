"""The ticket list's service: what each row shows, a constant number of statements per page, and
the staff count cache that must never serve a count older than the last committed ticket change."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime

import sqlalchemy as sa

from tests.organizations import default_organization_id
from webapp.core.services import get_user
from webapp.extensions import db, redis_store
from webapp.helpdesk import services
from webapp.helpdesk.models import Ticket, TicketCategory


def page(viewer_ns, **filters):
    return services.ticket_page(get_user(viewer_ns.id), page=1, size=20, **filters)


def test_rows_show_category_customer_account_assignee_and_visible_messages(app_ctx, make_user, hd_ticket):
    customer = make_user("user", telegram_id=777001, username=None, first_name="Аня")
    helper = make_user("helper", first_name="")
    category = TicketCategory(name="Оплата", icon="💳", color="#ff6b6b", organization_id=default_organization_id())
    db.session.add(category)
    db.session.commit()
    with_all = db.session.get(Ticket, hd_ticket(customer, title="Всё есть", category=category).id)
    hd_ticket(customer, title="Без категории")
    staff = get_user(helper.id)
    services.assign(with_all, staff, staff)
    services.add_message(with_all, get_user(customer.id), "Вопрос")
    services.add_message(with_all, staff, "заметка", is_internal=True)
    db.session.commit()

    items = {i["title"]: i for i in page(helper)["items"]}
    item = items["Всё есть"]
    assert item["category"] == {"id": str(category.id), "name": "Оплата", "icon": "💳", "color": "#ff6b6b"}
    # No username on the user: the Telegram account's (none here either), and its Telegram id.
    assert item["user"] == {"id": str(customer.id), "telegram_id": 777001, "first_name": "Аня", "username": None}
    # An assignee without a first name is shown by username, with the seed's role name.
    assert item["assigned_to"] == {"id": str(helper.id), "first_name": helper.username, "role": "HELPER"}
    assert item["messages_count"] == 2
    assert item["last_message_at"].endswith("Z")
    assert items["Без категории"]["category"] is None and items["Без категории"]["assigned_to"] is None
    assert items["Без категории"]["messages_count"] == 0 and items["Без категории"]["last_message_at"] is None

    mine = {i["title"]: i for i in page(customer)["items"]}
    assert mine["Всё есть"]["messages_count"] == 1  # the internal note is staff-only


def test_statements_per_page_do_not_grow_with_the_page(app_ctx, make_user, hd_ticket):
    customer, helper = make_user("user", telegram_id=777002), make_user("helper")
    statements: list[str] = []

    def counted(viewer) -> int:
        statements.clear()
        listener = lambda *args: statements.append(args[2])  # noqa: E731
        sa.event.listen(db.engine, "before_cursor_execute", listener)
        try:
            services.ticket_page(viewer, page=1, size=20)
        finally:
            sa.event.remove(db.engine, "before_cursor_execute", listener)
        return len(statements)

    viewer_staff, viewer_customer = get_user(helper.id), get_user(customer.id)
    hd_ticket(customer)
    one = counted(viewer_customer), counted(viewer_staff)
    for n in range(19):
        hd_ticket(customer, title=f"T{n}")
    assert counted(viewer_customer) == one[0] == 2  # the count and the page
    # Staff: the viewer's organization (a primary-key probe of the membership), the count, the page.
    assert counted(viewer_staff) == one[1] == 3  # new tickets since: counted again
    assert counted(viewer_staff) == 2  # the membership and the page; the unchanged count came from Redis


def test_staff_count_follows_every_committed_change_and_ignores_rolled_back_ones(app_ctx, make_user, hd_ticket):
    customer, helper = make_user("user"), make_user("helper")
    staff = get_user(helper.id)
    first = db.session.get(Ticket, hd_ticket(customer, title="A").id)
    assert page(helper)["total"] == 1
    assert page(helper, status="OPEN")["total"] == 1

    hd_ticket(customer, title="B")  # created through the service and committed
    assert page(helper)["total"] == 2

    services.start_work(first, staff)  # a status change moves it between filtered counts
    db.session.commit()
    assert page(helper, status="OPEN")["total"] == 1
    assert page(helper, status="IN_PROGRESS")["total"] == 1
    assert page(helper, assigned_to=helper.id)["total"] == 0
    services.assign(first, staff, staff)
    db.session.commit()
    assert page(helper, assigned_to=helper.id)["total"] == 1

    assert page(helper)["total"] == 2
    generation = int(redis_store.client.hget("helpdesk:ticket-counts", "generation"))
    services.resolve(first, staff)
    db.session.flush()
    db.session.rollback()  # never committed: nothing changes, not even the generation
    assert page(helper, status="IN_PROGRESS")["total"] == 1
    assert int(redis_store.client.hget("helpdesk:ticket-counts", "generation")) == generation

    # A row written behind the ORM's back is not seen while the cached count is current...
    now = datetime.now(UTC)
    db.session.execute(
        sa.insert(Ticket).values(
            id=uuid.uuid4(),
            title="bulk",
            description="",
            status="OPEN",
            priority="NORMAL",
            user_id=customer.id,
            organization_id=default_organization_id(),
            source="bulk",
            created_at=now,
            updated_at=now,
        )
    )
    db.session.commit()
    assert page(helper)["total"] == 2
    assert int(redis_store.client.hget("helpdesk:ticket-counts", "generation")) == generation
    # ...and is counted as soon as any ORM change to a ticket commits.
    services.delete_ticket(db.session.get(Ticket, first.id), get_user(make_user("admin").id))
    db.session.commit()
    assert page(helper)["total"] == 2  # B and bulk
    assert page(customer)["total"] == 2  # a customer's own count is never cached
