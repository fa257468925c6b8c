"""Secrets and trust defaults: generated only on the embedded default, required everywhere else."""

from __future__ import annotations

import pytest

from config import GENERATED_SECRETS, MissingSecrets, fresh_secrets, load_config


def test_services_without_secrets_refuse_to_start_naming_each(tmp_path):
    env = {"DATABASE_URL": "postgresql://db/botdesk", "REDIS_URL": "redis://r/0", "BOTDESK_INSTANCE_DIR": str(tmp_path)}
    with pytest.raises(MissingSecrets) as caught:
        load_config(env)
    for name in GENERATED_SECRETS:
        assert name in str(caught.value)
    assert "SANDBOX_KEY" not in str(caught.value)  # the sandbox is off unless asked for
    assert not (tmp_path / "secrets.json").exists()


def test_services_with_one_secret_missing_name_it(tmp_path):
    env = {"DATABASE_URL": "postgresql://db/botdesk", "BOTDESK_INSTANCE_DIR": str(tmp_path), **fresh_secrets()}
    del env["DOWNLOAD_SIGNING_KEY"]
    with pytest.raises(MissingSecrets, match="DOWNLOAD_SIGNING_KEY"):
        load_config(env)


def test_services_defaults_are_closed(tmp_path):
    env = {"DATABASE_URL": "postgresql://db/botdesk", "BOTDESK_INSTANCE_DIR": str(tmp_path), **fresh_secrets()}
    del env["SANDBOX_KEY"]
    cfg = load_config(env)
    assert cfg["EMBEDDED"] is False
    assert cfg["TELEGRAM_LOGIN_REQUIRES_SERVICE_AUTH"] is True
    assert cfg["SANDBOX_ENABLED"] is False
    assert cfg["JWT_TOKEN_LOCATION"] == ["headers"]
    off = load_config({**env, "TELEGRAM_LOGIN_REQUIRES_SERVICE_AUTH": "0"})
    assert off["TELEGRAM_LOGIN_REQUIRES_SERVICE_AUTH"] is False
    with pytest.raises(MissingSecrets, match="SANDBOX_KEY"):  # a sandbox outside the demo needs its key
        load_config({**env, "SANDBOX_ENABLED": "1"})
    assert load_config({**env, "SANDBOX_ENABLED": "1", "SANDBOX_KEY": "k" * 32})["SANDBOX_ENABLED"] is True


def test_embedded_default_generates_and_keeps_secrets(tmp_path):
    env = {"BOTDESK_INSTANCE_DIR": str(tmp_path)}
    first = load_config(env)
    assert first["EMBEDDED"] is True and first["SANDBOX_ENABLED"] is True
    assert first["TELEGRAM_LOGIN_REQUIRES_SERVICE_AUTH"] is False
    assert first["SANDBOX_KEY"] and first["JWT_SECRET_KEY"]
    again = load_config(env)
    assert all(again[name] == first[name] for name in (*GENERATED_SECRETS, "SANDBOX_KEY"))


def test_sandbox_outside_embedded_logs_a_warning(tmp_path, caplog):
    from tests.conftest import make_app

    with caplog.at_level("WARNING"):
        make_app(EMBEDDED=False, SANDBOX_ENABLED=True)
    assert any("sandbox" in r.getMessage().lower() and r.levelname == "WARNING" for r in caplog.records)
