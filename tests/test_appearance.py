"""Finding the calibrated trainee in a role-play by the clothes' colours (appearance.py)."""

from __future__ import annotations

import numpy as np
import pytest

from posture_coach.appearance import (
    SIGNATURE_BINS,
    TraineePicker,
    mean_signature,
    signature_distance,
    torso_signature,
)
from posture_coach.types import PoseLm, PoseObs

W, H = 640, 480
BLUE, WHITE, RED = (50, 75, 140), (240, 240, 240), (150, 40, 45)


def person(cx: float, sw: float = 60.0) -> PoseObs:
    """A standing person centred at x = cx px: shoulders at y 150, hips at y 300."""
    lm = np.zeros((33, 3))
    lm[PoseLm.LEFT_SHOULDER, :2] = ((cx + sw / 2) / W, 150 / H)
    lm[PoseLm.RIGHT_SHOULDER, :2] = ((cx - sw / 2) / W, 150 / H)
    lm[PoseLm.LEFT_HIP, :2] = ((cx + sw / 3) / W, 300 / H)
    lm[PoseLm.RIGHT_HIP, :2] = ((cx - sw / 3) / W, 300 / H)
    vis = np.full(33, 0.95)
    return PoseObs(lm, vis, vis.copy())


def scene(left: tuple[int, int, int], right: tuple[int, int, int]) -> np.ndarray:
    """Grey room; a shirt of each colour from the shoulders to the hips at x 200 and 440."""
    img = np.full((H, W, 3), 128, np.uint8)
    img[140:310, 160:240] = left
    img[140:310, 400:480] = right
    rng = np.random.default_rng(0)
    return np.clip(img.astype(int) + rng.integers(-6, 7, img.shape), 0, 255).astype(np.uint8)


def test_a_signature_is_a_normalised_histogram_of_the_shirt() -> None:
    sig = torso_signature(scene(BLUE, WHITE), person(200.0))
    assert sig is not None and len(sig) == SIGNATURE_BINS
    assert sum(sig) == pytest.approx(1.0, abs=1e-3)
    same = torso_signature(scene(BLUE, RED), person(200.0))
    other = torso_signature(scene(BLUE, WHITE), person(440.0))
    assert same is not None and other is not None
    assert signature_distance(sig, same) < 0.1 < 0.8 < signature_distance(sig, other)


def test_a_side_view_keeps_a_band_on_the_trunk() -> None:
    # From the side the shoulders overlap (2 px apart): the band still samples the shirt.
    sig = torso_signature(scene(BLUE, WHITE), person(200.0, sw=2.0))
    front = torso_signature(scene(BLUE, WHITE), person(200.0))
    assert sig is not None and front is not None and signature_distance(sig, front) < 0.1


def test_no_signature_without_the_trunk_or_for_a_wrong_image_size() -> None:
    p = person(200.0)
    hidden = PoseObs(p.landmarks, np.where(np.arange(33) == PoseLm.LEFT_HIP, 0.1, 0.95), p.presence)
    assert torso_signature(scene(BLUE, WHITE), hidden) is None
    assert torso_signature(scene(BLUE, WHITE), p, (1280, 720)) is None


def test_the_picker_follows_the_calibrated_clothes_to_either_side() -> None:
    ref = mean_signature([torso_signature(scene(BLUE, WHITE), person(200.0))])  # type: ignore[list-item]
    assert ref is not None
    picker = TraineePicker(ref)
    assert picker.update(scene(BLUE, WHITE), person(200.0), person(440.0)) == "left"
    # The same people, sides swapped (a mirrored film): the picker moves over once the
    # averaged evidence passes the margin, not on one frame.
    sides = [picker.update(scene(WHITE, BLUE), person(200.0), person(440.0)) for _ in range(10)]
    assert sides[0] == "left" and sides[-1] == "right"
    assert picker.last["right"] < picker.last["left"]


def test_one_occluded_frame_does_not_swap_the_trainee() -> None:
    ref = torso_signature(scene(BLUE, WHITE), person(200.0))
    assert ref is not None
    picker = TraineePicker(ref)
    for _ in range(5):
        picker.update(scene(BLUE, WHITE), person(200.0), person(440.0))
    # An arm in a white sleeve across the blue shirt for one frame: still the left person.
    assert picker.update(scene(WHITE, WHITE), person(200.0), person(440.0)) == "left"


def test_two_people_dressed_alike_are_not_told_apart() -> None:
    ref = torso_signature(scene(BLUE, WHITE), person(200.0))
    assert ref is not None
    picker = TraineePicker(ref)
    for _ in range(10):
        assert picker.update(scene(BLUE, BLUE), person(200.0), person(440.0)) is None
