"""Check synthetic clips against MediaPipe PoseLandmarker (VIDEO mode).

For each ``clip.mp4`` with a ``clip.labels.jsonl`` sidecar: the detection rate and the
2-D error (pixels) between MediaPipe's landmarks and the labelled keypoints, over the
keypoints labelled visible; plus the shoulder-tilt and (side views) torso-angle error.

Usage::

    python -m posture_coach.synth.validate sample_videos --model-dir DIR [--png-dir /tmp/x]

The model directory comes from ``--model-dir`` or ``POSTURE_COACH_MODEL_DIR`` and must
hold ``pose_landmarker_full.task``. Needs mediapipe and OpenCV (main dependencies), not
the ``synth`` extra.
"""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Annotated, Any

import cv2
import numpy as np
import typer

from posture_coach.synth.labels import labels_path, read_labels
from posture_coach.types import PoseLm

KEY_JOINTS = (
    "left_shoulder", "right_shoulder", "left_elbow", "right_elbow", "left_wrist",
    "right_wrist", "left_hip", "right_hip", "left_knee", "right_knee", "left_ankle",
    "right_ankle",
)  # fmt: skip
MP_INDEX = {m.name.lower(): int(m) for m in PoseLm}


def _model_dir(opt: Path | None) -> Path:
    if opt is not None:
        return opt
    env = os.environ.get("POSTURE_COACH_MODEL_DIR")
    if not env:
        raise typer.BadParameter("give --model-dir or set POSTURE_COACH_MODEL_DIR")
    return Path(env)


def validate_clip(video: Path, model: Path, png_dir: Path | None = None) -> dict[str, Any]:
    """Run PoseLandmarker over one clip and compare with its labels."""
    import mediapipe as mp
    from mediapipe.tasks.python import BaseOptions, vision

    header, frames, _ = read_labels(labels_path(video))
    opts = vision.PoseLandmarkerOptions(
        base_options=BaseOptions(model_asset_path=str(model.resolve())),
        running_mode=vision.RunningMode.VIDEO,
        num_poses=1,
    )
    errs: dict[str, list[float]] = {}
    key_errs: list[float] = []
    tilt_err: list[float] = []
    torso_err: list[float] = []
    detected = 0
    mp_pts: dict[int, Any] = {}
    cap = cv2.VideoCapture(str(video))
    snap = {0, len(frames) // 2, len(frames) - 1}
    with vision.PoseLandmarker.create_from_options(opts) as lm:
        for lab in frames:
            ok, bgr = cap.read()
            if not ok:
                break
            rgb = np.ascontiguousarray(cv2.cvtColor(bgr, cv2.COLOR_BGR2RGB))
            res = lm.detect_for_video(mp.Image(image_format=mp.ImageFormat.SRGB, data=rgb), int(lab["t_ms"]))
            if not res.pose_landmarks:
                continue
            detected += 1
            h, w = rgb.shape[:2]
            pts = np.array([[p.x * w, p.y * h] for p in res.pose_landmarks[0]])
            mp_pts[lab["frame"]] = pts
            for name, (x, y, vis) in lab["keypoints2d"].items():
                if not vis or name not in MP_INDEX:
                    continue
                e = float(np.hypot(*(pts[MP_INDEX[name]] - (x, y))))
                errs.setdefault(name, []).append(e)
                if name in KEY_JOINTS:
                    key_errs.append(e)
            st = lab["states"]
            ls, rs = pts[MP_INDEX["left_shoulder"]], pts[MP_INDEX["right_shoulder"]]
            if "shoulder_tilt_deg" in st:
                mp_tilt = float(np.degrees(np.arctan2(rs[1] - ls[1], abs(ls[0] - rs[0]))))
                tilt_err.append(mp_tilt - st["shoulder_tilt_deg"])
            if lab["view"] == "side":
                lh, rh = pts[MP_INDEX["left_hip"]], pts[MP_INDEX["right_hip"]]
                v = (ls + rs) / 2 - (lh + rh) / 2
                mp_ang = float(np.degrees(np.arctan2(abs(v[0]), -v[1])))
                torso_err.append(mp_ang - abs(lab["angles"]["torso_incline_deg"]))
            if png_dir is not None and lab["frame"] in snap:
                img = bgr.copy()
                for x, y, vis in lab["keypoints2d"].values():
                    cv2.circle(img, (int(x), int(y)), 4, (0, 200, 0) if vis else (0, 200, 200), 1)
                for p in pts[11:]:
                    cv2.circle(img, (int(p[0]), int(p[1])), 2, (0, 0, 255), -1)
                png_dir.mkdir(parents=True, exist_ok=True)
                cv2.imwrite(str(png_dir / f"{video.stem}_{lab['frame']:04d}.png"), img)
    cap.release()

    def stat(x: list[float]) -> float | None:
        return round(float(np.mean(x)), 2) if x else None

    return {
        "clip": video.name,
        "scenario": header.get("scenario"),
        "camera": header.get("camera", {}).get("preset"),
        "body": header.get("body", {}).get("name"),
        "split": header.get("split"),
        "frames": len(frames),
        "detection_rate": round(detected / max(1, len(frames)), 3),
        "key_joint_err_px": stat(key_errs),
        "key_joint_err_median_px": round(float(np.median(key_errs)), 2) if key_errs else None,
        "per_joint_err_px": {k: stat(v) for k, v in sorted(errs.items())},
        "shoulder_tilt_err_deg": stat([abs(e) for e in tilt_err]),
        "side_torso_angle_err_deg": stat([abs(e) for e in torso_err]),
        **_motion_checks(frames, mp_pts, float(header.get("fps", 15.0))),
    }


def _dominant_hz(x: Any, fps: float) -> float:
    x = np.asarray(x, dtype=float) - float(np.mean(x))
    spec = np.abs(np.fft.rfft(x * np.hanning(len(x))))
    return float(np.fft.rfftfreq(len(x), 1 / fps)[1:][np.argmax(spec[1:])])


def _motion_checks(frames: list[dict[str, Any]], mp_pts: dict[int, Any], fps: float) -> dict[str, Any]:
    """Does the labelled periodic motion survive in MediaPipe's landmarks? For
    ``leg_shaking`` (right knee y) and ``fidgeting`` (left wrist x) frames: dominant
    frequency and peak-to-peak pixels, labels vs MediaPipe. For stance frames: the 2-D
    ankle distance / shoulder distance ratio, labels vs MediaPipe (mean abs error)."""
    out: dict[str, Any] = {}
    for state, joint, axis in (("leg_shaking", "right_knee", 1), ("fidgeting", "left_wrist", 0)):
        sel = [fr for fr in frames if fr["states"].get(state) is True and fr["frame"] in mp_pts]
        if len(sel) < 2 * fps:
            continue
        lab = [fr["keypoints2d"][joint][axis] for fr in sel]
        det = [mp_pts[fr["frame"]][MP_INDEX[joint]][axis] for fr in sel]
        out[f"{state}_motion"] = {
            "joint": joint, "label_hz": round(_dominant_hz(lab, fps), 2), "mp_hz": round(_dominant_hz(det, fps), 2),
            "label_ptp_px": round(float(np.ptp(lab)), 1), "mp_ptp_px": round(float(np.ptp(det)), 1),
        }  # fmt: skip

    def ratio(pts: dict[str, Any]) -> float:
        a = np.hypot(*np.subtract(pts["left_ankle"], pts["right_ankle"]))
        return float(a / np.hypot(*np.subtract(pts["left_shoulder"], pts["right_shoulder"])))

    names = ("left_ankle", "right_ankle", "left_shoulder", "right_shoulder")
    errs = []
    for fr in frames:
        if "stance_width_ratio" not in fr["states"] or fr["frame"] not in mp_pts:
            continue
        lab_p = {n: fr["keypoints2d"][n][:2] for n in names}
        mp_p = {n: mp_pts[fr["frame"]][MP_INDEX[n]] for n in names}
        errs.append(abs(ratio(lab_p) - ratio(mp_p)))
    if errs:
        out["stance_ratio_2d_err"] = round(float(np.mean(errs)), 3)
    return out


app = typer.Typer(help="Validate synthetic clips against MediaPipe PoseLandmarker.")


@app.command()
def main(
    paths: Annotated[list[Path], typer.Argument(help="clips or directories of clips")],
    model_dir: Annotated[Path | None, typer.Option(help="dir with pose_landmarker_full.task")] = None,
    png_dir: Annotated[Path | None, typer.Option(help="write overlay PNGs here")] = None,
    out: Annotated[Path | None, typer.Option(help="write the JSON report here")] = None,
) -> None:
    """Print one line per clip and a summary (JSON report with --out)."""
    model = _model_dir(model_dir) / "pose_landmarker_full.task"
    clips: list[Path] = []
    for p in paths:
        clips += sorted(p.rglob("*.mp4")) if p.is_dir() else [p]
    rows = [validate_clip(c, model, png_dir) for c in clips if labels_path(c).exists()]
    for r in rows:
        typer.echo(
            f"{r['clip']:42s} det={r['detection_rate']:.2f} key_err={r['key_joint_err_px']}px"
            f" tilt_err={r['shoulder_tilt_err_deg']} side_torso_err={r['side_torso_angle_err_deg']}"
        )
    if rows:
        det = float(np.mean([r["detection_rate"] for r in rows]))
        errs = [r["key_joint_err_px"] for r in rows if r["key_joint_err_px"] is not None]
        typer.echo(f"{len(rows)} clips: mean detection {det:.3f}, mean key-joint error "
                   f"{np.mean(errs):.2f}px")  # fmt: skip
    if out is not None:
        out.write_text(json.dumps(rows, indent=1))


if __name__ == "__main__":
    app()
