"""Building the app stays light without changing what it serves: spectree's model schemas wait for the
OpenAPI document and come out as spectree builds them, and Flask-Migrate and the document libraries
wait for their first use."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from decimal import Decimal
from pathlib import Path

from flask import Flask
from pydantic import BaseModel
from spectree import Response, SpecTree

from webapp.core.apispec import BotdeskSpecTree

ROOT = Path(__file__).resolve().parents[2]


class Inner(BaseModel):
    amount: Decimal  # validation: number or string; serialization: string


class Money(BaseModel):
    inner: Inner
    note: str = ""


class Problem(BaseModel):
    message: str


def _documented_app(tree_class: type[SpecTree]) -> tuple[SpecTree, Flask]:
    tree = tree_class("flask", title="t", version="1", mode="strict", validation_error_model=Problem)
    app = Flask(__name__)

    # Money is an answer (serialization) before it is a body (validation), then an answer again:
    # the document shows the last one spectree stored; Problem comes with every operation.
    @app.get("/first")
    @tree.validate(resp=Response(HTTP_200=Money))
    def first():
        return {"inner": {"amount": "1.50"}}

    @app.post("/second")
    @tree.validate(json=Money, resp=Response(HTTP_201=Problem))
    def second():
        return {"message": "made"}, 201

    @app.put("/third")
    @tree.validate(json=Inner, resp=Response(HTTP_200=Money))
    def third():
        return {"inner": {"amount": "2"}}

    @app.delete("/fourth")
    @tree.validate(json=Money)
    def fourth():
        return {}

    tree.register(app)
    return tree, app


def test_the_document_is_spectrees_own_and_validation_needs_no_schema():
    ours, app = _documented_app(BotdeskSpecTree)
    theirs, their_app = _documented_app(SpecTree)
    assert ours._pending_models  # nothing generated yet

    client = app.test_client()
    assert client.put("/third", json={"amount": "x"}).status_code == 422
    assert client.put("/third", json={"amount": "3.25"}).status_code == 200  # its answer validated too
    assert ours._pending_models  # validating requests and answers did not need the schemas

    with app.app_context():
        document = ours.spec
    with their_app.app_context():
        expected = theirs.spec
    assert len(document["paths"]) == 4
    assert json.dumps(document) == json.dumps(expected)  # same keys, same order, same schemas
    lifted = next(v for k, v in document["components"]["schemas"].items() if k.startswith("Money.") and "Inner" in k)
    assert "anyOf" in lifted["properties"]["amount"]  # validation's Inner: Money was last stored by /fourth
    assert not ours._pending_models


def test_building_the_app_leaves_what_it_does_not_use_unimported():
    from tests.conftest import BACKEND, child_process_secrets

    env = {
        **os.environ,
        **child_process_secrets(),
        "DATABASE_URL": BACKEND.database_url,
        "REDIS_URL": "redis://127.0.0.1:1/0",  # never contacted
        "PYTHONPATH": str(ROOT),
    }
    code = (
        "import sys\nfrom webapp import create_app\ncreate_app()\n"
        "print(sorted({'alembic', 'flask_migrate', 'fpdf', 'icalendar', 'offapi', 'phonenumbers', 'telebot'}"
        " & set(sys.modules)))"
    )
    done = subprocess.run([sys.executable, "-c", code], cwd=ROOT, env=env, capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr[-2000:]
    assert done.stdout.strip().splitlines()[-1] == "[]"


def test_db_commands_load_flask_migrate_when_used():
    from tests.conftest import make_app

    app = make_app()
    assert type(app.extensions["migrate"]).__name__ == "_MigrateOnFirstUse"
    result = app.test_cli_runner().invoke(args=["db", "heads"])
    # Its "(head)" line is not checked: Alembic prints to the stdout it found when first imported,
    # which in a full run is pytest's, not the runner's.
    assert result.exit_code == 0, result.output
    assert type(app.extensions["migrate"]).__name__ == "_MigrateConfig"
    assert app.extensions["migrate"].configure_args == {"compare_type": True, "render_as_batch": True}
