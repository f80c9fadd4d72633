"""Face and expression rules 表情 (seed 003 表情/眼神/三米六齿, seed 000 仪容, seed 002 与客人交谈).

The rules read the face features of :mod:`posture_coach.face_features` (per frame) and,
in video, the window features of :mod:`posture_coach.face_temporal`; the engine attaches
both to :class:`~posture_coach.features.Features`. They gate on the face, not on the
shoulders: a head-and-face close-up is the normal framing for them.
"""

from __future__ import annotations

from posture_coach.face_temporal import gaze_on, mouth_yawning, smile_evidence
from posture_coach.features import Features, ViewName
from posture_coach.interaction_features import partner_in_view
from posture_coach.rules.base import REASONS, Param, Params, Rule, Status, Verdict, grade, num

#: Reasons specific to face rules (added to the shared table; codes are public).
FACE_REASONS: dict[str, tuple[str, str]] = {
    "face_not_frontal": ("需要正脸面对镜头（左右转头不超过 20°）",
                         "face the camera (head turned no more than 20°)"),
    "mouth_too_small": ("嘴部在画面中太小，请靠近镜头", "the mouth is too small in the image: come closer"),
    "teeth_not_measured": ("没有牙齿像素测量（需要图像）", "no teeth pixel measure (needs the image)"),
    "eyes_not_visible": ("眼部不可见", "eyes not visible"),
    "head_not_visible": ("看不清头部朝向（鼻子和耳朵）", "the head's direction cannot be seen (nose and ears)"),
}
for _code, _text in FACE_REASONS.items():
    REASONS.setdefault(_code, _text)

_ALL_VIEWS: frozenset[ViewName] = frozenset({"front", "oblique", "side", "unknown"})


class FaceRule(Rule):
    """Common gates of face rules: a person, a detected face, video when needed."""

    views = _ALL_VIEWS

    def check(self, f: Features, p: Params) -> Verdict:
        if not f.person:
            return self.unknown("no_person")
        if f.get("face_present") != 1.0:
            return self.unknown("face_not_read" if f.get("head_in_view") == 1.0 else "face_not_visible")
        if self.needs_video and not f.video:
            return self.unknown("needs_video")
        return self.judge(f, p)

    def frontal(self, f: Features, p: Params) -> bool | None:
        yaw = f.get("head_yaw_deg")
        return None if yaw is None else abs(yaw) <= num(p, "max_yaw_deg")


class Smile(FaceRule):
    """Smile 面带微笑: mouthSmile blendshapes above the neutral plus weighted cues (upper
    lip raised, lips stretched, mouth widening; jaw dropped, lower lip rolled in and pursed
    lips against), see ``face_temporal.smile_evidence``.

    Per image a threshold; in video the window feature ``smile_on`` adds hysteresis.
    Recommended behaviour: no smile only warns.
    """

    id = "face.smile"
    title_zh = "面带微笑"
    title_en = "Smile"
    clause = "seed 003 表情 (微笑, 三米六齿)"
    states = ("smile_score", "smiling")
    recommended = True
    params = (
        Param("on_score", "ratio", "smile score at or above: smiling"),
        Param("off_score", "ratio", "smile score at or below: no longer smiling (video hysteresis)"),
        Param("upper_up_weight", "ratio", "weight of mouthUpperUp (upper lip raised) added to the blendshape smile"),
        Param("stretch_weight", "ratio", "weight of mouthStretch (lips stretched) added to the blendshape smile"),
        Param("width_weight", "ratio", "weight of the mouth widening (in IPD) added to the blendshape smile"),
        Param("roll_lower_weight", "ratio",
              "weight of mouthRollLower (lower lip rolled in) added to the smile (negative: counts against)"),
        Param("pucker_weight", "ratio",
              "weight of mouthPucker (pursed lips) added to the smile (negative: counts against)"),
        Param("neutral_mouth_width_ipd", "ipd", "mouth width / IPD of a neutral face, when no profile"),
        Param("personal_on_share", "ratio", "with a calibrated natural smile: smiling from this share of it "
              "(only ever lowers on_score)"),
        Param("personal_min_on_score", "ratio", "...but never below this score"),
    )
    cue_zh = "面带微笑"
    cue_en = "Smile"
    explain_zh = "服务中应面带自然、真诚的微笑，让客户感到亲切与受欢迎。"
    explain_en = "Keep a natural, sincere smile: it makes the customer feel welcome."

    def judge(self, f: Features, p: Params) -> Verdict:
        score = smile_evidence(f.values, p)
        if score is None:
            return self.unknown("face_not_visible")
        on = f.get("smile_on") if f.video else None
        smiling = bool(on) if on is not None else score >= num(p, "on_score")
        status: Status = "pass" if smiling else "warn"
        return self.verdict(status, score, num(p, "on_score"), smile_score=round(score, 4), smiling=smiling)


class SmileTeeth(FaceRule):
    """Six teeth 微笑露齿不超过六颗 (三米六齿): upper teeth counted by the ``teeth`` pixel
    measure on a near-frontal face with a mouth wide enough in pixels."""

    value_unit = "teeth"
    id = "face.smile_teeth"
    title_zh = "微笑露齿不超过六颗"
    title_en = "Smile showing at most six upper teeth"
    clause = "seed 003 三米六齿"
    states = ("upper_teeth_visible",)
    params = (
        Param("max_yaw_deg", "deg", "judge only when the head is turned no more than this"),
        Param("min_mouth_width_px", "px", "judge only when the mouth is at least this wide"),
        Param("warn_teeth", "teeth", "this many upper teeth or more warns", int),
        Param("fail_teeth", "teeth", "this many upper teeth or more fails", int),
    )
    cue_zh = "微笑露出六颗上牙即可"
    cue_en = "Show about six upper teeth"
    explain_zh = "标准微笑露出上排六颗牙齿左右（三米六齿）；露齿过多显得夸张，不够端庄。"
    explain_en = ("A service smile shows about six upper teeth; a much wider grin looks "
                  "exaggerated rather than poised.")

    def judge(self, f: Features, p: Params) -> Verdict:
        front = self.frontal(f, p)
        if front is None:
            return self.unknown("face_not_visible")
        if not front:
            return self.unknown("face_not_frontal")
        mw = f.get("mouth_width_px")
        if mw is None or mw < num(p, "min_mouth_width_px"):
            return self.unknown("mouth_too_small")
        if f.get("teeth_judged") is None:
            return self.unknown("teeth_not_measured")
        count = f.get("teeth_count")
        if f.get("teeth_judged") != 1.0 or count is None:
            return self.unknown("mouth_too_small")
        n = round(count)
        status = grade(float(n), num(p, "warn_teeth"), num(p, "fail_teeth"))
        return self.verdict(status, float(n), num(p, "fail_teeth"), upper_teeth_visible=n)


class Gaze(FaceRule):
    """Gaze 目光注视对方: head pose plus iris offset within a cone around the target (the
    camera when practising alone); in video, gaze shifts per minute (looking around) warn
    and fail. In a role-play the target is the other person: the head turned towards them,
    and the shifts are counted away from them (``FaceTemporal.update_partner``)."""

    id = "face.gaze"
    title_zh = "目光注视对方，不东张西望"
    title_en = "Look at the other person, do not look around"
    clause = "seed 003 眼神; seed 002 与客人交谈"
    states = ("gaze_on_target", "gaze_shifts_per_min")
    params = (
        Param("target_yaw_deg", "deg", "gaze yaw of the target (0 = the camera)"),
        Param("target_pitch_deg", "deg", "gaze pitch of the target"),
        Param("max_yaw_deg", "deg", "gaze within this yaw of the target counts as on target"),
        Param("max_pitch_deg", "deg", "gaze within this pitch of the target counts as on target"),
        Param("min_off_s", "s", "looking away at least this long counts as a shift"),
        Param("warn_shifts_per_min", "1/min", "this many gaze shifts per minute warns"),
        Param("fail_shifts_per_min", "1/min", "this many gaze shifts per minute fails"),
        Param("window_s", "s", "window for the shift rate"),
        Param("min_window_s", "s", "video needed before the rate is judged"),
    )
    cue_zh = "请看着对方"
    cue_en = "Look at the customer"
    explain_zh = "交谈时目光应落在对方眼睛至唇部之间，东张西望显得心不在焉。"
    explain_en = ("While talking, look at the area between the customer's eyes and mouth; "
                  "glancing around looks inattentive.")

    def check(self, f: Features, p: Params) -> Verdict:
        # A role-play reads the head's direction from the pose (nose against the ears), so
        # it needs no face landmarks: a face filmed from the side at 2-3 m is often not
        # found by the face model at all.
        if f.person and partner_in_view(f.values):
            return self.judge(f, p)
        return super().check(f, p)

    def judge(self, f: Features, p: Params) -> Verdict:
        if partner_in_view(f.values):
            # A role-play: the target is the other person, not the camera. Filmed from the
            # side the iris cannot be read; the head turned towards them is the measure
            # (two_person.facing_other, as for handshake.attention).
            facing = f.get("looking_at_target")
            if facing is None:
                return self.unknown("head_not_visible")
            toward = facing == 1.0
            spm = f.get("gaze_shifts_per_min") if f.video else None
            if spm is not None:
                return self._rate(spm, toward, p)
            return self.verdict("pass" if toward else "warn", facing, 1.0, gaze_on_target=toward)
        on = gaze_on(f.values, p)
        if on is None:
            return self.unknown("face_not_visible")
        spm = f.get("gaze_shifts_per_min") if f.video else None
        if spm is not None:
            return self._rate(spm, on, p)
        return self.verdict("pass" if on else "warn", f.get("gaze_yaw_deg") or f.get("head_yaw_deg"),
                            num(p, "max_yaw_deg"), gaze_on_target=on)

    def _rate(self, spm: float, on: bool, p: Params) -> Verdict:
        """Judge the shift rate (the target the stream counted against), on target now."""
        status = grade(spm, num(p, "warn_shifts_per_min"), num(p, "fail_shifts_per_min"))
        if status == "pass" and not on:
            status = "warn"
        return self.verdict(status, spm, num(p, "fail_shifts_per_min"),
                            gaze_on_target=on, gaze_shifts_per_min=round(spm, 2))


class BlinkRate(FaceRule):
    """Blink rate 不频繁急速眨眼: blinks per minute from the eyeBlink blendshapes with
    hysteresis (video only)."""

    value_unit = "per_min"
    id = "face.blink_rate"
    title_zh = "不频繁急速眨眼"
    title_en = "No rapid, frequent blinking"
    clause = "seed 003 眼神"
    states = ("blinks_per_min",)
    needs_video = True
    params = (
        Param("close_blink", "ratio", "eyeBlink at or above: eyes closed"),
        Param("open_blink", "ratio", "eyeBlink at or below: eyes open again"),
        Param("max_blink_s", "s", "a closure longer than this is not a blink"),
        Param("warn_blinks_per_min", "1/min", "blink rate that warns"),
        Param("fail_blinks_per_min", "1/min", "blink rate that fails"),
        Param("window_s", "s", "window for the rate"),
        Param("min_window_s", "s", "video needed before the rate is judged"),
    )
    cue_zh = "请放松，减少眨眼"
    cue_en = "Relax your eyes"
    explain_zh = "频繁急速地眨眼显得紧张或不耐烦；正常约每分钟 15–20 次。"
    explain_en = "Rapid, frequent blinking looks nervous or impatient; about 15-20 a minute is normal."

    def judge(self, f: Features, p: Params) -> Verdict:
        bpm = f.get("blinks_per_min")
        if bpm is None:
            if f.get("blink") is None:
                return self.unknown("eyes_not_visible")
            return self.unknown("warming_up")
        status = grade(bpm, num(p, "warn_blinks_per_min"), num(p, "fail_blinks_per_min"))
        return self.verdict(status, bpm, num(p, "warn_blinks_per_min"), blinks_per_min=round(bpm, 2))


class Yawn(FaceRule):
    """No yawning 不打哈欠: the mouth open tall (inner-lip gap / mouth width) or the jaw
    wide open, not laughing; in video it must last ``min_yawn_s``."""

    id = "face.yawn"
    title_zh = "不打哈欠"
    title_en = "No yawning"
    clause = "seed 003 表情; seed 001 仪态禁忌"
    states = ("yawning",)
    params = (
        Param("open_mouth_ar", "ratio", "inner-lip gap / mouth width at or above: mouth wide open"),
        Param("open_jaw", "ratio", "jawOpen blendshape at or above: mouth wide open"),
        Param("max_smile", "ratio", "a smile above this is a laugh, not a yawn"),
        Param("min_yawn_s", "s", "video: the mouth must stay open this long"),
    )
    cue_zh = "请避免打哈欠"
    cue_en = "Don't yawn"
    explain_zh = "当着客户打哈欠显得疲惫、怠慢；确需时应侧身并用手遮掩。"
    explain_en = "Yawning in front of a customer looks tired and dismissive; turn away and cover it if you must."

    def judge(self, f: Features, p: Params) -> Verdict:
        now = mouth_yawning(f.values, p)
        if now is None:
            return self.unknown("face_not_visible")
        if f.video:
            open_s = f.get("yawn_open_s")
            if open_s is None:
                return self.unknown("face_not_visible")
            yawning = open_s >= num(p, "min_yawn_s")
            return self.verdict("fail" if yawning else "pass", open_s, num(p, "min_yawn_s"), yawning=yawning)
        return self.verdict("fail" if now else "pass", f.get("mouth_ar"), num(p, "open_mouth_ar"),
                            yawning=now)


class Expression(FaceRule):
    """Warm expression 表情热情自信: no sustained brow-lowering, frown or sneer above the
    person's neutral (cold, angry or doubtful looks)."""

    id = "face.expression"
    title_zh = "表情热情自信，不冷漠、愤怒、怀疑"
    title_en = "Warm, confident expression: not cold, angry or doubtful"
    clause = "seed 003 表情"
    states = ("negative_expression",)
    params = (
        Param("min_score", "ratio", "browDown / mouthFrown / noseSneer above neutral at or above: negative"),
        Param("fail_score", "ratio", "a negative score this strong fails"),
        Param("min_negative_s", "s", "video: the look must last this long"),
    )
    cue_zh = "放松眉头，表情友善"
    cue_en = "Relax your brow"
    explain_zh = "皱眉、撇嘴或嗤鼻会让客户感到冷漠、不满或怀疑；保持放松、友善的表情。"
    explain_en = ("Frowning, pulling down the mouth or sneering reads as cold, angry or doubtful; "
                  "keep a relaxed, friendly look.")

    def judge(self, f: Features, p: Params) -> Verdict:
        score = f.get("negative_expression_score")
        if score is None:
            return self.unknown("face_not_visible")
        negative = score >= num(p, "min_score")
        if f.video:
            neg_s = f.get("negative_expression_s")
            negative = neg_s is not None and neg_s >= num(p, "min_negative_s")
        status: Status = "pass"
        if negative:
            status = "fail" if score >= num(p, "fail_score") else "warn"
        return self.verdict(status, score, num(p, "min_score"), negative_expression=negative)


class Nod(FaceRule):
    """Nod while listening 倾听时点头示意: pitch dips and returns (video). Recommended:
    too few nods only warns."""

    value_unit = "per_min"
    id = "face.nod"
    title_zh = "倾听时不时点头示意"
    title_en = "Nod now and then while listening"
    clause = "seed 002 与客人交谈; seed 003 表情"
    states = ("nods_per_min",)
    needs_video = True
    recommended = True
    params = (
        Param("nod_amp_deg", "deg", "a nod dips the head at least this far below its baseline"),
        Param("max_nod_s", "s", "and comes back within this time"),
        Param("baseline_s", "s", "time constant of the slow pitch baseline"),
        Param("min_nods_per_min", "1/min", "fewer nods per minute than this warns"),
        Param("window_s", "s", "window for the rate"),
        Param("min_window_s", "s", "video needed before the rate is judged"),
    )
    cue_zh = "倾听时适当点头"
    cue_en = "Nod as you listen"
    explain_zh = "倾听客户时不时点头示意，表示理解和尊重。"
    explain_en = "Nodding now and then while the customer talks shows that you follow and respect them."

    def judge(self, f: Features, p: Params) -> Verdict:
        npm = f.get("nods_per_min")
        if npm is None:
            return self.unknown("warming_up")
        status: Status = "pass" if npm >= num(p, "min_nods_per_min") else "warn"
        return self.verdict(status, npm, num(p, "min_nods_per_min"), nods_per_min=round(npm, 2))


FACE_RULES: tuple[type[Rule], ...] = (Smile, SmileTeeth, Gaze, BlinkRate, Yawn, Expression, Nod)
