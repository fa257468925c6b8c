"""Seed 003's users API shows each real role; reading a role and saving it back changes nothing."""

from __future__ import annotations

import pytest


@pytest.mark.parametrize("role", ["realtor", "doctor", "marketer", "helper", "moderator", "user"])
def test_role_round_trip_keeps_the_real_role(app, client, make_user, auth_header, role):
    from webapp.core.services import get_user

    superuser = make_user("superuser")
    target = make_user(role)
    headers = auth_header(superuser)
    listed = client.get(f"/api/v1/users?search={target.username}", headers=headers).get_json()["items"]
    (shown,) = [u for u in listed if u["id"] == str(target.id)]
    assert shown["role"] == role.upper()
    saved = client.put(f"/api/v1/users/{target.id}/role", json={"role": shown["role"]}, headers=headers)
    assert saved.status_code == 200, saved.text
    assert saved.get_json()["role"] == role.upper()
    with app.app_context():
        assert get_user(target.id).role == role


def test_role_filter_and_seed_values(client, make_user, auth_header):
    admin = make_user("admin")
    make_user("doctor", first_name="Doc")
    make_user("helper", first_name="Help")
    headers = auth_header(admin)
    helpers = client.get("/api/v1/users?role=HELPER", headers=headers).get_json()["items"]
    assert [u["first_name"] for u in helpers] == ["Help"]
    doctors = client.get("/api/v1/users?role=DOCTOR", headers=headers).get_json()["items"]
    assert [u["first_name"] for u in doctors] == ["Doc"]
    me = client.get("/api/v1/auth/me", headers=headers).get_json()
    assert me["role"] == "ADMIN"
