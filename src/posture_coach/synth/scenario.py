"""Scenarios: a clip is a timeline of held postures joined by smooth transitions.

Between two held postures the per-bone rotations are slerped (smooth-step easing), so
every in-between frame is a valid pose of the same skeleton. Held frames carry the
posture's asserted states; transition frames only the measured geometric ones.

:func:`generate` renders a scenario to ``<out>/<name>.mp4`` plus the
``<name>.labels.jsonl`` sidecar (see :mod:`posture_coach.synth.labels`).
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import numpy.typing as npt

from posture_coach.synth.labels import (
    frame_labels,
    labels_path,
    torso_incline_deg,
    write_labels,
)

FloatArray = npt.NDArray[np.float64]


@dataclass(frozen=True)
class Segment:
    """Hold ``posture`` (a :data:`posture_coach.synth.postures.POSTURES` name with
    ``params``) for ``hold_s`` seconds."""

    posture: str
    hold_s: float
    params: dict[str, Any] = field(default_factory=dict)
    face: dict[str, float] = field(default_factory=dict)  # ARKit blendshapes, 0..1
    head_yaw_deg: float = 0.0  # head turn relative to the torso, + = to the person's left
    osc: tuple[Osc, ...] = ()  # small periodic motions on top of the pose (leg shaking, fidgeting)
    states: dict[str, Any] = field(default_factory=dict)  # extra states asserted while held
    step: str | None = None  # ``scenario_step`` label (drill step id) of these frames
    travel_m: tuple[float, float] = (0.0, 0.0)  # world XY the body moves while held
    gait_hz: float = 0.0  # > 0: a walk (posture ``walking``), gait cycles per second
    head_pitch_deg: float = 0.0  # head pitch relative to the torso, + = chin up (neck 40 %, head 60 %)


@dataclass(frozen=True)
class Osc:
    """A periodic rotation of ``bone`` (and everything below it) about world axes through
    the bone head: ``amp_deg`` (rx, ry, rz) at ``hz``. ``one_sided``: 0..amp (e.g. a knee
    that only bounces up, so the foot never goes through the floor) instead of ±amp."""

    bone: str
    amp_deg: tuple[float, float, float]
    hz: float
    phase: float = 0.0
    one_sided: bool = False

    def angle(self, t: float) -> FloatArray:
        """Rotation angles (deg) at time ``t`` seconds."""
        w = 2 * np.pi * self.hz * t + self.phase
        k = float((1 - np.cos(w)) / 2 if self.one_sided else np.sin(w))
        out: FloatArray = np.asarray(self.amp_deg, dtype=float) * k
        return out


@dataclass(frozen=True)
class Partner:
    """The second person of a role-play (the customer), standing face to face with the
    trainee: one segment per trainee segment with the same ``hold_s`` (the two share
    the timeline). The generator places the partner so that both right hands meet in a
    ``handshake`` segment (else ``gap_m`` pelvis to pelvis) and aims a ``receive_card``
    segment's fingertips at the card the trainee holds out."""

    body: str
    segments: tuple[Segment, ...]
    gap_m: float = 1.0
    palm_gap_m: float = 0.035  # palm-centre offset of the joined right hands (hand thickness)


@dataclass(frozen=True)
class Scenario:
    """A named timeline with a default camera."""

    name: str
    description: str
    segments: tuple[Segment, ...]
    camera: str = "front_full"
    transition_s: float = 0.6
    rules: tuple[str, ...] = ()  # RULES.md ids this clip exercises
    blink_every_s: float = 0.0  # > 0: a 200 ms blink this often (labelled as events)
    shots: tuple[Scenario, ...] = ()  # a multi-shot clip: hard cuts between these
    camera_at: int = 0  # aim the camera at the body as in this segment's first held frame
    room_back_min_m: float = 0.0  # keep the back wall at least this far behind the target
    label_stance: bool = False  # stance states on every held standing (non-walking) frame
    planted_feet: bool = False  # default standing legs with feet forward (LimbGoal.knee_from_pole)
    teeth: bool = False  # render procedural teeth (synth.teeth); labels upper_teeth_visible
    label_gaze: bool = False  # head pitch, head pose to the camera, gaze_on_target, gaze_away events
    partner: Partner | None = None  # a second person (role-play); see :class:`Partner`

    @property
    def duration_s(self) -> float:
        """Natural length in seconds."""
        if self.shots:
            return sum(sh.duration_s for sh in self.shots)
        return sum(s.hold_s for s in self.segments) + self.transition_s * (len(self.segments) - 1)


S = Segment
SMILE = {"mouthSmileLeft": 0.9, "mouthSmileRight": 0.9, "cheekSquintLeft": 0.3,
         "cheekSquintRight": 0.3}  # fmt: skip
YAWN = {"jawOpen": 0.95, "eyeSquintLeft": 0.4, "eyeSquintRight": 0.4, "browInnerUp": 0.3}
#: Open-lip smiles for the teeth rule (三米六齿): the upper lip lifted off the incisors.
SMILE_SIX = {"mouthSmileLeft": 0.5, "mouthSmileRight": 0.5, "cheekSquintLeft": 0.25,
             "cheekSquintRight": 0.25, "mouthUpperUpLeft": 0.45, "mouthUpperUpRight": 0.45,
             "jawOpen": 0.12}  # fmt: skip
SMILE_BROAD = {"mouthSmileLeft": 1.0, "mouthSmileRight": 1.0, "cheekSquintLeft": 0.5,
               "cheekSquintRight": 0.5, "mouthUpperUpLeft": 1.0, "mouthUpperUpRight": 1.0,
               "mouthStretchLeft": 1.0, "mouthStretchRight": 1.0, "mouthLowerDownLeft": 0.6,
               "mouthLowerDownRight": 0.6, "jawOpen": 0.3}  # fmt: skip
STILL: dict[str, Any] = {"leg_shaking": False, "fidgeting": False}
NO_TOUCH: dict[str, Any] = {"face_touch_region": "none"}
#: Right-knee heel bounce: the thigh rotates up to 5° (knee up only, the foot never
#: goes through the floor) at 4 Hz.
LEG_SHAKE = (Osc("upperleg01.R", (-5.0, 0.0, 0.0), 4.0, one_sided=True),)
#: Hands in the lap rubbing/twisting: forearms swing ±10° sideways, ±4° up, 3 Hz, antiphase.
FIDGET = (Osc("lowerarm01.L", (4.0, 0.0, 10.0), 3.0), Osc("lowerarm01.R", (4.0, 0.0, -10.0), 3.0, np.pi))
#: The onboarding drill (src/posture_coach/data/drills/onboarding.toml) without its
#: grooming step: three shots joined by hard cuts (stand → sit → stand).
ONBOARDING_SHOTS = (
    Scenario("onboarding_standing", "approach, smile, bow, handshake, card", (
        S("walking", 2.4, {"amp_deg": 11.0}, gait_hz=0.8, travel_m=(0.0, -1.8), step="approach"),
        S("stance", 2.4, {"style": "v", "toe_out_deg": 30.0}, face=SMILE, step="stand_smile"),
        S("torso_lean", 1.2, {"deg": 15.0}, face=SMILE, step="bow_greet"),
        S("standing_neutral", 0.6, face=SMILE, step="bow_greet"),
        S("handshake", 2.0, {"lean_deg": 10.0}, face=SMILE, step="handshake"),
        S("card_handover", 2.2, {"hands": 2}, step="card_exchange"),
        S("standing_neutral", 0.6, step="card_exchange"),
    ), camera="oblique", camera_at=1, room_back_min_m=3.0, label_stance=True, planted_feet=True),
    Scenario("onboarding_sitting", "sit and talk", (
        S("sitting_upright", 2.5, states=STILL, step="sit_talk"),
        S("sitting_forward", 2.5, {"deg": 10.0}, face=SMILE, states=STILL, step="sit_talk"),
        S("sitting_upright", 1.0, states=STILL, step="sit_talk"),
    ), camera="oblique"),
    Scenario("onboarding_see_off", "stand, open-palm guide, small bow", (
        S("standing_neutral", 0.6, step="see_off"),
        S("indicate", 1.8, {"pointing": False}, face=SMILE, step="see_off"),
        S("torso_lean", 1.0, {"deg": 12.0}, face=SMILE, step="see_off"),
        S("hands_front", 0.8, face=SMILE, step="see_off"),
    ), camera="oblique", label_stance=True, planted_feet=True),
)  # fmt: skip
SCENARIOS: dict[str, Scenario] = {
    s.name: s
    for s in (
        Scenario("neutral_vs_arms_crossed", "standing relaxed, then arms crossed (tucked)",
                 (S("standing_neutral", 1.8), S("arms_crossed", 2.6, {"style": "tucked"}),
                  S("standing_neutral", 1.2)), rules=("standing.arms_crossed",)),
        Scenario("arms_crossed_upper", "arms crossed, hands on the upper arms",
                 (S("standing_neutral", 1.5),
                  S("arms_crossed", 3.0, {"style": "hands_on_upper_arms"})),
                 rules=("standing.arms_crossed",)),
        Scenario("hands_on_hips_both", "both hands on the hips",
                 (S("standing_neutral", 1.5), S("hands_on_hips", 3.0, {"side": "both"}),
                  S("standing_neutral", 1.0)), rules=("standing.hands_on_hips",)),
        Scenario("hands_on_hips_left", "left hand on the hip (subject's left)",
                 (S("standing_neutral", 1.5), S("hands_on_hips", 3.0, {"side": "left"}),
                  S("standing_neutral", 1.0)), rules=("standing.hands_on_hips",)),
        Scenario("hands_on_hips_right", "right hand on the hip (subject's right)",
                 (S("standing_neutral", 1.5), S("hands_on_hips", 3.0, {"side": "right"})),
                 rules=("standing.hands_on_hips",)),
        Scenario("hands_front", "hands clasped in front of the lower abdomen (recommended)",
                 (S("standing_neutral", 1.5), S("hands_front", 3.5)),
                 rules=("standing.hands_front",)),
        Scenario("hands_in_pockets", "hands into the front trouser pockets",
                 (S("standing_neutral", 1.5), S("hands_in_pockets", 3.5)),
                 rules=("standing.hands_in_pockets",)),
        Scenario("hunched_side", "upright, then hunched (30° thoracic flexion), side view",
                 (S("standing_neutral", 1.5), S("hunched", 3.0, {"deg": 30.0}),
                  S("standing_neutral", 1.0)), camera="side", rules=("standing.upright",)),
        Scenario("upright_side", "standing upright, side view (respects standing.upright)",
                 (S("standing_neutral", 2.0), S("hands_front", 3.0)), camera="side",
                 rules=("standing.upright",)),
        Scenario("shoulders_tilted", "left shoulder raised, then right shoulder raised",
                 (S("standing_neutral", 1.2), S("shoulder_raise", 2.0, {"side": "left", "deg": 12.0}),
                  S("standing_neutral", 0.8), S("shoulder_raise", 2.0, {"side": "right", "deg": 9.0})),
                 rules=("standing.shoulders_level",)),
        Scenario("bow_side", "a 15° greeting bow from the hips, side view",
                 (S("standing_neutral", 1.5), S("torso_lean", 1.5, {"deg": 15.0}),
                  S("standing_neutral", 1.5)), camera="side", transition_s=0.8,
                 rules=("greeting.bow", "standing.upright")),
        Scenario("sitting_upright_vs_back", "sitting upright, then leaning back 20°",
                 (S("sitting_upright", 2.0), S("sitting_leaning_back", 2.5, {"deg": 20.0}),
                  S("sitting_upright", 1.0)), camera="oblique_right", rules=("sitting.upright",)),
        Scenario("sitting_forward", "sitting upright, then a slight forward lean (recommended)",
                 (S("sitting_upright", 2.0), S("sitting_forward", 3.0, {"deg": 12.0})),
                 camera="side", rules=("sitting.upright",)),
        Scenario("sitting_slumped", "sitting upright, then slumped",
                 (S("sitting_upright", 2.0), S("sitting_slumped", 3.0)), camera="side",
                 rules=("sitting.upright",)),
        Scenario("legs_crossed", "sitting, then right knee crossed over the left",
                 (S("sitting_upright", 1.8), S("legs_crossed", 3.0, {"over": "right"}),
                  S("sitting_upright", 1.0)), camera="oblique", rules=("sitting.legs_crossed",)),
        Scenario("chin_on_hand", "sitting, then chin resting on the right hand",
                 (S("sitting_upright", 1.5), S("chin_on_hand", 3.5, {"side": "right"})),
                 camera="laptop", rules=("sitting.chin_on_hand",)),
        Scenario("smile_laptop", "laptop framing: neutral face, smile, neutral",
                 (S("sitting_upright", 1.8), S("sitting_upright", 2.5, face=SMILE),
                  S("sitting_upright", 1.2)), camera="laptop", rules=("face.smile",)),
        Scenario("smile_six_teeth", "laptop face framing: neutral, an open-lip smile showing ~6 "
                 "upper teeth, neutral", (S("sitting_upright", 1.2), S("sitting_upright", 2.6, face=SMILE_SIX),
                  S("sitting_upright", 0.6)), camera="laptop_face", teeth=True,
                 rules=("face.smile", "face.smile_teeth")),
        Scenario("smile_broad_teeth", "laptop face framing: neutral, a broad smile showing premolars "
                 "(~8-10 upper teeth), neutral", (S("sitting_upright", 1.2),
                  S("sitting_upright", 2.6, face=SMILE_BROAD), S("sitting_upright", 0.6)),
                 camera="laptop_face", teeth=True, rules=("face.smile", "face.smile_teeth")),
        Scenario("yawn_laptop", "laptop framing: a 2 s yawn (jaw wide open)",
                 (S("sitting_upright", 1.5), S("sitting_upright", 2.0, face=YAWN),
                  S("sitting_upright", 1.2)), camera="laptop", transition_s=0.5,
                 rules=("face.yawn",)),
        Scenario("head_turns_laptop", "laptop framing: head turns 35° left, then right",
                 (S("sitting_upright", 1.2), S("sitting_upright", 1.5, head_yaw_deg=35.0),
                  S("sitting_upright", 1.0), S("sitting_upright", 1.5, head_yaw_deg=-35.0)),
                 camera="laptop", rules=("face.gaze",)),
        Scenario("blinks_laptop", "laptop framing: blinking every 1.2 s (50/min)",
                 (S("sitting_upright", 6.0),), camera="laptop", blink_every_s=1.2,
                 rules=("face.blink_rate",)),
        Scenario("handshake_side", "offering a handshake with a 12° forward lean, side view",
                 (S("standing_neutral", 1.5), S("handshake", 2.5, {"lean_deg": 12.0}),
                  S("standing_neutral", 1.0)), camera="side_right",
                 rules=("handshake.lean", "handshake.duration")),
        Scenario("card_two_hands", "handing over a business card with both hands",
                 (S("standing_neutral", 1.5), S("card_handover", 3.0, {"hands": 2}),
                  S("standing_neutral", 1.0)), camera="front_full",
                 rules=("handover.two_hands",)),
        Scenario("card_one_hand", "handing over a business card with one hand (a fail)",
                 (S("standing_neutral", 1.5), S("card_handover", 3.0, {"hands": 1}),
                  S("standing_neutral", 1.0)), camera="oblique",
                 rules=("handover.two_hands",)),
        Scenario("pointing_vs_open_palm", "showing the way: index finger, then open palm",
                 (S("standing_neutral", 1.0), S("indicate", 2.0, {"pointing": True}),
                  S("standing_neutral", 0.8), S("indicate", 2.0, {"pointing": False})),
                 camera="front_full", rules=("gesture.open_palm",)),
        Scenario("laptop_slump", "laptop framing: sitting upright, then slumped",
                 (S("sitting_upright", 2.0), S("sitting_slumped", 3.0)), camera="laptop",
                 rules=("sitting.upright",)),
        Scenario("leg_shaking", "sitting, then the right knee bounces 4 Hz (heel bounce, ~4 cm)",
                 (S("sitting_upright", 1.5, states=STILL),
                  S("sitting_upright", 4.0, osc=LEG_SHAKE, states={**STILL, "leg_shaking": True}),
                  S("sitting_upright", 1.0, states=STILL)),
                 camera="oblique", rules=("sitting.leg_shaking",)),
        Scenario("fidgeting", "sitting, hands in the lap, then fiddling 3 Hz (hands rub/twist)",
                 (S("hands_in_lap", 1.5, states=STILL),
                  S("hands_in_lap", 4.0, osc=FIDGET, states={**STILL, "fidgeting": True}),
                  S("hands_in_lap", 1.0, states=STILL)),
                 camera="oblique", rules=("sitting.hands_still",)),
        Scenario("stance_men", "feet about hip width, then wide (~1.3 SW, a fail for men), then back",
                 (S("stance", 1.8, {"style": "parallel", "spread": 0.04}),
                  S("stance", 2.5, {"style": "parallel", "spread": 0.24, "toe_out_deg": 10.0}),
                  S("stance", 1.5, {"style": "parallel", "spread": 0.08})),
                 camera="front_full", rules=("standing.stance",)),
        Scenario("stance_women", "V stance (heels together, toes out), then a T-step (丁字步), then feet apart",
                 (S("stance", 2.2, {"style": "v", "toe_out_deg": 32.0}),
                  S("stance", 2.2, {"style": "t", "toe_out_deg": 70.0}),
                  S("stance", 1.5, {"style": "parallel", "spread": 0.20})),
                 camera="oblique", rules=("standing.stance",)),
        Scenario("onboarding", "the onboarding drill: approach, stand and smile, bow, handshake, "
                 "two-handed card, (cut) sit and talk, (cut) see-off with open palm and a bow",
                 (), camera="oblique", shots=ONBOARDING_SHOTS,
                 rules=("face.smile", "standing.upright", "standing.hands_front", "greeting.bow",
                        "handshake.lean", "handshake.duration", "handover.two_hands",
                        "sitting.upright", "sitting.legs_crossed", "sitting.leg_shaking",
                        "gesture.open_palm", "standing.stance")),
        # --- issue 3, remaining: hand at the face, head pitch / gaze, two-person role-plays
        Scenario("face_touching", "laptop framing: the right index fingertip at the nose, ear, eye, mouth "
                 "and scalp, 1.3 s each, hands down in between",
                 (S("sitting_upright", 0.8, states=NO_TOUCH),
                  *(seg for region in ("nose", "ear", "eye", "mouth", "scalp")
                    for seg in (S("face_touch", 1.3, {"region": region}),
                                S("sitting_upright", 0.5 if region != "scalp" else 0.7, states=NO_TOUCH)))),
                 camera="laptop", transition_s=0.45, rules=("gesture.face_touching",)),
        Scenario("head_pitch_laptop", "laptop framing: head pitched 20° down, 15° up, 35° down (phone/desk)",
                 (S("sitting_upright", 1.0), S("sitting_upright", 1.2, head_pitch_deg=-20.0),
                  S("sitting_upright", 0.6), S("sitting_upright", 1.2, head_pitch_deg=15.0),
                  S("sitting_upright", 0.6), S("sitting_upright", 1.2, head_pitch_deg=-35.0),
                  S("sitting_upright", 0.6)),
                 camera="laptop", label_gaze=True, rules=("face.gaze", "face.nod")),
        Scenario("gaze_around_laptop", "laptop framing: looking around (东张西望): quick head turns "
                 "left, right-up, left-down, far right, back to the camera in between",
                 (S("sitting_upright", 1.2), S("sitting_upright", 0.7, head_yaw_deg=40.0),
                  S("sitting_upright", 0.7), S("sitting_upright", 0.7, head_yaw_deg=-35.0, head_pitch_deg=10.0),
                  S("sitting_upright", 0.7), S("sitting_upright", 0.7, head_yaw_deg=25.0, head_pitch_deg=-20.0),
                  S("sitting_upright", 0.7), S("sitting_upright", 0.7, head_yaw_deg=-45.0),
                  S("sitting_upright", 1.0)),
                 camera="laptop", transition_s=0.35, label_gaze=True, rules=("face.gaze",)),
        Scenario("roleplay_handshake_card", "role-play, two people: the trainee shakes the customer's right "
                 "hand leaning 12°, then hands over a card with both hands (customer takes it with both)",
                 (S("standing_neutral", 1.0), S("handshake", 2.2, {"lean_deg": 12.0}),
                  S("standing_neutral", 0.8), S("card_handover", 2.6, {"hands": 2}),
                  S("standing_neutral", 0.8)),
                 camera="side_right", planted_feet=True,
                 partner=Partner("m_slim_asian", (
                     S("standing_neutral", 1.0), S("handshake", 2.2, {"lean_deg": 4.0}),
                     S("standing_neutral", 0.8), S("receive_card", 2.6), S("standing_neutral", 0.8))),
                 rules=("handshake.lean", "handshake.duration", "handover.two_hands", "distance.customer")),
    )
}  # fmt: skip


def camera_pool(sc: Scenario) -> tuple[str, ...]:
    """Camera presets under which a scenario's labels stay meaningful (for random sets)."""
    if sc.camera in ("side", "side_right"):
        return ("side", "side_right", "oblique", "oblique_right")
    if sc.camera == "laptop":
        return ("laptop",)
    if sc.camera.startswith("oblique"):
        return ("oblique", "oblique_right", "side", "front_full")
    return ("front_full", "front_full_right", "oblique", "oblique_right", "front_rolled")


# --------------------------------------------------------------------------- timeline
def _quat(m: FloatArray) -> FloatArray:
    """Rotation matrices (..., 3, 3) → unit quaternions (..., 4) as (w, x, y, z)."""
    w = np.sqrt(np.clip(1 + m[..., 0, 0] + m[..., 1, 1] + m[..., 2, 2], 0, None)) / 2
    x = np.sqrt(np.clip(1 + m[..., 0, 0] - m[..., 1, 1] - m[..., 2, 2], 0, None)) / 2
    y = np.sqrt(np.clip(1 - m[..., 0, 0] + m[..., 1, 1] - m[..., 2, 2], 0, None)) / 2
    z = np.sqrt(np.clip(1 - m[..., 0, 0] - m[..., 1, 1] + m[..., 2, 2], 0, None)) / 2
    x = np.copysign(x, m[..., 2, 1] - m[..., 1, 2])
    y = np.copysign(y, m[..., 0, 2] - m[..., 2, 0])
    z = np.copysign(z, m[..., 1, 0] - m[..., 0, 1])
    q = np.stack([w, x, y, z], axis=-1)
    out: FloatArray = q / np.linalg.norm(q, axis=-1, keepdims=True)
    return out


def _mat(q: FloatArray) -> FloatArray:
    w, x, y, z = (q[..., i] for i in range(4))
    out: FloatArray = np.stack([
        np.stack([1 - 2 * (y * y + z * z), 2 * (x * y - w * z), 2 * (x * z + w * y)], -1),
        np.stack([2 * (x * y + w * z), 1 - 2 * (x * x + z * z), 2 * (y * z - w * x)], -1),
        np.stack([2 * (x * z - w * y), 2 * (y * z + w * x), 1 - 2 * (x * x + y * y)], -1),
    ], axis=-2)  # fmt: skip
    return out


def slerp_rotations(a: FloatArray, b: FloatArray, u: float) -> FloatArray:
    """Per-bone slerp between rotation stacks ``a`` and ``b`` (B, 3, 3) at ``u`` in 0..1."""
    qa, qb = _quat(a), _quat(b)
    dot = np.sum(qa * qb, axis=-1, keepdims=True)
    qb = np.where(dot < 0, -qb, qb)
    dot = np.abs(dot)
    theta = np.arccos(np.clip(dot, -1, 1))
    s = np.sin(theta)
    small = s < 1e-6
    wa = np.where(small, 1 - u, np.sin((1 - u) * theta) / np.where(small, 1, s))
    wb = np.where(small, u, np.sin(u * theta) / np.where(small, 1, s))
    q = wa * qa + wb * qb
    return _mat(q / np.linalg.norm(q, axis=-1, keepdims=True))


def timeline(sc: Scenario, duration_s: float | None, fps: float) -> list[tuple[int, int, float]]:
    """Per frame ``(segment_a, segment_b, u)``: ``a == b`` while holding, else a
    transition from a to b with eased progress ``u``."""
    holds = [s.hold_s for s in sc.segments]
    trans = sc.transition_s
    if duration_s is not None:
        fixed = trans * (len(holds) - 1)
        scale = max(duration_s - fixed, 0.3 * len(holds)) / sum(holds)
        holds = [h * scale for h in holds]
    bounds: list[tuple[float, float, int, int]] = []  # (start, end, a, b)
    t = 0.0
    for i, h in enumerate(holds):
        bounds.append((t, t + h, i, i))
        t += h
        if i + 1 < len(holds):
            bounds.append((t, t + trans, i, i + 1))
            t += trans
    n = max(1, round(t * fps))
    out = []
    for f in range(n):
        tf = f / fps
        for start, end, a, b in bounds:
            if tf < end or (start, end, a, b) == bounds[-1]:
                u = 0.0 if a == b else (tf - start) / (end - start)
                u = u * u * (3 - 2 * u)  # smooth-step easing
                out.append((a, b, float(u)))
                break
    return out


# --------------------------------------------------------------------------- generate
@dataclass
class ClipResult:
    """What :func:`generate` wrote and how long it took."""

    video: Path
    labels: Path
    frames: int
    seconds: float
    ms_per_frame: float
    header: dict[str, Any]


def _chair_rows(body: Any, verts: list[FloatArray], recline_deg: float) -> FloatArray:
    """A chair fitted under the posed, floor-lifted sitting body(ies)."""
    from posture_coach.synth.render import chair

    names = np.array(body.bone_labels, dtype=object)[body.dominant_bone]
    seat_m = np.array([str(n).startswith(("upperleg0", "pelvis", "spine05")) for n in names])
    trunk = np.array([str(n).startswith(("spine", "clavicle", "shoulder01")) for n in names])
    v0 = verts[0]
    knee_y = float(np.min(v0[seat_m, 1]))  # front-most thigh point
    rear = seat_m & (v0[:, 1] > knee_y + 0.22)
    seat_top = float(np.min(v0[rear, 2])) + 0.012  # sink 1 cm into the cushion
    tan_r = np.tan(np.radians(recline_deg))
    back_y = -np.inf
    for v in verts:
        h = v[:, 2] - seat_top
        sel = trunk & (h > 0.05) & (h < 0.55)
        back_y = max(back_y, float(np.max(v[sel, 1] - h[sel] * tan_r)) + 0.012)
        sel2 = seat_m & (h > -0.02) & (h < 0.1)
        back_y = max(back_y, float(np.max(v[sel2, 1])) + 0.005)
    front_y = max(knee_y + 0.08, back_y - 0.48)
    return chair(seat_top, front_y, back_y, recline_deg)


@dataclass
class _Shot:
    """One continuous shot, posed and placed (internal to :func:`generate`)."""

    sc: Scenario
    postures: list[Any]
    plan: list[tuple[int, int, float]]
    verts: FloatArray
    kps: FloatArray
    face: dict[str, FloatArray]
    sitting: bool
    lift: FloatArray | None = None  # (N,) floor lift added to the pelvis-origin pose
    head_fwd: FloatArray | None = None  # (N, 3) world face direction (``label_gaze`` only)


def _seg_times(plan: list[tuple[int, int, float]], fps: float) -> list[float]:
    """Seconds since the start of the current held run (0 in transitions)."""
    out, start = [], 0
    for f, (a, b, _u) in enumerate(plan):
        if a != b:
            out.append(0.0)
            continue
        if f == 0 or plan[f - 1][:2] != (a, a):
            start = f
        out.append((f - start) / fps)
    return out


def _pose_shot(bd: Any, sc: Scenario, duration_s: float | None, fps: float) -> _Shot:
    """Per-frame rotations → skinned vertices and keypoints (floor-lifted, travelled)."""
    from dataclasses import replace

    from posture_coach.synth.postures import SIDES, Rig, make_posture, resolve, rot, standing_leg

    postures = [make_posture(s.posture, **s.params) for s in sc.segments]
    if sc.planted_feet:
        postures = [p if p.sitting or p.legs else replace(p, legs={c: standing_leg(c, planted=True) for c in SIDES})
                    for p in postures]  # fmt: skip
    postures = [
        p.with_local(head=(0.0, 0.0, s.head_yaw_deg)) if s.head_yaw_deg and not s.head_pitch_deg else p
        for p, s in zip(postures, sc.segments, strict=True)
    ]
    postures = [  # chin up = Rx(-a); 40 % in the neck, 60 % in the head
        p.with_local(neck01=(-0.4 * s.head_pitch_deg, 0.0, 0.0), head=(-0.6 * s.head_pitch_deg, 0.0, s.head_yaw_deg))
        if s.head_pitch_deg else p
        for p, s in zip(postures, sc.segments, strict=True)
    ]
    sitting = {p.sitting for p in postures}
    if len(sitting) != 1:
        raise ValueError("a shot must be all standing or all sitting (use Scenario.shots)")
    keyframes = [resolve(bd, p) for p in postures]
    plan = timeline(sc, duration_s, fps)
    tseg = _seg_times(plan, fps)

    last: dict[int, FloatArray] = {}
    rows = []
    for f, (a, b, u) in enumerate(plan):
        if a == b:
            seg = sc.segments[a]
            if seg.gait_hz > 0:  # a walk: a fresh pose each frame
                ph = 2 * np.pi * seg.gait_hz * tseg[f]
                d = resolve(bd, make_posture(seg.posture, **{**seg.params, "phase": ph}))
            else:
                d = keyframes[a]
            last[a] = d
            rows.append(d)
        else:
            rows.append(slerp_rotations(last.get(a, keyframes[a]), keyframes[b], u))
    deltas = np.stack(rows)
    if any(s.osc for s in sc.segments):
        rig = Rig(bd)
        for f, (a, b, u) in enumerate(plan):
            t = f / fps
            for seg, w in ((sc.segments[a], 1 - u if a != b else 1.0), (sc.segments[b], u if a != b else 0.0)):
                if w <= 0 or not seg.osc:
                    continue
                g, _ = rig.fk(deltas[f])
                for o in seg.osc:
                    i = bd.bone(o.bone)
                    gp = g[int(bd.bone_parents[i])]
                    rw = rot(*(w * o.angle(t)))
                    deltas[f, i] = gp.T @ rw @ gp @ deltas[f, i]

    head_fwd = None
    if sc.label_gaze:
        rig = Rig(bd)
        ih = bd.bone("head")
        head_fwd = np.stack([rig.fk(d)[0][ih] @ np.array([0.0, -1.0, 0.0]) for d in deltas])
    face = _face_tracks(sc, plan, fps)
    verts_l: list[FloatArray] = []
    kps_l: list[FloatArray] = []
    for i in range(0, len(deltas), 16):
        fc = {k: v[i : i + 16] for k, v in face.items()} or None
        v, k = bd.pose(deltas[i : i + 16], fc)
        verts_l.append(v)
        kps_l.append(k)
    verts = np.concatenate(verts_l)
    kps = np.concatenate(kps_l)
    lift = -verts[:, :, 2].min(axis=1)  # feet (or the planted foot) on the floor, Z = 0
    verts[:, :, 2] += lift[:, None]
    kps[:, :, 2] += lift[:, None]
    if any(s.travel_m != (0.0, 0.0) for s in sc.segments):  # walk in, ending at the origin
        pos = np.zeros((len(plan), 2))
        cur = -np.sum([s.travel_m for s in sc.segments], axis=0)
        for f, (a, b, _u) in enumerate(plan):
            seg = sc.segments[a]
            if a == b and seg.travel_m != (0.0, 0.0):
                n = sum(1 for p in plan if p[:2] == (a, a))
                cur = cur + np.asarray(seg.travel_m) / n
            pos[f] = cur
        verts[:, :, :2] += pos[:, None, :]
        kps[:, :, :2] += pos[:, None, :]
    return _Shot(sc, postures, plan, verts, kps, face, sitting == {True}, lift=lift, head_fwd=head_fwd)


def generate(
    scenario: str,
    *,
    seed: int = 0,
    out_dir: Path,
    duration_s: float | None = None,
    fps: float = 15.0,
    width: int = 640,
    height: int = 480,
    camera: str | None = None,
    body: str | None = None,
    split: str = "tune",
    degrade: float = 1.0,
    name: str | None = None,
    codec: str = "auto",
) -> ClipResult:
    """Render one labelled clip. Deterministic for a given argument set (labels are
    bit-identical; video bytes too on the same machine/software stack).

    A scenario with ``shots`` renders them one after the other into the same file with
    hard cuts (a ``cut`` event and a per-frame ``shot`` index; the camera is re-aimed,
    the room keeps its colours); ``duration_s`` is then ignored."""
    import copy

    from posture_coach.synth.body import BODIES, COCO_LABELS, load_body
    from posture_coach.synth.render import (
        CAMERA_PRESETS,
        Degradation,
        Lighting,
        Renderer,
        VideoSink,
        place_camera,
        room,
    )

    t0 = time.perf_counter()
    sc = SCENARIOS[scenario]
    rng = np.random.default_rng(seed)
    if body is None:
        pool = sorted(k for k, b in BODIES.items() if b.split == split)
        body = pool[int(rng.integers(len(pool)))]
    bd = load_body(body)
    if bd.spec.split == "eval" and split != "eval":
        raise ValueError(f"body {body!r} is held out for eval; use --split eval")
    cam_spec = CAMERA_PRESETS[camera or sc.camera]
    multi = bool(sc.shots)
    shots = [_pose_shot(bd, s, None if multi else duration_s, fps) for s in (sc.shots or (sc,))]
    partner = None
    if sc.partner is not None:
        if multi:
            raise ValueError("a partner is not supported in multi-shot scenarios")
        partner = _place_partner(bd, shots[0], sc, duration_s, fps)

    i_ls = COCO_LABELS.index("left_shoulder")
    teeth_rig = _teeth_rig(bd) if any(s.teeth for s in (sc.shots or (sc,))) else None
    renderer = Renderer(width, height)
    room_rng = copy.deepcopy(rng)
    light = deg = None
    out_dir.mkdir(parents=True, exist_ok=True)
    stem = name or f"{scenario}_s{seed}"
    video = out_dir / f"{stem}.mp4"
    writer = VideoSink(str(video), fps, width, height, codec)
    frames: list[dict[str, Any]] = []
    events: list[dict[str, Any]] = []
    cams = []
    noise_rng = np.random.default_rng([seed, 1])
    try:
        for k, sh in enumerate(shots):
            plan, verts, kps, postures = sh.plan, sh.verts, sh.kps, sh.postures
            ca = sh.sc.camera_at
            first = plan.index(next(p for p in plan if p[0] == p[1] == ca))
            aim = verts[first] if partner is None else np.concatenate([verts[first], partner.verts[first]])
            cam = place_camera(cam_spec, width, height, aim, float(kps[first, i_ls, 2]))
            cams.append(cam)
            props = room(rng if k == 0 else copy.deepcopy(room_rng), cam, sh.sc.room_back_min_m)
            if sh.sitting:
                hold_idx = [plan.index(next(p for p in plan if p[0] == p[1] == i))
                            for i in range(len(postures))]  # fmt: skip
                incl = [torso_incline_deg(dict(zip(COCO_LABELS, kps[i], strict=True))) for i in hold_idx]
                recline = max(0.0, -min(incl)) + 5.0
                props = np.concatenate([props, _chair_rows(bd, [verts[i] for i in hold_idx], recline)])
            renderer.set_props(props)
            if light is None:
                light = Lighting.random(rng)
                deg = Degradation.random(rng, degrade)
            assert deg is not None
            f0 = len(frames)
            if k > 0:
                t_cut = round(f0 * 1000 / fps)
                events.append({"type": "cut", "start_ms": t_cut, "end_ms": t_cut, "to_shot": k,
                               "sitting": sh.sitting})  # fmt: skip
            shot_frames: list[dict[str, Any]] = []
            touch = _touch_setup(bd, postures)
            for f, (a, b, _u) in enumerate(plan):
                mv, mf, mc, mp = _with_props(bd, verts[f], postures, plan[f])
                fronts = None
                if teeth_rig is not None and sh.sc.teeth:
                    mv, mf, mc, mp, fronts = _with_teeth(teeth_rig, mv, mf, mc, mp)
                if partner is not None:
                    mv, mf, mc, mp = _append_mesh(mv, mf, mc, mp, partner.verts[f], partner.bd, PARTNER_PART_OFFSET)
                img, depth, part_map = renderer.draw(cam, mv, mf, mc, light, mp)
                img = deg.apply(img, noise_rng)
                writer.write(img)
                px, dz = cam.project(kps[f])
                kw = dict(zip(COCO_LABELS, kps[f], strict=True))
                held = a == b
                seg = sh.sc.segments[a]
                st = {**postures[a].states, **seg.states} if held else None
                stance = (
                    held
                    and not sh.sitting
                    and seg.gait_hz == 0
                    and not seg.osc
                    and (sh.sc.label_stance or bool(postures[a].params.get("stance")))
                )
                fr = frame_labels(
                    frame=f0 + f, fps=fps,
                    posture=postures[a].name if held else "transition",
                    posture_states=st,
                    kp_world=kw,
                    kp_px=dict(zip(COCO_LABELS, px, strict=True)),
                    kp_depth=dict(zip(COCO_LABELS, dz.tolist(), strict=True)),
                    depth_map=depth, part_map=part_map, width=width, height=height,
                    yaw_deg=cam_spec.yaw_deg, stance=stance,
                )  # fmt: skip
                _face_labels(fr, sh.sc, plan, sh.face, f, cam_spec.yaw_deg, fps)
                if sh.head_fwd is not None:
                    _gaze_labels(fr, sh.sc, plan, f, sh.head_fwd, cam)
                touch_seg = a if a in touch else b if b in touch else None
                if touch_seg is not None:
                    region, hand, ti, vi = touch[touch_seg]
                    dist = float(np.linalg.norm(verts[f, ti] - verts[f, vi]))
                    fr["face_touch"] = {"region": region, "hand": hand, "tip_dist_m": round(dist, 4)}
                    if held and dist >= TOUCH_M:
                        fr["states"].pop("face_touch_region", None)
                if partner is not None:
                    fr["partner"] = _partner_frame(partner, f, cam, depth, part_map, width, height, kps[f])
                if fronts is not None:
                    from posture_coach.synth.teeth import upper_teeth_visible

                    fpx, _ = cam.project(fronts.reshape(-1, 3))
                    n_up, fracs = upper_teeth_visible(part_map, fpx.reshape(-1, 4, 2))
                    fr["states"]["upper_teeth_visible"] = n_up
                    fr["teeth"] = {"upper_visible_frac": fracs}
                step = sh.sc.segments[a if held else b].step
                if step is not None:
                    fr["scenario_step"] = step
                if multi:
                    fr["shot"] = k
                    fr["sitting"] = sh.sitting
                shot_frames.append(fr)
            frames.extend(shot_frames)
            events.extend(_events(plan, postures, shot_frames, fps, f0, sh.sc))
            events.extend(_blink_events(sh.face, fps, f0))
            events.extend(_smile_events(sh.face, fps, f0))
            if touch:
                events.extend(_touch_events(shot_frames, fps))
            if sh.head_fwd is not None:
                events.extend(_gaze_events(shot_frames, fps))
    finally:
        writer.close()
        renderer.release()

    cam = cams[0]
    header = {
        "scenario": scenario,
        "description": sc.description,
        "rules": list(sc.rules),
        "seed": seed,
        "fps": fps,
        "width": width,
        "height": height,
        "n_frames": len(frames),
        "camera": {
            **cam_spec.to_json(),
            "eye_m": [round(float(x), 4) for x in cam.eye],
            "target_m": [round(float(x), 4) for x in cam.target],
        },
        "body": {**bd.spec.to_json(), "phenotype": {k: round(v, 4) for k, v in bd.phenotype.items()}},
        "split": "eval" if split == "eval" or bd.spec.split == "eval" else "tune",
        "sitting": "mixed" if len({sh.sitting for sh in shots}) > 1 else shots[0].sitting,
        "degradation": deg.__dict__ if deg is not None else {},
        "codec": writer.codec,
        "generator": "posture_coach.synth",
        "conventions": {
            "axes": "metres; Z up, -Y the person's forward, +X the person's left",
            "torso_incline_deg": "3-D hip-mid to shoulder-mid from vertical, + forward",
            "shoulder_tilt_deg": "image shoulder line, + = subject's left shoulder higher",
            "yaw_deg": "camera azimuth, 0 = in front, +90 = at the person's left",
            "keypoints2d": "[x_px, y_px, visible], origin top-left",
        },
    }
    if multi:
        header["shots"] = [
            {"start_ms": round(sum(len(s.plan) for s in shots[:k]) * 1000 / fps), "sitting": sh.sitting,
             "eye_m": [round(float(x), 4) for x in cams[k].eye],
             "target_m": [round(float(x), 4) for x in cams[k].target]}
            for k, sh in enumerate(shots)
        ]  # fmt: skip
    if partner is not None:
        header.update(_partner_header(partner, frames, bd))
        for ev in events:
            if ev["type"] in ("handshake", "handover"):
                ev["with_partner"] = True
    steps = [s.step for sh in shots for s in sh.sc.segments if s.step]
    if steps:
        header["scenario_steps"] = list(dict.fromkeys(steps))
    lp = labels_path(video)
    write_labels(lp, header, frames, events)
    secs = time.perf_counter() - t0
    return ClipResult(video, lp, len(frames), secs, 1000 * secs / max(1, len(frames)), header)


def _with_props(
    bd: Any, v: FloatArray, postures: list[Any], step: tuple[int, int, float]
) -> tuple[FloatArray, npt.NDArray[np.int32], npt.NDArray[np.float32], npt.NDArray[np.float32]]:
    """The body mesh plus hand-held props for this frame (a business card held between
    thumb and index tips while a ``card_handover`` posture is held or half reached)."""
    a, b, u = step
    p = postures[a] if u < 0.5 else postures[b]
    if p.params.get("prop") != "card":
        return v, bd.faces, bd.colors, bd.parts
    from posture_coach.synth.render import box

    centre = _card_centre(bd, v, int(p.params.get("hands", 1)))
    # a 90 × 54 mm card facing the receiver (-Y), with a dark logo/text band on its front
    card = box(centre, (0.09, 0.003, 0.054), (0.97, 0.97, 0.95))
    text = box(centre + np.array([0.0, -0.0025, 0.008]), (0.06, 0.001, 0.012), (0.1, 0.15, 0.4))
    rows = np.concatenate([card, text])
    n0 = len(v)
    faces = np.concatenate([bd.faces, n0 + np.arange(len(rows), dtype=np.int32).reshape(-1, 3)])
    colors = np.concatenate([bd.colors, rows[:, 6:9].astype(np.float32)])
    parts = np.concatenate([bd.parts, np.zeros(len(rows), np.float32)])
    return np.concatenate([v, rows[:, :3]]), faces, colors, parts


def _card_centre(bd: Any, v: FloatArray, hands: int) -> FloatArray:
    """Centre of the business card held between thumb and index tips (posed vertices ``v``)."""
    names = np.array(bd.bone_labels, dtype=object)[bd.dominant_bone]
    pinches = []
    for side in ("L", "R") if hands == 2 else ("R",):
        tips = (names == f"finger1-3.{side}") | (names == f"finger2-3.{side}")
        pinches.append(v[tips].mean(axis=0))
    centre: FloatArray = np.mean(pinches, axis=0) + np.array([0.0, -0.012, 0.012])
    if len(pinches) == 1:  # one hand: the card sticks out beyond the pinch, toward -X
        centre = centre + np.array([0.03, -0.01, 0.0])
    return centre


def _hand_centre(bd: Any, v: FloatArray, side: str) -> FloatArray:
    """Mean of the posed vertices of one hand (wrist, metacarpals, fingers)."""
    names = np.array(bd.bone_labels, dtype=object)[bd.dominant_bone]
    sel = np.array([str(n).startswith(("wrist", "finger", "metacarpal")) and str(n).endswith("." + side)
                    for n in names])  # fmt: skip
    out: FloatArray = v[sel].mean(axis=0)
    return out


#: A partner faces the trainee: rotated 180° about Z (then moved by ``_PartnerShot.offset``).
_R180 = np.diag([-1.0, -1.0, 1.0])
#: Part ids of the partner in the part map: the trainee's ids plus this.
PARTNER_PART_OFFSET = 16


@dataclass
class _PartnerShot:
    """The role-play partner, posed (``shot``: own pelvis-origin frame, floor-lifted) and
    placed in the trainee's world (``verts`` / ``kps``)."""

    bd: Any
    shot: _Shot
    verts: FloatArray
    kps: FloatArray
    offset: FloatArray


def _place_partner(bd: Any, shot: _Shot, sc: Scenario, duration_s: float | None, fps: float) -> _PartnerShot:
    """Pose the partner on the trainee's timeline and place them face to face: right hands
    joined in a ``handshake`` segment (the partner's hand height follows the trainee's),
    fingertips at the card's lower corners in a ``receive_card`` segment."""
    from dataclasses import replace

    from posture_coach.synth.body import load_body

    pt = sc.partner
    assert pt is not None
    if len(pt.segments) != len(sc.segments) or any(
        abs(a.hold_s - b.hold_s) > 1e-9 for a, b in zip(pt.segments, sc.segments, strict=True)
    ):
        raise ValueError("partner segments must match the scenario's segments (count and hold_s)")
    pbd = load_body(pt.body)
    segs = list(pt.segments)

    def pose() -> _Shot:
        psc = replace(sc, segments=tuple(segs), partner=None, label_gaze=False, teeth=False)
        return _pose_shot(pbd, psc, duration_s, fps)

    def held(ok_t: Any, ok_p: Any, ps: _Shot) -> tuple[int, int] | None:
        for f, (a, b, _u) in enumerate(shot.plan):
            if a == b and ok_t(shot.postures[a]) and ok_p(ps.postures[a]):
                return f, a
        return None

    ps = pose()
    offset = np.array([0.0, -pt.gap_m, 0.0])
    hs = held(lambda p: p.name == "handshake", lambda p: p.name == "handshake", ps)
    if hs is not None:
        f, a = hs
        want = _hand_centre(bd, shot.verts[f], "R")
        for _ in range(3):  # the partner's hand at the trainee's hand height
            dz = float(want[2] - _hand_centre(pbd, ps.verts[f], "R")[2])
            if abs(dz) < 0.005:
                break
            prm = dict(segs[a].params)
            prm["dz"] = round(float(prm.get("dz", 0.30)) + dz, 4)
            segs[a] = replace(segs[a], params=prm)
            ps = pose()
        got = _R180 @ _hand_centre(pbd, ps.verts[f], "R")
        offset = want + np.array([pt.palm_gap_m, 0.0, 0.0]) - got
        offset[2] = 0.0
    card = held(lambda p: p.params.get("prop") == "card", lambda p: p.name == "receive_card", ps)
    if card is not None and ps.lift is not None:
        f, a = card
        c = _card_centre(bd, shot.verts[f], int(shot.postures[a].params["hands"]))
        prm = dict(segs[a].params)
        # the partner's right hand takes the corner on its right (world +X), at the card's
        # lower edge, on the face turned toward the partner (-Y)
        for key, dx in (("right", 0.032), ("left", -0.032)):
            w = c + np.array([dx, -0.004, -0.024])
            loc = _R180.T @ (w - offset) - np.array([0.0, 0.0, ps.lift[f]])
            prm[key] = tuple(round(float(x), 4) for x in loc)
        segs[a] = replace(segs[a], params=prm)
        ps = pose()
    verts = ps.verts @ _R180.T + offset
    kps = ps.kps @ _R180.T + offset
    return _PartnerShot(pbd, ps, verts, kps, offset)


def _append_mesh(
    mv: FloatArray, mf: npt.NDArray[np.int32], mc: npt.NDArray[np.float32], mp: npt.NDArray[np.float32],
    v: FloatArray, bd: Any, part_offset: int,
) -> tuple[FloatArray, npt.NDArray[np.int32], npt.NDArray[np.float32], npt.NDArray[np.float32]]:
    """A second body (posed vertices ``v``) merged into the frame's draw."""
    n0 = len(mv)
    return (np.concatenate([mv, v]), np.concatenate([mf, bd.faces + n0]), np.concatenate([mc, bd.colors]),
            np.concatenate([mp, (bd.parts + part_offset).astype(np.float32)]))  # fmt: skip


def _touch_setup(bd: Any, postures: list[Any]) -> dict[int, tuple[str, str, int, int]]:
    """Per ``face_touch`` segment: (region, hand, fingertip vertex, region vertex)."""
    from posture_coach.synth.postures import head_surface, index_tip_vertex

    out: dict[int, tuple[str, str, int, int]] = {}
    for i, p in enumerate(postures):
        if not p.name.startswith("face_touch"):
            continue
        hand = p.params["side"]
        code = "R" if hand == "right" else "L"
        _ref, pt = head_surface(p.params["region"], code)(bd)
        vi = int(np.argmin(np.linalg.norm(bd.rest_vertices - pt, axis=1)))
        out[i] = (p.params["region"], hand, index_tip_vertex(bd, code), vi)
    return out


#: A fingertip closer than this to the touched region's skin counts as touching (labels).
TOUCH_M = 0.03
#: Gaze labels: on target when head yaw and pitch to the camera are both within
#: ``GAZE_ON_DEG``, off when either exceeds ``GAZE_OFF_DEG`` (unlabelled in between);
#: ``gaze_away`` events: runs beyond ``GAZE_AWAY_DEG`` (the coach's default cone).
GAZE_ON_DEG, GAZE_OFF_DEG, GAZE_AWAY_DEG = 10.0, 25.0, 15.0


def _gaze_labels(fr: dict[str, Any], sc: Scenario, plan: list[tuple[int, int, float]], f: int,
                 head_fwd: FloatArray, cam: Any) -> None:
    """Head pitch and head pose relative to the camera (from the posed head bone)."""
    a, b, u = plan[f]
    pitch = (1 - u) * sc.segments[a].head_pitch_deg + u * sc.segments[b].head_pitch_deg
    fc = cam.view[:3, :3] @ head_fwd[f]  # camera axes: x right, y up, z toward the viewer
    yaw_c = float(np.degrees(np.arctan2(fc[0], fc[2])))
    pitch_c = float(np.degrees(np.arctan2(fc[1], np.hypot(fc[0], fc[2]))))
    fr["angles"]["head_pitch_deg"] = round(pitch, 2)
    fr["angles"]["head_yaw_to_camera_deg"] = round(yaw_c, 2)
    fr["angles"]["head_pitch_to_camera_deg"] = round(pitch_c, 2)
    if a == b:
        if max(abs(yaw_c), abs(pitch_c)) <= GAZE_ON_DEG:
            fr["states"]["gaze_on_target"] = True
        elif max(abs(yaw_c), abs(pitch_c)) >= GAZE_OFF_DEG:
            fr["states"]["gaze_on_target"] = False


def _run_events(frames: list[dict[str, Any]], fps: float, key: Any, make: Any) -> list[dict[str, Any]]:
    """One event per run of frames where ``key(frame)`` is truthy and constant."""
    out: list[dict[str, Any]] = []
    f = 0
    while f < len(frames):
        k = key(frames[f])
        if not k:
            f += 1
            continue
        g = f
        while g + 1 < len(frames) and key(frames[g + 1]) == k:
            g += 1
        t0, t1 = round(frames[f]["frame"] * 1000 / fps), round((frames[g]["frame"] + 1) * 1000 / fps)
        out.append({**make(frames[f : g + 1]), "start_ms": t0, "end_ms": t1})
        f = g + 1
    return out


def _touch_events(frames: list[dict[str, Any]], fps: float) -> list[dict[str, Any]]:
    """``face_touch`` events: runs of frames with the fingertip within :data:`TOUCH_M`."""

    def key(fr: dict[str, Any]) -> Any:
        t = fr.get("face_touch")
        return (t["region"], t["hand"]) if t and t["tip_dist_m"] < TOUCH_M else None

    def make(run: list[dict[str, Any]]) -> dict[str, Any]:
        t = run[0]["face_touch"]
        return {"type": "face_touch", "region": t["region"], "hand": t["hand"],
                "duration_s": round(len(run) / fps, 2),
                "min_tip_dist_m": min(fr["face_touch"]["tip_dist_m"] for fr in run)}  # fmt: skip

    return _run_events(frames, fps, key, make)


def _gaze_events(frames: list[dict[str, Any]], fps: float) -> list[dict[str, Any]]:
    """``gaze_away`` events: runs of frames with head yaw or pitch to the camera beyond
    :data:`GAZE_AWAY_DEG` (transitions included)."""

    def key(fr: dict[str, Any]) -> bool:
        an = fr["angles"]
        return max(abs(an["head_yaw_to_camera_deg"]), abs(an["head_pitch_to_camera_deg"])) > GAZE_AWAY_DEG

    def make(run: list[dict[str, Any]]) -> dict[str, Any]:
        peak = max(run, key=lambda fr: max(abs(fr["angles"]["head_yaw_to_camera_deg"]),
                                           abs(fr["angles"]["head_pitch_to_camera_deg"])))  # fmt: skip
        return {"type": "gaze_away", "peak_yaw_deg": peak["angles"]["head_yaw_to_camera_deg"],
                "peak_pitch_deg": peak["angles"]["head_pitch_to_camera_deg"]}  # fmt: skip

    return _run_events(frames, fps, key, make)


def _partner_frame(pt: _PartnerShot, f: int, cam: Any, depth: FloatArray, part_map: npt.NDArray[np.uint8],
                   width: int, height: int, trainee_kp: FloatArray) -> dict[str, Any]:
    """The partner's per-frame label: posture, keypoints (visibility against the whole
    scene, the trainee included), torso incline (+ = leaning toward the trainee) and
    ``distance_m``: floor-plane distance between the two shoulder midpoints."""
    from posture_coach.synth.body import COCO_LABELS

    i_l, i_r = COCO_LABELS.index("left_shoulder"), COCO_LABELS.index("right_shoulder")
    gap = (pt.kps[f, i_l] + pt.kps[f, i_r] - trainee_kp[i_l] - trainee_kp[i_r])[:2] / 2

    px, dz = cam.project(pt.kps[f])
    pm = part_map.astype(np.int16)
    own = np.where(pm > PARTNER_PART_OFFSET, pm - PARTNER_PART_OFFSET, 0).astype(np.uint8)
    a, b, _u = pt.shot.plan[f]
    fr = frame_labels(
        frame=f, fps=1.0, posture="", posture_states=None,
        kp_world=dict(zip(COCO_LABELS, pt.shot.kps[f], strict=True)),
        kp_px=dict(zip(COCO_LABELS, px, strict=True)),
        kp_depth=dict(zip(COCO_LABELS, dz.tolist(), strict=True)),
        depth_map=depth, part_map=own, width=width, height=height, yaw_deg=90.0,
    )  # fmt: skip
    return {"posture": pt.shot.postures[a].name if a == b else "transition",
            "torso_incline_deg": fr["angles"]["torso_incline_deg"],
            "distance_m": round(float(np.hypot(*gap)), 3), "keypoints2d": fr["keypoints2d"]}  # fmt: skip


def _partner_header(pt: _PartnerShot, frames: list[dict[str, Any]], bd: Any) -> dict[str, Any]:
    """Header entries of a role-play: who is where (``trainee_side``: the trainee's side
    of the image, as ``posture-coach analyze --role-play`` takes it)."""
    k0, p0 = frames[0]["keypoints2d"], frames[0]["partner"]["keypoints2d"]
    tx = (k0["left_hip"][0] + k0["right_hip"][0]) / 2
    px = (p0["left_hip"][0] + p0["right_hip"][0]) / 2
    return {
        "persons": 2,
        "trainee_side": "left" if tx < px else "right",
        "partner": {
            **pt.bd.spec.to_json(),
            "position_m": [round(float(x), 4) for x in pt.offset],
            "distance_m": round(float(np.hypot(pt.offset[0], pt.offset[1])), 3),
            "facing": "trainee",
        },
    }


def _teeth_rig(bd: Any) -> Any:
    """The body's :class:`posture_coach.synth.teeth.TeethRig` (built once per body)."""
    if bd.spec.name not in _TEETH_RIGS:
        from posture_coach.synth.body import _face_parts, anny_model
        from posture_coach.synth.teeth import build_teeth

        head = np.array(bd.bone_labels, dtype=object)[bd.dominant_bone] == "head"
        _TEETH_RIGS[bd.spec.name] = build_teeth(bd.rest_vertices, _face_parts(anny_model())["mouth"], head)
    return _TEETH_RIGS[bd.spec.name]


_TEETH_RIGS: dict[str, Any] = {}


def _with_teeth(
    rig: Any, v: FloatArray, faces: npt.NDArray[np.int32], colors: npt.NDArray[np.float32],
    parts: npt.NDArray[np.float32],
) -> tuple[FloatArray, npt.NDArray[np.int32], npt.NDArray[np.float32], npt.NDArray[np.float32], FloatArray]:
    """Append this frame's posed teeth (unshared triangle rows) to the mesh."""
    from posture_coach.synth.teeth import posed_teeth

    rows, pid, fronts = posed_teeth(rig, v)
    n0 = len(v)
    faces = np.concatenate([faces, n0 + np.arange(len(rows), dtype=np.int32).reshape(-1, 3)])
    colors = np.concatenate([colors, rows[:, 6:9].astype(np.float32)])
    return np.concatenate([v, rows[:, :3]]), faces, colors, np.concatenate([parts, pid]), fronts


def _face_tracks(sc: Scenario, plan: list[tuple[int, int, float]], fps: float) -> dict[str, FloatArray]:
    """Per-frame ARKit blendshape values: segment faces blended like the pose, plus
    blinks (200 ms, eyes fully closed in the middle frame)."""
    names = sorted({k for s in sc.segments for k in s.face})
    tracks = {k: np.zeros(len(plan)) for k in names}
    for f, (a, b, u) in enumerate(plan):
        fa, fb = sc.segments[a].face, sc.segments[b].face
        for k in names:
            tracks[k][f] = (1 - u) * fa.get(k, 0.0) + u * fb.get(k, 0.0)
    if sc.blink_every_s > 0:
        blink = np.zeros(len(plan))
        t = sc.blink_every_s / 2
        while t < len(plan) / fps:
            c = round(t * fps)
            for d, val in ((-1, 0.5), (0, 1.0), (1, 0.5)):
                if 0 <= c + d < len(plan):
                    blink[c + d] = max(blink[c + d], val)
            t += sc.blink_every_s
        tracks["eyeBlinkLeft"] = np.maximum(tracks.get("eyeBlinkLeft", 0.0), blink)
        tracks["eyeBlinkRight"] = np.maximum(tracks.get("eyeBlinkRight", 0.0), blink)
    return tracks


def _face_labels(
    fr: dict[str, Any],
    sc: Scenario,
    plan_all: list[tuple[int, int, float]],
    face: dict[str, FloatArray],
    f: int,
    cam_yaw: float,
    fps: float,
) -> None:
    """Add face states/angles to a frame label (only the unambiguous ones)."""
    a, b, u = plan_all[f]
    yaw = (1 - u) * sc.segments[a].head_yaw_deg + u * sc.segments[b].head_yaw_deg
    # head yaw relative to the torso; the torso faces the camera at cam_yaw = 0
    fr["angles"]["head_yaw_deg"] = round(yaw, 2)
    fr["angles"]["head_yaw_to_camera_deg"] = round(yaw - cam_yaw, 2)
    smile = float(min(face["mouthSmileLeft"][f], face["mouthSmileRight"][f])) if ("mouthSmileLeft" in face) else 0.0
    jaw = float(face["jawOpen"][f]) if "jawOpen" in face else 0.0
    fr["face"] = {k: round(float(v[f]), 3) for k, v in face.items() if v[f] > 0}
    if a != b:
        return
    if smile >= 0.5:
        fr["states"]["smiling"] = True
    elif smile == 0.0 and jaw < 0.3:
        fr["states"]["smiling"] = False
    held_s = sum(1 for p in plan_all if p[:2] == (a, a)) / fps
    if jaw >= 0.6 and held_s >= 1.5:
        fr["states"]["yawning"] = True
    elif jaw == 0.0:
        fr["states"]["yawning"] = False


def _blink_events(face: dict[str, FloatArray], fps: float, frame0: int = 0) -> list[dict[str, Any]]:
    """One ``blink`` event per run of frames with eyeBlink ≥ 0.5."""
    if "eyeBlinkLeft" not in face:
        return []
    closed = np.minimum(face["eyeBlinkLeft"], face["eyeBlinkRight"]) >= 0.5
    return [{"type": "blink", "start_ms": round((frame0 + f) * 1000 / fps),
             "end_ms": round((frame0 + g + 1) * 1000 / fps)} for f, g in _runs(closed)]  # fmt: skip


def _runs(mask: Any) -> list[tuple[int, int]]:
    """(first, last) index of each run of True."""
    out: list[tuple[int, int]] = []
    f = 0
    while f < len(mask):
        if mask[f]:
            g = f
            while g + 1 < len(mask) and mask[g + 1]:
                g += 1
            out.append((f, g))
            f = g + 1
        else:
            f += 1
    return out


def _smile_events(face: dict[str, FloatArray], fps: float, frame0: int = 0) -> list[dict[str, Any]]:
    """One ``smile`` event per run of frames whose posed smile (the smaller of
    mouthSmileLeft/Right) is ≥ 0.5, transitions included."""
    if "mouthSmileLeft" not in face:
        return []
    on = np.minimum(face["mouthSmileLeft"], face["mouthSmileRight"]) >= 0.5
    return [{"type": "smile", "start_ms": round((frame0 + f) * 1000 / fps),
             "end_ms": round((frame0 + g + 1) * 1000 / fps)} for f, g in _runs(on)]  # fmt: skip


def _events(
    plan: list[tuple[int, int, float]],
    postures: list[Any],
    frames: list[dict[str, Any]],
    fps: float,
    frame0: int = 0,
    sc: Scenario | None = None,
) -> list[dict[str, Any]]:
    """One ``posture`` event per held stretch, plus ``bow`` / ``handshake`` /
    ``handover`` events. ``frame0``: global index of ``frames[0]`` (multi-shot clips)."""

    def ms(i: int) -> int:
        return round((frame0 + i) * 1000 / fps)

    events: list[dict[str, Any]] = []
    f = 0
    while f < len(plan):
        a, b, _ = plan[f]
        if a != b:
            f += 1
            continue
        g = f
        while g + 1 < len(plan) and plan[g + 1][:2] == (a, a):
            g += 1
        p = postures[a]
        st = {k: v for k, v in frames[f]["states"].items() if not k.endswith(("_deg", "_ratio"))}
        ev: dict[str, Any] = {
            "type": "posture", "posture": p.name, "params": p.params,
            "start_ms": ms(f), "end_ms": ms(g + 1),
            "states": st,
        }  # fmt: skip
        step = sc.segments[a].step if sc is not None else None
        if step is not None:
            ev["scenario_step"] = step
        events.append(ev)
        if p.name == "handshake":
            lean = max(fr["angles"]["torso_incline_deg"] for fr in frames[f : g + 1])
            events.append({"type": "handshake", "hand": "right", "lean_deg": round(lean, 2),
                           "duration_s": round((g + 1 - f) / fps, 2),
                           "start_ms": ev["start_ms"], "end_ms": ev["end_ms"]})  # fmt: skip
        if p.params.get("prop") == "card":
            events.append({"type": "handover", "hands_used": int(p.params["hands"]),
                           "start_ms": ev["start_ms"], "end_ms": ev["end_ms"]})  # fmt: skip
        if p.name == "torso_lean":
            lo = max(0, f - round(fps))  # include the way down
            hi = min(len(frames), g + 1 + round(fps))
            lean = max(fr["angles"]["torso_incline_deg"] for fr in frames[lo:hi])
            events.append(
                {
                    "type": "bow",
                    "lean_deg": round(lean, 2),
                    "start_ms": ms(lo),
                    "end_ms": ms(hi),
                }
            )
        f = g + 1
    return events
