"""`posture-coach` command line: models, analyze, rules, calibrate, synth."""

from __future__ import annotations

import contextlib
import json
import os
import sys
from collections.abc import Iterator
from enum import Enum, StrEnum
from pathlib import Path
from typing import IO, Annotated, Any

import typer
from rich.console import Console
from rich.markup import escape

from . import __version__
from .errors import CoachError
from .fileio import commit, discard, partial_path

app = typer.Typer(
    name="posture-coach",
    help="Computer-vision coach for customer-service etiquette. 服务礼仪姿态教练。",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)

err_console = Console(stderr=True)

ModelDirOpt = Annotated[
    Path | None,
    typer.Option("--model-dir", envvar="POSTURE_COACH_MODEL_DIR",
                 help="Folder holding the .task model bundles (else the user cache)."),
]


class OutputFormat(StrEnum):
    jsonl = "jsonl"
    json = "json"


class Side(StrEnum):
    left = "left"
    right = "right"
    profile = "profile"  # the person wearing the calibrated profile's clothes


class Posture(StrEnum):
    auto = "auto"
    standing = "standing"
    sitting = "sitting"


_quiet_active = False


@contextlib.contextmanager
def quiet_native_stderr(enabled: bool) -> Iterator[None]:
    """Silence MediaPipe/TFLite's C++ log lines on fd 2 while Python keeps a real stderr.

    The native libraries print INFO/WARNING lines straight to file descriptor 2, which
    would drown the progress bar and the one-line errors users should see.
    """
    global _quiet_active
    if not enabled or _quiet_active:  # nested: the outer block already redirected fd 2
        yield
        return
    try:
        saved = os.dup(2)
    except OSError:
        yield
        return
    devnull = os.open(os.devnull, os.O_WRONLY)
    old_stderr = sys.stderr
    py_stderr = os.fdopen(saved, "w", buffering=1, encoding="utf-8", errors="replace", closefd=False)
    os.dup2(devnull, 2)
    sys.stderr = py_stderr
    err_console.file = py_stderr
    _quiet_active = True
    try:
        yield
    finally:
        _quiet_active = False
        sys.stderr.flush()
        os.dup2(saved, 2)
        sys.stderr = old_stderr
        err_console.file = old_stderr
        py_stderr.close()
        os.close(saved)
        os.close(devnull)


def _fail(exc: CoachError) -> typer.Exit:
    # escape(): messages name calibration tables like [standing.upright], not markup.
    err_console.print(f"[bold red]error:[/] {escape(str(exc))}", markup=True, highlight=False, soft_wrap=True)
    _print_reason_zh(exc)
    return typer.Exit(exc.exit_code)


def _print_reason_zh(exc: CoachError) -> None:
    """Commands without ``--lang`` say what went wrong in Chinese too: the reason's text
    on a second line under the technical English one (nothing for a reason without one,
    or a message that is already bilingual)."""
    from .errors import reason_of, reason_texts

    code = reason_of(exc)
    texts = reason_texts(code) if code != "analysis_failed" else None
    if texts and texts["zh"] not in str(exc):
        err_console.print(f"       {escape(texts['zh'])}", highlight=False, soft_wrap=True)


def version_callback(value: bool) -> None:
    if value:
        typer.echo(f"posture-coach {__version__}")
        raise typer.Exit()


@app.callback()
def _root(
    version: Annotated[bool, typer.Option("--version", callback=version_callback, is_eager=True,
                                          help="Show the version and exit.")] = False,
) -> None:
    """Computer-vision coach for customer-service etiquette."""


class _AtomicText:
    """A text sink: stdout, or a file written as FILE.partial and renamed on success (a
    device or a pipe, such as ``/dev/null``, is written directly: see :mod:`.fileio`)."""

    def __init__(self, path: Path | None) -> None:
        self.path = path
        self._tmp = None if path is None else partial_path(path)
        if self._tmp is not None:
            self._tmp.parent.mkdir(parents=True, exist_ok=True)
        self.fh: IO[str] = sys.stdout if self._tmp is None else open(self._tmp, "w", encoding="utf-8")  # noqa: SIM115 - closed in close()

    def close(self, ok: bool) -> None:
        if self._tmp is None:
            self.fh.flush()
            return
        self.fh.close()
        assert self.path is not None
        if ok:
            commit(self._tmp, self.path)
        else:
            discard(self._tmp, self.path)


@app.command()
def analyze(
    input: Annotated[str, typer.Argument(help="Video, image, folder of images, camera index, or a .jsonl landmark recording.")],
    format: Annotated[OutputFormat, typer.Option("--format", "-f", help="jsonl: one object per frame; json: the session summary.")] = OutputFormat.jsonl,
    output: Annotated[Path | None, typer.Option("--output", "-o", help="Write here instead of stdout.")] = None,
    annotate: Annotated[Path | None, typer.Option("--annotate", help="Write the video with the skeleton and statuses drawn (MP4).")] = None,
    save_landmarks: Annotated[Path | None, typer.Option("--save-landmarks", help="Record raw observations as JSONL (.gz ok) for replay.")] = None,
    profile: Annotated[Path | None, typer.Option("--profile", help="Personal baseline from `posture-coach calibrate`.")] = None,
    calibration: Annotated[Path | None, typer.Option("--calibration", help="Thresholds file (default: the built-in calibration/default.toml).")] = None,
    posture: Annotated[Posture, typer.Option("--posture", help="Judge as standing, sitting, or decide per frame.")] = Posture.auto,
    face: Annotated[bool, typer.Option("--face/--no-face", help="Run the face landmarker.")] = True,
    hands: Annotated[bool, typer.Option("--hands/--no-hands", help="Run the hand landmarker.")] = True,
    stride: Annotated[int, typer.Option("--stride", min=1, help="Analyse every N-th video frame.")] = 1,
    progress: Annotated[bool | None, typer.Option("--progress/--no-progress", help="Progress bar (default: on a terminal).")] = None,
    verbose: Annotated[bool, typer.Option("--verbose", "-v", help="Show MediaPipe's own log lines.")] = False,
    fetch: Annotated[bool, typer.Option("--fetch/--no-fetch", help="Fetch missing models before analysing.")] = True,
    pack: Annotated[str | None, typer.Option("--pack", help="A rule pack from the calibration (e.g. standing_women, sitting, grooming); `posture-coach rules --json` lists them.")] = None,
    rules: Annotated[str | None, typer.Option("--rules", help="Comma-separated rule ids to run (default: all but the opt-in grooming checks).")] = None,
    role_play: Annotated[Side | None, typer.Option("--role-play", help="Two people in view: the trainee is the one on this side of the image, or (profile) the one wearing the clothes of the --profile calibration.")] = None,
    model_dir: ModelDirOpt = None,
) -> None:
    """Analyse a recording or images and print per-frame results (JSONL) or a summary (JSON). 分析录像或图片。"""
    with quiet_native_stderr(not verbose):
        try:
            _analyze(input, format, output, annotate, save_landmarks, profile, calibration,
                     posture, face, hands, stride, progress, model_dir, fetch, role_play, pack, rules)
        except CoachError as exc:
            raise _fail(exc) from None
        except KeyboardInterrupt:
            err_console.print("interrupted: nothing was written")
            raise typer.Exit(130) from None


def _analyze(
    input: str, fmt: OutputFormat, output: Path | None, annotate: Path | None,
    save_landmarks: Path | None, profile: Path | None, calibration: Path | None,
    posture: Posture, face: bool, hands: bool, stride: int, progress: bool | None,
    model_dir: Path | None, fetch: bool, role_play: Side | None = None,
    pack: str | None = None, rules: str | None = None,
) -> None:
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeRemainingColumn

    from .engine import CoachEngine
    from .errors import notice_text, notices_with_texts
    from .fileio import ensure_writable
    from .pipeline import ObservationStream

    for target in (output, save_landmarks, annotate):  # before the analysis, not after it
        if target is not None:
            ensure_writable(target)
    cal = _load_calibration(calibration)
    prof = _load_profile(profile)
    if role_play is Side.profile and prof is None:
        raise CoachError("--role-play profile needs --profile (the trainee's calibration)", reason="profile_needed")
    engine_kwargs: dict[str, Any] = {"posture": posture.value}
    if pack is not None:
        if pack not in cal.rule_packs:
            raise CoachError(f"unknown rule pack {pack!r} (known: {', '.join(sorted(cal.rule_packs))})")
        rp = cal.rule_packs[pack]
        cal = cal.with_pack(pack)
        engine_kwargs["rule_ids"] = list(rp.rules)
        if posture is Posture.auto:
            engine_kwargs["posture"] = rp.posture
    if rules is not None:
        engine_kwargs["rule_ids"] = [r.strip() for r in rules.split(",") if r.strip()]
    _enable_pixel_measures(engine_kwargs.get("rule_ids"))
    holder: dict[str, Any] = {}
    stream = ObservationStream(input, model_dir=model_dir, face=face, hands=hands, stride=stride,
                               save_landmarks=save_landmarks, fetch_models=fetch,
                               wants_hands=lambda: bool(holder["engine"].wants_hands()) if holder else True,
                               role_play=None if role_play is None else role_play.value,
                               calibration=calibration,
                               trainee_colours=None if prof is None else prof.clothing_colours)
    ok = False
    sink: _AtomicText | None = None
    writer = None
    try:
        engine = CoachEngine(cal, prof, mode=stream.info.mode, **engine_kwargs)
        holder["engine"] = engine
        if annotate is not None:
            if stream.info.kind in ("recording", "camera") or stream.info.mode == "image":
                raise CoachError(f"{annotate}: --annotate needs a video file as input")
            from .annotate import AnnotatedVideoWriter

            writer = AnnotatedVideoWriter(annotate, stream.info.fps / stride,
                                          (stream.info.width, stream.info.height))
        sink = _AtomicText(output)
        show = progress if progress is not None else err_console.is_terminal
        total = stream.info.frame_count
        if total and stride > 1:
            total = (total + stride - 1) // stride
        with Progress(TextColumn("[progress.description]{task.description}"), BarColumn(),
                      MofNCompleteColumn(), TimeRemainingColumn(), console=err_console,
                      disable=not show, transient=True) as bar:
            task = bar.add_task("analysing", total=total)
            for frame, obs in stream:
                result = engine.update(obs)
                res = result.to_dict()
                if fmt is OutputFormat.jsonl:
                    record = {"source": obs.source or stream.info.source, "frame": obs.frame_index,
                              "t_ms": obs.timestamp_ms, **res}
                    sink.fh.write(json.dumps(record, ensure_ascii=False, default=_json_default) + "\n")
                if writer is not None and frame is not None:
                    writer.write(frame.image, obs, res.get("verdicts"))
                bar.advance(task)
        src = stream.source
        stream.check_truncation()  # too little decoded: refused, nothing written
        if stream.times.frames == 0:
            raise CoachError(f"{stream.info.source}: no frame could be read")
        notices = stream.notices()
        if fmt is OutputFormat.json:
            summary = engine.summary().to_dict()
            summary = {"source": stream.info.source, "frames": stream.times.frames, **summary,
                       "notices": notices_with_texts(notices)}
            sink.fh.write(json.dumps(summary, ensure_ascii=False, indent=2, default=_json_default) + "\n")
        errors = getattr(src, "errors", None)
        if errors:
            for line in errors:
                err_console.print(f"[yellow]skipped:[/] {escape(line)}", highlight=False)
        for n in notices:  # in both languages, as analyze's errors (it has no --lang)
            err_console.print(f"[yellow]note:[/] {escape(notice_text(n, 'en') or '')}", highlight=False)
            err_console.print(f"      {escape(notice_text(n, 'zh') or '')}", highlight=False)
        if role_play is Side.profile and stream.trainee_by["default_side"]:
            err_console.print(f"[yellow]role-play:[/] {stream.undecided_by_clothes()}; the person on the left "
                              "was judged there (measures.two_person.trainee_by)", highlight=False)
        ok = True
    finally:
        if writer is not None:
            writer.close(ok=ok)
        if sink is not None:
            sink.close(ok)
        stream.close(ok=ok)


def _enable_pixel_measures(rule_ids: list[str] | None) -> None:
    """Costly pixel measures run only for the rules that read them (grooming: 10–40 ms)."""
    from . import grooming

    grooming.set_tasks(grooming.tasks_for_rules(rule_ids or ()))


def _json_default(o: object) -> object:
    import numpy as np

    if isinstance(o, np.generic):
        return o.item()
    if isinstance(o, np.ndarray):
        return o.tolist()
    if isinstance(o, Enum):
        return o.value
    raise TypeError(f"not JSON serialisable: {type(o).__name__}")


def _load_calibration(path: Path | None) -> Any:
    from .calibration import load_calibration

    return load_calibration(path)


def _load_profile(path: Path | None) -> Any:
    if path is None:
        return None
    from .calibration import Profile

    return Profile.load(path)


def _mount_subcommands() -> None:
    from . import cli_models, cli_rules, cli_serve, cli_store

    app.add_typer(cli_models.app, name="models", help="List, fetch, verify and import the MediaPipe model bundles. 识别模型管理。")
    cli_rules.register(app)
    cli_serve.register(app)
    cli_store.register(app)


synth_app = typer.Typer(help="Synthetic labelled clips (needs the `synth` extra). 合成标注视频。", no_args_is_help=True)


@synth_app.callback(invoke_without_command=True)
def _synth(ctx: typer.Context) -> None:
    """Render labelled synthetic people (optional extra: torch, anny, moderngl)."""


def _mount_synth() -> None:
    try:
        from .synth import cli as synth_cli
    except ImportError as exc:
        missing = str(exc)

        @synth_app.command("make")
        def _missing() -> None:
            """(unavailable: install the synth extra)"""
            err_console.print(
                f"[bold red]error:[/] the synthetic studio is not installed ({missing}). "
                "Install it with: pip install torch==2.13.0 && pip install -e '.[synth]'"
            )
            raise typer.Exit(2)

        app.add_typer(synth_app, name="synth")
        return
    app.add_typer(synth_cli.app, name="synth", help="Synthetic labelled clips (needs the `synth` extra). 合成标注视频。")


def main() -> None:
    _mount_subcommands()
    _mount_synth()
    # Every command (calibrate, score, batch, serve…) hides MediaPipe's native log lines
    # unless -v/--verbose is given; Python's own stderr keeps working.
    verbose = any(a in ("-v", "--verbose") for a in sys.argv[1:])
    try:
        with quiet_native_stderr(not verbose):
            app()
    except CoachError as exc:
        err_console.print(f"[bold red]error:[/] {escape(str(exc))}", highlight=False, soft_wrap=True)
        _print_reason_zh(exc)
        sys.exit(exc.exit_code)
    except OSError as exc:  # a write that failed after the checks (disk full, a folder removed)
        from .errors import OutputError, reason_texts
        from .fileio import os_error_text

        texts = reason_texts(OutputError.reason) or {}
        err_console.print(f"[bold red]error:[/] {escape(os_error_text(exc))} — {texts.get('zh', '')} "
                          f"{texts.get('en', '')}", highlight=False, soft_wrap=True)
        sys.exit(OutputError.exit_code)


if __name__ == "__main__":
    # `python -m posture_coach.cli` runs this file as __main__, a second copy of the module:
    # its quiet_native_stderr state would not be the one the subcommands import, and the
    # nested redirection sent their error lines to /dev/null. Run the package's own copy.
    from posture_coach.cli import main as package_main

    package_main()
