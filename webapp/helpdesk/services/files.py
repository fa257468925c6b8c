"""Uploaded files: vetted, stored under a random key, attached to one message, purged when orphaned."""

from __future__ import annotations

import hashlib
import uuid
from collections.abc import Iterable
from datetime import datetime, timedelta

from webapp.core.db import utcnow
from webapp.core.models import User
from webapp.core.oncommit import on_commit, on_rollback
from webapp.core.services import ServiceError
from webapp.extensions import db
from webapp.helpdesk.models import HelpdeskFile, TicketMessage
from webapp.helpdesk.storage import FileStorage, UploadRejected, get_storage, new_key, vet_upload

ORPHAN_AGE = timedelta(hours=24)


def store_upload(uploader: User | None, content: bytes, filename: str | None) -> HelpdeskFile:
    """Vet and store the bytes; the row is flushed, the caller commits."""
    try:
        vetted = vet_upload(content, filename)
    except UploadRejected as exc:
        raise ServiceError(str(exc), 422, "VALIDATION_ERROR", "file") from exc
    key = new_key()
    get_storage().save(key, content)
    row = HelpdeskFile(
        filename=vetted.filename,
        content_type=vetted.content_type,
        size=len(content),
        sha256=hashlib.sha256(content).hexdigest(),
        storage_key=key,
        uploaded_by_id=uploader.id if uploader else None,
    )
    db.session.add(row)
    # A rolled-back upload must not leave its bytes behind.
    _delete_on_rollback(key)
    db.session.flush()
    return row


def get_file(file_id: uuid.UUID | str) -> HelpdeskFile | None:
    try:
        key = file_id if isinstance(file_id, uuid.UUID) else uuid.UUID(str(file_id))
    except ValueError:
        return None
    return db.session.get(HelpdeskFile, key)


def read_file(file: HelpdeskFile, storage: FileStorage | None = None) -> bytes:
    return (storage or get_storage()).load(file.storage_key)


def claim_attachments(author: User, ids: Iterable[uuid.UUID], message: TicketMessage) -> list[HelpdeskFile]:
    """Attach the author's own, not yet attached uploads to ``message``; anything else is refused."""
    wanted = list(dict.fromkeys(ids))
    if not wanted:
        return []
    rows = db.session.scalars(db.select(HelpdeskFile).where(HelpdeskFile.id.in_(wanted))).all()
    found = {row.id: row for row in rows}
    for file_id in wanted:
        row = found.get(file_id)
        if row is None or row.uploaded_by_id != author.id:
            raise ServiceError(f"File {file_id} was not uploaded by you", 422, "VALIDATION_ERROR", "attachments")
        if row.message_id is not None:
            raise ServiceError(f"File {file_id} is already attached", 422, "VALIDATION_ERROR", "attachments")
    for row in (found[i] for i in wanted):
        row.message = message
    return [found[i] for i in wanted]


def delete_files_after_commit(keys: Iterable[str]) -> None:
    keys = list(keys)
    if keys:
        on_commit(lambda: _delete_stored(keys))


def _delete_on_rollback(key: str) -> None:
    on_rollback(lambda: _delete_stored([key]))


def _delete_stored(keys: list[str]) -> None:
    storage = _storage_or_none()
    if storage is not None:
        for key in keys:
            storage.delete(key)


def _storage_or_none() -> FileStorage | None:
    from flask import has_app_context

    return get_storage() if has_app_context() else None


def purge_orphan_files(now: datetime | None = None) -> int:
    """Delete uploads never attached to a message within a day (abandoned drafts)."""
    cutoff = (now or utcnow()) - ORPHAN_AGE
    rows = db.session.scalars(
        db.select(HelpdeskFile).where(HelpdeskFile.message_id.is_(None), HelpdeskFile.created_at < cutoff)
    ).all()
    delete_files_after_commit(r.storage_key for r in rows)
    for row in rows:
        db.session.delete(row)
    db.session.flush()
    return len(rows)
