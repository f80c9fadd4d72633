"""Procedural teeth: upper and lower dental arches of flat-shaded boxes behind the lips.

anny has no teeth (and no jaw bone: ``jawOpen`` is a blendshape), so the arches are laid
out once per body in the rest pose, just behind the lips' inner edge, and moved every
frame rigidly: the upper arch with the skull (a rigid fit of the back of the head), the
lower arch with the chin (a rigid fit of the chin vertices, so it follows ``jawOpen``).

Tooth crowns (mm, mesio-distal, midline outwards: central incisor, lateral, canine, two
premolars, first molar) lie end to end along the same parabola as the coach's
:class:`posture_coach.face_features.DentalArch`; ~10 mm tall crowns with ~0.5 mm dark
gaps, a little darker towards the back, a pink gum band above (below for the lower arch).

Every crown has its own part id (:data:`UPPER_PART0` + k, k = 0..11, right half first
from the midline, then the left half) so :func:`upper_teeth_visible` can count from the
part-id buffer which upper crowns are at least half visible through the lip opening.
"""

from __future__ import annotations

from dataclasses import dataclass

import cv2
import numpy as np
import numpy.typing as npt

from posture_coach.face_features import _arch_edges

FloatArray = npt.NDArray[np.float64]

WIDTHS_MM = (8.5, 6.5, 7.5, 7.0, 6.5, 10.0)
LOWER_WIDTHS_MM = (5.5, 6.0, 7.0, 7.0, 7.0, 11.0)
HALF_WIDTH_MM, DEPTH_MM = 17.5, 9.5
UPPER_PART0, LOWER_PART0, HEAD_PART = 100, 120, 1
GAP_MM = 0.5
MIN_VISIBLE = 0.5  # a crown counts when this share of its width shows (as DentalArch)


@dataclass
class TeethRig:
    """Rest-pose tooth boxes and the vertex sets that carry them."""

    upper: FloatArray  # (12 * 36, 9) rows: position, normal, colour (crowns)
    lower: FloatArray
    gums_upper: FloatArray
    gums_lower: FloatArray
    upper_fronts: FloatArray  # (12, 4, 3) labial face corners, rest pose
    skull_idx: npt.NDArray[np.int64]
    chin_idx: npt.NDArray[np.int64]
    rest: FloatArray  # rest vertices (V, 3)


def _tooth(centre_x: float, centre_y: float, ang: float, w: float, d: float, z0: float, z1: float,
           colour: tuple[float, float, float]) -> tuple[FloatArray, FloatArray]:
    """A box ``w`` wide along the arch tangent (angle ``ang`` about Z), ``d`` deep, from
    z0 to z1; returns rows and the labial (front, -Y side) face corners."""
    from posture_coach.synth.render import box

    rows = box((0.0, 0.0, (z0 + z1) / 2), (w, d, z1 - z0), colour)
    rz = np.array([[np.cos(ang), -np.sin(ang), 0], [np.sin(ang), np.cos(ang), 0], [0, 0, 1]])
    rows[:, :3] = rows[:, :3] @ rz.T + [centre_x, centre_y, 0.0]
    rows[:, 3:6] = rows[:, 3:6] @ rz.T
    front = np.array([[-w / 2, -d / 2, z0], [w / 2, -d / 2, z0], [w / 2, -d / 2, z1], [-w / 2, -d / 2, z1]])
    return rows, front @ rz.T + [centre_x, centre_y, 0.0]


def _arch(widths: tuple[float, ...], y0: float, edge_z: float, up: bool, gap_mm: float,
          shade0: float) -> tuple[FloatArray, FloatArray, FloatArray]:
    x_mm, z_mm = _arch_edges(widths, HALF_WIDTH_MM, DEPTH_MM)
    crowns, gums, fronts = [], [], []
    h = 0.010 if up else 0.009
    for side in (-1.0, 1.0):  # the person's right (-X) half first
        for i in range(len(widths)):
            xa, xb = side * x_mm[i] / 1000, side * x_mm[i + 1] / 1000
            ya, yb = y0 - z_mm[i] / 1000, y0 - z_mm[i + 1] / 1000  # arch goes back = +Y
            cx, cy = (xa + xb) / 2, (ya + yb) / 2
            chord = float(np.hypot(xb - xa, yb - ya))
            ang = float(np.arctan2(yb - ya, xb - xa))
            if side < 0:
                ang += np.pi
            shade = shade0 * (1.0 - 0.06 * i)
            col = (0.95 * shade, 0.93 * shade, 0.86 * shade)
            length = (h * (0.92 if i == 1 else 1.0)) if up else h
            z0, z1 = (edge_z, edge_z + length) if up else (edge_z - length, edge_z)
            if i == 2:  # canine: the cusp reaches a little further
                z0, z1 = (z0 - 0.0005, z1) if up else (z0, z1 + 0.0005)
            w = chord - gap_mm / 1000
            d = 0.007 if i < 3 else 0.009
            r, fr = _tooth(cx, cy + d / 2, ang, w, d, z0, z1, col)
            crowns.append(r)
            fronts.append(fr)
            gz0, gz1 = (z1 - 0.001, z1 + 0.006) if up else (z0 - 0.006, z0 + 0.001)
            g, _ = _tooth(cx, cy + d / 2 + 0.0008, ang, chord + 0.0004, d + 0.002, gz0, gz1, (0.72, 0.36, 0.38))
            gums.append(g)
    return np.concatenate(crowns), np.concatenate(gums), np.asarray(fronts)


def build_teeth(rest_v: FloatArray, mouth_mask: npt.NDArray[np.bool_], head_mask: npt.NDArray[np.bool_]) -> TeethRig:
    """Lay the arches out behind the rest pose's lip opening (anny's mouth cavity)."""
    mv = rest_v[mouth_mask]
    y_front = float(mv[:, 1].min())
    ring = mv[mv[:, 1] < y_front + 0.004]
    mid = ring[np.abs(ring[:, 0]) < 0.012]
    lip_z = float(np.median(mid[:, 2])) if len(mid) else float(np.median(ring[:, 2]))
    y_inc = y_front + 0.006  # labial face of the central incisors, behind the lips
    upper, gu, fronts = _arch(WIDTHS_MM, y_inc, lip_z - 0.0015, True, GAP_MM, 1.0)
    lower, gl, _ = _arch(LOWER_WIDTHS_MM, y_inc + 0.0025, lip_z - 0.0005, False, GAP_MM, 0.93)
    hv = rest_v
    head_c = rest_v[head_mask].mean(axis=0)
    skull = np.flatnonzero(head_mask & (hv[:, 1] > head_c[1] + 0.02) & (hv[:, 2] > lip_z + 0.04))
    chin = np.flatnonzero(head_mask & (hv[:, 2] < lip_z - 0.022) & (hv[:, 2] > lip_z - 0.05)
                          & (hv[:, 1] < y_front + 0.02) & (np.abs(hv[:, 0]) < 0.025))  # fmt: skip
    return TeethRig(upper, lower, gu, gl, fronts, skull, chin, rest_v)


def _kabsch(a: FloatArray, b: FloatArray) -> tuple[FloatArray, FloatArray]:
    """Rotation R and translation t with b ≈ a @ R.T + t."""
    ca, cb = a.mean(axis=0), b.mean(axis=0)
    u, _s, vt = np.linalg.svd((a - ca).T @ (b - cb))
    d = np.sign(np.linalg.det(vt.T @ u.T))
    r = vt.T @ np.diag([1.0, 1.0, d]) @ u.T
    return r, cb - ca @ r.T


def _move(rows: FloatArray, r: FloatArray, t: FloatArray) -> FloatArray:
    out = rows.copy()
    out[:, :3] = rows[:, :3] @ r.T + t
    out[:, 3:6] = rows[:, 3:6] @ r.T
    return out


def posed_teeth(rig: TeethRig, v: FloatArray) -> tuple[FloatArray, npt.NDArray[np.float32], FloatArray]:
    """Triangle rows (N, 9), part ids (N,) and the posed upper labial faces (12, 4, 3)
    for one frame's posed vertices ``v``."""
    ru, tu = _kabsch(rig.rest[rig.skull_idx], v[rig.skull_idx])
    rl, tl = _kabsch(rig.rest[rig.chin_idx], v[rig.chin_idx])
    up, lo = _move(rig.upper, ru, tu), _move(rig.lower, rl, tl)
    gu, gl = _move(rig.gums_upper, ru, tu), _move(rig.gums_lower, rl, tl)
    n_up, n_lo = len(rig.upper) // 36, len(rig.lower) // 36
    pid = np.concatenate([
        np.repeat(UPPER_PART0 + np.arange(n_up), 36), np.repeat(LOWER_PART0 + np.arange(n_lo), 36),
        np.full(len(gu) + len(gl), HEAD_PART),
    ]).astype(np.float32)  # fmt: skip
    fronts = rig.upper_fronts @ ru.T + tu
    return np.concatenate([up, lo, gu, gl]), pid, fronts


def upper_teeth_visible(part_map: npt.NDArray[np.uint8], fronts_px: FloatArray) -> tuple[int, list[float]]:
    """Count upper crowns at least :data:`MIN_VISIBLE` visible through the lips: the
    share of the image columns of the crown's projected front face in which some pixel
    of the crown (its part id) is visible, i.e. the horizontal share the coach's
    DentalArch counts with (a smile hides the crowns' upper halves behind the lip)."""
    h, w = part_map.shape
    fracs = []
    for k, quad in enumerate(fronts_px):
        mask = np.zeros((h, w), np.uint8)
        cv2.fillConvexPoly(mask, np.round(quad).astype(np.int32), 1)
        cols = mask.any(axis=0)
        seen = (part_map == UPPER_PART0 + k).any(axis=0) & cols
        n = int(cols.sum())
        fracs.append(round(float(seen.sum()) / n, 2) if n > 0 else 0.0)
    return sum(f >= MIN_VISIBLE for f in fracs), fracs
