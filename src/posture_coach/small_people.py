"""Photos where the pose detector finds nobody: search overlapping tiles (photo path only).

MediaPipe's pose detector sees the whole photo at 224×224. A person who fills a fifth of a
busy photo (a batter behind a backstop net, a group photo) can go unseen although the
landmark model handles them well once the detector is pointed at them. When a still image
gives no pose, :func:`observe_in_tiles` runs the landmarkers on a 3×3 grid of overlapping
tiles, each :data:`TILE_FRACTION` of the photo's width and height (a 1/0.6 zoom for the
detector), keeps the tile whose person is the most certain, and maps every landmark back
to the whole photo.

A tile's find is kept only when the core joints (nose and both shoulders) are clearly
seen, mean visibility ≥ :data:`MIN_CORE_VISIBILITY`: on ``smoke_people`` the tiles of the
one missed photo find its people at 0.99-1.00, while a tile of the photo of a cat gives a
"person" at 0.35-0.41, which must stay no person. Costs up to 9 extra landmarker runs,
only for stills with no person found (≈ 0.15 s on 2 cores); the video path never uses it.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable

import numpy as np
import numpy.typing as npt

from posture_coach.types import FaceObs, Frame, HandObs, Observation, PoseObs, landmarks_from_crop

#: Tile side as a fraction of the photo's width / height.
TILE_FRACTION = 0.6
#: Tile origins along each axis, as a fraction of the free space (0 = left/top edge).
TILE_STEPS: tuple[float, ...] = (0.0, 0.5, 1.0)
#: Nose and both shoulders must be this visible (mean) for a tile's person to count.
MIN_CORE_VISIBILITY = 0.8
CORE_JOINTS: tuple[int, ...] = (0, 11, 12)

Box = tuple[int, int, int, int]  # x0, y0, width, height in photo pixels


def tiles(width: int, height: int) -> list[Box]:
    """The overlapping tiles of a ``width`` × ``height`` photo, row by row."""
    tw, th = max(1, round(width * TILE_FRACTION)), max(1, round(height * TILE_FRACTION))
    return [(round((width - tw) * fx), round((height - th) * fy), tw, th)
            for fy in TILE_STEPS for fx in TILE_STEPS]


def core_visibility(pose: PoseObs) -> float:
    return float(np.mean(pose.visibility[list(CORE_JOINTS)]))


def map_to_photo(obs: Observation, box: Box, width: int, height: int) -> Observation:
    """An observation of the tile ``box`` expressed in the whole photo's coordinates."""
    pose = face = None
    if obs.pose is not None:
        pose = dataclasses.replace(obs.pose, landmarks=landmarks_from_crop(obs.pose.landmarks, *box, (width, height)))
    if obs.face is not None:
        face = FaceObs(landmarks_from_crop(obs.face.landmarks, *box, (width, height)), obs.face.blendshapes,
                       obs.face.transform)
    hands = tuple(HandObs(landmarks_from_crop(h.landmarks, *box, (width, height)), h.side, h.score, h.world)
                  for h in obs.hands)
    return dataclasses.replace(obs, image_size=(width, height), pose=pose, face=face, hands=hands)


def observe_in_tiles(
    image: npt.NDArray[np.uint8], observe: Callable[[npt.NDArray[np.uint8]], Observation]
) -> tuple[Observation, Box] | None:
    """Run ``observe`` on each tile of ``image``; the most certain person, in photo
    coordinates, with its tile, or ``None`` when no tile shows one clearly."""
    height, width = image.shape[:2]
    best: tuple[float, Observation, Box] | None = None
    for box in tiles(width, height):
        x0, y0, tw, th = box
        tile_obs = observe(np.ascontiguousarray(image[y0:y0 + th, x0:x0 + tw]))
        if tile_obs.pose is None:
            continue
        score = core_visibility(tile_obs.pose)
        if score >= MIN_CORE_VISIBILITY and (best is None or score > best[0]):
            best = (score, tile_obs, box)
    if best is None:
        return None
    return map_to_photo(best[1], best[2], width, height), best[2]


def person_in_tiles(observe_frame: Callable[[Frame], Observation], frame: Frame,
                    obs: Observation) -> Observation:
    """``obs`` of a still ``frame`` with no pose: the tiles' person when one is clearly
    seen (keeping ``obs``'s frame index, time and source), else ``obs`` unchanged."""
    found = observe_in_tiles(
        frame.image, lambda tile: observe_frame(Frame(tile, frame.index, frame.timestamp_ms, frame.source)))
    if found is None:
        return obs
    return dataclasses.replace(found[0], frame_index=obs.frame_index, timestamp_ms=obs.timestamp_ms,
                               source=obs.source)
