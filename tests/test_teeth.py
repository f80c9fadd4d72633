"""The teeth pixel measure on synthetic mouths drawn with numpy/cv2, and the arch model."""

from __future__ import annotations

import itertools
import json
import math
import time

import cv2
import numpy as np
import numpy.typing as npt
import pytest

from posture_coach.face_features import ADULT_IPD_MM, INNER_LIP_RING, L_IRIS, R_IRIS, DentalArch
from posture_coach.teeth import OUTER_LIP_RING, render_mouth_evidence, teeth_measure
from posture_coach.types import FaceObs, Frame, Observation

W, H = 640, 480
CX, CY = 320.0, 330.0
IPD_PX = 126.0  # 2 px per mm


def _ring(a: float, b: float) -> npt.NDArray[np.float64]:
    """20 points: lower lip image-left -> right (11), then upper right -> left (9)."""
    lower = [(CX + a * math.cos(math.pi - k * math.pi / 10), CY + b * math.sin(math.pi - k * math.pi / 10))
             for k in range(11)]
    upper = [(CX + a * math.cos(-k * math.pi / 10), CY + b * math.sin(-k * math.pi / 10)) for k in range(1, 10)]
    return np.array(lower + upper)


def synthetic_mouth(n_teeth: int, gap_b: float = 28.0, yaw_deg: float = 0.0, shade_from: int | None = None,
                    shade: tuple[int, int, int] = (100, 96, 90), gap_px: int = 1,
                    skin: tuple[int, int, int] = (205, 160, 135), tooth: tuple[int, int, int] = (235, 232, 222),
                    shown_px: float | None = None) -> tuple[npt.NDArray[np.uint8], Observation]:
    """A drawn mouth showing ``n_teeth`` upper teeth laid out by the arch model; teeth
    from the ``shade_from``-th outwards (0 = central incisor) in the cheeks' shadow
    (``shade``), ``gap_px`` dark pixels between neighbouring teeth; ``shown_px``: only
    this much of the crowns shows below the upper lip (default: all of them, ~16 mm)."""
    inner = _ring(72.0, gap_b)
    outer = _ring(84.0, gap_b + 22.0)
    lm = np.zeros((478, 3))
    lm[:, 0], lm[:, 1] = CX / W, (CY - 150) / H
    for idx, p in zip(INNER_LIP_RING, inner, strict=True):
        lm[idx, :2] = p[0] / W, p[1] / H
    for idx, p in zip(OUTER_LIP_RING, outer, strict=True):
        lm[idx, :2] = p[0] / W, p[1] / H
    lm[R_IRIS, :2] = (CX - IPD_PX / 2) / W, (CY - 150) / H
    lm[L_IRIS, :2] = (CX + IPD_PX / 2) / W, (CY - 150) / H
    img = np.zeros((H, W, 3), np.uint8)
    img[:] = skin
    cv2.fillPoly(img, [np.round(outer).astype(np.int32)], (170, 70, 80))  # lips
    mouth = np.zeros((H, W), np.uint8)
    cv2.fillPoly(mouth, [np.round(inner).astype(np.int32)], 1)
    img[mouth > 0] = (45, 20, 25)  # cavity
    teeth = np.zeros_like(mouth)
    px_mm = IPD_PX / ADULT_IPD_MM
    left, right = DentalArch().boundaries(yaw_deg)
    n_left = (n_teeth + 1) // 2
    for edges, n in ((left, n_left), (right, n_teeth - n_left)):
        for i in range(n):
            a, b = sorted((CX + edges[i] * px_mm, CX + edges[i + 1] * px_mm))
            tone = 2 if shade_from is not None and i >= shade_from else 1
            bottom = CY + 4 if shown_px is None else CY - gap_b + shown_px
            cv2.rectangle(teeth, (int(a) + gap_px, int(CY - gap_b)), (int(b) - gap_px, int(bottom)), tone, -1)
    img[(teeth == 1) & (mouth > 0)] = tooth
    img[(teeth == 2) & (mouth > 0)] = shade
    th = math.radians(yaw_deg)
    mat = np.eye(4)
    mat[0, 0], mat[0, 2], mat[2, 0], mat[2, 2] = math.cos(th), math.sin(th), -math.sin(th), math.cos(th)
    obs = Observation(0, 0, (W, H), face=FaceObs(lm, {}, mat), ran=frozenset({"face"}))
    return img, obs


@pytest.mark.parametrize("n", [0, 2, 4, 6, 8, 10])
def test_count_within_one(n: int) -> None:
    img, obs = synthetic_mouth(n)
    m = teeth_measure(Frame(img, 0, 0), obs)
    assert m is not None and m["judged"]
    assert abs(m["count"] - n) <= 1, m
    json.dumps(m)  # replayable


@pytest.mark.parametrize("n", [6, 8])
def test_shadowed_side_teeth_counted(n: int) -> None:
    # Canines and premolars in the cheeks' shadow: grey, darker than the incisors but
    # whiter than the lips; the hysteresis mask keeps them (the band used to stop at 4).
    img, obs = synthetic_mouth(n, shade_from=2)
    m = teeth_measure(Frame(img, 0, 0), obs)
    assert m is not None and abs(m["count"] - n) <= 1, m


def test_dark_gaps_bridged() -> None:
    # 3.5 mm dark gaps between teeth (8 px here; the band used to stop at the first) are bridged.
    img, obs = synthetic_mouth(8, gap_px=4)
    m = teeth_measure(Frame(img, 0, 0), obs)
    assert m is not None and abs(m["count"] - 8) <= 1, m


def test_not_whiter_than_skin_is_not_teeth() -> None:
    # A pale grey patch in the opening, greyer than the lips but not whiter than the skin
    # around the mouth (pale skin or a highlight the landmarks let in), is not teeth.
    img, obs = synthetic_mouth(6, skin=(235, 205, 190), tooth=(172, 170, 167))
    m = teeth_measure(Frame(img, 0, 0), obs)
    assert m is not None and m["count"] == 0, m
    img, obs = synthetic_mouth(6, skin=(235, 205, 190))  # real teeth on very fair skin still count
    m = teeth_measure(Frame(img, 0, 0), obs)
    assert m is not None and abs(m["count"] - 6) <= 1, m


def test_thin_strip_of_edges_is_zero() -> None:
    # The labelling rule: a tooth counts when at least half of its crown shows. A yawning
    # upper lip that lets only ~2 mm of the incisal edges show (4 px at 2 px/mm; central
    # crowns are ~10.5 mm) shows no tooth by that rule.
    img, obs = synthetic_mouth(8, shown_px=4.0)
    m = teeth_measure(Frame(img, 0, 0), obs)
    assert m is not None and m["judged"] and m["count"] == 0, m
    assert m["zero_reason"] == "less_than_half_crowns"


def test_more_than_half_crowns_counted() -> None:
    # ~7 mm of ~10 mm crowns (14 px) shown: every tooth counts.
    img, obs = synthetic_mouth(8, shown_px=14.0)
    m = teeth_measure(Frame(img, 0, 0), obs)
    assert m is not None and abs(m["count"] - 8) <= 1, m


def test_yellowish_teeth_counted() -> None:
    # Enamel and dentin are yellowish; stained teeth reach b* ~ 30 (drawn here): yellow
    # must not read as lip (the old chroma weighting dropped these to 0).
    img, obs = synthetic_mouth(6, tooth=(215, 190, 120))
    m = teeth_measure(Frame(img, 0, 0), obs)
    assert m is not None and abs(m["count"] - 6) <= 1, m


@pytest.mark.parametrize("n", [0, 6, 8])
def test_dim_light_counted_and_cavity_not_teeth(n: int) -> None:
    # The whole face in dim light (gamma 1.8, mid-grey 128 -> 48): the margins scale with
    # the light, and the dark grey cavity does not become teeth.
    img, obs = synthetic_mouth(n, shade_from=2)
    dim = (255.0 * (img / 255.0) ** 1.8).astype(np.uint8)
    m = teeth_measure(Frame(dim, 0, 0), obs)
    assert m is not None and abs(m["count"] - n) <= 1, m


def test_crown_heights_follow_the_arch() -> None:
    arch = DentalArch()
    left, _right = arch.boundaries(0.0)
    mid = (left[:-1] + left[1:]) / 2  # the centre of each left tooth
    assert np.allclose(arch.crown_heights_at(mid), arch.heights_mm)
    assert np.allclose(arch.crown_heights_at(-mid), arch.heights_mm)  # symmetric at yaw 0
    assert arch.crown_heights_at(np.array([500.0]))[0] == arch.heights_mm[-1]


def test_closed_lips_zero() -> None:
    img, obs = synthetic_mouth(6, gap_b=1.0)
    m = teeth_measure(Frame(img, 0, 0), obs)
    assert m is not None and m["count"] == 0


def test_turned_face_not_judged() -> None:
    img, obs = synthetic_mouth(6, yaw_deg=30.0)
    m = teeth_measure(Frame(img, 0, 0), obs)
    assert m is not None and not m["judged"] and m["reason"] == "face_not_frontal"


def test_moderate_yaw_counted() -> None:
    img, obs = synthetic_mouth(6, yaw_deg=15.0)
    m = teeth_measure(Frame(img, 0, 0), obs)
    assert m is not None and abs(m["count"] - 6) <= 1, m


@pytest.mark.parametrize("yaw", [0.0, 10.0, 20.0, -20.0])
def test_arch_monotonic(yaw: float) -> None:
    arch = DentalArch()
    counts = [arch.count(e / 2, e / 2, yaw) for e in np.linspace(0, 70, 141)]
    assert all(b >= a for a, b in itertools.pairwise(counts))
    assert counts[0] == 0 and counts[-1] >= 10


def test_arch_six_teeth_band() -> None:
    # Six upper teeth (incisors + canines) span about half an inter-pupil distance.
    assert DentalArch().count_ipd(0.26, 0.26) == 6


def test_render_evidence() -> None:
    img, obs = synthetic_mouth(6)
    out = render_mouth_evidence(img, obs)
    assert out.dtype == np.uint8 and out.ndim == 3 and out.shape[2] == 3


def test_teeth_measure_cost() -> None:
    img, obs = synthetic_mouth(6)
    frame = Frame(img, 0, 0)
    for _ in range(3):  # the first call pays one-off set-up (~100 ms), not the measure's cost
        teeth_measure(frame, obs)
    medians = []
    for _ in range(3):
        cpu = []
        for _ in range(30):
            t0 = time.thread_time()
            teeth_measure(frame, obs)
            cpu.append((time.thread_time() - t0) * 1000)
        medians.append(float(np.median(cpu)))
    # This thread's CPU time, median: the cost of the code itself. Wall time on the shared
    # 2-core machine mostly measures the other jobs (bench/face_eval.py reports both, and
    # is where the 2 ms bar is measured: 1.5 ms on an idle core of this stop's
    # machine). Even thread CPU time reads up to ~1.8x slower while the other vCPU (a
    # hyperthread sibling) is busy, as it is inside the full test run (2.6-2.7 ms seen in
    # CI), so this guard allows 3 ms: it catches a doubling of the code's cost, not noise.
    assert min(medians) < 3.0, medians
