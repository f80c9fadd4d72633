"""The MediaPipe adapter on real photos with the real models (marked `models`)."""

from __future__ import annotations

import itertools
from pathlib import Path

import numpy as np
import pytest

from posture_coach.errors import ModelError
from posture_coach.sources import open_source
from posture_coach.types import Frame, PoseLm, PoseObs

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


def _frames(image: np.ndarray, n: int) -> list[Frame]:
    return [Frame(image, i, i * 33) for i in range(n)]


def test_closing_in_the_middle_of_a_stream_stops_its_workers_first(model_dir: Path, person_photo: Path) -> None:
    # A consumer that stops reading early and closes: the workers must be out of the
    # models before they are freed (this killed the process now and then).
    import threading

    image = next(iter(open_source(person_photo))).image
    lms = lm_mod.Landmarkers(config(model_dir))
    stream = lms.observe_stream(_frames(image, 12), depth=4)
    for _ in itertools.islice(stream, 2):
        pass
    assert any(t.name.startswith("mp-") and t.is_alive() for t in threading.enumerate())
    lms.close()
    assert not any(t.name.startswith("mp-") and t.is_alive() for t in threading.enumerate())
    stream.close()  # the generator's own clean-up after close() is harmless


def test_late_tasks_are_chosen_after_the_consumer_has_seen_every_earlier_frame(
        model_dir: Path, person_photo: Path) -> None:
    image = next(iter(open_source(person_photo))).image
    seen: list[int] = []
    asked: list[tuple[int, list[int]]] = []

    def late(frame: Frame) -> tuple[str, ...]:
        asked.append((frame.index, list(seen)))
        return ("hands",) if frame.index % 2 else ()

    with lm_mod.Landmarkers(config(model_dir)) as lms:
        for frame, obs, _ in lms.observe_stream(_frames(image, 8), tasks_for=lambda _f: ("pose", "face"),
                                                late_tasks=late, depth=4):
            assert ("hands" in obs.ran) == bool(frame.index % 2)
            seen.append(frame.index)
    assert [i for i, _ in asked] == list(range(8))
    assert all(before == list(range(i)) for i, before in asked)  # not 4 frames stale


def test_a_speculative_task_runs_early_but_the_late_choice_decides_what_the_consumer_sees(
        model_dir: Path, person_photo: Path) -> None:
    # The hand gate: while it is on, the hand model starts when a frame is read (pipelined);
    # at the last moment the late choice still decides. Frames read while the gate was off
    # are caught up in order, so the VIDEO-mode model never sees a timestamp go back.
    image = next(iter(open_source(person_photo))).image
    gate_on_at_read = {4, 5, 9}
    late_wants = {2, 5, 6, 7, 8}
    reads: list[int] = []

    def early(frame: Frame) -> tuple[str, ...] | None:
        reads.append(frame.index)
        return None if frame.index in gate_on_at_read else ("pose", "face")

    with lm_mod.Landmarkers(config(model_dir)) as lms:
        hand_order: list[int] = []
        run = lms._run

        def spy(task: str, img: object, ts: int) -> tuple[object, float]:
            if task == "hands":
                hand_order.append(ts // 33)
            return run(task, img, ts)

        lms._run = spy
        ran = {frame.index: "hands" in obs.ran
               for frame, obs, _ in lms.observe_stream(
                   _frames(image, 12), tasks_for=early,
                   late_tasks=lambda f: ("hands",) if f.index in late_wants else (),
                   speculative=("hands",), depth=4)}
    assert ran == {i: i in late_wants for i in range(12)}  # the consumer sees the late choice only
    assert hand_order == sorted(set(hand_order))  # increasing timestamps, each frame once
    assert {4, 9} <= set(hand_order)  # started early although the late choice turned them down
    assert {1, 3} <= set(hand_order)  # caught up: in flight when frame 4 was read


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


# -- the cropped hand pass (issue 6) ------------------------------------------------------


def _small_person(right_wrist: tuple[float, float], *, sw: float = 60.0, tl: float = 100.0,
                  wrist_vis: float = 0.95, left_wrist: tuple[float, float] | None = None) -> object:
    """A pose (640×480) with shoulders SW apart at y=140, hips TL lower; left arm hanging
    unless ``left_wrist`` is given."""
    from posture_coach.types import PoseObs

    w, h, cx = 640, 480, 320.0
    lw = left_wrist or (cx + sw / 2 + 5, 140 + tl)
    pts = {
        PoseLm.LEFT_SHOULDER: (cx + sw / 2, 140), PoseLm.RIGHT_SHOULDER: (cx - sw / 2, 140),
        PoseLm.LEFT_HIP: (cx + sw / 3, 140 + tl), PoseLm.RIGHT_HIP: (cx - sw / 3, 140 + tl),
        PoseLm.LEFT_WRIST: lw, PoseLm.LEFT_INDEX: (lw[0], lw[1] + 10), PoseLm.LEFT_PINKY: (lw[0] + 3, lw[1] + 8),
        PoseLm.RIGHT_WRIST: right_wrist, PoseLm.RIGHT_INDEX: (right_wrist[0] - 12, right_wrist[1]),
        PoseLm.RIGHT_PINKY: (right_wrist[0] - 9, right_wrist[1] + 6),
    }
    lm = np.full((33, 3), 0.5)
    for i, (x, y) in pts.items():
        lm[i] = (x / w, y / h, 0.0)
    vis = np.full(33, 0.95)
    vis[PoseLm.RIGHT_WRIST] = wrist_vis
    return PoseObs(landmarks=lm, visibility=vis, presence=np.ones(33))


def test_a_raised_wrist_without_a_hand_gets_one_crop_sized_from_the_body() -> None:
    cfg = lm_mod.HandCrop()
    pose = _small_person((250.0, 180.0))  # right arm out at chest height; left hanging
    boxes = lm_mod.hand_crop_boxes(pose, (), (640, 480), cfg)
    assert [b.side for b in boxes] == ["right"]  # the hanging left hand gets none
    box = boxes[0]
    assert box.size == pytest.approx(max(cfg.side_sw * 60.0, cfg.side_tl * 100.0))
    centre = np.array([box.x0 + box.size / 2, box.y0 + box.size / 2])
    np.testing.assert_allclose(centre, [(250 + 238 + 241) / 3, (180 + 180 + 186) / 3])


def test_no_crop_where_the_full_frame_found_the_hand_or_it_would_not_help() -> None:
    from posture_coach.types import HandObs

    cfg = lm_mod.HandCrop()
    pose = _small_person((250.0, 180.0))
    near = np.zeros((21, 3))
    near[:, 0], near[:, 1] = 252 / 640, 182 / 480
    near[9, 1] = 152 / 480  # a hand 30 px from wrist to knuckle: large enough to read
    assert lm_mod.hand_crop_boxes(pose, (HandObs(near, "right", 0.9),), (640, 480), cfg) == []
    # a large person (webcam framing): the full-frame pass sees hands well enough
    big = _small_person((150.0, 200.0), sw=220.0, tl=250.0)
    assert lm_mod.hand_crop_boxes(big, (), (640, 480), cfg) == []
    # a wrist the pose does not see, or one hanging at the hips, or the pass turned off
    assert lm_mod.hand_crop_boxes(_small_person((250.0, 180.0), wrist_vis=0.2), (), (640, 480), cfg) == []
    assert lm_mod.hand_crop_boxes(_small_person((280.0, 235.0)), (), (640, 480), cfg) == []
    off = lm_mod.HandCrop(enabled=False)
    assert lm_mod.hand_crop_boxes(pose, (), (640, 480), off) == []


def _hand_at(x: float, y: float, size_px: float) -> object:
    """A full-frame hand (640x480) with its wrist at (x, y) and the middle knuckle size_px above."""
    from posture_coach.types import HandObs

    lm = np.zeros((21, 3))
    lm[:, 0], lm[:, 1] = x / 640, y / 480
    lm[9, 1] = (y - size_px) / 480
    return HandObs(lm, "right", 0.9)


def test_a_small_full_frame_hand_is_read_again_in_a_tighter_crop() -> None:
    cfg = lm_mod.HandCrop()
    pose = _small_person((250.0, 180.0))
    small = _hand_at(252.0, 182.0, 16.0)  # 16 px: fingers too small to read
    boxes = lm_mod.hand_crop_boxes(pose, (small,), (640, 480), cfg)
    assert [(b.side, b.replaces) for b in boxes] == [("right", 0)]
    assert boxes[0].size == pytest.approx(cfg.refine_side_sw * max(60.0, 100.0 * cfg.side_tl / cfg.side_sw))
    # a hand large enough to read keeps the full-frame landmarks
    assert lm_mod.hand_crop_boxes(pose, (_hand_at(252.0, 182.0, 30.0),), (640, 480), cfg) == []


def test_crop_landmarks_map_back_to_the_frame() -> None:
    box = lm_mod.CropBox("right", x0=100.0, y0=50.0, size=120.0, wrist=(150.0, 100.0), body=60.0)
    crop_lms = np.array([[0.5, 0.5, 0.1], [0.0, 1.0, -0.2]] + [[0.0, 0.0, 0.0]] * 19)
    out = box.to_frame(crop_lms, (640, 480))
    np.testing.assert_allclose(out[0], [160 / 640, 110 / 480, 0.1 * 120 / 640])
    np.testing.assert_allclose(out[1, :2], [100 / 640, 170 / 480])
    img = np.zeros((480, 640, 3), np.uint8)
    img[110, 160] = 255  # the crop centre
    crop = lm_mod.crop_image(img, box, 192)
    assert crop.shape == (192, 192, 3) and crop.flags["C_CONTIGUOUS"]
    assert np.unravel_index(int(np.argmax(crop[..., 0])), (192, 192)) == pytest.approx((96, 96), abs=2)


def test_a_small_pointing_hand_is_found_only_by_the_crop_pass(model_dir: Path) -> None:
    """The tune clip's pointing hand at 2.6 m (16-20 px): the full-frame hand model misses
    it, the crop around the pose wrist finds it, on the subject's right."""
    clip = Path(__file__).resolve().parents[1] / "sample_videos" / "pointing_vs_open_palm.mp4"
    if not clip.is_file():
        pytest.skip("no sample clip")
    found: dict[bool, list[int]] = {}
    for crop in (False, True):
        cfg = config(model_dir, hand_crop=lm_mod.HandCrop(enabled=crop))
        with lm_mod.Landmarkers(cfg) as lms:
            hands = []
            for fr in open_source(clip):
                if fr.index > 40:
                    break
                obs = lms.observe(fr)
                if fr.index >= 30:  # the index finger held out, frames 24-53
                    hands.append(sum(h.side == "right" for h in obs.hands))
            found[crop] = hands
            if crop:
                # crops re-run every reread_every frames once the hand is found
                assert lms.crop_stats["crops"] >= 5 and lms.crop_stats["found"] >= 4
            else:
                assert lms.crop_stats["crops"] == 0
    assert sum(found[False]) == 0
    assert sum(found[True]) >= 6


class _FakeCropLandmarker:
    """Stands in for the crop pass's IMAGE-mode hand landmarker: finds nothing, or one hand
    with all 21 points at the crop centre; counts its runs."""

    def __init__(self, finds_hand: bool) -> None:
        self.calls = 0
        self.finds_hand = finds_hand

    def detect(self, _image: object) -> object:
        from types import SimpleNamespace

        self.calls += 1
        hand = [SimpleNamespace(x=0.5, y=0.5, z=0.0)] * 21
        return SimpleNamespace(hand_landmarks=[hand] if self.finds_hand else [], handedness=[],
                               hand_world_landmarks=[])

    def close(self) -> None:
        pass


def _next_frame(lms: lm_mod.Landmarkers, frame: Frame, pose: PoseObs, *, hands_ran: bool = True) -> int:
    """One observed frame, as ``_assemble`` sees it: counted, and the crop pass run when the
    hand model ran (the hand gate may skip it). Returns the crop passes it cost."""
    fake = lms._crop_lm
    before = fake.calls
    lms._frames_seen += 1
    if hands_ran:
        assert lms._crop_hands(frame, pose, ()) == ((), set())
    return fake.calls - before


def test_a_wrist_whose_crops_find_nothing_is_cropped_every_third_frame(model_dir: Path) -> None:
    """Hidden hands are not searched with a crop on every frame (cost); a lowered wrist
    starts afresh."""
    frame = Frame(np.zeros((480, 640, 3), np.uint8), 0, 0)
    raised, lowered = _small_person((250.0, 180.0)), _small_person((280.0, 235.0))
    with lm_mod.Landmarkers(config(model_dir, face=False, hands=False)) as lms:
        lms._crop_lm = _FakeCropLandmarker(finds_hand=False)
        ran = [_next_frame(lms, frame, raised) for _ in range(12)]
        assert ran == [1, 1, 1, 0, 0, 1, 0, 0, 1, 0, 0, 1]
        lms._frames_seen += 1
        lms._crop_hands(frame, lowered, ())  # the arm comes down: no crop, counters reset
        assert _next_frame(lms, frame, raised) == 1
        assert lms.crop_stats["crops"] == 7 and lms.crop_stats["found"] == 0


def test_the_crop_back_off_counts_frames_not_hand_model_runs(model_dir: Path) -> None:
    """The hand gate backs off too (the hand model on every third frame while it finds
    nothing): the two do not multiply. Once a third frame has passed, the next run crops."""
    frame = Frame(np.zeros((480, 640, 3), np.uint8), 0, 0)
    raised = _small_person((250.0, 180.0))
    with lm_mod.Landmarkers(config(model_dir, face=False, hands=False)) as lms:
        lms._crop_lm = _FakeCropLandmarker(finds_hand=False)
        assert [_next_frame(lms, frame, raised) for _ in range(3)] == [1, 1, 1]  # three misses
        gated = [_next_frame(lms, frame, raised, hands_ran=(i % 3 == 2)) for i in range(9)]
        assert gated == [0, 0, 1, 0, 0, 1, 0, 0, 1]  # every run of the gated hand model crops


def test_a_small_hand_is_re_read_every_few_frames_and_carried_in_between(model_dir: Path) -> None:
    """A re-read costs a hand-model pass: the last one, moved with the pose wrist, stands in
    on the frames between, and replaces the small full-frame hand there too."""
    small = _hand_at(252.0, 182.0, 16.0)
    with lm_mod.Landmarkers(config(model_dir, face=False, hands=False)) as lms:
        lms._crop_lm = fake = _FakeCropLandmarker(finds_hand=True)
        calls, wrists_x = [], []
        every = lm_mod.HandCrop().reread_every
        for i, wx in enumerate(250.0 + 10.0 * k for k in range(every + 1)):
            frame = Frame(np.zeros((480, 640, 3), np.uint8), i, i * 33)
            before = fake.calls
            found, replaced = lms._crop_hands(frame, _small_person((wx, 180.0)), (small,))
            calls.append(fake.calls - before)
            assert replaced == {0} and len(found) == 1 and found[0].side == "right"
            wrists_x.append(float(found[0].landmarks[0, 0]) * 640)
        assert calls == [1] + [0] * (every - 1) + [1]
        # frame 1 carries frame 0's re-read, shifted 10 px with the pose wrist
        assert wrists_x[1] - wrists_x[0] == pytest.approx(10.0)


def test_a_hand_the_crop_found_is_carried_until_its_next_crop(model_dir: Path) -> None:
    """A hidden-from-the-full-frame hand, once a crop finds it, is cropped again only every
    reread_every frames (crossed arms at a distance would otherwise cost two hand-model
    passes a frame); the frames between get the last one, moved with the wrist."""
    every = lm_mod.HandCrop().reread_every
    with lm_mod.Landmarkers(config(model_dir, face=False, hands=False)) as lms:
        lms._crop_lm = fake = _FakeCropLandmarker(finds_hand=True)
        calls = []
        for i in range(2 * every):
            frame = Frame(np.zeros((480, 640, 3), np.uint8), i, i * 33)
            before = fake.calls
            found, replaced = lms._crop_hands(frame, _small_person((250.0, 180.0)), ())
            calls.append(fake.calls - before)
            assert len(found) == 1 and replaced == set()
        assert calls == ([1] + [0] * (every - 1)) * 2


def test_two_carried_hands_are_never_both_re_read_on_one_frame(model_dir: Path) -> None:
    """Both wrists raised and found by crops: their re-reads take turns, so no frame pays
    for two hand-model passes (the live loop's slowest frames), and each hand is still
    renewed at least every reread_every + 1 frames."""
    every = lm_mod.HandCrop().reread_every
    pose = _small_person((250.0, 180.0), left_wrist=(390.0, 180.0))
    with lm_mod.Landmarkers(config(model_dir, face=False, hands=False)) as lms:
        lms._crop_lm = fake = _FakeCropLandmarker(finds_hand=True)
        calls, read_at = [], {"left": [], "right": []}
        for i in range(4 * every):
            frame = Frame(np.zeros((480, 640, 3), np.uint8), i, i * 33)
            before = fake.calls
            found, _ = lms._crop_hands(frame, pose, ())
            calls.append(fake.calls - before)
            assert sorted(h.side for h in found) == ["left", "right"]
            for side in read_at:
                if lms._refined[side][0] == i:
                    read_at[side].append(i)
        assert calls[0] == 2  # nothing to carry yet: both are searched
        assert max(calls[1:]) == 1
        for reads in read_at.values():
            assert max(b - a for a, b in itertools.pairwise(reads)) <= every + 1


def test_the_hand_crop_pass_is_set_in_calibration(tmp_path: Path) -> None:
    """[hand_crop] in calibration/default.toml sets the pass; the dataclass defaults mirror
    it (so cached recordings keyed on the recipe stay valid), and a custom file changes it."""
    from posture_coach.errors import ConfigError

    assert lm_mod.HandCrop.from_calibration() == lm_mod.HandCrop()
    assert lm_mod.video_recipe() == lm_mod.video_recipe(lm_mod.HandCrop())
    custom = tmp_path / "cal.toml"
    custom.write_text("[hand_crop]\nreread_every = 1\nenabled = false\n", encoding="utf-8")
    crop = lm_mod.HandCrop.from_calibration(custom)
    assert crop.reread_every == 1 and crop.enabled is False and crop.side_sw == lm_mod.HandCrop().side_sw
    custom.write_text("[hand_crop]\nreread_evry = 1\n", encoding="utf-8")
    with pytest.raises(ConfigError, match=r"\[hand_crop\] unknown key 'reread_evry'"):
        lm_mod.HandCrop.from_calibration(custom)
    custom.write_text("[hand_crop]\nout_px = 19.5\n", encoding="utf-8")
    with pytest.raises(ConfigError, match=r"\[hand_crop\] out_px must be int"):
        lm_mod.HandCrop.from_calibration(custom)


def test_analyze_with_a_thresholds_file_applies_its_hand_crop(model_dir: Path, tmp_path: Path) -> None:
    # `analyze --calibration FILE` hands FILE to the pipeline: its [hand_crop] is the one run.
    from posture_coach.pipeline import landmarker_config

    custom = tmp_path / "cal.toml"
    custom.write_text("[hand_crop]\nenabled = false\n", encoding="utf-8")
    cfg = landmarker_config(model_dir, fetch=False, calibration=custom)
    assert cfg.hand_crop.enabled is False  # type: ignore[attr-defined]
    assert landmarker_config(model_dir, fetch=False).hand_crop == lm_mod.HandCrop()  # type: ignore[attr-defined]
