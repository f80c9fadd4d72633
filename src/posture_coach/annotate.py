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
        for rule_id, v in sorted(verdicts.items()):
            status = str(v.get("status", "unknown"))
            cv2.rectangle(bgr, (6, y - 11), (18, y + 1), STATUS_BGR.get(status, (150, 150, 150)), -1)
            cv2.putText(bgr, f"{rule_id}: {status}", (24, y), cv2.FONT_HERSHEY_SIMPLEX, 0.42,
                        (255, 255, 255), 2, cv2.LINE_AA)
            cv2.putText(bgr, f"{rule_id}: {status}", (24, y), cv2.FONT_HERSHEY_SIMPLEX, 0.42,
                        (30, 30, 30), 1, cv2.LINE_AA)
            y += 16
    return bgr


class AnnotatedVideoWriter:
    """Writes ``OUT.partial.mp4`` and renames it on success: never a half-written video."""

    def __init__(self, path: Path, fps: float, size: tuple[int, int]) -> None:
        self.path = path
        if is_special(path):
            raise SourceError(f"{path}: --annotate writes an MP4 file, not to a device or a pipe")
        self._tmp = path.with_name(path.stem + ".partial" + (path.suffix or ".mp4"))
        path.parent.mkdir(parents=True, exist_ok=True)
        self._writer: cv2.VideoWriter | None = None
        for fourcc in ("avc1", "mp4v"):
            code = cv2.VideoWriter_fourcc(*fourcc)  # type: ignore[attr-defined]
            wr = cv2.VideoWriter(str(self._tmp), code, fps or 30.0, size)
            if wr.isOpened():
                self._writer = wr
                break
            wr.release()
        if self._writer is None:
            raise SourceError(f"{path}: cannot write a video here (no MP4 encoder in this OpenCV build)")
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
