"""Uploads: type from the bytes, size limit, safe names, who may download, orphan clean-up."""

from __future__ import annotations

from datetime import timedelta

import pytest

from tests.fixtures.helpdesk import PDF_BYTES, PNG_BYTES
from webapp.core.db import utcnow
from webapp.core.services import ServiceError, get_user
from webapp.extensions import db
from webapp.helpdesk import services
from webapp.helpdesk.models import HelpdeskFile, Ticket
from webapp.helpdesk.storage import LocalStorage, UploadRejected, get_storage, safe_filename, vet_upload


@pytest.mark.parametrize(
    "given,expected",
    [
        ("скриншот оплаты.png", "скриншот оплаты.png"),
        ("../../etc/passwd", "passwd"),
        ("C:\\Users\\me\\report.pdf", "report.pdf"),
        ('bad<>:"|?*name.txt', "bad_name.txt"),
        ("\x00\x1f", "file"),
        ("", "file"),
        (None, "file"),
        ("..", "file"),
        ("a" * 300 + ".pdf", "a" * 196 + ".pdf"),
    ],
)
def test_safe_filename(given, expected):
    assert safe_filename(given) == expected


def test_type_is_sniffed_from_bytes_not_name(app_ctx):
    assert vet_upload(PNG_BYTES, "notes.txt").content_type == "image/png"
    assert vet_upload(PDF_BYTES, "x.png").content_type == "application/pdf"
    assert vet_upload("Привет, это текст".encode(), "note").content_type == "text/plain"


@pytest.mark.parametrize(
    "content,reason",
    [
        (b"", "empty"),
        (b"MZ\x90\x00\x03\x00\x00\x00\x04\x00\x00\x00\xff\xff" + b"\x00" * 64, "type"),
        (b"\x7fELF\x02\x01\x01" + b"\x00" * 64, "type"),
        (b"\x00\x01\x02\x03\xff\xfe" * 10, "type"),
    ],
)
def test_unacceptable_uploads(app_ctx, content, reason):
    with pytest.raises(UploadRejected) as err:
        vet_upload(content, "x.bin")
    assert reason in str(err.value)


def test_size_limit(app, app_ctx, monkeypatch):
    monkeypatch.setitem(app.config, "MAX_CONTENT_LENGTH", len(PNG_BYTES) - 1)
    with pytest.raises(UploadRejected):
        vet_upload(PNG_BYTES, "x.png")


def test_storage_keys_cannot_escape_the_root(tmp_path):
    storage = LocalStorage(tmp_path)
    for key in ("../x", "/etc/passwd", "ab/../../x", "ab/cd"):
        with pytest.raises(ValueError):
            storage.save(key, b"x")


def test_download_rights(app_ctx, make_user, hd_ticket):
    owner_ns, other_ns, helper_ns = make_user("user"), make_user("user"), make_user("helper")
    ticket = db.session.get(Ticket, hd_ticket(owner_ns).id)
    owner, other, helper = get_user(owner_ns.id), get_user(other_ns.id), get_user(helper_ns.id)
    public = services.store_upload(owner, PNG_BYTES, "a.png")
    note_file = services.store_upload(helper, PDF_BYTES, "internal.pdf")
    draft = services.store_upload(owner, PNG_BYTES, "draft.png")
    services.add_message(ticket, owner, "скрин", attachment_ids=[public.id])
    services.add_message(ticket, helper, "лог", is_internal=True, attachment_ids=[note_file.id])
    db.session.commit()
    assert services.can_download(owner, public) and services.can_download(helper, public)
    assert not services.can_download(other, public)
    assert services.can_download(helper, note_file) and not services.can_download(owner, note_file)
    assert services.can_download(owner, draft) and not services.can_download(helper, draft)


def test_attachments_must_be_own_and_unattached(app_ctx, make_user, hd_ticket):
    owner_ns, helper_ns = make_user("user"), make_user("helper")
    ticket = db.session.get(Ticket, hd_ticket(owner_ns).id)
    owner, helper = get_user(owner_ns.id), get_user(helper_ns.id)
    helpers_file = services.store_upload(helper, PNG_BYTES, "h.png")
    mine = services.store_upload(owner, PNG_BYTES, "m.png")
    with pytest.raises(ServiceError) as err:
        services.add_message(ticket, owner, "чужой файл", attachment_ids=[helpers_file.id])
    assert err.value.field == "attachments"
    services.add_message(ticket, owner, "мой файл", attachment_ids=[mine.id])
    with pytest.raises(ServiceError):
        services.add_message(ticket, owner, "ещё раз", attachment_ids=[mine.id])


def test_rolled_back_upload_leaves_no_bytes(app_ctx, make_user):
    owner = get_user(make_user("user").id)
    row = services.store_upload(owner, PNG_BYTES, "a.png")
    key = row.storage_key
    db.session.rollback()
    with pytest.raises(FileNotFoundError):
        get_storage().load(key)


def test_orphans_are_purged_after_a_day(app_ctx, make_user, hd_ticket):
    owner_ns = make_user("user")
    ticket = db.session.get(Ticket, hd_ticket(owner_ns).id)
    owner = get_user(owner_ns.id)
    old_orphan = services.store_upload(owner, PNG_BYTES, "old.png")
    new_orphan = services.store_upload(owner, PNG_BYTES, "new.png")
    attached = services.store_upload(owner, PNG_BYTES, "used.png")
    services.add_message(ticket, owner, "x", attachment_ids=[attached.id])
    old_orphan.created_at = attached.created_at = utcnow() - timedelta(days=2)
    db.session.commit()
    old_key = old_orphan.storage_key
    assert services.purge_orphan_files() == 1
    db.session.commit()
    assert {f.filename for f in db.session.scalars(db.select(HelpdeskFile))} == {"new.png", "used.png"}
    with pytest.raises(FileNotFoundError):
        get_storage().load(old_key)
    assert get_storage().load(new_orphan.storage_key) == PNG_BYTES
