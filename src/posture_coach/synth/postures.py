"""A posing API: named, parameterised postures turned into anny bone rotations.

A :class:`Posture` holds

* ``local``: rotations (degrees, applied as ``Rz @ Ry @ Rx``) of spine, neck, head and
  clavicle bones in anny's ``local-ref`` convention: world-aligned axes of the rest
  skeleton, about the bone head. ``Rx(+a)`` on a spine bone bows the body above it
  forward by ``a``; ``clavicle.L = Ry(-a)`` raises the left shoulder.
* ``arms`` / ``legs``: per side (``"L"`` = the person's left), a :class:`LimbGoal`, solved
  with analytic two-bone IK so that hands land on the body (hips, opposite arm, chin,
  thighs) whatever the body shape.
* ``states``: the RULES.md detector states this posture asserts (only the sure ones).

:func:`resolve` turns a posture into the (B, 3, 3) rotation array that
:meth:`posture_coach.synth.body.Body.pose` skins.

Axes: metres, Z up, -Y forward, +X the person's left, origin at the pelvis (rest pose).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field, replace
from typing import TYPE_CHECKING, Any, Literal

import numpy as np
import numpy.typing as npt

if TYPE_CHECKING:
    from posture_coach.synth.body import Body

FloatArray = npt.NDArray[np.float64]
SideCode = Literal["L", "R"]
SIDES: tuple[SideCode, SideCode] = ("L", "R")
SIGN = {"L": 1.0, "R": -1.0}  # +X is the person's left


def rot(rx: float = 0.0, ry: float = 0.0, rz: float = 0.0) -> FloatArray:
    """Rotation matrix ``Rz @ Ry @ Rx`` from angles in degrees (right-handed)."""
    a, b, c = np.radians([rx, ry, rz])
    ca, sa, cb, sb, cc, sc = np.cos(a), np.sin(a), np.cos(b), np.sin(b), np.cos(c), np.sin(c)
    mx = np.array([[1, 0, 0], [0, ca, -sa], [0, sa, ca]])
    my = np.array([[cb, 0, sb], [0, 1, 0], [-sb, 0, cb]])
    mz = np.array([[cc, -sc, 0], [sc, cc, 0], [0, 0, 1]])
    out: FloatArray = mz @ my @ mx
    return out


def _unit(v: FloatArray) -> FloatArray:
    n = float(np.linalg.norm(v))
    return v / n if n > 1e-12 else v


# --------------------------------------------------------------------------- anchors
# An anchor maps a body to (reference bone, point in rest coordinates). The point moves
# with the posed reference bone, so "the left side of the waist" follows a bow.
Anchor = Callable[["Body"], tuple[str, FloatArray]]


def _torso_slab(body: Body, z: float, half: float = 0.015) -> FloatArray:
    """Rest vertices of the trunk (spine/pelvis/hip-dominated) within ``z ± half``."""
    names = np.array(body.bone_labels, dtype=object)[body.dominant_bone]
    trunk = np.array([str(n).startswith(("spine", "pelvis", "upperleg01")) for n in names])
    v = body.rest_vertices
    sel = trunk & (np.abs(v[:, 2] - z) < half) & (np.abs(v[:, 0]) < 0.30)
    return v[sel]


def _kp(body: Body, name: str) -> FloatArray:
    return body.rest_keypoints[name].copy()


def hip_z(body: Body) -> float:
    """Rest height of the hip joints (m, pelvis origin)."""
    return float(body.rest_heads[body.bone("upperleg01.L"), 2])


def shoulder_z(body: Body) -> float:
    """Rest height of the shoulder keypoints (m)."""
    return float(_kp(body, "left_shoulder")[2])


def waist_side(side: SideCode, dz: float = 0.10, out: float = 0.01, dy: float = 0.0) -> Anchor:
    """A point on the side of the waist, ``dz`` above the hip joints (the iliac crest)."""

    def f(body: Body) -> tuple[str, FloatArray]:
        z = hip_z(body) + dz
        s = _torso_slab(body, z)
        x = float(np.max(SIGN[side] * s[:, 0])) * SIGN[side]
        on_side = s[np.abs(s[:, 0] - x) < 0.03]
        y = float(np.mean(on_side[:, 1])) if len(on_side) else 0.0
        return "root", np.array([x + SIGN[side] * out, y + dy, z])

    return f


def trunk_front(x: float, dz: float, ahead: float = 0.03, ref: str = "root") -> Anchor:
    """A point ``ahead`` m in front of the trunk surface at lateral ``x``, height
    ``hip_z + dz`` (rest)."""

    def f(body: Body) -> tuple[str, FloatArray]:
        z = hip_z(body) + dz
        s = _torso_slab(body, z, 0.02)
        near = s[np.abs(s[:, 0] - x) < 0.04]
        y = float(np.min(near[:, 1])) if len(near) else -0.12
        return ref, np.array([x, y - ahead, z])

    return f


def chest_front(x: float, below_shoulder: float, ahead: float = 0.03) -> Anchor:
    """In front of the chest, ``below_shoulder`` m under the shoulder keypoints."""

    def f(body: Body) -> tuple[str, FloatArray]:
        z = shoulder_z(body) - below_shoulder
        s = _torso_slab(body, z, 0.02)
        near = s[np.abs(s[:, 0] - x) < 0.05]
        y = float(np.min(near[:, 1])) if len(near) else -0.12
        return "spine01", np.array([x, y - ahead, z])

    return f


def thigh_top(side: SideCode, frac: float = 0.55, lift: float = 0.02) -> Anchor:
    """On the front of the thigh (its top when sitting), ``frac`` of the way hip→knee."""

    def f(body: Body) -> tuple[str, FloatArray]:
        hip = body.rest_heads[body.bone(f"upperleg01.{side}")]
        knee = body.rest_heads[body.bone(f"lowerleg01.{side}")]
        p = hip + frac * (knee - hip)
        names = np.array(body.bone_labels, dtype=object)[body.dominant_bone]
        leg = np.array([str(n) == f"upperleg02.{side}" for n in names])
        v = body.rest_vertices
        near = v[leg & (np.abs(v[:, 2] - p[2]) < 0.03)]
        y = float(np.min(near[:, 1])) if len(near) else p[1] - 0.08
        return f"upperleg02.{side}", np.array([p[0], y - lift, p[2]])

    return f


def chin(dx: float = 0.0, below: float = 0.075, ahead: float = 0.0) -> Anchor:
    """Under the chin (rest: ``below`` m under the nose keypoint, at the face front)."""

    def f(body: Body) -> tuple[str, FloatArray]:
        nose = _kp(body, "nose")
        return "head", np.array([dx, nose[1] + 0.035 - ahead, nose[2] - below])

    return f


def fixed(point: tuple[float, float, float] | FloatArray, ref: str = "root") -> Anchor:
    """A fixed point in the rest coordinates of bone ``ref`` (e.g. a place in the world
    converted to the body's own frame by the generator)."""
    pt = np.asarray(point, dtype=float)

    def f(body: Body) -> tuple[str, FloatArray]:
        return ref, pt.copy()

    return f


#: Face regions of RULES.md ``gesture.face_touching`` (the coach's ``face_touch_region``).
FACE_REGIONS: tuple[str, ...] = ("scalp", "ear", "eye", "nose", "mouth")


def _head_vertices(body: Body) -> FloatArray:
    names = np.array(body.bone_labels, dtype=object)[body.dominant_bone]
    head = np.array([str(n).startswith(("head", "jaw", "eye", "tongue", "teeth")) for n in names])
    out: FloatArray = body.rest_vertices[head]
    return out


def head_surface(region: str, side: SideCode, gap: float = 0.006) -> Anchor:
    """Rest point ``gap`` m outside the skin at a face region (``FACE_REGIONS``), on the
    ``side`` of the face for the paired ones (eye, ear, scalp), moving with the head:
    nose = the nose tip, mouth = the middle of the lips, eye = in front of the eyelid,
    ear = the ear opening, scalp = the top of the head, front of the crown."""
    if region not in FACE_REGIONS:
        raise ValueError(f"region must be one of {FACE_REGIONS}, got {region!r}")

    def f(body: Body) -> tuple[str, FloatArray]:
        hv = _head_vertices(body)
        kp = body.rest_keypoints
        nose = kp["nose"]
        eye = kp[("left" if side == "L" else "right") + "_eye"]
        ear = kp[("left" if side == "L" else "right") + "_ear"]

        def front(x: float, z: float, r: float = 0.008) -> FloatArray:
            near = hv[(np.abs(hv[:, 0] - x) < r) & (np.abs(hv[:, 2] - z) < r)]
            return np.array([x, float(np.min(near[:, 1])) - gap, z])

        if region == "nose":  # the nostril, just under the nose tip
            p = front(0.0, float(nose[2]) - 0.014)
        elif region == "mouth":
            p = front(0.0, float(nose[2]) - 0.035)
        elif region == "eye":
            p = front(float(eye[0]), float(eye[2]))
        elif region == "ear":  # at the ear opening, just in front of the ear's centre
            y, z = float(ear[1]) - 0.01, float(ear[2]) - 0.005
            near = hv[(np.abs(hv[:, 1] - y) < 0.012) & (np.abs(hv[:, 2] - z) < 0.012)]
            x = float(np.max(SIGN[side] * near[:, 0])) * SIGN[side]
            p = np.array([x + SIGN[side] * 0.002, y, z])
        else:  # scalp: the top of the head, a little to the hand's side and front of the crown
            x, y = 0.25 * float(ear[0]), float(ear[1]) - 0.045
            near = hv[(np.abs(hv[:, 0] - x) < 0.012) & (np.abs(hv[:, 1] - y) < 0.012)]
            p = np.array([x, y, float(np.max(near[:, 2])) + gap])
        return "head", p

    return f


# --------------------------------------------------------------------------- limbs
@dataclass(frozen=True)
class LimbGoal:
    """Where a limb goes.

    Either ``target`` (an anchor for the wrist/ankle, with ``offset`` in metres added
    in the reference bone's rest axes) or ``upper``/``lower`` directions (in the frame of
    ``ref``, rest axes). ``pole`` says where the elbow/knee points (rest axes of ``ref``).
    ``end_rot`` is an extra rotation (deg, local-ref) of the hand/foot after the limb.
    """

    target: Anchor | None = None
    offset: tuple[float, float, float] = (0.0, 0.0, 0.0)
    upper: tuple[float, float, float] | None = None
    lower: tuple[float, float, float] | None = None
    ref: str = "root"
    pole: tuple[float, float, float] = (0.0, 1.0, 0.0)
    end_rot: tuple[float, float, float] = (0.0, 0.0, 0.0)
    hand_dir: tuple[float, float, float] | None = None  # wrist→fingers, ref rest axes
    curl_deg: float = 20.0  # finger flexion per joint (arms only)
    finger_curls: tuple[float, float, float, float] | None = None  # index..pinky, deg
    hand_roll_deg: float = 0.0  # twist of the hand about its own direction (palm up/down)
    # legs: put the knee's bend plane through ``pole`` even for a (nearly) straight leg.
    # False (the original solve, kept so the committed clips regenerate identically)
    # takes the plane from the tiny bend itself, which for straight standing legs turns
    # the feet ~50° outward.
    knee_from_pole: bool = False
    # arms: ``target`` is where the index fingertip goes (not the wrist); the wrist goal
    # is corrected iteratively (:func:`resolve`). Used for hand-at-face touches.
    tip: bool = False


def axis_angle(axis: FloatArray, deg: float) -> FloatArray:
    """Rotation matrix about ``axis`` by ``deg`` degrees (Rodrigues)."""
    k = _unit(np.asarray(axis, dtype=float))
    a = np.radians(deg)
    kx = np.array([[0, -k[2], k[1]], [k[2], 0, -k[0]], [-k[1], k[0], 0]])
    out: FloatArray = np.eye(3) + np.sin(a) * kx + (1 - np.cos(a)) * kx @ kx
    return out


def min_rotation(a: FloatArray, b: FloatArray) -> FloatArray:
    """Smallest rotation taking direction ``a`` to direction ``b``."""
    a, b = _unit(a), _unit(b)
    c = np.cross(a, b)
    s = float(np.linalg.norm(c))
    if s < 1e-9:
        return np.eye(3)
    return axis_angle(c, float(np.degrees(np.arctan2(s, float(a @ b)))))


def relaxed_arm(side: SideCode, out: float = 0.12, bend: float = 0.18) -> LimbGoal:
    """Arm hanging at the side, elbow slightly bent (directions in root axes)."""
    s = SIGN[side]
    return LimbGoal(
        upper=(s * out, 0.03, -1.0),
        lower=(s * out * 0.5, -bend, -1.0),
        pole=(s * 0.3, 1.0, 0.0),
    )


def standing_leg(side: SideCode, out: float = 0.04, planted: bool = False) -> LimbGoal:
    """Straight leg, feet about hip width apart. ``planted``: knee plane from the pole
    (feet point forward; see :attr:`LimbGoal.knee_from_pole`)."""
    s = SIGN[side]
    return LimbGoal(upper=(s * out, 0.0, -1.0), lower=(s * 0.01, 0.02, -1.0), pole=(0, -1, 0), knee_from_pole=planted)


def sitting_leg(side: SideCode, spread: float = 0.10, shin_back: float = 0.08) -> LimbGoal:
    """Thigh horizontal and forward, shin down to the floor."""
    s = SIGN[side]
    return LimbGoal(
        upper=(s * spread, -1.0, -0.04),
        lower=(s * 0.02, shin_back, -1.0),
        pole=(0, -1, 0.3),
        end_rot=(-8.0, 0.0, 0.0),
    )


_LIMB_BONES = {
    "arm": ("upperarm01", "upperarm02", "lowerarm01", "lowerarm02", "wrist"),
    "leg": ("upperleg01", "upperleg02", "lowerleg01", "lowerleg02", "foot"),
}


# --------------------------------------------------------------------------- posture
@dataclass(frozen=True)
class Posture:
    """A named posture: bone rotations plus the label states it asserts."""

    name: str
    local: dict[str, tuple[float, float, float]] = field(default_factory=dict)
    arms: dict[SideCode, LimbGoal] = field(default_factory=dict)
    legs: dict[SideCode, LimbGoal] = field(default_factory=dict)
    sitting: bool = False
    states: dict[str, Any] = field(default_factory=dict)
    params: dict[str, Any] = field(default_factory=dict)
    facial: dict[str, float] = field(default_factory=dict)

    def with_local(self, **bones: tuple[float, float, float]) -> Posture:
        """A copy with extra local rotations, composed after the existing ones."""
        loc = dict(self.local)
        for k, v in bones.items():
            key = k.replace("_L", ".L").replace("_R", ".R")
            old = loc.get(key, (0.0, 0.0, 0.0))
            loc[key] = (old[0] + v[0], old[1] + v[1], old[2] + v[2])
        return replace(self, local=loc)


class Rig:
    """Numpy forward kinematics over anny's rest skeleton (local-ref rotations)."""

    def __init__(self, body: Body) -> None:
        self.body = body
        self.parents = body.bone_parents
        self.heads = body.rest_heads
        if not all(int(p) < i for i, p in enumerate(self.parents) if i > 0):
            raise RuntimeError("anny bones are not in parent-first order")

    def fk(self, d: FloatArray) -> tuple[FloatArray, FloatArray]:
        """World rotations G (B,3,3) and posed heads (B,3) for local deltas ``d``."""
        n = len(self.parents)
        g = np.empty((n, 3, 3))
        h = np.empty((n, 3))
        g[0] = d[0]
        h[0] = self.heads[0]
        for c in range(1, n):
            p = int(self.parents[c])
            g[c] = g[p] @ d[c]
            h[c] = h[p] + g[p] @ (self.heads[c] - self.heads[p])
        return g, h


def _frame(a: FloatArray, n: FloatArray) -> FloatArray:
    """Orthonormal frame with columns (a, n ⟂ a, a × n)."""
    a = _unit(a)
    n = _unit(n - a * float(n @ a))
    return np.stack([a, n, np.cross(a, n)], axis=1)


def _solve_limb(
    body: Body,
    d: FloatArray,
    rig: Rig,
    kind: str,
    side: SideCode,
    goal: LimbGoal,
) -> None:
    """Two-bone IK for one limb; writes the limb's local rotations into ``d``."""
    b0, b1, b2, b3, b4 = (body.bone(f"{n}.{side}") for n in _LIMB_BONES[kind])
    g, h = rig.fk(d)
    s_rest, e_rest, t_rest = body.rest_heads[b0], body.rest_heads[b2], body.rest_heads[b4]
    l1 = float(np.linalg.norm(e_rest - s_rest))
    l2 = float(np.linalg.norm(t_rest - e_rest))
    ref = body.bone(goal.ref)
    g_ref = g[ref]
    pole = _unit(g_ref @ np.asarray(goal.pole, dtype=float))
    s = h[b0]
    if goal.target is not None:
        ref_name, p_rest = goal.target(body)
        r = body.bone(ref_name)
        p_rest = p_rest + np.asarray(goal.offset)
        t = h[r] + g[r] @ (p_rest - body.rest_heads[r])
        dist = float(np.linalg.norm(t - s))
        dist = min(max(dist, abs(l1 - l2) + 1e-3), l1 + l2 - 1e-4)
        u = _unit(t - s)
        t = s + u * dist
        a = (l1 * l1 - l2 * l2 + dist * dist) / (2 * dist)
        hh = float(np.sqrt(max(l1 * l1 - a * a, 0.0)))
        v = _unit(pole - u * float(pole @ u))
        e = s + a * u + hh * v
    else:
        assert goal.upper is not None and goal.lower is not None
        e = s + l1 * _unit(g_ref @ np.asarray(goal.upper, dtype=float))
        t = e + l2 * _unit(g_ref @ np.asarray(goal.lower, dtype=float))

    # rest bend-plane normal: from the rest elbow bend (arms) or the forward knee (legs)
    a0, f0 = e_rest - s_rest, t_rest - e_rest
    if kind == "arm":
        n0 = _unit(np.cross(a0, f0))
    else:
        u0 = _unit(t_rest - s_rest)
        vf = np.array([0.0, -1.0, 0.0])
        n0 = _unit(np.cross(_unit(vf - u0 * float(vf @ u0)), u0))
    a1, f1 = e - s, t - e
    c = np.cross(a1, f1)
    bent = np.linalg.norm(c) > 1e-3 * np.linalg.norm(a1) * np.linalg.norm(f1)
    if bent and not (kind == "leg" and goal.knee_from_pole):
        n1 = _unit(c)
    else:
        u1 = _unit(t - s)
        n1 = _unit(np.cross(_unit(pole - u1 * float(pole @ u1)), u1))
    g_up = _frame(a1, n1) @ _frame(a0, n0).T
    g_lo = _frame(f1, n1) @ _frame(f0, n0).T
    g_parent = g[int(body.bone_parents[b0])]
    d[b0] = g_parent.T @ g_up
    d[b1] = np.eye(3)
    d[b2] = g_up.T @ g_lo
    d[b3] = np.eye(3)
    d[b4] = rot(*goal.end_rot)
    if kind == "arm":
        heads = body.rest_heads
        wrist = heads[b4]
        h0 = heads[body.bone(f"finger3-1.{side}")] - wrist  # rest hand direction
        if goal.hand_dir is not None:
            want = g_ref @ np.asarray(goal.hand_dir, dtype=float)
            cur = g_lo @ h0
            roll = axis_angle(want, SIGN[side] * goal.hand_roll_deg)
            d[b4] = g_lo.T @ roll @ min_rotation(cur, want) @ g_lo
        # finger flexion about the rest across-palm axis (index base minus pinky base)
        across = heads[body.bone(f"finger2-1.{side}")] - heads[body.bone(f"finger5-1.{side}")]
        curls = goal.finger_curls or (goal.curl_deg,) * 4
        for f, curl in zip(range(2, 6), curls, strict=True):
            flex = axis_angle(across * SIGN[side], curl)
            for j in (1, 2, 3):
                d[body.bone(f"finger{f}-{j}.{side}")] = flex


def resolve(body: Body, posture: Posture) -> FloatArray:
    """Local-ref rotations (B, 3, 3) for a posture on a body."""
    nb = len(body.bone_labels)
    d = np.tile(np.eye(3), (nb, 1, 1))
    trim = body.lean_trim_deg
    local = dict(posture.local)
    sp = local.get("spine05", (0.0, 0.0, 0.0))
    local["spine05"] = (sp[0] + trim, sp[1], sp[2])
    for bone, angles in local.items():
        d[body.bone(bone)] = rot(*angles)
    rig = Rig(body)
    legs = posture.legs or {s: standing_leg(s) for s in SIDES}
    for side, goal in legs.items():
        _solve_limb(body, d, rig, "leg", side, goal)
    arms = posture.arms or {s: relaxed_arm(s) for s in SIDES}
    for side in SIDES:
        goal = arms.get(side, relaxed_arm(side))
        _solve_limb(body, d, rig, "arm", side, goal)
        if goal.tip and goal.target is not None:
            _fingertip_to_target(body, d, rig, side, goal)
    return d


def index_tip_vertex(body: Body, side: SideCode) -> int:
    """Rest-vertex index of the index fingertip (the finger2-3 vertex farthest from its head)."""
    b = body.bone(f"finger2-3.{side}")
    idx = np.flatnonzero(body.dominant_bone == b)
    dist = np.linalg.norm(body.rest_vertices[idx] - body.rest_heads[b], axis=1)
    return int(idx[int(np.argmax(dist))])


def _fingertip_to_target(body: Body, d: FloatArray, rig: Rig, side: SideCode, goal: LimbGoal) -> None:
    """Move the wrist goal until the index fingertip (not the wrist) reaches the target."""
    assert goal.target is not None
    ref_name, p_rest = goal.target(body)
    r = body.bone(ref_name)
    b = body.bone(f"finger2-3.{side}")
    tip_rest = body.rest_vertices[index_tip_vertex(body, side)] - body.rest_heads[b]
    g, h = rig.fk(d)
    want = h[r] + g[r] @ (p_rest + np.asarray(goal.offset) - body.rest_heads[r])
    off = np.asarray(goal.offset, dtype=float)
    for _ in range(6):
        g, h = rig.fk(d)
        err = want - (h[b] + g[b] @ tip_rest)
        if float(np.linalg.norm(err)) < 5e-4:
            break
        off = off + g[r].T @ err
        _solve_limb(body, d, rig, "arm", side, replace(goal, offset=(float(off[0]), float(off[1]), float(off[2]))))


# --------------------------------------------------------------------------- catalogue
_ARMS_FREE = {
    "arms_crossed": False,
    "hands_on_hips": "none",
    "hands_in_pockets": False,
    "hands_front": False,
    "chin_on_hand": False,
}


def _states(**over: Any) -> dict[str, Any]:
    st: dict[str, Any] = dict(_ARMS_FREE)
    st.update(over)
    return st


def standing_neutral() -> Posture:
    """Upright, arms hanging relaxed."""
    return Posture("standing_neutral", states=_states(hunched=False))


def hands_front() -> Posture:
    """Hands clasped in front of the lower abdomen (the recommended standing pose)."""
    arms: dict[SideCode, LimbGoal] = {
        "L": LimbGoal(target=trunk_front(0.05, 0.10, 0.05), pole=(0.8, 1.0, -0.3),
                      hand_dir=(-1.0, -0.1, -0.5), curl_deg=30),
        "R": LimbGoal(target=trunk_front(-0.04, 0.12, 0.08), pole=(-0.8, 1.0, -0.3),
                      hand_dir=(1.0, -0.1, -0.5), curl_deg=30),
    }  # fmt: skip
    return Posture("hands_front", arms=arms, states=_states(hunched=False, hands_front=True))


def arms_crossed(style: str = "tucked") -> Posture:
    """Both forearms across the chest. ``style``: ``tucked`` (hands under the opposite
    upper arm) or ``hands_on_upper_arms``."""
    if style == "tucked":
        arms: dict[SideCode, LimbGoal] = {
            "L": LimbGoal(
                target=chest_front(-0.08, 0.25, 0.03), pole=(0.5, -0.3, -1.0), hand_dir=(-1.0, 0.9, 0.1), curl_deg=35
            ),
            "R": LimbGoal(
                target=chest_front(0.09, 0.21, 0.09), pole=(-0.5, -0.3, -1.0), hand_dir=(1.0, 0.9, 0.2), curl_deg=35
            ),
        }
    elif style == "hands_on_upper_arms":
        arms = {
            "L": LimbGoal(
                target=chest_front(-0.12, 0.18, 0.04), pole=(0.4, -0.3, -1.0), hand_dir=(-0.6, 0.5, 0.7), curl_deg=35
            ),
            "R": LimbGoal(
                target=chest_front(0.12, 0.15, 0.09), pole=(-0.4, -0.3, -1.0), hand_dir=(0.6, 0.5, 0.7), curl_deg=35
            ),
        }
    else:
        raise ValueError(f"unknown arms_crossed style {style!r}")
    return Posture(
        "arms_crossed", arms=arms, states=_states(hunched=False, arms_crossed=True),
        params={"style": style},
    )  # fmt: skip


def hands_on_hips(side: str = "both") -> Posture:
    """Hand(s) on the waist, elbows flared. ``side``: left/right/both (the person's)."""
    if side not in ("left", "right", "both"):
        raise ValueError(f"side must be left/right/both, got {side!r}")
    arms: dict[SideCode, LimbGoal] = {}
    for code in SIDES:
        name = "left" if code == "L" else "right"
        if side in (name, "both"):
            s = SIGN[code]
            arms[code] = LimbGoal(
                target=waist_side(code, dz=0.11, out=0.03, dy=0.03),
                pole=(s * 1.0, 0.35, 0.1),
                end_rot=(0.0, 0.0, 0.0),
            )
    return Posture(
        f"hands_on_hips_{side}", arms=arms,
        states=_states(hunched=False, hands_on_hips=side), params={"side": side},
    )  # fmt: skip


def hands_in_pockets() -> Posture:
    """Both hands in the front trouser pockets (hands buried in the hip surface)."""
    arms: dict[SideCode, LimbGoal] = {
        c: LimbGoal(
            target=trunk_front(SIGN[c] * 0.15, -0.01, -0.04),
            pole=(SIGN[c], 1.0, 0.0),
            hand_dir=(SIGN[c] * 0.1, 0.7, -1.0),
            curl_deg=30,
        )
        for c in SIDES
    }
    return Posture("hands_in_pockets", arms=arms, states=_states(hunched=False, hands_in_pockets=True))


def hunched(deg: float = 25.0) -> Posture:
    """Rounded upper back and forward head: ``deg`` of total thoracic flexion."""
    k = deg / 3.0
    local = {
        "spine03": (k * 0.8, 0.0, 0.0),
        "spine02": (k * 1.1, 0.0, 0.0),
        "spine01": (k * 1.1, 0.0, 0.0),
        "neck01": (deg * 0.35, 0.0, 0.0),
        "head": (-deg * 0.6, 0.0, 0.0),
        "clavicle.L": (0.0, 0.0, -deg * 0.4),
        "clavicle.R": (0.0, 0.0, deg * 0.4),
    }
    # "hunched" is asserted by the label writer only once the measured incline is >= 10°
    return Posture("hunched", local=local, states=_states(_hunched_candidate=True), params={"deg": deg})


def torso_lean(deg: float = 15.0) -> Posture:
    """Straight-backed lean from the hips (forward positive, degrees)."""
    return Posture("torso_lean", local={"spine05": (deg, 0.0, 0.0), "head": (-deg * 0.3, 0, 0)},
                   states=_states(), params={"deg": deg})  # fmt: skip


def shoulder_raise(side: str = "left", deg: float = 12.0) -> Posture:
    """One shoulder raised by ``deg`` at the clavicle (plus a small trunk side-bend)."""
    code = "L" if side == "left" else "R"
    s = SIGN[code]
    local = {
        f"clavicle.{code}": (0.0, -s * deg, 0.0),
        "spine03": (0.0, -s * deg * 0.25, 0.0),
        "spine01": (0.0, -s * deg * 0.25, 0.0),
        "neck01": (0.0, s * deg * 0.4, 0.0),
    }
    return Posture(f"shoulder_raise_{side}", local=local, states=_states(hunched=False),
                   params={"side": side, "deg": deg})  # fmt: skip


def _sit_arms() -> dict[SideCode, LimbGoal]:
    return {
        c: LimbGoal(target=thigh_top(c, 0.55, 0.03), pole=(SIGN[c] * 0.6, 1.0, 0.0),
                    hand_dir=(0.0, -1.0, -0.35), curl_deg=15)
        for c in SIDES
    }  # fmt: skip


def _sit_legs() -> dict[SideCode, LimbGoal]:
    return {c: sitting_leg(c) for c in SIDES}


def sitting_upright() -> Posture:
    """Sitting upright, hands on the thighs, feet on the floor."""
    return Posture("sitting_upright", arms=_sit_arms(), legs=_sit_legs(), sitting=True,
                   states=_states(sitting_lean="upright", legs_crossed=False))  # fmt: skip


def sitting_forward(deg: float = 12.0) -> Posture:
    """Sitting with a slight forward lean toward the customer (recommended)."""
    return Posture("sitting_slight_forward", local={"spine05": (deg, 0, 0), "head": (-deg * .5, 0, 0)},
                   arms=_sit_arms(), legs=_sit_legs(), sitting=True,
                   states=_states(sitting_lean="slight_forward", legs_crossed=False),
                   params={"deg": deg})  # fmt: skip


def sitting_leaning_back(deg: float = 20.0) -> Posture:
    """Sitting with the upper body reclined ``deg`` behind vertical."""
    return Posture(
        "sitting_leaning_back",
        local={"spine05": (-deg, 0.0, 0.0), "neck01": (deg * 0.5, 0, 0), "head": (deg * 0.3, 0, 0)},
        arms=_sit_arms(), legs=_sit_legs(), sitting=True,
        states=_states(sitting_lean="leaning_back", legs_crossed=False), params={"deg": deg},
    )  # fmt: skip


def sitting_slumped() -> Posture:
    """Slouched: pelvis rolled back, rounded back, head forward."""
    local = {
        "spine05": (-26.0, 0.0, 0.0),
        "spine03": (7.0, 0.0, 0.0),
        "spine02": (8.0, 0.0, 0.0),
        "spine01": (7.0, 0.0, 0.0),
        "neck01": (14.0, 0.0, 0.0),
        "head": (-6.0, 0.0, 0.0),
        "clavicle.L": (0.0, 0.0, -8.0),
        "clavicle.R": (0.0, 0.0, 8.0),
    }
    legs = {c: sitting_leg(c, spread=0.16, shin_back=-0.25) for c in SIDES}
    return Posture("sitting_slumped", local=local, arms=_sit_arms(), legs=legs, sitting=True,
                   states=_states(sitting_lean="slumped", legs_crossed=False))  # fmt: skip


def legs_crossed(over: str = "right") -> Posture:
    """Sitting upright, one knee over the other (``over``: the leg on top)."""
    top: SideCode = "R" if over == "right" else "L"
    under: SideCode = "L" if top == "R" else "R"
    s = SIGN[top]
    legs: dict[SideCode, LimbGoal] = {
        under: sitting_leg(under, spread=0.05),
        top: LimbGoal(upper=(-s * 0.30, -1.0, 0.30), lower=(-s * 0.18, 0.25, -1.0),
                      pole=(0, -1, 0.3), end_rot=(-20.0, 0.0, 0.0)),
    }  # fmt: skip
    return Posture(f"legs_crossed_{over}", arms=_sit_arms(), legs=legs, sitting=True,
                   states=_states(sitting_lean="upright", legs_crossed=True),
                   params={"over": over})  # fmt: skip


def chin_on_hand(side: str = "right") -> Posture:
    """Sitting, leaning forward a little, chin resting on one hand, elbow below it."""
    code: SideCode = "R" if side == "right" else "L"
    other: SideCode = "L" if code == "R" else "R"
    s = SIGN[code]
    arms: dict[SideCode, LimbGoal] = {
        code: LimbGoal(target=chin(dx=0.0, below=0.175, ahead=0.02), pole=(s * 0.25, -0.2, -1.0),
                       hand_dir=(0.0, 0.15, 1.0), curl_deg=80),
        other: _sit_arms()[other],
    }  # fmt: skip
    return Posture(
        f"chin_on_hand_{side}", local={"spine05": (14.0, 0, 0), "neck01": (6, 0, 0), "head": (-14, 0, 0)},
        arms=arms, legs=_sit_legs(), sitting=True,
        states=_states(chin_on_hand=True, legs_crossed=False), params={"side": side},
    )  # fmt: skip


def handshake(lean_deg: float = 10.0, dz: float = 0.30, reach: float = 0.30, x: float = -0.06) -> Posture:
    """Right hand extended at waist-chest height toward the other person (the camera),
    upper body leaning forward ``lean_deg`` from the hips. ``dz`` (hand height above the
    hip joints, rest), ``reach`` (ahead of the trunk) and ``x`` (lateral) let a role-play
    bring two people's right hands together."""
    arms: dict[SideCode, LimbGoal] = {
        "R": LimbGoal(target=trunk_front(x, dz, reach), pole=(-0.6, 0.6, -1.0),
                      hand_dir=(0.1, -1.0, 0.05), curl_deg=20, hand_roll_deg=-60.0),
    }  # fmt: skip
    params: dict[str, Any] = {"lean_deg": lean_deg, "hand": "right"}
    if (dz, reach, x) != (0.30, 0.30, -0.06):  # only role-plays: older sidecars stay identical
        params.update(dz=round(dz, 4), reach=round(reach, 4), x=round(x, 4))
    return Posture(
        "handshake",
        local={"spine05": (lean_deg, 0.0, 0.0), "head": (-lean_deg * 0.5, 0.0, 0.0)},
        arms=arms,
        states=_states(),
        params=params,
    )


def card_handover(hands: int = 2) -> Posture:
    """Holding a business card out at chest height toward the receiver (the camera),
    with both hands (``hands=2``, recommended) or only the right one (``hands=1``)."""
    arms: dict[SideCode, LimbGoal] = {
        "R": LimbGoal(target=chest_front(-0.10 if hands == 2 else -0.03, 0.24, 0.24),
                      pole=(-0.8, 0.5, -1.0), hand_dir=(0.6, -1.0, 0.25), curl_deg=30,
                      finger_curls=(25.0, 55.0, 65.0, 70.0)),
    }  # fmt: skip
    if hands == 2:
        arms["L"] = LimbGoal(target=chest_front(0.10, 0.24, 0.24), pole=(0.8, 0.5, -1.0),
                             hand_dir=(-0.6, -1.0, 0.25), curl_deg=30,
                             finger_curls=(25.0, 55.0, 65.0, 70.0))  # fmt: skip
    return Posture(
        f"card_handover_{hands}h",
        local={"spine05": (6.0, 0.0, 0.0)},
        arms=arms,
        states=_states(),
        params={"hands": hands, "prop": "card"},
    )


def indicate(pointing: bool = False) -> Posture:
    """Showing a direction to the person's right with the right hand: ``pointing=True``
    = index finger extended, others curled (a fail); False = open palm up, fingers
    together (the recommended gesture)."""
    curls = (0.0, 85.0, 90.0, 90.0) if pointing else (3.0, 3.0, 3.0, 3.0)
    arms: dict[SideCode, LimbGoal] = {
        "R": LimbGoal(target=chest_front(-0.45, 0.28, 0.30), pole=(-0.3, 0.6, -1.0),
                      hand_dir=(-1.0, -0.6, 0.0), finger_curls=curls,
                      hand_roll_deg=0.0 if pointing else 80.0),
    }  # fmt: skip
    return Posture(
        "pointing" if pointing else "open_palm",
        arms=arms,
        states=_states(hunched=False, pointing_finger=pointing),
        params={"pointing_finger": pointing},
    )


def walking(phase: float = 0.0, amp_deg: float = 14.0) -> Posture:
    """One instant of a walk toward the person's front (-Y): thighs swing ``amp_deg``
    (left = ``amp·sin(phase)``, + forward), the swinging leg's knee bends, arms swing
    opposite to the legs. The generator advances ``phase`` per frame (``Segment.gait_hz``)
    and moves the body along (``Segment.travel_m``); feet slide a little (no foot lock)."""
    legs: dict[SideCode, LimbGoal] = {}
    arms: dict[SideCode, LimbGoal] = {}
    for c in SIDES:
        s = SIGN[c]
        ph = phase if c == "L" else phase + np.pi
        th = np.radians(amp_deg) * np.sin(ph)
        bend = np.radians(4.0 + 38.0 * max(0.0, float(np.cos(ph))))  # swing leg bends
        legs[c] = LimbGoal(
            upper=(s * 0.03, -np.sin(th), -np.cos(th)),
            lower=(s * 0.01, -np.sin(th - bend), -np.cos(th - bend)),
            pole=(0, -1, 0),
            end_rot=(float(np.degrees(bend)) * 0.3, 0.0, 0.0),
            knee_from_pole=True,
        )
        al = -0.9 * th  # the arm swings against the same-side leg
        arms[c] = LimbGoal(upper=(s * 0.12, -np.sin(al), -np.cos(al)),
                           lower=(s * 0.06, -np.sin(al + 0.25), -np.cos(al + 0.25)),
                           pole=(s * 0.3, 1.0, 0.0))  # fmt: skip
    return Posture("walking", arms=arms, legs=legs, states=_states(hunched=False),
                   params={"amp_deg": amp_deg})  # fmt: skip


def stance(style: str = "parallel", spread: float = 0.04, toe_out_deg: float = 6.0) -> Posture:
    """Standing, hands clasped in front, with a chosen foot placement (RULES.md
    ``standing.stance``). ``style``: ``parallel`` (legs spread by ``spread``, the x
    component of the leg direction: 0.04 ≈ hip width, 0.30 ≈ 1.3 shoulder widths), ``v``
    (heels together, toes out ``toe_out_deg`` each side) or ``t`` (丁字步: the right
    heel at the left instep, right foot turned out ~70°). The label writer measures
    ``stance_width_ratio`` and ``feet_angle_deg`` from the posed skeleton."""
    legs: dict[SideCode, LimbGoal]
    if style == "parallel":
        legs = {c: LimbGoal(upper=(SIGN[c] * spread, 0.0, -1.0), lower=(SIGN[c] * spread * 0.3, 0.02, -1.0),
                            pole=(0, -1, 0), end_rot=(0.0, 0.0, SIGN[c] * toe_out_deg), knee_from_pole=True)
                for c in SIDES}  # fmt: skip
    elif style == "v":
        legs = {c: LimbGoal(upper=(-SIGN[c] * 0.085, 0.0, -1.0), lower=(-SIGN[c] * 0.03, 0.02, -1.0),
                            pole=(0, -1, 0), end_rot=(0.0, 0.0, SIGN[c] * toe_out_deg), knee_from_pole=True)
                for c in SIDES}  # fmt: skip
    elif style == "t":
        legs = {
            "L": LimbGoal(upper=(-0.02, 0.0, -1.0), lower=(0.0, 0.02, -1.0), pole=(0, -1, 0),
                          end_rot=(0.0, 0.0, 15.0), knee_from_pole=True),
            "R": LimbGoal(upper=(0.09, -0.09, -1.0), lower=(0.04, -0.04, -1.0), pole=(0, -1, 0),
                          end_rot=(0.0, 0.0, -toe_out_deg), knee_from_pole=True),
        }  # fmt: skip
    else:
        raise ValueError(f"stance style must be parallel/v/t, got {style!r}")
    base = hands_front()
    return Posture(f"stance_{style}", arms=base.arms, legs=legs,
                   states=_states(hunched=False, hands_front=True),
                   params={"style": style, "spread": spread, "toe_out_deg": toe_out_deg, "stance": True})  # fmt: skip


def hands_in_lap() -> Posture:
    """Sitting upright, both hands together on the lap near the midline (the place where
    fidgeting happens; the motion itself is a :class:`~posture_coach.synth.scenario.Osc`)."""
    arms: dict[SideCode, LimbGoal] = {
        c: LimbGoal(target=thigh_top(c, 0.62, 0.04), offset=(-SIGN[c] * 0.075, 0.0, 0.0),
                    pole=(SIGN[c] * 0.7, 1.0, 0.0), hand_dir=(-SIGN[c] * 0.8, -1.0, -0.3),
                    curl_deg=35)
        for c in SIDES
    }  # fmt: skip
    return Posture("hands_in_lap", arms=arms, legs=_sit_legs(), sitting=True,
                   states=_states(sitting_lean="upright", legs_crossed=False))  # fmt: skip


def face_touch(region: str = "nose", side: str = "right", sitting: bool = True, roll: float | None = None) -> Posture:
    """One hand's index fingertip at a face region (RULES.md ``gesture.face_touching``):
    ``nose`` (picking), ``mouth`` (biting a nail / picking teeth), ``eye`` (rubbing),
    ``ear`` (picking) or ``scalp`` (scratching the head); the other fingers curled, the
    other arm resting (on the thigh when ``sitting``, else hanging). Asserts
    ``face_touch_region``; the generator keeps it only while the posed fingertip is
    within 3 cm of the region (see ``scenario._face_touch_labels``)."""
    code: SideCode = "R" if side == "right" else "L"
    other: SideCode = "L" if code == "R" else "R"
    s = SIGN[code]
    # (hand direction, elbow pole) in root axes: the hand comes up from below and outside
    dirs = {
        "nose": ((-s * 0.3, 0.8, 0.7), (s * 0.4, -0.4, -1.0)),
        "mouth": ((-s * 0.5, 0.45, 0.7), (s * 0.4, -0.5, -1.0)),
        "eye": ((-s * 0.3, 0.4, 1.0), (s * 0.5, -0.3, -1.0)),
        "ear": ((-s * 0.15, 0.3, 1.0), (s * 1.0, -0.2, -0.6)),
        "scalp": ((-s * 0.8, 0.15, 0.45), (s * 1.0, 0.1, 0.3)),
    }
    if region not in dirs:
        raise ValueError(f"region must be one of {FACE_REGIONS}, got {region!r}")
    hand_dir, pole = dirs[region]
    rolls = {"nose": 90.0, "mouth": 90.0, "eye": 90.0, "ear": 90.0, "scalp": 90.0}  # palm toward the face
    arms: dict[SideCode, LimbGoal] = {
        code: LimbGoal(target=head_surface(region, code), pole=pole, hand_dir=hand_dir,
                       finger_curls=(2.0, 75.0, 85.0, 85.0), tip=True,
                       hand_roll_deg=rolls[region] if roll is None else roll),
        other: _sit_arms()[other] if sitting else relaxed_arm(other),
    }  # fmt: skip
    st = _states(face_touch_region=region)
    if sitting:
        st.update(sitting_lean="upright", legs_crossed=False)
    else:
        st["hunched"] = False
    return Posture(f"face_touch_{region}", arms=arms, legs=_sit_legs() if sitting else {}, sitting=sitting,
                   states=st, params={"region": region, "side": side})  # fmt: skip


def receive_card(left: tuple[float, float, float] | None = None,
                 right: tuple[float, float, float] | None = None) -> Posture:
    """The receiver of a card (the customer in a role-play): both hands out at chest
    height, index fingertips at ``left`` / ``right`` (rest root coordinates, set by the
    generator at the card's near edge), else 30 cm in front of the chest."""
    arms: dict[SideCode, LimbGoal] = {}
    for c, pt in (("L", left), ("R", right)):
        s = SIGN[c]
        target = fixed(pt) if pt is not None else chest_front(s * 0.05, 0.26, 0.30)
        arms[c] = LimbGoal(target=target, pole=(s * 0.8, 0.5, -1.0), hand_dir=(-s * 0.5, -1.0, 0.1),
                           finger_curls=(10.0, 40.0, 50.0, 55.0), hand_roll_deg=-50.0, tip=True)
    params: dict[str, Any] = {}
    if left is not None:
        params["left"] = [round(float(x), 4) for x in left]
    if right is not None:
        params["right"] = [round(float(x), 4) for x in right]
    return Posture("receive_card", local={"spine05": (6.0, 0.0, 0.0)}, arms=arms, states=_states(hunched=False),
                   params=params)


#: Name → factory; factories take keyword parameters (see each docstring).
POSTURES: dict[str, Callable[..., Posture]] = {
    "standing_neutral": standing_neutral,
    "hands_front": hands_front,
    "arms_crossed": arms_crossed,
    "hands_on_hips": hands_on_hips,
    "hands_in_pockets": hands_in_pockets,
    "hunched": hunched,
    "torso_lean": torso_lean,
    "shoulder_raise": shoulder_raise,
    "sitting_upright": sitting_upright,
    "sitting_forward": sitting_forward,
    "sitting_leaning_back": sitting_leaning_back,
    "sitting_slumped": sitting_slumped,
    "legs_crossed": legs_crossed,
    "chin_on_hand": chin_on_hand,
    "handshake": handshake,
    "card_handover": card_handover,
    "indicate": indicate,
    "walking": walking,
    "stance": stance,
    "hands_in_lap": hands_in_lap,
    "face_touch": face_touch,
    "receive_card": receive_card,
}


def make_posture(name: str, **params: Any) -> Posture:
    """Build a named posture with parameters (``make_posture("hunched", deg=25)``)."""
    try:
        factory = POSTURES[name]
    except KeyError:
        raise ValueError(f"unknown posture {name!r}; known: {sorted(POSTURES)}") from None
    return factory(**params)
