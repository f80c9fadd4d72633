"""The anny body model: phenotypes, rest skeleton, skinning and procedural colours.

Axes: metres, Z up, -Y the person's forward, +X the person's own left. anny puts the
origin at the pelvis; :class:`Body` keeps that origin (the renderer lifts the body so
that the lowest vertex touches the floor).

Importing this module imports torch and anny (the ``synth`` extra).
"""

from __future__ import annotations

import os
from dataclasses import asdict, dataclass, field
from functools import lru_cache
from pathlib import Path
from typing import Any

import numpy as np
import numpy.typing as npt

FloatArray = npt.NDArray[np.float64]

#: COCO-style keypoints regressed by ``anny.KeypointsRegressor.coco`` (23, in this order).
COCO_LABELS: tuple[str, ...] = (
    "nose", "left_eye", "right_eye", "left_ear", "right_ear",
    "left_shoulder", "right_shoulder", "left_elbow", "right_elbow",
    "left_wrist", "right_wrist", "left_hip", "right_hip", "left_knee", "right_knee",
    "left_ankle", "right_ankle", "left_big_toe", "right_big_toe",
    "left_small_toe", "right_small_toe", "left_heel", "right_heel",
)  # fmt: skip

RGB = tuple[float, float, float]

#: Body-part ids rendered into the alpha channel (0 = scenery), by bone-name prefix.
PART_IDS: dict[str, int] = {
    "head": 1, "torso": 2, "upperarm.L": 3, "upperarm.R": 4, "lowerarm.L": 5,
    "lowerarm.R": 6, "hand.L": 7, "hand.R": 8, "thigh.L": 9, "thigh.R": 10,
    "shin.L": 11, "shin.R": 12, "foot.L": 13, "foot.R": 14,
}  # fmt: skip


def part_of_bone(label: str) -> int:
    """Which :data:`PART_IDS` part a bone belongs to."""
    side = label[-1] if label[-2:] in (".L", ".R") else ""
    groups = (
        (("head", "neck", "eye", "jaw", "tongue"), "head"),
        (("spine", "root"), "torso"),
        (("clavicle", "shoulder01", "upperarm"), "upperarm"),
        (("lowerarm",), "lowerarm"),
        (("wrist", "finger", "metacarpal"), "hand"),
        (("pelvis", "upperleg"), "thigh"),
        (("lowerleg",), "shin"),
        (("foot", "toe"), "foot"),
    )
    for prefixes, part in groups:
        if label.startswith(prefixes):
            return PART_IDS[part if part in ("head", "torso") else f"{part}.{side or 'L'}"]
    return PART_IDS["torso"]


#: Skin tones (linear-ish sRGB 0..1), light to dark; a body names one by key.
SKIN_TONES: dict[str, RGB] = {
    "very_light": (0.93, 0.78, 0.69),
    "light": (0.87, 0.69, 0.58),
    "east_asian": (0.88, 0.72, 0.58),
    "medium": (0.76, 0.57, 0.43),
    "tan": (0.64, 0.45, 0.32),
    "brown": (0.47, 0.31, 0.21),
    "dark": (0.32, 0.20, 0.14),
}


@dataclass(frozen=True)
class BodySpec:
    """Who is rendered: anny phenotype (all in 0..1) plus colours.

    ``gender``: 0 = male, 1 = female; ``age``: 0.667 ≈ 25 years, 1.0 ≈ 90 years;
    ``stature_m``: the target standing height in metres (anny's ``height`` parameter is
    solved for it).
    """

    name: str
    gender: float = 0.0
    age: float = 0.667
    muscle: float = 0.5
    weight: float = 0.5
    proportions: float = 0.5
    stature_m: float = 1.75
    skin: str = "light"
    hair: RGB = (0.08, 0.06, 0.05)
    long_hair: bool = False
    shirt: RGB = (0.85, 0.87, 0.90)
    trousers: RGB = (0.12, 0.13, 0.18)
    shoes: RGB = (0.05, 0.05, 0.05)
    long_sleeves: bool = True
    split: str = "tune"  # "tune" or "eval": eval bodies are never used to tune thresholds

    def to_json(self) -> dict[str, Any]:
        """The header's ``body`` object."""
        d = asdict(self)
        d["skin_rgb"] = list(SKIN_TONES[self.skin])
        return d


#: Curated bodies. The ``eval`` ones are held out: never used for tuning.
BODIES: dict[str, BodySpec] = {
    b.name: b
    for b in (
        BodySpec("m_avg_light", 0.0, 0.667, 0.5, 0.5, 0.5, 1.76, "light",
                 shirt=(0.82, 0.86, 0.92), trousers=(0.13, 0.14, 0.20)),
        BodySpec("f_slim_medium", 1.0, 0.62, 0.4, 0.35, 0.5, 1.63, "medium",
                 hair=(0.10, 0.06, 0.04), long_hair=True,
                 shirt=(0.92, 0.92, 0.90), trousers=(0.10, 0.10, 0.12)),
        BodySpec("m_heavy_dark", 0.0, 0.78, 0.5, 0.8, 0.5, 1.72, "dark",
                 hair=(0.03, 0.03, 0.03), shirt=(0.20, 0.30, 0.55),
                 trousers=(0.25, 0.24, 0.22)),
        BodySpec("f_avg_brown", 0.9, 0.70, 0.5, 0.55, 0.5, 1.68, "brown",
                 hair=(0.04, 0.03, 0.03), long_hair=True, shirt=(0.60, 0.15, 0.18),
                 trousers=(0.08, 0.08, 0.09)),
        BodySpec("m_slim_asian", 0.1, 0.60, 0.45, 0.3, 0.5, 1.80, "east_asian",
                 hair=(0.02, 0.02, 0.02), shirt=(0.95, 0.95, 0.95),
                 trousers=(0.20, 0.22, 0.30)),
        # held-out bodies (split = eval)
        BodySpec("f_heavy_light", 0.95, 0.80, 0.45, 0.78, 0.5, 1.60, "very_light",
                 hair=(0.45, 0.30, 0.15), long_hair=True, shirt=(0.30, 0.45, 0.35),
                 trousers=(0.15, 0.15, 0.25), split="eval"),
        BodySpec("m_older_tan", 0.05, 0.86, 0.45, 0.6, 0.5, 1.70, "tan",
                 hair=(0.55, 0.55, 0.55), shirt=(0.75, 0.72, 0.60),
                 trousers=(0.18, 0.16, 0.14), split="eval"),
    )
}  # fmt: skip


def _cache_dir() -> Path:
    env = os.environ.get("ANNY_CACHE_DIR")
    if env:
        return Path(env)
    path = Path.home() / ".cache" / "anny"
    os.environ["ANNY_CACHE_DIR"] = str(path)
    return path


@lru_cache(maxsize=1)
def anny_model() -> Any:
    """The shared ``anny.Anny(facial_actions="all")`` (first call ~50-60 s, then cached)."""
    _cache_dir().mkdir(parents=True, exist_ok=True)
    import anny
    import torch

    torch.set_num_threads(max(1, os.cpu_count() or 1))
    return anny.Anny(facial_actions="all")


@lru_cache(maxsize=1)
def _keypoint_regressor() -> Any:
    import anny

    return anny.KeypointsRegressor.coco(anny_model(), labels=list(COCO_LABELS))


@dataclass
class Body:
    """One person: phenotype solved for stature, rest skeleton and vertex colours."""

    spec: BodySpec
    phenotype: dict[str, float]
    bone_labels: list[str]
    bone_parents: npt.NDArray[np.int64]  # (B,) -1 for the root
    rest_heads: FloatArray  # (B, 3) bone heads in the rest (A-)pose, metres
    rest_vertices: FloatArray  # (V, 3)
    faces: npt.NDArray[np.int32]  # (F, 3)
    colors: npt.NDArray[np.float32]  # (V, 3) 0..1
    dominant_bone: npt.NDArray[np.int64]  # (V,)
    parts: npt.NDArray[np.float32] = field(default_factory=lambda: np.zeros(0, np.float32))
    rest_keypoints: dict[str, FloatArray] = field(default_factory=dict)  # COCO, rest pose
    lean_trim_deg: float = 0.0  # spine05 Rx that makes the neutral stance's torso vertical
    _bone_index: dict[str, int] = field(default_factory=dict)

    def bone(self, label: str) -> int:
        """Index of a bone label."""
        return self._bone_index[label]

    def pose(self, deltas: FloatArray, facial: dict[str, Any] | None = None) -> tuple[FloatArray, FloatArray]:
        """Skin a batch of poses.

        ``deltas``: (N, B, 3, 3) per-bone rotations in anny's ``local-ref``
        parameterisation (world-aligned axes of the rest skeleton, about each bone head).
        ``facial``: ARKit blendshape name → a value in 0..1 or an (N,) array per pose.
        Returns ``vertices`` (N, V, 3) and ``keypoints`` (N, 23, 3) (COCO_LABELS), metres,
        pelvis origin.
        """
        import torch

        model = anny_model()
        n = deltas.shape[0]
        pose = torch.eye(4, dtype=model.dtype)[None, None].repeat(n, deltas.shape[1], 1, 1)
        pose[:, :, :3, :3] = torch.as_tensor(deltas, dtype=model.dtype)
        kwargs = {k: torch.full((n,), v, dtype=model.dtype) for k, v in self.phenotype.items()}
        face = None
        if facial:
            face = {
                k: torch.as_tensor(np.broadcast_to(np.asarray(v, dtype=np.float64), (n,)).copy(),
                                   dtype=model.dtype)
                for k, v in facial.items()
            }  # fmt: skip
        with torch.no_grad():
            out = model(pose_parameters=pose, phenotype_kwargs=kwargs, facial_actions=face)
            kp = _keypoint_regressor()(out)
        return (
            out["vertices"].numpy().astype(np.float64),
            kp.numpy().astype(np.float64),
        )


def _rest(phenotype: dict[str, float]) -> tuple[FloatArray, FloatArray]:
    import torch

    model = anny_model()
    with torch.no_grad():
        out = model(phenotype_kwargs={k: float(v) for k, v in phenotype.items()})
    return out["vertices"][0].numpy().astype(np.float64), out["bone_poses"][0, :, :3, 3].numpy()


def _solve_height(spec: BodySpec) -> dict[str, float]:
    """Solve anny's ``height`` parameter for the target stature (secant, 3 steps)."""
    base = {
        "gender": spec.gender,
        "age": spec.age,
        "muscle": spec.muscle,
        "weight": spec.weight,
        "proportions": spec.proportions,
    }

    def stature(h: float) -> float:
        v, _ = _rest({**base, "height": h})
        return float(v[:, 2].max() - v[:, 2].min())

    h0, h1 = 0.2, 0.8
    s0, s1 = stature(h0), stature(h1)
    for _ in range(3):
        if abs(s1 - s0) < 1e-6:
            break
        h2 = float(np.clip(h1 + (spec.stature_m - s1) * (h1 - h0) / (s1 - s0), 0.0, 1.0))
        h0, s0 = h1, s1
        h1, s1 = h2, stature(h2)
    return {**base, "height": h1}


_TROUSER_BONES = ("pelvis", "upperleg", "lowerleg")
_SHOE_BONES = ("foot", "toe")
_SKIN_BONES = ("neck", "head", "wrist", "finger", "metacarpal")


def _colors(
    spec: BodySpec,
    labels: list[str],
    dominant: npt.NDArray[np.int64],
    rest_v: FloatArray,
    rest_heads: FloatArray,
    face_parts: dict[str, npt.NDArray[np.bool_]],
) -> npt.NDArray[np.float32]:
    """Procedural vertex colours: skin, shirt, trousers, shoes, hair cap, eyes, mouth."""
    v = rest_v
    skin = np.array(SKIN_TONES[spec.skin])
    col = np.tile(skin, (len(v), 1))
    names = np.array(labels, dtype=object)[dominant]
    idx = {b: i for i, b in enumerate(labels)}

    def starts(prefixes: tuple[str, ...]) -> npt.NDArray[np.bool_]:
        return np.array([any(str(n).startswith(p) for p in prefixes) for n in names])

    shirt_bones: tuple[str, ...] = ("spine", "clavicle", "shoulder01", "upperarm")
    if spec.long_sleeves:
        shirt_bones = (*shirt_bones, "lowerarm")
    is_shirt = starts(shirt_bones)
    if spec.long_sleeves:
        # keep the last 3 cm before the wrist as skin (cuff ends above the hand)
        for side in ("L", "R"):
            w = rest_heads[idx[f"wrist.{side}"]]
            near = np.linalg.norm(v - w, axis=1) < 0.035
            is_shirt &= ~near
    is_trousers = starts(_TROUSER_BONES)
    hip_z = rest_heads[idx["upperleg01.L"], 2]
    # the waistband sits ~8 cm above the hip joints: lower torso vertices are trousers
    is_trousers |= starts(("spine05", "spine04")) & (v[:, 2] < hip_z + 0.08)
    col[is_shirt] = spec.shirt
    col[is_trousers] = spec.trousers
    col[starts(_SHOE_BONES)] = spec.shoes
    # neck-line: shirt up to the base of the neck
    neck_z = rest_heads[idx["neck01"], 2]
    col[starts(("neck",)) & (v[:, 2] < neck_z + 0.015)] = spec.shirt

    # hair cap: head vertices above the brow line, and behind the ears down to the nape
    head = starts(("head",))
    eye_z = rest_heads[idx["eye.L"], 2]
    eye_y = rest_heads[idx["eye.L"], 1]
    ear_y = eye_y + 0.085
    cap = head & (v[:, 2] > eye_z + 0.045)
    cap |= head & (v[:, 1] > ear_y) & (v[:, 2] > eye_z - (0.10 if spec.long_hair else 0.03))
    cap |= head & (v[:, 2] > eye_z + 0.02) & (np.abs(v[:, 0]) > 0.062) & (v[:, 1] > eye_y + 0.02)
    if spec.long_hair:
        neck = starts(("neck",)) & (v[:, 1] > rest_heads[idx["neck03"], 1] + 0.01)
        cap |= neck
    col[cap] = spec.hair

    # eyes and mouth from anny's face segmentation
    if "eye_back" in face_parts:
        col[face_parts["eye_back"]] = (0.92, 0.92, 0.90)
    if "eye_front" in face_parts:
        col[face_parts["eye_front"]] = (0.18, 0.11, 0.07)
    if "mouth" in face_parts:
        col[face_parts["mouth"]] = (0.35, 0.08, 0.08)
    # lips: a band around the mouth opening, a little darker and redder than the skin
    mouth_pts = v[face_parts["mouth"]] if "mouth" in face_parts else np.zeros((0, 3))
    if len(mouth_pts):
        c = mouth_pts.mean(axis=0)
        d = (v - c) / np.array([0.030, 0.05, 0.014])
        lips = head & (np.linalg.norm(d, axis=1) < 1.0) & (v[:, 1] < c[1] + 0.01)
        lips &= ~face_parts["mouth"]
        col[lips] = skin * np.array([0.85, 0.62, 0.62])
    return col.astype(np.float32)


def _face_parts(model: Any) -> dict[str, npt.NDArray[np.bool_]]:
    """Per-vertex masks from anny's UV body-part segmentation."""
    from anny.face_segmentation import get_face_segmentation_mask

    faces = model.faces.numpy()
    out: dict[str, npt.NDArray[np.bool_]] = {}
    nv = len(model.template_vertices)
    groups = {
        "eye_back": ["eye_back.L", "eye_back.R"],
        "eye_front": ["eye_front.L", "eye_front.R"],
        "mouth": ["mouth_cavity", "tongue"],
    }
    for key, labels in groups.items():
        fm = get_face_segmentation_mask(model, labels).numpy()
        vm = np.zeros(nv, dtype=bool)
        vm[faces[fm].ravel()] = True
        out[key] = vm
    return out


@lru_cache(maxsize=16)
def load_body(name_or_spec: str | BodySpec) -> Body:
    """Build (and cache) a :class:`Body` from a preset name or a spec."""
    spec = BODIES[name_or_spec] if isinstance(name_or_spec, str) else name_or_spec
    model = anny_model()
    phen = _solve_height(spec)
    rest_v, heads = _rest(phen)
    w = model.vertex_bone_weights.numpy()
    bi = model.vertex_bone_indices.numpy()
    dominant = bi[np.arange(len(bi)), w.argmax(axis=1)].astype(np.int64)
    labels = list(model.bone_labels)
    parts = _face_parts(model)
    colors = _colors(spec, labels, dominant, rest_v, heads, parts)
    parents = np.asarray(model.bone_parents, dtype=np.int64)
    body = Body(
        spec=spec,
        phenotype=phen,
        bone_labels=labels,
        bone_parents=parents,
        rest_heads=heads.astype(np.float64),
        rest_vertices=rest_v,
        faces=model.get_triangular_faces().numpy().astype(np.int32),
        colors=colors,
        dominant_bone=dominant,
        parts=np.array([part_of_bone(labels[b]) for b in dominant], dtype=np.float32),
        _bone_index={b: i for i, b in enumerate(labels)},
    )
    _, kp = body.pose(np.tile(np.eye(3), (1, len(labels), 1, 1)))
    body.rest_keypoints = dict(zip(COCO_LABELS, kp[0], strict=True))
    # some bodies' relaxed stance leans back a few degrees: trim it at spine05
    from posture_coach.synth.postures import resolve, standing_neutral

    _, kp = body.pose(resolve(body, standing_neutral())[None])
    body.lean_trim_deg = -torso_incline_3d(dict(zip(COCO_LABELS, kp[0], strict=True)))
    return body


def torso_incline_3d(kp: dict[str, FloatArray]) -> float:
    """Forward lean of the hip-mid → shoulder-mid line from vertical (deg, + forward).

    Measured in the person's sagittal plane (Y-Z): the lateral component is ignored.
    """
    hip = (kp["left_hip"] + kp["right_hip"]) / 2
    sh = (kp["left_shoulder"] + kp["right_shoulder"]) / 2
    d = sh - hip
    return float(np.degrees(np.arctan2(-d[1], d[2])))  # -Y is forward
