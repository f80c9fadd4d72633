"""A business card in the hand: a pixel measure (numpy + cv2, no extra model).

From the camera's side of a handover the card faces the camera: a small, bright, nearly
grey rectangle held at the fingers. At a distance the hand itself is 12-20 px and its
landmarks cannot tell a card pinched in one hand from a hand offered for a handshake
(``docs/RESULTS.md``, issue 6), but the card is a patch of its own, about as wide as the
hand is long. This measure looks for it beside each hand the pose model sees:

1. Around the hand (the pose's wrist, index and pinky points), inside ``ROI_SW`` body
   widths (SW, shoulder width) of the hand's centre, pixels that are nearly grey (chroma
   at most ``MAX_CHROMA`` in CIELAB a*/b* units) and at least ``MIN_CONTRAST_L`` lighter
   than the median of that window: a card is lighter than the hand, the clothes and the
   wall behind it. A white shirt makes the card invisible, and then nothing is found.
2. Each connected patch (its holes filled: the print on a card) is a card when it is:
   card-sized (area ``MIN_AREA_SW2``-``MAX_AREA_SW2`` SW²: a 9 × 5.4 cm card against a
   ~38 cm shoulder width is 0.034 SW² face-on), sharp-edged (its median L* at least
   ``MIN_EDGE_L`` over a thin ring round it: a highlight on skin or cloth fades out),
   rectangular (``MIN_RECT_FILL`` of its
   minimum-area rectangle, sides at most ``MAX_ASPECT`` to 1), wholly inside the window
   (a wall, a poster or a shirt front runs out of it), and at the fingers' end of the
   hand, not at the wrist (a white shirt cuff): its centre lies at least ``MIN_ALONG``
   of the wrist-to-knuckles span beyond the wrist and at most ``MAX_FROM_HAND_SW`` from
   the fingers, and away from the head (``MIN_FROM_NOSE_SW``: a lit forehead is pale and
   grey too).

The window is shrunk to ``MAX_WINDOW_PX`` a side (a hand near the camera is big, and so is
its card), and a hand hanging below the hips is not searched (cost: ``tests/test_card.py``,
``bench/speed.py``). The measure stores, per side seen, whether a card was found and its
size, so recordings replay it and the interaction cues (``interaction_features``) read it
as a hand closed round a card. Constants come from card geometry; the renders only checked them.
"""

from __future__ import annotations

from typing import Any

import cv2
import numpy as np
import numpy.typing as npt

from .geometry import body_scale
from .pixels import register
from .types import Frame, Observation, PoseLm

MAX_WINDOW_PX = 128       # the window is shrunk to at most this many pixels a side (speed)
ROI_SW = 0.75             # search window half-size around the hand's centre (x SW)
MIN_ROI_PX = 10           # a window at least this many pixels either side
MAX_CHROMA = 20.0         # a card is nearly grey (CIELAB chroma, 8-bit a*/b* units)
MIN_CONTRAST_L = 35.0     # and this much lighter (8-bit L*) than the window's median
TOP_BAND_L = 25.0         # and within this of the window's lightest pixels (8-bit L*)
MIN_AREA_SW2 = 0.015      # card area, face-on 0.034 SW² (more held out nearer); tilted 60°: half
MAX_AREA_SW2 = 0.09       # a card seen near the camera, up to this (a sheet of paper is more)
MIN_AREA_PX = 12          # fewer pixels than this are no shape at all
MIN_RECT_FILL = 0.70      # patch area / its minimum-area rectangle's
MAX_ASPECT = 3.5          # long side / short side (a card is 1.67; tilted, longer)
MIN_ALONG = 0.6           # centre beyond this share of the wrist -> knuckles span
MAX_FROM_HAND_SW = 0.55   # centre within this distance of the hand's centre (x SW)
MIN_EDGE_L = 30.0         # a card's edge is sharp: its L* over a 2 px ring round it (8-bit)
MIN_FROM_NOSE_SW = 0.6    # and not on the head (a lit forehead is pale and grey too)

_HAND = {"left": (PoseLm.LEFT_WRIST, PoseLm.LEFT_INDEX, PoseLm.LEFT_PINKY),
         "right": (PoseLm.RIGHT_WRIST, PoseLm.RIGHT_INDEX, PoseLm.RIGHT_PINKY)}
_MIN_VIS = 0.5


def find_card(image: npt.NDArray[np.uint8], obs: Observation, side: str) -> dict[str, Any] | None:
    """The card at one hand (``side``: "left"/"right"), or ``None`` when the hand is not seen.

    Returns ``{"card": bool, ...}`` with the best patch's measurements when one passed.
    """
    pose = obs.pose
    if pose is None:
        return None
    w, h = obs.image_size
    lm, vis = pose.landmarks, pose.visibility
    wi, ii, pi = _HAND[side]
    ls, rs = PoseLm.LEFT_SHOULDER, PoseLm.RIGHT_SHOULDER
    if min(vis[wi], vis[ii], vis[pi], vis[ls], vis[rs]) < _MIN_VIS:
        return None
    scale = np.array([w, h], np.float64)
    # Side-on the shoulders overlap; a torso length sets the body's size then.
    lh, rh = PoseLm.LEFT_HIP, PoseLm.RIGHT_HIP
    hips_seen = min(vis[lh], vis[rh]) >= _MIN_VIS
    tl = (float(np.hypot(*(((lm[lh, :2] + lm[rh, :2]) - (lm[ls, :2] + lm[rs, :2])) / 2 * scale)))
          if hips_seen else None)
    sw = body_scale(float(np.hypot(*((lm[ls, :2] - lm[rs, :2]) * scale))), tl)
    if sw < 8:
        return None
    wr = lm[wi, :2] * scale
    if hips_seen and wr[1] > max(lm[lh, 1], lm[rh, 1]) * h:
        return {"card": False}  # a hand hanging below the hips holds nothing out
    knuckles = (lm[ii, :2] + lm[pi, :2]) / 2 * scale
    r = max(MIN_ROI_PX, round(ROI_SW * sw))
    cx, cy = round(float(knuckles[0])), round(float(knuckles[1]))
    x0, y0, x1, y1 = max(0, cx - r), max(0, cy - r), min(image.shape[1], cx + r + 1), min(image.shape[0], cy + r + 1)
    if x1 - x0 < 8 or y1 - y0 < 8:
        return None
    # The window is shrunk to at most MAX_WINDOW_PX a side (a hand near the camera is
    # big, and so is its card); below, every length is in the window's pixels.
    step = -(-max(x1 - x0, y1 - y0) // MAX_WINDOW_PX)  # every step-th pixel: free, no filter
    roi = np.ascontiguousarray(image[y0:y1:step, x0:x1:step])
    k = 1.0 / step
    origin = np.array([x0, y0], np.float64)
    wr, knuckles, sw = (wr - origin) * k, (knuckles - origin) * k, sw * k
    nose = (lm[PoseLm.NOSE, :2] * scale - origin) * k if vis[PoseLm.NOSE] >= _MIN_VIS else None
    lab = cv2.cvtColor(roi, cv2.COLOR_RGB2LAB)  # 8-bit: L* x 2.55, a* and b* + 128
    light = lab[..., 0]
    a, b = lab[..., 1].astype(np.int16) - 128, lab[..., 2].astype(np.int16) - 128
    grey = a * a + b * b <= MAX_CHROMA * MAX_CHROMA
    # Lighter than the window by a margin, and near the lightest there: a pale hand beside
    # a white card is lighter than the clothes but darker than the card.
    cum = np.cumsum(np.bincount(light.ravel(), minlength=256))
    median, top = (int(np.searchsorted(cum, q * cum[-1])) for q in (0.5, 0.995))
    floor = max(median + MIN_CONTRAST_L, top - TOP_BAND_L)
    mask = (grey & (light >= floor)).astype(np.uint8)
    out: dict[str, Any] = {"card": False}
    if not mask.any():
        return out
    contours, _ = cv2.findContours(mask, cv2.RETR_EXTERNAL, cv2.CHAIN_APPROX_SIMPLE)
    span = knuckles - wr
    span2 = float(span @ span)
    height, width = mask.shape
    best: dict[str, Any] | None = None
    for c in contours:
        area = float(cv2.contourArea(c)) + 0.5 * cv2.arcLength(c, True)  # pixel area, holes filled
        if area < MIN_AREA_PX:
            continue
        bx, by, bw, bh = cv2.boundingRect(c)
        if bx == 0 or by == 0 or bx + bw >= width or by + bh >= height:
            continue  # runs out of the window: a wall, a shirt, not a card in the hand
        area_sw2 = area / (sw * sw)
        if not MIN_AREA_SW2 <= area_sw2 <= MAX_AREA_SW2:
            continue
        (rcx, rcy), (rect_w, rect_h), _ = cv2.minAreaRect(c)
        fill = area / max(1.0, (rect_w + 1.0) * (rect_h + 1.0))
        aspect = max(rect_w, rect_h) / max(1.0, min(rect_w, rect_h))
        if fill < MIN_RECT_FILL or aspect > MAX_ASPECT:
            continue
        centre = np.array([rcx, rcy])
        along = float((centre - wr) @ span) / span2 if span2 > 0 else 0.0
        from_hand = float(np.hypot(*(centre - knuckles))) / sw
        if along < MIN_ALONG or from_hand > MAX_FROM_HAND_SW:
            continue
        if nose is not None and float(np.hypot(*(centre - nose))) / sw < MIN_FROM_NOSE_SW:
            continue
        blob = np.zeros_like(mask)
        cv2.drawContours(blob, [c], -1, 1, -1)
        ring = (cv2.dilate(blob, np.ones((5, 5), np.uint8)) > 0) & (blob == 0)
        edge_l = float(np.median(light[blob > 0]) - np.median(light[ring]))
        if edge_l < MIN_EDGE_L:
            continue  # a highlight on skin or cloth fades out; a card's edge does not
        cand = {"card": True, "area_sw2": round(area_sw2, 4), "fill": round(fill, 3), "edge_l": round(edge_l, 1),
                "aspect": round(aspect, 2), "along": round(along, 2), "from_hand_sw": round(from_hand, 3),
                "box": [round(x0 + bx / k), round(y0 + by / k), round(bw / k), round(bh / k)]}
        if best is None or fill > best["fill"]:
            best = cand
    return best or out


@register("card")
def card_measure(frame: Frame, obs: Observation) -> dict[str, Any] | None:
    """The ``card`` pixel measure: ``{"left": {...}, "right": {...}}`` for the hands seen."""
    out: dict[str, Any] = {}
    for side in ("left", "right"):
        found = find_card(frame.image, obs, side)
        if found is not None:
            out[side] = found
    return out or None
