"""Synthetic studio: label sidecars (no extra needed) and rendering (synth extra)."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from posture_coach.synth.labels import (
    STATE_KEYS,
    read_labels,
    shoulder_tilt_image_deg,
    torso_incline_deg,
)

ROOT = Path(__file__).resolve().parents[2]
SAMPLES = sorted((ROOT / "sample_videos").rglob("*.labels.jsonl"))
HEADER_KEYS = {"kind", "version", "scenario", "seed", "fps", "width", "height", "camera",
               "body", "split"}  # fmt: skip
FRAME_KEYS = {"frame", "t_ms", "posture", "states", "angles", "keypoints2d", "view",
              "framing", "legs_visible", "hips_visible"}  # fmt: skip
CAMERA_KEYS = {"preset", "yaw_deg", "pitch_deg", "roll_deg", "distance_m"}


def test_importing_posture_coach_stays_light() -> None:
    code = (
        "import sys, posture_coach, posture_coach.synth, posture_coach.synth.labels, "
        "posture_coach.synth.scenario, posture_coach.synth.postures, posture_coach.synth.cli;"
        "heavy = {'torch', 'anny', 'moderngl'} & set(sys.modules); assert not heavy, heavy"
    )
    subprocess.run([sys.executable, "-c", code], check=True)


@pytest.mark.skipif(not SAMPLES, reason="no committed sample clips")
@pytest.mark.parametrize("path", SAMPLES, ids=lambda p: p.stem)
def test_sample_sidecar_parses(path: Path) -> None:
    header, frames, events = read_labels(path)
    assert set(header) >= HEADER_KEYS
    assert header["version"] == 1 and header["split"] in ("tune", "eval")
    assert set(header["camera"]) >= CAMERA_KEYS
    assert (path.parent / (path.name.removesuffix(".labels.jsonl") + ".mp4")).exists()
    assert len(frames) == header["n_frames"] > 0
    assert (header["split"] == "eval") == (path.parent.name == "eval")
    for i, fr in enumerate(frames):
        assert set(fr) >= FRAME_KEYS
        assert fr["frame"] == i and fr["t_ms"] == round(i * 1000 / header["fps"])
        assert set(fr["states"]) <= set(STATE_KEYS)
        assert fr["view"] in ("front", "oblique", "side")
        assert fr["framing"] in ("head_shoulders", "half_body", "full_body")
        for x, y, vis in fr["keypoints2d"].values():
            assert isinstance(vis, bool)
            if vis:
                assert 0 <= x < header["width"] and 0 <= y < header["height"]
    held = [fr for fr in frames if fr["posture"] != "transition"]
    assert held and all("torso_incline_deg" in fr["states"] for fr in frames)
    assert events and all({"type", "start_ms", "end_ms"} <= set(e) for e in events)


def test_sign_conventions() -> None:
    # image y grows downward: the subject's left shoulder (image right, front view) higher
    px = {"left_shoulder": np.array([400.0, 100.0]), "right_shoulder": np.array([300.0, 110.0])}
    assert shoulder_tilt_image_deg(px) > 5
    kp = {  # shoulders 10 cm in front (-Y) of the hips: leaning forward
        "left_hip": np.array([0.1, 0.0, 0.0]), "right_hip": np.array([-0.1, 0.0, 0.0]),
        "left_shoulder": np.array([0.18, -0.1, 0.5]), "right_shoulder": np.array([-0.18, -0.1, 0.5]),
    }  # fmt: skip
    assert torso_incline_deg(kp) == pytest.approx(np.degrees(np.arctan2(0.1, 0.5)))


def test_slerp_and_timeline() -> None:
    from posture_coach.synth.postures import rot
    from posture_coach.synth.scenario import SCENARIOS, slerp_rotations, timeline

    a = np.tile(np.eye(3), (2, 1, 1))
    b = np.stack([rot(90, 0, 0), rot(0, 0, -40)])
    mid = slerp_rotations(a, b, 0.5)
    np.testing.assert_allclose(mid[0], rot(45, 0, 0), atol=1e-9)
    np.testing.assert_allclose(mid[1], rot(0, 0, -20), atol=1e-9)
    plan = timeline(SCENARIOS["neutral_vs_arms_crossed"], 4.0, 10)
    assert len(plan) == 40 and plan[0] == (0, 0, 0.0) and plan[-1][:2] == (2, 2)


# ----------------------------------------------------------------- needs the synth extra
def test_render_short_clip_labels(tmp_path: Path) -> None:
    pytest.importorskip("anny")
    pytest.importorskip("moderngl")
    from posture_coach.synth.scenario import generate

    kw = dict(out_dir=tmp_path, duration_s=2.4, fps=5, width=160, height=120,
              body="m_avg_light", degrade=0.0)  # fmt: skip
    r1 = generate("hunched_side", seed=3, **kw)  # type: ignore[arg-type]
    r2 = generate("hunched_side", seed=3, name="again", **kw)  # type: ignore[arg-type]
    _, f1, _ = read_labels(r1.labels)
    _, f2, _ = read_labels(r2.labels)
    assert f1 == f2  # deterministic labels
    hunched = [f for f in f1 if f["posture"] == "hunched"]
    assert hunched and all(f["states"].get("hunched") is True for f in hunched)
    assert all(f["states"]["torso_incline_deg"] >= 10 for f in hunched)
    upright = [f for f in f1 if f["posture"] == "standing_neutral"]
    assert upright and all(abs(f["states"]["torso_incline_deg"]) < 2 for f in upright)
    assert all(f["view"] == "side" and "shoulder_tilt_deg" not in f["states"] for f in f1)


def test_arms_crossed_geometry() -> None:
    pytest.importorskip("anny")
    from posture_coach.synth.body import COCO_LABELS, load_body
    from posture_coach.synth.postures import make_posture, resolve

    body = load_body("m_avg_light")
    _, kp = body.pose(
        np.stack(
            [resolve(body, make_posture("arms_crossed")), resolve(body, make_posture("hands_on_hips", side="left"))]
        )
    )
    k = [dict(zip(COCO_LABELS, p, strict=True)) for p in kp]
    # crossed: each wrist on the other side of the midline (+X = the person's left)
    assert k[0]["left_wrist"][0] < 0 < k[0]["right_wrist"][0]
    # left hand on the left hip: wrist near hip height, elbow flared beyond the shoulder
    assert abs(k[1]["left_wrist"][2] - k[1]["left_hip"][2]) < 0.2
    assert k[1]["left_elbow"][0] > k[1]["left_shoulder"][0] + 0.05
