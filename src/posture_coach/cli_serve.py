"""``posture-coach serve``: the live practice page on this machine.

Mounted by :mod:`posture_coach.cli` through :func:`register`; the server modules are
imported only when the command runs, so other commands start fast.
"""

from __future__ import annotations

import threading
import webbrowser
from pathlib import Path
from typing import Annotated

import typer


def serve(
    host: Annotated[str, typer.Option(help="Interface to bind. Keep 127.0.0.1 unless you "
                                      "mean to expose the camera stream to your network.")]
    = "127.0.0.1",
    port: Annotated[int, typer.Option(help="TCP port.")] = 8000,
    model_dir: Annotated[Path | None, typer.Option(
        "--model-dir", envvar="POSTURE_COACH_MODEL_DIR",
        help="Folder holding the MediaPipe .task bundles (default: the model store cache).",
    )] = None,
    pool_size: Annotated[int, typer.Option(help="Landmarker sets shared by all sessions.")] = 2,
    max_sessions: Annotated[int, typer.Option(help="Concurrent browser sessions allowed.")] = 4,
    open_browser: Annotated[bool, typer.Option(
        "--open/--no-open", help="Open the practice page in a browser.")] = True,
) -> None:
    """Serve the live practice page and its /ws/live stream (Ctrl+C stops). 启动实时练习页面。"""
    import uvicorn

    from .server import ServerSettings, create_app

    settings = ServerSettings(host=host, port=port, model_dir=model_dir, pool_size=pool_size,
                              max_sessions=max_sessions)
    app = create_app(settings)
    shown = "127.0.0.1" if host in ("0.0.0.0", "::") else host
    url = f"http://{shown}:{port}/"
    typer.echo(f"posture-coach live page: {url}  (frames stay on this machine)")
    typer.echo(f"trainers and HR (review, cohorts, reports): {url}review/")
    if host not in ("127.0.0.1", "localhost", "::1"):
        typer.echo("warning: listening beyond this machine; browsers only allow the camera "
                   "on https or localhost pages", err=True)
    if open_browser:
        threading.Timer(1.5, webbrowser.open, args=(url,)).start()
    uvicorn.run(
        app,
        host=host,
        port=port,
        log_level="info",
        # Hard cap below which the app itself answers oversized frames with a clear reason.
        ws_max_size=settings.max_frame_bytes * 2,
        ws_per_message_deflate=False,  # JPEG does not compress; save the CPU
    )


def register(app: typer.Typer) -> None:
    """Add the ``serve`` command to the main CLI."""
    app.command("serve")(serve)
