"""Voice: real OGG/Opus decoding, the Vosk adapter's loading paths, and the pipeline with a test engine."""

from __future__ import annotations

import wave
from decimal import Decimal
from io import BytesIO

import pytest

from tests.fixtures.finance import FakeSpeechEngine, make_ogg_opus
from webapp.extensions import db
from webapp.finance.models import Transaction, VoiceCommandLog, VoiceStatus
from webapp.finance.services import ledger, speech, voice


def test_ogg_opus_becomes_16k_mono_wav():
    audio = speech.to_wav(make_ogg_opus(1.5))
    assert audio.sample_rate == 16_000
    assert audio.duration == pytest.approx(1.5, abs=0.05)
    with wave.open(BytesIO(audio.wav())) as w:
        assert (w.getnchannels(), w.getsampwidth(), w.getframerate()) == (1, 2, 16_000)
        assert w.getnframes() == len(audio.pcm) // 2


def test_garbage_and_overlong_audio_are_refused():
    with pytest.raises(speech.AudioError):
        speech.to_wav(b"definitely not audio")
    with pytest.raises(speech.AudioError, match="longer"):
        speech.to_wav(make_ogg_opus(2.0), max_seconds=1)


def test_vosk_adapter_refuses_missing_and_invalid_models(tmp_path):
    with pytest.raises(speech.SpeechUnavailable, match="not found"):
        speech.VoskEngine(str(tmp_path / "nowhere"))
    with pytest.raises(speech.SpeechUnavailable, match="not a Vosk model"):
        speech.VoskEngine(str(tmp_path))
    fake_model = tmp_path / "model"
    (fake_model / "am").mkdir(parents=True)
    (fake_model / "conf").mkdir()
    (fake_model / "am" / "final.mdl").write_bytes(b"not a kaldi model")
    with pytest.raises(speech.SpeechUnavailable, match="could not load"):
        speech.VoskEngine(str(fake_model))


def test_engine_for_is_none_without_a_usable_model(app, tmp_path, monkeypatch):
    monkeypatch.setitem(app.config, "VOSK_MODEL_PATH", "")
    assert speech.engine_for(app) is None
    monkeypatch.setitem(app.config, "VOSK_MODEL_PATH", str(tmp_path / "missing-model"))
    assert speech.engine_for(app) is None
    engine = FakeSpeechEngine("x")
    monkeypatch.setitem(app.extensions, speech.ENGINE_EXTENSION, engine)
    assert speech.engine_for(app) is engine


@pytest.fixture
def user(app_ctx, fin_user, load_user):
    return load_user(fin_user)


def test_without_an_engine_the_note_is_logged_as_unavailable(user, voice_note):
    outcome = voice.process_voice(user, voice_note, None, language="ru", duration=2)
    assert outcome.parsed is None and outcome.status == VoiceStatus.UNAVAILABLE
    db.session.commit()
    row = db.session.scalar(db.select(VoiceCommandLog))
    assert (row.status, row.original_audio_duration, row.engine) == ("unavailable", 2.0, None)


def test_voice_follows_the_text_path_and_is_saved_only_on_confirm(user, voice_note):
    engine = FakeSpeechEngine("потратил пятьдесят тысяч на продукты", confidence=0.91)
    outcome = voice.process_voice(user, voice_note, engine, language="ru", duration=2, file_id="F1")
    assert outcome.status == VoiceStatus.PARSED
    assert (outcome.parsed.intent, outcome.parsed.amount, outcome.parsed.category) == (
        "expense",
        Decimal("50000.00"),
        "food",
    )
    assert engine.heard == [(pytest.approx(1.5, abs=0.05), "ru")]
    entry = outcome.log
    assert entry.text == "потратил пятьдесят тысяч на продукты" and entry.confidence_score == 0.91
    assert entry.original_audio_duration == pytest.approx(1.5, abs=0.05) and entry.engine == "fake"
    assert db.session.scalar(db.select(db.func.count(Transaction.id))) == 0  # nothing before confirmation

    kind, tx = ledger.record_command(user, outcome.parsed, "voice")
    voice.confirm_voice(entry, kind, str(tx.id))
    db.session.commit()
    assert (entry.status, entry.result_type, entry.result_id) == ("confirmed", "transaction", str(tx.id))
    assert tx.source == "voice"
    voice.undo_voice_result(user, kind, str(tx.id))
    assert entry.status == "cancelled"


@pytest.mark.parametrize(
    ("heard", "status"),
    [("", VoiceStatus.EMPTY), ("какая сегодня погода", VoiceStatus.UNRECOGNISED), ("купил продукты", "unrecognised")],
)
def test_unusable_speech_is_logged_and_not_parsed_into_a_record(user, voice_note, heard, status):
    outcome = voice.process_voice(user, voice_note, FakeSpeechEngine(heard), language="ru")
    assert outcome.status == status
    assert outcome.parsed is None or not outcome.parsed.complete


def test_bad_audio_or_a_failing_engine_is_logged_as_failed(user, voice_note):
    outcome = voice.process_voice(user, b"garbage", FakeSpeechEngine("x"))
    assert outcome.status == VoiceStatus.FAILED and outcome.log.error.startswith("audio:")

    class Broken(FakeSpeechEngine):
        def recognize(self, audio, language):
            raise RuntimeError("engine crashed")

    outcome = voice.process_voice(user, voice_note, Broken("x"))
    assert outcome.status == VoiceStatus.FAILED and "engine crashed" in outcome.log.error
