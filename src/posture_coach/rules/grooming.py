"""Grooming rules 仪容仪表 (seed 000 §一.二, seed 001 4.2.4/4.3, seed 003 着装要求/仪容).

A self-check before a shift, judged on the ``grooming`` pixel measure
(:mod:`posture_coach.grooming`) through :func:`~posture_coach.grooming.grooming_features`.
Which checks apply comes from the chosen rule pack (e.g. ``grooming_clean_shaven`` adds
the facial-hair check): never from guessing who the person is. The texts advise; they
do not scold. Accessories (首饰不超过三件) are not judged: earrings, rings and necklaces
are too small and too varied to count honestly from one camera frame.

These rules gate on their own measure, not on the shoulders: the face step is a
close-up and the hands step may show no face at all.
"""

from __future__ import annotations

from posture_coach.features import Features, ViewName
from posture_coach.grooming_features import reason_of
from posture_coach.rules.base import REASONS, Param, Params, Rule, Status, Verdict, grade, num

#: Reasons of grooming checks (codes are public; see posture_coach.grooming.REASON_CODES).
GROOMING_REASONS: dict[str, tuple[str, str]] = {
    "grooming_not_measured": ("此时未做仪容检查（仪容检查在仪容步骤或仪容练习中进行）",
                              "not checked here (grooming is checked in a grooming step or drill)"),
    "face_too_small": ("面部在画面中太小，请靠近镜头", "the face is too small in the image: come closer"),
    "face_not_frontal": ("请正脸面对镜头", "face the camera"),
    "too_dark": ("光线太暗，请到明亮处或打开灯", "too dark: move to a brighter place or switch a light on"),
    "overexposed": ("画面过曝，请避开强光直射", "overexposed: avoid direct strong light"),
    "skin_not_visible": ("看不到用来对比的皮肤区域", "no skin area to compare with"),
    "low_contrast": ("光线太平或对比度太低，无法分辨毛发", "light too flat: hair cannot be told from skin"),
    "hair_out_of_frame": ("头顶不在画面内，请稍微后退或调低镜头", "the top of the head is out of frame"),
    "hair_not_visible": ("额头上方看不到头发（如戴帽子）", "no hair visible above the forehead (e.g. a cap)"),
    "colour_cast": ("光线或摄像头偏色（皮肤看起来发绿、发蓝或发紫），无法判断发色，请在白光下再试",
                    "the light or the camera tints the picture (the skin looks green, blue or violet): hair colour "
                    "cannot be judged; try again under white light"),
    "hands_not_visible": ("画面中没有检测到手", "no hands in view"),
    "palm_facing_camera": ("请把手背朝向镜头", "turn the backs of your hands to the camera"),
    "hand_too_small": ("手在画面中太小，请把手靠近镜头", "the hands are too small in the image: bring them closer"),
    "hand_out_of_frame": ("手指不完整地在画面内", "the fingers are not fully in view"),
    "chest_not_visible": ("画面中看不到上身", "the upper body is not in view"),
    "chest_too_small": ("上身在画面中太小，请靠近镜头", "the upper body is too small in the image: come closer"),
    "chest_out_of_frame": ("胸前不在画面内，请后退一点", "the chest is out of frame: step back a little"),
}
for _code, _text in GROOMING_REASONS.items():
    REASONS.setdefault(_code, _text)

_ALL_VIEWS: frozenset[ViewName] = frozenset({"front", "oblique", "side", "unknown"})


class GroomingRule(Rule):
    default_enabled = False  # a self-check before a shift, chosen explicitly
    """Common gate: the rule's measure must be there; its own reason otherwise."""

    views = _ALL_VIEWS
    reason_key: str = ""

    def check(self, f: Features, p: Params) -> Verdict:
        return self.judge(f, p)

    def not_judged(self, f: Features) -> Verdict:
        return self.unknown(reason_of(f.get(self.reason_key)))


class FacialHair(GroomingRule):
    """Clean-shaven 面部剃净胡须: for the upper lip and the chin, how much darker than the
    upper cheeks the skin is, in units of the cheek-to-eyebrow contrast (≈ the share
    covered by hair), plus, weighted more, the excess of fine dark specks (stubble
    texture, relative to the local brightness) over the cheeks' own, plus the loss of
    redness against the cheeks (hair is grey-brown; a shadow under the nose or the lip's
    edge keeps the skin's or adds the lip's red). Only in packs whose dress code asks for it."""

    id = "grooming.facial_hair"
    title_zh = "面部剃净胡须"
    title_en = "Clean-shaven face"
    clause = "seed 000 §一.二 仪容规范 (面部剃净胡须); seed 003 仪容 (不蓄胡子)"
    states = ("facial_hair_score",)
    reason_key = "fh_reason"
    params = (
        Param("specks_weight", "ratio", "weight of the stubble-speck excess added to the coverage"),
        Param("redness_weight", "ratio", "weight of the redness loss (0..1, 10 a* units = 1) added to the score"),
        Param("warn_score", "ratio", "facial-hair score at or above: suggest a shave"),
        Param("fail_score", "ratio", "facial-hair score at or above: clearly visible beard or stubble"),
    )
    cue_zh = "上岗前建议剃净胡须"
    cue_en = "Consider a shave before your shift"
    explain_zh = ("本岗位的仪容规范要求面部剃净胡须。上唇或下巴处看起来比脸颊更暗、有细小的胡茬纹理。"
                  "如果是光线或阴影造成的，可以换个正面光线再试一次。")
    explain_en = ("This role's grooming code asks for a clean-shaven face. The upper lip or chin looks darker "
                  "than the cheeks, with a fine stubble texture. If it is just a shadow, try again facing the light.")

    def judge(self, f: Features, p: Params) -> Verdict:
        w, wr = num(p, "specks_weight"), num(p, "redness_weight")
        scores = []
        for reg in ("upper_lip", "chin"):
            cov, sp = f.get(f"fh_{reg}_coverage"), f.get(f"fh_{reg}_specks")
            if cov is not None and sp is not None:
                scores.append(cov + w * sp + wr * (f.get(f"fh_{reg}_redness_loss") or 0.0))
        if not scores:
            return self.not_judged(f)
        score = max(scores)
        status = grade(score, num(p, "warn_score"), num(p, "fail_score"))
        return self.verdict(status, score, num(p, "warn_score"), facial_hair_score=round(score, 4))


class HairTidy(GroomingRule):
    """Hair off the face 头发整洁，不遮挡面部: in the band from just above the eyebrows to
    below the eyes (the brows and eye openings themselves taken out), the share of
    hair-dark pixels (a fringe) plus, weighted, the share of thin dark lines running down
    the face (strands). Eyebrows and glasses rims run across the face and do not count as
    strands."""

    id = "grooming.hair_tidy"
    title_zh = "头发整洁，不遮挡面部"
    title_en = "Tidy hair, off the face"
    clause = "seed 000 §一.二 仪容规范 (头发保持干净、整洁); seed 003 仪容 (头发要保持清洁)"
    states = ("hair_over_face",)
    reason_key = "hof_reason"
    params = (
        Param("strands_weight", "ratio", "weight of the strand share added to the dark share"),
        Param("warn_share", "ratio", "dark share + weighted strand share at or above: warn"),
        Param("fail_share", "ratio", "score at or above: hair clearly over the brows or eyes"),
    )
    cue_zh = "整理一下额前的头发，露出眉眼"
    cue_en = "Tidy your fringe so your brows and eyes show"
    explain_zh = ("眉眼附近有头发遮挡。露出眉毛和眼睛显得精神、整洁，客户也更容易和您有目光交流。"
                  "戴眼镜时镜框也可能被算进去，请以画面为准自行判断。")
    explain_en = ("Some hair seems to fall over your brows or eyes. Keeping them clear looks fresh and tidy "
                  "and makes eye contact easier. Glasses frames can also count here: check the picture.")

    def judge(self, f: Features, p: Params) -> Verdict:
        share = f.get("hair_over_face_share")
        if share is None:
            return self.not_judged(f)
        score = share + num(p, "strands_weight") * (f.get("hair_strand_share") or 0.0)
        status = grade(score, num(p, "warn_share"), num(p, "fail_share"))
        return self.verdict(status, round(score, 4), num(p, "warn_share"), hair_over_face=status != "pass")


class HairColour(GroomingRule):
    """No unusual hair colour 不染怪异色彩: the median CIELAB colour of the non-skin pixels
    just above the forehead. Greys and low-chroma colours (black, brown, grey, white) are
    natural; a coloured hair is unusual when its hue lies outside the natural band
    (red-brown to blond) or its chroma is beyond natural hair's."""

    id = "grooming.hair_colour"
    title_zh = "头发不染怪异色彩"
    title_en = "No unusual hair colour"
    clause = "seed 000 §一.二 仪容规范 (不染怪异色彩)"
    states = ("hair_hue_unusual",)
    reason_key = "hc_reason"
    params = (
        Param("min_chroma", "lab", "CIELAB chroma below this: a neutral colour (black, grey, white)"),
        Param("natural_hue_min_deg", "deg", "natural hair hue band, lower edge (CIELAB hue angle)"),
        Param("natural_hue_max_deg", "deg", "natural hair hue band, upper edge"),
        Param("max_natural_chroma", "lab", "chroma at or above this is unusual whatever the hue"),
    )
    cue_zh = "发色建议保持自然"
    cue_en = "A natural hair colour is recommended"
    explain_zh = ("本岗位的仪容规范要求头发不染怪异色彩。头顶附近检测到的颜色（如蓝、绿、紫、粉或很鲜艳的颜色）"
                  "不在自然发色范围内。彩色背景或帽子也可能影响结果，请对照画面确认。")
    explain_en = ("This role's grooming code asks for no unusual hair colours. The colour above your forehead "
                  "(such as blue, green, purple, pink or a very vivid shade) is outside the natural range. A "
                  "coloured background or a hat can also cause this: check the picture.")

    def judge(self, f: Features, p: Params) -> Verdict:
        chroma, hue = f.get("hair_chroma"), f.get("hair_hue_deg")
        if chroma is None or hue is None:
            return self.not_judged(f)
        unusual = chroma >= num(p, "min_chroma") and (
            not num(p, "natural_hue_min_deg") <= hue <= num(p, "natural_hue_max_deg")
            or chroma >= num(p, "max_natural_chroma"))
        status: Status = "warn" if unusual else "pass"
        return self.verdict(status, chroma, num(p, "min_chroma"), hair_hue_unusual=unusual)


class Nails(GroomingRule):
    """Nails 指甲油与肤色色差不过大: CIE ΔE2000 between each fingernail (distal segment near
    the tip, back of the hand to the camera) and the skin of the same finger's middle
    segment; the median over the fingers seen. Nail length is not judged."""

    id = "grooming.nails"
    title_zh = "指甲整洁，指甲油与肤色色差不过大"
    title_en = "Neat nails, polish close to the skin tone"
    clause = "seed 000 §一.二 仪容规范 (不得涂颜色过于俗艳的指甲油); seed 003 仪容 (不可涂与肤色色差太大的指甲油)"
    states = ("nail_colour_delta_e",)
    reason_key = "nails_reason"
    params = (
        Param("warn_delta_e", "de2000", "median nail-to-finger ΔE2000 at or above: a noticeable polish"),
        Param("fail_delta_e", "de2000", "ΔE2000 at or above: a polish far from the skin tone"),
        Param("min_fingers", "fingers", "judge only with at least this many fingers measured", int),
    )
    cue_zh = "建议选用接近肤色的指甲油"
    cue_en = "A polish close to your skin tone is recommended"
    explain_zh = ("规范要求指甲油与肤色色差不宜过大。检测到指甲颜色与手指皮肤差别明显；"
                  "透明、裸色或淡粉色更符合要求。")
    explain_en = ("The code asks for nail polish close to the skin tone. Your nails differ clearly from your "
                  "finger skin; clear, nude or pale pink shades fit the code better.")

    def judge(self, f: Features, p: Params) -> Verdict:
        de, n = f.get("nail_delta_e"), f.get("nail_fingers")
        if de is None or n is None:
            return self.not_judged(f)
        if n < num(p, "min_fingers"):
            return self.unknown("hand_too_small")
        status = grade(de, num(p, "warn_delta_e"), num(p, "fail_delta_e"))
        return self.verdict(status, de, num(p, "warn_delta_e"), nail_colour_delta_e=round(de, 2))


class Badge(GroomingRule):
    """Badge on the left chest 工牌端正佩戴在左胸: a card-shaped patch (filled rectangle of
    card proportions and size, standing out from the shirt) between the sternum line and
    the subject's left shoulder, upright. A card only on the right chest is reported as
    such. A white card on a white shirt may not stand out: it then reads as missing."""

    id = "grooming.badge"
    title_zh = "工牌端正佩戴在左胸"
    title_en = "Badge worn straight on the left chest"
    clause = "seed 001 4.2.4 (工牌应端正佩戴在左胸适当位置); seed 003 着装要求 (工牌佩戴至标准位置)"
    states = ("badge_on_left_chest", "badge_tilt_deg")
    reason_key = "badge_reason"
    params = (
        Param("min_fill", "ratio", "card area / its bounding rectangle at or above: rectangular"),
        Param("min_aspect", "ratio", "long side / short side at least this"),
        Param("max_aspect", "ratio", "and at most this"),
        Param("min_area_sw2", "sw2", "card area at least this (shoulder widths squared)"),
        Param("max_area_sw2", "sw2", "and at most this"),
        Param("min_y_sw", "sw", "card centre at least this far below the shoulder line"),
        Param("max_y_sw", "sw", "and at most this far"),
        Param("max_tilt_deg", "deg", "a card tilted more than this is not straight"),
    )
    cue_zh = "请把工牌端正地戴在左胸"
    cue_en = "Wear your badge straight on your left chest"
    explain_zh = ("规范要求上班时佩戴工牌，端正地戴在左胸适当位置。没有在左胸看到卡片状的工牌，"
                  "或工牌歪斜、戴在了右侧。若工牌与衬衫颜色接近，可能无法识别，请对照画面确认。")
    explain_en = ("The code asks for the staff badge to be worn straight on the left chest. No card-shaped badge "
                  "was seen there, or it is tilted or on the right. A badge close in colour to the shirt may not "
                  "be recognised: check the picture.")

    def _is_card(self, f: Features, p: Params, side: str) -> bool:
        fill, aspect = f.get(f"badge_{side}_fill"), f.get(f"badge_{side}_aspect")
        area, y = f.get(f"badge_{side}_area_sw2"), f.get(f"badge_{side}_y_sw")
        if fill is None or aspect is None or area is None or y is None:
            return False
        return (fill >= num(p, "min_fill") and num(p, "min_aspect") <= aspect <= num(p, "max_aspect")
                and num(p, "min_area_sw2") <= area <= num(p, "max_area_sw2")
                and num(p, "min_y_sw") <= y <= num(p, "max_y_sw"))

    def judge(self, f: Features, p: Params) -> Verdict:
        if f.get("badge_chest_judged") != 1.0:
            return self.not_judged(f)
        if self._is_card(f, p, "left"):
            tilt = abs(f.get("badge_left_tilt_deg") or 0.0)
            status: Status = "pass" if tilt <= num(p, "max_tilt_deg") else "warn"
            return self.verdict(status, tilt, num(p, "max_tilt_deg"), badge_on_left_chest=True,
                                badge_tilt_deg=round(tilt, 2))
        value = "right_chest" if self._is_card(f, p, "right") else "not_seen"
        return self.verdict("warn", value, None, badge_on_left_chest=False)


GROOMING_RULES: tuple[type[Rule], ...] = (FacialHair, HairTidy, HairColour, Nails, Badge)
