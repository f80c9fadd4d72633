"""Off-screen rendering with moderngl over EGL (Mesa llvmpipe on CPU-only machines).

World axes: metres, Z up, the person stands at the origin facing -Y, +X is the
person's left, the floor is Z = 0.

Camera convention (also written to the label header):

* ``yaw_deg``: azimuth of the camera around the person; 0 = in front of them, +90 = at
  the person's left side (so the person faces image-left), -90 = at their right.
* ``pitch_deg``: positive = the camera looks down at the person (it is above its
  target).
* ``roll_deg``: rotation about the optical axis; positive = the camera is rolled
  clockwise as seen from behind it, so the scene appears rotated counter-clockwise in
  the image (a level shoulder line then reads as "left shoulder up" for a front view).
* ``distance_m``: camera to look-at target.

Importing this module imports moderngl and OpenCV.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass
from typing import Any

import cv2
import moderngl
import numpy as np
import numpy.typing as npt

FloatArray = npt.NDArray[np.float64]
U8Image = npt.NDArray[np.uint8]


# --------------------------------------------------------------------------- camera
@dataclass(frozen=True)
class CameraSpec:
    """A static camera: where it is relative to its target, and its lens."""

    preset: str
    yaw_deg: float = 0.0
    pitch_deg: float = 5.0
    roll_deg: float = 0.0
    distance_m: float = 2.6
    fov_y_deg: float = 50.0  # vertical field of view (a typical webcam: 45-55°)
    target: str = "body"  # "body": bbox centre; "chest": shoulders-10 cm; "head"
    target_dz: float = 0.0  # metres added to the target height

    def to_json(self) -> dict[str, Any]:
        """The header's ``camera`` object."""
        return asdict(self)


#: Camera presets. ``front_full``: whole body at ~2.6 m; ``laptop``: head and chest at
#: ~0.75 m from slightly below; ``side``: 90° to the person's left; ``oblique``: 35°.
CAMERA_PRESETS: dict[str, CameraSpec] = {
    "front_full": CameraSpec("front_full", 0.0, 5.0, 0.0, 2.6),
    "front_full_right": CameraSpec("front_full_right", -15.0, 6.0, 0.0, 2.7),
    "laptop": CameraSpec("laptop", 0.0, -6.0, 0.0, 0.75, 52.0, "chest", 0.10),
    "side": CameraSpec("side", 90.0, 4.0, 0.0, 2.6),
    "side_right": CameraSpec("side_right", -90.0, 4.0, 0.0, 2.6),
    "oblique": CameraSpec("oblique", 35.0, 6.0, 0.0, 2.6),
    "oblique_right": CameraSpec("oblique_right", -40.0, 8.0, 0.0, 2.5),
    "front_rolled": CameraSpec("front_rolled", 0.0, 5.0, 4.0, 2.6),
    # a laptop webcam ~0.6 m in front of the face (face and shoulders; mouth ~50 px wide)
    "laptop_face": CameraSpec("laptop_face", 0.0, -3.0, 0.0, 0.6, 40.0, "head", -0.03),
}


def look_at(eye: FloatArray, target: FloatArray, up: FloatArray) -> FloatArray:
    """OpenGL view matrix (camera looks down its -z)."""
    f = target - eye
    f = f / np.linalg.norm(f)
    s = np.cross(f, up)
    s = s / np.linalg.norm(s)
    u = np.cross(s, f)
    m = np.eye(4)
    m[0, :3], m[1, :3], m[2, :3] = s, u, -f
    m[:3, 3] = -m[:3, :3] @ eye
    return m


def perspective(fov_y_deg: float, aspect: float, near: float, far: float) -> FloatArray:
    """OpenGL projection matrix."""
    f = 1.0 / np.tan(np.radians(fov_y_deg) / 2)
    m = np.zeros((4, 4))
    m[0, 0], m[1, 1] = f / aspect, f
    m[2, 2] = (far + near) / (near - far)
    m[2, 3] = 2 * far * near / (near - far)
    m[3, 2] = -1.0
    return m


@dataclass
class Camera:
    """A placed camera: view and projection, and pixel projection of world points."""

    spec: CameraSpec
    width: int
    height: int
    eye: FloatArray
    target: FloatArray
    near: float = 0.05
    far: float = 30.0

    @property
    def view(self) -> FloatArray:
        """View matrix including roll."""
        v = look_at(self.eye, self.target, np.array([0.0, 0.0, 1.0]))
        r = np.radians(self.spec.roll_deg)
        roll = np.eye(4)
        # rolling the camera clockwise (from behind) rotates the image content CCW
        roll[:2, :2] = [[np.cos(r), np.sin(r)], [-np.sin(r), np.cos(r)]]
        return roll @ v

    @property
    def proj(self) -> FloatArray:
        """Projection matrix."""
        return perspective(self.spec.fov_y_deg, self.width / self.height, self.near, self.far)

    def project(self, pts: FloatArray) -> tuple[FloatArray, FloatArray]:
        """World points (N,3) → pixel coords (N,2) (origin top-left, y down) and the
        linear depth along the optical axis (N,) in metres."""
        h = np.c_[pts, np.ones(len(pts))]
        cam = h @ self.view.T
        clip = cam @ self.proj.T
        ndc = clip[:, :3] / clip[:, 3:4]
        px = np.stack([(ndc[:, 0] + 1) * 0.5 * self.width, (1 - ndc[:, 1]) * 0.5 * self.height], axis=1)
        return px, -cam[:, 2]

    def linear_depth(self, d: npt.NDArray[np.float32]) -> FloatArray:
        """Window depth buffer (0..1) → metres along the optical axis."""
        z = d.astype(np.float64) * 2 - 1
        n, f = self.near, self.far
        return 2 * n * f / (f + n - z * (f - n))


def place_camera(spec: CameraSpec, width: int, height: int, body_v: FloatArray, shoulder_z: float) -> Camera:
    """Aim ``spec`` at a posed body (world vertices, floor at Z=0)."""
    zmin, zmax = float(body_v[:, 2].min()), float(body_v[:, 2].max())
    if spec.target == "chest":
        tz = shoulder_z - 0.08
    elif spec.target == "head":
        tz = zmax - 0.12
    else:
        tz = (zmin + zmax) / 2
    tz += spec.target_dz
    cx = float((body_v[:, 0].min() + body_v[:, 0].max()) / 2)
    cy = float((body_v[:, 1].min() + body_v[:, 1].max()) / 2)
    target = np.array([cx, cy, tz])
    yaw, pitch = np.radians(spec.yaw_deg), np.radians(spec.pitch_deg)
    horiz = spec.distance_m * np.cos(pitch)
    eye = target + np.array([horiz * np.sin(yaw), -horiz * np.cos(yaw), spec.distance_m * np.sin(pitch)])
    return Camera(spec, width, height, eye, target)  # fmt: skip


# --------------------------------------------------------------------------- props
def box(
    center: FloatArray | tuple[float, float, float],
    size: tuple[float, float, float],
    color: tuple[float, float, float],
    rot_x_deg: float = 0.0,
    pivot: FloatArray | None = None,
) -> FloatArray:
    """Flat-shaded box as (36, 9) rows of position, normal, colour.

    ``rot_x_deg`` tilts it about the X axis through ``pivot`` (default: its centre).
    """
    c = np.asarray(center, dtype=float)
    sx, sy, sz = (s / 2 for s in size)
    corners = np.array([[x, y, z] for x in (-sx, sx) for y in (-sy, sy) for z in (-sz, sz)])
    quads = [  # (corner indices CCW seen from outside, normal)
        ((0, 1, 3, 2), (-1, 0, 0)), ((4, 6, 7, 5), (1, 0, 0)),
        ((0, 4, 5, 1), (0, -1, 0)), ((2, 3, 7, 6), (0, 1, 0)),
        ((0, 2, 6, 4), (0, 0, -1)), ((1, 5, 7, 3), (0, 0, 1)),
    ]  # fmt: skip
    r = np.radians(rot_x_deg)
    rx = np.array([[1, 0, 0], [0, np.cos(r), -np.sin(r)], [0, np.sin(r), np.cos(r)]])
    piv = c if pivot is None else np.asarray(pivot, dtype=float)
    rows = []
    for idx, n in quads:
        for k in (0, 1, 2, 0, 2, 3):
            p = rx @ (corners[idx[k]] + c - piv) + piv
            rows.append([*p, *(rx @ np.asarray(n, dtype=float)), *color])
    return np.asarray(rows, dtype=float)


WALL_COLOURS = [(0.78, 0.76, 0.72), (0.70, 0.74, 0.78), (0.85, 0.83, 0.78),
                (0.62, 0.66, 0.60), (0.80, 0.72, 0.66), (0.55, 0.58, 0.64)]  # fmt: skip
FLOOR_COLOURS = [(0.45, 0.38, 0.30), (0.55, 0.55, 0.55), (0.35, 0.30, 0.28),
                 (0.62, 0.56, 0.48)]  # fmt: skip


def room(rng: np.random.Generator, cam: Camera, back_min_m: float = 0.0) -> FloatArray:
    """A floor, a back wall behind the person (as seen from the camera) and clutter.
    ``back_min_m``: keep the wall at least this far behind the camera target (room for
    a person walking in from behind)."""
    wall = WALL_COLOURS[int(rng.integers(len(WALL_COLOURS)))]
    floor = FLOOR_COLOURS[int(rng.integers(len(FLOOR_COLOURS)))]
    yaw = np.radians(cam.spec.yaw_deg)
    # back wall: perpendicular to the camera's horizontal viewing direction
    back = max(float(rng.uniform(1.2, 2.2)), back_min_m)
    parts = [box((0, 0, -0.01), (14, 14, 0.02), floor)]
    fwd = np.array([-np.sin(yaw), np.cos(yaw), 0.0])  # from camera toward the person
    side = np.array([np.cos(yaw), np.sin(yaw), 0.0])
    c = fwd * back + np.array([0, 0, 1.5])
    wall_box = box((0, 0, 0), (10.0, 0.05, 3.0), wall)
    rz = np.array([[np.cos(yaw), -np.sin(yaw), 0], [np.sin(yaw), np.cos(yaw), 0], [0, 0, 1]])
    wall_box[:, :3] = wall_box[:, :3] @ rz.T + c
    wall_box[:, 3:6] = wall_box[:, 3:6] @ rz.T
    parts.append(wall_box)
    for _ in range(int(rng.integers(1, 4))):  # pictures, a door, a shelf
        w, h = rng.uniform(0.3, 1.0), rng.uniform(0.3, 0.9)
        col = tuple(rng.uniform(0.1, 0.9, 3))
        pos = c + side * rng.uniform(-2.2, 2.2) + np.array([0, 0, rng.uniform(-0.4, 0.6)])
        pos = pos - fwd * 0.03
        b = box((0, 0, 0), (w, 0.02, h), col)
        b[:, :3] = b[:, :3] @ rz.T + pos
        b[:, 3:6] = b[:, 3:6] @ rz.T
        parts.append(b)
    return np.concatenate(parts)


def chair(
    seat_top: float,
    front_y: float,
    back_y: float,
    recline_deg: float,
    color: tuple[float, float, float] = (0.25, 0.22, 0.20),
) -> FloatArray:
    """A simple chair: seat, four legs, backrest reclined ``recline_deg`` (backward +)."""
    th = 0.05
    depth = back_y - front_y
    cy = (front_y + back_y) / 2
    parts = [box((0, cy, seat_top - th / 2), (0.48, depth, th), color)]
    for x in (-0.21, 0.21):
        for y in (front_y + 0.03, back_y - 0.03):
            parts.append(box((x, y, (seat_top - th) / 2), (0.035, 0.035, seat_top - th),
                             (0.15, 0.15, 0.15)))  # fmt: skip
    piv = np.array([0.0, back_y, seat_top])
    parts.append(box((0, back_y + 0.02, seat_top + 0.30), (0.46, 0.04, 0.50), color,
                     rot_x_deg=-recline_deg, pivot=piv))  # fmt: skip
    return np.concatenate(parts)


# --------------------------------------------------------------------------- renderer
_VS = """
#version 330
uniform mat4 mvp;
in vec3 in_pos; in vec3 in_nrm; in vec3 in_col; in float in_part;
out vec3 v_nrm; out vec3 v_col; out vec3 v_pos; flat out float v_part;
void main() {
    gl_Position = mvp * vec4(in_pos, 1.0);
    v_nrm = in_nrm; v_col = in_col; v_pos = in_pos; v_part = in_part;
}
"""
_FS = """
#version 330
uniform vec3 key_dir; uniform vec3 fill_dir; uniform vec3 eye;
uniform float key; uniform float fill; uniform float ambient;
in vec3 v_nrm; in vec3 v_col; in vec3 v_pos; flat in float v_part;
out vec4 f_color;
void main() {
    vec3 n = normalize(v_nrm);
    vec3 v = normalize(eye - v_pos);
    if (dot(n, v) < 0.0) n = -n;
    float d1 = max(dot(n, -key_dir), 0.0);
    float d2 = max(dot(n, -fill_dir), 0.0);
    float sky = 0.5 + 0.5 * n.z;
    vec3 h = normalize(-key_dir + v);
    float spec = pow(max(dot(n, h), 0.0), 24.0) * 0.12;
    vec3 c = v_col * (ambient * (0.6 + 0.4 * sky) + key * d1 + fill * d2) + spec * key;
    // alpha carries the body-part id (0 = scenery) for keypoint occlusion tests
    f_color = vec4(pow(clamp(c, 0.0, 1.0), vec3(1.0 / 1.15)), v_part / 255.0);
}
"""


def vertex_normals(v: FloatArray, faces: npt.NDArray[np.int32]) -> FloatArray:
    """Area-weighted vertex normals."""
    fn = np.cross(v[faces[:, 1]] - v[faces[:, 0]], v[faces[:, 2]] - v[faces[:, 0]])
    n = np.zeros_like(v)
    for k in range(3):
        for c in range(3):
            n[:, c] += np.bincount(faces[:, k], weights=fn[:, c], minlength=len(v))
    n /= np.linalg.norm(n, axis=1, keepdims=True) + 1e-12
    return n


@dataclass
class Lighting:
    """Key/fill directional lights (directions the light travels) and ambient."""

    key_dir: tuple[float, float, float] = (0.4, 0.7, -0.6)
    fill_dir: tuple[float, float, float] = (-0.6, 0.5, -0.2)
    key: float = 0.75
    fill: float = 0.25
    ambient: float = 0.35

    @classmethod
    def random(cls, rng: np.random.Generator) -> Lighting:
        """Plausible indoor lighting with some variety."""
        az = rng.uniform(-1.0, 1.0)
        key_dir = (float(np.sin(az)), float(np.cos(az)), float(-rng.uniform(0.3, 0.9)))
        return cls(key_dir, (-key_dir[0], 0.6, -0.2), float(rng.uniform(0.55, 0.85)),
                   float(rng.uniform(0.15, 0.35)), float(rng.uniform(0.28, 0.42)))  # fmt: skip


class Renderer:
    """One EGL context and framebuffer; draws a body mesh plus static props."""

    def __init__(self, width: int, height: int, samples: int = 0) -> None:
        self.width, self.height = width, height
        self.ctx = moderngl.create_context(standalone=True, backend="egl")
        self.prog = self.ctx.program(vertex_shader=_VS, fragment_shader=_FS)
        self.msaa: moderngl.Framebuffer | None = None
        if samples > 0:
            self.msaa = self.ctx.framebuffer(
                self.ctx.renderbuffer((width, height), samples=samples),
                self.ctx.depth_renderbuffer((width, height), samples=samples),
            )
        self.depth_tex = self.ctx.depth_texture((width, height))
        self.fbo = self.ctx.framebuffer(self.ctx.renderbuffer((width, height)), self.depth_tex)
        self._props: moderngl.VertexArray | None = None
        self._props_buf: moderngl.Buffer | None = None
        self._body_buf: moderngl.Buffer | None = None
        self._body_vao: moderngl.VertexArray | None = None

    def set_props(self, rows: FloatArray) -> None:
        """Static scene geometry: (N, 9) position, normal, colour triangle rows."""
        if self._props_buf is not None:
            self._props_buf.release()
        rows = np.c_[rows, np.zeros(len(rows))]  # part id 0 = scenery
        self._props_buf = self.ctx.buffer(rows.astype("f4").tobytes())
        self._props = self.ctx.vertex_array(
            self.prog, [(self._props_buf, "3f 3f 3f 1f", "in_pos", "in_nrm", "in_col", "in_part")]
        )
        self._n_props = len(rows)

    def draw(
        self,
        cam: Camera,
        verts: FloatArray,
        faces: npt.NDArray[np.int32],
        colors: npt.NDArray[np.float32],
        light: Lighting,
        parts: npt.NDArray[np.float32] | None = None,
    ) -> tuple[U8Image, FloatArray, npt.NDArray[np.uint8]]:
        """Render one frame. Returns RGB uint8 (H, W, 3) and the scene's linear depth
        map (H, W) in metres along the optical axis (inf where nothing was drawn), and the
        body-part id map (H, W) (``parts`` per vertex, 0 = scenery)."""
        n = vertex_normals(verts, faces)
        pid = np.zeros((len(verts), 1)) if parts is None else parts.reshape(-1, 1)
        data = np.concatenate([verts, n, colors, pid], axis=1).astype("f4")[faces.ravel()]
        if self._body_buf is None or self._body_buf.size != data.nbytes:
            self._body_buf = self.ctx.buffer(data.tobytes())
            self._body_vao = self.ctx.vertex_array(
                self.prog,
                [(self._body_buf, "3f 3f 3f 1f", "in_pos", "in_nrm", "in_col", "in_part")],
            )
        else:
            self._body_buf.write(data.tobytes())
        assert self._body_vao is not None
        mvp = (cam.proj @ cam.view).T.astype("f4")
        self.prog["mvp"].write(mvp.tobytes())
        self.prog["key_dir"].value = tuple(np.asarray(light.key_dir) / np.linalg.norm(light.key_dir))
        self.prog["fill_dir"].value = tuple(np.asarray(light.fill_dir) / np.linalg.norm(light.fill_dir))
        self.prog["eye"].value = tuple(float(x) for x in cam.eye)
        self.prog["key"].value = light.key
        self.prog["fill"].value = light.fill
        self.prog["ambient"].value = light.ambient
        self.ctx.enable(moderngl.DEPTH_TEST)
        # single-sample pass: colour + the depth used for keypoint visibility (props such
        # as the chair occlude too, which is what a detector sees)
        self.fbo.use()
        self.fbo.clear(0.5, 0.5, 0.5, 1.0, depth=1.0)
        if self._props is not None:
            self._props.render()
        self._body_vao.render()
        depth = np.frombuffer(self.depth_tex.read(alignment=1), dtype="f4")
        depth = np.flipud(depth.reshape(self.height, self.width))
        lin = cam.linear_depth(depth)
        lin[depth >= 1.0] = np.inf
        rgba = np.frombuffer(self.fbo.read(components=4, alignment=1), dtype=np.uint8)
        rgba = np.flipud(rgba.reshape(self.height, self.width, 4))
        part_map = np.ascontiguousarray(rgba[:, :, 3])
        img = np.ascontiguousarray(rgba[:, :, :3])
        if self.msaa is not None:  # optional anti-aliased colour (about +50 % time)
            self.msaa.use()
            self.msaa.clear(0.5, 0.5, 0.5, 1.0, depth=1.0)
            if self._props is not None:
                self._props.render()
            self._body_vao.render()
            self.ctx.copy_framebuffer(self.fbo, self.msaa)
            img = np.frombuffer(self.fbo.read(components=3, alignment=1), dtype=np.uint8)
            img = np.ascontiguousarray(np.flipud(img.reshape(self.height, self.width, 3)))
        return img, lin, part_map

    def release(self) -> None:
        """Free the GL context."""
        self.ctx.release()


# --------------------------------------------------------------------------- webcam
@dataclass(frozen=True)
class Degradation:
    """Webcam-like image degradation (applied after rendering; labels are unaffected)."""

    gain: float = 1.0  # exposure multiplier
    gamma: float = 1.0
    blur_sigma_px: float = 0.0
    noise_sigma: float = 0.0  # on the 0..255 scale, fresh every frame
    jpeg_quality: int = 0  # 0 = no JPEG round-trip
    warm: float = 0.0  # white-balance shift: + warmer (more red, less blue)

    @classmethod
    def random(cls, rng: np.random.Generator, strength: float = 1.0) -> Degradation:
        """Mild random webcam look; ``strength`` 0 = clean."""
        if strength <= 0:
            return cls()
        return cls(
            gain=float(1 + strength * rng.uniform(-0.18, 0.15)),
            gamma=float(1 + strength * rng.uniform(-0.12, 0.12)),
            blur_sigma_px=float(strength * rng.uniform(0.3, 1.0)),
            noise_sigma=float(strength * rng.uniform(2.0, 6.0)),
            jpeg_quality=int(rng.integers(55, 85)),
            warm=float(strength * rng.uniform(-0.05, 0.08)),
        )

    def apply(self, img: U8Image, rng: np.random.Generator) -> U8Image:
        """Degrade one RGB uint8 frame."""
        # exposure, gamma and white balance as one per-channel lookup table
        ramp = np.arange(256, dtype=np.float64) / 255.0
        lut = np.stack([
            np.clip(np.clip(ramp * self.gain * wb, 0, 1) ** (1.0 / self.gamma) * 255, 0, 255)
            for wb in (1 + self.warm, 1.0, 1 - self.warm)
        ], axis=1).astype(np.uint8)  # fmt: skip
        out = np.stack([lut[img[:, :, c], c] for c in range(3)], axis=2)
        if self.blur_sigma_px > 0.05:
            out = cv2.GaussianBlur(out, (0, 0), self.blur_sigma_px)
        if self.noise_sigma > 0:
            noise = rng.standard_normal(out.shape, dtype=np.float32) * self.noise_sigma
            out = np.clip(out.astype(np.float32) + noise, 0, 255).astype(np.uint8)
        if self.jpeg_quality > 0:
            ok, enc = cv2.imencode(".jpg", out[:, :, ::-1], [cv2.IMWRITE_JPEG_QUALITY, self.jpeg_quality])
            dec = cv2.imdecode(enc, cv2.IMREAD_COLOR) if ok else None
            if dec is not None:
                out = np.ascontiguousarray(dec[:, :, ::-1])
        return out


# --------------------------------------------------------------------------- video
class VideoSink:
    """Write RGB frames to an mp4.

    ``codec="h264"`` pipes raw frames to the ffmpeg binary bundled by ``imageio-ffmpeg``
    (libx264, CRF ``crf``, yuv420p: small files that browsers play); ``"mp4v"`` uses
    OpenCV's MPEG-4 Part 2 writer (OpenCV's pip wheels cannot encode H.264 here);
    ``"auto"`` picks h264 when imageio-ffmpeg is installed.
    """

    def __init__(self, path: str, fps: float, width: int, height: int, codec: str = "auto", crf: int = 27) -> None:
        import subprocess

        if codec == "auto":
            try:
                import imageio_ffmpeg

                codec = "h264"
            except ImportError:
                codec = "mp4v"
        self.codec = codec
        self._proc: subprocess.Popen[bytes] | None = None
        self._cv: cv2.VideoWriter | None = None
        if codec == "h264":
            import imageio_ffmpeg

            cmd = [
                imageio_ffmpeg.get_ffmpeg_exe(), "-y", "-loglevel", "error",
                "-f", "rawvideo", "-pix_fmt", "rgb24", "-s", f"{width}x{height}",
                "-r", f"{fps}", "-i", "-",
                "-c:v", "libx264", "-preset", "medium", "-crf", str(crf),
                "-pix_fmt", "yuv420p", "-threads", "1", "-movflags", "+faststart",
                "-map_metadata", "-1", "-fflags", "+bitexact", "-flags:v", "+bitexact",
                path,
            ]  # fmt: skip
            self._proc = subprocess.Popen(cmd, stdin=subprocess.PIPE)
        else:
            self._cv = cv2.VideoWriter(path, cv2.VideoWriter.fourcc(*codec), fps, (width, height))
            if not self._cv.isOpened():
                raise RuntimeError(f"OpenCV cannot write {codec!r} here")

    def write(self, rgb: U8Image) -> None:
        """Append one RGB uint8 frame."""
        if self._proc is not None:
            assert self._proc.stdin is not None
            self._proc.stdin.write(np.ascontiguousarray(rgb).tobytes())
        else:
            assert self._cv is not None
            self._cv.write(np.ascontiguousarray(rgb[:, :, ::-1]))

    def close(self) -> None:
        """Finish the file."""
        if self._proc is not None:
            assert self._proc.stdin is not None
            self._proc.stdin.close()
            if self._proc.wait() != 0:
                raise RuntimeError("ffmpeg failed")
            self._proc = None
        if self._cv is not None:
            self._cv.release()
            self._cv = None
