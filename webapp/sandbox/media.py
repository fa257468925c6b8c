"""What Telegram learns from an uploaded file: its MIME type and, for photos, the picture size.

Telegram refuses a "photo" it cannot decode (IMAGE_PROCESS_FAILED); the sandbox reads the
dimensions from the PNG, JPEG, GIF or WebP header and refuses anything else the same way.
"""

from __future__ import annotations

import mimetypes
import struct

# Telegram's file_path folders and default extensions per kind of file.
KIND_FOLDERS = {
    "document": ("documents", ""),
    "photo": ("photos", ".jpg"),
    "voice": ("voice", ".oga"),
    "audio": ("music", ".mp3"),
}
IMAGE_MIME = {"png": "image/png", "jpeg": "image/jpeg", "gif": "image/gif", "webp": "image/webp"}


def guess_mime(file_name: str | None, given: str | None = None, default: str = "application/octet-stream") -> str:
    if given and "/" in given:
        return given
    if file_name:
        guessed, _ = mimetypes.guess_type(file_name)
        if guessed:
            return guessed
    return default


def image_size(content: bytes) -> tuple[str, int, int] | None:
    """(format, width, height) of a PNG/JPEG/GIF/WebP image, None when it is not one."""
    if content.startswith(b"\x89PNG\r\n\x1a\n") and len(content) >= 24 and content[12:16] == b"IHDR":
        width, height = struct.unpack(">II", content[16:24])
        return "png", width, height
    if content[:6] in (b"GIF87a", b"GIF89a") and len(content) >= 10:
        width, height = struct.unpack("<HH", content[6:10])
        return "gif", width, height
    if content.startswith(b"\xff\xd8"):
        return _jpeg_size(content)
    if content[:4] == b"RIFF" and content[8:12] == b"WEBP":
        return _webp_size(content)
    return None


def _jpeg_size(content: bytes) -> tuple[str, int, int] | None:
    pos = 2
    while pos + 9 < len(content):
        if content[pos] != 0xFF:
            return None
        marker = content[pos + 1]
        if marker in (0xD8, 0x01) or 0xD0 <= marker <= 0xD7:
            pos += 2
            continue
        (length,) = struct.unpack(">H", content[pos + 2 : pos + 4])
        # SOF0..SOF15 carry the frame size, except DHT (C4), JPG (C8) and DAC (CC).
        if 0xC0 <= marker <= 0xCF and marker not in (0xC4, 0xC8, 0xCC):
            height, width = struct.unpack(">HH", content[pos + 5 : pos + 9])
            return "jpeg", width, height
        pos += 2 + length
    return None


def _webp_size(content: bytes) -> tuple[str, int, int] | None:
    chunk = content[12:16]
    if chunk == b"VP8X" and len(content) >= 30:
        width = int.from_bytes(content[24:27], "little") + 1
        height = int.from_bytes(content[27:30], "little") + 1
        return "webp", width, height
    if chunk == b"VP8 " and len(content) >= 30:
        width, height = struct.unpack("<HH", content[26:30])
        return "webp", width & 0x3FFF, height & 0x3FFF
    if chunk == b"VP8L" and len(content) >= 25:
        bits = int.from_bytes(content[21:25], "little")
        return "webp", (bits & 0x3FFF) + 1, ((bits >> 14) & 0x3FFF) + 1
    return None
