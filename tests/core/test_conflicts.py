"""A duplicate that slips past a service's own check (two requests at once) answers 409, not 500."""

from __future__ import annotations

import sqlalchemy as sa

from webapp.core.models import User
from webapp.extensions import csrf, db


def test_a_unique_violation_at_commit_answers_409_and_writes_nothing(app):
    from tests.conftest import make_app

    racing = make_app()

    @racing.post("/api/v1/test-only/users/<name>")
    def create_without_checking(name: str):
        # What the loser of a check-then-insert race does: its check saw no row, its insert meets one.
        db.session.add(User(username=name, first_name="First", role="user", language="ru"))
        db.session.add(User(username=f"{name}-companion", first_name="Second", role="user", language="ru"))
        db.session.commit()
        return {"created": name}, 201

    csrf.exempt(create_without_checking)  # a JSON API route, as every /api blueprint is

    client = racing.test_client()
    assert client.post("/api/v1/test-only/users/twice").status_code == 201
    again = client.post("/api/v1/test-only/users/twice")
    assert again.status_code == 409
    assert again.get_json()["error"]["code"] == "CONFLICT"
    with racing.app_context():
        names = db.session.scalars(sa.select(User.username).where(User.username.like("twice%"))).all()
    assert sorted(names) == ["twice", "twice-companion"]  # the second request left nothing behind
