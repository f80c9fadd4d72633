"""Visible upper teeth (三米六齿): a pixel measure at the edge (numpy + cv2, no MediaPipe).

Method (geometry first, nothing fitted to the evaluation photos):

1. The mouth is warped to a canonical crop: the mouth-corner line horizontal, the mouth
   ``CANON_MOUTH_PX`` wide, so every later size is relative to the mouth.
2. Inside the inner-lip polygon (face landmarks), teeth are the pixels that are bright
   and nearly grey in CIELAB, judged against this mouth's own lighting, by hysteresis:
   clear teeth (seeds, inside the opening) have a whiteness (L* minus chroma, the yellow
   part of the chroma weighing half: enamel is yellowish, lips, gums and tongue are red)
   above an Otsu split of the opening and ``WHITE_OVER_LIPS`` above the lips'; shadowed
   teeth (canines and premolars in the cheeks' shadow) need only be ``WEAK_OVER_LIPS``
   whiter than the lips, not much darker than the lips (``WEAK_L_OF_LIPS``: a dark grey
   cavity is no tooth) and joined to clear teeth, across dark inter-tooth gaps up to
   ``BAND_GAP_IPD`` inter-pupil distances (~4 mm) bridged along the arch (horizontally in
   the canonical crop). Both margins shrink in dim light (lips darker than ``LIT_LIP_L``),
   as every lightness difference does. Metal braces are grey and pass as teeth.
3. A check against pale skin and highlights: the teeth inside the opening must be,
   on median, whiter than the skin just around the lips (enamel is greyer and brighter
   than skin in the same light); otherwise the count is 0.
4. The upper-teeth band is the set of columns whose pixels around the upper inner lip
   are teeth; gaps up to the same bridge are closed, and the run through the midline is
   kept. The labelling rule (a tooth counts when at least half of its crown shows) is
   applied to its height: when even the best-shown columns (``BEST_COLUMNS`` percentile)
   show less than ``HALF_CROWN`` of the modelled crown height there (a thin strip of
   incisal edges under a yawning upper lip), the count is 0.
5. The band's extent either side of the upper lip's centre, horizontally in the image (the
   arch model projects onto the image plane, so the horizontal extent, not the length
   along the lip curve, is what it predicts), in inter-pupil distances, goes through
   :class:`~posture_coach.face_features.DentalArch` (tooth widths along a parabolic arch,
   projected with the head yaw) to a tooth count.

When the count is 0, ``zero_reason`` in the measure says which step found no teeth.

Constants were set from geometry and checked on our own labelled mouths
(bench/teeth_labels_*.tsv, ``bench/face_eval.py teeth-labels``), never on teeth_faces.

The measure returns JSON values only (``Observation.measures["teeth"]``), so recordings
replay it; :func:`render_mouth_evidence` draws the crop with the band for reports.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

import cv2
import numpy as np
import numpy.typing as npt

from .face_features import (
    FRONTAL_MAX_YAW_DEG,
    INNER_LIP_RING,
    INNER_LIP_UPPER,
    L_IRIS,
    LIP_UPPER_INNER,
    MOUTH_L,
    MOUTH_R,
    R_IRIS,
    DentalArch,
    head_pose_deg,
)
from .pixels import register
from .types import Frame, Observation

#: Outer lip ring (mouth corners 61 / 291), for the lips' own colour.
OUTER_LIP_RING: tuple[int, ...] = (
    61, 146, 91, 181, 84, 17, 314, 405, 321, 375, 291, 409, 270, 269, 267, 0, 37, 39, 40, 185,
)

CANON_MOUTH_PX = 128.0          # mouth corner to corner in the canonical crop
MIN_MOUTH_PX = 40.0             # below this a tooth is narrower than ~4 px: not countable
MIN_OPEN_RATIO = 0.04           # inner-lip gap / mouth width below this (~2 mm): lips closed
CHROMA_WEIGHT = 2.0             # whiteness = L (8-bit) - this * chroma (CIELAB a/b units)
YELLOW_SHARE = 0.5              # of the yellow part of b*, in that chroma (teeth are yellowish)
LIP_PERCENTILE = 40.0           # the lips' whiteness reference in the lip ring
WHITE_OVER_LIPS = 40.0          # clear teeth are at least this much whiter than the lips
WEAK_OVER_LIPS = 15.0           # shadowed teeth: this much whiter, and touching clear teeth
BAND_ABOVE_RATIO = 0.06         # band window above the upper inner-lip line (x mouth width)
BAND_BELOW_RATIO = 0.10         # and below it
BAND_MIN_PX = 3                 # teeth pixels a column needs in that window
BAND_DEPTH_RATIO = 0.06         # drawn band height (x mouth width)
SKIN_RING_RATIO = 0.12          # skin reference: this far (x mouth width) around the lips
BAND_GAP_IPD = 0.06             # gaps narrower than this (x IPD, ~4 mm) are bridged
MIN_BAND_RATIO = 0.05           # a band narrower than this (x mouth width) is no teeth
WEAK_L_OF_LIPS = 0.6            # shadowed teeth are also at least this share of the lips' L*
LIT_LIP_L = 80.0                # lips' median L* (8-bit) at or above which margins apply in
MIN_LIGHT_SCALE = 0.5           # full; below, they shrink with it down to this share
HALF_CROWN = 0.5                # a tooth counts when this share of its crown height shows
BEST_COLUMNS = 80.0             # judged on this percentile of the band's columns

_ARCH = DentalArch()


@dataclass(slots=True)
class MouthAnalysis:
    """Everything the measure found in one mouth (canonical crop coordinates)."""

    judged: bool
    reason: str | None
    crop: npt.NDArray[np.uint8] | None = None
    inner: npt.NDArray[np.uint8] | None = None  # inner-lip mask
    teeth: npt.NDArray[np.uint8] | None = None  # teeth mask
    band: tuple[int, int] | None = None  # columns [c0, c1) of the upper band
    mid_col: float = 0.0
    scale: float = 1.0  # canonical px per image px
    ipd_px: float = 0.0
    yaw_deg: float = 0.0
    mouth_px: float = 0.0
    mouth_box: tuple[int, int, int, int] = (0, 0, 0, 0)
    fill_ratio: float = 0.0
    open_ratio: float = 0.0
    count: int | None = None
    left_px: float = 0.0
    right_px: float = 0.0
    zero_reason: str | None = None  # which step found no teeth, when count is 0
    whiter_than_skin: float | None = None  # median whiteness, teeth in the opening - skin
    lip_l: float = 0.0  # the lips' median L* (8-bit)
    crown_shown: float = 0.0  # share of the crown height the best-shown columns show


def _pts(obs: Observation) -> npt.NDArray[np.float64] | None:
    if obs.face is None or len(obs.face.landmarks) < 478:
        return None
    w, h = obs.image_size
    pts: npt.NDArray[np.float64] = obs.face.landmarks[:, :2] * np.array([float(w), float(h)])
    return pts


def analyse_mouth(image: npt.NDArray[np.uint8], obs: Observation,
                  max_yaw_deg: float = FRONTAL_MAX_YAW_DEG) -> MouthAnalysis | None:
    """Find the teeth and the upper band in one RGB image; ``None`` when no face."""
    pts = _pts(obs)
    if pts is None or obs.face is None:
        return None
    pose = head_pose_deg(obs.face.transform)
    yaw = pose[0] if pose is not None else 0.0
    ipd = float(np.hypot(*(pts[L_IRIS] - pts[R_IRIS])))
    a, b = pts[MOUTH_R], pts[MOUTH_L]
    mouth = float(np.hypot(*(b - a)))
    ring = pts[list(INNER_LIP_RING)]
    outer = pts[list(OUTER_LIP_RING)]
    x0, y0 = np.floor(outer.min(axis=0)).astype(int)
    x1, y1 = np.ceil(outer.max(axis=0)).astype(int)
    res = MouthAnalysis(judged=False, reason=None, ipd_px=ipd, yaw_deg=yaw, mouth_px=mouth,
                        mouth_box=(int(x0), int(y0), int(x1), int(y1)))
    if pose is not None and abs(yaw) > max_yaw_deg:
        res.reason = "face_not_frontal"
        return res
    if mouth < MIN_MOUTH_PX or ipd <= 1.0:
        res.reason = "mouth_too_small"
        return res

    # Canonical crop: mouth axis horizontal, CANON_MOUTH_PX wide, centred on the mouth.
    ang = math.degrees(math.atan2(float(b[1] - a[1]), float(b[0] - a[0])))
    s = CANON_MOUTH_PX / mouth
    cw, ch = int(CANON_MOUTH_PX * 1.4), int(CANON_MOUTH_PX * 1.0)
    centre = (a + b) / 2.0
    m = cv2.getRotationMatrix2D((float(centre[0]), float(centre[1])), ang, s)
    m[0, 2] += cw / 2.0 - centre[0]
    m[1, 2] += ch / 2.0 - centre[1]
    # Cut the source region first: warping straight from a large frame is slow.
    half = 0.5 * math.hypot(cw, ch) / s + 2.0
    H, W = image.shape[:2]
    sx0, sy0 = max(0, int(centre[0] - half)), max(0, int(centre[1] - half))
    sx1, sy1 = min(W, int(centre[0] + half) + 1), min(H, int(centre[1] + half) + 1)
    if sx1 <= sx0 or sy1 <= sy0:
        res.reason = "face_not_visible"
        return res
    roi = np.ascontiguousarray(image[sy0:sy1, sx0:sx1])
    m_roi = np.asarray(m, np.float64).copy()
    m_roi[:, 2] += m[:, 0] * sx0 + m[:, 1] * sy0
    crop = cv2.warpAffine(roi, m_roi, (cw, ch), flags=cv2.INTER_LINEAR, borderMode=cv2.BORDER_REPLICATE)

    def warp(p: npt.NDArray[np.float64]) -> npt.NDArray[np.float64]:
        out: npt.NDArray[np.float64] = p @ m[:, :2].T + m[:, 2]
        return out

    ring_c = warp(ring)
    inner = np.zeros((ch, cw), np.uint8)
    cv2.fillPoly(inner, [np.round(ring_c).astype(np.int32)], 1)
    lips_all = np.zeros_like(inner)
    cv2.fillPoly(lips_all, [np.round(warp(outer)).astype(np.int32)], 1)
    lips = lips_all.copy()
    lips[cv2.dilate(inner, np.ones((5, 5), np.uint8)) > 0] = 0
    res.crop, res.inner, res.scale = np.asarray(crop, np.uint8), inner, s
    mid = warp(pts[[LIP_UPPER_INNER]])[0]
    res.mid_col = float(mid[0])

    region = np.asarray(cv2.erode(lips_all, np.ones((3, 3), np.uint8)), np.uint8) | inner
    area = int(region.sum())
    cols = inner.sum(axis=0)
    res.open_ratio = float(np.percentile(cols[cols > 0], 75)) / CANON_MOUTH_PX if cols.any() else 0.0
    res.judged = True
    if area == 0 or lips.sum() < 20 or res.open_ratio < MIN_OPEN_RATIO:
        res.count, res.teeth, res.zero_reason = 0, np.zeros_like(inner), "lips_closed"
        return res

    # Whiteness: bright and grey. Teeth vs lips vs cavity, in this mouth's own light.
    # Only the rows that hold the lips and the opening are converted (about half the crop).
    # The skin just around the lips, for a last check that the "teeth" are teeth.
    near = round(SKIN_RING_RATIO * CANON_MOUTH_PX)
    skin = (cv2.dilate(lips_all, np.ones((2 * near + 1, 2 * near + 1), np.uint8)) > 0) & (
        cv2.dilate(lips_all, np.ones((5, 5), np.uint8)) == 0)
    rws = np.flatnonzero(region.any(axis=1) | skin.any(axis=1))
    r0, r1 = int(rws[0]), int(rws[-1]) + 1
    lab = cv2.cvtColor(np.ascontiguousarray(crop[r0:r1]), cv2.COLOR_RGB2LAB).astype(np.float32)
    white = np.full((ch, cw), -255.0, np.float32)
    # Yellow is enamel's and dentin's own hue, red that of lips, gums and tongue: the
    # yellow part of the chroma (b* > 0) weighs YELLOW_SHARE as much as the rest.
    yb = lab[..., 2] - 128.0
    white[r0:r1] = lab[..., 0] - CHROMA_WEIGHT * np.hypot(
        lab[..., 1] - 128.0, np.where(yb > 0.0, YELLOW_SHARE * yb, yb))
    ins = region > 0
    # The lips' reference: a low percentile of the lip ring, robust to teeth that the
    # landmarks' inner lip line (which often sits on the teeth in a broad smile) lets in.
    lip_ref = float(np.percentile(white[lips > 0], LIP_PERCENTILE))
    light = np.zeros((ch, cw), np.float32)
    light[r0:r1] = lab[..., 0]
    lip_l = float(np.median(light[lips > 0]))
    res.lip_l = lip_l
    # The margins are L*-like differences: in dim light every difference shrinks with the
    # light, so they scale with the lips' own lightness below a normally lit lip's.
    k = min(1.0, max(MIN_LIGHT_SCALE, lip_l / LIT_LIP_L))
    vals = np.clip(white[ins], 0, 255).astype(np.uint8).reshape(1, -1)
    otsu, _ = cv2.threshold(vals, 0, 255, cv2.THRESH_BINARY + cv2.THRESH_OTSU)
    strong = ins & (white >= max(float(otsu), lip_ref + k * WHITE_OVER_LIPS))
    # Seeds only inside the opening (a lip line lying on the teeth lets teeth into the lip
    # ring, but pale skin or a lip highlight there is no tooth unless it joins one inside).
    seeds = strong & (inner > 0)
    bridge = round(BAND_GAP_IPD * ipd * s)
    # Shadowed teeth stay lighter than (most of) the lips; a dark, grey cavity does not
    # (in dim light its low chroma alone would make it "whiter" than the red lips).
    weak = ins & (white >= lip_ref + k * WEAK_OVER_LIPS) & (light >= WEAK_L_OF_LIPS * lip_l)
    teeth = _grow(seeds, weak, bridge)
    tm = np.asarray(cv2.morphologyEx(teeth.astype(np.uint8), cv2.MORPH_OPEN, np.ones((2, 2), np.uint8)), np.uint8)
    res.teeth = tm
    res.fill_ratio = float(tm.sum()) / area
    # Enamel is greyer and brighter than the facial skin in the same light: when the teeth
    # found inside the opening are not, on median, whiter than the skin around the lips,
    # they are pale skin, a lip highlight or a dim cavity, not teeth.
    in_open = (tm > 0) & (inner > 0)
    if skin.any() and in_open.any():
        res.whiter_than_skin = float(np.median(white[in_open])) - float(np.median(white[skin]))
        if res.whiter_than_skin < 0.0:
            res.count, res.zero_reason = 0, "not_whiter_than_skin"
            return res

    # Upper band: columns with teeth around the upper inner lip line (from a little above
    # it, where a collapsed lip line hides teeth, to a little below).
    up = warp(pts[list(INNER_LIP_UPPER)])
    order = np.argsort(up[:, 0])
    cx = np.arange(cw, dtype=np.float64)
    yline = np.interp(cx, up[order, 0], up[order, 1])
    above = round(BAND_ABOVE_RATIO * CANON_MOUTH_PX)
    below = round(BAND_BELOW_RATIO * CANON_MOUTH_PX)
    # Crown heights of the teeth the arch model puts under each column (canonical px).
    mm_per_px = _ARCH.ipd_mm / (ipd * s)
    crown = _ARCH.crown_heights_at((cx - res.mid_col) * mm_per_px, yaw) / mm_per_px
    depth = max(below, above, math.ceil(float(crown.max())))
    rows = np.round(yline)[None, :].astype(int) + np.arange(-depth, depth + 1)[:, None]
    rows = np.clip(rows, 0, ch - 1)
    colidx = np.broadcast_to(np.arange(cw)[None, :], rows.shape)
    # Teeth within a crown height of the upper inner lip line, above (a lip line lying on
    # the teeth) or below it; the band proper is from a little above it to a little below.
    col_teeth = tm[rows, colidx] > 0
    hits = col_teeth[depth - above: depth + below + 1].sum(axis=0)
    span = (cx >= up[:, 0].min()) & (cx <= up[:, 0].max())
    on = (hits >= BAND_MIN_PX) & span
    band = _main_run(on, res.mid_col, bridge)
    if band is None or band[1] - band[0] < MIN_BAND_RATIO * CANON_MOUTH_PX:
        res.count, res.zero_reason = 0, "no_teeth" if not tm.any() else "no_upper_band"
        return res
    # The labelling rule itself: a tooth counts when at least half of its crown shows.
    # The upper lip hides the front teeth least (the smile line rises towards the
    # corners), so when even the best-shown part of the band (its BEST_COLUMNS quantile
    # of columns) shows teeth over less than HALF_CROWN of the crown height there (a thin
    # strip of incisal edges under a yawning upper lip), no tooth counts. A quantile, not
    # the midline alone: a dark gap or a missed incisor must not hide a whole smile.
    heights = _runs_through(col_teeth, depth - above, depth + below + 1)
    c0, c1 = band
    res.crown_shown = float(np.percentile(heights[c0:c1] / crown[c0:c1], BEST_COLUMNS))
    if res.crown_shown < HALF_CROWN:
        res.count, res.zero_reason = 0, "less_than_half_crowns"
        return res
    res.band = band
    # Extents either side of the upper lip's centre, back in image px.
    res.left_px = max(0.0, band[1] - res.mid_col) / s
    res.right_px = max(0.0, res.mid_col - band[0]) / s
    res.count = _ARCH.count_ipd(res.left_px / ipd, res.right_px / ipd, yaw)
    return res


def _runs_through(t: npt.NDArray[np.bool_], r0: int, r1: int) -> npt.NDArray[np.int64]:
    """Per column of ``t`` (rows x columns), the longest vertical run of ``True`` that
    has a pixel in rows ``[r0, r1)``: the teeth under the lip line, not a highlight on the
    lip above it, separated from them by darker lip."""
    n = t.shape[0]
    up = np.zeros(t.shape, np.int64)
    down = np.zeros(t.shape, np.int64)
    acc = np.zeros(t.shape[1], np.int64)
    for r in range(n):
        acc = (acc + 1) * t[r]
        up[r] = acc
    acc = np.zeros(t.shape[1], np.int64)
    for r in range(n - 1, -1, -1):
        acc = (acc + 1) * t[r]
        down[r] = acc
    run = np.where(t, up + down - 1, 0)
    out: npt.NDArray[np.int64] = run[r0:r1].max(axis=0)
    return out


def _grow(strong: npt.NDArray[np.bool_], weak: npt.NDArray[np.bool_], bridge_px: int
          ) -> npt.NDArray[np.bool_]:
    """Hysteresis along the arch: the ``weak`` pixels connected to a ``strong`` one once
    gaps up to ``bridge_px`` wide are closed horizontally (the arch direction in the
    canonical crop), plus the strong ones. Teeth in the shadow of the cheeks stay grey and
    whiter than the lips but drop below the clear-teeth threshold, and dark interdental
    gaps separate them from their clear neighbours; joined this way, they count. Only
    real pixels are returned: the closing decides connectivity, it adds no teeth."""
    if not strong.any():
        return strong
    both = (weak | strong).astype(np.uint8)
    if bridge_px > 1:
        both = np.asarray(cv2.morphologyEx(both, cv2.MORPH_CLOSE, np.ones((1, bridge_px), np.uint8)), np.uint8)
    n, lab = cv2.connectedComponents(both, connectivity=8)
    keep = np.zeros(n, bool)
    keep[np.unique(lab[strong])] = True
    keep[0] = False
    out: npt.NDArray[np.bool_] = keep[lab] & (weak | strong)
    return out


def _main_run(on: npt.NDArray[np.bool_], mid: float, gap: int) -> tuple[int, int] | None:
    """The run of ``True`` columns (gaps up to ``gap`` closed) through or nearest ``mid``."""
    idx = np.flatnonzero(on)
    if idx.size == 0:
        return None
    runs: list[tuple[int, int]] = []
    start = prev = int(idx[0])
    for i in idx[1:]:
        i = int(i)
        if i - prev > gap + 1:
            runs.append((start, prev + 1))
            start = i
        prev = i
    runs.append((start, prev + 1))

    def dist(r: tuple[int, int]) -> float:
        return 0.0 if r[0] <= mid < r[1] else min(abs(mid - r[0]), abs(mid - r[1]))

    return min(runs, key=lambda r: (dist(r), -(r[1] - r[0])))


@register("teeth")
def teeth_measure(frame: Frame, obs: Observation) -> dict[str, Any] | None:
    """The ``teeth`` pixel measure: JSON values for ``Observation.measures``."""
    r = analyse_mouth(frame.image, obs)
    if r is None:
        return None
    band_px = 0.0 if r.band is None else (r.band[1] - r.band[0]) / r.scale
    return {
        "judged": r.judged,
        "reason": r.reason,
        "count": r.count,
        "band_px": round(band_px, 2),
        "left_px": round(r.left_px, 2),
        "right_px": round(r.right_px, 2),
        "ipd_px": round(r.ipd_px, 2),
        "mouth_px": round(r.mouth_px, 2),
        "yaw_deg": round(r.yaw_deg, 2),
        "fill_ratio": round(r.fill_ratio, 4),
        "open_ratio": round(r.open_ratio, 4),
        "mouth_box": list(r.mouth_box),
        "zero_reason": r.zero_reason,
    }


def render_mouth_evidence(image: npt.NDArray[np.uint8], obs: Observation, size: int = 256) -> npt.NDArray[np.uint8]:
    """The canonical mouth crop (RGB), inner lip in yellow, teeth tinted cyan, the upper
    band outlined in green with the tooth count; a grey tile when there is no mouth."""
    r = analyse_mouth(image, obs)
    if r is None or r.crop is None or r.inner is None:
        tile = np.full((size // 2, size, 3), 64, np.uint8)
        cv2.putText(tile, "no mouth" if r is None else str(r.reason), (8, size // 4),
                    cv2.FONT_HERSHEY_SIMPLEX, 0.5, (255, 255, 255), 1, cv2.LINE_AA)
        return tile
    out = r.crop.copy()
    if r.teeth is not None:
        t = r.teeth > 0
        out[t] = (0.5 * out[t] + 0.5 * np.array([0, 255, 255])).astype(np.uint8)
    contours, _ = cv2.findContours(r.inner, cv2.RETR_EXTERNAL, cv2.CHAIN_APPROX_SIMPLE)
    cv2.drawContours(out, contours, -1, (255, 220, 0), 1)
    k = size / out.shape[1]
    out = np.asarray(cv2.resize(out, (size, round(out.shape[0] * k)), interpolation=cv2.INTER_NEAREST), np.uint8)
    if r.band is not None:
        top = np.argmax(r.inner > 0, axis=0)
        c0, c1 = r.band
        y0 = int(top[c0:c1].min() * k)
        y1 = int((top[c0:c1].max() + BAND_DEPTH_RATIO * CANON_MOUTH_PX) * k)
        cv2.rectangle(out, (int(c0 * k), y0), (int(c1 * k), y1), (0, 255, 0), 2)
    cv2.line(out, (int(r.mid_col * k), 0), (int(r.mid_col * k), 6), (255, 0, 0), 2)
    cv2.putText(out, f"teeth {r.count}", (6, 18), cv2.FONT_HERSHEY_SIMPLEX, 0.55, (255, 255, 255), 1, cv2.LINE_AA)
    return out
