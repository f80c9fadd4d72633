"""The live coach server: ``create_app(settings)`` and the ``/ws/live`` stream.

See :mod:`posture_coach.server.live` for the WebSocket wire format.
"""

from __future__ import annotations

from .app import create_app, find_web_dir
from .settings import ServerSettings

__all__ = ["ServerSettings", "create_app", "find_web_dir"]
