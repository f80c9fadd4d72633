"""A fake camera for Chromium: sample-clip frames written as a Y4M file.

Shared by ``bench/page.py`` and ``tests/server/test_browser.py`` (which adds this folder
to ``sys.path``); Chromium plays it with ``--use-file-for-fake-video-capture``.
"""

from __future__ import annotations

from pathlib import Path

import cv2
import numpy as np


def write_clip_y4m(src: Path, out: Path, first: int = 0, last: int = 10**9, seconds: float = 4.0,
                   fps: int = 30) -> Path:
    """Frames ``first..last`` (inclusive) of a 15 fps sample clip as a 640×480, ``fps``
    I420 Y4M: each frame repeated to reach ``fps``, played forwards then backwards (no
    jump cut to reset tracking) until ``seconds`` are filled. Chromium loops the file."""
    cap = cv2.VideoCapture(str(src))
    src_fps = cap.get(cv2.CAP_PROP_FPS) or 15.0
    frames: list[np.ndarray] = []
    i = 0
    while True:
        ok, img = cap.read()
        if not ok or i > last:
            break
        if i >= first:
            frames.append(cv2.resize(img, (640, 480)))
        i += 1
    cap.release()
    if not frames:
        raise ValueError(f"no frames {first}..{last} in {src}")
    repeat = max(1, round(fps / src_fps))
    order = frames + frames[-2:0:-1] if len(frames) > 2 else frames
    total = round(seconds * fps)
    with out.open("wb") as f:
        f.write(f"YUV4MPEG2 W640 H480 F{fps}:1 Ip A1:1 C420jpeg\n".encode())
        n = 0
        while n < total:
            for img in order:
                yuv = cv2.cvtColor(img, cv2.COLOR_BGR2YUV_I420).tobytes()
                for _ in range(repeat):
                    f.write(b"FRAME\n")
                    f.write(yuv)
                    n += 1
                if n >= total:
                    break
    return out
