"""The annotated video: a picture a trainer can read, in a file a browser can play."""

from __future__ import annotations

from pathlib import Path

import cv2
import numpy as np

from posture_coach.annotate import ROW_PX, AnnotatedVideoWriter, overlay_rows
from posture_coach.types import Observation


def _verdicts(fail: int, warn: int, ok: int, unknown: int) -> dict[str, dict[str, str]]:
    out: dict[str, dict[str, str]] = {}
    for status, n in (("pass", ok), ("unknown", unknown), ("warn", warn), ("fail", fail)):
        for i in range(n):
            out[f"rule.{status}_{i:02d}"] = {"status": status}
    return out


def test_the_rule_list_puts_failures_first_and_counts_what_cannot_be_judged() -> None:
    rows = overlay_rows(_verdicts(fail=1, warn=2, ok=3, unknown=20), height_px=480)
    assert [status for _, status in rows] == ["fail", "warn", "warn", "pass", "pass", "pass", None]
    assert rows[-1][0] == "20 cannot judge this frame"


def test_the_rule_list_never_runs_off_the_frame() -> None:
    for height in (120, 240, 480):
        rows = overlay_rows(_verdicts(fail=5, warn=5, ok=25, unknown=3), height_px=height)
        assert 18 + (len(rows) - 1) * ROW_PX <= height - 4, (height, len(rows))
        assert rows[0][1] == "fail" and rows[-1][0] == "3 cannot judge this frame"
        assert any(text.startswith("+") and text.endswith(" more") for text, _ in rows)


def test_a_webm_annotation_is_vp9_which_browsers_play(tmp_path: Path) -> None:
    out = tmp_path / "annotated.webm"
    writer = AnnotatedVideoWriter(out, 15.0, (160, 120))
    obs = Observation(0, 0, (160, 120), None, None, (), "test", frozenset())
    for _ in range(5):
        writer.write(np.zeros((120, 160, 3), np.uint8), obs, _verdicts(1, 0, 1, 2))
    writer.close()
    cap = cv2.VideoCapture(str(out))
    fourcc = int(cap.get(cv2.CAP_PROP_FOURCC)).to_bytes(4, "little").decode("latin1").upper()
    frames = sum(1 for _ in iter(lambda: cap.read()[0], False))
    cap.release()
    assert fourcc.startswith("VP9") and frames == 5, fourcc
    assert sorted(p.name for p in tmp_path.iterdir()) == ["annotated.webm"]  # no partial file left
