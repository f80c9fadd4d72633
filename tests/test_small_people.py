"""Photos where the whole-photo pose pass finds nobody: the tile search (small_people.py)."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from posture_coach.small_people import (
    MIN_CORE_VISIBILITY,
    map_to_photo,
    observe_in_tiles,
    person_in_tiles,
    tiles,
)
from posture_coach.types import Frame, HandObs, Observation, PoseObs


def _pose(vis: float, x: float = 0.5, y: float = 0.5) -> PoseObs:
    lm = np.tile([x, y, 0.1], (33, 1))
    return PoseObs(lm, np.full(33, vis), np.full(33, vis))


def test_tiles_cover_the_photo_with_overlap() -> None:
    boxes = tiles(640, 480)
    assert len(boxes) == 9
    assert boxes[0] == (0, 0, 384, 288)
    assert boxes[-1] == (256, 192, 384, 288)  # flush with the right and bottom edges
    covered = np.zeros((480, 640), bool)
    for x0, y0, w, h in boxes:
        covered[y0:y0 + h, x0:x0 + w] = True
    assert covered.all()


def test_landmarks_map_back_to_photo_coordinates() -> None:
    hand = HandObs(np.tile([0.25, 0.75, 0.0], (21, 1)), "right", 0.9)
    obs = Observation(0, 0, (384, 288), pose=_pose(0.9, 0.5, 0.5), hands=(hand,))
    out = map_to_photo(obs, (256, 192, 384, 288), 640, 480)
    assert out.image_size == (640, 480)
    assert out.pose is not None
    assert out.pose.landmarks[0, 0] == pytest.approx((0.5 * 384 + 256) / 640)
    assert out.pose.landmarks[0, 1] == pytest.approx((0.5 * 288 + 192) / 480)
    assert out.pose.landmarks[0, 2] == pytest.approx(0.1 * 384 / 640)  # z: image-width units
    assert out.hands[0].landmarks[0, 0] == pytest.approx((0.25 * 384 + 256) / 640)
    assert out.hands[0].side == "right"


def test_the_most_certain_clear_person_wins_and_a_vague_one_is_no_person() -> None:
    image = np.zeros((480, 640, 3), np.uint8)
    calls: list[tuple[int, int]] = []

    def observe(tile: np.ndarray) -> Observation:
        calls.append(tile.shape[:2])
        k = len(calls)
        vis = {5: 0.95, 7: 0.85}.get(k, 0.4)  # tile 5 = the centre tile
        return Observation(0, 0, (tile.shape[1], tile.shape[0]), pose=_pose(vis))

    found = observe_in_tiles(image, observe)
    assert found is not None and found[1] == tiles(640, 480)[4]
    assert len(calls) == 9 and calls[0] == (288, 384)

    vague = observe_in_tiles(image, lambda t: Observation(0, 0, (1, 1), pose=_pose(MIN_CORE_VISIBILITY - 0.05)))
    assert vague is None


def test_nobody_found_leaves_the_observation_unchanged() -> None:
    frame = Frame(np.zeros((100, 100, 3), np.uint8), 3, 120, "x.jpg")
    obs = Observation(3, 120, (100, 100), source="x.jpg")
    assert person_in_tiles(lambda f: Observation(f.index, 0, f.size), frame, obs) is obs


def test_batter_behind_a_net_is_found_and_a_cat_is_not(shared_dir: Path, model_dir: Path) -> None:
    """The one smoke_people photo the whole-photo pass misses; the photo of a cat stays
    without a person (real models, through the product's photo path)."""
    from posture_coach.pipeline import ObservationStream

    base = shared_dir / "data/real/smoke_people"
    with ObservationStream(base / "openpose/COCO_val2014_000000000192.jpg", model_dir=model_dir,
                           fetch_models=False) as stream:
        (_, obs), = list(stream)
    assert obs.pose is not None and obs.image_size == (640, 480)
    assert 0.0 < float(obs.pose.landmarks[0, 0]) < 1.0
    with ObservationStream(base / "tf_pose/cat.jpg", model_dir=model_dir, fetch_models=False) as stream:
        (_, cat), = list(stream)
    assert cat.pose is None
