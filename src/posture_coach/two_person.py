"""Two people in one frame (role-plays): find both with a single-person pose model.

MediaPipe's pose landmarker is single-person (MEDIAPIPE_NOTES pitfall 6). Two ways to
find a second person, both built on :class:`posture_coach.landmarker.Landmarkers`
(the only module that touches mediapipe):

``mask`` (stills, IMAGE mode)
    Run pose on the full frame (person A), paint over A's head and torso (not the arms:
    in a handshake B's hand is in A's hand), and run pose again (person B). The pose
    detector keys on the head and torso, so it finds B. Two pose passes per frame.

``retry`` (with ``mask``/``body``, stills)
    Fewer people found than wanted: search the painted frame again with a landmarker
    built at :data:`RETRY_POSE_CONFIDENCE`, then its left and right crops (three passes),
    and let :func:`pick_pair` choose the pair among everyone found.

``mirror`` (with ``mask``/``body``, stills)
    When the people found show no handshake, run pose on the mirror image's left and right
    :data:`HALF_SHARE` crops and add both estimates, mirrored back, to the people found
    (duplicates kept: :func:`pick_pair` pairs them). The pose model is not mirror-symmetric:
    on a mirrored crop it often places a partner, or a wrist hidden in the clasp, where the
    unmirrored passes did not. Two more passes, only on photos with no handshake yet.

``halves`` (stills or video)
    Run pose on the left and on the right ~60 % of the frame. For video give each half
    its own VIDEO-mode :class:`Landmarkers` (``secondary``) so each keeps tracking its
    own person: feeding one tracker alternating frames breaks its tracking.

Landmarks of both people come back in full-frame normalised coordinates; which of them
is the trainee is a setting (``trainee="left"`` = the person on the image left), never
guessed. The pure geometry (joined hands, lean, distance) lives in
:mod:`posture_coach.interaction_features`.

:func:`two_person_measures` turns the result into the JSON-friendly dict stored under
``Observation.measures["two_person"]``, so recordings replay it and the pure rules judge it.
"""

from __future__ import annotations

import dataclasses
import math
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any, Literal

import cv2
import numpy as np
import numpy.typing as npt

from posture_coach.appearance import TraineePicker
from posture_coach.geometry import body_scale
from posture_coach.interaction_features import (
    body2d,
    handshake_evidence,
    joined_hands,
    meeting_zones,
    person_centre_x,
    pose_box,
    torso_lean_towards_deg,
    two_person_distance_m,
)
from posture_coach.landmarker import Landmarkers
from posture_coach.types import Frame, HandObs, Observation, PoseLm, PoseObs, landmarks_from_crop

Strategy = Literal["mask", "body", "halves"]
ImageSide = Literal["left", "right"]

#: Share of the frame width each half covers in the ``halves`` strategy (they overlap).
HALF_SHARE = 0.6
#: Pose detection/presence confidence of the ``retry`` landmarker (the caller builds it):
#: the second person of a handshake photo is often half hidden by the first, turned away
#: or small; 0.1 found a new person on 13 of 19 one-person misses of handshake_rf's tune half.
RETRY_POSE_CONFIDENCE = 0.1

#: Pose landmark order of the mirror image: each left landmark swaps with its right twin.
MIRROR_ORDER: tuple[int, ...] = tuple(
    int(PoseLm[m.name.replace("LEFT", "RIGHT")]) if "LEFT" in m.name
    else int(PoseLm[m.name.replace("RIGHT", "LEFT")]) if "RIGHT" in m.name else int(m)
    for m in PoseLm)


@dataclass(frozen=True, slots=True)
class TwoPersonResult:
    """Up to two people, ordered by image x (left first), and what finding them cost."""

    persons: tuple[PoseObs, ...]
    image_size: tuple[int, int]
    ms: float
    passes: int
    #: Hands found by :meth:`TwoPersonDetector.probe_hands` between the pair (full-frame coordinates).
    hands: tuple[HandObs, ...] = ()

    def trainee_index(self, trainee: ImageSide) -> int | None:
        if not self.persons:
            return None
        return 0 if trainee == "left" or len(self.persons) == 1 else len(self.persons) - 1


def _paint_out(image: npt.NDArray[np.uint8], pose: PoseObs) -> npt.NDArray[np.uint8]:
    """A copy with the person's head and torso painted over with the image mean."""
    h, w = image.shape[:2]
    lm = pose.landmarks
    pts = {int(i): (float(lm[i, 0]) * w, float(lm[i, 1]) * h) for i in range(len(lm))}
    ls, rs = pts[PoseLm.LEFT_SHOULDER], pts[PoseLm.RIGHT_SHOULDER]
    lh, rh = pts[PoseLm.LEFT_HIP], pts[PoseLm.RIGHT_HIP]
    sw = max(math.dist(ls, rs), 1.0)
    tl = max(math.dist(((ls[0] + rs[0]) / 2, (ls[1] + rs[1]) / 2), ((lh[0] + rh[0]) / 2, (lh[1] + rh[1]) / 2)), 1.0)
    scale = max(sw, 0.5 * tl)
    out = image.copy()
    fill = tuple(int(c) for c in image.reshape(-1, 3).mean(axis=0))
    # Torso: the shoulder-hip quadrilateral, grown a little about its centre.
    quad = np.array([ls, rs, rh, lh], dtype=np.float64)
    c = quad.mean(axis=0)
    quad = c + (quad - c) * 1.15
    cv2.fillPoly(out, [np.round(quad).astype(np.int32)], fill)
    # Head: a disc about the nose covering the ears, and a neck band.
    nose = pts[PoseLm.NOSE]
    ears = [pts[PoseLm.LEFT_EAR], pts[PoseLm.RIGHT_EAR]]
    r = max(0.55 * scale, max(math.dist(nose, e) for e in ears) * 1.4)
    cv2.circle(out, (round(nose[0]), round(nose[1])), round(r), fill, -1)
    sh_mid = ((ls[0] + rs[0]) / 2, (ls[1] + rs[1]) / 2)
    cv2.line(out, (round(nose[0]), round(nose[1])), (round(sh_mid[0]), round(sh_mid[1])), fill,
             max(1, round(0.5 * scale)))
    return out


#: Pose limbs painted by the ``body`` strategy (forearms only part-way: see :func:`_paint_body`).
_LIMBS = ((PoseLm.LEFT_SHOULDER, PoseLm.LEFT_ELBOW), (PoseLm.RIGHT_SHOULDER, PoseLm.RIGHT_ELBOW),
          (PoseLm.LEFT_HIP, PoseLm.LEFT_KNEE), (PoseLm.RIGHT_HIP, PoseLm.RIGHT_KNEE),
          (PoseLm.LEFT_KNEE, PoseLm.LEFT_ANKLE), (PoseLm.RIGHT_KNEE, PoseLm.RIGHT_ANKLE))
_FOREARMS = ((PoseLm.LEFT_ELBOW, PoseLm.LEFT_WRIST), (PoseLm.RIGHT_ELBOW, PoseLm.RIGHT_WRIST))


def _paint_body(image: npt.NDArray[np.uint8], pose: PoseObs, painted: npt.NDArray[np.bool_],
                forearm_share: float = 0.5, limb_width: float = 0.35,
                min_vis: float = 0.3) -> npt.NDArray[np.uint8]:
    """:func:`_paint_out` plus the person's upper arms, legs and the elbow half of each forearm.

    The hands stay: in a handshake the other person's hand is inside this person's hand.
    Painting the limbs stops a leftover arm or leg being found again as a "person".
    ``painted`` (H×W bool) is updated with the painted pixels (duplicate check).
    """
    out = _paint_out(image, pose)
    h, w = image.shape[:2]
    lm, vis = pose.landmarks, pose.visibility
    sw = math.dist(lm[PoseLm.LEFT_SHOULDER, :2] * (w, h), lm[PoseLm.RIGHT_SHOULDER, :2] * (w, h))
    sh = (lm[PoseLm.LEFT_SHOULDER, :2] + lm[PoseLm.RIGHT_SHOULDER, :2]) / 2
    hp = (lm[PoseLm.LEFT_HIP, :2] + lm[PoseLm.RIGHT_HIP, :2]) / 2
    tl = math.dist(sh * (w, h), hp * (w, h))
    thick = max(2, round(limb_width * max(sw, 0.5 * tl)))
    fill = tuple(int(c) for c in image.reshape(-1, 3).mean(axis=0))
    segs = [(lm[i, :2], lm[j, :2]) for i, j in _LIMBS if vis[i] >= min_vis and vis[j] >= min_vis]
    segs += [(lm[i, :2], lm[i, :2] + forearm_share * (lm[j, :2] - lm[i, :2]))
             for i, j in _FOREARMS if vis[i] >= min_vis and vis[j] >= min_vis]
    layer = np.zeros((h, w), np.uint8)
    for a, b in segs:
        pa = (round(float(a[0]) * w), round(float(a[1]) * h))
        pb = (round(float(b[0]) * w), round(float(b[1]) * h))
        cv2.line(layer, pa, pb, 255, thick)
    diff = np.any(out != image, axis=2)
    out[layer > 0] = fill
    painted |= diff | (layer > 0)
    return out


def _inside(pose: PoseObs, painted: npt.NDArray[np.bool_]) -> bool:
    """Is this pose's shoulder midpoint on pixels painted over already (a leftover of someone found)?"""
    h, w = painted.shape
    x, y = (pose.landmarks[PoseLm.LEFT_SHOULDER, :2] + pose.landmarks[PoseLm.RIGHT_SHOULDER, :2]) / 2
    xi, yi = int(np.clip(x * w, 0, w - 1)), int(np.clip(y * h, 0, h - 1))
    return bool(painted[yi, xi])


def _uncrop(pose: PoseObs, x0: int, cw: int, w: int) -> PoseObs:
    """Map a pose found in a full-height crop ``[x0, x0 + cw)`` back to full-frame coordinates."""
    lm = landmarks_from_crop(pose.landmarks, x0, 0, cw, 1, (w, 1))  # full height: y stays as it is
    return PoseObs(landmarks=lm, visibility=pose.visibility.copy(), presence=pose.presence.copy(), world=pose.world)


def _unmirror(pose: PoseObs) -> PoseObs:
    """A pose found on the mirror image (normalised to the whole mirrored frame), in the
    frame itself: x flipped, each left landmark swapped with its right twin (the subject's
    own sides), world x negated."""
    idx = list(MIRROR_ORDER)
    lm = pose.landmarks[idx].copy()
    lm[:, 0] = 1.0 - lm[:, 0]  # z (depth) is unchanged by a horizontal flip
    world = None
    if pose.world is not None:
        world = pose.world[idx].copy()
        world[:, 0] = -world[:, 0]
    return PoseObs(landmarks=lm, visibility=pose.visibility[idx].copy(), presence=pose.presence[idx].copy(),
                   world=world)


def _slim(pose: PoseObs) -> dict[str, Any]:
    """A pose as JSON without world landmarks, rounded (kept in recordings)."""
    return {"lm": np.round(pose.landmarks, 5).tolist(), "vis": np.round(pose.visibility, 4).tolist(),
            "pres": np.round(pose.presence, 4).tolist(), "world": None}


def _same_person(a: PoseObs, b: PoseObs, size: tuple[int, int], within_sw: float = 0.5) -> bool:
    w, h = size
    sa = (a.landmarks[[PoseLm.LEFT_SHOULDER, PoseLm.RIGHT_SHOULDER], :2] * (w, h)).mean(axis=0)
    sb = (b.landmarks[[PoseLm.LEFT_SHOULDER, PoseLm.RIGHT_SHOULDER], :2] * (w, h)).mean(axis=0)
    sh = a.landmarks[PoseLm.LEFT_SHOULDER, :2] - a.landmarks[PoseLm.RIGHT_SHOULDER, :2]
    sw = float(np.linalg.norm(sh * (w, h)))
    return float(np.linalg.norm(sa - sb)) < max(within_sw * sw, 0.03 * w)


def _one_person(a: PoseObs, b: PoseObs, size: tuple[int, int]) -> bool:
    """Are ``a`` and ``b`` two estimates of one person (shoulder midpoints within either's shoulder width)?"""
    return _same_person(a, b, size, 1.0) or _same_person(b, a, size, 1.0)


class TwoPersonDetector:
    """Find up to two people per frame with single-person pose landmarkers.

    ``primary`` runs every pass of ``mask`` and the left half of ``halves``;
    ``secondary`` (optional) runs the right half of ``halves`` so that each VIDEO-mode
    tracker sees one consistent stream.
    """

    def __init__(self, primary: Landmarkers, *, strategy: Strategy = "mask",
                 secondary: Landmarkers | None = None, max_persons: int = 2,
                 hands: Landmarkers | None = None, params: Mapping[str, float] | None = None,
                 unstretch: float = 1.0, retry: Landmarkers | None = None, retry_below: int = 2,
                 mirror: bool = False) -> None:
        if strategy not in ("mask", "body", "halves"):
            raise ValueError(f"strategy must be 'mask', 'body' or 'halves', got {strategy!r}")
        if strategy in ("mask", "body") and primary.config.mode == "video":
            raise ValueError("the mask strategy needs IMAGE mode (tracking would follow the painted-out person)")
        self.primary = primary
        self.secondary = secondary
        self.strategy = strategy
        #: ``mask`` keeps painting out people until this many are found (photos with
        #: bystanders need 3-4 to reach the two who shake hands; a role-play needs 2).
        self.max_persons = max_persons
        #: An IMAGE-mode landmarker with the hand task: :meth:`probe_hands` looks for a hand
        #: hidden between the pair (needs ``params``, the ``[interaction]`` table).
        self.hands = hands
        self.params = params
        #: Width multiplier applied to the frame before the search (pixel aspect): photos
        #: squeezed to a square by a dataset tool get their people's proportions back.
        #: Landmarks stay normalised, so they map back unchanged; ``image_size`` is the
        #: un-stretched size, so the geometry is measured in true proportions.
        if not 0.25 <= unstretch <= 4.0:
            raise ValueError(f"unstretch must be within 0.25-4, got {unstretch}")
        self.unstretch = unstretch
        #: An IMAGE-mode pose landmarker at a lower confidence (:data:`RETRY_POSE_CONFIDENCE`):
        #: when ``mask``/``body`` found fewer than ``retry_below`` people, it searches the
        #: painted frame, then its left and right :data:`HALF_SHARE` crops (three more passes),
        #: keeping every new person; :func:`pick_pair` then chooses the pair.
        self.retry = retry
        self.retry_below = retry_below
        #: ``mask``/``body``: when the people found show no handshake (judged with ``params``;
        #: always without them), two more passes on the mirror image's halves (:meth:`_mirror_halves`).
        self.mirror = mirror

    def _pose(self, lm: Landmarkers, image: npt.NDArray[np.uint8], frame: Frame) -> PoseObs | None:
        img = np.ascontiguousarray(image)
        return lm.observe(Frame(img, frame.index, frame.timestamp_ms, frame.source), tasks=("pose",)).pose

    def find(self, frame: Frame, first: PoseObs | None = None) -> TwoPersonResult:
        """Both people in ``frame``. ``first``: a pose already found on the full frame (saves a pass)."""
        t0 = time.perf_counter()
        if self.unstretch != 1.0:
            w0, h0 = frame.size
            wide: npt.NDArray[np.uint8] = cv2.resize(frame.image, (max(1, round(w0 * self.unstretch)), h0),
                                                     interpolation=cv2.INTER_LINEAR).astype(np.uint8, copy=False)
            frame = Frame(wide, frame.index, frame.timestamp_ms, frame.source)
        w, h = frame.size
        persons: list[PoseObs] = []
        passes = 0
        if self.strategy == "mask":
            a = first
            if a is None:
                a = self._pose(self.primary, frame.image, frame)
                passes += 1
            img = frame.image
            while a is not None:
                persons.append(a)
                if len(persons) >= self.max_persons:
                    break
                img = _paint_out(img, a)
                a = self._pose(self.primary, img, frame)
                passes += 1
                if a is not None and any(_same_person(q, a, (w, h)) for q in persons):
                    break
        elif self.strategy == "body":
            a = first
            if a is None:
                a = self._pose(self.primary, frame.image, frame)
                passes += 1
            img = frame.image
            painted = np.zeros((h, w), dtype=bool)
            tries = 0
            while a is not None and tries < 2 * self.max_persons:
                tries += 1
                dup = _inside(a, painted) or any(_same_person(q, a, (w, h)) for q in persons)
                if not dup:
                    persons.append(a)
                    if len(persons) >= self.max_persons:
                        break
                img = _paint_body(img, a, painted, **self._paint_kw())
                a = self._pose(self.primary, img, frame)
                passes += 1
        if self.strategy in ("mask", "body") and self.retry is not None and len(persons) < self.retry_below:
            passes += self._retry(frame, img, persons)
        if self.strategy in ("mask", "body") and self.mirror and not self._shakes(persons, (w, h)):
            passes += self._mirror_halves(frame, persons)
        if self.strategy == "halves":
            cw = round(w * HALF_SHARE)
            for x0, lm in ((0, self.primary), (w - cw, self.secondary or self.primary)):
                crop = frame.image[:, x0:x0 + cw]
                p = self._pose(lm, crop, frame)
                passes += 1
                if p is not None:
                    p = _uncrop(p, x0, cw, w)
                    if not any(_same_person(q, p, (w, h)) for q in persons):
                        persons.append(p)
        persons.sort(key=lambda p: person_centre_x(p))
        res = TwoPersonResult(tuple(persons), (w, h), (time.perf_counter() - t0) * 1000.0, passes)
        if self.hands is not None and self.params is not None and len(persons) >= 2:
            hands, n = self.probe_hands(frame, res)
            res = dataclasses.replace(res, hands=hands, passes=res.passes + n,
                                      ms=(time.perf_counter() - t0) * 1000.0)
        return res

    def _retry(self, frame: Frame, img: npt.NDArray[np.uint8], persons: list[PoseObs]) -> int:
        """Search ``img`` (people found so far painted out) again with the low-confidence
        landmarker: the whole frame, then its left and right crops, painting out each new
        person. Appends to ``persons``; returns the passes run (3)."""
        assert self.retry is not None
        w, h = frame.size
        cw = round(w * HALF_SHARE)
        passes = 0
        for x0, x1 in ((0, w), (0, cw), (w - cw, w)):
            p = self._pose(self.retry, img[:, x0:x1], frame)
            passes += 1
            if p is None:
                continue
            if x1 - x0 != w:
                p = _uncrop(p, x0, x1 - x0, w)
            if any(_same_person(q, p, (w, h)) for q in persons):
                continue
            persons.append(p)
            img = _paint_out(img, p)
        return passes

    def _shakes(self, persons: list[PoseObs], size: tuple[int, int]) -> bool:
        """Do the people found so far already show a handshake (False without ``params``)?"""
        if self.params is None or len(persons) < 2:
            return False
        res = TwoPersonResult(tuple(sorted(persons, key=person_centre_x)), size, 0.0, 0)
        return bool(two_person_measures(res, self.params)["handshake"])

    def _mirror_halves(self, frame: Frame, persons: list[PoseObs]) -> int:
        """Pose on the left and right :data:`HALF_SHARE` crops of the mirror image; each person
        found is mapped back (:func:`_unmirror`) and appended to ``persons`` even when it is a
        second estimate of someone found already. Returns the passes run (2)."""
        w, _ = frame.size
        cw = round(w * HALF_SHARE)
        flipped: npt.NDArray[np.uint8] = np.ascontiguousarray(cv2.flip(frame.image, 1), dtype=np.uint8)
        for x0 in (0, w - cw):
            p = self._pose(self.primary, flipped[:, x0:x0 + cw], frame)
            if p is not None:
                persons.append(_unmirror(_uncrop(p, x0, cw, w)))
        return 2

    def _paint_kw(self) -> dict[str, float]:
        p = self.params or {}
        return {"forearm_share": p.get("paint_forearm_share", 0.5), "limb_width": p.get("paint_limb_width_sw", 0.35)}

    def probe_hands(self, frame: Frame, result: TwoPersonResult) -> tuple[tuple[HandObs, ...], int]:
        """Run the hand landmarker on square crops where a hand reaches between the chosen pair.

        Only when the pair's hand points do not already meet (a joined-hands pair needs no
        probe). Each crop is resized to ``hand_probe_px`` square. Returns (hands in full-frame
        coordinates, hand passes run).
        """
        assert self.hands is not None and self.params is not None
        p = self.params
        t, o = pick_pair(result, p)
        jh = joined_hands(t, o, result.image_size, p)
        if jh is not None and jh.joined:
            return (), 0
        w, h = result.image_size
        out: list[HandObs] = []
        n = 0
        side = int(p["hand_probe_px"])
        for (cx, cy), half in meeting_zones(t, o, result.image_size, p)[:2]:
            r = max(8, round(half))
            x0, y0 = max(0, round(cx) - r), max(0, round(cy) - r)
            x1, y1 = min(w, round(cx) + r), min(h, round(cy) + r)
            if x1 - x0 < 8 or y1 - y0 < 8:
                continue
            crop = cv2.resize(frame.image[y0:y1, x0:x1], (side, side), interpolation=cv2.INTER_CUBIC)
            obs = self.hands.observe(Frame(np.ascontiguousarray(crop), frame.index, frame.timestamp_ms,
                                           frame.source), tasks=("hands",))
            n += 1
            for hd in obs.hands:
                lm = landmarks_from_crop(hd.landmarks, x0, y0, x1 - x0, y1 - y0, (w, h))
                out.append(HandObs(landmarks=lm, side=hd.side, score=hd.score, world=None))
        return tuple(out), n


def two_person_measures(result: TwoPersonResult, params: Mapping[str, float],
                        trainee: ImageSide = "left",
                        pair: tuple[PoseObs, PoseObs] | None = None) -> dict[str, Any]:
    """The JSON-friendly ``Observation.measures["two_person"]`` entry for one frame.

    ``pair``: the pair as :func:`pick_pair` returns it for ``"left"`` (image left, right),
    when the caller has it already (picked here otherwise).

    ``params``: the ``[interaction]`` table. ``handshake_kind``: ``"wrists"`` (hand points
    meet) or ``"reach"`` (one hand reaches between them and a probed hand confirms it);
    ``hug``: the heads are very close (the guard that vetoes a handshake).
    """
    prm = params
    out: dict[str, Any] = {
        "n_persons": len(result.persons),
        "trainee": trainee,
        "ms": round(result.ms, 2),
        "boxes": [list(pose_box(p)) for p in result.persons],
        "handshake": None,
        "handshake_kind": None,
        "hug": None,
        "meet_xy": None,
        "lean_deg": None,
        "distance_m": None,
        "hand_gap_sw": None,
        "hand": None,
        "facing_other": None,
    }
    if len(result.persons) < 2:
        return out
    if pair is None:
        trainee_pose, other = pick_pair(result, prm, trainee)
    else:
        trainee_pose, other = pair if trainee == "left" else (pair[1], pair[0])
    ev = handshake_evidence(trainee_pose, other, result.image_size, prm, result.hands)
    if ev is not None and ev.joined and _one_person(trainee_pose, other, result.image_size):
        # The pair is one person found twice (a mirror-pass estimate, or painted out only in part).
        ev = dataclasses.replace(ev, joined=False)
    if ev is not None:
        out["handshake"] = ev.joined
        out["handshake_kind"] = ev.kind if ev.joined else None
        out["hug"] = ev.hug
        out["hand_gap_sw"] = None if ev.gap_sw is None else round(ev.gap_sw, 4)
        out["hand"] = ev.trainee_hand
        if ev.point is not None:
            w, h = result.image_size
            out["meet_xy"] = [round(ev.point[0] / w, 4), round(ev.point[1] / h, 4)]
    else:
        out["handshake"] = False
    lean = torso_lean_towards_deg(trainee_pose, other, result.image_size, prm)
    out["lean_deg"] = None if lean is None else round(lean, 2)
    dist = two_person_distance_m(trainee_pose, other, result.image_size, prm)
    out["distance_m"] = None if dist is None else round(dist, 3)
    out["facing_other"] = _faces_towards(trainee_pose, other, prm)
    return out


def _scale_px(pose: PoseObs, size: tuple[int, int], p: Mapping[str, float]) -> float | None:
    b = body2d(pose, size, p["min_visibility"], p["min_visibility_hand"])
    if b is None:
        return None
    return body_scale(b.sw, b.tl)


def pick_pair(result: TwoPersonResult, params: Mapping[str, float],
              trainee: ImageSide = "left") -> tuple[PoseObs, PoseObs]:
    """(trainee, other): with more than two people, the pair read as shaking hands (joined
    hands, or a probed reach), else the one whose hands are closest; pairs of very different
    body scale (``pair_max_scale_ratio``: a bystander nearer or further) come last. The
    trainee is the pair's left or right person by the setting. Upside-down estimates (hips
    above the shoulders: a ghost the extra passes draw inside someone's body) are left out
    while at least two others remain."""
    ps = result.persons
    upright = tuple(p for p in ps if not _upside_down(p))
    if len(upright) >= 2:
        ps = upright
    pair = (ps[0], ps[1])
    if len(ps) > 2:
        size = result.image_size
        best: tuple[int, int, float] | None = None
        for i in range(len(ps)):
            for j in range(i + 1, len(ps)):
                if _one_person(ps[i], ps[j], size):
                    continue  # one person found twice (painted out only in part, or a mirror-pass estimate)
                ev = handshake_evidence(ps[i], ps[j], size, params, result.hands)
                if ev is None or ev.gap_sw is None:
                    continue
                si, sj = _scale_px(ps[i], size, params), _scale_px(ps[j], size, params)
                odd = int(si is None or sj is None or max(si, sj) > params["pair_max_scale_ratio"] * min(si, sj))
                key = (odd, 0 if ev.joined else 1, ev.gap_sw)
                if best is None or key < best:
                    best, pair = key, (ps[i], ps[j])
    left, right = sorted(pair, key=person_centre_x)
    return (left, right) if trainee == "left" else (right, left)


def _upside_down(pose: PoseObs) -> bool:
    """Hip midpoint above the shoulder midpoint in the image: no standing or seated person.

    The low-confidence retry and the mirror passes sometimes draw such a ghost inside a
    person already found (UT-Interaction 0_0_16: paired with its own host, it hid the real
    pair; smoke_people p3.jpg: a false handshake)."""
    lm = pose.landmarks
    sh_y = (lm[PoseLm.LEFT_SHOULDER, 1] + lm[PoseLm.RIGHT_SHOULDER, 1]) / 2
    hip_y = (lm[PoseLm.LEFT_HIP, 1] + lm[PoseLm.RIGHT_HIP, 1]) / 2
    return bool(hip_y < sh_y)


def _faces_towards(pose: PoseObs, other: PoseObs, p: Mapping[str, float]) -> bool | None:
    """Does the nose point (ahead of the ear midpoint) towards the other person? None if unseen."""
    vis = pose.visibility
    ear_vis = max(vis[PoseLm.LEFT_EAR], vis[PoseLm.RIGHT_EAR])
    if vis[PoseLm.NOSE] < p["min_visibility"] or ear_vis < p["min_visibility_hand"]:
        return None
    lm = pose.landmarks
    ears = [i for i in (PoseLm.LEFT_EAR, PoseLm.RIGHT_EAR) if vis[i] >= p["min_visibility_hand"]]
    ear_x = float(np.mean([lm[i, 0] for i in ears]))
    towards = person_centre_x(other) - person_centre_x(pose)
    return bool((lm[PoseLm.NOSE, 0] - ear_x) * towards > 0)


def observe_two_person(detector: TwoPersonDetector, frame: Frame, obs: Observation,
                       params: Mapping[str, float], trainee: ImageSide = "left",
                       picker: TraineePicker | None = None) -> Observation:
    """``obs`` with ``measures["two_person"]`` filled in; the trainee's pose replaces ``obs.pose``.

    ``obs`` is the usual single-person observation of ``frame`` (its pose is reused as
    the first person of the ``mask`` strategy, which saves one pass). ``picker``: the
    trainee is whoever wears the calibrated clothing colours (``trainee`` is then only
    the side used until the colours decide); the measure records the side chosen and
    both people's colour distances (``trainee_colours``).
    """
    res = detector.find(frame, first=obs.pose if detector.strategy in ("mask", "body") else None)
    colours: dict[str, float] | None = None
    # The pair is searched once (image left, right); the trainee is one side of it.
    pair = pick_pair(res, params, "left") if len(res.persons) >= 2 else None
    if picker is not None and pair is not None:
        trainee = picker.update(frame.image, *pair) or trainee
        colours = dict(picker.last) or None
    meas = dict(obs.measures)
    meas["two_person"] = two_person_measures(res, params, trainee, pair)
    meas["two_person"]["persons"] = [_slim(p) for p in res.persons]
    if picker is not None:
        meas["two_person"]["trainee_by"] = "colours" if picker.side is not None else "default_side"
        meas["two_person"]["trainee_colours"] = colours
    if pair is not None:
        pose: PoseObs | None = pair[0] if trainee == "left" else pair[1]
    else:
        pose = res.persons[0] if res.persons else obs.pose
    return dataclasses.replace(obs, pose=pose, measures=meas)


def two_person_still(landmarkers: Landmarkers, frame: Frame, obs: Observation, params: Mapping[str, float],
                     trainee: ImageSide = "left", max_persons: int = 4,
                     strategy: Strategy = "mask", retry: Landmarkers | None = None,
                     retry_below: int = 2, mirror: bool = True) -> Observation:
    """One-line two-person step for still images (the accuracy bench's ``Observer.image``).

    ``landmarkers`` must be IMAGE mode with pose loaded (``obs`` is its observation of
    ``frame``; its pose is reused as the first person). Paints out up to ``max_persons``
    people (bystanders; ``mask@4`` measured best on handshake_rf) and, when
    ``landmarkers`` has the hand task, probes for a hidden hand between the pair.
    ``retry``: an IMAGE-mode pose landmarker built once by the caller at
    :data:`RETRY_POSE_CONFIDENCE`; with it, fewer than ``retry_below`` people found
    triggers three more passes (see :class:`TwoPersonDetector`); ``mirror``: no handshake
    among the people found triggers two passes on the mirror image's halves.
    """
    hands = landmarkers if "hands" in landmarkers.tasks else None
    det = TwoPersonDetector(landmarkers, strategy=strategy, max_persons=max_persons, hands=hands, params=params,
                            retry=retry, retry_below=retry_below, mirror=mirror)
    return observe_two_person(det, frame, obs, params, trainee)


def _shoulder_mid_and_torso(pose: PoseObs, size: tuple[int, int]) -> tuple[npt.NDArray[np.float64], float]:
    w, h = size
    lm = pose.landmarks[:, :2] * (w, h)
    sh = (lm[PoseLm.LEFT_SHOULDER] + lm[PoseLm.RIGHT_SHOULDER]) / 2.0
    hip = (lm[PoseLm.LEFT_HIP] + lm[PoseLm.RIGHT_HIP]) / 2.0
    return sh, float(np.linalg.norm(sh - hip))


def separate_people(a: PoseObs, b: PoseObs, size: tuple[int, int], params: Mapping[str, float]) -> bool:
    """Are ``a`` and ``b`` two people side by side, not one person read twice?

    Painting a person out and searching again also returns fragments of that person
    (the legs under a seated body, a second torso inside a side-on one): those sit within
    a torso length of the first person's shoulders, or are much smaller. Two people in a
    role-play stand apart: their shoulders are ``second_person_min_gap_tl`` torso lengths
    (of the larger) apart across the image, and neither is under
    ``second_person_min_size_ratio`` of the other's torso length."""
    sa, ta = _shoulder_mid_and_torso(a, size)
    sb, tb = _shoulder_mid_and_torso(b, size)
    big = max(ta, tb)
    if big <= 1.0:
        return False
    if min(ta, tb) < params["second_person_min_size_ratio"] * big:
        return False
    return abs(float(sa[0] - sb[0])) >= params["second_person_min_gap_tl"] * big


class SecondPersonProbe:
    """A one-person analysis (no role-play set): is a second person in view?

    Every ``every_ms`` of video time, at most ``max_checks`` times, the person the
    analysis follows is painted out and the pose model searches the frame again (one
    IMAGE-mode pass, ~30 ms at 640×480 on 2 cores; the landmarker is built at the first
    check, ~0.2 s). A second person standing apart (:func:`separate_people`) on at least
    ``second_person_min_share`` of the checks, and on two at least, means a role-play that
    was analysed as practice alone: :meth:`notice` says so. The analysis itself is not
    changed: which person is the trainee is a setting, never guessed.
    """

    def __init__(self, make_landmarkers: Callable[[], Landmarkers], params: Mapping[str, float], *,
                 every_ms: float = 2000.0, max_checks: int = 10) -> None:
        self._make = make_landmarkers
        self._lm: Landmarkers | None = None
        self.params = params
        self.every_ms = every_ms
        self.max_checks = max_checks
        self.checks = 0
        self.found = 0
        self.ms = 0.0
        self._next_ms: float | None = None

    def update(self, frame: Frame | None, obs: Observation) -> None:
        """Check ``frame`` when it is time to (``obs``: the analysis's observation of it)."""
        if frame is None or obs.pose is None or self.checks >= self.max_checks or self.decided:
            return
        t = float(obs.timestamp_ms)
        if self._next_ms is not None and t < self._next_ms:
            return
        self._next_ms = t + self.every_ms
        t0 = time.perf_counter()
        if self._lm is None:
            self._lm = self._make()
        det = TwoPersonDetector(self._lm, strategy="mask", max_persons=2)
        res = det.find(frame, first=obs.pose)
        self.checks += 1
        if len(res.persons) >= 2 and separate_people(res.persons[0], res.persons[1], frame.size, self.params):
            self.found += 1
        self.ms += (time.perf_counter() - t0) * 1000.0

    @property
    def two_people(self) -> bool:
        return self.found >= 2 and self.found >= self.params["second_person_min_share"] * self.checks

    @property
    def decided(self) -> bool:
        """No check left can change the answer: enough found that the rest could not bring
        the share below the bar, or too few checks left to reach it (saves ~40 ms a check)."""
        share = self.params["second_person_min_share"]
        left = self.max_checks - self.checks
        need = max(2.0, share * self.max_checks)
        sure_two = self.found >= need and self.found >= share * self.max_checks
        sure_one = self.found + left < need
        return sure_two or sure_one

    def notice(self) -> dict[str, Any] | None:
        """The report's notice (``code`` keys :data:`posture_coach.errors.NOTICE_TEXTS`), or None."""
        if not self.two_people:
            return None
        return {"code": "two_people_in_view", "checks": self.checks, "found": self.found}

    def close(self) -> None:
        if self._lm is not None:
            self._lm.close()
            self._lm = None
