"""Frame sources: a webcam, any OpenCV-readable video, one image, or a folder of images.

Every source yields :class:`Frame` objects holding contiguous RGB uint8 images with
timestamps that strictly increase (MediaPipe's VIDEO mode rejects repeats). Files use the
container's presentation times, so that a phone's variable-frame-rate video keeps true
durations; where a container gives none that increase, the nominal frame interval stands in.
"""

from __future__ import annotations

import math
import os
import re
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Literal

import cv2
import numpy as np

from .errors import SourceError
from .types import Frame

IMAGE_SUFFIXES = frozenset({".jpg", ".jpeg", ".png", ".bmp", ".webp", ".tif", ".tiff"})
VIDEO_SUFFIXES = frozenset({".mp4", ".avi", ".mov", ".mkv", ".webm", ".m4v", ".mpg", ".mpeg", ".y4m"})
RECORDING_SUFFIXES = (".jsonl", ".jsonl.gz")

SourceKind = Literal["camera", "video", "image", "folder"]


@dataclass(frozen=True, slots=True)
class SourceInfo:
    kind: SourceKind
    name: str
    fps: float  # nominal; 0 for stills
    frame_count: int | None  # None when unknown (camera)
    width: int
    height: int

    @property
    def is_still(self) -> bool:
        return self.kind in ("image", "folder")


def _rgb(bgr: np.ndarray) -> np.ndarray:
    # cvtColor returns a fresh contiguous array (never a negative-stride view).
    return np.ascontiguousarray(cv2.cvtColor(bgr, cv2.COLOR_BGR2RGB))


def read_image(path: Path) -> np.ndarray:
    """Read an image file as contiguous RGB uint8, or raise SourceError."""
    data = np.fromfile(str(path), dtype=np.uint8)  # handles non-ASCII paths, unlike imread
    bgr = cv2.imdecode(data, cv2.IMREAD_COLOR) if data.size else None
    if bgr is None:
        raise SourceError(f"{path}: not a readable image (supported: {', '.join(sorted(IMAGE_SUFFIXES))})")
    return _rgb(bgr)


#: The most pixels :func:`decode_jpeg` decodes: a small file can claim a huge picture (a
#: 1.7 MB grey 12000×12000 JPEG decodes to 432 MB), and the live socket takes frames from
#: anyone who connects. The page sends 640×480.
MAX_DECODE_PIXELS = 4096 * 4096


def image_header_size(payload: bytes) -> tuple[int, int] | None:
    """``(width, height)`` a JPEG or PNG declares in its header, without decoding it; None
    when the header does not say (not a JPEG/PNG, or cut short)."""
    if payload[:8] == b"\x89PNG\r\n\x1a\n" and len(payload) >= 24:
        return int.from_bytes(payload[16:20], "big"), int.from_bytes(payload[20:24], "big")
    if payload[:2] != b"\xff\xd8":
        return None
    i = 2
    while i + 4 <= len(payload):
        if payload[i] != 0xFF:
            return None
        marker = payload[i + 1]
        if marker == 0xFF:  # fill byte
            i += 1
            continue
        if marker in (0xD8, 0x01) or 0xD0 <= marker <= 0xD7:  # no length
            i += 2
            continue
        length = int.from_bytes(payload[i + 2:i + 4], "big")
        # Start of frame (baseline, progressive, …; not DHT C4, JPG C8, DAC CC): the size.
        if 0xC0 <= marker <= 0xCF and marker not in (0xC4, 0xC8, 0xCC):
            if i + 9 > len(payload):
                return None
            h = int.from_bytes(payload[i + 5:i + 7], "big")
            w = int.from_bytes(payload[i + 7:i + 9], "big")
            return w, h
        i += 2 + length
    return None


def decode_jpeg(payload: bytes, max_pixels: int = MAX_DECODE_PIXELS) -> np.ndarray | None:
    """Decode a JPEG/PNG byte string to RGB, or None when it is not a valid image or
    declares more than ``max_pixels`` (checked from the header, before decoding)."""
    if not payload:
        return None
    size = image_header_size(payload)
    if size is not None and size[0] * size[1] > max_pixels:
        return None
    buf = np.frombuffer(payload, dtype=np.uint8)
    bgr = cv2.imdecode(buf, cv2.IMREAD_COLOR)
    return None if bgr is None else _rgb(bgr)


_MP4_HANDLER = re.compile(rb"hdlr.{8}(vide|soun)", re.S)


def sound_only(path: Path, window: int = 4 << 20) -> bool:
    """An MP4/MOV/M4A whose tracks are sound only (no picture): its track handlers
    (``hdlr`` boxes) read ``soun`` and never ``vide``. The header (``moov``) sits at the
    start or the end of the file: both ends are read, ``window`` bytes each."""
    try:
        with path.open("rb") as fh:
            head = fh.read(window)
            fh.seek(0, os.SEEK_END)
            end = fh.tell()
            fh.seek(max(0, end - window))
            tail = fh.read(window)
    except OSError:
        return False
    kinds = {m.group(1) for m in _MP4_HANDLER.finditer(head + tail)}
    return kinds == {b"soun"}


class FrameSource:
    """Base class: iterate to get frames; ``info`` describes the source."""

    info: SourceInfo

    def __iter__(self) -> Iterator[Frame]:  # pragma: no cover - abstract
        raise NotImplementedError

    def close(self) -> None:
        """Release the device or file."""

    def __enter__(self) -> FrameSource:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


#: ``stride=AUTO_STRIDE``: analyse about :data:`ANALYSIS_FPS` frames a second, whatever
#: the video's rate (a 30 fps video: every 2nd frame). Every rule threshold was tuned, and
#: the synthetic evaluation is rendered, at 15 fps; ``bench/accuracy.py --stride`` on
#: 30 fps renders measures what the stride changes (docs/RESULTS.md).
AUTO_STRIDE = 0
ANALYSIS_FPS = 15.0


def resolve_stride(stride: int, fps: float) -> int:
    """The frame stride to use: ``stride`` itself, or for :data:`AUTO_STRIDE` the largest
    stride that still analyses at least :data:`ANALYSIS_FPS` frames a second."""
    if stride < 0:
        raise ValueError("stride must be ≥ 0 (0 = auto)")
    if stride != AUTO_STRIDE:
        return stride
    return max(1, int(fps / ANALYSIS_FPS + 1e-6))


class VideoSource(FrameSource):
    """A video file read with OpenCV. A truncated file ends early with an error flag."""

    def __init__(self, path: Path, *, stride: int = 1) -> None:
        if not path.is_file():
            raise SourceError(f"{path}: file not found", reason="file_not_found")
        if path.stat().st_size == 0:
            raise SourceError(f"{path}: the file is empty", reason="empty")
        self.path = path
        self._cap = cv2.VideoCapture(str(path))
        ok, first = self._cap.read() if self._cap.isOpened() else (False, None)
        if not ok or first is None:
            self._cap.release()
            if sound_only(path):
                raise SourceError(f"{path}: sound only, no picture (an audio recording, not a video)",
                                  reason="sound_only")
            raise SourceError(
                f"{path}: not a readable video (OpenCV could not decode a frame); "
                "convert it to H.264 MP4, e.g. `ffmpeg -i IN -c:v libx264 OUT.mp4`"
            )
        self._first: np.ndarray | None = first
        self._first_pos_ms = self._pos_ms()
        fps = float(self._cap.get(cv2.CAP_PROP_FPS) or 0.0)
        if not (1.0 <= fps <= 240.0):
            fps = 30.0  # some containers report 0 or 90000; assume a camera rate
        self.stride = resolve_stride(max(0, stride), fps)
        count = int(self._cap.get(cv2.CAP_PROP_FRAME_COUNT) or 0)
        h, w = first.shape[:2]
        self.info = SourceInfo("video", str(path), fps, count if count > 0 else None, w, h)
        self.frames_read = 0
        self.truncated = False

    def _pos_ms(self) -> float | None:
        """The decoder's presentation time of the frame just read or grabbed, if it has one."""
        ms = float(self._cap.get(cv2.CAP_PROP_POS_MSEC))
        return ms if math.isfinite(ms) and ms >= 0.0 else None

    def __iter__(self) -> Iterator[Frame]:
        index = 0
        fps = self.info.fps
        step_ms = 1000.0 / fps
        t_ms = 0.0  # this frame's time since the first frame
        last_pos = self._first_pos_ms
        last_ts = -1
        while True:
            wanted = index % self.stride == 0
            if self._first is not None:
                ok, bgr = True, self._first
                self._first = None
            elif wanted:
                ok, bgr = self._cap.read()
            else:  # a skipped frame: advance the decoder without copying the picture out
                ok, bgr = self._cap.grab(), np.empty(0, np.uint8)
            if not ok or bgr is None:
                count = self.info.frame_count
                # Fewer frames than the header promised (beyond a small slack): truncated.
                if count is not None and index < count - 2:
                    self.truncated = True
                return
            self.frames_read += 1
            if index > 0:
                # Variable frame rate (phones slow down in dim light): the container's times
                # keep real durations. A container without usable ones, or one that repeats
                # or goes back, falls back to the nominal interval for that frame.
                pos = self._pos_ms()
                if pos is not None and last_pos is not None and pos > last_pos:
                    t_ms += pos - last_pos
                else:
                    t_ms += step_ms
                if pos is not None:
                    last_pos = pos if last_pos is None else max(last_pos, pos)
            if wanted:
                last_ts = max(round(t_ms), last_ts + 1)
                yield Frame(_rgb(bgr), index, last_ts, self.info.name)
            index += 1

    def close(self) -> None:
        self._cap.release()


class ImageSource(FrameSource):
    """One image, or every image in a folder (sorted by name), each judged on its own."""

    def __init__(self, path: Path) -> None:
        if path.is_dir():
            files = sorted(p for p in path.rglob("*") if p.suffix.lower() in IMAGE_SUFFIXES)
            if not files:
                raise SourceError(f"{path}: the folder holds no images ({', '.join(sorted(IMAGE_SUFFIXES))})")
            kind: SourceKind = "folder"
        elif path.is_file():
            files = [path]
            kind = "image"
        else:
            raise SourceError(f"{path}: file not found", reason="file_not_found")
        self.files = files
        first = read_image(files[0]) if kind == "image" else None
        h, w = (first.shape[:2] if first is not None else (0, 0))
        self._first = first
        self.info = SourceInfo(kind, str(path), 0.0, len(files), int(w), int(h))
        self.errors: list[str] = []

    def __iter__(self) -> Iterator[Frame]:
        for i, f in enumerate(self.files):
            if i == 0 and self._first is not None:
                img = self._first
            else:
                try:
                    img = read_image(f)
                except SourceError as exc:
                    if self.info.kind == "image":
                        raise
                    self.errors.append(str(exc))  # one bad photo must not stop a folder
                    continue
            # Stills are unrelated: timestamps still increase so VIDEO mode never chokes.
            yield Frame(img, i, i * 1000, str(f))


class CameraSource(FrameSource):
    """A webcam by index. Frames carry wall-clock timestamps since the first frame."""

    def __init__(self, index: int, *, width: int = 640, height: int = 480, fps: float = 30.0) -> None:
        self._cap = cv2.VideoCapture(index)
        if not self._cap.isOpened():
            raise SourceError(
                f"camera {index}: cannot be opened — is it connected, and not used by another "
                "program? On Linux check /dev/video*; on macOS allow camera access for the terminal"
            )
        self._cap.set(cv2.CAP_PROP_FRAME_WIDTH, width)
        self._cap.set(cv2.CAP_PROP_FRAME_HEIGHT, height)
        self._cap.set(cv2.CAP_PROP_FPS, fps)
        w = int(self._cap.get(cv2.CAP_PROP_FRAME_WIDTH)) or width
        h = int(self._cap.get(cv2.CAP_PROP_FRAME_HEIGHT)) or height
        self.info = SourceInfo("camera", f"camera:{index}", fps, None, w, h)
        self.lost = False

    def __iter__(self) -> Iterator[Frame]:
        t0 = time.monotonic()
        index = 0
        misses = 0
        while True:
            ok, bgr = self._cap.read()
            if not ok or bgr is None:
                misses += 1
                if misses >= 30:  # ~1 s without a frame: the camera went away
                    self.lost = True
                    raise SourceError(f"{self.info.name}: the camera stopped delivering frames (unplugged?)")
                time.sleep(0.03)
                continue
            misses = 0
            yield Frame(_rgb(bgr), index, int((time.monotonic() - t0) * 1000), self.info.name)
            index += 1

    def close(self) -> None:
        self._cap.release()


def is_recording(path: Path) -> bool:
    return path.name.endswith(RECORDING_SUFFIXES)


#: First bytes of the still-image formats OpenCV reads (FFmpeg would also open a JPEG or PNG
#: as a one-frame "video", so a photo named .mp4 is told apart by its content).
STILL_MAGIC: tuple[tuple[bytes, str], ...] = (
    (b"\xff\xd8\xff", "JPEG"), (b"\x89PNG\r\n\x1a\n", "PNG"), (b"BM", "BMP"),
    (b"II*\x00", "TIFF"), (b"MM\x00*", "TIFF"),
)


def image_kind(head: bytes, magic: tuple[tuple[bytes, str], ...] = STILL_MAGIC) -> str | None:
    """"JPEG", "PNG", "WebP", … when these first bytes start one of the ``magic`` formats
    (or WebP), else None."""
    if head[:4] == b"RIFF" and head[8:12] == b"WEBP":
        return "WebP"
    return next((name for sig, name in magic if head.startswith(sig)), None)


def still_image_kind(path: Path) -> str | None:
    """The still-image format of a file by its first bytes, else None."""
    with path.open("rb") as f:
        return image_kind(f.read(16))


def open_source(spec: str | Path, *, stride: int = 1) -> FrameSource:
    """Open ``spec``: an integer camera index (``0``), a video, an image or a folder."""
    text = str(spec)
    if text.isdigit():
        return CameraSource(int(text))
    path = Path(text).expanduser()
    if path.is_dir():
        return ImageSource(path)
    if not path.exists():
        raise SourceError(f"{path}: file not found", reason="file_not_found")
    suffix = path.suffix.lower()
    if suffix in IMAGE_SUFFIXES:
        return ImageSource(path)
    if suffix in VIDEO_SUFFIXES or suffix == "":
        # A photo saved under a video's name is a photo: judged as one, never as a one-frame
        # video (scoring a recording then says "not a video").
        if path.is_file() and still_image_kind(path) is not None:
            return ImageSource(path)
        return VideoSource(path, stride=stride)
    # Unknown extension: decide by content rather than by name.
    if decode_jpeg(path.read_bytes()[: 64 * 1024 * 1024]) is not None:
        return ImageSource(path)
    try:
        return VideoSource(path, stride=stride)
    except SourceError:
        raise SourceError(
            f"{path}: unsupported file type {suffix!r} — give a video "
            f"({', '.join(sorted(VIDEO_SUFFIXES))}), an image, a folder of images, "
            "a landmark recording (.jsonl) or a camera index"
        ) from None
