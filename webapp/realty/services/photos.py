"""Listing photos uploaded in the console.

``Listing.photos`` is one list of strings whatever their origin: Telegram file ids (the bot's
wizard), links to other hosts (API clients), and — for a console upload — the URL under which the
platform serves the picture. The bytes live like the helpdesk's attachments (``LocalStorage``
under ``UPLOAD_DIR``, a random key no upload chooses), in ``realty/photos``. The key is 128 random
bits: the link is the credential, so guests' apps and ``<img>`` tags load it without a token, the
way a CDN serves listing pictures.
"""

from __future__ import annotations

import io
import re
from dataclasses import dataclass
from pathlib import Path

import filetype
from flask import current_app
from PIL import Image, UnidentifiedImageError

from webapp.core.services import ServiceError
from webapp.helpdesk.storage import LocalStorage, new_key
from webapp.realty.services.listings import MAX_PHOTOS, invalid

PHOTO_TYPES = frozenset({"image/png", "image/jpeg", "image/webp"})
MAX_PHOTO_BYTES = 5 * 1024 * 1024
URL_PREFIX = "/api/v1/realty/photos/"
_URL_KEY = re.compile(rf"^{re.escape(URL_PREFIX)}([0-9a-f]{{2}}/[0-9a-f]{{32}})$")


@dataclass(frozen=True)
class Photo:
    """A vetted upload, not stored yet: its URL is known before the listing is saved."""

    key: str
    content: bytes

    @property
    def url(self) -> str:
        return URL_PREFIX + self.key


def _storage() -> LocalStorage:
    return LocalStorage(Path(current_app.config["UPLOAD_DIR"]) / "realty" / "photos")


def vet_photo(content: bytes) -> Photo:
    """A PNG, JPEG or WebP picture of at most 5 MB that really decodes; else 422 on ``photos``."""
    if not content:
        raise invalid("photos", "The file is empty")
    if len(content) > MAX_PHOTO_BYTES:
        raise invalid("photos", "A photo may be at most 5 MB")
    kind = filetype.guess(content[:8192])
    if kind is None or kind.mime not in PHOTO_TYPES:
        raise invalid("photos", "Upload a PNG, JPEG or WebP picture")
    try:
        with Image.open(io.BytesIO(content)) as image:
            image.verify()
    except (UnidentifiedImageError, OSError, ValueError, SyntaxError) as exc:
        raise invalid("photos", "This picture cannot be read") from exc
    return Photo(new_key(), content)


def vet_photos(contents: list[bytes], kept: int) -> list[Photo]:
    if kept + len(contents) > MAX_PHOTOS:
        raise invalid("photos", f"At most {MAX_PHOTOS} photos")
    return [vet_photo(content) for content in contents]


def store(photos: list[Photo]) -> None:
    storage = _storage()
    for photo in photos:
        storage.save(photo.key, photo.content)


def key_of(url: str) -> str | None:
    """The storage key of a photo this platform serves; None for a file id or a foreign link."""
    match = _URL_KEY.match(url or "")
    return match.group(1) if match else None


def load(key: str) -> tuple[bytes, str]:
    """The bytes and type of a stored photo; 404 when there is none under ``key``."""
    try:
        content = _storage().load(key)
    except (ValueError, FileNotFoundError) as exc:
        raise ServiceError("Photo not found", 404, "NOT_FOUND") from exc
    kind = filetype.guess(content[:8192])
    return content, kind.mime if kind else "application/octet-stream"


def shown_url(photo: str) -> str | None:
    """What an ``<img>`` can load: our own photos and https links; a Telegram file id is not a URL."""
    if key_of(photo) or photo.startswith("https://"):
        return photo
    return None
