"""Frame sources: what users feed the coach, including the bad inputs they will feed it."""

from __future__ import annotations

import itertools
import struct
from collections.abc import Iterator
from pathlib import Path

import cv2
import numpy as np
import pytest

from posture_coach.errors import SourceError
from posture_coach.sources import ImageSource, VideoSource, decode_jpeg, open_source


def write_video(path: Path, frames: int = 12, size: tuple[int, int] = (160, 120), fourcc: str = "MJPG",
                fps: float = 15.0) -> Path:
    wr = cv2.VideoWriter(str(path), cv2.VideoWriter_fourcc(*fourcc), fps, size)
    assert wr.isOpened()
    for i in range(frames):
        img = np.full((size[1], size[0], 3), (i * 20) % 255, np.uint8)
        cv2.putText(img, str(i), (10, 60), cv2.FONT_HERSHEY_SIMPLEX, 1.0, (0, 0, 255), 2)
        wr.write(img)
    wr.release()
    return path


def test_video_frames_are_contiguous_rgb_with_increasing_timestamps(tmp_path: Path) -> None:
    src = open_source(write_video(tmp_path / "clip.avi"))
    frames = list(src)
    assert len(frames) == 12
    assert src.info.kind == "video" and src.info.fps == pytest.approx(15.0)
    assert all(f.image.flags["C_CONTIGUOUS"] and f.image.dtype == np.uint8 for f in frames)
    assert [f.timestamp_ms for f in frames] == [round(i * 1000 / 15) for i in range(12)]
    # BGR -> RGB: the red digits are red in channel 0.
    assert frames[0].image[..., 0].max() == 255 or frames[0].image[..., 0].max() > 200


def test_stride_keeps_original_indices(tmp_path: Path) -> None:
    src = VideoSource(write_video(tmp_path / "clip.avi"), stride=3)
    assert [f.index for f in src] == [0, 3, 6, 9]


def test_stride_skips_frames_without_changing_the_kept_pictures(tmp_path: Path) -> None:
    path = write_video(tmp_path / "clip.avi")
    every = {f.index: f.image for f in VideoSource(path)}
    kept = list(VideoSource(path, stride=2))
    assert [f.index for f in kept] == sorted(i for i in every if i % 2 == 0)
    for f in kept:  # skipped frames are only grabbed: the kept ones decode exactly as before
        np.testing.assert_array_equal(f.image, every[f.index])


def test_truncated_video_is_flagged(tmp_path: Path) -> None:
    path = write_video(tmp_path / "clip.avi", frames=60)
    data = path.read_bytes()
    path.write_bytes(data[: len(data) // 2])
    try:
        src = VideoSource(path)
    except SourceError:
        return  # unreadable from the start is also a clear error
    list(src)
    assert src.truncated


@pytest.mark.parametrize(
    ("name", "content", "message"),
    [
        ("empty.mp4", b"", "empty"),
        ("garbage.mp4", b"\x00\x01not a video at all" * 100, "not a readable video"),
        ("notes.txt", b"hello", "unsupported file type"),
        ("broken.jpg", b"\xff\xd8\xff garbage", "not a readable image"),
    ],
)
def test_bad_files_get_a_clear_error(tmp_path: Path, name: str, content: bytes, message: str) -> None:
    path = tmp_path / name
    path.write_bytes(content)
    with pytest.raises(SourceError, match=message) as err:
        list(open_source(path))
    assert str(path) in str(err.value)


def test_missing_file_and_empty_folder(tmp_path: Path) -> None:
    with pytest.raises(SourceError, match="not found") as missing:
        open_source(tmp_path / "nope.mp4")
    # Said as a missing file, not as a damaged video, in the reports' languages too.
    assert missing.value.reason == "file_not_found"
    (tmp_path / "empty.mp4").write_bytes(b"")
    with pytest.raises(SourceError, match="empty") as empty:
        open_source(tmp_path / "empty.mp4")
    assert empty.value.reason == "empty"
    with pytest.raises(SourceError, match="no images"):
        open_source(tmp_path)


def test_image_renamed_as_video_is_read_by_content(tmp_path: Path) -> None:
    ok, buf = cv2.imencode(".jpg", np.zeros((40, 50, 3), np.uint8))
    assert ok
    path = tmp_path / "photo.dat"
    path.write_bytes(buf.tobytes())
    frames = list(open_source(path))
    assert len(frames) == 1 and frames[0].size == (50, 40)


def test_folder_skips_a_bad_photo_and_reports_it(tmp_path: Path) -> None:
    _ok, buf = cv2.imencode(".png", np.zeros((8, 8, 3), np.uint8))
    (tmp_path / "a.png").write_bytes(buf.tobytes())
    (tmp_path / "b.jpg").write_bytes(b"broken")
    src = ImageSource(tmp_path)
    frames = list(src)
    assert [Path(f.source).name for f in frames] == ["a.png"]
    assert len(src.errors) == 1 and "b.jpg" in src.errors[0]


def test_camera_that_cannot_open_is_a_clear_error() -> None:
    with pytest.raises(SourceError, match="camera 97: cannot be opened"):
        open_source("97")


def test_decode_jpeg_rejects_non_images() -> None:
    assert decode_jpeg(b"") is None
    assert decode_jpeg(b"GIF89a....") is None
    _ok, buf = cv2.imencode(".jpg", np.zeros((4, 6, 3), np.uint8))
    img = decode_jpeg(buf.tobytes())
    assert img is not None and img.shape == (4, 6, 3)


def test_auto_stride_analyses_about_15_frames_a_second() -> None:
    from posture_coach.sources import AUTO_STRIDE, resolve_stride

    assert [resolve_stride(AUTO_STRIDE, fps) for fps in (10, 15, 25, 29.97, 30, 50, 60)] == [1, 1, 1, 1, 2, 3, 4]
    assert resolve_stride(3, 30) == 3  # an explicit stride is kept
    with pytest.raises(ValueError):
        resolve_stride(-1, 30)


def test_a_source_resolves_auto_stride_from_its_frame_rate(tmp_path: Path) -> None:
    assert VideoSource(write_video(tmp_path / "a15.avi"), stride=0).stride == 1
    src = VideoSource(write_video(tmp_path / "a30.avi", fps=30.0), stride=0)
    assert src.info.fps == pytest.approx(30.0) and src.stride == 2
    assert [f.index for f in src] == [0, 2, 4, 6, 8, 10]


def _landscape_with_red_left_band(w: int = 160, h: int = 120) -> np.ndarray:
    """A landscape picture (BGR) whose left quarter is red: its orientation is visible."""
    img = np.full((h, w, 3), 255, np.uint8)
    img[:, : w // 4] = (0, 0, 255)
    return img


def _red_on_the_left(rgb: np.ndarray) -> bool:
    w = rgb.shape[1]
    left, right = rgb[:, : w // 8], rgb[:, -w // 8:]
    return bool(left[..., 0].mean() > 200 and left[..., 1].mean() < 80 and right[..., 1].mean() > 200)


def _with_exif_orientation(jpeg: bytes, orientation: int) -> bytes:
    """The JPEG with an EXIF segment holding only the Orientation tag (0x0112)."""
    tiff = b"MM\x00*" + struct.pack(">I", 8) + struct.pack(">H", 1)
    tiff += struct.pack(">HHIHH", 0x0112, 3, 1, orientation, 0) + struct.pack(">I", 0)
    body = b"Exif\x00\x00" + tiff
    return jpeg[:2] + b"\xff\xe1" + struct.pack(">H", len(body) + 2) + body + jpeg[2:]


def test_a_phone_photo_with_exif_orientation_is_read_upright(tmp_path: Path) -> None:
    # Phones store the sensor's picture and an EXIF tag saying how to turn it for display.
    stored = cv2.rotate(_landscape_with_red_left_band(), cv2.ROTATE_90_COUNTERCLOCKWISE)
    ok, buf = cv2.imencode(".jpg", stored)
    assert ok
    (tmp_path / "phone.jpg").write_bytes(_with_exif_orientation(buf.tobytes(), 6))  # 6: turn 90° clockwise
    (frame,) = list(open_source(tmp_path / "phone.jpg"))
    assert frame.size == (160, 120)
    assert _red_on_the_left(frame.image)


def _set_mp4_rotation(path: Path, degrees_clockwise: int) -> None:
    """Write the display matrix of the (first) track header the way phones do: the picture
    is stored as the sensor saw it and the player turns it."""
    data = bytearray(path.read_bytes())
    i = data.find(b"tkhd")
    assert i > 0, "no track header"
    version = data[i + 4]
    times = 8 + 8 + 4 + 4 + 8 if version == 1 else 4 + 4 + 4 + 4 + 4  # created, modified, id, reserved, duration
    matrix_at = i + 4 + 4 + times + 8 + 2 + 2 + 2 + 2
    one, unit = 0x10000, 0x40000000
    matrices = {90: (0, one, 0, -one, 0, 0, 0, 0, unit), 270: (0, -one, 0, one, 0, 0, 0, 0, unit)}
    data[matrix_at:matrix_at + 36] = struct.pack(">9i", *matrices[degrees_clockwise])
    path.write_bytes(bytes(data))


def test_a_phone_video_stored_turned_is_read_upright(tmp_path: Path) -> None:
    # The sensor's picture, turned a quarter anticlockwise, is what the phone stores (portrait
    # container, 120 wide and 160 high); the track header says to turn it back for display.
    path = tmp_path / "phone.mp4"
    wr = cv2.VideoWriter(str(path), cv2.VideoWriter_fourcc(*"mp4v"), 15.0, (120, 160))
    assert wr.isOpened()
    for _ in range(6):
        wr.write(cv2.rotate(_landscape_with_red_left_band(), cv2.ROTATE_90_COUNTERCLOCKWISE))
    wr.release()
    _set_mp4_rotation(path, 90)
    src = open_source(path)
    frames = list(src)
    assert (src.info.width, src.info.height) == (160, 120)
    assert len(frames) == 6 and all(f.size == (160, 120) for f in frames)
    assert all(_red_on_the_left(f.image) for f in frames)


def _mp4_boxes(data: bytes | bytearray, start: int, end: int) -> Iterator[tuple[int, int, str]]:
    i = start
    while i + 8 <= end:
        size, kind = struct.unpack(">I4s", data[i:i + 8])
        yield i, size, kind.decode("latin1")
        i += size


def _mp4_box_chain(data: bytes | bytearray, names: list[str]) -> list[tuple[int, int]]:
    """(offset, size) of each box along ``names`` (the first of each name)."""
    chain: list[tuple[int, int]] = []
    start, end = 0, len(data)
    for name in names:
        off, size = next((o, s) for o, s, k in _mp4_boxes(data, start, end) if k == name)
        chain.append((off, size))
        start, end = off + 8, off + size
    return chain


def test_a_variable_frame_rate_video_keeps_true_times(tmp_path: Path) -> None:
    # Phones lower the frame rate in dim light. A 60-frame clip whose first 20 frames last
    # 1/15 s each and the other 40 1/60 s each (2 s in all): written at a constant 30 fps,
    # then its time-to-sample table (stts) rewritten, the way a phone writes it.
    path = tmp_path / "vfr.mp4"
    wr = cv2.VideoWriter(str(path), cv2.VideoWriter_fourcc(*"mp4v"), 30.0, (64, 48))
    assert wr.isOpened()
    for i in range(60):
        wr.write(np.full((48, 64, 3), i * 4, np.uint8))
    wr.release()
    data = bytearray(path.read_bytes())
    chain = _mp4_box_chain(data, ["moov", "trak", "mdia", "minf", "stbl", "stts"])
    off, size = chain[-1]
    count, delta = struct.unpack(">II", data[off + 16:off + 24])
    assert count == 60
    new = struct.pack(">I4sIIIIII", 32, b"stts", 0, 2, 20, 2 * delta, 40, delta // 2)
    for o, s in chain[:-1]:  # the boxes holding it grow with it
        data[o:o + 4] = struct.pack(">I", s + len(new) - size)
    data[off:off + size] = new
    path.write_bytes(bytes(data))

    frames = list(VideoSource(path))
    times = [f.timestamp_ms for f in frames]
    assert len(times) == 60
    assert times[:3] == [0, 67, 133]                                # 15 fps
    assert times[20] == 1333 and times[21] == 1350                  # then 60 fps
    assert times[59] == pytest.approx(1983, abs=1)
    assert all(b > a for a, b in itertools.pairwise(times))
    # Every other frame: the kept frames' own times, not twice the index interval.
    assert [f.timestamp_ms for f in VideoSource(path, stride=2)][10:12] == [1333, 1367]


def test_a_photo_named_like_a_video_is_a_photo(tmp_path: Path) -> None:
    ok, buf = cv2.imencode(".jpg", np.zeros((40, 50, 3), np.uint8))
    assert ok
    path = tmp_path / "photo.mp4"
    path.write_bytes(buf.tobytes())
    src = open_source(path)
    assert src.info.kind == "image"  # not a one-frame video (FFmpeg would open it as one)
    assert [f.size for f in src] == [(50, 40)]


def test_a_small_file_claiming_a_huge_picture_is_not_decoded() -> None:
    from posture_coach.sources import MAX_DECODE_PIXELS, decode_jpeg, image_header_size

    ok, small = cv2.imencode(".jpg", np.full((48, 64, 3), 128, np.uint8))
    assert ok and image_header_size(small.tobytes()) == (64, 48)
    ok, png = cv2.imencode(".png", np.full((30, 20, 3), 128, np.uint8))
    assert ok and image_header_size(png.tobytes()) == (20, 30)
    assert decode_jpeg(small.tobytes()) is not None
    # 4097 x 4096 of flat grey compresses to a few hundred KB but would decode to 50 MB.
    ok, big = cv2.imencode(".jpg", np.full((4096, 4097, 3), 128, np.uint8))
    assert ok and len(big) < 2_000_000 and MAX_DECODE_PIXELS < 4097 * 4096
    assert decode_jpeg(big.tobytes()) is None
    assert image_header_size(b"\xff\xd8\xff") is None and image_header_size(b"GIF89a") is None


def _box(kind: bytes, body: bytes) -> bytes:
    return (8 + len(body)).to_bytes(4, "big") + kind + body


def test_a_recording_with_sound_only_is_named_as_such_not_a_damaged_video(tmp_path: Path) -> None:
    # A phone's voice memo saved as .mp4 was told "damaged or unsupported codec: re-export
    # as H.264", which no re-export can fix: it holds no picture at all.
    import pytest

    from posture_coach.errors import SourceError
    from posture_coach.server.uploads import UploadRejected, check_video
    from posture_coach.sources import VideoSource, sound_only

    hdlr = _box(b"hdlr", b"\x00" * 8 + b"soun" + b"\x00" * 12 + b"SoundHandler\x00")
    moov = _box(b"moov", _box(b"trak", _box(b"mdia", hdlr)))
    audio = tmp_path / "memo.mp4"
    audio.write_bytes(_box(b"ftyp", b"M4A \x00\x00\x00\x00isomM4A ") + moov + _box(b"mdat", b"\x00" * 2048))
    assert sound_only(audio)
    with pytest.raises(SourceError, match="sound only") as err:
        VideoSource(audio)
    assert err.value.reason == "sound_only"
    with pytest.raises(UploadRejected) as refused:
        check_video(audio, audio.stat().st_size)
    assert refused.value.code == "sound_only"
    video = tmp_path / "video.mp4"  # a picture track too: a video, whatever else it holds
    video.write_bytes(audio.read_bytes().replace(b"soun", b"vide", 1) + moov)
    assert not sound_only(video)
