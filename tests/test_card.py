"""The card pixel measure on drawn scenes: a business card at the fingers of a hand held out."""

from __future__ import annotations

import time

import cv2
import numpy as np
import numpy.typing as npt
import pytest

from posture_coach.card import card_measure, find_card
from posture_coach.types import Frame, Observation

from .helpers_pose import observation

W, H = 640, 480
WALL, SHIRT, SKIN, WHITE = (150, 140, 130), (40, 120, 70), (220, 175, 150), (245, 245, 242)
# Shoulders 80 px apart; the right hand (image left) held out before the chest, its
# fingers pointing across the body (to image right), as a card is offered from the front.
JOINTS = {
    "nose": (320.0, 100.0), "left_eye": (328.0, 94.0), "right_eye": (312.0, 94.0),
    "left_shoulder": (360.0, 150.0), "right_shoulder": (280.0, 150.0),
    "left_hip": (350.0, 270.0), "right_hip": (290.0, 270.0),
    "left_elbow": (372.0, 210.0), "right_elbow": (270.0, 210.0),
    "left_wrist": (375.0, 265.0), "right_wrist": (300.0, 220.0),
    "left_index": (376.0, 280.0), "left_pinky": (378.0, 278.0), "left_thumb": (372.0, 278.0),
    "right_index": (312.0, 219.0), "right_pinky": (311.0, 225.0), "right_thumb": (306.0, 216.0),
}


def scene(card_at: tuple[float, float] | None = (330.0, 221.0), card_px: tuple[int, int] = (18, 11),
          colour: tuple[int, int, int] = WHITE) -> tuple[npt.NDArray[np.uint8], Observation]:
    img = np.zeros((H, W, 3), np.uint8)
    img[:] = WALL
    cv2.rectangle(img, (270, 145), (370, 290), SHIRT, -1)  # the torso
    cv2.circle(img, (320, 95), 22, SKIN, -1)  # the head
    cv2.ellipse(img, (307, 221), (9, 5), 0, 0, 360, SKIN, -1)  # the right hand
    if card_at is not None:
        (cx, cy), (cw, ch) = card_at, card_px
        cv2.rectangle(img, (round(cx - cw / 2), round(cy - ch / 2)), (round(cx + cw / 2), round(cy + ch / 2)),
                      colour, -1)
        cv2.line(img, (round(cx - cw / 3), round(cy)), (round(cx + cw / 3), round(cy)), (30, 40, 120), 2)
    return img, observation(JOINTS, size=(W, H))


def test_a_card_at_the_fingers_is_found() -> None:
    img, obs = scene()
    found = find_card(img, obs, "right")
    assert found is not None and found["card"] is True
    assert 0.02 <= found["area_sw2"] <= 0.05 and found["aspect"] == pytest.approx(1.6, abs=0.3)


def test_no_card_in_an_empty_hand() -> None:
    img, obs = scene(card_at=None)
    assert find_card(img, obs, "right") == {"card": False}


def test_a_white_cuff_at_the_wrist_is_no_card() -> None:
    # The same patch on the forearm side of the wrist: a shirt cuff, not a card held out.
    img, obs = scene(card_at=(288.0, 219.0), card_px=(12, 9))
    assert find_card(img, obs, "right") == {"card": False}


def test_a_coloured_card_or_a_large_white_board_is_no_card() -> None:
    img, obs = scene(colour=(200, 40, 40))  # not grey: a red object
    assert find_card(img, obs, "right") == {"card": False}
    img, obs = scene(card_px=(140, 120))  # runs out of the search window: a wall, a sheet
    assert find_card(img, obs, "right") == {"card": False}


def test_a_pale_patch_on_the_head_is_no_card() -> None:
    joints = dict(JOINTS, right_wrist=(300.0, 118.0), right_index=(310.0, 112.0), right_pinky=(309.0, 116.0))
    img, _ = scene(card_at=(322.0, 82.0), card_px=(18, 8))  # a lit forehead beside a raised hand
    assert find_card(img, observation(joints, size=(W, H)), "right") == {"card": False}


def test_an_unseen_hand_is_not_judged() -> None:
    img, _ = scene()
    obs = observation(JOINTS, size=(W, H), hidden=("right_wrist",))
    assert find_card(img, obs, "right") is None
    assert card_measure(Frame(img, 0, 0), obs) == {"left": {"card": False}}


def test_the_measure_is_cheap() -> None:
    img, obs = scene()
    frame = Frame(img, 0, 0)
    card_measure(frame, obs)
    t0 = time.perf_counter()
    for _ in range(50):
        card_measure(frame, obs)
    assert (time.perf_counter() - t0) / 50 * 1000 < 2.0
