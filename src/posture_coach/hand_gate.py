"""Hands on demand: decide, frame by frame, whether the hand landmarker must run next frame.

The hand model is the most expensive task after pose (MEDIAPIPE_NOTES: 8-15 ms per frame
in VIDEO mode on 2 cores). Only a few rules read hand landmarks (:data:`HAND_RULES`), and
only while the hands are somewhere that matters: at chest height (a card handover, a
handshake, a pointing gesture), near the face (face touching), or while a handover,
handshake or pointing event is open. Everything here is pure: the pose-only cues of
:func:`posture_coach.interaction_features.interaction_values` (and the engine's event
flags) in, one bool out. Once wanted, hands stay on for ``hold_ms`` (hysteresis), so a
hand that drops out of the chest band for a frame does not restart the hand tracker.

>>> gate = HandGate(needed=True)
>>> gate.update(0, {"wrist_chest_r": 1.0})
True
>>> gate.update(500, {"wrist_chest_r": 0.0})      # still held
True
>>> gate.update(1600, {"wrist_chest_r": 0.0})
False
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass

from posture_coach.rules.base import Param

#: Rules that read hand landmarks (card grip, hand shapes, fingertips). Others never need hands.
HAND_RULES: frozenset[str] = frozenset({
    "handover.two_hands", "handover.look_at_card", "gesture.open_palm", "gesture.face_touching",
    "handshake.lean", "handshake.duration", "handshake.attention",
})

#: Event flags (``ev_<kind>_active`` from :class:`posture_coach.events.InteractionEvents`) that keep hands on.
HAND_EVENTS: tuple[str, ...] = ("ev_handover_active", "ev_handshake_active", "ev_pointing_active",
                                "ev_face_touch_active")

Values = Mapping[str, float | None]

#: The gate's cost knobs, keys of the ``[engine]`` table of the calibration (units in the names).
HAND_GATE_PARAMS: tuple[Param, ...] = (
    Param("hands_chest_min_above_hip_sw", "sw", "a wrist at chest height wants the hand model only "
          "when at least this far above the hip line (hands resting clasped in front need none)"),
    Param("hands_search_after_misses_runs", "runs", "after this many hand-model runs in a row "
          "without a hand, search only every hands_search_every_frames-th frame", int),
    Param("hands_search_every_frames", "frames", "while backing off, run the hand model on every "
          "this-many-th frame (1 = no back-off)", int),
)


def rules_need_hands(rule_ids: Iterable[str]) -> bool:
    """Does any of these rules read hand landmarks?"""
    return any(r in HAND_RULES for r in rule_ids)


@dataclass(frozen=True, slots=True)
class HandCue:
    """Why hands were wanted on one frame (``None`` = not wanted)."""

    reason: str | None


def hand_cue(values: Values, *, face_near_fw: float = 0.6, raised_min_sw: float = -0.6,
             chest_min_above_hip_sw: float | None = None) -> HandCue:
    """The reason this frame's pose-only cues call for the hand model, if any.

    - a wrist at chest height (``wrist_chest_l/r``): handover, handshake, pointing; with
      ``chest_min_above_hip_sw`` the wrist must also be that far above the hip line
      (``wrist_above_hip_*_sw``, when known): hands hanging or resting clasped in front
      (the service stance, 0.3–0.4 SW above the hips on the sample clips) need no hand
      model, a card held out (≥ 0.65 SW) or a hand extended for a handshake does; and not
      while the arms are folded (``arms_crossed``: no handover, handshake or pointing then);
    - a wrist raised towards the face (``wrist_above_shoulder_*_sw`` above ``raised_min_sw``,
      i.e. less than 0.6 body scales below the shoulder line), again not while the arms are
      folded, or a pose fingertip within ``face_near_fw`` face widths of the face
      (``face_touch_fw``): face touching;
    - two people's hands joined (``tp_handshake``) or an open handover/handshake/pointing event.
    """
    for ev in HAND_EVENTS:
        if values.get(ev) == 1.0:
            return HandCue(ev)
    if values.get("tp_handshake") == 1.0:
        return HandCue("tp_handshake")
    if values.get("arms_crossed") != 1.0:
        for s in ("l", "r"):
            if values.get(f"wrist_chest_{s}") != 1.0:
                continue
            above = values.get(f"wrist_above_hip_{s}_sw")
            if chest_min_above_hip_sw is None or above is None or above >= chest_min_above_hip_sw:
                return HandCue(f"wrist_chest_{s}")
        # Folded arms hold the wrists high on the chest, 0.5-0.7 body scales under the
        # shoulder line, where a raised hand would be: no face touch from there (a hand at
        # the face while the other arm is folded is still caught by face_touch_fw below).
        for s in ("l", "r"):
            up = values.get(f"wrist_above_shoulder_{s}_sw")
            if up is not None and up >= raised_min_sw:
                return HandCue(f"wrist_raised_{s}")
    fw = values.get("face_touch_fw")
    if fw is not None and fw <= face_near_fw:
        return HandCue("near_face")
    return HandCue(None)


class HandGate:
    """Hysteresis on :func:`hand_cue`: wanted now, or wanted within the last ``hold_ms``.

    ``needed=False`` (no active rule reads hands) always answers False. A frame without
    pose cues keeps the last decision until the hold runs out. ``update`` returns whether
    hands should run on the NEXT frame; :attr:`wanted` holds the last answer (True before
    the first frame, so the first frames are observed fully).

    Search back-off: when the hand model finds nothing, it runs its palm detector on every
    frame (the expensive half of the model: ~15 of ~20 ms on one core), typically because
    the hands are hidden (arms crossed, hands behind the back) while the wrists sit at chest
    height. After ``search_after_misses`` consecutive runs without a hand, the gate searches
    only every ``search_every``-th frame, and returns to every frame as soon as a run finds
    a hand (found hands are tracked, which is cheap). The cost is a hand that appears while
    hidden hands were being searched for is seen at most ``search_every - 1`` frames late.
    ``search_every=1`` turns the back-off off.

    The engine builds its gate with :meth:`from_engine`, so these knobs come from the
    ``[engine]`` table of ``calibration/default.toml`` (the constructor's defaults are the
    same values, for tests and tools without a calibration).
    """

    def __init__(self, needed: bool = True, hold_ms: float = 1000.0, *, face_near_fw: float = 0.6,
                 raised_min_sw: float = -0.6, chest_min_above_hip_sw: float | None = 0.45,
                 search_after_misses: int = 3, search_every: int = 3) -> None:
        if search_every < 1 or search_after_misses < 1:
            raise ValueError("search_every and search_after_misses must be ≥ 1")
        self.needed = needed
        self.hold_ms = hold_ms
        self.face_near_fw = face_near_fw
        self.raised_min_sw = raised_min_sw
        self.chest_min_above_hip_sw = chest_min_above_hip_sw
        self.search_after_misses = search_after_misses
        self.search_every = search_every
        self.misses = 0  # consecutive hand-model runs that found no hand
        self.searching = False  # backing off: hands hidden, searched every search_every-th frame
        self._since_search = 0
        self.wanted = needed
        self.reason: str | None = "start" if needed else None
        self._last_cue_ms: float | None = None
        self.frames = 0
        self.frames_on = 0

    @classmethod
    def from_engine(cls, engine: Mapping[str, float], needed: bool = True) -> HandGate:
        """A gate with the cost knobs of the calibration's ``[engine]`` table (:data:`HAND_GATE_PARAMS`)."""
        return cls(needed, chest_min_above_hip_sw=float(engine["hands_chest_min_above_hip_sw"]),
                   search_after_misses=int(engine["hands_search_after_misses_runs"]),
                   search_every=int(engine["hands_search_every_frames"]))

    def update(self, t_ms: float, values: Values, *, hands_ran: bool = False, hands_found: int = 0) -> bool:
        """Feed one frame's cues (at ``t_ms``) and, when the hand model ran on that frame,
        how many hands it found; returns whether hands are wanted next frame."""
        self.frames += 1
        if not self.needed:
            self.wanted = False
            return False
        if hands_ran:
            self.misses = 0 if hands_found > 0 else self.misses + 1
        cue = hand_cue(values, face_near_fw=self.face_near_fw, raised_min_sw=self.raised_min_sw,
                       chest_min_above_hip_sw=self.chest_min_above_hip_sw)
        if cue.reason is not None:
            self._last_cue_ms = t_ms
            self.reason = cue.reason
        held = self._last_cue_ms is not None and t_ms - self._last_cue_ms <= self.hold_ms
        wanted = cue.reason is not None or held
        if not wanted:
            self.reason = None
            self.misses = 0  # the next time hands are wanted, look on every frame again
        self.searching = wanted and self.misses >= self.search_after_misses
        if self.searching:
            self._since_search += 1
            wanted = self._since_search >= self.search_every
            if wanted:
                self._since_search = 0
        else:
            self._since_search = 0
        self.wanted = wanted
        self.frames_on += wanted
        return wanted

    def tasks(self, loaded: Iterable[str]) -> tuple[str, ...]:
        """The landmarker tasks to run next frame: ``loaded`` without ``"hands"`` when not wanted."""
        return tuple(t for t in loaded if t != "hands" or self.wanted)

    def reset(self) -> None:
        self.wanted = self.needed
        self.reason = "start" if self.needed else None
        self._last_cue_ms = None
        self.misses = 0
        self.searching = False
        self._since_search = 0
