"""Voice commands: audio → text → the same parser as typed text, each step logged in VoiceCommandLog.

Telegram-free: the bot downloads the note and hands the bytes here. Nothing is saved as a record
until the user confirms (``confirm_voice``), exactly as for text.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass

from webapp.core.models import User
from webapp.extensions import db
from webapp.finance.models import VoiceCommandLog, VoiceStatus
from webapp.finance.services import ledger
from webapp.finance.services.parser import ParsedCommand, parse_command
from webapp.finance.services.speech import AudioError, SpeechEngine, to_wav

log = logging.getLogger(__name__)


@dataclass
class VoiceOutcome:
    log: VoiceCommandLog
    parsed: ParsedCommand | None  # None when nothing was recognised

    @property
    def status(self) -> str:
        return self.log.status


def process_voice(
    user: User,
    data: bytes,
    engine: SpeechEngine | None,
    *,
    language: str | None = None,
    duration: float | None = None,
    bot_id: int | None = None,
    file_id: str | None = None,
) -> VoiceOutcome:
    """Recognise and parse one voice note; the log row records how far it got (never raises on bad audio)."""
    entry = VoiceCommandLog(
        user_id=user.id,
        bot_id=bot_id,
        telegram_file_id=(file_id or "")[:255] or None,
        language=language,
        status=VoiceStatus.RECEIVED.value,
        original_audio_duration=float(duration) if duration is not None else None,
        text="",
    )
    db.session.add(entry)
    if engine is None:
        entry.status = VoiceStatus.UNAVAILABLE.value
        db.session.flush()
        return VoiceOutcome(entry, None)
    entry.engine = engine.name
    try:
        audio = to_wav(data)
        entry.original_audio_duration = round(audio.duration, 2)
        heard = engine.recognize(audio, language)
    except AudioError as exc:
        return _failed(entry, f"audio: {exc}")
    except Exception as exc:  # a recogniser is third-party code: its failure is logged, not the update's
        log.exception("speech engine %s failed", engine.name)
        return _failed(entry, f"{type(exc).__name__}: {exc}")
    entry.text = heard.text
    entry.confidence_score = None if heard.confidence is None else round(float(heard.confidence), 4)
    if not heard.text.strip():
        entry.status = VoiceStatus.EMPTY.value
        db.session.flush()
        return VoiceOutcome(entry, None)
    parsed = parse_command(heard.text, categories=ledger.parser_categories(user))
    entry.intent = parsed.intent
    entry.status = (VoiceStatus.PARSED if parsed.complete else VoiceStatus.UNRECOGNISED).value
    db.session.flush()
    return VoiceOutcome(entry, parsed)


def _failed(entry: VoiceCommandLog, error: str) -> VoiceOutcome:
    entry.status = VoiceStatus.FAILED.value
    entry.error = error[:500]
    db.session.flush()
    return VoiceOutcome(entry, None)


def get_voice_log(user: User, log_id: int) -> VoiceCommandLog | None:
    entry = db.session.get(VoiceCommandLog, log_id)
    return entry if entry is not None and entry.user_id == user.id else None


def confirm_voice(entry: VoiceCommandLog, kind: str, record_id: str) -> None:
    entry.status = VoiceStatus.CONFIRMED.value
    entry.result_type, entry.result_id = kind, str(record_id)
    db.session.flush()


def cancel_voice(entry: VoiceCommandLog) -> None:
    entry.status = VoiceStatus.CANCELLED.value
    db.session.flush()


def undo_voice_result(user: User, kind: str, record_id: str) -> None:
    """The record a confirmed voice command made was undone: its log says so."""
    entry = db.session.scalar(
        db.select(VoiceCommandLog).where(
            VoiceCommandLog.user_id == user.id,
            VoiceCommandLog.result_type == kind,
            VoiceCommandLog.result_id == str(record_id),
        )
    )
    if entry is not None:
        entry.status = VoiceStatus.CANCELLED.value
        db.session.flush()


def confidence_histogram(buckets: int = 10, customers=None) -> list[tuple[str, int]]:
    """How many recognised voice notes fell in each confidence band (0–10 %, 10–20 %, … 90–100 %),
    of everyone's or of the ``customers``' (a select of user ids)."""
    counts = [0] * buckets
    query = db.select(VoiceCommandLog.confidence_score).where(VoiceCommandLog.confidence_score.is_not(None))
    if customers is not None:
        query = query.where(VoiceCommandLog.user_id.in_(customers))
    for (score,) in db.session.execute(query):
        counts[min(buckets - 1, max(0, int(score * buckets)))] += 1
    step = 100 // buckets
    return [(f"{i * step}–{(i + 1) * step}%", n) for i, n in enumerate(counts)]


def status_counts(customers=None) -> dict[str, int]:
    query = db.select(VoiceCommandLog.status, db.func.count()).group_by(VoiceCommandLog.status)
    if customers is not None:
        query = query.where(VoiceCommandLog.user_id.in_(customers))
    rows = db.session.execute(query).all()
    return {status: count for status, count in rows}
