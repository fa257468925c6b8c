"""Speech to text for voice notes: audio conversion and a pluggable recogniser.

Telegram voice notes are OGG/Opus. ``to_wav`` decodes them with PyAV (FFmpeg's libraries, shipped
in its wheel) into 16 kHz mono 16-bit PCM — what offline recognisers take. ``SpeechEngine`` is the
interface; ``VoskEngine`` is the offline implementation, used when ``VOSK_MODEL_PATH`` points to an
unpacked Vosk model. Without one, ``engine_for`` answers None and the bot says so honestly.
"""

from __future__ import annotations

import io
import json
import logging
import threading
import wave
from dataclasses import dataclass
from pathlib import Path
from typing import Protocol

from flask import Flask

log = logging.getLogger(__name__)

SAMPLE_RATE = 16_000
MAX_SECONDS = 120  # longer notes are not commands; decoding them would only tie up a worker thread
ENGINE_EXTENSION = "finance_speech_engine"  # app.extensions key: an engine set here wins (tests, plugins)


class AudioError(Exception):
    """The bytes are not audio PyAV can decode."""


class SpeechUnavailable(Exception):
    """No usable recogniser (no model configured, or the model cannot be loaded)."""


@dataclass(frozen=True)
class Audio:
    pcm: bytes  # 16-bit little-endian mono samples at SAMPLE_RATE
    sample_rate: int

    @property
    def duration(self) -> float:
        return len(self.pcm) / 2 / self.sample_rate

    def wav(self) -> bytes:
        out = io.BytesIO()
        with wave.open(out, "wb") as w:
            w.setnchannels(1)
            w.setsampwidth(2)
            w.setframerate(self.sample_rate)
            w.writeframes(self.pcm)
        return out.getvalue()


@dataclass(frozen=True)
class Recognition:
    text: str
    confidence: float | None  # 0..1: the mean of the words' confidences, None when the engine gives none


class SpeechEngine(Protocol):
    name: str

    def recognize(self, audio: Audio, language: str | None) -> Recognition: ...


def to_wav(data: bytes, max_seconds: float = MAX_SECONDS) -> Audio:
    """Decode any audio PyAV reads (OGG/Opus voice notes first of all) into 16 kHz mono PCM."""
    import av

    pcm = bytearray()
    limit = int(max_seconds * SAMPLE_RATE * 2)
    try:
        with av.open(io.BytesIO(data), mode="r") as container:
            if not container.streams.audio:
                raise AudioError("no audio stream")
            stream = container.streams.audio[0]
            resampler = av.AudioResampler(format="s16", layout="mono", rate=SAMPLE_RATE)
            for frame in container.decode(stream):
                for out in resampler.resample(frame):
                    pcm += bytes(out.planes[0])[: out.samples * 2]
                if len(pcm) > limit:
                    raise AudioError(f"longer than {max_seconds:.0f} s")
            for out in resampler.resample(None):
                pcm += bytes(out.planes[0])[: out.samples * 2]
    except AudioError:
        raise
    except (av.error.FFmpegError, ValueError, IndexError) as exc:
        raise AudioError(str(exc) or type(exc).__name__) from exc
    return Audio(bytes(pcm[:limit]), SAMPLE_RATE)


class VoskEngine:
    """Offline recognition with a Vosk (Kaldi) model directory, e.g. vosk-model-small-ru-0.22."""

    name = "vosk"

    def __init__(self, model_path: str) -> None:
        path = Path(model_path)
        if not path.is_dir():
            raise SpeechUnavailable(f"Vosk model directory not found: {model_path}")
        # A model directory holds am/ and conf/ (or a flat final.mdl); refuse others before Kaldi aborts on them.
        if not ((path / "am").is_dir() or (path / "final.mdl").is_file()) or not (path / "conf").is_dir():
            raise SpeechUnavailable(f"not a Vosk model directory (no am/ and conf/): {model_path}")
        try:
            import vosk

            vosk.SetLogLevel(-1)
            self.model = vosk.Model(str(path))
        except Exception as exc:  # vosk raises a bare Exception when Kaldi cannot read the model
            raise SpeechUnavailable(f"Vosk could not load the model at {model_path}: {exc}") from exc
        self._vosk = vosk

    def recognize(self, audio: Audio, language: str | None) -> Recognition:
        recognizer = self._vosk.KaldiRecognizer(self.model, audio.sample_rate)
        recognizer.SetWords(True)
        chunk = 8000
        for i in range(0, len(audio.pcm), chunk):
            recognizer.AcceptWaveform(audio.pcm[i : i + chunk])
        result = json.loads(recognizer.FinalResult())
        words = result.get("result") or []
        confidence = sum(w.get("conf", 0.0) for w in words) / len(words) if words else None
        return Recognition((result.get("text") or "").strip(), confidence)


_engines: dict[str, VoskEngine | SpeechUnavailable] = {}
_engines_lock = threading.Lock()


def engine_for(app: Flask) -> SpeechEngine | None:
    """The recogniser to use, or None: an engine put in ``app.extensions``, else Vosk at VOSK_MODEL_PATH.

    A model loads once per process (they are large); a path that failed to load is not retried until
    the process restarts, and the failure is logged once.
    """
    injected = app.extensions.get(ENGINE_EXTENSION)
    if injected is not None:
        return injected
    path = (app.config.get("VOSK_MODEL_PATH") or "").strip()
    if not path:
        return None
    with _engines_lock:
        engine = _engines.get(path)
        if engine is None:
            try:
                engine = VoskEngine(path)
            except SpeechUnavailable as exc:
                log.error("voice recognition unavailable: %s", exc)
                engine = exc
            _engines[path] = engine
    return None if isinstance(engine, SpeechUnavailable) else engine
