"""Pure 2-D geometry on pixel points.

Every function takes points in **pixels** (``x`` right, ``y`` down, as in the image) and
returns plain floats. Angles are in degrees. Nothing here knows about rules or
thresholds; :mod:`posture_coach.features` turns landmarks into named measurements.

Working on plain ``(x, y)`` tuples rather than numpy arrays keeps a frame's worth of
features well under a millisecond: numpy's per-call overhead dominates on 2-vectors.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Sequence

Point = tuple[float, float]


def dist(a: Point, b: Point) -> float:
    """Euclidean distance between two points."""
    return math.hypot(a[0] - b[0], a[1] - b[1])


def midpoint(a: Point, b: Point) -> Point:
    """Point halfway between ``a`` and ``b``."""
    return ((a[0] + b[0]) / 2.0, (a[1] + b[1]) / 2.0)


def angle_from_vertical_deg(lower: Point, upper: Point) -> float:
    """Signed angle of the segment ``lower -> upper`` from straight up.

    Positive when ``upper`` lies to the image right of ``lower``. 0 = vertical,
    ±90 = horizontal. Image ``y`` grows downwards, hence the sign flip.
    """
    dx = upper[0] - lower[0]
    dy = lower[1] - upper[1]
    return math.degrees(math.atan2(dx, dy))


def line_tilt_deg(a: Point, b: Point) -> float:
    """Angle of the line through ``a`` and ``b`` against the horizontal, in (-90, 90].

    Positive when the line rises (in the image) from ``a`` towards ``b``, whichever
    order the points are in horizontally: the result describes the line, not the vector.
    """
    dx = b[0] - a[0]
    dy = a[1] - b[1]  # y up
    if dx < 0:
        dx, dy = -dx, -dy
    if dx == 0.0:
        return 90.0
    return math.degrees(math.atan2(dy, dx))


def interior_angle_deg(a: Point, vertex: Point, b: Point) -> float:
    """Angle ``a-vertex-b`` in [0, 180]; 180 = a straight limb."""
    ux, uy = a[0] - vertex[0], a[1] - vertex[1]
    vx, vy = b[0] - vertex[0], b[1] - vertex[1]
    nu = math.hypot(ux, uy)
    nv = math.hypot(vx, vy)
    if nu == 0.0 or nv == 0.0:
        return 180.0
    cos = max(-1.0, min(1.0, (ux * vx + uy * vy) / (nu * nv)))
    return math.degrees(math.acos(cos))


def vector_angle_deg(u: Point, v: Point) -> float:
    """Unsigned angle between two direction vectors, in [0, 180]."""
    return interior_angle_deg(u, (0.0, 0.0), v)


def point_line_distance(p: Point, a: Point, b: Point) -> float:
    """Distance from ``p`` to the infinite line through ``a`` and ``b``."""
    dx, dy = b[0] - a[0], b[1] - a[1]
    norm = math.hypot(dx, dy)
    if norm == 0.0:
        return dist(p, a)
    return abs(dx * (a[1] - p[1]) - dy * (a[0] - p[0])) / norm


def signed_offset_from_line(p: Point, a: Point, b: Point) -> float:
    """Signed distance of ``p`` from the line ``a -> b``; positive to the image-left side.

    "Left" of the direction ``a -> b`` with ``y`` down; for ``a`` = left shoulder and
    ``b`` = right shoulder of a person facing the camera, positive means below the line.
    """
    dx, dy = b[0] - a[0], b[1] - a[1]
    norm = math.hypot(dx, dy)
    if norm == 0.0:
        return 0.0
    return (dx * (p[1] - a[1]) - dy * (p[0] - a[0])) / norm


def rotate(p: Point, centre: Point, deg: float) -> Point:
    """Rotate ``p`` about ``centre`` by ``deg`` degrees counter-clockwise *as seen*.

    Pixel ``y`` points down, so a visual counter-clockwise turn is a clockwise one in
    the maths convention; the signs below account for that.
    """
    r = math.radians(deg)
    c, s = math.cos(r), math.sin(r)
    dx, dy = p[0] - centre[0], p[1] - centre[1]
    return (centre[0] + dx * c + dy * s, centre[1] - dx * s + dy * c)


def body_scale(sw: float, tl: float | None) -> float:
    """A body scale robust to turning: the shoulder width from the front, ~0.75 torso lengths
    (an adult's SW / TL seen from the front) when the shoulders collapse sideways."""
    return max(sw, 0.75 * tl) if tl else sw


def to_pixels(
    xy: Iterable[Sequence[float]], image_size: tuple[int, int]
) -> list[Point]:
    """Normalised ``(x, y[, z])`` rows to pixel points (``image_size`` = width, height)."""
    w, h = image_size
    return [(float(row[0]) * w, float(row[1]) * h) for row in xy]


def inside_image(p_norm: Sequence[float], margin: float = 0.0) -> bool:
    """Whether a *normalised* point lies inside the image, shrunk by ``margin`` (0..0.5)."""
    return margin <= p_norm[0] <= 1.0 - margin and margin <= p_norm[1] <= 1.0 - margin


def is_visible(
    visibility: float, p_norm: Sequence[float], min_visibility: float, margin: float = 0.0
) -> bool:
    """Visibility gate: confident enough *and* inside the frame.

    MediaPipe extrapolates joints that are out of frame (coordinates beyond 0..1) and
    sometimes gives them middling visibility, so both tests are needed.
    """
    return visibility >= min_visibility and inside_image(p_norm, margin)
