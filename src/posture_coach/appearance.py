"""Who is the trainee in a role-play: the person whose calibrated clothing colours match.

RULES.md leaves the choice of the trainee to a setting: the image side, or the person who
was calibrated. MediaPipe gives no identity, and a face filmed from the side at 2-3 m is
not found at all, so the calibrated person is recognised by what stays the same from the
front (the calibration) and from the side (the role-play): the colours of the clothes on
the trunk. No trait of the person is inferred; only "the same clothes as at calibration".

* :func:`torso_signature`: a hue-saturation histogram (plus grey levels for black, grey
  and white clothes) of a band along the hip-to-shoulder line, wide enough to stay on the
  trunk from the front and from the side; normalised, JSON-friendly.
* :func:`signature_distance`: the Bhattacharyya distance between two signatures (0 = the
  same colours, 1 = nothing in common).
* :class:`TraineePicker`: per frame, which of the two people in a role-play wears the
  calibrated colours, with memory: the decision follows an exponential average of the
  difference between the two people's distances and flips only past a margin, so one
  frame with an arm across the shirt does not swap the trainee. Two people dressed
  alike (a uniform) never pass the margin: the picker then says nothing (``side`` None)
  rather than guess.

Pure numpy and OpenCV on pixels and pose landmarks; about 0.7 ms a person at 640×480
(run only in a role-play by profile, beside the two-person search's extra pose passes).
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Literal

import cv2
import numpy as np
import numpy.typing as npt

from .types import PoseLm, PoseObs

ImageSide = Literal["left", "right"]

HUE_BINS = 12                 # 30 deg of hue each
SAT_BINS = 3                  # weak, medium, strong colour
GREY_BINS = 4                 # black, dark grey, light grey, white (low saturation)
MIN_SAT = 50                  # OpenCV S (0-255) below this: a grey level, not a hue
MIN_VAL = 40                  # OpenCV V below this: black whatever the hue
BAND_FROM, BAND_TO = 0.15, 0.85   # of the shoulder-to-hip line: the shirt, not the collar or belt
BAND_HALF_WIDTH_TL = 0.18     # half the band's width, in torso lengths (on the trunk from the side)
MIN_PIXELS = 60               # fewer sampled pixels: no signature
MIN_VISIBILITY = 0.5
SIGNATURE_BINS = HUE_BINS * SAT_BINS + GREY_BINS


def torso_signature(image: npt.NDArray[np.uint8], pose: PoseObs,
                    image_size: tuple[int, int] | None = None,
                    gain: npt.NDArray[np.float32] | None = None) -> list[float] | None:
    """The trunk's clothing colours as a normalised histogram, ``None`` when not seen.

    ``image`` is RGB (H×W×3); the pose's normalised landmarks are read in its pixels.
    ``gain``: the image's :func:`white_balance_gain`, when the caller reads several people
    of one frame (computed here otherwise).
    """
    h, w = image.shape[:2]
    if image_size is not None and tuple(image_size) != (w, h):
        return None
    vis = pose.visibility
    idx = (PoseLm.LEFT_SHOULDER, PoseLm.RIGHT_SHOULDER, PoseLm.LEFT_HIP, PoseLm.RIGHT_HIP)
    if min(float(vis[i]) for i in idx) < MIN_VISIBILITY:
        return None
    pts = pose.landmarks[:, :2] * np.array([w, h], float)
    sh = (pts[PoseLm.LEFT_SHOULDER] + pts[PoseLm.RIGHT_SHOULDER]) / 2.0
    hip = (pts[PoseLm.LEFT_HIP] + pts[PoseLm.RIGHT_HIP]) / 2.0
    axis = hip - sh
    tl = float(math.hypot(*axis))
    if tl < 8.0:
        return None
    u = axis / tl
    n = np.array([-u[1], u[0]])
    half = BAND_HALF_WIDTH_TL * tl
    a, b = sh + BAND_FROM * axis, sh + BAND_TO * axis
    poly = np.array([a - half * n, a + half * n, b + half * n, b - half * n])
    x0, y0 = np.floor(poly.min(axis=0)).astype(int)
    x1, y1 = np.ceil(poly.max(axis=0)).astype(int)
    x0, y0, x1, y1 = max(0, x0), max(0, y0), min(w, x1 + 1), min(h, y1 + 1)
    if x1 - x0 < 3 or y1 - y0 < 3:
        return None
    g = white_balance_gain(image) if gain is None else gain
    roi = np.clip(image[y0:y1, x0:x1].astype(np.float32) * g, 0, 255).astype(np.uint8)
    mask = np.zeros(roi.shape[:2], np.uint8)
    cv2.fillConvexPoly(mask, np.round(poly - [x0, y0]).astype(np.int32), 1)
    if int(mask.sum()) < MIN_PIXELS:
        return None
    hsv = cv2.cvtColor(roi, cv2.COLOR_RGB2HSV)[mask > 0].astype(np.int32)
    hue, sat, val = hsv[:, 0], hsv[:, 1], hsv[:, 2]
    grey = (sat < MIN_SAT) | (val < MIN_VAL)
    bins = np.where(
        grey,
        HUE_BINS * SAT_BINS + np.minimum(val * GREY_BINS // 256, GREY_BINS - 1),
        (hue * HUE_BINS // 180) * SAT_BINS + np.minimum((sat - MIN_SAT) * SAT_BINS // (256 - MIN_SAT), SAT_BINS - 1),
    )
    hist = np.bincount(bins, minlength=SIGNATURE_BINS).astype(np.float64)
    hist /= hist.sum()
    return [round(float(x), 5) for x in hist]


def white_balance_gain(image: npt.NDArray[np.uint8]) -> npt.NDArray[np.float32]:
    """Per-channel gains that bring the whole image's mean to grey 128 (grey world), so a
    white shirt under warm, dim or bright light reads alike at calibration and in the
    role-play."""
    means = image[::4, ::4].reshape(-1, 3).mean(axis=0)
    gain: npt.NDArray[np.float32] = (128.0 / np.maximum(means, 1.0)).astype(np.float32)
    return gain


def mean_signature(signatures: Sequence[Sequence[float]]) -> list[float] | None:
    """The average of several frames' signatures (a calibration capture)."""
    good = [np.asarray(s, float) for s in signatures if len(s) == SIGNATURE_BINS]
    if not good:
        return None
    m = np.mean(good, axis=0)
    return [round(float(x), 5) for x in m / m.sum()]


def signature_distance(a: Sequence[float], b: Sequence[float]) -> float:
    """Bhattacharyya distance, 0 (the same colours) .. 1 (nothing in common)."""
    pa, pb = np.asarray(a, float), np.asarray(b, float)
    if pa.shape != pb.shape or pa.sum() <= 0 or pb.sum() <= 0:
        return 1.0
    bc = float(np.sum(np.sqrt(pa / pa.sum() * pb / pb.sum())))
    return math.sqrt(max(0.0, 1.0 - min(1.0, bc)))


@dataclass(slots=True)
class TraineePicker:
    """Which of two people (image left, image right) wears the calibrated colours.

    ``margin``: the averaged difference of the two distances must pass it before the
    choice is made or changed; ``max_match``: and the chosen person's distance must stay
    under it (nobody in the calibrated clothes: no choice); ``alpha``: the weight of a new
    frame in the average. Measured on synthetic role-plays (bench note in RESULTS.md): the
    calibrated person in their own clothes 0.20–0.26 from the reference, the other person
    0.98–1.00 in different clothes; a pale blue-grey shirt against a white one 0.57 / 0.63.
    """

    reference: Sequence[float]
    alpha: float = 0.2
    margin: float = 0.2
    max_match: float = 0.45
    side: ImageSide | None = None
    score: float = 0.0  # averaged d(left) - d(right): < 0 means the left person matches
    frames: int = 0  # frames with both signatures
    last: dict[str, float] = field(default_factory=dict)

    def update(self, image: npt.NDArray[np.uint8], left: PoseObs, right: PoseObs) -> ImageSide | None:
        """Feed one frame's pair (left and right by position); the trainee's side so far."""
        gain = white_balance_gain(image)  # once for the frame, not per person
        sl, sr = torso_signature(image, left, gain=gain), torso_signature(image, right, gain=gain)
        if sl is None or sr is None:
            return self.side
        return self.update_distances(signature_distance(sl, self.reference),
                                     signature_distance(sr, self.reference))

    def update_distances(self, dl: float, dr: float) -> ImageSide | None:
        """The same from the two people's distances to the reference (left, right)."""
        self.last = {"left": round(dl, 4), "right": round(dr, 4)}
        diff = dl - dr
        self.frames += 1
        self.score = diff if self.frames == 1 else self.score + self.alpha * (diff - self.score)
        if self.side is None:
            # Two people in the same colours (a uniform) never decide: no guess.
            if abs(self.score) >= self.margin and min(dl, dr) <= self.max_match:
                self.side = "left" if self.score < 0 else "right"
        elif self.side == "left" and self.score > self.margin:
            self.side = "right"
        elif self.side == "right" and self.score < -self.margin:
            self.side = "left"
        return self.side
