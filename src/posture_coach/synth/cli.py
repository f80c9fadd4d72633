"""``posture-coach synth``: render labelled synthetic clips.

Run as ``python -m posture_coach.synth.cli make --scenario hands_on_hips_both --seed 1``.
Needs the ``synth`` extra (torch CPU, anny, moderngl); ``list`` works without it.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Annotated, Any

import typer

from posture_coach.synth.scenario import SCENARIOS

app = typer.Typer(help="Synthetic labelled clips (anny + moderngl).", no_args_is_help=True)


@app.command("list")
def list_scenarios(
    as_json: Annotated[bool, typer.Option("--json", help="machine-readable")] = False,
) -> None:
    """List the scenarios."""
    if as_json:
        typer.echo(json.dumps({
            k: {"description": s.description, "camera": s.camera, "rules": list(s.rules),
                "duration_s": round(s.duration_s, 2)}
            for k, s in SCENARIOS.items()
        }, indent=1))  # fmt: skip
        return
    for k, s in SCENARIOS.items():
        typer.echo(f"{k:26s} {s.duration_s:4.1f}s  {s.camera:14s} {s.description}")


def _renderer() -> Any:
    """The renderer, or a one-line error naming the missing extra (torch, anny, moderngl)."""
    try:
        import posture_coach.synth.body
        import posture_coach.synth.render  # noqa: F401  (moderngl; torch/anny come with body)
        from posture_coach.synth.scenario import generate
    except ImportError as exc:
        typer.echo(
            f"error: the synthetic studio needs the `synth` extra ({exc}). Install it with: "
            "pip install torch==2.13.0 && pip install -e '.[synth]'",
            err=True,
        )
        raise typer.Exit(2) from None
    return generate


@app.command("make")
def make(
    scenario: Annotated[str, typer.Option(help="scenario name (see `list`)")],
    seed: Annotated[int, typer.Option(help="random seed (room, light, noise, body)")] = 0,
    duration: Annotated[float | None, typer.Option(help="seconds (default: natural)")] = None,
    fps: Annotated[float, typer.Option(help="frames per second")] = 15.0,
    width: Annotated[int, typer.Option(help="pixels")] = 640,
    height: Annotated[int, typer.Option(help="pixels")] = 480,
    camera: Annotated[str | None, typer.Option(help="camera preset")] = None,
    body: Annotated[str | None, typer.Option(help="body preset (default: by seed)")] = None,
    split: Annotated[str, typer.Option(help="tune or eval (eval = held-out bodies)")] = "tune",
    degrade: Annotated[float, typer.Option(help="webcam degradation 0..1.5")] = 1.0,
    name: Annotated[str | None, typer.Option(help="file stem")] = None,
    out: Annotated[Path, typer.Option(help="output directory")] = Path("out/synth"),
) -> None:
    """Render one clip: OUT/NAME.mp4 + OUT/NAME.labels.jsonl."""
    generate = _renderer()

    if scenario not in SCENARIOS:
        raise typer.BadParameter(f"unknown scenario {scenario!r}; see `list`")
    if split not in ("tune", "eval"):
        raise typer.BadParameter("split must be tune or eval")
    r = generate(scenario, seed=seed, out_dir=out, duration_s=duration, fps=fps, width=width,
                 height=height, camera=camera, body=body, split=split, degrade=degrade,
                 name=name)  # fmt: skip
    typer.echo(
        f"{r.video}  {r.frames} frames  {r.seconds:.1f}s ({r.ms_per_frame:.0f} ms/frame)"
        f"  body={r.header['body']['name']} camera={r.header['camera']['preset']}"
        f" split={r.header['split']}"
    )


@app.command("make-set")
def make_set(
    out: Annotated[Path, typer.Option(help="output directory (keep eval sets out of the repo)")],
    split: Annotated[str, typer.Option(help="tune or eval")] = "eval",
    per_scenario: Annotated[int, typer.Option(help="clips per scenario")] = 2,
    seed0: Annotated[int, typer.Option(help="first seed (eval sets: use >= 1000)")] = 1000,
    scenarios: Annotated[str | None, typer.Option(help="comma-separated (default: all)")] = None,
    fps: Annotated[float, typer.Option(help="frames per second")] = 15.0,
    width: Annotated[int, typer.Option(help="pixels")] = 640,
    height: Annotated[int, typer.Option(help="pixels")] = 480,
) -> None:
    """Render a larger randomised set: bodies from the split's pool, cameras from each
    scenario's compatible presets, consecutive seeds."""
    import numpy as np

    generate = _renderer()
    from posture_coach.synth.scenario import camera_pool

    names = scenarios.split(",") if scenarios else list(SCENARIOS)
    seed = seed0
    for sc_name in names:
        pool = camera_pool(SCENARIOS[sc_name])
        for _ in range(per_scenario):
            cam = pool[int(np.random.default_rng([seed, 7]).integers(len(pool)))]
            r = generate(sc_name, seed=seed, out_dir=out, fps=fps, width=width, height=height,
                         camera=cam, split=split, name=f"{sc_name}_{cam}_s{seed}")  # fmt: skip
            typer.echo(f"{r.video}  body={r.header['body']['name']}  {r.seconds:.1f}s")
            seed += 1


def rule_summary(
    frames: list[dict[str, Any]],
    sitting: bool | str,
    events: list[dict[str, Any]] | None = None,
    stance_pack: str = "men",
) -> tuple[list[str], list[str]]:
    """(violated, respected) RULES.md ids over a clip's held frames and events.

    ``sitting``: the header's value (True/False, or ``"mixed"`` for a multi-shot clip,
    where each frame's own ``sitting`` decides). ``stance_pack``: which
    ``standing.stance`` variant to judge by (``men``: ankles ≤ 1.0 shoulder width;
    ``women``: a V or T-step, feet angle ≥ 30° with the ankles ≤ 0.7 SW apart)."""
    events = events or []
    bad: set[str] = set()
    good: set[str] = set()

    def mark(rule: str, violated: bool) -> None:
        (bad if violated else good).add(rule)

    for fr in frames:
        if fr["posture"] == "transition":
            continue
        st = fr["states"]
        sit = bool(fr.get("sitting", sitting))
        if "stance_width_ratio" in st:
            r, a = st["stance_width_ratio"], st["feet_angle_deg"]
            mark("standing.stance", r > 1.0 if stance_pack == "men" else not (a >= 30 and r <= 0.7))
        if "leg_shaking" in st:
            mark("sitting.leg_shaking", st["leg_shaking"])
        if "fidgeting" in st:
            mark("sitting.hands_still", st["fidgeting"])
        if "arms_crossed" in st:
            mark("standing.arms_crossed", st["arms_crossed"])
        if "hands_on_hips" in st:
            mark("standing.hands_on_hips", st["hands_on_hips"] != "none")
        if "hands_in_pockets" in st:
            mark("standing.hands_in_pockets", st["hands_in_pockets"])
        if st.get("hands_front"):
            good.add("standing.hands_front")
        if "hunched" in st:
            mark("standing.upright", st["hunched"])
        if "shoulder_tilt_deg" in st:
            tilt = abs(st["shoulder_tilt_deg"])
            rule = "sitting.shoulders_level" if sit else "standing.shoulders_level"
            if tilt >= 6:
                bad.add(rule)
            elif tilt < 4:
                good.add(rule)
        if "sitting_lean" in st:
            mark("sitting.upright", st["sitting_lean"] in ("leaning_back", "slumped"))
        if sit and "legs_crossed" in st:
            mark("sitting.legs_crossed", st["legs_crossed"])
        if sit and "chin_on_hand" in st:
            mark("sitting.chin_on_hand", st["chin_on_hand"])
        if st.get("smiling"):
            good.add("face.smile")
        if st.get("yawning"):
            bad.add("face.yawn")
        if "pointing_finger" in st:
            mark("gesture.open_palm", st["pointing_finger"])
        if "face_touch_region" in st:
            mark("gesture.face_touching", st["face_touch_region"] != "none")
        if "gaze_on_target" in st:
            mark("face.gaze", not st["gaze_on_target"])
        if "partner" in fr:  # role-play: 60-80 cm to the customer (RULES.md distance.customer)
            mark("distance.customer", not 0.6 <= fr["partner"]["distance_m"] <= 0.8)
    for ev in events:
        if ev["type"] == "handover":
            mark("handover.two_hands", ev["hands_used"] != 2)
        if ev["type"] == "handshake":
            mark("handshake.lean", not 5 <= ev["lean_deg"] <= 20)
        if ev["type"] == "bow":
            good.add("greeting.bow")
        if ev["type"] == "smile":
            good.add("face.smile")
    blinks = sum(1 for ev in events if ev["type"] == "blink")
    if frames and blinks:
        per_min = blinks * 60000 / max(1, frames[-1]["t_ms"])
        mark("face.blink_rate", per_min > 30)
    if sitting == "mixed":
        return sorted(bad), sorted(good)
    drop = "standing." if sitting else "sitting."
    return sorted(r for r in bad if not r.startswith(drop)), sorted(r for r in good if not r.startswith(drop))


@app.command("index")
def index(
    directory: Annotated[Path, typer.Argument(help="directory with clips + sidecars")],
) -> None:
    """Print a markdown table of the clips under DIRECTORY (for sample_videos/README.md)."""
    from posture_coach.synth.labels import read_labels

    typer.echo("| file | scenario | camera | body | frames | targets | violated (some frames) | "
               "respected (some frames) | split |")  # fmt: skip
    typer.echo("|---|---|---|---|---|---|---|---|---|")
    for lp in sorted(directory.rglob("*.labels.jsonl")):
        h, frames, events = read_labels(lp)
        sitting = h.get("sitting")
        pack = "women" if float(h["body"].get("gender", 0.0)) >= 0.5 else "men"
        bad, good = rule_summary(frames, sitting if sitting == "mixed" else bool(sitting), events, pack)
        b = h["body"]
        mp4 = lp.relative_to(directory).as_posix().removesuffix(".labels.jsonl") + ".mp4"
        cam = h["camera"]
        typer.echo(
            f"| {mp4} | {h['scenario']} | {cam['preset']} (yaw {cam['yaw_deg']:g}°, "
            f"{cam['distance_m']:g} m) | {b['name']} ({b['skin']} skin, {b['stature_m']} m) | "
            f"{len(frames)} | {', '.join(h.get('rules', []))} | {', '.join(bad) or '—'} | "
            f"{', '.join(good) or '—'} | {h['split']} |"
        )


if __name__ == "__main__":
    app()
