"""Stage data: what flows from a camera frame to a rule verdict.

Every type here is a frozen dataclass holding numpy arrays or plain values, so that
nothing downstream of :mod:`posture_coach.landmarker` knows about MediaPipe.

Coordinates
-----------
Landmark arrays are ``(N, 3)`` float64: ``x`` and ``y`` are normalised image
coordinates (0..1, origin top-left, ``y`` down) and ``z`` is MediaPipe's relative depth.
Use :attr:`Observation.image_size` to turn them into pixels; angles must be computed in
pixels (x and y are scaled differently unless the image is square).

Sides are always the *subject's* sides ("left" = the person's own left hand), never the
side of the image.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass, field
from enum import IntEnum
from typing import Any, Literal

import numpy as np
import numpy.typing as npt

from posture_coach.geometry import is_visible

FloatArray = npt.NDArray[np.float64]
Side = Literal["left", "right"]


class PoseLm(IntEnum):
    """Indices of MediaPipe's 33 pose landmarks (BlazePose topology)."""

    NOSE = 0
    LEFT_EYE_INNER = 1
    LEFT_EYE = 2
    LEFT_EYE_OUTER = 3
    RIGHT_EYE_INNER = 4
    RIGHT_EYE = 5
    RIGHT_EYE_OUTER = 6
    LEFT_EAR = 7
    RIGHT_EAR = 8
    MOUTH_LEFT = 9
    MOUTH_RIGHT = 10
    LEFT_SHOULDER = 11
    RIGHT_SHOULDER = 12
    LEFT_ELBOW = 13
    RIGHT_ELBOW = 14
    LEFT_WRIST = 15
    RIGHT_WRIST = 16
    LEFT_PINKY = 17
    RIGHT_PINKY = 18
    LEFT_INDEX = 19
    RIGHT_INDEX = 20
    LEFT_THUMB = 21
    RIGHT_THUMB = 22
    LEFT_HIP = 23
    RIGHT_HIP = 24
    LEFT_KNEE = 25
    RIGHT_KNEE = 26
    LEFT_ANKLE = 27
    RIGHT_ANKLE = 28
    LEFT_HEEL = 29
    RIGHT_HEEL = 30
    LEFT_FOOT_INDEX = 31
    RIGHT_FOOT_INDEX = 32


POSE_CONNECTIONS: tuple[tuple[int, int], ...] = (
    (11, 12), (11, 13), (13, 15), (12, 14), (14, 16), (11, 23), (12, 24), (23, 24),
    (23, 25), (25, 27), (24, 26), (26, 28), (27, 29), (29, 31), (27, 31), (28, 30),
    (30, 32), (28, 32), (15, 17), (15, 19), (15, 21), (17, 19), (16, 18), (16, 20),
    (16, 22), (18, 20), (0, 2), (0, 5), (2, 7), (5, 8), (9, 10),
)

HAND_CONNECTIONS: tuple[tuple[int, int], ...] = (
    (0, 1), (1, 2), (2, 3), (3, 4), (0, 5), (5, 6), (6, 7), (7, 8), (5, 9), (9, 10),
    (10, 11), (11, 12), (9, 13), (13, 14), (14, 15), (15, 16), (13, 17), (0, 17),
    (17, 18), (18, 19), (19, 20),
)


@dataclass(frozen=True, slots=True)
class Frame:
    """One decoded image: contiguous RGB uint8, H×W×3."""

    image: npt.NDArray[np.uint8]
    index: int
    timestamp_ms: int
    source: str = ""

    @property
    def size(self) -> tuple[int, int]:
        """(width, height) in pixels."""
        h, w = self.image.shape[:2]
        return int(w), int(h)


def landmarks_from_crop(points: npt.ArrayLike, x0: float, y0: float, crop_w: float, crop_h: float,
                        frame_size: tuple[int, int]) -> FloatArray:
    """Landmarks normalised to a crop (``x0, y0`` its top-left corner, ``crop_w × crop_h``
    its size, frame pixels) → normalised to the whole frame; z (in units of the image
    width, as MediaPipe gives it) rescaled with x. Columns beyond x, y, z are kept."""
    w, h = frame_size
    out = np.array(points, dtype=np.float64, copy=True)
    out[:, 0] = (x0 + out[:, 0] * crop_w) / w
    out[:, 1] = (y0 + out[:, 1] * crop_h) / h
    if out.shape[1] > 2:
        out[:, 2] = out[:, 2] * crop_w / w
    return out


def _frozen(arr: FloatArray | None) -> FloatArray | None:
    """A read-only view: stage data are immutable, and the caller's array stays writable."""
    if arr is None or not arr.flags.writeable:
        return arr
    view = arr.view()
    view.setflags(write=False)
    return view


def _as_array(values: Any, shape_tail: tuple[int, ...]) -> FloatArray:
    arr = np.asarray(values, dtype=np.float64)
    if arr.ndim != 1 + len(shape_tail) or arr.shape[1:] != shape_tail:
        raise ValueError(f"expected shape (N, {shape_tail}), got {arr.shape}")
    arr.setflags(write=False)
    return arr


@dataclass(frozen=True, slots=True)
class PoseObs:
    """One person's 33 pose landmarks."""

    landmarks: FloatArray  # (33, 3) normalised x, y, relative z
    visibility: FloatArray  # (33,) 0..1: in view and not occluded
    presence: FloatArray  # (33,) 0..1: inside the image
    world: FloatArray | None = None  # (33, 3) metres, hip-centred (not camera depth)

    def __post_init__(self) -> None:
        for name in ("landmarks", "visibility", "presence", "world"):
            object.__setattr__(self, name, _frozen(getattr(self, name)))

    def sees(self, min_visibility: float, *idx: int) -> bool:
        """Every landmark ``idx`` confident (``min_visibility``) and inside the image:
        MediaPipe extrapolates points beyond the frame, sometimes with middling visibility
        (:func:`posture_coach.geometry.is_visible`)."""
        return all(is_visible(float(self.visibility[i]), (float(self.landmarks[i, 0]), float(self.landmarks[i, 1])),
                              min_visibility) for i in idx)

    def to_dict(self) -> dict[str, Any]:
        return {
            "lm": self.landmarks.tolist(),
            "vis": self.visibility.tolist(),
            "pres": self.presence.tolist(),
            "world": None if self.world is None else self.world.tolist(),
        }

    @classmethod
    def from_dict(cls, d: Mapping[str, Any]) -> PoseObs:
        world = d.get("world")
        return cls(
            landmarks=_as_array(d["lm"], (3,)),
            visibility=_as_array(d["vis"], ()),
            presence=_as_array(d["pres"], ()),
            world=None if world is None else _as_array(world, (3,)),
        )


@dataclass(frozen=True, slots=True)
class FaceObs:
    """One face: 478 landmarks (with irises), ARKit-named blendshapes, head transform."""

    landmarks: FloatArray  # (478, 3) normalised
    blendshapes: Mapping[str, float] = field(default_factory=dict)
    transform: FloatArray | None = None  # (4, 4) facial transformation matrix

    def __post_init__(self) -> None:
        for name in ("landmarks", "transform"):
            object.__setattr__(self, name, _frozen(getattr(self, name)))

    def to_dict(self) -> dict[str, Any]:
        return {
            "lm": self.landmarks.tolist(),
            "bs": dict(self.blendshapes),
            "mat": None if self.transform is None else self.transform.tolist(),
        }

    @classmethod
    def from_dict(cls, d: Mapping[str, Any]) -> FaceObs:
        mat = d.get("mat")
        transform = None
        if mat is not None:
            transform = np.asarray(mat, dtype=np.float64)
            transform.setflags(write=False)
        return cls(
            landmarks=_as_array(d["lm"], (3,)),
            blendshapes={str(k): float(v) for k, v in d.get("bs", {}).items()},
            transform=transform,
        )


@dataclass(frozen=True, slots=True)
class HandObs:
    """One hand: 21 landmarks and which of the subject's hands it is."""

    landmarks: FloatArray  # (21, 3) normalised
    side: Side  # the subject's own side
    score: float  # handedness confidence 0..1
    world: FloatArray | None = None  # (21, 3) metres

    def __post_init__(self) -> None:
        for name in ("landmarks", "world"):
            object.__setattr__(self, name, _frozen(getattr(self, name)))

    def size_px(self, image_size: tuple[int, int]) -> float:
        """Wrist to middle-finger knuckle (MCP), pixels: a hand-size scale that does not
        depend on what the fingers do."""
        w, h = image_size
        lm = self.landmarks
        return float(math.hypot((lm[9, 0] - lm[0, 0]) * w, (lm[9, 1] - lm[0, 1]) * h))

    def span_px(self, image_size: tuple[int, int]) -> float:
        """Wrist to middle-finger knuckle in 3-D (the model's z is on the scale of x), pixels.

        Unlike :meth:`size_px` it stays long for a hand seen end-on (pointing at the
        lens), whose 2-D span collapses to a few pixels."""
        w, h = image_size
        d = self.landmarks[9] - self.landmarks[0]
        return float(math.sqrt((d[0] * w) ** 2 + (d[1] * h) ** 2 + (d[2] * w) ** 2))

    def to_dict(self) -> dict[str, Any]:
        return {
            "lm": self.landmarks.tolist(),
            "side": self.side,
            "score": self.score,
            "world": None if self.world is None else self.world.tolist(),
        }

    @classmethod
    def from_dict(cls, d: Mapping[str, Any]) -> HandObs:
        side = d["side"]
        if side not in ("left", "right"):
            raise ValueError(f"hand side must be 'left' or 'right', got {side!r}")
        world = d.get("world")
        return cls(
            landmarks=_as_array(d["lm"], (3,)),
            side=side,
            score=float(d["score"]),
            world=None if world is None else _as_array(world, (3,)),
        )


@dataclass(frozen=True, slots=True)
class Observation:
    """Everything the landmarkers saw in one frame. ``None`` = not detected (or not run)."""

    frame_index: int
    timestamp_ms: int
    image_size: tuple[int, int]  # (width, height) px
    pose: PoseObs | None = None
    face: FaceObs | None = None
    hands: tuple[HandObs, ...] = ()
    source: str = ""
    # Which landmarkers actually ran: a missing face is only evidence when face ran.
    ran: frozenset[str] = frozenset({"pose", "face", "hands"})
    # Pixel measurements taken at the edge (posture_coach.pixels) where landmarks alone
    # are not enough, e.g. the visible-teeth band. JSON values only, so they are recorded
    # and replayed like landmarks: {"teeth": {"band_px": 41.0, ...}}.
    measures: Mapping[str, Any] = field(default_factory=dict)

    @property
    def person(self) -> bool:
        return self.pose is not None or self.face is not None

    def hand(self, side: Side) -> HandObs | None:
        best: HandObs | None = None
        for h in self.hands:
            if h.side == side and (best is None or h.score > best.score):
                best = h
        return best

    def to_dict(self) -> dict[str, Any]:
        return {
            "frame": self.frame_index,
            "t_ms": self.timestamp_ms,
            "size": list(self.image_size),
            "source": self.source,
            "ran": sorted(self.ran),
            "pose": None if self.pose is None else self.pose.to_dict(),
            "face": None if self.face is None else self.face.to_dict(),
            "hands": [h.to_dict() for h in self.hands],
            "measures": dict(self.measures),
        }

    @classmethod
    def from_dict(cls, d: Mapping[str, Any]) -> Observation:
        w, h = d["size"]
        return cls(
            frame_index=int(d["frame"]),
            timestamp_ms=int(d["t_ms"]),
            image_size=(int(w), int(h)),
            pose=None if d.get("pose") is None else PoseObs.from_dict(d["pose"]),
            face=None if d.get("face") is None else FaceObs.from_dict(d["face"]),
            hands=tuple(HandObs.from_dict(x) for x in d.get("hands", [])),
            source=str(d.get("source", "")),
            ran=frozenset(d.get("ran", ("pose", "face", "hands"))),
            measures=dict(d.get("measures") or {}),
        )
