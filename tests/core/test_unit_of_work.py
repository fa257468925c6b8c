"""One unit of work per request (issue 13): a request commits once, at its end, or writes nothing.

Views and services only flush; ``webapp.core.unit_of_work`` commits after the view returns, and every
error handler (the ServiceError one included) rolls the whole request back first.
"""

from __future__ import annotations

from contextlib import contextmanager

import sqlalchemy as sa
from sqlalchemy import event
from sqlalchemy.orm import Session

from webapp.core.models import User
from webapp.extensions import csrf, db
from webapp.finance.models import Category, Transaction, Wallet


@contextmanager
def counted_commits():
    """How many outermost transactions commit while the block runs (a released savepoint also
    fires ``after_commit``: it is not a commit of the request)."""
    seen: list[int] = []

    def count(session: Session) -> None:
        if not session.in_nested_transaction():
            seen.append(1)

    event.listen(Session, "after_commit", count)
    try:
        yield seen
    finally:
        event.remove(Session, "after_commit", count)


def _rows(app, model) -> int:
    with app.app_context():
        return db.session.scalar(sa.select(sa.func.count()).select_from(model))


def test_a_request_refused_after_writing_leaves_nothing_written(app, client, make_user, auth_header):
    """The finance ledger creates the caller's wallet and the built-in categories (both flushed
    inserts) before it finds that the category asked for does not exist: the ServiceError's 422
    takes all of it back."""
    user = make_user("user")
    response = client.post(
        "/api/transactions/",
        json={"amount": "10", "type": "expense", "category": "no-such-category"},
        headers=auth_header(user),
    )
    assert response.status_code == 422, response.get_json()
    error = response.get_json()["error"]
    assert error["code"] == "VALIDATION_ERROR"
    assert error["details"] == [{"field": "category", "message": "Unknown expense category: no-such-category"}]
    assert (_rows(app, Wallet), _rows(app, Category), _rows(app, Transaction)) == (0, 0, 0)


def test_a_successful_request_commits_exactly_once(app, client, make_user, auth_header):
    """Wallet, built-in categories and the transaction: several services, one commit, at the end."""
    user = make_user("user")
    headers = auth_header(user)
    with counted_commits() as commits:
        response = client.post("/api/transactions/", json={"amount": "10", "type": "expense"}, headers=headers)
    assert response.status_code == 201, response.get_json()
    assert len(commits) == 1
    assert (_rows(app, Wallet), _rows(app, Transaction)) == (1, 1)
    assert _rows(app, Category) > 0


def test_a_bot_token_request_commits_once_with_the_token_marked_used(app, client, make_user):
    """The auth decorator no longer commits ``last_used_at`` mid-request: it goes with the request."""
    from webapp.core.auth.service_tokens import generate_service_token
    from webapp.core.models import ServiceToken
    from webapp.core.services import get_user

    admin = make_user("admin")
    with app.app_context():
        plain, row = generate_service_token(get_user(admin.id), "probe")
        db.session.commit()
        token_id = row.id
    with counted_commits() as commits:
        response = client.get("/api/auth/service/", headers={"X-Bot-Token": plain})
    assert response.status_code == 200, response.get_json()
    assert len(commits) == 1
    with app.app_context():
        assert db.session.get(ServiceToken, token_id).last_used_at is not None


def test_a_unique_conflict_at_the_final_commit_answers_409(app):
    """The view returns without flushing; the duplicate surfaces only when the request commits."""
    from tests.conftest import make_app

    racing = make_app()

    @racing.post("/api/v1/test-only/deferred-users/<name>")
    def create_without_flushing(name: str):
        db.session.add(User(username=name, first_name="First", role="user", language="ru"))
        db.session.add(User(username=f"{name}-companion", first_name="Second", role="user", language="ru"))
        return {"created": name}, 201

    csrf.exempt(create_without_flushing)  # a JSON API route, as every /api blueprint is

    client = racing.test_client()
    assert client.post("/api/v1/test-only/deferred-users/late").status_code == 201
    again = client.post("/api/v1/test-only/deferred-users/late")
    assert again.status_code == 409, again.get_data(as_text=True)
    assert again.get_json()["error"]["code"] == "CONFLICT"
    with racing.app_context():
        names = db.session.scalars(sa.select(User.username).where(User.username.like("late%"))).all()
    assert sorted(names) == ["late", "late-companion"]  # the loser left nothing behind
