"""Failure reasons: every code the coach can give has a text in Chinese and in English."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from posture_coach.errors import (
    REASON_TEXTS,
    CoachError,
    ConfigError,
    ModelError,
    RecordingError,
    SourceError,
    reason_of,
    reason_texts,
)

SRC = Path(__file__).resolve().parents[1] / "src" / "posture_coach"


def _codes_in_source() -> set[str]:
    """Every reason code written in the package: ``reason="…"``, ``Refused(status, "…"``,
    ``UploadRejected(status, "…"`` and the store's ``error_reason = "…"``."""
    pat = re.compile(r'(?:(?<![a-z_])reason="|Refused\(\d+, "|UploadRejected\(\d+, "|error_reason = ")([a-z_]+)"')
    return {m.group(1) for f in SRC.rglob("*.py") for m in pat.finditer(f.read_text(encoding="utf-8"))}


def test_every_reason_code_has_a_chinese_and_an_english_text() -> None:
    used = _codes_in_source()
    assert {"not_a_video", "video_truncated", "trainee_undecided", "too_large", "consent_required",
            "interrupted"} <= used  # the scan finds them
    from posture_coach.calibration import CalibrationMotionError

    classes = (CoachError, ConfigError, ModelError, SourceError, RecordingError, CalibrationMotionError)
    for code in used | {c.reason for c in classes}:
        texts = REASON_TEXTS.get(code)
        assert texts is not None, f"no text for reason {code!r}"
        assert texts["zh"].strip() and texts["en"].strip()
        assert re.search(r"[\u4e00-\u9fff]", texts["zh"]), code  # Chinese, not a copy of the English


@pytest.mark.parametrize(("exc", "code"), [
    (SourceError("x.mp4: cannot open"), "video_unreadable"),
    (SourceError("x.mp4: ends early", reason="video_truncated"), "video_truncated"),
    (ModelError("pose model missing"), "models_unavailable"),
    (ConfigError("bad key"), "settings_invalid"),
    (CoachError("odd", reason="no_such_code"), "analysis_failed"),
    (RuntimeError("bug"), "internal_error"),
])
def test_a_failure_maps_to_its_reason(exc: BaseException, code: str) -> None:
    assert reason_of(exc) == code
    assert reason_texts(code) == REASON_TEXTS[code]


def test_no_reason_has_no_text() -> None:
    assert reason_texts(None) is None and reason_texts("unknown_code") is None
