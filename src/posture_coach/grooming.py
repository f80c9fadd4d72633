"""Grooming self-check 仪容仪表: an edge pixel measure (numpy + cv2, no MediaPipe).

Seeds 000 §一.二 (剃净胡须, 头发不染怪异色彩, 指甲, 饰物), 001 4.2.4 (工牌端正佩戴在左胸),
003 仪容 (不蓄胡子, 不留长指甲, 指甲油与肤色色差不过大). Registered as the ``grooming``
measure; it runs only when a grooming task is switched on (:func:`set_tasks`, or the
``POSTURE_COACH_GROOMING`` environment variable: ``all`` or a comma list of
``face,hands,chest``), so a session without grooming rules pays one set lookup.

Every check is judged against the person's own skin under the same light, never
against a population colour, and never from who the person is:

* **face** (face landmarks): a face frame from the eye centres (unit = eye-centre
  distance, "IPD"). Cheek patches (upper cheeks, beard-free in nearly every style) give
  the skin model; the darkest pixels of the eyebrows give the person's hair under this
  light. *Facial hair*: for the chin and the upper lip, ``coverage`` = (cheek L* - region
  L*) / (cheek L* - brow L*), i.e. roughly the share of the region covered by hair of
  the brows' darkness; ``specks`` = the share of pixels that stand out in a black top-hat
  (dark dots narrower than ~0.05 IPD, so edges of the lips, teeth or a shadow do not count)
  by a fraction of the local brightness and by a multiple of the cheeks' own top-hat, and
  that are round (Hessian of L* positive both ways: dots, not the lip line or a fold),
  minus the cheeks' share; ``redness_loss`` = how much less red (a*) than the cheeks the
  region is (hair is grey-brown; a shadow keeps the skin's red, a lip edge adds some).
  Texture weighs more than darkness in the rule: a smooth shadow under the nose is not
  stubble. *Hair over the face*: in the brow-to-eye band (brows and eye openings taken
  out), the share of pixels darker than the midpoint between brow and cheek, thin dark
  lines running across the face (glasses rims) left out, and the share of thin dark
  lines running down the face just above the brows (strands; not eyebrows or frames).
  *Hair colour*: the pixels just above the top of the face mesh that are not skin; their
  median CIELAB chroma and hue. Not judged (``face_not_frontal``) with the head tilted
  more than 25° up or down (scalp or background above the forehead), nor (``colour_cast``)
  when the cheeks read green, blue or violet (skin of every tone is red-yellow under
  near-white light: the light or the camera tints everything, hair included), nor
  (``overexposed``) when most of the strip is clipped in two channels (no hue to read).
* **hands** (hand landmarks, back of the hand to the camera): per finger, the nail
  (distal segment near the tip) against the skin of the middle segment, CIE ΔE2000.
* **chest** (pose landmarks): the torso is warped so the shoulders are level and one
  shoulder width (SW) is 200 px; card-shaped patches that stand out from the shirt are
  looked for between the sternum line and the left shoulder (and, to say so, on the right).

Each check returns its numbers, or ``None`` values with a ``reason`` saying why it
cannot be judged (``too_dark``, ``overexposed``, ``face_too_small``, ``face_not_frontal``,
``hair_out_of_frame``, ``colour_cast`` …). Boxes of the judged regions are returned in normalised image
coordinates so that the page can show the crops it judged, client-side.
"""

from __future__ import annotations

import math
import os
from collections.abc import Iterable
from typing import Any

import cv2
import numpy as np
import numpy.typing as npt

from .face_features import head_pose_deg

# The pure half (features for the rules) lives in grooming_features.py so that the core
# never imports cv2; re-exported here for callers of the measure.
from .grooming_features import (
    GROOMING_FEATURE_NAMES,
    REASON_CODES,
    RULE_TASKS,
    TASKS,
    grooming_features,
    measures_of,
    reason_code,
    reason_of,
    tasks_for_rules,
)
from .pixels import register
from .types import Frame, HandObs, Observation, PoseLm

F64 = npt.NDArray[np.float64]
F32 = npt.NDArray[np.float32]
U8 = npt.NDArray[np.uint8]
Mask = npt.NDArray[np.bool_]

ENV_VAR = "POSTURE_COACH_GROOMING"

# -- reliability gates (of the measurement itself, not rule thresholds) ----------------
MIN_IPD_PX = 40.0          # eye-centre distance below this: a 1-px stubble dot is > 1.5 mm
WORK_IPD_PX = 100.0        # larger faces are downscaled to this before measuring
MAX_YAW_DEG = 25.0         # cheeks and chin foreshortened beyond this
MAX_PITCH_DEG = 25.0       # head tilted up or down beyond this: the strip above the forehead is scalp or background
SKIN_HUE_DEG = 45.0        # CIELAB hue of skin under near-white light (red-yellow, every skin tone) ...
MAX_SKIN_HUE_OFF_DEG = 90.0  # ... cheeks more than this from it (green, blue, violet): a coloured light or camera cast
DARK_L = 15.0              # skin median L* below this: too dark to see hair on skin
BRIGHT_CLIP_SHARE = 0.40   # share of clipped skin pixels above this: overexposed
MIN_HAIR_CONTRAST_L = 10.0  # cheek - brow L* below this: no contrast to see hair (blond, flat light)
HAIR_MIN_SHARE = 0.25      # share of non-skin pixels above the forehead needed to read a hair colour
SKIN_DE = 14.0             # ΔE76 from the cheek colour below this: skin
MIN_FINGER_PX = 10.0       # distal segment shorter than this: nail too small
MIN_SW_PX = 80.0           # shoulder width below this: a badge is < 11 px wide
CANON_SW = 200.0
CARD_DE = 16.0             # a card differs from the shirt by at least this ΔE76
SPECK_NOISE = 3.0          # ... and at least this many times the cheeks' median black top-hat
SPECK_REL = 0.08           # a stubble speck: this much darker than its neighbourhood, relative to local L*
SPECK_RADIUS = 0.025       # top-hat disc radius (IPD): dark structures narrower than ~0.05 IPD are specks
SPECK_ROUND = 0.3          # ... and round: smaller / larger Hessian eigenvalue of L* at least this (not a line)
STRAND_CURV = 0.2          # a strand: curvature across the face of at least this x (cheek - brow L*) per px^2


# -- task switch -------------------------------------------------------------------------
# A server with several sessions passes the tasks per call (``grooming_measure(frame, obs,
# tasks)``, or ``pixels.measure(..., options={"grooming": tasks})``); :func:`set_tasks` and
# the environment are only the process default, for one-analysis processes (the CLI).

_tasks: frozenset[str] | None = None  # None = read the environment


def _parse(text: str) -> frozenset[str]:
    words = {w.strip().lower() for w in text.split(",") if w.strip()}
    if "all" in words:
        return frozenset(TASKS)
    return frozenset(w for w in words if w in TASKS)


def set_tasks(tasks: Iterable[str] | None) -> None:
    """Process default (CLI): grooming tasks on (``face``, ``hands``, ``chest``); ``None`` =
    back to the environment. Servers pass tasks per call instead."""
    global _tasks
    _tasks = None if tasks is None else frozenset(t for t in tasks if t in TASKS)


def active_tasks() -> frozenset[str]:
    """The process default tasks (set_tasks, else the environment)."""
    if _tasks is not None:
        return _tasks
    return _parse(os.environ.get(ENV_VAR, ""))


# -- small helpers ---------------------------------------------------------------------

def _lab(rgb: U8) -> F32:
    """CIELAB (L 0..100, a/b signed) of an RGB uint8 image."""
    return np.asarray(cv2.cvtColor(rgb.astype(np.float32) / 255.0, cv2.COLOR_RGB2Lab), np.float32)


def delta_e2000(lab1: F64, lab2: F64) -> F64:
    """CIE ΔE2000 between CIELAB colours (broadcasting, last axis = L, a, b)."""
    L1, a1, b1 = lab1[..., 0], lab1[..., 1], lab1[..., 2]
    L2, a2, b2 = lab2[..., 0], lab2[..., 1], lab2[..., 2]
    c1, c2 = np.hypot(a1, b1), np.hypot(a2, b2)
    cm = (c1 + c2) / 2.0
    g = 0.5 * (1.0 - np.sqrt(cm**7 / (cm**7 + 25.0**7)))
    a1p, a2p = (1.0 + g) * a1, (1.0 + g) * a2
    c1p, c2p = np.hypot(a1p, b1), np.hypot(a2p, b2)
    h1p = np.degrees(np.arctan2(b1, a1p)) % 360.0
    h2p = np.degrees(np.arctan2(b2, a2p)) % 360.0
    dLp = L2 - L1
    dCp = c2p - c1p
    dh = h2p - h1p
    dh = np.where(dh > 180.0, dh - 360.0, np.where(dh < -180.0, dh + 360.0, dh))
    dh = np.where(c1p * c2p == 0, 0.0, dh)
    dHp = 2.0 * np.sqrt(c1p * c2p) * np.sin(np.radians(dh / 2.0))
    Lm = (L1 + L2) / 2.0
    cpm = (c1p + c2p) / 2.0
    hs = h1p + h2p
    hm = np.where(np.abs(h1p - h2p) > 180.0, np.where(hs < 360.0, hs + 360.0, hs - 360.0), hs) / 2.0
    hm = np.where(c1p * c2p == 0, hs, hm)
    t = (1.0 - 0.17 * np.cos(np.radians(hm - 30.0)) + 0.24 * np.cos(np.radians(2.0 * hm))
         + 0.32 * np.cos(np.radians(3.0 * hm + 6.0)) - 0.20 * np.cos(np.radians(4.0 * hm - 63.0)))
    d_ro = 30.0 * np.exp(-(((hm - 275.0) / 25.0) ** 2))
    rc = 2.0 * np.sqrt(cpm**7 / (cpm**7 + 25.0**7))
    sl = 1.0 + 0.015 * (Lm - 50.0) ** 2 / np.sqrt(20.0 + (Lm - 50.0) ** 2)
    sc = 1.0 + 0.045 * cpm
    sh = 1.0 + 0.015 * cpm * t
    rt = -np.sin(np.radians(2.0 * d_ro)) * rc
    out: F64 = np.sqrt((dLp / sl) ** 2 + (dCp / sc) ** 2 + (dHp / sh) ** 2 + rt * (dCp / sc) * (dHp / sh))
    return out


def _poly_mask(shape: tuple[int, int], pts: F64) -> Mask:
    m = np.zeros(shape, np.uint8)
    cv2.fillPoly(m, [np.round(pts).astype(np.int32)], 1)
    return m > 0


def _box(pts: F64, size: tuple[int, int]) -> list[float]:
    """Normalised [x0, y0, x1, y1] of points given in image px."""
    w, h = size
    x0, y0 = pts.min(axis=0)
    x1, y1 = pts.max(axis=0)
    return [round(float(np.clip(x0 / w, 0, 1)), 4), round(float(np.clip(y0 / h, 0, 1)), 4),
            round(float(np.clip(x1 / w, 0, 1)), 4), round(float(np.clip(y1 / h, 0, 1)), 4)]


def _r(v: float | None, nd: int = 4) -> float | None:
    return None if v is None or not math.isfinite(v) else round(float(v), nd)


def _light(lab_px: F32, rgb_px: U8, dark_l: float = DARK_L) -> str | None:
    """``too_dark`` / ``overexposed`` / ``None`` from reference skin pixels."""
    if lab_px.size == 0:
        return "skin_not_visible"
    if float(np.median(lab_px[:, 0])) < dark_l:
        return "too_dark"
    if float(np.mean(rgb_px.max(axis=1) >= 250)) > BRIGHT_CLIP_SHARE:
        return "overexposed"
    return None


# -- the face ----------------------------------------------------------------------------

R_EYE = (33, 133)
L_EYE = (263, 362)
R_BROW = (70, 63, 105, 66, 107, 55, 65, 52, 53, 46)
L_BROW = (300, 293, 334, 296, 336, 285, 295, 282, 283, 276)
R_EYE_RING = (33, 246, 161, 160, 159, 158, 157, 173, 133, 155, 154, 153, 145, 144, 163, 7)
L_EYE_RING = (263, 466, 388, 387, 386, 385, 384, 398, 362, 382, 381, 380, 374, 373, 390, 249)
FACE_OVAL = (10, 338, 297, 332, 284, 251, 389, 356, 454, 323, 361, 288, 397, 365, 379, 378, 400,
             377, 152, 148, 176, 149, 150, 136, 172, 58, 132, 93, 234, 127, 162, 21, 54, 103, 67, 109)
R_CHEEK, L_CHEEK = 50, 280
SUBNASALE, LIP_TOP, LIP_BOTTOM, CHIN = 2, 0, 17, 152
MOUTH_R, MOUTH_L = 61, 291
LIPS_OUTER = (61, 146, 91, 181, 84, 17, 314, 405, 321, 375, 291, 409, 270, 269, 267, 0, 37, 39, 40, 185)
FOREHEAD_TOP = 10


class _FaceFrame:
    """Face coordinates: origin between the eye centres, u to the subject's left
    (image right when unmirrored), v down the face, unit = eye-centre distance."""

    def __init__(self, pts: F64) -> None:
        r = pts[list(R_EYE)].mean(axis=0)
        left = pts[list(L_EYE)].mean(axis=0)
        d = left - r
        self.ipd = float(np.hypot(d[0], d[1]))
        self.o = (r + left) / 2.0
        self.u = d / max(self.ipd, 1e-6)
        self.v = np.array([-self.u[1], self.u[0]])

    def to_face(self, p: F64) -> F64:
        q = p - self.o
        out: F64 = np.stack([q @ self.u, q @ self.v], axis=-1) / max(self.ipd, 1e-6)
        return out

    def to_img(self, uv: F64) -> F64:
        uv = np.asarray(uv, np.float64)
        out: F64 = self.o + self.ipd * (uv[..., :1] * self.u + uv[..., 1:2] * self.v)
        return out

    def rect(self, u0: float, u1: float, v0: float, v1: float) -> F64:
        return self.to_img(np.array([[u0, v0], [u1, v0], [u1, v1], [u0, v1]]))


def _unknown_face(reason: str) -> dict[str, Any]:
    return {"judged": False, "reason": reason}


def measure_face(image: U8, obs: Observation) -> dict[str, Any]:
    """Facial hair, hair over the face and hair colour from one RGB image."""
    face = obs.face
    if face is None or len(face.landmarks) < 468:
        r = _unknown_face("face_not_visible")
        return {"facial_hair": r, "hair_over_face": r, "hair_colour": r}
    W, H = obs.image_size
    pts: F64 = face.landmarks[:, :2] * np.array([float(W), float(H)])
    ff = _FaceFrame(pts)
    pose = head_pose_deg(face.transform)
    yaw = pose[0] if pose is not None else 0.0
    base: dict[str, Any] = {"ipd_px": _r(ff.ipd, 2), "yaw_deg": _r(yaw, 2)}
    gate = None
    if ff.ipd < MIN_IPD_PX:
        gate = "face_too_small"
    elif abs(yaw) > MAX_YAW_DEG:
        gate = "face_not_frontal"
    if gate is not None:
        r = {**base, **_unknown_face(gate)}
        return {"facial_hair": r, "hair_over_face": dict(r), "hair_colour": dict(r)}

    # Work crop: the face oval plus room above the forehead for the hair, downscaled so
    # the eye-centre distance is at most WORK_IPD_PX.
    oval = pts[list(FACE_OVAL)]
    hair_rect = ff.rect(-0.9, 0.9, float(ff.to_face(pts[FOREHEAD_TOP])[1]) - 0.5, 0.0)
    allp = np.vstack([oval, hair_rect])
    x0 = int(max(0, math.floor(allp[:, 0].min()) - 2))
    y0 = int(max(0, math.floor(allp[:, 1].min()) - 2))
    x1 = int(min(W, math.ceil(allp[:, 0].max()) + 3))
    y1 = int(min(H, math.ceil(allp[:, 1].max()) + 3))
    if x1 - x0 < 8 or y1 - y0 < 8:
        r = {**base, **_unknown_face("face_not_visible")}
        return {"facial_hair": r, "hair_over_face": dict(r), "hair_colour": dict(r)}
    s = min(1.0, WORK_IPD_PX / ff.ipd)
    crop = np.ascontiguousarray(image[y0:y1, x0:x1])
    if s < 1.0:
        crop = np.asarray(cv2.resize(crop, (max(1, round(crop.shape[1] * s)), max(1, round(crop.shape[0] * s))),
                                     interpolation=cv2.INTER_AREA), np.uint8)
    shape = (crop.shape[0], crop.shape[1])
    off = np.array([float(x0), float(y0)])

    def c(p: F64) -> F64:  # image px -> crop px
        out: F64 = (p - off) * s
        return out

    lab = _lab(crop)
    L = lab[..., 0]
    ipd_c = ff.ipd * s

    # Skin model: two upper-cheek discs.
    cheek = np.zeros(shape, np.uint8)
    rad = max(2, round(0.13 * ipd_c))
    for i in (R_CHEEK, L_CHEEK):
        cx, cy = c(pts[i])
        cv2.circle(cheek, (round(cx), round(cy)), rad, 1, -1)
    ck = cheek > 0
    light = _light(lab[ck], crop[ck])
    if light is not None:
        r = {**base, **_unknown_face(light)}
        return {"facial_hair": r, "hair_over_face": dict(r), "hair_colour": dict(r)}
    L_cheek = float(np.median(L[ck]))
    ab_cheek = np.median(lab[ck][:, 1:], axis=0)
    brows = _poly_mask(shape, c(pts[list(R_BROW)])) | _poly_mask(shape, c(pts[list(L_BROW)]))
    L_brow = float(np.percentile(L[brows], 15)) if brows.any() else L_cheek
    contrast = L_cheek - L_brow
    base.update(cheek_L=_r(L_cheek, 2), brow_L=_r(L_brow, 2))

    out: dict[str, Any] = {}
    # Facial hair ------------------------------------------------------------------
    # Texture more than darkness: a shadow under the nose (or a blurred lip edge) darkens
    # the upper lip smoothly, stubble breaks it into fine dark specks. The specks are read
    # on a high-pass image divided by the local brightness (so a dim or side-lit face
    # gives the same numbers as a bright one) and counted against the cheeks' own share
    # under the same light (pores, noise, JPEG). A darker region that keeps the skin's
    # redness is more likely shade or lip than hair (hair is grey-brown, skin is reddish),
    # so the loss of a* against the cheeks is reported as a third number.
    if contrast < MIN_HAIR_CONTRAST_L:
        out["facial_hair"] = {**base, **_unknown_face("low_contrast")}
    else:
        # Specks = the black top-hat (closing minus image) with a disc of ~0.05 IPD: dark
        # dots and short hairs smaller than the disc stand out, while edges of larger
        # structures (lip line, teeth in a smile, nostrils, the shadow's border) give ~0.
        # (A wider disc, 0.07 IPD, let the blurred lip line and the fold under the lower
        # lip of dark, low-resolution faces through as "stubble".)
        d = max(3, 2 * round(SPECK_RADIUS * ipd_c) + 1)
        disc = cv2.getStructuringElement(cv2.MORPH_ELLIPSE, (d, d))
        bh = cv2.morphologyEx(L, cv2.MORPH_BLACKHAT, disc)
        local = np.maximum(cv2.GaussianBlur(L, (0, 0), max(1.0, 0.15 * ipd_c)), 5.0)
        # A speck is darker than its surroundings by SPECK_REL of the local L* (the same
        # under dim or side light) and by SPECK_NOISE times the cheeks' typical top-hat
        # (pores, noise, JPEG; it matters on darker or dimly lit skin).
        noise = float(np.median(bh[ck]))
        speck = bh > np.maximum(SPECK_REL * local, SPECK_NOISE * noise)
        # ... and is a dot, not a line: a stubble hair seen end-on or short is a small
        # round dark dot, while the lip line, the fold under the lower lip and the nostril
        # rim are long thin dark lines, which dark, blurry or low-resolution faces show as
        # strongly as hair shows on light skin. Dots are where the Hessian of L* is
        # positive in every direction (the smaller eigenvalue at least SPECK_ROUND of the
        # larger), a pixel around them kept.
        Lh = cv2.GaussianBlur(L, (0, 0), max(0.7, 0.01 * ipd_c))
        hxx = cv2.Sobel(Lh, cv2.CV_32F, 2, 0, ksize=3)
        hyy = cv2.Sobel(Lh, cv2.CV_32F, 0, 2, ksize=3)
        hxy = cv2.Sobel(Lh, cv2.CV_32F, 1, 1, ksize=3)
        half_tr = 0.5 * (hxx + hyy)
        root = np.sqrt(0.25 * (hxx - hyy) ** 2 + hxy**2)
        lam1, lam2 = half_tr + root, half_tr - root
        dot = ((lam2 > SPECK_ROUND * lam1) & (lam1 > 0)).astype(np.uint8)
        speck &= cv2.dilate(dot, np.ones((3, 3), np.uint8)) > 0
        ck_speck = float(speck[ck].mean())
        up = ff.to_face(pts[[SUBNASALE, LIP_TOP, LIP_BOTTOM, CHIN, MOUTH_R, MOUTH_L]])
        mw = float(abs(up[5, 0] - up[4, 0]))
        mu = float((up[4, 0] + up[5, 0]) / 2.0)
        vs, vt, vb, vc = (float(up[k, 1]) for k in range(4))
        regions = {
            "upper_lip": ff.rect(mu - 0.45 * mw, mu + 0.45 * mw, vs + 0.3 * (vt - vs), vt - 0.2 * (vt - vs)),
            "chin": ff.rect(mu - 0.3 * mw, mu + 0.3 * mw, vb + 0.3 * (vc - vb), vb + 0.85 * (vc - vb)),
        }
        res: dict[str, Any] = {**base, "judged": True, "reason": None, "contrast_L": _r(contrast, 2),
                               "cheek_specks": _r(ck_speck)}
        boxes: dict[str, list[float]] = {}
        # The lips and anything brighter than the cheeks (teeth in a smile), with a margin,
        # are never read as skin: their edges and the gaps between teeth are dark specks too.
        kl = max(1, round(0.03 * ipd_c))
        ker_l = np.ones((2 * kl + 1, 2 * kl + 1), np.uint8)
        mouth = _poly_mask(shape, c(pts[list(LIPS_OUTER)])) | (L - L_cheek > 0.25 * contrast)
        mouth = cv2.dilate(mouth.astype(np.uint8), ker_l) > 0
        for name, poly in regions.items():
            m = _poly_mask(shape, c(poly)) & ~mouth
            if m.sum() < 6:
                res[name] = None
                continue
            cov = (L_cheek - float(np.median(L[m]))) / contrast
            red_loss = min(1.0, max(0.0, float(ab_cheek[0]) - float(np.median(lab[m][:, 1]))) / 10.0)
            res[name] = {"coverage": _r(cov), "specks": _r(float(speck[m].mean()) - ck_speck),
                         "redness_loss": _r(red_loss)}
            boxes[name] = _box(poly, (W, H))
        res["boxes"] = boxes
        out["facial_hair"] = res

    # Hair over brows and eyes: a strip just above the brows (fringe, strands from the
    # hairline) and a strip under the eyes (strands hanging across), brows and eye openings
    # taken out; the eyelids themselves (shadowed, lashes) are not looked at.
    bt = ff.to_face(pts[list(R_BROW[:5] + L_BROW[:5])])
    eb = ff.to_face(pts[[145, 374]])
    v_top = float(bt[:, 1].min())
    v_eye = float(eb[:, 1].max())
    polys = [ff.rect(-1.0, 1.0, v_top - 0.3, v_top + 0.02),
             ff.rect(-0.95, -0.25, v_eye + 0.06, v_eye + 0.26), ff.rect(0.25, 0.95, v_eye + 0.06, v_eye + 0.26)]
    band = np.zeros(shape, bool)
    for poly in polys:
        band |= _poly_mask(shape, c(poly))
    band &= _poly_mask(shape, c(oval))
    k = max(1, round(0.05 * ipd_c))
    ker = np.ones((2 * k + 1, 2 * k + 1), np.uint8)
    eyes = _poly_mask(shape, c(pts[list(R_EYE_RING)])) | _poly_mask(shape, c(pts[list(L_EYE_RING)]))
    excl = cv2.dilate((brows | eyes).astype(np.uint8), ker) > 0
    band &= ~excl
    if band.sum() < 20 or contrast < 0.5 * MIN_HAIR_CONTRAST_L:
        out["hair_over_face"] = {**base, **_unknown_face("low_contrast" if band.sum() >= 20 else "face_not_visible")}
    else:
        # Strands: thin dark lines running down the face (hair falls from the hairline),
        # from the second derivatives of L* in the face frame: a dark line across u with no
        # such curvature along v. Eyebrows, glasses rims, lids and under-eye shadows run
        # across the face (curvature along v) and do not count. Counted only in the strip
        # above the brows, which a strand falling from the hairline crosses and a glasses
        # frame (its sides run down beside the eyes) does not; frown lines between the
        # brows (|u| < 0.15) are left out.
        Ls = cv2.GaussianBlur(L, (0, 0), max(0.7, 0.015 * ipd_c))
        gxx = cv2.Sobel(Ls, cv2.CV_32F, 2, 0, ksize=3)
        gyy = cv2.Sobel(Ls, cv2.CV_32F, 0, 2, ksize=3)
        gxy = cv2.Sobel(Ls, cv2.CV_32F, 1, 1, ksize=3)
        ux, uy = float(ff.u[0]), float(ff.u[1])
        luu = ux * ux * gxx + 2.0 * ux * uy * gxy + uy * uy * gyy
        lvv = uy * uy * gxx - 2.0 * ux * uy * gxy + ux * ux * gyy
        t = STRAND_CURV * contrast
        strands = (luu > t) & (luu > 2.0 * np.abs(lvv))
        sband = band & _poly_mask(shape, c(polys[0])) & ~_poly_mask(shape, c(ff.rect(-0.15, 0.15, v_top - 0.3, v_top)))
        strand_share = float(strands[sband].mean()) if sband.any() else 0.0
        # The dark share (a fringe, a curtain of hair) leaves out thin dark lines running
        # across the face (glasses rims), a pixel or two around them.
        across = ((lvv > t) & (lvv > 2.0 * np.abs(luu))).astype(np.uint8)
        across = cv2.dilate(across, np.ones((3, 3), np.uint8)) > 0
        dark = (L_brow + 0.45 * contrast > L) & ~across
        share = float(dark[band].mean())
        out["hair_over_face"] = {**base, "judged": True, "reason": None, "dark_share": _r(share),
                                 "strand_share": _r(strand_share),
                                 "boxes": {"band": _box(ff.rect(-1.0, 1.0, v_top - 0.3, v_eye + 0.26), (W, H))}}

    # Hair colour above the forehead --------------------------------------------------
    # Read only when the colour can mean the hair's: a head tilted far up or down shows
    # scalp or background in the strip; skin that reads green, blue or violet (skin is
    # red-yellow under any near-white light, whatever its tone) says the light or the
    # camera's white balance colours everything, hair included; and a strip whose pixels
    # are mostly clipped in two channels or more (a white cap, a lamp) has no measurable
    # hue (one clipped channel is just a vivid colour).
    v10 = float(ff.to_face(pts[FOREHEAD_TOP])[1])
    hpoly = ff.rect(-0.7, 0.7, v10 - 0.45, v10 - 0.06)
    inside = np.mean([(0 <= p[0] < W and 0 <= p[1] < H) for p in hpoly])
    hm = _poly_mask(shape, c(hpoly))
    pitch = pose[1] if pose is not None else 0.0
    skin_hue = float(math.degrees(math.atan2(float(ab_cheek[1]), float(ab_cheek[0]))) % 360.0)
    hue_off = abs((skin_hue - SKIN_HUE_DEG + 180.0) % 360.0 - 180.0)
    hc_base = {**base, "pitch_deg": _r(pitch, 2), "skin_hue_deg": _r(skin_hue, 2)}
    if inside < 1.0 or hm.sum() < 20:
        out["hair_colour"] = {**hc_base, **_unknown_face("hair_out_of_frame")}
    elif abs(pitch) > MAX_PITCH_DEG:
        out["hair_colour"] = {**hc_base, **_unknown_face("face_not_frontal")}
    elif hue_off > MAX_SKIN_HUE_OFF_DEG:
        out["hair_colour"] = {**hc_base, **_unknown_face("colour_cast")}
    elif float(np.mean((crop[hm] >= 250).sum(axis=1) >= 2)) > BRIGHT_CLIP_SHARE:
        out["hair_colour"] = {**hc_base, **_unknown_face("overexposed")}
    else:
        px = lab[hm]
        de = np.sqrt(((px[:, 0] - L_cheek) * 0.5) ** 2 + ((px[:, 1:] - ab_cheek) ** 2).sum(axis=1))
        hair = px[de >= SKIN_DE]
        share = float(hair.shape[0]) / float(px.shape[0])
        if share < HAIR_MIN_SHARE:
            out["hair_colour"] = {**hc_base, **_unknown_face("hair_not_visible"), "hair_share": _r(share)}
        else:
            med = np.median(hair, axis=0)
            chroma = float(np.hypot(med[1], med[2]))
            hue = float(math.degrees(math.atan2(float(med[2]), float(med[1]))) % 360.0)
            out["hair_colour"] = {**hc_base, "judged": True, "reason": None, "hair_share": _r(share),
                                  "L": _r(float(med[0]), 2), "chroma": _r(chroma, 2), "hue_deg": _r(hue, 2),
                                  "boxes": {"hair": _box(hpoly, (W, H))}}
    return out


# -- the hands -----------------------------------------------------------------------------

FINGERS: dict[str, tuple[int, int, int]] = {  # PIP, DIP, TIP
    "index": (6, 7, 8), "middle": (10, 11, 12), "ring": (14, 15, 16), "pinky": (18, 19, 20),
}


def _quad(a: F64, b: F64, t0: float, t1: float, half_w: float) -> F64:
    """A quadrilateral along a->b from fraction t0 to t1, half width ``half_w`` px."""
    d = b - a
    n = float(np.hypot(d[0], d[1]))
    u = d / max(n, 1e-6)
    p = np.array([-u[1], u[0]])
    s0, s1 = a + t0 * d, a + t1 * d
    out: F64 = np.array([s0 - half_w * p, s1 - half_w * p, s1 + half_w * p, s0 + half_w * p])
    return out


def back_facing(hand: HandObs) -> bool:
    """Whether the back of the hand faces the camera (from handedness and the order of
    index and little-finger knuckles around the wrist)."""
    lm = hand.landmarks[:, :2]
    v1, v2 = lm[5] - lm[0], lm[17] - lm[0]
    cross = float(v1[0] * v2[1] - v1[1] * v2[0])
    return cross > 0 if hand.side == "right" else cross < 0


def measure_hand(image: U8, obs: Observation, hand: HandObs) -> dict[str, Any]:
    W, H = obs.image_size
    pts: F64 = hand.landmarks[:, :2] * np.array([float(W), float(H)])
    res: dict[str, Any] = {"side": hand.side, "judged": False, "reason": None}
    if not back_facing(hand):
        res["reason"] = "palm_facing_camera"
        return res
    fingers: dict[str, Any] = {}
    boxes: dict[str, list[float]] = {}
    skins: list[F32] = []
    rgbs: list[U8] = []
    small = 0
    for name, (pip, dip, tip) in FINGERS.items():
        a, b, m = pts[dip], pts[tip], pts[pip]
        ln = float(np.hypot(*(b - a)))
        if ln < MIN_FINGER_PX:
            small += 1
            continue
        nail = _quad(a, b, 0.35, 0.9, 0.24 * ln)
        skin = _quad(m, a, 0.25, 0.75, 0.22 * ln)
        allp = np.vstack([nail, skin])
        x0, y0 = np.floor(allp.min(axis=0)).astype(int)
        x1, y1 = np.ceil(allp.max(axis=0)).astype(int) + 1
        if x0 < 0 or y0 < 0 or x1 > W or y1 > H:
            continue
        crop = np.ascontiguousarray(image[y0:y1, x0:x1])
        sh = (crop.shape[0], crop.shape[1])
        off = np.array([float(x0), float(y0)])
        nm, sm = _poly_mask(sh, nail - off), _poly_mask(sh, skin - off)
        if nm.sum() < 6 or sm.sum() < 6:
            continue
        lab = _lab(crop)
        skins.append(lab[sm])
        rgbs.append(crop[sm])
        nl = np.median(lab[nm].astype(np.float64), axis=0)
        sl = np.median(lab[sm].astype(np.float64), axis=0)
        de = float(delta_e2000(nl, sl))
        fingers[name] = {"delta_e": _r(de, 2), "nail_L": _r(float(nl[0]), 2), "skin_L": _r(float(sl[0]), 2)}
        boxes[name] = _box(np.vstack([nail, skin]), (W, H))
    if not fingers:
        res["reason"] = "hand_too_small" if small else "hand_out_of_frame"
        return res
    light = _light(np.vstack(skins), np.vstack(rgbs))
    if light is not None:
        res["reason"] = light
        return res
    des = [float(f["delta_e"]) for f in fingers.values()]
    res.update(judged=True, fingers=fingers, boxes=boxes, delta_e_median=_r(float(np.median(des)), 2),
               delta_e_max=_r(max(des), 2), n_fingers=len(des))
    return res


def measure_hands(image: U8, obs: Observation) -> dict[str, Any]:
    if not obs.hands:
        return {"judged": False, "reason": "hands_not_visible", "hands": []}
    hands = [measure_hand(image, obs, h) for h in obs.hands[:2]]
    judged = [h for h in hands if h["judged"]]
    out: dict[str, Any] = {"hands": hands, "judged": bool(judged), "reason": None}
    if judged:
        des = [float(f["delta_e"]) for h in judged for f in h["fingers"].values()]
        out["delta_e_median"] = _r(float(np.median(des)), 2)
        out["delta_e_max"] = _r(max(des), 2)
        out["n_fingers"] = len(des)
    else:
        out["reason"] = hands[0]["reason"]
    return out


# -- the chest -----------------------------------------------------------------------------

def measure_chest(image: U8, obs: Observation, min_visibility: float = 0.5) -> dict[str, Any]:
    pose = obs.pose
    res: dict[str, Any] = {"judged": False, "reason": None}
    if pose is None:
        res["reason"] = "chest_not_visible"
        return res
    ls_i, rs_i = int(PoseLm.LEFT_SHOULDER), int(PoseLm.RIGHT_SHOULDER)
    if min(float(pose.visibility[ls_i]), float(pose.visibility[rs_i])) < min_visibility:
        res["reason"] = "shoulders_not_visible"
        return res
    W, H = obs.image_size
    ls = pose.landmarks[ls_i, :2] * np.array([float(W), float(H)])
    rs = pose.landmarks[rs_i, :2] * np.array([float(W), float(H)])
    d = ls - rs
    sw = float(np.hypot(d[0], d[1]))
    res["sw_px"] = _r(sw, 2)
    if sw < MIN_SW_PX:
        res["reason"] = "chest_too_small"
        return res
    ux = d / sw  # towards the subject's left shoulder
    uy = np.array([-ux[1], ux[0]])
    if uy[1] < 0:  # down the body, whatever the image orientation
        uy = -uy
    mid = (ls + rs) / 2.0
    # Canonical torso: x in [-0.65, 0.65] SW, y in [0, 1.0] SW below the shoulder line.
    k = CANON_SW / sw
    cw, ch = round(1.3 * CANON_SW), round(1.0 * CANON_SW)
    # canon = k * [ux; uy] (p - mid) + (cw/2, 0)
    A = k * np.array([ux, uy])
    t = np.array([cw / 2.0, 0.0]) - A @ mid
    corners = np.array([[0, 0], [cw, 0], [cw, ch], [0, ch]], np.float64)
    inv = np.linalg.inv(A)
    img_corners = (corners - t) @ inv.T
    if (img_corners[:, 1] > H).mean() > 0.5:
        res["reason"] = "chest_out_of_frame"
        return res
    m = np.hstack([A, t[:, None]])
    canon = np.asarray(cv2.warpAffine(image, m, (cw, ch), flags=cv2.INTER_AREA if k < 1 else cv2.INTER_LINEAR,
                                      borderMode=cv2.BORDER_CONSTANT, borderValue=(0, 0, 0)), np.uint8)
    valid = np.asarray(cv2.warpAffine(np.ones((H, W), np.uint8), m, (cw, ch), flags=cv2.INTER_NEAREST,
                                      borderMode=cv2.BORDER_CONSTANT, borderValue=0), np.uint8) > 0
    lab = _lab(canon)
    xs = (np.arange(cw) - cw / 2.0) / CANON_SW
    ys = np.arange(ch) / CANON_SW
    X, Y = np.meshgrid(xs, ys)
    torso = valid & (np.abs(X) <= 0.45) & (Y >= 0.12) & (Y <= 0.95)
    if torso.sum() < 0.3 * (0.9 * 0.83 * CANON_SW**2):
        res["reason"] = "chest_out_of_frame"
        return res
    light = _light(lab[torso], canon[torso], dark_l=5.0)  # a black shirt is not darkness
    if light is not None:
        res["reason"] = light
        return res
    shirt = np.median(lab[torso], axis=0)
    de = np.sqrt(((lab - shirt) ** 2).sum(axis=2))
    cand = (de >= CARD_DE) & torso
    cand_u8 = cand.astype(np.uint8)
    cand_u8 = cv2.morphologyEx(cand_u8, cv2.MORPH_CLOSE, np.ones((7, 7), np.uint8))
    cand_u8 = cv2.morphologyEx(cand_u8, cv2.MORPH_OPEN, np.ones((3, 3), np.uint8))
    contours, _ = cv2.findContours(cand_u8, cv2.RETR_EXTERNAL, cv2.CHAIN_APPROX_SIMPLE)
    cards: list[dict[str, Any]] = []
    for cnt in contours:
        area = float(cv2.contourArea(cnt)) / CANON_SW**2
        if not 0.008 <= area <= 0.12:
            continue
        (cx, cy), (rw, rh), ang = cv2.minAreaRect(cnt)
        if min(rw, rh) < 4:
            continue
        rect_area = float(rw * rh) / CANON_SW**2
        fill = area / max(rect_area, 1e-9)
        aspect = max(rw, rh) / min(rw, rh)
        # Tilt of the card's long or short side from the body's vertical/horizontal.
        tilt = float(((ang + 45.0) % 90.0) - 45.0)
        inside = np.zeros((ch, cw), np.uint8)
        cv2.drawContours(inside, [cnt], -1, 1, -1)
        med = np.median(lab[inside > 0], axis=0)
        contrast = float(np.sqrt(((med - shirt) ** 2).sum()))
        cards.append({
            "x_sw": _r((cx - cw / 2.0) / CANON_SW, 3), "y_sw": _r(cy / CANON_SW, 3),
            "area_sw2": _r(area), "fill": _r(fill, 3), "aspect": _r(aspect, 3), "tilt_deg": _r(tilt, 2),
            "contrast_de": _r(contrast, 2),
            "box": _box(((np.asarray(cv2.boxPoints(((cx, cy), (rw, rh), ang)), np.float64) - t) @ inv.T), (W, H)),
        })
    cards.sort(key=lambda c: (-float(c["fill"]), -float(c["area_sw2"])))
    res.update(judged=True, cards=cards[:4],
               chest_box=_box(np.array([[-0.6, 0.0], [0.6, 0.0], [0.6, 1.0], [-0.6, 1.0]]) @ (np.array([ux, uy]) * sw)
                              + mid, (W, H)))
    return res


# -- the measure ---------------------------------------------------------------------------

@register("grooming", takes_option=True)
def grooming_measure(frame: Frame, obs: Observation, tasks: Iterable[str] | None = None) -> dict[str, Any] | None:
    """The ``grooming`` pixel measure; ``None`` (nothing stored) when no task is on.

    ``tasks``: this call's tasks (a per-session choice, e.g. from
    :func:`tasks_for_rules` of a drill step's rules); ``None`` = the process default."""
    tasks = active_tasks() if tasks is None else frozenset(t for t in tasks if t in TASKS)
    if not tasks:
        return None
    out: dict[str, Any] = {"tasks": sorted(tasks)}
    if "face" in tasks:
        out.update(measure_face(frame.image, obs))
    if "hands" in tasks:
        out["nails"] = measure_hands(frame.image, obs)
    if "chest" in tasks:
        out["badge"] = measure_chest(frame.image, obs)
    return out


__all__ = [
    "GROOMING_FEATURE_NAMES", "REASON_CODES", "RULE_TASKS", "TASKS", "grooming_features", "measures_of",
    "reason_code", "reason_of", "tasks_for_rules",
]
