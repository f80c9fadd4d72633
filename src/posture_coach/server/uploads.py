"""Upload checks: size while streaming, then the type by CONTENT (magic bytes, then OpenCV
must decode real frames). The file name and the declared content type are never trusted.

The size is held twice: :func:`capped_receive` stops reading the request body (chunked
or not) once it passes the limit plus the form's overhead, so the form parser never
spools more than that; :func:`save_limited` then holds the file itself to the limit.
"""

from __future__ import annotations

import os
import tempfile
from collections.abc import Awaitable, Callable, MutableMapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any, BinaryIO

from ..sources import image_kind, sound_only

CHUNK = 1 << 20
MIN_FRAMES = 2

Message = MutableMapping[str, Any]  # an ASGI message (as starlette.types spells it)
Receive = Callable[[], Awaitable[Message]]


class UploadRejected(Exception):
    """A clear 4xx answer: ``status`` and a one-line message users can act on."""

    def __init__(self, status: int, code: str, message: str, texts: dict[str, str] | None = None) -> None:
        super().__init__(message)
        self.status = status
        self.code = code
        self.message = message
        self.texts = texts  # this refusal's own {zh, en}, when it has numbers to say


def too_large(max_bytes: int) -> UploadRejected:
    """The refusal of a file over ``max_bytes`` (413, reason ``too_large``), saying the limit."""
    limit = size_text(max_bytes)
    return UploadRejected(413, "too_large", f"the file is larger than the limit of {limit}", {
        "zh": f"文件超过上传大小限制（{limit}），请压缩或剪短后重试。",
        "en": f"The file is over the upload limit of {limit}; compress or shorten it and try again."})


def size_text(n_bytes: int) -> str:
    """A size as people read it: 500 MB, 1.5 GB, 300 KB."""
    for unit, scale in (("GB", 1e9), ("MB", 1e6), ("KB", 1e3)):
        if n_bytes >= scale:
            return f"{n_bytes / scale:.3g} {unit}"
    return f"{n_bytes} B"


def capped_receive(receive: Receive, max_body_bytes: int, max_file_bytes: int) -> Receive:
    """The ASGI ``receive`` of a request, refusing (:func:`too_large` of ``max_file_bytes``)
    once the body has passed ``max_body_bytes``: a chunked body declares no length, and
    a parser reading from this channel stops there instead of spooling all it is sent."""
    seen = 0

    async def receive_capped() -> Message:
        nonlocal seen
        message = await receive()
        if message["type"] == "http.request":
            seen += len(message.get("body", b""))
            if seen > max_body_bytes:
                raise too_large(max_file_bytes)
        return message

    return receive_capped


@dataclass(frozen=True, slots=True)
class CheckedVideo:
    path: Path
    container: str
    suffix: str
    size: int
    frames_checked: int
    width: int
    height: int


IMAGE_MAGIC: tuple[tuple[bytes, str], ...] = (
    (b"\xff\xd8\xff", "JPEG"), (b"\x89PNG\r\n\x1a\n", "PNG"), (b"GIF87a", "GIF"), (b"GIF89a", "GIF"),
    (b"BM", "BMP"), (b"%PDF", "PDF"), (b"PK\x03\x04", "ZIP"),
)


def sniff_container(head: bytes) -> tuple[str, str] | None:
    """(container, suffix) of a video file from its first bytes, or None."""
    if len(head) >= 12 and head[4:8] == b"ftyp":
        brand = head[8:12]
        return ("quicktime", ".mov") if brand == b"qt  " else ("mp4", ".mp4")
    if len(head) >= 12 and head[:4] == b"RIFF" and head[8:12] == b"AVI ":
        return "avi", ".avi"
    if head[:4] == b"\x1a\x45\xdf\xa3":
        return ("webm", ".webm") if b"webm" in head[:64] else ("matroska", ".mkv")
    return None


def what_image(head: bytes) -> str | None:
    """An image or document (not a video) by its first bytes, else None."""
    return image_kind(head, IMAGE_MAGIC)


def save_limited(stream: BinaryIO, directory: Path, max_bytes: int) -> tuple[Path, int]:
    """Copy an upload to a temporary file, refusing more than ``max_bytes``."""
    directory.mkdir(parents=True, exist_ok=True)
    fd, name = tempfile.mkstemp(prefix="upload-", suffix=".part", dir=directory)
    size = 0
    try:
        with os.fdopen(fd, "wb") as out:
            while True:
                chunk = stream.read(CHUNK)
                if not chunk:
                    break
                size += len(chunk)
                if size > max_bytes:
                    raise too_large(max_bytes)
                out.write(chunk)
    except BaseException:
        Path(name).unlink(missing_ok=True)
        raise
    return Path(name), size


def check_video(path: Path, size: int) -> CheckedVideo:
    """Raise :class:`UploadRejected` unless ``path`` is a decodable video (by content)."""
    if size == 0:
        raise UploadRejected(400, "empty", "the file is empty")
    with open(path, "rb") as f:
        head = f.read(64)
    img = what_image(head)
    if img is not None:
        raise UploadRejected(415, "not_a_video", f"this is a {img} file, not a video (whatever its name says)")
    sniffed = sniff_container(head)
    if sniffed is None:
        raise UploadRejected(415, "not_a_video",
                             "not a video container this coach reads (MP4/MOV, AVI, MKV/WebM)")
    import cv2

    cap = cv2.VideoCapture(str(path))
    try:
        frames = 0
        w = h = 0
        while frames < MIN_FRAMES and cap.isOpened():
            ok, bgr = cap.read()
            if not ok or bgr is None:
                break
            h, w = bgr.shape[:2]
            frames += 1
    finally:
        cap.release()
    if frames == 1:  # it decodes: a one-frame clip (a photo saved as a video) is too short to score
        raise UploadRejected(422, "video_too_short",
                             f"the {sniffed[0]} file holds a single frame: record at least a few seconds")
    if frames == 0 and sound_only(path):  # an audio recording: re-exporting will not help
        raise UploadRejected(415, "sound_only", "the file holds sound only, no picture")
    if frames < MIN_FRAMES:
        raise UploadRejected(422, "corrupt_video",
                             f"the {sniffed[0]} file cannot be decoded (corrupt, truncated or an unsupported "
                             "codec); re-export it as H.264 MP4")
    return CheckedVideo(path, sniffed[0], sniffed[1], size, frames, int(w), int(h))
