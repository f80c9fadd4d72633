"""Candidates for small face crops (posture_coach.small_faces): shapes, order, mapping back."""

from __future__ import annotations

import numpy as np
import pytest

from posture_coach.small_faces import (
    TARGET_FACE_PX,
    prepare_small_face,
    small_face_candidates,
    to_crop_coords,
    to_rgb3,
)


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
    assert [c.name for _, c in cands] == ["mean_canvas", "grey_canvas_wide", "replicate"]
    first, info = cands[0]
    # 64 px -> 256 px face on a canvas with half a face of margin each side: 50 % of the frame.
    assert info.scale == pytest.approx(TARGET_FACE_PX / 64)
    assert first.shape[:2] == (2 * TARGET_FACE_PX, 2 * TARGET_FACE_PX)
    wide, _ = cands[1]
    assert wide.shape[:2] == (3 * TARGET_FACE_PX, 3 * TARGET_FACE_PX)


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
