"""Small face crops (e.g. 64×64 dataset crops) made detectable for FaceLandmarker.

MediaPipe's face detector is short-range: it expects a face of roughly 20–60 % of the
frame, with some context around it. A tight 64-px crop, upscaled, fills the frame edge
to edge and is often missed; replicating its border pixels (the old recipe) smears the
cut-off hair and chin into streaks that the detector does not read as a face either.

:func:`prepare_small_face` returns a short list of candidate images, to be tried in
order until the landmarker finds a face (see bench/face_eval.py). Measured on the
64-px GENKI-4K and SMILEsmileD crops (bench/face_eval.py, tuned on odd GENKI files):

1. upscaled to :data:`TARGET_FACE_PX`, placed in the middle of a plain canvas of the
   crop's own mean colour (half a face of margin each side: the face is 50 % of the
   frame). This alone detects 99.8 % of the SMILEsmileD faces (old recipe 90.7 %);
2. the same on a mid-grey canvas with a full face of margin (face 33 % of the frame);
3. the old recipe: upscaled, border replicated;
4. the mean-colour canvas with a full face of margin (face 33 % of the frame);
5. the mean-colour canvas with the crop upscaled to :data:`LARGE_FACE_PX` (a larger face).

Candidates 4-5 (added for issue 5) find 2 more GENKI crops at the default detector
confidence; a last pass over candidates 1-2 with a detector confidence of
:data:`RETRY_MIN_FACE_CONFIDENCE` (photo path only, a second landmarker) finds 9 more.
Of those 11 crops 6 are faces and 5 are crops of necks/clothes that the detector takes
for a face (bench/face_eval.py reports both).

:func:`observe_small_face` runs that cascade and then the landmarker once more on the
mirror image of the candidate that found the face, averaging the blendshapes of the two
views (left and right names swapped on the mirror). On 64-px crops the blendshapes are
noisy and the mirror view is an independent second reading: photo path only, it doubles
the face-model time per photo and never touches the video path.

Grey and grey-as-RGB crops are handled like colour ones (3 channels out). Every
candidate is a C-contiguous uint8 H×W×3 array (MediaPipe requires it, see
MEDIAPIPE_NOTES pitfall 5). Landmarks are in the candidate's pixel frame; use
:func:`to_crop_coords` to map them back to the crop.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable, Mapping
from dataclasses import dataclass

import cv2
import numpy as np
import numpy.typing as npt

from posture_coach.types import FaceObs, Observation

#: Side (px) the crop's longer side is upscaled to before padding (4x for 64-px crops);
#: larger crops are only padded, never downscaled.
TARGET_FACE_PX = 256
#: Side (px) of the crop in the fifth candidate (a larger face for the detector).
LARGE_FACE_PX = 384
#: The second candidate's canvas colour.
MID_GREY = (128, 128, 128)
#: Detector/presence confidence of the last detection pass (the default is 0.5).
RETRY_MIN_FACE_CONFIDENCE = 0.3
#: Candidates tried again in that last pass.
RETRY_CANDIDATES: tuple[str, ...] = ("mean_canvas", "grey_canvas_wide")
#: Version of the recipe above; benchmarks key their observation caches on it.
RECIPE_VERSION = 2

U8Image = npt.NDArray[np.uint8]


@dataclass(frozen=True, slots=True)
class Candidate:
    """How a candidate was made: crop pixel ``p`` sits at ``p * scale + offset``."""

    name: str
    scale: float
    offset: tuple[int, int]  # (x, y) of the crop's top-left corner in the candidate


def to_rgb3(img: npt.NDArray[np.generic]) -> U8Image:
    """Any H×W, H×W×1, H×W×3 or H×W×4 image as contiguous uint8 RGB (alpha dropped)."""
    a = np.asarray(img)
    if a.dtype != np.uint8:
        a = np.clip(a, 0, 255).astype(np.uint8)
    if a.ndim == 2:
        a = a[..., None]
    if a.ndim != 3 or a.shape[2] not in (1, 3, 4) or a.shape[0] == 0 or a.shape[1] == 0:
        raise ValueError(f"expected an H×W(×1/3/4) image, got shape {a.shape}")
    if a.shape[2] == 1:
        a = np.repeat(a, 3, axis=2)
    elif a.shape[2] == 4:
        a = a[..., :3]
    return np.ascontiguousarray(a)


def _upscale(img: U8Image, target: int) -> tuple[U8Image, float]:
    h, w = img.shape[:2]
    k = max(1.0, target / max(h, w))
    if k == 1.0:
        return img, 1.0
    out = cv2.resize(img, (round(w * k), round(h * k)), interpolation=cv2.INTER_CUBIC)
    return np.asarray(out, np.uint8), k


def _pad(img: U8Image, margin: float, border: int, value: tuple[int, int, int] | None = None
         ) -> tuple[U8Image, int, int]:
    h, w = img.shape[:2]
    px, py = round(margin * w), round(margin * h)
    if border == cv2.BORDER_CONSTANT:
        colour = value if value is not None else tuple(round(float(c)) for c in img.reshape(-1, 3).mean(axis=0))
        out = cv2.copyMakeBorder(img, py, py, px, px, border, value=colour)
    else:
        out = cv2.copyMakeBorder(img, py, py, px, px, border)
    return np.ascontiguousarray(out, np.uint8), px, py


def small_face_candidates(rgb: npt.NDArray[np.generic], target_px: int = TARGET_FACE_PX
                          ) -> list[tuple[U8Image, Candidate]]:
    """The candidates of :func:`prepare_small_face` with how each was made."""
    img = to_rgb3(rgb)
    big, k = _upscale(img, target_px)
    out: list[tuple[U8Image, Candidate]] = []
    c1, px, py = _pad(big, 0.5, cv2.BORDER_CONSTANT)
    out.append((c1, Candidate("mean_canvas", k, (px, py))))
    c2, px, py = _pad(big, 1.0, cv2.BORDER_CONSTANT, MID_GREY)
    out.append((c2, Candidate("grey_canvas_wide", k, (px, py))))
    c3, px, py = _pad(big, 0.5, cv2.BORDER_REPLICATE)
    out.append((c3, Candidate("replicate", k, (px, py))))
    c4, px, py = _pad(big, 1.0, cv2.BORDER_CONSTANT)
    out.append((c4, Candidate("mean_canvas_wide", k, (px, py))))
    large, kl = _upscale(img, target_px * LARGE_FACE_PX // TARGET_FACE_PX)
    c5, px, py = _pad(large, 0.5, cv2.BORDER_CONSTANT)
    out.append((c5, Candidate("mean_canvas_large", kl, (px, py))))
    return out


def prepare_small_face(rgb: npt.NDArray[np.generic], target_px: int = TARGET_FACE_PX) -> list[U8Image]:
    """Candidate images for a face landmarker, best first; try them in turn until one
    yields a face. ``rgb``: a face crop (colour or grey), any size; small crops are
    upscaled so their longer side is ``target_px``."""
    return [c for c, _ in small_face_candidates(rgb, target_px)]


def mirror_blendshapes(blendshapes: Mapping[str, float]) -> dict[str, float]:
    """Blendshapes of a mirror image read as the original face's: ``...Left`` and
    ``...Right`` swap (the subject's left side is on the other side of the mirror)."""
    out: dict[str, float] = {}
    for name, v in blendshapes.items():
        if name.endswith("Left"):
            out[name[:-4] + "Right"] = v
        elif name.endswith("Right"):
            out[name[:-5] + "Left"] = v
        else:
            out[name] = v
    return out


def average_with_mirror(face: FaceObs, mirrored: FaceObs) -> FaceObs:
    """``face`` with its blendshapes averaged with those of the mirror image's face;
    landmarks and transform stay those of ``face`` (the unmirrored view)."""
    mir = mirror_blendshapes(mirrored.blendshapes)
    blend = {k: (v + mir[k]) / 2.0 if k in mir else v for k, v in face.blendshapes.items()}
    return dataclasses.replace(face, blendshapes=blend)


def observe_small_face(
    rgb: npt.NDArray[np.generic],
    observe: Callable[[U8Image], Observation],
    observe_retry: Callable[[U8Image], Observation] | None = None,
    *, mirror: bool = True, target_px: int = TARGET_FACE_PX,
) -> tuple[Observation, U8Image, Candidate]:
    """Run a face landmarker on a small crop: the candidates in turn until one yields a
    face, then (``observe_retry``, a landmarker with a lower detection confidence, e.g.
    :data:`RETRY_MIN_FACE_CONFIDENCE`) :data:`RETRY_CANDIDATES` again; with ``mirror`` the
    found face's blendshapes are averaged with the mirror image's (:func:`average_with_mirror`).

    Returns the observation, the candidate image it was made on and how that image was
    made. Without a face: the first candidate's (faceless) observation.
    """
    cands = small_face_candidates(rgb, target_px)
    passes: list[tuple[Callable[[U8Image], Observation], list[tuple[U8Image, Candidate]]]] = [(observe, cands)]
    if observe_retry is not None:
        passes.append((observe_retry, [c for c in cands if c[1].name in RETRY_CANDIDATES]))
    first: tuple[Observation, U8Image, Candidate] | None = None
    for fn, todo in passes:
        for img, cand in todo:
            obs = fn(img)
            if first is None:
                first = (obs, img, cand)
            if obs.face is None:
                continue
            if mirror:
                mirrored = fn(np.ascontiguousarray(cv2.flip(img, 1)))
                if mirrored.face is not None:
                    obs = dataclasses.replace(obs, face=average_with_mirror(obs.face, mirrored.face))
            return obs, img, cand
    assert first is not None
    return first


def to_crop_coords(points_px: npt.NDArray[np.floating], cand: Candidate) -> npt.NDArray[np.float64]:
    """Pixel coordinates in a candidate image back to the original crop's pixels."""
    p = np.asarray(points_px, np.float64)
    off = np.array(cand.offset, np.float64)
    out: npt.NDArray[np.float64] = (p[..., :2] - off) / cand.scale
    return out
