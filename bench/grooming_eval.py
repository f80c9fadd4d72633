#!/usr/bin/env python3
"""Grooming checks (issue 9): F1 on synthetic material, false alarms on real faces.

Synthetic material (generated here with numpy/cv2, never stored):

* face checks: procedural stubble / beard, hair strands or a fringe over the brows and
  eyes, and painted hair caps in natural or unusual colours, over REAL faces from
  ``../shared/data/real/genki4k_faces64`` (4x upscaled; face landmarks from the
  FaceLandmarker cache of ``bench/face_eval.py``);
* nails: drawn hands (skin colour taken from the same real faces' cheeks) with natural
  nails, nude polish (negatives) or vivid polish (positives);
* badge: drawn torsos with a card on the left chest (negative) or none / on the right /
  tilted (positives).

Each item is rendered under five light set-ups (normal, dim, bright, warm, side) and
JPEG-compressed. Skin-tone groups are by the individual typology angle (ITA°) of the
base face's cheeks: light > 41°, intermediate 10..41°, dark <= 10° (a photo's ITA mixes
skin and lighting: it is a grouping for parity checks, not a skin-type label).
Thresholds in ``calibration/default.toml`` were chosen on the odd-numbered GENKI base
faces (``--half odd``; facial_hair and hair_tidy on ``--n 40`` of them, a reviewer's marks
of issues already in those photos in :data:`REVIEW_ODD`, plus 14 odd-numbered faces a
reviewer picked as dark-skinned and clean-shaven, because the photo-ITA "dark" group of
the odd half is mostly dim photos of lighter skin); the report uses the even ones
(``--half even``, default), which were not used for tuning.

Real faces: every frontal GENKI-4K face and every teeth_faces face, unmodified; a rule
flag there is a false alarm unless the face really shows the issue. ``--montage DIR``
writes the flagged crops as PNGs for review by eye.

Usage::

    .venv/bin/python bench/face_eval.py extract      # once: fills the landmark cache
    .venv/bin/python bench/grooming_eval.py synth [--half even|odd|all] [--n 40]
    .venv/bin/python bench/grooming_eval.py real [--montage /tmp/grooming_flags]
    .venv/bin/python bench/grooming_eval.py timing
"""

from __future__ import annotations

import argparse
import csv
import gzip
import itertools
import json
import math
import sys
import time
import tomllib
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import cv2
import numpy as np

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO / "src"))

from posture_coach import grooming as G  # noqa: E402
from posture_coach.features import Features, View  # noqa: E402
from posture_coach.rules.base import Rule  # noqa: E402
from posture_coach.rules.grooming import GROOMING_RULES  # noqa: E402
from posture_coach.types import FaceObs, Frame, HandObs, Observation, PoseObs  # noqa: E402

DATA = (REPO / ".." / "shared" / "data" / "real").resolve()
CACHE = Path.home() / ".cache" / "posture-coach" / "face_eval"
LIGHTS = ("normal", "dim", "bright", "warm", "side")
GROUPS = ("light", "intermediate", "dark")
CHECKS = ("facial_hair", "hair_tidy", "hair_colour", "nails", "badge")
UP = 4  # GENKI upscale
PAD = 128  # face_eval pads 0.5 * 256 on every side
TOP = 110  # rows of background added above the face for the hair cap

Img = np.ndarray

#: One reviewer's look (by eye, on the 4x GENKI crops) at the 60 even-half base faces that
#: ``base_faces("even", 20)`` picks: skin tone (l light, m medium, d dark; a judgement of
#: the photo, not a skin-type measurement) and issues already present in the real photo
#: (h facial hair, f hair over brows/eyes, s sunglasses/eyes hidden). A face with an issue
#: is left out of that check's synthetic set: it is not a valid negative.
REVIEW_EVEN: dict[int, str] = {
    2168: "l", 2174: "l", 2184: "ls", 2186: "lh", 2218: "l", 2226: "mh", 2242: "d", 2244: "lh", 2272: "l",
    2284: "lf", 2288: "lf", 2292: "m", 2296: "d", 2302: "l", 2304: "lf", 2320: "m", 2330: "lh", 2366: "l",
    2388: "m", 2398: "l", 2290: "df", 2364: "lh", 2508: "dh", 2552: "l", 2576: "mh", 2698: "mh", 3042: "mh",
    3052: "m", 3120: "m", 3132: "mh", 3150: "l", 3184: "lf", 3250: "ms", 3272: "m", 3352: "lh", 3366: "mh",
    3372: "l", 94: "d", 528: "l", 596: "d", 2190: "d", 2222: "lh", 2240: "l", 2246: "dh", 2258: "lh", 2310: "l",
    2342: "dhf", 2348: "m", 2354: "d", 2374: "l", 2408: "mf", 2428: "dh", 2430: "m", 2466: "dhs", 2540: "lf",
    2554: "m", 2582: "l", 2592: "lf", 2598: "m", 2604: "l",
}
#: The same look at the 60 odd-half base faces that ``base_faces("odd", 20)`` picks (the
#: tuning half; tone is left to the photo ITA there): issues already in the real photo.
REVIEW_ODD: dict[int, str] = {
    2177: "h", 2193: "h", 2267: "h", 2311: "h", 2329: "h", 2349: "f", 2357: "h", 2375: "h", 2391: "s",
    2403: "f", 2449: "h", 2919: "h", 2977: "h", 3103: "h", 227: "f", 539: "h", 653: "h", 745: "s", 1013: "f",
    3509: "h", 3825: "s", 2219: "h", 2221: "h", 2243: "h", 2285: "h", 2289: "f", 2365: "h", 2401: "h",
    2419: "h", 2525: "h",
    # the next 48 that base_faces("odd", 40) adds
    2405: "h", 2437: "h", 2459: "f", 2477: "h", 2499: "h", 2517: "hs", 2519: "h", 2523: "h", 2535: "h", 2565: "f",
    3879: "h", 1625: "h", 1883: "h", 2557: "f", 2679: "h", 2749: "h", 2823: "h", 2853: "h", 2907: "h", 2945: "h",
    3005: "h", 3035: "h",
    # seen on a second, larger look (4x, one at a time) at faces the first pass had missed
    2551: "h", 2811: "h", 2943: "h", 61: "h", 2469: "f",
}
TONE = {"l": "light", "m": "intermediate", "d": "dark"}


# ----------------------------------------------------------------------------- io

def manifest(name: str) -> list[dict[str, str]]:
    with (DATA / name / "MANIFEST.tsv").open(encoding="utf-8") as fh:
        return list(csv.DictReader(fh, delimiter="\t"))


def read_cache(name: str) -> dict[str, dict[str, Any]]:
    out: dict[str, dict[str, Any]] = {}
    with gzip.open(CACHE / f"{name}.jsonl.gz", "rt") as fh:
        for line in fh:
            d = json.loads(line)
            out[d["key"]] = d["obs"]
    return out


def read_rgb(path: Path) -> Img:
    bgr = cv2.imread(str(path), cv2.IMREAD_COLOR)
    if bgr is None:
        raise FileNotFoundError(path)
    return np.ascontiguousarray(cv2.cvtColor(bgr, cv2.COLOR_BGR2RGB))


def genki_face(row: dict[str, str], obs_d: dict[str, Any], top: int = TOP) -> tuple[Img, Observation] | None:
    """The 4x upscaled GENKI crop (no replicate padding) with ``top`` rows of plain
    background above it, and its face landmarks moved into that image."""
    if obs_d.get("face") is None:
        return None
    img = read_rgb(DATA / "genki4k_faces64" / row["relpath"])
    big = cv2.resize(img, (img.shape[1] * UP, img.shape[0] * UP), interpolation=cv2.INTER_CUBIC)
    h, w = big.shape[:2]
    pw, ph = w + 2 * PAD, h + 2 * PAD
    canvas = np.empty((h + top, w, 3), np.uint8)
    canvas[top:] = big
    canvas[:top] = np.median(big[:6].reshape(-1, 3), axis=0).astype(np.uint8)
    lm = np.asarray(obs_d["face"]["lm"], np.float64)
    px = lm[:, 0] * pw - PAD
    py = lm[:, 1] * ph - PAD + top
    lm2 = lm.copy()
    lm2[:, 0], lm2[:, 1] = px / w, py / (h + top)
    face = FaceObs(lm2, {}, None if obs_d["face"].get("mat") is None else np.asarray(obs_d["face"]["mat"]))
    return canvas, Observation(0, 0, (w, h + top), face=face, ran=frozenset({"face"}))


def genki_number(relpath: str) -> int:
    return int("".join(ch for ch in Path(relpath).stem if ch.isdigit()) or 0)


# ----------------------------------------------------------------------------- colour

def lab2rgb(lab: tuple[float, float, float]) -> np.ndarray:
    px = np.array([[lab]], np.float32)
    rgb = cv2.cvtColor(px, cv2.COLOR_Lab2RGB)[0, 0]
    return np.clip(rgb * 255.0, 0, 255)


def cheek_rgb(img: Img, obs: Observation) -> np.ndarray:
    assert obs.face is not None
    w, h = obs.image_size
    pts = obs.face.landmarks[:, :2] * np.array([w, h])
    ipd = float(np.hypot(*(pts[263] - pts[33]))) * 0.72
    vals = []
    for i in (50, 280):
        m = np.zeros(img.shape[:2], np.uint8)
        cv2.circle(m, (round(pts[i, 0]), round(pts[i, 1])), max(2, round(0.13 * ipd)), 1, -1)
        vals.append(img[m > 0])
    return np.median(np.vstack(vals), axis=0).astype(np.float64)


def grey_world(img: Img) -> np.ndarray:
    """Per-channel gains that make the photo's mean grey (removes most colour casts)."""
    m = img.reshape(-1, 3).astype(np.float64).mean(axis=0)
    gains: np.ndarray = m.mean() / np.maximum(m, 1.0)
    return gains


def ita_deg(rgb: np.ndarray) -> float:
    lab = cv2.cvtColor(np.array([[np.clip(rgb, 0, 255) / 255.0]], np.float32), cv2.COLOR_RGB2Lab)[0, 0]
    return math.degrees(math.atan2(float(lab[0]) - 50.0, float(lab[2])))


def group_of(ita: float) -> str:
    return "light" if ita > 41 else "intermediate" if ita > 10 else "dark"


# ----------------------------------------------------------------------------- lighting

def relight(img: Img, light: str, rng: np.random.Generator) -> Img:
    f = img.astype(np.float32)
    if light == "dim":
        f = f * 0.45 + rng.normal(0, 2.5, f.shape)
    elif light == "bright":
        f = f * 1.15 + 8
    elif light == "warm":
        f = f * np.array([1.12, 1.0, 0.78], np.float32)
    elif light == "side":
        ramp = np.linspace(0.6, 1.15, f.shape[1], dtype=np.float32)
        if rng.random() < 0.5:
            ramp = ramp[::-1]
        f = f * ramp[None, :, None]
    out = np.clip(f + rng.normal(0, 1.5, f.shape), 0, 255).astype(np.uint8)
    ok, enc = cv2.imencode(".jpg", cv2.cvtColor(out, cv2.COLOR_RGB2BGR), [cv2.IMWRITE_JPEG_QUALITY, 85])
    assert ok
    return np.ascontiguousarray(cv2.cvtColor(cv2.imdecode(enc, cv2.IMREAD_COLOR), cv2.COLOR_BGR2RGB))


# ----------------------------------------------------------------------------- face synth

def _ff(obs: Observation) -> tuple[Any, np.ndarray]:
    assert obs.face is not None
    w, h = obs.image_size
    pts = obs.face.landmarks[:, :2] * np.array([float(w), float(h)])
    return G._FaceFrame(pts), pts


def _blend(img: Img, alpha: np.ndarray, colour: np.ndarray) -> Img:
    a = np.clip(alpha, 0, 1)[..., None]
    return np.clip(img.astype(np.float32) * (1 - a) + colour.astype(np.float32) * a, 0, 255).astype(np.uint8)


def add_stubble(img: Img, obs: Observation, rng: np.random.Generator, density: float) -> Img:
    """Procedural stubble / beard: a dark under-skin shadow plus 1-2 px hair dots over
    the moustache, chin and (for full styles) jaw, feathered at the edges."""
    ff, pts = _ff(obs)
    up = ff.to_face(pts[[2, 0, 17, 152, 61, 291]])
    mw = float(abs(up[5, 0] - up[4, 0]))
    mu = float((up[4, 0] + up[5, 0]) / 2)
    m = np.zeros(img.shape[:2], np.uint8)
    must = ff.rect(mu - 0.62 * mw, mu + 0.62 * mw, float(up[0, 1]) + 0.1 * float(up[1, 1] - up[0, 1]), float(up[1, 1]))
    cv2.fillPoly(m, [np.round(must).astype(np.int32)], 1)
    lower = [361, 288, 397, 365, 379, 378, 400, 377, 152, 148, 176, 149, 150, 136, 172, 58, 132]
    if rng.random() < 0.6:  # full: jaw and chin
        cv2.fillPoly(m, [np.round(pts[lower]).astype(np.int32)], 1)
    else:  # goatee: chin only
        chin = ff.rect(mu - 0.5 * mw, mu + 0.5 * mw, float(up[2, 1]), float(up[3, 1]))
        cv2.fillPoly(m, [np.round(chin).astype(np.int32)], 1)
    lips = np.zeros_like(m)
    cv2.fillPoly(lips, [np.round(pts[list((61, 146, 91, 181, 84, 17, 314, 405, 321, 375, 291, 409, 270, 269, 267,
                                             0, 37, 39, 40, 185))]).astype(np.int32)], 1)
    m[lips > 0] = 0
    feather = cv2.GaussianBlur(m.astype(np.float32), (0, 0), max(1.0, 0.04 * ff.ipd))
    hair = lab2rgb((float(rng.uniform(10, 24)), float(rng.uniform(0, 5)), float(rng.uniform(2, 10))))
    dots = (rng.random(img.shape[:2]) < 0.5 * density).astype(np.float32)
    if rng.random() < 0.5:
        dots = np.maximum(dots, np.roll(dots, 1, axis=int(rng.integers(0, 2))))  # 2-px hairs
    dots = cv2.GaussianBlur(dots, (0, 0), 0.5)
    alpha = feather * (0.12 + 0.45 * density + 0.6 * dots)
    return _blend(img, alpha, hair)


def add_strands(img: Img, obs: Observation, rng: np.random.Generator, n: int, fringe: bool) -> Img:
    """Hair strands (quadratic curves, 1-3 px) from the hairline across the brows and
    eyes, or a fringe: a hair blob hanging over the brows."""
    ff, pts = _ff(obs)
    bt = ff.to_face(pts[[70, 63, 105, 66, 107, 300, 293, 334, 296, 336]])
    eb = ff.to_face(pts[[145, 374]])
    vtop, veye = float(bt[:, 1].min()), float(eb[:, 1].max())
    colour = lab2rgb((float(rng.uniform(12, 30)), float(rng.uniform(0, 6)), float(rng.uniform(2, 14))))
    out = img.copy()
    if fringe:
        m = np.zeros(img.shape[:2], np.uint8)
        xs = np.linspace(-1.0, 1.0, 9)
        depth = vtop + rng.uniform(0.15, 0.35) + 0.08 * rng.standard_normal(9)
        edge = [(float(x), float(d)) for x, d in zip(xs[::-1], depth[::-1], strict=True)]
        poly = [(-1.0, vtop - 0.8), (1.0, vtop - 0.8), *edge]
        cv2.fillPoly(m, [np.round(ff.to_img(np.array(poly))).astype(np.int32)], 1)
        out = _blend(out, cv2.GaussianBlur(m.astype(np.float32), (0, 0), 1.0) * 0.95, colour)
    for _ in range(n):
        u0 = rng.uniform(-0.9, 0.9)
        p0 = (u0, vtop - rng.uniform(0.3, 0.7))
        p2 = (u0 + rng.uniform(-0.4, 0.4), veye + rng.uniform(0.0, 0.35))
        p1 = ((p0[0] + p2[0]) / 2 + rng.uniform(-0.3, 0.3), (p0[1] + p2[1]) / 2)
        t = np.linspace(0, 1, 40)[:, None]
        curve = (1 - t) ** 2 * np.array(p0) + 2 * (1 - t) * t * np.array(p1) + t**2 * np.array(p2)
        c = tuple(int(v) for v in np.clip(colour + rng.normal(0, 6, 3), 0, 255))
        cv2.polylines(out, [np.round(ff.to_img(curve)).astype(np.int32)], False, c, int(rng.integers(1, 4)),
                      cv2.LINE_AA)
    return out


NATURAL_HAIR: tuple[tuple[float, float, float], ...] = (
    (16, 1, 2), (24, 5, 9), (33, 9, 16), (45, 10, 22), (66, 4, 26), (32, 18, 20), (48, 22, 36), (62, 0, 3),
    (82, 0, 5), (55, 8, 30),
)
UNUSUAL_HAIR: tuple[tuple[float, float, float], ...] = (
    (40, 12, -45), (52, -34, -12), (50, -42, 30), (34, 40, -42), (66, 44, -6), (50, 62, -30), (46, 66, 46),
    (70, 40, 75), (60, -20, -35), (75, -30, 60),
)


def add_hair_cap(img: Img, obs: Observation, rng: np.random.Generator, lab: tuple[float, float, float]) -> Img:
    """A hair cap above the forehead in a given CIELAB colour, with strand texture."""
    ff, pts = _ff(obs)
    v10 = float(ff.to_face(pts[10])[1])
    m = np.zeros(img.shape[:2], np.uint8)
    centre = ff.to_img(np.array([0.0, v10 + 0.25]))
    cv2.ellipse(m, (round(centre[0]), round(centre[1])), (round(1.35 * ff.ipd), round(1.0 * ff.ipd)),
                math.degrees(math.atan2(ff.u[1], ff.u[0])), 180, 360, 1, -1)
    cut = ff.to_face(np.stack(np.meshgrid(np.arange(img.shape[1]), np.arange(img.shape[0])), -1).reshape(-1, 2)
                     .astype(np.float64))[:, 1].reshape(img.shape[:2])
    m[cut > v10 + rng.uniform(0.0, 0.12)] = 0
    base = lab2rgb(lab)
    tex = rng.normal(0, 1, img.shape[:2]).astype(np.float32)
    tex = cv2.GaussianBlur(tex, (1, 15), 0) * 10  # vertical strands
    hair = np.clip(base[None, None, :] + tex[..., None] * (0.4 + lab[0] / 100.0), 0, 255)
    alpha = cv2.GaussianBlur(m.astype(np.float32), (0, 0), 1.0)[..., None]
    return np.clip(img * (1 - alpha) + hair * alpha, 0, 255).astype(np.uint8)


# ----------------------------------------------------------------------------- hands

def draw_hands(rng: np.random.Generator, skin: np.ndarray, nail: str) -> tuple[Img, Observation]:
    """A drawn right hand, fingers up, back to the camera. ``nail``: natural, nude or polish."""
    W, H = 480, 400
    bg = rng.integers(60, 230, 3)
    img = np.empty((H, W, 3), np.float32)
    img[:] = bg
    s = rng.uniform(0.85, 1.25)
    cx, wy = W / 2 + rng.uniform(-30, 30), H - 20.0
    lm = np.zeros((21, 3))
    lm[0, :2] = cx, wy
    mcp_x = np.array([-42, -14, 14, 40]) * s
    lens = np.array([[46, 28, 24], [50, 32, 26], [47, 30, 25], [38, 22, 21]]) * s
    fan = np.radians([-8, -2, 3, 9])
    width = 19 * s
    for f in range(4):
        base = np.array([cx + mcp_x[f], wy - 150 * s + abs(f - 1.5) * 6 * s])
        d = np.array([math.sin(fan[f]), -math.cos(fan[f])])
        lm[5 + 4 * f, :2] = base
        p = base.copy()
        for k in range(3):
            p = p + d * lens[f, k]
            lm[6 + 4 * f + k, :2] = p
    # thumb: out to the image-left for a right hand seen from the back
    tb = np.array([cx - 45 * s, wy - 40 * s])
    for k, (dx, dy) in enumerate(((-20, -22), (-18, -22), (-14, -20), (-12, -18))):
        tb = tb + np.array([dx, dy]) * s
        lm[1 + k, :2] = tb
    skin_c = skin.astype(np.float32)
    palm = np.array([lm[0, :2] + (-55 * s, 0), lm[5, :2] + (-8 * s, 0), lm[17, :2] + (10 * s, 0),
                     lm[0, :2] + (50 * s, 0)])
    cv2.fillPoly(img, [np.round(palm).astype(np.int32)], tuple(float(v) for v in skin_c))
    for chain in ((1, 2, 3, 4), (5, 6, 7, 8), (9, 10, 11, 12), (13, 14, 15, 16), (17, 18, 19, 20)):
        for a, b in itertools.pairwise(chain):
            cv2.line(img, tuple(np.round(lm[a, :2]).astype(int)), tuple(np.round(lm[b, :2]).astype(int)),
                     tuple(float(v) for v in skin_c), round(width), cv2.LINE_AA)
    cv2.line(img, tuple(np.round(lm[0, :2]).astype(int)), tuple(np.round(lm[1, :2]).astype(int)),
             tuple(float(v) for v in skin_c), round(width * 1.4), cv2.LINE_AA)
    # nails
    skin_lab = cv2.cvtColor(np.array([[skin_c / 255]], np.float32), cv2.COLOR_RGB2Lab)[0, 0]
    if nail == "natural":
        nl = (skin_lab[0] + rng.uniform(3, 9), skin_lab[1] + rng.uniform(2, 8), skin_lab[2] - rng.uniform(0, 6))
    elif nail == "nude":
        nl = (skin_lab[0] + rng.uniform(-3, 6), skin_lab[1] + rng.uniform(1, 6), skin_lab[2] + rng.uniform(-4, 3))
    else:
        nl = tuple(float(v) for v in rng.choice(np.array(POLISH)))
    nc = lab2rgb((float(nl[0]), float(nl[1]), float(nl[2])))
    for f in range(4):
        dip, tip = lm[7 + 4 * f, :2], lm[8 + 4 * f, :2]
        c = dip + 0.62 * (tip - dip)
        ang = math.degrees(math.atan2(tip[1] - dip[1], tip[0] - dip[0]))
        ln = float(np.hypot(*(tip - dip)))
        cv2.ellipse(img, (round(c[0]), round(c[1])), (round(0.36 * ln), round(0.3 * width)), ang, 0, 360,
                    tuple(float(v) for v in nc), -1, cv2.LINE_AA)
    # shading and texture
    yy = np.linspace(0.9, 1.08, H, dtype=np.float32)[:, None, None]
    img = img * yy + rng.normal(0, 2.0, img.shape).astype(np.float32)
    img = cv2.GaussianBlur(img, (0, 0), 0.7)
    out = np.clip(img, 0, 255).astype(np.uint8)
    norm = lm.copy()
    norm[:, 0] /= W
    norm[:, 1] /= H
    hand = HandObs(norm, "right", 0.95)
    return out, Observation(0, 0, (W, H), hands=(hand,), ran=frozenset({"hands"}))


POLISH: tuple[tuple[float, float, float], ...] = (
    (40, 62, 40), (30, 50, 20), (20, 25, 5), (15, 2, -2), (45, 20, -50), (60, 60, -10), (55, -40, 20),
    (70, 30, 60), (35, 45, -35), (85, -5, 70),
)


# ----------------------------------------------------------------------------- torso

SHIRTS: tuple[tuple[int, int, int], ...] = (
    (245, 245, 242), (30, 40, 80), (25, 25, 28), (130, 130, 135), (170, 200, 230), (150, 30, 40), (235, 225, 200),
)


def draw_torso(rng: np.random.Generator, skin: np.ndarray, badge: str) -> tuple[Img, Observation]:
    """A drawn upper body (front). ``badge``: left (correct), none, right, tilted, centre."""
    W, H = 480, 480
    img = np.empty((H, W, 3), np.float32)
    img[:] = rng.integers(90, 220, 3)
    sw = rng.uniform(190, 240)
    cx, sy = W / 2 + rng.uniform(-20, 20), rng.uniform(150, 190)
    ls, rs = np.array([cx + sw / 2, sy]), np.array([cx - sw / 2, sy])  # subject's left = image right
    shirt = np.array(SHIRTS[int(rng.integers(0, len(SHIRTS)))], np.float32)
    off = np.array([[-20, 10], [-10, -12], [10, -12], [20, 10]], np.float64)
    body = np.array([rs + off[0], rs + off[1], ls + off[2], ls + off[3], (ls[0] + 10, H), (rs[0] - 10, H)])
    cv2.circle(img, (round(cx), round(sy - 0.55 * sw)), round(0.3 * sw), tuple(float(v) for v in skin), -1)
    cv2.rectangle(img, (round(cx - 0.1 * sw), round(sy - 0.35 * sw)), (round(cx + 0.1 * sw), round(sy)),
                  tuple(float(v) for v in skin), -1)
    cv2.fillPoly(img, [np.round(body).astype(np.int32)], tuple(float(v) for v in shirt))
    # collar and placket, folds
    dark = tuple(float(v) for v in shirt * 0.8)
    cv2.line(img, (round(cx), round(sy)), (round(cx), H), dark, 2)
    cv2.line(img, (round(cx - 0.12 * sw), round(sy - 8)), (round(cx), round(sy + 0.12 * sw)), dark, 2)
    cv2.line(img, (round(cx + 0.12 * sw), round(sy - 8)), (round(cx), round(sy + 0.12 * sw)), dark, 2)
    if rng.random() < 0.5:  # a pocket in the shirt's own colour
        px = cx + (1 if rng.random() < 0.5 else -1) * 0.25 * sw
        cv2.rectangle(img, (round(px - 0.1 * sw), round(sy + 0.3 * sw)), (round(px + 0.1 * sw), round(sy + 0.55 * sw)),
                      dark, 1)
    folds = cv2.GaussianBlur(rng.normal(0, 1, (H, W)).astype(np.float32), (0, 0), 12) * 60
    img = img + folds[..., None]
    if badge != "none":
        side = {"left": 1, "tilted": 1, "right": -1, "centre": 0}[badge]
        bx = cx + side * rng.uniform(0.18, 0.3) * sw
        by = sy + rng.uniform(0.3, 0.5) * sw
        tilt = rng.uniform(-5, 5) if badge != "tilted" else rng.choice([-1, 1]) * rng.uniform(25, 40)
        long_, short = 0.22 * sw * rng.uniform(0.85, 1.15), 0.14 * sw * rng.uniform(0.85, 1.15)
        portrait = rng.random() < 0.7
        size = (short, long_) if portrait else (long_, short)
        card_c = np.array([(250, 250, 250), (200, 225, 250), (250, 230, 120), (30, 90, 170)][int(rng.integers(0, 4))],
                          np.float32)
        if float(np.abs(card_c - shirt).sum()) < 60:
            card_c = np.array((30, 90, 170) if shirt.mean() > 128 else (250, 250, 250), np.float32)
        box = cv2.boxPoints(((bx, by), size, tilt))
        cv2.fillPoly(img, [np.round(box).astype(np.int32)], tuple(float(v) for v in card_c))
        # photo and text lines inside the card
        ph = cv2.boxPoints(((bx, by - 0.15 * size[1]), (0.4 * size[0], 0.35 * size[1]), tilt))
        cv2.fillPoly(img, [np.round(ph).astype(np.int32)], tuple(float(v) for v in skin * 0.8))
        for k in range(2):
            ln = cv2.boxPoints(((bx, by + (0.15 + 0.12 * k) * size[1]), (0.7 * size[0], 2.5), tilt))
            cv2.fillPoly(img, [np.round(ln).astype(np.int32)], (40, 40, 40))
    img = cv2.GaussianBlur(img, (0, 0), 0.6)
    out = np.clip(img, 0, 255).astype(np.uint8)
    lm = np.zeros((33, 3))
    lm[:, 0], lm[:, 1] = cx / W, (sy + sw) / H
    lm[11, :2] = ls[0] / W, ls[1] / H
    lm[12, :2] = rs[0] / W, rs[1] / H
    lm[0, :2] = cx / W, (sy - 0.55 * sw) / H
    vis = np.ones(33)
    pose = PoseObs(lm, vis, vis.copy())
    return out, Observation(0, 0, (W, H), pose=pose, ran=frozenset({"pose"}))


# ----------------------------------------------------------------------------- judging

def load_params() -> dict[str, dict[str, Any]]:
    with (REPO / "calibration" / "default.toml").open("rb") as fh:
        raw = tomllib.load(fh)
    return {f"grooming.{k}": v for k, v in raw["grooming"].items()}


RULES: dict[str, Rule] = {r.id.split(".", 1)[1]: r() for r in GROOMING_RULES}


def judge(check: str, image: Img, obs: Observation, params: dict[str, dict[str, Any]]) -> tuple[str, Any]:
    task = G.RULE_TASKS[f"grooming.{check}"]
    m = G.grooming_measure(Frame(image, 0, 0), obs, [task])  # per call, no process state
    obs2 = Observation(obs.frame_index, obs.timestamp_ms, obs.image_size, obs.pose, obs.face, obs.hands,
                       measures={"grooming": m})
    f = Features(0, True, View("front"), values=G.grooming_features(obs2))
    v = RULES[check].check(f, params[f"grooming.{check}"])
    return v.status, v


def f1(tp: int, fp: int, fn: int) -> float:
    return 2 * tp / max(1, 2 * tp + fp + fn)


class Tally:
    def __init__(self) -> None:
        self.c: dict[tuple[str, str, str], list[int]] = {}

    def add(self, check: str, group: str, light: str, label: bool, status: str) -> None:
        k = (check, group, light)
        row = self.c.setdefault(k, [0, 0, 0, 0, 0])  # tp fp fn tn unknown
        if status == "unknown":
            row[4] += 1
        elif status in ("warn", "fail"):
            row[0 if label else 1] += 1
        else:
            row[2 if label else 3] += 1

    def summary(self, check: str, by: Callable[[tuple[str, str, str]], bool]) -> dict[str, Any]:
        tp = fp = fn = tn = unk = 0
        for k, r in self.c.items():
            if k[0] == check and by(k):
                tp, fp, fn, tn, unk = tp + r[0], fp + r[1], fn + r[2], tn + r[3], unk + r[4]
        n = tp + fp + fn + tn
        return {"f1": round(f1(tp, fp, fn), 3), "n": n, "unknown": unk, "tp": tp, "fp": fp, "fn": fn, "tn": tn}


def base_faces(half: str, n_per_group: int) -> list[tuple[str, Img, Observation, str, np.ndarray]]:
    cache = read_cache("genki4k_faces64")
    rows = manifest("genki4k_faces64")
    out: dict[str, list[tuple[str, Img, Observation, str, np.ndarray]]] = {g: [] for g in GROUPS}
    for row in rows:
        num = genki_number(row["relpath"])
        if (half == "odd" and num % 2 == 0) or (half == "even" and num % 2 == 1):
            continue
        extra = json.loads(row["extra"])
        if abs(math.degrees(extra["yaw_rad"])) > 15 or abs(math.degrees(extra["pitch_rad"])) > 15:
            continue
        d = cache.get(row["relpath"])
        if d is None:
            continue
        got = genki_face(row, d)
        if got is None:
            continue
        img, obs = got
        sk = cheek_rgb(img, obs)
        g = group_of(ita_deg(sk * grey_world(img[TOP:])))
        if len(out[g]) < n_per_group:
            rv = REVIEW_EVEN.get(genki_number(row["relpath"])) if half == "even" else None
            if rv:  # the reviewer's tone replaces the photo ITA
                out[g].append((row["relpath"], img, obs, TONE[rv[0]], sk))
                continue
            out[g].append((row["relpath"], img, obs, g, sk))
        if all(len(v) >= n_per_group for v in out.values()):
            break
    return [x for g in GROUPS for x in out[g]]


def synth(half: str, n_per_group: int, seed: int = 0, verbose: bool = True) -> dict[str, Any]:
    params = load_params()
    rng = np.random.default_rng(seed)
    faces = base_faces(half, n_per_group)
    tally = Tally()
    counts = {g: sum(1 for f in faces if f[3] == g) for g in GROUPS}
    t0 = time.perf_counter()
    for key, img, obs, group, skin in faces:
        review = (REVIEW_EVEN if half == "even" else REVIEW_ODD).get(genki_number(key), "")
        for light in LIGHTS:
            # facial hair
            for label in (False, True) if "h" not in review else ():
                im = add_stubble(img, obs, rng, float(rng.choice([0.25, 0.45, 0.75]))) if label else img
                st = judge("facial_hair", relight(im, light, rng), obs, params)[0]
                tally.add("facial_hair", group, light, label, st)
            for label in (False, True) if not ("f" in review or "s" in review) else ():
                im = add_strands(img, obs, rng, int(rng.integers(8, 20)), bool(rng.random() < 0.4)) if label else img
                tally.add("hair_tidy", group, light, label, judge("hair_tidy", relight(im, light, rng), obs, params)[0])
            for label in (False, True):
                pal = UNUSUAL_HAIR if label else NATURAL_HAIR
                im = add_hair_cap(img, obs, rng, pal[int(rng.integers(0, len(pal)))])
                st = judge("hair_colour", relight(im, light, rng), obs, params)[0]
                tally.add("hair_colour", group, light, label, st)
            for label in (False, True):
                kind = "polish" if label else ("natural" if rng.random() < 0.6 else "nude")
                im, o = draw_hands(rng, skin, kind)
                tally.add("nails", group, light, label, judge("nails", relight(im, light, rng), o, params)[0])
            for label in (False, True):
                kind = str(rng.choice(["none", "right", "tilted", "centre"])) if label else "left"
                im, o = draw_torso(rng, skin, kind)
                tally.add("badge", group, light, label, judge("badge", relight(im, light, rng), o, params)[0])
    report: dict[str, Any] = {"half": half, "faces": counts, "seconds": round(time.perf_counter() - t0, 1)}
    for check in CHECKS:
        r: dict[str, Any] = {"all": tally.summary(check, lambda k: True)}
        for g in GROUPS:
            r[g] = tally.summary(check, lambda k, g=g: k[1] == g)
        for light in LIGHTS:
            r[light] = tally.summary(check, lambda k, light=light: k[2] == light)
        fs = [r[g]["f1"] for g in GROUPS if r[g]["n"]]
        r["group_gap"] = round(max(fs) - min(fs), 3) if fs else None
        report[check] = r
        if verbose:
            print(f"{check:12s} F1 {r['all']['f1']:.3f} (n={r['all']['n']}, unknown={r['all']['unknown']}) | "
                  + " ".join(f"{g} {r[g]['f1']:.3f}" for g in GROUPS) + " | "
                  + " ".join(f"{light} {r[light]['f1']:.3f}" for light in LIGHTS), flush=True)
    return report


# ----------------------------------------------------------------------------- real faces

def real_faces() -> Iterator[tuple[str, str, Img, Observation]]:
    cache = read_cache("genki4k_faces64")
    for row in manifest("genki4k_faces64"):
        extra = json.loads(row["extra"])
        if abs(math.degrees(extra["yaw_rad"])) > 20:
            continue
        d = cache.get(row["relpath"])
        got = genki_face(row, d, top=0) if d is not None else None
        if got is not None:
            yield "genki", row["relpath"], got[0], got[1]
    cache_t = read_cache("teeth_faces")
    for row in manifest("teeth_faces"):
        key = f"{row['relpath']}#{row.get('face_index', '0')}"
        d = cache_t.get(key)
        if d is None or d.get("face") is None:
            continue
        img = read_rgb(DATA / "teeth_faces" / row["relpath"])
        x0, y0, x1, y1 = (float(v) for v in row["face_box_xyxy"].split(","))
        w, h = x1 - x0, y1 - y0
        H, W = img.shape[:2]
        a, b = int(max(0, x0 - 0.6 * w)), int(max(0, y0 - 0.6 * h))
        c, e = int(min(W, x1 + 0.6 * w)), int(min(H, y1 + 0.6 * h))
        crop = np.ascontiguousarray(img[b:e, a:c])
        obs = Observation.from_dict(d)
        yield "teeth", key, crop, obs


def real(montage: Path | None) -> dict[str, Any]:
    params = load_params()
    stats: dict[str, dict[str, Any]] = {}
    flagged: dict[str, list[tuple[str, Img]]] = {c: [] for c in ("facial_hair", "hair_tidy", "hair_colour")}
    for src, key, img, obs in real_faces():
        for check in flagged:
            status, v = judge(check, img, obs, params)
            s = stats.setdefault(f"{src}:{check}", {"n": 0, "judged": 0, "flagged": 0, "reasons": {}})
            s["n"] += 1
            if status == "unknown":
                s["reasons"][v.reason] = s["reasons"].get(v.reason, 0) + 1
                continue
            s["judged"] += 1
            if status in ("warn", "fail"):
                s["flagged"] += 1
                flagged[check].append((f"{src}:{key}", evidence_tile(img, obs, check, v)))
    for s in stats.values():
        s["flag_rate"] = round(s["flagged"] / max(1, s["judged"]), 4)
    if montage is not None:
        montage.mkdir(parents=True, exist_ok=True)
        for check, tiles in flagged.items():
            for i in range(0, len(tiles), 48):
                chunk = tiles[i:i + 48]
                grid = tile_grid([t for _, t in chunk])
                cv2.imwrite(str(montage / f"{check}_{i // 48:02d}.png"), cv2.cvtColor(grid, cv2.COLOR_RGB2BGR))
                (montage / f"{check}_{i // 48:02d}.txt").write_text("\n".join(k for k, _ in chunk) + "\n")
    return stats


def evidence_tile(img: Img, obs: Observation, check: str, v: Any, size: int = 160) -> Img:
    assert obs.face is not None
    w, h = obs.image_size
    pts = obs.face.landmarks[:, :2] * np.array([w, h])
    x0, y0 = pts.min(axis=0)
    x1, y1 = pts.max(axis=0)
    pad = 0.35 * (x1 - x0)
    a, b = int(max(0, x0 - pad)), int(max(0, y0 - pad))
    c, d = int(min(w, x1 + pad)), int(min(h, y1 + pad))
    crop = cv2.resize(np.ascontiguousarray(img[b:d, a:c]), (size, size))
    val = v.value if isinstance(v.value, str) else f"{v.value:.2f}"
    cv2.putText(crop, f"{check[:6]} {val}", (3, 12), cv2.FONT_HERSHEY_SIMPLEX, 0.4, (255, 255, 0), 1, cv2.LINE_AA)
    return crop


def tile_grid(tiles: list[Img], cols: int = 8) -> Img:
    size = tiles[0].shape[0]
    rows = math.ceil(len(tiles) / cols)
    grid = np.zeros((rows * size, cols * size, 3), np.uint8)
    for i, t in enumerate(tiles):
        r, c = divmod(i, cols)
        grid[r * size:(r + 1) * size, c * size:(c + 1) * size] = t
    return grid


def timing() -> dict[str, float]:
    faces = base_faces("all", 3)
    _k, img, obs, _g, skin = faces[0]
    frame = Frame(np.ascontiguousarray(cv2.resize(img, (640, 480))), 0, 0)
    # a 640x480 frame with the face scaled into it
    sx, sy = 640 / img.shape[1], 480 / img.shape[0]
    assert obs.face is not None
    obs_big = Observation(0, 0, (640, 480), face=obs.face)
    del sx, sy
    hand_img, hand_obs = draw_hands(np.random.default_rng(0), skin, "polish")
    torso_img, torso_obs = draw_torso(np.random.default_rng(0), skin, "left")
    out: dict[str, float] = {}

    def t(fn: Callable[[], Any], n: int = 200) -> float:
        fn()
        t0 = time.perf_counter()
        for _ in range(n):
            fn()
        return (time.perf_counter() - t0) / n * 1000.0

    out["skipped_ms"] = t(lambda: G.grooming_measure(frame, obs_big, ()), 5000)
    out["face_ms"] = t(lambda: G.grooming_measure(frame, obs_big, ("face",)))
    out["hands_ms"] = t(lambda: G.grooming_measure(Frame(hand_img, 0, 0), hand_obs, ("hands",)))
    out["chest_ms"] = t(lambda: G.grooming_measure(Frame(torso_img, 0, 0), torso_obs, ("chest",)))
    return {k: round(v, 4) for k, v in out.items()}


def main() -> int:
    ap = argparse.ArgumentParser()
    sub = ap.add_subparsers(dest="cmd", required=True)
    s = sub.add_parser("synth")
    s.add_argument("--half", choices=("odd", "even", "all"), default="even")
    s.add_argument("--n", type=int, default=20, help="base faces per skin-tone group")
    s.add_argument("--json", action="store_true")
    r = sub.add_parser("real")
    r.add_argument("--montage", type=Path)
    sub.add_parser("timing")
    a = ap.parse_args()
    if a.cmd == "synth":
        rep = synth(a.half, a.n, verbose=not a.json)
        if a.json:
            print(json.dumps(rep, indent=1))
        else:
            print(json.dumps({"faces": rep["faces"], "seconds": rep["seconds"]}))
    elif a.cmd == "real":
        print(json.dumps(real(a.montage), indent=1))
    else:
        print(json.dumps(timing(), indent=1))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
