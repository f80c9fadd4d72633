"""The MediaPipe adapter on real photos with the real models (marked `models`)."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from posture_coach.errors import ModelError
from posture_coach.sources import open_source
from posture_coach.types import Frame, PoseLm

pytestmark = pytest.mark.models
lm_mod = pytest.importorskip("posture_coach.landmarker")


def config(model_dir: Path, **kw: object) -> object:
    return lm_mod.LandmarkerConfig(
        pose_model=model_dir / "pose_landmarker_full.task",
        face_model=model_dir / "face_landmarker.task",
        hand_model=model_dir / "hand_landmarker.task",
        **kw,
    )


@pytest.fixture(scope="module")
def image_landmarkers(model_dir: Path):  # type: ignore[no-untyped-def]
    with lm_mod.Landmarkers(config(model_dir, mode="image")) as lms:
        yield lms


def test_a_real_person_is_found_with_all_three_models(image_landmarkers, person_photo: Path) -> None:  # type: ignore[no-untyped-def]
    frame = next(iter(open_source(person_photo)))
    obs = image_landmarkers.observe(frame)
    assert obs.pose is not None and obs.face is not None
    assert obs.pose.landmarks.shape == (33, 3) and obs.face.landmarks.shape == (478, 3)
    assert obs.face.transform is not None and obs.face.transform.shape == (4, 4)
    assert {"mouthSmileLeft", "jawOpen", "eyeBlinkLeft"} <= set(obs.face.blendshapes)
    assert obs.ran == frozenset({"pose", "face", "hands"})
    # Each detected hand is assigned to the nearer pose wrist (subject's side).
    for hand in obs.hands:
        wrist = PoseLm.LEFT_WRIST if hand.side == "left" else PoseLm.RIGHT_WRIST
        other = PoseLm.RIGHT_WRIST if hand.side == "left" else PoseLm.LEFT_WRIST
        d_same = np.linalg.norm(hand.landmarks[0, :2] - obs.pose.landmarks[wrist, :2])
        d_other = np.linalg.norm(hand.landmarks[0, :2] - obs.pose.landmarks[other, :2])
        assert d_same <= d_other


def test_no_person_in_an_empty_frame(image_landmarkers) -> None:  # type: ignore[no-untyped-def]
    frame = Frame(np.full((240, 320, 3), 127, np.uint8), 0, 0)
    obs = image_landmarkers.observe(frame)
    assert obs.pose is None and obs.face is None and obs.hands == ()
    assert not obs.person


def test_video_mode_survives_repeated_and_mirrored_frames(model_dir: Path, person_photo: Path) -> None:
    frame = next(iter(open_source(person_photo)))
    mirrored = frame.image[:, ::-1]  # negative stride: would kill mediapipe if passed as is
    with lm_mod.Landmarkers(config(model_dir, hands=False)) as lms:
        assert lms.tasks == ("pose", "face")
        first = lms.observe(Frame(frame.image, 0, 100))
        # The same timestamp twice must not break the graph (bumped internally).
        # A jump to the mirrored person loses the tracker for a frame; it re-detects after.
        for i in range(1, 4):
            second = lms.observe(Frame(mirrored, i, 100))
        assert first.pose is not None and second.pose is not None
        # Mirroring swaps image x: the nose moves to 1 - x.
        assert second.pose.landmarks[0, 0] == pytest.approx(1 - first.pose.landmarks[0, 0], abs=0.03)
        assert second.ran == frozenset({"pose", "face"})


def test_one_thread_gives_the_same_landmarks_as_parallel_tasks(model_dir: Path, person_photo: Path) -> None:
    """A job given one CPU (a Ray worker) runs the tasks in turn: same answers, same order."""
    frame = next(iter(open_source(person_photo)))
    with lm_mod.Landmarkers(config(model_dir, mode="image")) as par, \
            lm_mod.Landmarkers(config(model_dir, mode="image"), parallel=False) as seq:
        a, b = par.observe(frame), seq.observe(frame)
    assert a.pose is not None and b.pose is not None and a.face is not None and b.face is not None
    np.testing.assert_allclose(a.pose.landmarks, b.pose.landmarks, atol=1e-6)
    np.testing.assert_allclose(a.face.landmarks, b.face.landmarks, atol=1e-6)
    assert len(a.hands) == len(b.hands) and a.ran == b.ran


def test_pool_reuses_instances(model_dir: Path) -> None:
    pool = lm_mod.LandmarkerPool(config(model_dir, face=False, hands=False), size=1)
    with pool.acquire() as a:
        pass
    with pool.acquire() as b:
        assert a is b
    pool.close()


def test_a_missing_model_is_a_clear_error(tmp_path: Path) -> None:
    cfg = lm_mod.LandmarkerConfig(pose_model=tmp_path / "nope.task", face=False, hands=False)
    with pytest.raises(ModelError, match=r"nope\.task"):
        lm_mod.Landmarkers(cfg)


def test_a_corrupt_model_is_a_clear_error(tmp_path: Path) -> None:
    bad = tmp_path / "pose_landmarker_full.task"
    bad.write_bytes(b"PK\x03\x04 definitely not a model")
    cfg = lm_mod.LandmarkerConfig(pose_model=bad, face=False, hands=False)
    with pytest.raises(ModelError, match="pose"):
        lm_mod.Landmarkers(cfg)
