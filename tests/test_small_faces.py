"""Candidates for small face crops (posture_coach.small_faces): shapes, order, mapping back."""

from __future__ import annotations

import numpy as np
import pytest

from posture_coach.small_faces import (
    LARGE_FACE_PX,
    RETRY_CANDIDATES,
    TARGET_FACE_PX,
    average_with_mirror,
    mirror_blendshapes,
    observe_small_face,
    prepare_small_face,
    small_face_candidates,
    to_crop_coords,
    to_rgb3,
)
from posture_coach.types import FaceObs, Observation


def _crop(channels: int | None = 3, size: int = 64) -> np.ndarray:
    rng = np.random.default_rng(1)
    shape = (size, size) if channels is None else (size, size, channels)
    return rng.integers(0, 256, shape, dtype=np.uint8)


@pytest.mark.parametrize("channels", [None, 1, 3, 4])
def test_any_channels_give_rgb(channels: int | None) -> None:
    for c in prepare_small_face(_crop(channels)):
        assert c.dtype == np.uint8 and c.ndim == 3 and c.shape[2] == 3
        assert c.flags["C_CONTIGUOUS"]  # MediaPipe needs contiguous memory


def test_grey_becomes_three_equal_channels() -> None:
    g = _crop(None)
    rgb = to_rgb3(g)
    assert rgb.shape == (64, 64, 3)
    assert np.array_equal(rgb[..., 0], g) and np.array_equal(rgb[..., 2], g)


def test_candidates_order_and_face_share() -> None:
    cands = small_face_candidates(_crop())
    assert [c.name for _, c in cands] == ["mean_canvas", "grey_canvas_wide", "replicate",
                                          "mean_canvas_wide", "mean_canvas_large"]
    first, info = cands[0]
    # 64 px -> 256 px face on a canvas with half a face of margin each side: 50 % of the frame.
    assert info.scale == pytest.approx(TARGET_FACE_PX / 64)
    assert first.shape[:2] == (2 * TARGET_FACE_PX, 2 * TARGET_FACE_PX)
    wide, _ = cands[1]
    assert wide.shape[:2] == (3 * TARGET_FACE_PX, 3 * TARGET_FACE_PX)
    assert cands[3][0].shape[:2] == (3 * TARGET_FACE_PX, 3 * TARGET_FACE_PX)
    large, info = cands[4]
    assert info.scale == pytest.approx(LARGE_FACE_PX / 64)
    assert large.shape[:2] == (2 * LARGE_FACE_PX, 2 * LARGE_FACE_PX)


def test_canvas_is_plain_mean_colour() -> None:
    crop = _crop()
    img, info = small_face_candidates(crop)[0]
    mean = crop.reshape(-1, 3).mean(axis=0).round()
    assert np.array_equal(img[0, 0], mean.astype(np.uint8))
    assert np.array_equal(img[-1, -1], mean.astype(np.uint8))
    x, y = info.offset
    assert np.array_equal(img[y - 1, x - 1], mean.astype(np.uint8))


def test_large_crop_not_upscaled() -> None:
    img, info = small_face_candidates(_crop(size=400))[0]
    assert info.scale == 1.0 and img.shape[:2] == (800, 800)


def test_coords_map_back() -> None:
    crop = _crop()
    for img, info in small_face_candidates(crop):
        p = np.array([[10.0, 20.0], [63.0, 0.0]])
        q = p * info.scale + np.array(info.offset)
        assert np.allclose(to_crop_coords(q, info), p)
        # the crop's pixel (10, 20) is where the mapping says, up to the upscaling filter
        x, y = (p[0] * info.scale + np.array(info.offset)).round().astype(int)
        assert img[y, x].shape == (3,)


def test_bad_shape_rejected() -> None:
    with pytest.raises(ValueError):
        to_rgb3(np.zeros((4, 4, 2), np.uint8))


def _face(blend: dict[str, float]) -> FaceObs:
    return FaceObs(landmarks=np.zeros((478, 3)), blendshapes=blend, transform=None)


def _obs(face: FaceObs | None, size: int = 4) -> Observation:
    return Observation(frame_index=0, timestamp_ms=0, image_size=(size, size), face=face,
                       ran=frozenset({"face"}))


def test_mirror_swaps_sides() -> None:
    m = mirror_blendshapes({"mouthSmileLeft": 0.2, "mouthSmileRight": 0.6, "jawOpen": 0.1})
    assert m == {"mouthSmileRight": 0.2, "mouthSmileLeft": 0.6, "jawOpen": 0.1}


def test_average_with_mirror_keeps_geometry() -> None:
    a = _face({"mouthSmileLeft": 0.2, "mouthSmileRight": 0.4, "jawOpen": 0.1})
    b = FaceObs(landmarks=np.ones((478, 3)), blendshapes={"mouthSmileLeft": 0.6, "mouthSmileRight": 0.0,
                                                          "jawOpen": 0.3}, transform=None)
    out = average_with_mirror(a, b)
    assert out.blendshapes == pytest.approx({"mouthSmileLeft": 0.1, "mouthSmileRight": 0.5, "jawOpen": 0.2})
    assert np.array_equal(out.landmarks, a.landmarks)


def test_observe_cascade_retry_and_mirror() -> None:
    calls: list[tuple[str, tuple[int, ...]]] = []
    n_cands = len(small_face_candidates(_crop()))

    def never(img: np.ndarray) -> Observation:
        calls.append(("main", img.shape))
        return _obs(None)

    def retry(img: np.ndarray) -> Observation:
        calls.append(("retry", img.shape))
        return _obs(_face({"mouthSmileLeft": 0.8, "mouthSmileRight": 0.2}))

    obs, img, cand = observe_small_face(_crop(), never, retry)
    # every candidate at the default confidence, then the first retry candidate, then its mirror
    assert [c for c, _ in calls] == ["main"] * n_cands + ["retry", "retry"]
    assert cand.name == RETRY_CANDIDATES[0] and obs.face is not None
    assert obs.face.blendshapes["mouthSmileLeft"] == pytest.approx(0.5)
    assert img.flags["C_CONTIGUOUS"]


def test_observe_without_face_returns_first_candidate() -> None:
    obs, _, cand = observe_small_face(_crop(), lambda im: _obs(None), None, mirror=False)
    assert obs.face is None and cand.name == "mean_canvas"
