#!/usr/bin/env python3
"""Accuracy benchmark: every detector against labelled data, printed as tables.

Sets
----
- a folder of synthetic clips (``*.mp4`` + ``*.labels.jsonl`` sidecars from
  ``posture-coach synth make``), e.g. ``sample_videos/`` or an evaluation folder;
- the real labelled photos of ``../shared/data/real/`` by name (``slouch_webcam``,
  ``sitting_fyp``, ``sitting_csv``, ``genki4k_faces64``, ``smile_smilesmiled``,
  ``yawn_yawdd_rf``, ``teeth_faces``, ``handshake_rf``, ``ut_interaction_frames``,
  ``smoke_people``) or ``real`` for all of them.

Landmarks are computed once per file and cached (keyed by the file's sha256, the
preprocessing and the model hashes) under ``~/.cache/posture-coach/bench``, so re-running
after a rule change replays observations instead of running MediaPipe again. The rules
themselves always run fresh.

Usage::

    python bench/accuracy.py sample_videos                 # a synthetic folder
    python bench/accuracy.py real --data-dir ../shared/data/real
    python bench/accuracy.py slouch_webcam --json
    python bench/accuracy.py sample_videos --check-baseline bench/baseline_sample_videos.json
"""

from __future__ import annotations

import argparse
import csv
import dataclasses
import gzip
import hashlib
import json
import math
import os
import re
import sys
import time
from collections import Counter, defaultdict
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO / "src"))

from posture_coach.types import Observation, PoseObs  # noqa: E402

REAL_SETS = (
    "smoke_people", "slouch_webcam", "sitting_fyp", "sitting_csv", "genki4k_faces64",
    "smile_smilesmiled", "yawn_yawdd_rf", "teeth_faces", "handshake_rf", "ut_interaction_frames",
)
CACHE_VERSION = 3  # 2: pixel measures (teeth) in the cached observations; 3: the teeth measure changed


# ----------------------------------------------------------------------------- metrics


@dataclass
class BinaryCounts:
    tp: int = 0
    fp: int = 0
    fn: int = 0
    tn: int = 0
    unknown: int = 0  # the detector said "cannot judge"

    def add(self, truth: bool, pred: bool | None) -> None:
        if pred is None:
            self.unknown += 1
        elif truth and pred:
            self.tp += 1
        elif truth:
            self.fn += 1
        elif pred:
            self.fp += 1
        else:
            self.tn += 1

    @property
    def n(self) -> int:
        return self.tp + self.fp + self.fn + self.tn + self.unknown

    def row(self) -> dict[str, Any]:
        p = self.tp / (self.tp + self.fp) if self.tp + self.fp else math.nan
        r = self.tp / (self.tp + self.fn) if self.tp + self.fn else math.nan
        f1 = 2 * p * r / (p + r) if p + r and not (math.isnan(p) or math.isnan(r)) else math.nan
        judged = self.tp + self.fp + self.fn + self.tn
        acc = (self.tp + self.tn) / judged if judged else math.nan
        # Accuracy with "unknown" counted as an error: what a user experiences.
        acc_all = (self.tp + self.tn) / self.n if self.n else math.nan
        return {
            "precision": p, "recall": r, "f1": f1, "accuracy": acc, "accuracy_incl_unknown": acc_all,
            "unknown_share": self.unknown / self.n if self.n else math.nan, "n": self.n,
            "tp": self.tp, "fp": self.fp, "fn": self.fn, "tn": self.tn,
        }


@dataclass
class ErrorStats:
    errors: list[float] = field(default_factory=list)
    unknown: int = 0

    def add(self, truth: float, pred: float | None) -> None:
        if pred is None:
            self.unknown += 1
        else:
            self.errors.append(abs(float(pred) - float(truth)))

    def row(self) -> dict[str, Any]:
        n = len(self.errors) + self.unknown
        e = np.array(self.errors) if self.errors else np.array([math.nan])
        return {
            "mean_abs_error": float(np.mean(e)), "p90_abs_error": float(np.percentile(e, 90)),
            "unknown_share": self.unknown / n if n else math.nan, "n": n,
        }


@dataclass
class Report:
    name: str
    binary: dict[str, BinaryCounts] = field(default_factory=lambda: defaultdict(BinaryCounts))
    errors: dict[str, ErrorStats] = field(default_factory=lambda: defaultdict(ErrorStats))
    notes: list[str] = field(default_factory=list)
    extra: dict[str, Any] = field(default_factory=dict)

    def to_dict(self) -> dict[str, Any]:
        return {
            "set": self.name,
            "binary": {k: _clean(v.row()) for k, v in sorted(self.binary.items())},
            "errors": {k: _clean(v.row()) for k, v in sorted(self.errors.items())},
            "notes": self.notes,
            **({"extra": self.extra} if self.extra else {}),
        }


def _clean(d: dict[str, Any]) -> dict[str, Any]:
    return {k: (None if isinstance(v, float) and math.isnan(v) else (round(v, 4) if isinstance(v, float) else v))
            for k, v in d.items()}


def macro_f1(confusion: Counter[tuple[str, str]], classes: Sequence[str]) -> float:
    f1s = []
    for c in classes:
        tp = confusion[(c, c)]
        fp = sum(v for (t, p), v in confusion.items() if p == c and t != c)
        fn = sum(v for (t, p), v in confusion.items() if t == c and p != c)
        prec = tp / (tp + fp) if tp + fp else 0.0
        rec = tp / (tp + fn) if tp + fn else 0.0
        f1s.append(2 * prec * rec / (prec + rec) if prec + rec else 0.0)
    return float(np.mean(f1s))


# ----------------------------------------------------------------------------- observations


def _sha256(path: Path) -> str:
    h = hashlib.sha256()
    with path.open("rb") as fh:
        for chunk in iter(lambda: fh.read(1 << 20), b""):
            h.update(chunk)
    return h.hexdigest()


class Observer:
    """Runs the landmarkers on files, with a persistent observation cache."""

    def __init__(self, model_dir: Path | None, cache_dir: Path, use_cache: bool = True) -> None:
        self.model_dir = model_dir
        self.cache_dir = cache_dir
        self.use_cache = use_cache
        self._lms: dict[tuple[Any, ...], Any] = {}
        self._models_key: str | None = None

    def _models(self) -> str:
        if self._models_key is None:
            from posture_coach.models import MODELS

            self._models_key = hashlib.sha256(
                "".join(sorted(s.sha256 for s in MODELS.values())).encode()).hexdigest()[:12]
        return self._models_key

    def _landmarkers(self, mode: str, face: bool, hands: bool) -> Any:
        key = (mode, face, hands)
        if key not in self._lms:
            from posture_coach.landmarker import LandmarkerConfig, Landmarkers
            from posture_coach.pipeline import landmarker_config

            cfg = landmarker_config(self.model_dir, face=face, hands=hands, mode=mode)  # type: ignore[arg-type]
            assert isinstance(cfg, LandmarkerConfig)
            self._lms[key] = Landmarkers(cfg)
        return self._lms[key]

    def _lowered(self, face: bool, **confidence: float) -> Any:
        """Photo path: a landmarker without hands at lowered detection confidences
        (``min_face_confidence=…``, ``min_pose_confidence=…``), built once."""
        key = ("image-lowered", face, tuple(sorted(confidence.items())))
        if key not in self._lms:
            import dataclasses

            from posture_coach.landmarker import Landmarkers
            from posture_coach.pipeline import landmarker_config

            cfg = landmarker_config(self.model_dir, face=face, hands=False, mode="image")
            self._lms[key] = Landmarkers(dataclasses.replace(cfg, **confidence))
        return self._lms[key]

    def _retry_landmarker(self, face: bool) -> Any:
        """The small-face cascade's last detection pass, at
        :data:`posture_coach.small_faces.RETRY_MIN_FACE_CONFIDENCE`."""
        from posture_coach.small_faces import RETRY_MIN_FACE_CONFIDENCE

        return self._lowered(face, min_face_confidence=RETRY_MIN_FACE_CONFIDENCE)

    def _retry_pose(self) -> Any:
        """Two people on a photo: the second-person search's pose-only landmarker at
        :data:`posture_coach.two_person.RETRY_POSE_CONFIDENCE`, as the product's."""
        from posture_coach.two_person import RETRY_POSE_CONFIDENCE

        return self._lowered(False, min_pose_confidence=RETRY_POSE_CONFIDENCE)

    def _cache_path(self, path: Path, prep: str, mode: str) -> Path:
        key = f"{_sha256(path)}-{prep}-{mode}-{self._models()}-v{CACHE_VERSION}"
        if mode == "video":  # video observations also depend on the hand crop pass (issue 6)
            from posture_coach.landmarker import video_recipe

            key += f"-{video_recipe()}"
        return self.cache_dir / key[:2] / f"{key}.jsonl.gz"

    def image(self, path: Path, prep: str = "none", *, face: bool = True, hands: bool = True,
              two_person: bool = False) -> Observation:
        """One still image → one observation (IMAGE mode); ``two_person`` finds a second person."""
        obs = self._image_cached(path, prep, face, hands, two_person)
        if obs.pose is None and prep == "none" and not two_person:
            # No person in the whole photo: the product searches tiles (not cached, so an
            # older cache entry gets the same search; only person-less photos pay).
            return self._person_in_tiles(path, obs, face, hands)
        return obs

    def _image_cached(self, path: Path, prep: str, face: bool, hands: bool, two_person: bool) -> Observation:
        """The whole-photo observation, through the persistent cache."""
        cache = self._cache_path(path, f"{prep}-f{int(face)}h{int(hands)}{'-tp-r4m' if two_person else ''}", "image")
        if self.use_cache and cache.is_file():
            with gzip.open(cache, "rt") as fh:
                return Observation.from_dict(json.loads(fh.readline()))
        from posture_coach.pixels import measure
        from posture_coach.sources import read_image
        from posture_coach.types import Frame

        lms = self._landmarkers("image", face, hands)
        if prep.startswith("small_face"):
            # Small face crops: canvases in turn until the face detector finds the face, a
            # last pass at a lower detector confidence, blendshapes averaged with the mirror.
            from posture_coach.small_faces import observe_small_face

            retry = self._retry_landmarker(face)
            found, img, _ = observe_small_face(
                read_image(path), lambda im: lms.observe(Frame(im, 0, 0, str(path))),
                lambda im: retry.observe(Frame(im, 0, 0, str(path)), tasks=("face",)))
            frame = Frame(img, 0, 0, str(path))
            obs = measure(frame, found)
        else:
            img = PREPROCESS[prep](read_image(path))
            frame = Frame(img, 0, 0, str(path))
            obs = measure(frame, lms.observe(frame))
        if two_person:
            from posture_coach.calibration import load_calibration
            from posture_coach.two_person import two_person_still

            obs = two_person_still(lms, frame, obs, load_calibration().interaction,
                                   retry=self._retry_pose(), retry_below=4)
        cache.parent.mkdir(parents=True, exist_ok=True)
        with gzip.open(cache, "wt") as fh:
            fh.write(json.dumps(obs.to_dict()) + "\n")
        return obs

    def _person_in_tiles(self, path: Path, obs: Observation, face: bool, hands: bool) -> Observation:
        """As the product's photo path (pipeline.py): a photo with no pose is searched in
        overlapping tiles (posture_coach.small_people)."""
        from posture_coach.pixels import measure
        from posture_coach.small_people import person_in_tiles
        from posture_coach.sources import read_image
        from posture_coach.types import Frame

        frame = Frame(read_image(path), 0, 0, str(path))
        return measure(frame, person_in_tiles(self._landmarkers("image", face, hands).observe, frame, obs))

    def video(self, path: Path, *, face: bool = True, hands: bool = True, stride: int = 1,
              role_play: str | None = None) -> list[Observation]:
        """A video → its observations (VIDEO mode, every ``stride``-th frame; with
        ``role_play`` the trainee of a two-person clip), cached as a landmark recording."""
        cache = self._cache_path(path, f"f{int(face)}h{int(hands)}" + (f"s{stride}" if stride > 1 else "")
                                 + (f"-rp{role_play}" if role_play else ""), "video")
        from posture_coach.pipeline import ObservationStream
        from posture_coach.recording import read_recording

        if self.use_cache and cache.is_file():
            header, stream = read_recording(cache)
            observations = list(stream)
            if role_play is None:
                observations = _fill_late_measures(path, cache, header, observations)
            return observations
        cache.parent.mkdir(parents=True, exist_ok=True)
        with ObservationStream(path, model_dir=self.model_dir, face=face, hands=hands, stride=stride,
                               save_landmarks=cache, role_play=role_play) as stream:  # type: ignore[arg-type]
            return [obs for _, obs in stream]

    def judged_as_product(self, path: Path, engine: Any, stride: int = 1,
                          role_play: str | None = None) -> Iterator[tuple[Observation, Any]]:
        """The product's own path (as ``analyze`` runs it): the hand model only where the
        engine's hand gate wants it, frame stride as given. Not cached: the observations
        depend on the engine's decisions."""
        from posture_coach.pipeline import ObservationStream

        with ObservationStream(path, model_dir=self.model_dir, stride=stride, role_play=role_play,  # type: ignore[arg-type]
                               wants_hands=engine.wants_hands) as stream:
            for _, o in stream:
                yield o, engine.update(o)

    def close(self) -> None:
        for lm in self._lms.values():
            lm.close()


#: Pixel measures added after landmark recordings were first cached. A cached recording
#: lacking one gets it from the video's frames (decoding only, no landmarker), once.
LATE_MEASURES = ("card",)


def _fill_late_measures(path: Path, cache: Path, header: Any, observations: list[Observation]
                        ) -> list[Observation]:
    """Run the :data:`LATE_MEASURES` a cached recording predates on its frames and rewrite it.

    A marker file beside the cache names the measures filled in, so it happens once.
    """
    import cv2

    from posture_coach.pixels import MEASURES
    from posture_coach.recording import RecordingWriter
    from posture_coach.types import Frame

    marker = cache.with_name(cache.name + ".measures")
    done = set(marker.read_text().split()) if marker.is_file() else set()
    # Each filled measure is stamped with its source file's hash: editing it refills.
    stamps = {n: f"{n}@{_source_hash(MEASURES[n])}" for n in LATE_MEASURES if n in MEASURES}
    todo = [n for n, stamp in stamps.items() if stamp not in done]
    if not todo or not observations:
        return observations
    by_index = {o.frame_index: i for i, o in enumerate(observations)}
    cap = cv2.VideoCapture(str(path))
    out = list(observations)
    index = 0
    try:
        while by_index:
            ok, img = cap.read()
            if not ok:
                break
            i = by_index.pop(index, None)
            if i is not None:
                o = out[i]
                frame = Frame(np.ascontiguousarray(cv2.cvtColor(img, cv2.COLOR_BGR2RGB)), o.frame_index,
                              o.timestamp_ms, str(path))
                extra = {n: v for n in todo if (v := MEASURES[n](frame, o)) is not None}
                if extra:
                    out[i] = dataclasses.replace(o, measures={**o.measures, **extra})
            index += 1
    finally:
        cap.release()
    with RecordingWriter(cache, header) as w:
        for o in out:
            w.write(o)
    kept = {d for d in done if d.split("@")[0] not in todo}
    marker.write_text(" ".join(sorted(kept | {stamps[n] for n in todo})))
    return out


def _source_hash(fn: Callable[..., Any]) -> str:
    import inspect

    src = inspect.getsourcefile(fn)
    return hashlib.sha256(Path(src).read_bytes()).hexdigest()[:12] if src else "0"


def _upscale_pad(img: np.ndarray, scale: int = 4, pad_frac: float = 0.5) -> np.ndarray:
    """Small face crops: FaceLandmarker's detector needs a face of reasonable size with margin."""
    import cv2

    h, w = img.shape[:2]
    big = cv2.resize(img, (w * scale, h * scale), interpolation=cv2.INTER_CUBIC)
    p = int(pad_frac * w * scale)
    out = cv2.copyMakeBorder(big, p, p, p, p, cv2.BORDER_REPLICATE)
    return np.ascontiguousarray(out)


PREPROCESS: dict[str, Callable[[np.ndarray], np.ndarray]] = {
    "none": lambda img: img,
    "upscale4pad": _upscale_pad,
}


# ----------------------------------------------------------------------------- engine glue


def _engine(mode: str, profile: Any = None, posture: str = "auto") -> Any:
    from posture_coach.calibration import load_calibration
    from posture_coach.engine import CoachEngine

    return CoachEngine(load_calibration(), profile, mode=mode, posture=posture)  # type: ignore[arg-type]


def judge_image(obs: Observation, profile: Any = None, posture: str = "auto") -> dict[str, Any]:
    result: dict[str, Any] = _engine("image", profile, posture).update(obs).to_dict()
    return result


def _manifest(folder: Path) -> list[dict[str, str]]:
    with (folder / "MANIFEST.tsv").open(encoding="utf-8") as fh:
        return list(csv.DictReader(fh, delimiter="\t"))


def _state(res: dict[str, Any], key: str) -> Any:
    return res.get("states", {}).get(key)


def _has_state(key: str) -> bool:
    """Does any rule of the current engine produce this state key?"""
    from posture_coach.rules import ALL_RULES

    return any(key in getattr(r, "states", ()) for r in ALL_RULES)


# ----------------------------------------------------------------------------- real sets


def eval_smoke(data: Path, obs: Observer) -> Report:
    rep = Report("smoke_people")
    counts = rep.binary["person_found"]
    crashes = flagged = 0
    for row in _manifest(data / "smoke_people"):
        path = data / "smoke_people" / row["relpath"]
        if path.suffix.lower() not in (".jpg", ".jpeg", ".png"):
            continue
        try:
            res = judge_image(obs.image(path))
        except Exception as exc:  # the point of a smoke test: count crashes, keep going
            crashes += 1
            rep.notes.append(f"crash on {row['relpath']}: {exc!r}")
            continue
        counts.add(row["label"] != "no_person", bool(res["person"]))
        flagged += bool(_state(res, "pointing_finger"))
    rep.extra["crashes"] = crashes
    rep.extra["pointing_flagged"] = flagged  # gesture.open_palm failed: nobody labelled pointing
    rep.notes.append("labels say only whether a person is in the photo; COCO photos hold "
                     "several, often small, people")
    return rep


def eval_slouch(data: Path, obs: Observer) -> Report:
    """Front webcam at a desk: each photo judged against a baseline from ONE upright photo
    of the same session (the first not-slouching photo by name), as a user would calibrate."""
    from posture_coach.calibration import Profile

    rep = Report("slouch_webcam")
    rows = _manifest(data / "slouch_webcam")
    by_session: dict[str, list[dict[str, str]]] = defaultdict(list)
    for row in rows:
        by_session[row["relpath"].split("/")[0]].append(row)
    for _session, items in sorted(by_session.items()):
        items.sort(key=lambda r: r["relpath"])
        base_row = next(r for r in items if r["label"] == "not_slouching")
        base_obs = obs.image(data / "slouch_webcam" / base_row["relpath"])
        profile = Profile.from_observations([base_obs])
        for row in items:
            if row is base_row:
                continue
            res = judge_image(obs.image(data / "slouch_webcam" / row["relpath"]), profile, "sitting")
            rep.binary["slouching"].add(row["label"] == "slouching", _slouch_pred(res))
    rep.notes.append("one person, two sessions; baseline = first not-slouching photo of the "
                     "session (excluded from scoring)")
    return rep


def _slouch_pred(res: dict[str, Any]) -> bool | None:
    lean = _state(res, "sitting_lean")
    if lean is None:
        return None
    return bool(lean in ("slumped", "leaning_back") or _state(res, "hunched") is True)


SITTING_CLASS = {"proper": "proper", "reclining": "reclining", "slouching": "slouching",
                 "crossed_legs": "crossed_legs"}


def _sitting_class(res: dict[str, Any]) -> str | None:
    legs = _state(res, "legs_crossed")
    lean = _state(res, "sitting_lean")
    if legs is True:
        return "crossed_legs"
    if lean is None:
        return None
    return {"upright": "proper", "slight_forward": "proper", "leaning_back": "reclining",
            "slumped": "slouching"}.get(str(lean))


def _add_sitting(rep: Report, conf: Counter[tuple[str, str]], truth: str, res: dict[str, Any]) -> None:
    pred = _sitting_class(res)
    conf[(truth, pred or "unknown")] += 1
    rep.binary["legs_crossed"].add(truth == "crossed_legs", None if _state(res, "legs_crossed") is None
                                   else bool(_state(res, "legs_crossed")))
    lean = _state(res, "sitting_lean")
    if truth != "crossed_legs":
        rep.binary["leaning_back"].add(truth == "reclining", None if lean is None else lean == "leaning_back")
        rep.binary["slumped"].add(truth == "slouching", None if lean is None else lean == "slumped")


def _finish_sitting(rep: Report, conf: Counter[tuple[str, str]]) -> Report:
    classes = ["crossed_legs", "proper", "reclining", "slouching"]
    rep.extra["macro_f1"] = round(macro_f1(conf, classes), 4)
    rep.extra["confusion"] = {f"{t}->{p}": n for (t, p), n in sorted(conf.items())}
    return rep


def eval_sitting_images(data: Path, obs: Observer) -> Report:
    rep = Report("sitting_fyp")
    conf: Counter[tuple[str, str]] = Counter()
    for row in _manifest(data / "sitting_fyp"):
        truth = SITTING_CLASS.get(row["label"])
        if truth is None:
            continue
        res = judge_image(obs.image(data / "sitting_fyp" / row["relpath"]), None, "sitting")
        _add_sitting(rep, conf, truth, res)
    rep.notes.append("15 stock photos, mostly side/three-quarter; multi-person and ambiguous "
                     "photos are left out")
    return _finish_sitting(rep, conf)


CSV_POINTS = {
    "nose": 0, "left_shoulder": 11, "right_shoulder": 12, "left_hip": 23, "right_hip": 24,
    "left_knee": 25, "right_knee": 26, "left_ankle": 27, "right_ankle": 28,
}


def csv_observations(path: Path) -> Iterator[tuple[str, Observation]]:
    """The author's MediaPipe pose vectors as observations (other joints: not visible).

    The CSV carries normalised x, y only: no image size (a square image is assumed, so
    angles are approximate) and no visibility. The author "filtered" unseen points to
    (0, 0) (499 of 781 rows have some): those count as not visible, the rest as visible.
    """
    for _split, truth, o in csv_split_observations(path):
        yield truth, o


def csv_split_observations(path: Path) -> Iterator[tuple[str, str, Observation]]:
    """Like :func:`csv_observations`, with each row's half: ``tune`` or ``held_out``.

    The halves alternate by row index (odd: tune, even: held out); the CSV holds 36 pairs
    of identical rows, and a repeated row goes to the half of its first occurrence, so no
    row is in both. Thresholds are tuned on ``tune`` only.
    """
    first: dict[tuple[str, ...], int] = {}
    with path.open(encoding="utf-8") as fh:
        for i, row in enumerate(csv.DictReader(fh)):
            key = tuple(v for k, v in row.items() if k != "class")
            split = "tune" if first.setdefault(key, i) % 2 == 1 else "held_out"
            lm = np.zeros((33, 3))
            vis = np.zeros(33)
            for name, idx in CSV_POINTS.items():
                lm[idx, 0] = float(row[f"{name}_x"])
                lm[idx, 1] = float(row[f"{name}_y"])
                vis[idx] = 0.0 if lm[idx, 0] == 0.0 and lm[idx, 1] == 0.0 else 1.0
            pose = PoseObs(lm, vis, vis.copy(), None)
            yield split, row["class"], Observation(i, i * 1000, (640, 640), pose, None, (), f"csv:{i}",
                                                   frozenset({"pose"}))


def eval_sitting_csv(data: Path, obs: Observer) -> Report:
    rep = Report("sitting_csv")
    conf: Counter[tuple[str, str]] = Counter()
    halves: dict[str, Counter[tuple[str, str]]] = defaultdict(Counter)
    by_view: dict[str, Counter[tuple[str, str]]] = defaultdict(Counter)
    for split, truth, o in csv_split_observations(
            data / "sitting_fyp/landmarks/xy_filtered_keypoints_vectors_mediapipe.csv"):
        res = judge_image(o, None, "sitting")
        _add_sitting(rep, conf, truth, res)
        pred = _sitting_class(res) or "unknown"
        halves[split][(truth, pred)] += 1
        by_view[str(res.get("view", {}).get("view", "unknown"))][(truth, pred)] += 1
    classes = ["crossed_legs", "proper", "reclining", "slouching"]
    for split in ("tune", "held_out"):
        rep.extra[f"macro_f1_{split}"] = round(macro_f1(halves[split], classes), 4)
    for view, c in sorted(by_view.items()):
        rep.extra[f"confusion@{view}"] = " ".join(f"{t[:5]}->{p[:5]}:{n}" for (t, p), n in sorted(c.items()))
    rep.notes.append("781 rows of the author's landmark vectors replayed as observations; "
                     "rules only, no classifier trained on them; square aspect assumed; "
                     "thresholds tuned on the odd rows (tune), the even rows are held out")
    return _finish_sitting(rep, conf)


def _small_face_recipe() -> str:
    from posture_coach.small_faces import RECIPE_VERSION

    return "" if RECIPE_VERSION == 1 else f"-v{RECIPE_VERSION}"


#: Part of the cache key of small-face observations: a new recipe is a new cache entry.
SMALL_FACE_RECIPE = _small_face_recipe()


def _file_number(relpath: str) -> int:
    m = re.search(r"(\d+)", Path(relpath).stem)
    return int(m.group(1)) if m else 0


def eval_smile(name: str) -> Callable[[Path, Observer], Report]:
    def run(data: Path, obs: Observer) -> Report:
        rep = Report(name)
        if not _has_state("smiling"):
            rep.notes.append("face.smile is not built yet: no rule produces `smiling`")
            return rep
        detected = 0
        rows = _manifest(data / name)
        for row in rows:
            o = obs.image(data / name / row["relpath"], f"small_face{SMALL_FACE_RECIPE}", hands=False)
            detected += o.face is not None
            res = judge_image(o)
            s = _state(res, "smiling")
            rep.binary["smiling"].add(row["label"] == "smile", None if s is None else bool(s))
            # Fixed split (bench/face_eval.py): odd file numbers tuned the smile weights.
            half = "tune_odd" if _file_number(row["relpath"]) % 2 else "heldout_even"
            rep.binary[f"smiling_{half}"].add(row["label"] == "smile", None if s is None else bool(s))
            y = _state(res, "yawning")
            if y is not None:
                rep.binary["yawn_false_alarm"].add(False, bool(y))
        rep.extra["face_detection_rate"] = round(detected / len(rows), 4)
        rep.notes.append("64×64 crops placed on larger canvases (posture_coach.small_faces) before detection; "
                         "undetected faces are `unknown` and count as errors in accuracy_incl_unknown; "
                         "smiling_tune_odd: files the smile weights were chosen on, smiling_heldout_even: not")
        return rep

    return run


def eval_yawn(data: Path, obs: Observer) -> Report:
    rep = Report("yawn_yawdd_rf")
    if not _has_state("yawning"):
        rep.notes.append("face.yawn is not built yet: no rule produces `yawning`")
        return rep
    for row in _manifest(data / "yawn_yawdd_rf"):
        res = judge_image(obs.image(data / "yawn_yawdd_rf" / row["relpath"], hands=False))
        y = _state(res, "yawning")
        rep.binary["yawning"].add(True, None if y is None else bool(y))
    rep.notes.append("positives only: recall is meaningful, precision is not")
    return rep


def eval_teeth(data: Path, obs: Observer) -> Report:
    rep = Report("teeth_faces")
    if not _has_state("upper_teeth_visible"):
        rep.notes.append("face.smile_teeth is not built yet: no rule produces `upper_teeth_visible`")
        return rep
    within1 = closed_ok = verdict_ok = n_teeth = n_closed = n_hi = 0
    for row in _manifest(data / "teeth_faces"):
        if row.get("face_index") not in ("0", "") or row.get("yaw") != "frontal":
            continue
        res = judge_image(obs.image(data / "teeth_faces" / row["relpath"], hands=False))
        pred = _state(res, "upper_teeth_visible")
        truth = int(row["upper_teeth"])
        rep.errors["upper_teeth_visible"].add(truth, None if pred is None else float(pred))
        if row["lips_closed"] == "1":
            n_closed += 1
            closed_ok += pred == 0
        elif truth > 0:
            n_teeth += 1
            within1 += pred is not None and abs(int(pred) - truth) <= 1
        if row["confidence"] == "high":
            n_hi += 1
            verdict_ok += pred is not None and (int(pred) <= 6) == (truth <= 6)
    rep.extra.update({
        "within_1_tooth": round(within1 / n_teeth, 4) if n_teeth else None,
        "lips_closed_zero": round(closed_ok / n_closed, 4) if n_closed else None,
        "six_tooth_verdict_high_conf": round(verdict_ok / n_hi, 4) if n_hi else None,
    })
    rep.notes.append("frontal faces, first face per photo only")
    return rep


def eval_handshake(name: str) -> Callable[[Path, Observer], Report]:
    def run(data: Path, obs: Observer) -> Report:
        rep = Report(name)
        if not _has_state("handshake"):
            rep.notes.append("handshake detection is not built yet")
            return rep
        flagged = 0
        for row in _manifest(data / name):
            res = judge_image(obs.image(data / name / row["relpath"], two_person=True))
            hs = _state(res, "handshake")
            rep.binary["handshake"].add(row["label"] == "handshake", None if hs is None else bool(hs))
            flagged += bool(_state(res, "pointing_finger"))
        # Photos whose gesture.open_palm verdict failed (a pointing finger): none of these
        # photos is labelled as pointing, so each is a false flag at worst.
        rep.extra["pointing_flagged"] = flagged
        return rep

    return run


REAL_EVALUATORS: dict[str, Callable[[Path, Observer], Report]] = {
    "smoke_people": eval_smoke,
    "slouch_webcam": eval_slouch,
    "sitting_fyp": eval_sitting_images,
    "sitting_csv": eval_sitting_csv,
    "genki4k_faces64": eval_smile("genki4k_faces64"),
    "smile_smilesmiled": eval_smile("smile_smilesmiled"),
    "yawn_yawdd_rf": eval_yawn,
    "teeth_faces": eval_teeth,
    "handshake_rf": eval_handshake("handshake_rf"),
    "ut_interaction_frames": eval_handshake("ut_interaction_frames"),
}


# ----------------------------------------------------------------------------- synthetic


def read_labels(path: Path) -> tuple[dict[str, Any], dict[int, dict[str, Any]], list[dict[str, Any]]]:
    header: dict[str, Any] = {}
    frames: dict[int, dict[str, Any]] = {}
    events: list[dict[str, Any]] = []
    with path.open(encoding="utf-8") as fh:
        for line in fh:
            if not line.strip():
                continue
            obj = json.loads(line)
            kind = obj.get("kind")
            if kind == "header":
                header = obj
            elif kind == "event":
                events.append(obj)
            elif "frame" in obj:
                frames[int(obj["frame"])] = obj
    return header, frames, events


#: States a front view cannot show (RULES.md: side/oblique views only, or a baseline).
FRONT_BLIND = frozenset({"torso_incline_deg", "lean_deg"})
NUMERIC_STATES = ("upper_teeth_visible", "torso_incline_deg", "shoulder_tilt_deg", "stance_width_ratio", "lean_deg")


#: Categorical states whose rule fails on any value but "none" (one hand on the hip is a
#: fail, as two are): besides the per-value rows, a binary "(any)" row scores the verdict.
ANY_OF_STATES = frozenset({"hands_on_hips"})


def eval_synthetic(folder: Path, obs: Observer, split: str | None = None,
                   baseline_s: float | None = None, by_view: bool = False, *, stride: int = 1,
                   as_product: bool = False) -> Report:
    """Per-frame comparison of detector states with the rendered ground truth.

    Frames labelled as transitions (``"transition": true``) are skipped: the truth is
    between two postures there.

    ``baseline_s``: build a personal baseline (``Profile.from_observations``) from the
    first ``baseline_s`` seconds of each clip (the clips start upright) and pass it to
    the engine, as a user calibrating before a session would; those frames are not
    scored. ``by_view``: also report every state per labelled camera view
    (``state@front``, ``state@oblique``, ``state@side``).
    """
    # (round brackets: square ones would be read as markup by the table printer)
    tag = f" (baseline {baseline_s:g} s)" if baseline_s else ""
    tag += f" (stride {stride})" if stride > 1 else ""
    tag += " (as product: gated hands)" if as_product else ""
    rep = Report(f"synthetic:{folder.name}" + (f" ({split})" if split else "") + tag)
    clips = sorted(folder.rglob("*.labels.jsonl"))
    used = 0
    from posture_coach.calibration import load_calibration

    cal = load_calibration()
    shoulders = cal.rules["standing.shoulders_level"]
    tilt_limits = (float(shoulders["warn_tilt_deg"]), float(shoulders["fail_tilt_deg"]))
    # The verdict is debounced (onset/offset): frames this soon after the truth changes
    # side of a limit are not scored, as that delay is the design, not a miss.
    tp = cal.temporal["standing.shoulders_level"]
    tilt_grace_ms = 1000.0 * max(tp.onset_s, tp.offset_s)
    for labels in clips:
        video = labels.with_name(labels.name.replace(".labels.jsonl", ".mp4"))
        if not video.is_file():
            continue
        header, truth_frames, _events = read_labels(labels)
        if split and header.get("split") != split:
            continue
        used += 1
        # A clip with a seated and a standing shot ("sitting": "mixed", the onboarding
        # scenario) is judged as the product judges an upload: the posture decided per frame.
        sitting = header.get("sitting")
        posture = "auto" if sitting == "mixed" else "sitting" if sitting else "standing"
        # A two-person role-play is judged as the product judges it: the trainee's side given.
        role_play = header.get("trainee_side") if header.get("persons", 1) == 2 else None
        if as_product:  # the observations depend on the engine (hand gate): judged as they come
            if baseline_s:
                raise SystemExit("--as-product does not combine with --baseline-from-first-s")
            judged: Iterable[tuple[Observation, Any]] = obs.judged_as_product(
                video, _engine("video", None, posture=posture), stride, role_play)
        else:
            observations = obs.video(video, stride=stride, role_play=role_play)
            profile = None
            if baseline_s:
                from posture_coach.calibration import CalibrationMotionError, Profile

                first = [o for o in observations if o.timestamp_ms < baseline_s * 1000.0]
                try:
                    profile = Profile.from_observations(first)
                except CalibrationMotionError:
                    # Moving throughout the capture (walking in): the product refuses such a
                    # baseline, so the clip is judged without one, as the user would be.
                    profile = None
            # The user (or the drill's rule pack) declares standing or sitting; so does the clip.
            engine = _engine("video", profile, posture=posture)
            judged = ((o, engine.update(o)) for o in observations)
        tilt_side: dict[str, tuple[bool, float]] = {}  # per verdict row: (over the limit, since ms)
        for o, judged_frame in judged:
            res = judged_frame.to_dict()
            truth = truth_frames.get(o.frame_index)
            if truth is None or truth.get("transition"):
                continue
            if baseline_s and o.timestamp_ms < baseline_s * 1000.0:
                continue  # the calibration frames themselves are not scored
            views = ("", f"@{truth.get('view')}") if by_view else ("",)
            for key, tval in truth.get("states", {}).items():
                if tval is None:
                    continue
                if key in FRONT_BLIND and truth.get("view") == "front":
                    continue  # a lean cannot be seen in 2-D from the front: `unknown` is right there
                pred = _state(res, key)
                if key == "hands_on_hips" and tval == "both" and pred in ("left", "right") \
                        and _state(res, "hands_on_hips_unseen") not in (None, pred):
                    # One hand seen on the hip, the other arm out of sight (the far arm at an
                    # angle, hidden behind the body): "both" cannot be seen, so the side label
                    # is unknown there; the verdict (fail) is scored by the "(any)" row.
                    pred = None
                for v in views:
                    if key in NUMERIC_STATES or (isinstance(tval, float) and not isinstance(tval, bool)):
                        rep.errors[key + v].add(float(tval), None if pred is None else float(pred))
                    elif isinstance(tval, bool):
                        rep.binary[key + v].add(tval, None if pred is None else bool(pred))
                    else:  # categorical: one-vs-rest per class
                        rep.binary[f"{key}={tval}{v}"].add(True, None if pred is None else pred == tval)
                        if pred is not None and pred != tval:
                            rep.binary[f"{key}={pred}{v}"].add(False, True)
                        if key in ANY_OF_STATES:  # the rule's own verdict: any hand counts
                            rep.binary[f"{key}(any){v}"].add(tval != "none", None if pred is None else pred != "none")
            partner = truth.get("partner") or {}
            if partner.get("distance_m") is not None:  # role-plays: distance.customer
                pred = _state(res, "distance_m")
                for v in views:
                    rep.errors["partner_distance_m" + v].add(float(partner["distance_m"]),
                                                             None if pred is None else float(pred))
            for key in ("torso_incline_deg", "shoulder_tilt_deg"):
                tval = truth.get("angles", {}).get(key)
                if tval is not None and key not in truth.get("states", {}):
                    pred = _state(res, key)
                    for v in views:
                        rep.errors[key + v].add(float(tval), None if pred is None else float(pred))
            # The shoulders rule's verdict against the body's own (3-D) shoulder tilt, which is
            # what the handbook means: the image tilt adds the camera's perspective at an angle.
            tilt3d = truth.get("angles", {}).get("shoulder_tilt_3d_deg")
            verdict = res["verdicts"].get(f"{judged_frame.posture}.shoulders_level")
            if tilt3d is not None and verdict is not None:
                status = verdict["status"]
                for name, limit, bad in (("fail", tilt_limits[1], ("fail",)),
                                         ("warn+", tilt_limits[0], ("warn", "fail"))):
                    over = abs(float(tilt3d)) >= limit
                    if tilt_side.get(name, (over, 0))[0] != over:
                        tilt_side[name] = (over, o.timestamp_ms)
                    if o.timestamp_ms - tilt_side.setdefault(name, (over, -1e9))[1] < tilt_grace_ms:
                        continue
                    for v in views:
                        rep.binary[f"shoulders_level({name}){v}"].add(
                            over, None if status == "unknown" else status in bad)
    rep.extra["clips"] = used
    if baseline_s:
        rep.notes.append(f"personal baseline from the first {baseline_s:g} s of each clip (upright); "
                         "those frames are not scored")
    return rep


# ----------------------------------------------------------------------------- printing


def print_report(rep: Report) -> None:
    from rich.console import Console
    from rich.table import Table

    console = Console()
    d = rep.to_dict()
    if d["binary"]:
        t = Table(title=f"{rep.name} — detection", title_justify="left")
        for col in ("state", "precision", "recall", "F1", "accuracy", "unknown", "n"):
            t.add_column(col, justify="right" if col != "state" else "left")
        for key, r in d["binary"].items():
            t.add_row(key, *(_fmt(r[k]) for k in ("precision", "recall", "f1", "accuracy")),
                      _fmt(r["unknown_share"]), str(r["n"]))
        console.print(t)
    if d["errors"]:
        t = Table(title=f"{rep.name} — measurement error", title_justify="left")
        for col in ("state", "mean |err|", "p90 |err|", "unknown", "n"):
            t.add_column(col, justify="right" if col != "state" else "left")
        for key, r in d["errors"].items():
            t.add_row(key, _fmt(r["mean_abs_error"]), _fmt(r["p90_abs_error"]), _fmt(r["unknown_share"]), str(r["n"]))
        console.print(t)
    for k, v in d.get("extra", {}).items():
        if k != "confusion":
            console.print(f"  {k}: {v}")
    if "confusion" in d.get("extra", {}):
        console.print(f"  confusion (truth->pred): {d['extra']['confusion']}")
    for note in d["notes"]:
        console.print(f"  [dim]note: {note}[/]")


def _fmt(v: Any) -> str:
    return "—" if v is None else (f"{v:.3f}" if isinstance(v, float) else str(v))


# ----------------------------------------------------------------------------- baseline


def check_baseline(reports: Iterable[Report], path: Path, tolerance: float = 0.02) -> list[str]:
    """Regressions against a committed baseline: F1 may not drop, errors may not grow."""
    base = json.loads(path.read_text())
    problems: list[str] = []
    for rep in reports:
        b = base.get(rep.name)
        if b is None:
            problems.append(f"{rep.name}: not in the baseline (run with --update-baseline)")
            continue
        d = rep.to_dict()
        for key, row in b.get("binary", {}).items():
            now = d["binary"].get(key, {}).get("f1")
            if row.get("f1") is not None and (now is None or now < row["f1"] - tolerance):
                problems.append(f"{rep.name} {key}: F1 {now} < baseline {row['f1']}")
        for key, row in b.get("errors", {}).items():
            now = d["errors"].get(key, {}).get("mean_abs_error")
            if row.get("mean_abs_error") is not None and (
                    now is None or now > row["mean_abs_error"] * (1 + tolerance) + 0.25):
                problems.append(f"{rep.name} {key}: error {now} > baseline {row['mean_abs_error']}")
    return problems


def emit_reports(reports: Sequence[Any], elapsed: float, as_json: bool, print_one: Callable[[Any], None]) -> None:
    """Print the reports (also the event bench's): one JSON object, or a table each and the time."""
    if as_json:
        print(json.dumps({"reports": [r.to_dict() for r in reports], "seconds": round(elapsed, 1)},
                         ensure_ascii=False, indent=2))
    else:
        for rep in reports:
            print_one(rep)
        print(f"({elapsed:.1f} s)")


def main(argv: Sequence[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("sets", nargs="+", help="real set names, 'real', or folders of synthetic clips")
    ap.add_argument("--data-dir", type=Path, default=Path(os.environ.get(
        "POSTURE_COACH_DATA_DIR", REPO.parent / "shared" / "data" / "real")))
    ap.add_argument("--model-dir", type=Path, default=None)
    ap.add_argument("--cache-dir", type=Path, default=Path.home() / ".cache" / "posture-coach" / "bench")
    ap.add_argument("--no-cache", action="store_true")
    ap.add_argument("--split", choices=("tune", "eval"), help="only synthetic clips of this split")
    ap.add_argument("--baseline-from-first-s", type=float, default=None, metavar="S",
                    help="synthetic clips: personal baseline (Profile) from each clip's first S seconds")
    ap.add_argument("--by-view", action="store_true", help="synthetic clips: also report per camera view")
    ap.add_argument("--stride", type=int, default=1, help="synthetic clips: analyse every N-th frame")
    ap.add_argument("--as-product", action="store_true",
                    help="synthetic clips: the hand model only where the hand gate wants it, as `analyze` runs")
    ap.add_argument("--json", action="store_true", help="print one JSON object instead of tables")
    ap.add_argument("--check-baseline", type=Path)
    ap.add_argument("--update-baseline", type=Path)
    args = ap.parse_args(argv)

    os.environ.setdefault("GLOG_minloglevel", "2")
    observer = Observer(args.model_dir, args.cache_dir, not args.no_cache)
    names: list[str] = []
    for s in args.sets:
        names.extend(REAL_SETS if s == "real" else [s])
    reports: list[Report] = []
    t0 = time.perf_counter()
    try:
        for name in names:
            if name in REAL_EVALUATORS:
                if not (args.data_dir / name.replace("sitting_csv", "sitting_fyp")).is_dir():
                    print(f"skipping {name}: not found under {args.data_dir}", file=sys.stderr)
                    continue
                reports.append(REAL_EVALUATORS[name](args.data_dir, observer))
            elif Path(name).is_dir():
                reports.append(eval_synthetic(Path(name), observer, args.split,
                                              args.baseline_from_first_s, args.by_view,
                                              stride=args.stride, as_product=args.as_product))
            else:
                ap.error(f"unknown set {name!r}: give a folder or one of {', '.join(REAL_SETS)}")
    finally:
        observer.close()
    elapsed = time.perf_counter() - t0
    emit_reports(reports, elapsed, args.json, print_report)
    if args.update_baseline:
        args.update_baseline.write_text(json.dumps({r.name: r.to_dict() for r in reports}, indent=2,
                                                   ensure_ascii=False) + "\n")
    if args.check_baseline:
        problems = check_baseline(reports, args.check_baseline)
        for p in problems:
            print(f"REGRESSION: {p}", file=sys.stderr)
        return 1 if problems else 0
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
