"""A ticket opened by a staff member does not show helpers that staff member's Telegram id (it was a
chat-id login target); a customer's ticket shows theirs, since the desk answers them in Telegram."""

from __future__ import annotations


def test_helpers_see_a_customers_telegram_id_but_not_a_staff_authors(client, make_user, auth_header, hd_ticket):
    helper = make_user("helper")
    customer = make_user("user", telegram_id=5_100_001)
    admin = make_user("admin", telegram_id=5_100_002)
    customer_ticket = hd_ticket(customer, title="Не проходит оплата")
    staff_ticket = hd_ticket(admin, title="Проверка от администратора")
    headers = auth_header(helper)

    listed = client.get("/api/v1/tickets?limit=50", headers=headers).get_json()
    shown = {item["id"]: item["user"]["telegram_id"] for item in listed["items"]}
    assert shown[str(customer_ticket.id)] == 5_100_001
    assert shown[str(staff_ticket.id)] is None
    for ticket, expected in ((customer_ticket, 5_100_001), (staff_ticket, None)):
        detail = client.get(f"/api/v1/tickets/{ticket.id}", headers=headers).get_json()
        assert detail["user"]["telegram_id"] == expected
