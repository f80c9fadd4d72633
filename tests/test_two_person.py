"""Two people in one frame: pair picking (pure) and the mask strategy on a real UT-Interaction frame."""

from __future__ import annotations

import dataclasses
from pathlib import Path

import numpy as np
import pytest

from posture_coach.events import load_interaction_calibration
from posture_coach.landmarker import Landmarkers
from posture_coach.two_person import TwoPersonResult, pick_pair, two_person_measures
from posture_coach.types import Frame
from tests.rules.test_interaction_rules import SIZE, pose


@pytest.fixture(scope="module")
def p() -> dict[str, float]:
    return dict(load_interaction_calibration().params)


def test_pick_pair_prefers_joined_hands_and_trainee_side(p: dict[str, float]) -> None:
    a = pose(cx=0.35, sw=0.12, wrists=((0.45, 0.45), (0.30, 0.6)))
    b = pose(cx=0.65, sw=0.12, wrists=((0.70, 0.6), (0.46, 0.45)))
    bystander = pose(cx=0.9, sw=0.12)
    res = TwoPersonResult((a, b, bystander), SIZE, 0.0, 3)
    t, o = pick_pair(res, p, "left")
    assert t is a and o is b
    t, o = pick_pair(res, p, "right")
    assert t is b and o is a
    m = two_person_measures(res, p, "left")
    assert m["handshake"] is True and m["n_persons"] == 3 and m["distance_m"] is not None


def test_an_upside_down_ghost_is_never_paired(p: dict[str, float]) -> None:
    # UT-Interaction 0_0_16: two people reaching out, hands still apart; an extra pass drew
    # an upside-down ghost inside the left man, whose hands lie at his: the closest "pair".
    from posture_coach.types import PoseLm

    a = pose(cx=0.30, sw=0.12, wrists=((0.38, 0.55), (0.25, 0.6)))
    b = pose(cx=0.70, sw=0.12, wrists=((0.75, 0.6), (0.62, 0.55)))
    lm = a.landmarks.copy()
    for hip, sh in ((PoseLm.LEFT_HIP, PoseLm.LEFT_SHOULDER), (PoseLm.RIGHT_HIP, PoseLm.RIGHT_SHOULDER)):
        lm[hip, 1], lm[sh, 1] = a.landmarks[sh, 1], a.landmarks[hip, 1]
    ghost = dataclasses.replace(a, landmarks=lm)
    res = TwoPersonResult((a, ghost, b), SIZE, 0.0, 3)
    t, o = pick_pair(res, p, "left")
    assert {id(t), id(o)} == {id(a), id(b)}
    assert two_person_measures(res, p, "left")["handshake"] is False


def test_measures_with_one_person(p: dict[str, float]) -> None:
    m = two_person_measures(TwoPersonResult((pose(),), SIZE, 0.0, 2), p)
    assert m["handshake"] is None and m["n_persons"] == 1


def test_mask_strategy_on_real_handshake(model_dir: Path, shared_dir: Path, p: dict[str, float]) -> None:
    from posture_coach.landmarker import LandmarkerConfig, Landmarkers
    from posture_coach.sources import read_image
    from posture_coach.two_person import TwoPersonDetector, observe_two_person
    from posture_coach.types import Frame

    path = shared_dir / "data/real/ut_interaction_frames/handshake/0_2_34.png"
    if not path.is_file():
        pytest.skip("UT-Interaction frame not present")
    cfg = LandmarkerConfig(pose_model=model_dir / "pose_landmarker_full.task", face=False, hands=False,
                           mode="image", min_pose_confidence=0.3)
    with Landmarkers(cfg) as lm:
        det = TwoPersonDetector(lm, strategy="mask")
        frame = Frame(read_image(path), 0, 0, str(path))
        obs = lm.observe(frame, tasks=("pose",))
        out = observe_two_person(det, frame, obs, p, trainee="left")
    tp = out.measures["two_person"]
    assert tp["n_persons"] == 2 and tp["handshake"] is True
    assert out.pose is not None
    xs = [np.mean(np.asarray(q["lm"])[[11, 12], 0]) for q in tp["persons"]]
    assert out.pose.landmarks[11:13, 0].mean() == pytest.approx(min(xs), abs=1e-3)  # the left person
    with pytest.raises(ValueError):
        TwoPersonDetector(lm, strategy="bogus")  # type: ignore[arg-type]


def test_hug_guard_vetoes_joined_hands(p: dict[str, float]) -> None:
    # Heads close and both of A's wrists across towards B: a hug, even though hands meet.
    a = pose(cx=0.45, sw=0.12, wrists=((0.52, 0.45), (0.50, 0.42)))
    b = pose(cx=0.55, sw=0.12, wrists=((0.52, 0.46), (0.60, 0.6)))
    m = two_person_measures(TwoPersonResult((a, b), SIZE, 0.0, 2), p, "left")
    assert m["hug"] is True and m["handshake"] is False


def test_reach_needs_a_probed_hand(p: dict[str, float]) -> None:
    from posture_coach.interaction_features import hand_table, handshake_evidence, meeting_zones
    from posture_coach.types import HandObs

    # A reaches half way to B at chest height; B's wrist hangs (hidden / misplaced).
    a = pose(cx=0.30, sw=0.12, wrists=((0.30, 0.62), (0.45, 0.45)))
    b = pose(cx=0.60, sw=0.12, wrists=((0.66, 0.62), (0.54, 0.62)))
    ev = handshake_evidence(a, b, SIZE, p)
    assert ev is not None and not ev.joined
    assert meeting_zones(a, b, SIZE, p)
    # A hand at A's reaching hand, its fingers pointing back at A: B's hand.
    rows = [(0.49 - 0.002 * i, 0.45, 0.0) for i in range(21)]
    lm = hand_table(rows)
    ev = handshake_evidence(a, b, SIZE, p, (HandObs(landmarks=lm, side="right", score=0.9),))
    assert ev is not None and ev.joined and ev.kind == "reach"
    # The same hand pointing away from A (A's own hand) is no evidence.
    lm2 = hand_table([(0.44 + 0.002 * i, 0.45, 0.0) for i in range(21)])
    ev = handshake_evidence(a, b, SIZE, p, (HandObs(landmarks=lm2, side="right", score=0.9),))
    assert ev is not None and not ev.joined


def test_body_strategy_and_still_helper(model_dir: Path, shared_dir: Path, p: dict[str, float]) -> None:
    from posture_coach.landmarker import LandmarkerConfig, Landmarkers
    from posture_coach.sources import read_image
    from posture_coach.two_person import TwoPersonDetector, two_person_still
    from posture_coach.types import Frame

    path = shared_dir / "data/real/ut_interaction_frames/handshake/0_2_34.png"
    if not path.is_file():
        pytest.skip("UT-Interaction frame not present")
    cfg = LandmarkerConfig(pose_model=model_dir / "pose_landmarker_full.task", face=False, hands=False,
                           mode="image", min_pose_confidence=0.3)
    with Landmarkers(cfg) as lm:
        frame = Frame(read_image(path), 0, 0, str(path))
        obs = lm.observe(frame, tasks=("pose",))
        out = two_person_still(lm, frame, obs, p)
        res = TwoPersonDetector(lm, strategy="body", max_persons=4, params=p).find(frame)
    tp = out.measures["two_person"]
    assert tp["n_persons"] >= 2 and tp["handshake"] is True and tp["handshake_kind"] == "wrists"
    assert len(res.persons) >= 2 and res.passes >= 2


class _StubPose:
    """A stand-in for :class:`Landmarkers`: returns queued poses (crop-normalised) and records the crops."""

    def __init__(self, poses: list[object]) -> None:
        from types import SimpleNamespace

        self.config = SimpleNamespace(mode="image")
        self.poses = list(poses)
        self.widths: list[int] = []

    def observe(self, frame: object, *, tasks: tuple[str, ...]) -> object:
        from types import SimpleNamespace

        self.widths.append(frame.image.shape[1])  # type: ignore[attr-defined]
        return SimpleNamespace(pose=self.poses.pop(0) if self.poses else None)


def _blank(w: int = 400, h: int = 300) -> object:
    from posture_coach.types import Frame

    return Frame(np.full((h, w, 3), 120, np.uint8), 0, 0, "stub")


def test_retry_searches_whole_frame_then_left_and_right_crops_at_low_confidence(p: dict[str, float]) -> None:
    from posture_coach.two_person import HALF_SHARE, TwoPersonDetector

    a = pose(cx=0.30, sw=0.12)
    primary = _StubPose([a, None])  # the usual mask passes find one person only
    # The low-confidence retry: nothing on the whole painted frame, then a person centred at
    # x = 0.5 of the left crop (full frame x = 0.5 * 0.6 = 0.30: the one found already) and at
    # x = 0.5 of the right crop (full frame x = 0.4 + 0.5 * 0.6 = 0.70: a new person).
    retry = _StubPose([None, pose(cx=0.5, sw=0.2), pose(cx=0.5, sw=0.2)])
    det = TwoPersonDetector(primary, strategy="mask", max_persons=4, retry=retry)  # type: ignore[arg-type]
    res = det.find(_blank())  # type: ignore[arg-type]
    cw = round(400 * HALF_SHARE)
    assert retry.widths == [400, cw, cw]
    assert res.passes == 2 + 3
    assert len(res.persons) == 2
    assert res.persons[1].landmarks[[11, 12], 0].mean() == pytest.approx(0.4 + 0.5 * HALF_SHARE)


def test_retry_only_below_the_wanted_count(p: dict[str, float]) -> None:
    from posture_coach.two_person import TwoPersonDetector

    two = [pose(cx=0.25, sw=0.12), pose(cx=0.75, sw=0.12), None]
    retry = _StubPose([])
    det = TwoPersonDetector(_StubPose(list(two)), max_persons=4, retry=retry)  # type: ignore[arg-type]
    res = det.find(_blank())  # type: ignore[arg-type]
    assert len(res.persons) == 2 and retry.widths == []  # two found: retry_below=2 is met
    retry4 = _StubPose([])
    det = TwoPersonDetector(_StubPose(list(two)), max_persons=4, retry=retry4, retry_below=4)  # type: ignore[arg-type]
    res = det.find(_blank())  # type: ignore[arg-type]
    assert len(retry4.widths) == 3 and res.passes == 3 + 3


def test_unstretch_widens_the_frame_and_reports_the_true_size() -> None:
    from posture_coach.two_person import TwoPersonDetector

    stub = _StubPose([pose(cx=0.3, sw=0.1), None])
    res = TwoPersonDetector(stub, unstretch=1.5).find(_blank(400, 400))  # type: ignore[arg-type]
    assert stub.widths[0] == 600 and res.image_size == (600, 400)
    # Landmarks stay normalised: the same x whatever the width.
    assert res.persons[0].landmarks[[11, 12], 0].mean() == pytest.approx(0.3)
    with pytest.raises(ValueError):
        TwoPersonDetector(stub, unstretch=0.0)  # type: ignore[arg-type]


def _still_landmarkers(model_dir: Path) -> tuple[Landmarkers, Landmarkers]:
    """The photo path's two IMAGE-mode pose landmarkers: the plain pass and the
    low-confidence retry (use both as context managers)."""
    from posture_coach.landmarker import LandmarkerConfig
    from posture_coach.two_person import RETRY_POSE_CONFIDENCE

    cfg = LandmarkerConfig(pose_model=model_dir / "pose_landmarker_full.task", face=False, hands=False,
                           mode="image", min_pose_confidence=0.3)
    return Landmarkers(cfg), Landmarkers(dataclasses.replace(cfg, min_pose_confidence=RETRY_POSE_CONFIDENCE))


def _handshake_rf_frame(shared_dir: Path, name: str) -> Frame:
    """One handshake_rf photo as a frame (skips the test when the data is absent)."""
    from posture_coach.sources import read_image

    path = shared_dir / "data/real/handshake_rf/valid" / name
    if not path.is_file():
        pytest.skip("handshake_rf photo not present")
    return Frame(read_image(path), 0, 0, str(path))


def test_retry_finds_the_partner_on_a_real_handshake_photo(model_dir: Path, shared_dir: Path,
                                                          p: dict[str, float]) -> None:
    """handshake_rf tune-half photo: the plain mask search finds one person, the retry the partner."""
    from posture_coach.two_person import TwoPersonDetector

    frame = _handshake_rf_frame(shared_dir, "0--1578-_jpg.rf.66be2e9024ace55bdbf0db57c9361faa.jpg")
    first, low = _still_landmarkers(model_dir)
    with first as lm, low as retry:
        plain = TwoPersonDetector(lm, max_persons=4).find(frame)
        res = TwoPersonDetector(lm, max_persons=4, retry=retry).find(frame)
    assert len(plain.persons) == 1 and two_person_measures(plain, p)["handshake"] is None
    assert len(res.persons) >= 2 and res.passes == plain.passes + 3
    assert two_person_measures(res, p)["handshake"] is True


# -- the mirror passes (photos): a second opinion from the mirror image's halves ----------------


def test_unmirror_flips_x_and_swaps_the_subjects_sides() -> None:
    from posture_coach.two_person import _unmirror
    from posture_coach.types import PoseLm

    a = pose(cx=0.3, sw=0.1, wrists=((0.40, 0.5), (0.22, 0.6)))
    m = _unmirror(a)
    # The mirror image of the subject's left shoulder is its right shoulder, at 1 - x.
    assert m.landmarks[PoseLm.LEFT_SHOULDER, 0] == pytest.approx(1.0 - a.landmarks[PoseLm.RIGHT_SHOULDER, 0])
    assert m.landmarks[PoseLm.LEFT_WRIST, :2] == pytest.approx((1.0 - 0.22, 0.6))
    assert m.landmarks[PoseLm.MOUTH_LEFT, 0] == pytest.approx(1.0 - a.landmarks[PoseLm.MOUTH_RIGHT, 0])
    assert m.landmarks[PoseLm.NOSE, 0] == pytest.approx(0.7)
    back = _unmirror(m)  # mirroring twice changes nothing
    assert np.allclose(back.landmarks, a.landmarks) and np.allclose(back.visibility, a.visibility)


def test_mirror_halves_run_when_no_handshake_and_keep_every_estimate(p: dict[str, float]) -> None:
    from posture_coach.two_person import HALF_SHARE, TwoPersonDetector

    a, b = pose(cx=0.25, sw=0.12), pose(cx=0.75, sw=0.12)  # two people, hands hanging: no handshake
    # Mask passes: a, b, nobody; then the mirror image's left crop finds a person at crop x = 0.5
    # (mirror x = 0.3, frame x = 0.7: a second estimate of b, kept), its right crop nobody.
    stub = _StubPose([a, b, None, pose(cx=0.5, sw=0.2), None])
    det = TwoPersonDetector(stub, max_persons=4, params=p, mirror=True)  # type: ignore[arg-type]
    res = det.find(_blank())  # type: ignore[arg-type]
    cw = round(400 * HALF_SHARE)
    assert stub.widths == [400, 400, 400, cw, cw] and res.passes == 3 + 2
    assert len(res.persons) == 3
    xs = [float(q.landmarks[[11, 12], 0].mean()) for q in res.persons]
    assert xs == pytest.approx([0.25, 1.0 - 0.5 * HALF_SHARE, 0.75])  # sorted by x, the estimate unmirrored


def test_mirror_halves_skipped_when_the_people_found_already_shake_hands(p: dict[str, float]) -> None:
    from posture_coach.two_person import TwoPersonDetector

    a = pose(cx=0.35, sw=0.12, wrists=((0.45, 0.45), (0.30, 0.6)))
    b = pose(cx=0.65, sw=0.12, wrists=((0.70, 0.6), (0.46, 0.45)))
    stub = _StubPose([a, b, None])
    res = TwoPersonDetector(stub, max_persons=4, params=p, mirror=True).find(_blank())  # type: ignore[arg-type]
    assert res.passes == 3 and len(res.persons) == 2
    # Without the [interaction] table nothing can be judged: the mirror passes always run.
    stub = _StubPose([a, b, None])
    res = TwoPersonDetector(stub, max_persons=4, mirror=True).find(_blank())  # type: ignore[arg-type]
    assert res.passes == 3 + 2


def test_one_person_found_twice_is_no_handshake(p: dict[str, float]) -> None:
    # A second, narrower estimate of the same body (turned, from a mirror pass) whose wrist
    # happens to lie at the first's: one person, whichever of the two is measured against.
    a = pose(cx=0.50, sw=0.14, wrists=((0.56, 0.55), (0.44, 0.6)))
    b = pose(cx=0.56, sw=0.04, wrists=((0.57, 0.55), (0.55, 0.6)))
    m = two_person_measures(TwoPersonResult((a, b), SIZE, 0.0, 4), p)
    assert m["n_persons"] == 2 and m["handshake"] is False


def test_bodies_of_very_different_scale_never_shake_hands(p: dict[str, float]) -> None:
    from posture_coach.interaction_features import handshake_evidence

    # Hands meet between them at chest height, but one body is 2.5 times the other: one stands
    # far behind the other and the hands only overlap in the picture.
    a = pose(cx=0.35, sw=0.12, wrists=((0.45, 0.45), (0.30, 0.6)))
    far = pose(cx=0.55, sw=0.048, top=0.36, tl=0.12, wrists=((0.58, 0.46), (0.455, 0.45)))
    ev = handshake_evidence(a, far, SIZE, p)
    assert ev is not None and not ev.joined
    near = pose(cx=0.65, sw=0.12, wrists=((0.70, 0.6), (0.46, 0.45)))
    ev = handshake_evidence(a, near, SIZE, p)
    assert ev is not None and ev.joined


def test_mirror_passes_find_the_handshake_on_a_real_photo(model_dir: Path, shared_dir: Path,
                                                         p: dict[str, float]) -> None:
    """handshake_rf tune-half photo: the partner's wrist, hidden in the clasp, is misplaced in every unmirrored pass."""
    from posture_coach.two_person import TwoPersonDetector

    frame = _handshake_rf_frame(shared_dir, "0--1586-_jpg.rf.55125055219965815856e2692c3e186e.jpg")
    first, low = _still_landmarkers(model_dir)
    with first as lm, low as retry:
        kw = {"max_persons": 4, "params": p, "retry": retry, "retry_below": 4}
        plain = TwoPersonDetector(lm, **kw).find(frame)  # type: ignore[arg-type]
        res = TwoPersonDetector(lm, mirror=True, **kw).find(frame)  # type: ignore[arg-type]
    assert two_person_measures(plain, p)["handshake"] is False
    assert res.passes == plain.passes + 2 and len(res.persons) > len(plain.persons)
    assert two_person_measures(res, p)["handshake"] is True


# -- a second person in a one-person analysis (the "two people in view" notice) --------


def test_people_side_by_side_are_two_but_a_fragment_of_one_is_not(p: dict[str, float]) -> None:
    from posture_coach.two_person import separate_people

    size = (640, 480)
    first = pose(cx=0.30, sw=0.08, tl=0.25)
    # A partner a torso length and more to the side, of a similar size: two people.
    assert separate_people(first, pose(cx=0.65, sw=0.10, tl=0.28), size, p)
    # The painted-out person found again lower down (legs, a torso inside a side-on body).
    assert not separate_people(first, pose(cx=0.33, top=0.45, tl=0.20), size, p)
    # Something small beside the person (a bag, a chair back read as a body).
    assert not separate_people(first, pose(cx=0.70, sw=0.03, tl=0.08), size, p)


class _Clock:
    def __init__(self) -> None:
        self.made = 0


def _probe_with(poses: list[object], p: dict[str, float], clock: _Clock) -> object:
    from posture_coach.two_person import SecondPersonProbe

    def make() -> object:
        clock.made += 1
        return _StubPose(poses)

    return SecondPersonProbe(make, p, every_ms=2000.0, max_checks=4)  # type: ignore[arg-type]


def _frame_obs(t_ms: int, person: object) -> tuple[object, object]:
    from tests.rules.test_interaction_rules import obs_of

    frame = _blank(640, 480)
    return frame, obs_of(person, t=t_ms)  # type: ignore[arg-type]


def test_probe_checks_every_two_seconds_and_gives_the_notice(p: dict[str, float]) -> None:
    trainee, partner = pose(cx=0.30, sw=0.08, tl=0.25), pose(cx=0.70, sw=0.09, tl=0.26)
    clock = _Clock()
    # Each check paints out the trainee and searches again: one pass finds the partner.
    probe = _probe_with([partner] * 10, p, clock)
    for t in range(0, 10_000, 100):  # 10 s at 10 frames a second
        probe.update(*_frame_obs(t, trainee))  # type: ignore[attr-defined]
    # Two of the four checks settle it (no later check could bring the share under a third):
    # the rest are not made.
    assert probe.checks == 2 and probe.found == 2  # type: ignore[attr-defined]
    assert clock.made == 1  # one landmarker, built at the first check
    assert probe.notice() == {"code": "two_people_in_view", "checks": 2, "found": 2}  # type: ignore[attr-defined]


def test_no_notice_for_one_person_or_a_single_passer_by(p: dict[str, float]) -> None:
    alone = pose(cx=0.45, sw=0.1, tl=0.3)
    probe = _probe_with([None] * 10, p, _Clock())
    for t in range(0, 8_000, 100):
        probe.update(*_frame_obs(t, alone))  # type: ignore[attr-defined]
    # After three empty checks the last one could not make two: it is not made.
    assert probe.checks == 3 and probe.found == 0 and probe.notice() is None  # type: ignore[attr-defined]
    # Someone walks past once: one check of four is no role-play.
    passer = pose(cx=0.85, sw=0.1, tl=0.3)
    probe = _probe_with([passer] + [None] * 10, p, _Clock())
    for t in range(0, 8_000, 100):
        probe.update(*_frame_obs(t, alone))  # type: ignore[attr-defined]
    assert probe.found == 1 and probe.notice() is None  # type: ignore[attr-defined]


def test_no_person_no_check_and_no_landmarker(p: dict[str, float]) -> None:
    clock = _Clock()
    probe = _probe_with([], p, clock)
    for t in range(0, 6_000, 100):
        probe.update(*_frame_obs(t, None))  # type: ignore[attr-defined]
    assert probe.checks == 0 and clock.made == 0  # type: ignore[attr-defined]


@pytest.mark.models
def test_role_play_clip_analysed_alone_gets_the_notice_and_a_practice_clip_does_not(model_dir: Path) -> None:
    from posture_coach.pipeline import ObservationStream

    samples = Path(__file__).resolve().parent.parent / "sample_videos"
    notices = {}
    for name in ("roleplay_side.mp4", "hands_on_hips_left.mp4"):
        with ObservationStream(samples / name, model_dir=model_dir, face=False, hands=False, stride=3) as st:
            for _ in st:
                pass
            notices[name] = st.notices()
    assert [n["code"] for n in notices["roleplay_side.mp4"]] == ["two_people_in_view"]
    assert notices["hands_on_hips_left.mp4"] == []
    # With the role-play set, the two-person search runs instead and there is nothing to say.
    with ObservationStream(samples / "roleplay_side.mp4", model_dir=model_dir, face=False, hands=False,
                           stride=3, role_play="left") as st:
        for _ in st:
            pass
        assert st.notices() == []
