"""`posture-coach rules` (the catalogue) and `posture-coach calibrate` (a personal baseline).

Mounted by :mod:`posture_coach.cli` through :func:`register`.
"""

from __future__ import annotations

import dataclasses
import json
import re
from collections.abc import Iterator
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

import typer
from rich.console import Console
from rich.table import Table

from posture_coach.errors import CoachError

if TYPE_CHECKING:
    from posture_coach.types import Observation

_PROFILES = Path("calibration") / "profiles"


def catalogue(calibration: Path | None = None, pack: str | None = None) -> list[dict[str, Any]]:
    """Every rule with its clause and calibrated thresholds (what ``rules --json`` prints)."""
    from posture_coach.calibration import load_calibration
    from posture_coach.report import handbook_clause
    from posture_coach.rules import ALL_RULES

    cal = load_calibration(calibration)
    ids = None
    if pack is not None:
        cal = cal.with_pack(pack)
        ids = set(cal.rule_packs[pack].rules)
    out = []
    for rule in ALL_RULES:
        if ids is not None and rule.id not in ids:
            continue
        entry = rule.describe(cal.params(rule.id))
        tp = cal.temporal[rule.id]
        entry["temporal"] = {"onset_s": tp.onset_s, "offset_s": tp.offset_s,
                             "min_duration_s": tp.min_duration_s}
        entry["weight"] = cal.weight(rule.id)
        # The clause as people read it (the handbooks by name); "clause" keeps the rule's own.
        entry["clause_zh"] = handbook_clause(rule.clause, "zh")
        entry["clause_en"] = handbook_clause(rule.clause, "en")
        out.append(entry)
    return out


def _fmt_value(v: Any, unit: str) -> str:
    if isinstance(v, float):
        v = f"{v:g}"
    return f"{v} {unit}".strip() if unit else str(v)


def rules_command(
    lang: Annotated[str, typer.Option("--lang", help="zh or en.")] = "en",
    as_json: Annotated[bool, typer.Option("--json", help="Machine-readable catalogue.")] = False,
    calibration: Annotated[Path | None, typer.Option(
        "--calibration", help="Thresholds file (default: calibration/default.toml).")] = None,
    pack: Annotated[str | None, typer.Option("--pack", help="Only the rules of this rule pack, "
                                             "with its overrides.")] = None,
) -> None:
    """List the rules: id, title, handbook clause and thresholds with units. 规则目录。"""
    if lang not in ("zh", "en"):
        raise CoachError(f"--lang must be zh or en, got {lang!r}")
    entries = catalogue(calibration, pack)
    if as_json:  # machine-readable: the clauses as the rules write them ("seed NNN ...")
        typer.echo(json.dumps(entries, ensure_ascii=False, indent=2))
        return
    table = Table(show_lines=True)
    for col in ("id", "规则" if lang == "zh" else "rule", "clause",
                "阈值" if lang == "zh" else "thresholds"):
        table.add_column(col, overflow="fold")
    for e in entries:
        thresholds = "\n".join(
            f"{p['name']} = {_fmt_value(p['value'], p['unit'])}" for p in e["params"]
        )
        t = e["temporal"]
        thresholds += f"\nonset {t['onset_s']:g} s, offset {t['offset_s']:g} s"
        table.add_row(e["id"], e[f"title_{lang}"], e[f"clause_{lang}"], thresholds)
    Console().print(table)


def calibrate_command(
    source: Annotated[str, typer.Option(
        "--from", help="Image, video, folder or .jsonl recording of a neutral upright pose.")],
    name: Annotated[str, typer.Option("--name", help="Profile name.")] = "default",
    out: Annotated[Path | None, typer.Option(
        "--out", help="Where to save (default: calibration/profiles/<name>.json).")] = None,
    model_dir: Annotated[Path | None, typer.Option(
        "--model-dir", envvar="POSTURE_COACH_MODEL_DIR",
        help="Folder holding the .task model bundles.")] = None,
    calibration: Annotated[Path | None, typer.Option(
        "--calibration", help="Thresholds file (default: calibration/default.toml).")] = None,
    smile_from: Annotated[str | None, typer.Option(
        "--smile-from", help="Image or video of the person's natural smile (a gentle smile then counts).")] = None,
) -> None:
    """Capture a personal baseline from a neutral, upright pose. 个人校准。"""
    from posture_coach.appearance import mean_signature, torso_signature
    from posture_coach.calibration import Profile, load_calibration
    from posture_coach.pipeline import ObservationStream  # lazy: imports the landmarker stack

    if not re.fullmatch(r"[\w.-]+", name):
        raise CoachError(f"--name {name!r}: use letters, digits, '.', '-' or '_'")
    from posture_coach.errors import SourceError
    from posture_coach.fileio import ensure_writable

    target = out if out is not None else _PROFILES / f"{name}.json"
    ensure_writable(target)  # before the capture
    cal = load_calibration(calibration)
    colours: list[list[float]] = []

    def observed() -> Iterator[Observation]:
        with ObservationStream(source, model_dir=model_dir, face=True, hands=False) as stream:
            for frame, obs in stream:
                # The clothes' colours, for finding this person in a role-play (not from
                # replayed recordings: they hold no pixels).
                if obs.pose is not None and frame is not None:
                    sig = torso_signature(frame.image, obs.pose, obs.image_size)
                    if sig is not None:
                        colours.append(sig)
                yield obs
            src = stream.source
            if src is not None and getattr(src, "truncated", False):
                # As analyze: a damaged video is no baseline (nothing is saved).
                raise SourceError(f"{source}: the video ends early (truncated or corrupt after frame "
                                  f"{getattr(src, 'frames_read', '?')}); no profile was saved",
                                  reason="video_truncated")

    smile: list[Observation] = []
    if smile_from is not None:
        with ObservationStream(smile_from, model_dir=model_dir, face=True, hands=False) as stream:
            smile = [obs for _, obs in stream]
    profile = Profile.from_observations(observed(), cal, name=name, smile=smile)
    profile = dataclasses.replace(profile, clothing_colours=mean_signature(colours))
    path = profile.save(target)
    smile_said = "" if smile_from is None else (
        f", natural smile {profile.smile_level:.2f}" if profile.smile_level is not None
        else ", no smile read in --smile-from (the usual smile threshold stays)")
    typer.echo(
        f"saved {path}: {profile.frames} frame(s), view {profile.view}, camera roll "
        f"{profile.roll_deg:.1f}°, neck/SW {profile.neck_ratio:.3f}, clothing colours "
        f"{'kept' if profile.clothing_colours else 'not seen'}{smile_said}"
    )


def register(app: typer.Typer) -> None:
    """Add ``rules`` and ``calibrate`` to the main command."""
    app.command("rules")(rules_command)
    app.command("calibrate")(calibrate_command)
