"""Drawing: skeleton, hands, face outline and rule statuses over a frame (OpenCV, no MediaPipe)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import cv2
import numpy as np

from .errors import SourceError
from .fileio import commit, discard, is_special
from .types import HAND_CONNECTIONS, POSE_CONNECTIONS, Observation

STATUS_BGR = {
    "pass": (80, 175, 76),
    "warn": (0, 170, 255),
    "fail": (60, 60, 230),
    "unknown": (150, 150, 150),
}
# Face outline (MediaPipe face-mesh oval) and inner lips, for a light overlay.
FACE_OVAL = (10, 338, 297, 332, 284, 251, 389, 356, 454, 323, 361, 288, 397, 365, 379, 378, 400,
             377, 152, 148, 176, 149, 150, 136, 172, 58, 132, 93, 234, 127, 162, 21, 54, 103, 67, 109)
INNER_LIPS = (78, 95, 88, 178, 87, 14, 317, 402, 318, 324, 308, 415, 310, 311, 312, 13, 82, 81, 80, 191)


def _px(lm: np.ndarray, w: int, h: int) -> np.ndarray:
    return np.stack([lm[:, 0] * w, lm[:, 1] * h], axis=1).round().astype(np.int32)


def draw_observation(bgr: np.ndarray, obs: Observation, verdicts: dict[str, Any] | None = None) -> np.ndarray:
    """Draw in place on a BGR image and return it."""
    h, w = bgr.shape[:2]
    if obs.pose is not None:
        pts = _px(obs.pose.landmarks, w, h)
        vis = obs.pose.visibility
        for a, b in POSE_CONNECTIONS:
            if vis[a] > 0.5 and vis[b] > 0.5:
                cv2.line(bgr, tuple(map(int, pts[a])), tuple(map(int, pts[b])), (255, 255, 255), 3, cv2.LINE_AA)
                cv2.line(bgr, tuple(map(int, pts[a])), tuple(map(int, pts[b])), (230, 160, 40), 2, cv2.LINE_AA)
        for i, p in enumerate(pts):
            if vis[i] > 0.5:
                cv2.circle(bgr, tuple(map(int, p)), 3, (40, 40, 230), -1, cv2.LINE_AA)
    for hand in obs.hands:
        pts = _px(hand.landmarks, w, h)
        colour = (60, 200, 60) if hand.side == "left" else (200, 120, 60)
        for a, b in HAND_CONNECTIONS:
            cv2.line(bgr, tuple(map(int, pts[a])), tuple(map(int, pts[b])), colour, 1, cv2.LINE_AA)
    if obs.face is not None:
        pts = _px(obs.face.landmarks, w, h)
        cv2.polylines(bgr, [pts[list(FACE_OVAL)]], True, (200, 200, 200), 1, cv2.LINE_AA)
        cv2.polylines(bgr, [pts[list(INNER_LIPS)]], True, (120, 120, 255), 1, cv2.LINE_AA)
    if verdicts:
        y = 18
        for text, status in overlay_rows(verdicts, h):
            if status is not None:
                cv2.rectangle(bgr, (6, y - 11), (18, y + 1), STATUS_BGR.get(status, (150, 150, 150)), -1)
            cv2.putText(bgr, text, (24, y), cv2.FONT_HERSHEY_SIMPLEX, 0.42, (255, 255, 255), 2, cv2.LINE_AA)
            cv2.putText(bgr, text, (24, y), cv2.FONT_HERSHEY_SIMPLEX, 0.42, (30, 30, 30), 1, cv2.LINE_AA)
            y += ROW_PX
    return bgr


ROW_PX = 16  # one line of the rule list


def overlay_rows(verdicts: dict[str, Any], height_px: int) -> list[tuple[str, str | None]]:
    """The rule list drawn on an annotated frame, as (text, status) rows: failures first,
    then warnings, then passes; rules that cannot judge the frame counted on one line, not
    listed (there are 30-odd rules); never more rows than fit the frame's height."""
    rank = {"fail": 0, "warn": 1, "pass": 2}
    judged = sorted((rank[st], rid, st) for rid, v in verdicts.items()
                    if (st := str(v.get("status", "unknown"))) in rank)
    unknown = len(verdicts) - len(judged)
    fits = max(1, (height_px - 8) // ROW_PX)
    tail = 1 if unknown else 0
    rows: list[tuple[str, str | None]] = [(f"{rid}: {st}", st) for _, rid, st in judged]
    if len(rows) + tail > fits:
        keep = max(0, fits - tail - 1)
        more = len(rows) - keep
        rows = [*rows[:keep], (f"+{more} more", None)]
    if unknown:
        rows.append((f"{unknown} cannot judge this frame", None))
    return rows


class AnnotatedVideoWriter:
    """Writes ``OUT.partial.mp4`` and renames it on success: never a half-written video."""

    def __init__(self, path: Path, fps: float, size: tuple[int, int]) -> None:
        self.path = path
        if is_special(path):
            raise SourceError(f"{path}: --annotate writes a video file, not to a device or a pipe")
        self._tmp = path.with_name(path.stem + ".partial" + (path.suffix or ".mp4"))
        path.parent.mkdir(parents=True, exist_ok=True)
        self._writer: cv2.VideoWriter | None = None
        # .webm: VP9, which browsers play (this OpenCV build has no H.264 encoder, and MPEG-4
        # part 2 in an .mp4 plays in desktop players but not in browsers); .avi: MJPEG.
        codecs = {".webm": ("VP90", "VP80"), ".avi": ("MJPG",)}.get(path.suffix.lower(), ("avc1", "mp4v"))
        for fourcc in codecs:
            code = cv2.VideoWriter_fourcc(*fourcc)  # type: ignore[attr-defined]
            wr = cv2.VideoWriter(str(self._tmp), code, fps or 30.0, size)
            if wr.isOpened():
                self._writer = wr
                break
            wr.release()
        if self._writer is None:
            raise SourceError(f"{path}: cannot write a {path.suffix or '.mp4'} video here "
                              f"(no {'/'.join(codecs)} encoder in this OpenCV build); try .webm or .avi")
        self.size = size

    def write(self, rgb: np.ndarray, obs: Observation, verdicts: dict[str, Any] | None) -> None:
        assert self._writer is not None
        bgr = cv2.cvtColor(rgb, cv2.COLOR_RGB2BGR)
        draw_observation(bgr, obs, verdicts)
        self._writer.write(bgr)

    def close(self, *, ok: bool = True) -> None:
        if self._writer is None:
            return
        self._writer.release()
        self._writer = None
        if ok:
            commit(self._tmp, self.path)
        else:
            discard(self._tmp, self.path)
